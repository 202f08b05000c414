package sim

import (
	"fmt"
	"math/rand/v2"
)

// Default watchdog limits, used when a Config leaves them zero.
const (
	DefaultMaxSteps = 10_000_000
	DefaultHorizon  = 24 * 60 * Minute
)

// Config sets up a World.
type Config struct {
	// Seed is the world seed. Every random stream is split from it.
	Seed uint64
	// MaxSteps is the event budget: firing more events than this without
	// the world going quiet is a NoProgressError. Zero means DefaultMaxSteps.
	MaxSteps int64
	// Horizon is the virtual-time horizon: an event due after it is a
	// NoProgressError. Zero means DefaultHorizon.
	Horizon Time
	// Trace selects how much of the trace is kept (default TraceFull).
	Trace TraceMode
}

// World is one simulated universe: a clock, an event queue, random streams,
// a network and a trace. It must be driven from a single goroutine.
type World struct {
	cfg     Config
	now     Time
	steps   int64
	q       queue
	live    int // queued events that are not daemons
	streams map[string]*rand.Rand
	trace   trace
	net     *Network
}

// New returns an empty world at time zero.
func New(cfg Config) *World {
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.Horizon == 0 {
		cfg.Horizon = DefaultHorizon
	}
	// Room for a scenario's streams (one per link and a few per node),
	// so the map does not grow step by step.
	w := &World{cfg: cfg, q: newQueue(), streams: make(map[string]*rand.Rand, 32)}
	w.trace.init(cfg.Trace)
	return w
}

// Now is the current virtual time.
func (w *World) Now() Time { return w.now }

// Seed is the world seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// Steps is the number of events fired so far.
func (w *World) Steps() int64 { return w.steps }

// Pending is the number of queued events, daemons included.
func (w *World) Pending() int { return w.q.len() }

// Quiet reports whether only daemon events (periodic housekeeping) remain.
func (w *World) Quiet() bool { return w.live == 0 }

// Rand returns the random stream named name, split from the world seed by a
// hash of the name, so that draws in one component never shift another's.
// The same name always returns the same stream.
func (w *World) Rand(name string) *rand.Rand {
	if r, ok := w.streams[name]; ok {
		return r
	}
	return w.newStream(name, &stream{})
}

// newStream makes s the stream named name (not yet made): s lets a caller
// allocate the stream with what uses it.
func (w *World) newStream(name string, s *stream) *rand.Rand {
	// FNV-1a of the name, as hash/fnv's New64a computes it, without its
	// allocations.
	h := uint64(fnvOffset64)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * fnvPrime64
	}
	s.pcg = *rand.NewPCG(w.cfg.Seed, h)
	s.r = *rand.New(&s.pcg)
	w.streams[name] = &s.r
	return &s.r
}

// stream is a random stream and its source, allocated together.
type stream struct {
	pcg rand.PCG
	r   rand.Rand
}

// Timer is a handle on a scheduled event. The zero Timer is never pending.
type Timer struct {
	w    *World
	slot int32
	gen  uint32
}

// After schedules fn to run d from now. Events due at the same instant run
// in the order they were scheduled.
func (w *World) After(d Time, fn func()) Timer { return w.at(w.now+d, fn, false) }

// At schedules fn at virtual time t (or now, if t is in the past).
func (w *World) At(t Time, fn func()) Timer { return w.at(t, fn, false) }

// Daemon schedules fn like After, but the event does not keep the world
// alive: RunUntilQuiet stops when only daemon events remain. Use it for
// periodic housekeeping such as GC ticks and pings.
func (w *World) Daemon(d Time, fn func()) Timer { return w.at(w.now+d, fn, true) }

// atDeliver schedules the delivery of d's next frame at t: a network event
// that needs no closure.
func (w *World) atDeliver(t Time, d *direction) {
	if t < w.now {
		t = w.now
	}
	w.q.push(t, nil, d, false)
	w.live++
}

func (w *World) at(t Time, fn func(), daemon bool) Timer {
	if t < w.now {
		t = w.now
	}
	s, gen := w.q.push(t, fn, nil, daemon)
	if !daemon {
		w.live++
	}
	return Timer{w: w, slot: s, gen: gen}
}

// Pending reports whether the timer is still queued.
func (t Timer) Pending() bool {
	if t.w == nil {
		return false
	}
	s := &t.w.q.slots[t.slot]
	return s.gen == t.gen && s.pos >= 0
}

// Stop cancels the timer. It reports whether the timer was still pending;
// a stopped or fired timer never runs.
func (t Timer) Stop() bool {
	if !t.Pending() {
		return false
	}
	s := &t.w.q.slots[t.slot]
	if !s.daemon {
		t.w.live--
	}
	t.w.q.remove(int(s.pos))
	return true
}

// When is the time the timer is due; meaningful only while Pending.
func (t Timer) When() Time {
	if !t.Pending() {
		return 0
	}
	return t.w.q.slots[t.slot].at
}

// Step fires the earliest event. It returns false when the queue is empty.
func (w *World) Step() bool {
	if w.q.len() == 0 {
		return false
	}
	at, fn, dir, daemon := w.q.remove(0)
	w.now = at
	if !daemon {
		w.live--
	}
	w.steps++
	if dir != nil {
		w.net.deliverNext(dir)
		return true
	}
	fn()
	return true
}

// NoProgressError reports a scenario that exceeded its event budget or its
// virtual-time horizon without going quiet. It carries the seed to replay it.
type NoProgressError struct {
	Seed   uint64
	Steps  int64
	Now    Time
	Reason string
}

func (e *NoProgressError) Error() string {
	return fmt.Sprintf("no progress: %s (seed %d, %d events, virtual time %s)", e.Reason, e.Seed, e.Steps, e.Now)
}

func (w *World) check(next Time) error {
	if w.steps >= w.cfg.MaxSteps {
		return &NoProgressError{w.cfg.Seed, w.steps, w.now, fmt.Sprintf("event budget of %d exhausted", w.cfg.MaxSteps)}
	}
	if next > w.cfg.Horizon {
		return &NoProgressError{w.cfg.Seed, w.steps, w.now, fmt.Sprintf("next event at %s is past the horizon %s", next, w.cfg.Horizon)}
	}
	return nil
}

// RunUntilQuiet fires events until only daemon events remain.
func (w *World) RunUntilQuiet() error {
	for w.live > 0 {
		next, _ := w.q.peek()
		if err := w.check(next); err != nil {
			return err
		}
		w.Step()
	}
	return nil
}

// RunUntil fires every event due at or before t, daemons included, then
// moves the clock to t.
func (w *World) RunUntil(t Time) error {
	for {
		next, ok := w.q.peek()
		if !ok || next > t {
			break
		}
		if err := w.check(next); err != nil {
			return err
		}
		w.Step()
	}
	if t > w.now {
		w.now = t
	}
	return nil
}

// RunFor is RunUntil(Now()+d).
func (w *World) RunFor(d Time) error { return w.RunUntil(w.now + d) }
