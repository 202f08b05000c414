package sim

import "fmt"

// Time is a point on the virtual clock, in nanoseconds since the world began.
// It is also used for durations. Nothing in the simulation reads wall time.
type Time int64

// Units of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
)

// String renders t as seconds with microsecond precision, e.g. "12.000345s".
// The rendering is fixed-width after the point so trace lines line up.
func (t Time) String() string {
	sign := ""
	if t < 0 {
		sign, t = "-", -t
	}
	return fmt.Sprintf("%s%d.%06ds", sign, t/Second, (t%Second)/Microsecond)
}

// Millis returns t as a whole number of milliseconds (truncated).
func (t Time) Millis() int64 { return int64(t / Millisecond) }

// Truncate rounds t down to a multiple of m.
func (t Time) Truncate(m Time) Time {
	if m <= 0 {
		return t
	}
	return t - t%m
}
