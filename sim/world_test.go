package sim

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSameInstantEventsFireInSchedulingOrder(t *testing.T) {
	w := New(Config{Seed: 1})
	var got []int
	for i := range 50 {
		// Interleave instants so the heap must reorder, then tie-break by seq.
		at := Time(i%3) * Millisecond
		w.At(at, func() { got = append(got, i) })
	}
	require.NoError(t, w.RunUntilQuiet())
	var want []int
	for r := range 3 {
		for i := r; i < 50; i += 3 {
			want = append(want, i)
		}
	}
	assert.Equal(t, want, got)
}

func TestTimers(t *testing.T) {
	tests := []struct {
		name     string
		stop     []int // indices of timers to stop before running
		wantFire []int
	}{
		{"none stopped", nil, []int{0, 1, 2, 3}},
		{"first stopped", []int{0}, []int{1, 2, 3}},
		{"last stopped", []int{3}, []int{0, 1, 2}},
		{"all stopped", []int{0, 1, 2, 3}, nil},
		{"stopped twice", []int{1, 1}, []int{0, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(Config{Seed: 1})
			var fired []int
			timers := make([]Timer, 4)
			for i := range timers {
				timers[i] = w.After(Time(i+1)*Second, func() { fired = append(fired, i) })
			}
			for n, i := range tt.stop {
				wasPending := timers[i].Stop()
				assert.Equal(t, n == 0 || tt.stop[n-1] != i, wasPending, "Stop's result")
				assert.False(t, timers[i].Pending())
			}
			require.NoError(t, w.RunUntilQuiet())
			assert.Equal(t, tt.wantFire, fired)
			for _, tm := range timers {
				assert.False(t, tm.Stop(), "a fired or stopped timer cannot be stopped")
			}
		})
	}
}

func TestStoppedTimerSlotReuseDoesNotResurrectHandle(t *testing.T) {
	w := New(Config{Seed: 1})
	old := w.After(Second, func() { t.Fatal("stopped timer fired") })
	require.True(t, old.Stop())
	fired := false
	fresh := w.After(Second, func() { fired = true }) // reuses the slot
	assert.False(t, old.Pending())
	assert.False(t, old.Stop(), "a stale handle must not cancel the slot's new event")
	assert.True(t, fresh.Pending())
	require.NoError(t, w.RunUntilQuiet())
	assert.True(t, fired)
}

func TestTimerCancelledFromAnotherEventAtSameInstant(t *testing.T) {
	w := New(Config{Seed: 1})
	var victim Timer
	w.After(Second, func() { victim.Stop() })
	victim = w.After(Second, func() { t.Fatal("cancelled timer fired") })
	require.NoError(t, w.RunUntilQuiet())
}

func TestDaemonsDoNotKeepTheWorldAlive(t *testing.T) {
	w := New(Config{Seed: 1})
	ticks := 0
	var tick func()
	tick = func() { ticks++; w.Daemon(Second, tick) }
	w.Daemon(Second, tick)
	w.After(3500*Millisecond, func() {})
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, 3, ticks)
	assert.Equal(t, 3500*Millisecond, w.Now())
	require.NoError(t, w.RunUntil(10*Second))
	assert.Equal(t, 10, ticks, "RunUntil fires daemons too")
	assert.Equal(t, 10*Second, w.Now())
}

func TestWatchdogs(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		reason string
	}{
		{"event budget", Config{Seed: 42, MaxSteps: 1000}, "event budget of 1000 exhausted"},
		{"time horizon", Config{Seed: 43, Horizon: 5 * Second}, "past the horizon 5.000000s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(tt.cfg)
			// A runaway: every event schedules the next one.
			var spin func()
			spin = func() { w.After(Millisecond, spin) }
			w.After(0, spin)
			err := w.RunUntilQuiet()
			var np *NoProgressError
			require.True(t, errors.As(err, &np), "want NoProgressError, got %v", err)
			assert.Equal(t, tt.cfg.Seed, np.Seed)
			assert.Contains(t, err.Error(), fmt.Sprintf("seed %d", tt.cfg.Seed))
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestRandStreamsAreIndependent(t *testing.T) {
	draw := func(extra bool) []uint64 {
		w := New(Config{Seed: 7})
		if extra {
			w.Rand("other").Uint64() // a new draw elsewhere...
		}
		r := w.Rand("mine")
		return []uint64{r.Uint64(), r.Uint64()}
	}
	assert.Equal(t, draw(false), draw(true), "...must not shift this stream")
	w := New(Config{Seed: 7})
	assert.Same(t, w.Rand("a"), w.Rand("a"))
	assert.NotEqual(t, w.Rand("a").Uint64(), w.Rand("b").Uint64())
}

func TestTraceNeverRendersAddresses(t *testing.T) {
	w := New(Config{Seed: 1})
	type opaque struct{ p *int }
	x := 1
	w.Trace("n", "ev", Any("ptr", &opaque{&x}), Any("map", map[string]int{"a": 1}), Any("val", opaque{}))
	assert.Equal(t, "000000     0.000000s n          ev                     ptr=<*sim.opaque> map=<map[string]int> val={<nil>}", w.TraceLines()[0])
}

// TestAppendQuoteIsStrconvQuote: the trace's own quoting renders every
// string as strconv.Quote does (it only skips strconv for printable
// ASCII), so a rendered line never changes with it.
func TestAppendQuoteIsStrconvQuote(t *testing.T) {
	cases := []string{"", "a b", `say "hi"`, `back\slash`, "tab\there", "nl\n", "ünï", "\x00\x7f\xff", "a=b", "{x y=\"z\"}"}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string(rune(c))+"y")
	}
	for _, s := range cases {
		if got, want := string(appendQuote([]byte("k="), s)), "k="+strconv.Quote(s); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
		if got, want := string(appendQuote(nil, []byte(s))), strconv.Quote(s); got != want {
			t.Errorf("appendQuote([]byte(%q)) = %s, want %s", s, got, want)
		}
	}
}
