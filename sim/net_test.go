package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair dials a → b and returns both ends with recorders attached.
type recorder struct {
	msgs   []any
	closes []CloseReason
}

func pair(t *testing.T, w *World) (a, b *End, ra, rb *recorder) {
	t.Helper()
	ra, rb = &recorder{}, &recorder{}
	w.Net().Listen("b", func(e *End) {
		b = e
		e.Handle(func(m any) { rb.msgs = append(rb.msgs, m) }, func(r CloseReason) { rb.closes = append(rb.closes, r) })
	})
	a = w.Net().Dial("a", "b")
	a.Handle(func(m any) { ra.msgs = append(ra.msgs, m) }, func(r CloseReason) { ra.closes = append(ra.closes, r) })
	require.NoError(t, w.RunUntilQuiet())
	require.NotNil(t, b, "listener accepted")
	return a, b, ra, rb
}

func seq(n int) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestConnectionNeverReordersUnderJitter(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		w := New(Config{Seed: seed, Trace: TraceOff})
		w.Net().SetLatency("a", "b", Latency{Base: Millisecond, Jitter: 50 * Millisecond})
		a, _, _, rb := pair(t, w)
		for i := range 200 {
			w.At(w.Now()+Time(i)*100*Microsecond, func() { a.Send(i) })
		}
		require.NoError(t, w.RunUntilQuiet())
		require.Equal(t, seq(200), rb.msgs, "seed %d", seed)
	}
}

func TestCloseAndReset(t *testing.T) {
	tests := []struct {
		name      string
		act       func(a, b *End)
		wantA     []CloseReason
		wantB     []CloseReason
		wantBMsgs []any
		aCanSend  bool
	}{
		{"a closes after sending", func(a, b *End) { a.Send(1); a.Send(2); a.Close(); a.Close() }, nil, []CloseReason{Closed}, []any{1, 2}, false},
		{"b closes", func(a, b *End) { b.Close() }, []CloseReason{Closed}, nil, nil, false},
		{"both close", func(a, b *End) { a.Close(); b.Close() }, nil, nil, nil, false},
		{"a resets, in-flight lost", func(a, b *End) { a.Send(1); a.Reset() }, nil, []CloseReason{Reset}, nil, false},
		{"b resets", func(a, b *End) { b.Reset(); b.Reset() }, []CloseReason{Reset}, nil, nil, false},
		{"send after close is refused", func(a, b *End) { a.Close(); a.Send(3) }, nil, []CloseReason{Closed}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(Config{Seed: 3})
			a, b, ra, rb := pair(t, w)
			tt.act(a, b)
			require.NoError(t, w.RunUntilQuiet())
			assert.Equal(t, tt.wantA, ra.closes, "a learns")
			assert.Equal(t, tt.wantB, rb.closes, "b learns (once)")
			assert.Equal(t, tt.wantBMsgs, rb.msgs)
			assert.Equal(t, tt.aCanSend, a.Send("late"))
		})
	}
}

func TestDialRefused(t *testing.T) {
	w := New(Config{Seed: 1})
	var got []CloseReason
	a := w.Net().Dial("a", "nobody")
	a.Handle(nil, func(r CloseReason) { got = append(got, r) })
	a.Send("lost")
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, []CloseReason{Refused}, got)
}

func TestHoldThenHealDeliversEverythingInOrder(t *testing.T) {
	w := New(Config{Seed: 5})
	w.Net().SetLatency("a", "b", Latency{Base: Millisecond, Jitter: 10 * Millisecond})
	a, b, ra, rb := pair(t, w)
	for i := range 5 {
		a.Send(i)
	}
	w.Net().Hold("a", "b")
	for i := 5; i < 10; i++ {
		a.Send(i)
	}
	b.Send("reply") // the other direction is not held
	require.NoError(t, w.RunFor(Second))
	assert.Empty(t, rb.msgs, "held direction delivers nothing, even what was in flight")
	assert.Equal(t, []any{"reply"}, ra.msgs)
	w.Net().Heal("a", "b")
	a.Send(10)
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, seq(11), rb.msgs)
	assert.Empty(t, ra.closes)
	assert.Empty(t, rb.closes)
}

func TestDropBreaksConnectionAndBothSidesLearn(t *testing.T) {
	w := New(Config{Seed: 5})
	a, _, ra, rb := pair(t, w)
	a.Send("in flight")
	w.Net().Drop("a", "b")
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, []CloseReason{Broken}, ra.closes)
	assert.Equal(t, []CloseReason{Broken}, rb.closes)
	assert.Empty(t, rb.msgs)
	assert.False(t, a.Send("x"))

	// While dropped, new connections over the link are refused; after heal they work.
	var got []CloseReason
	a2 := w.Net().Dial("a", "b")
	a2.Handle(nil, func(r CloseReason) { got = append(got, r) })
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, []CloseReason{Refused}, got)
	w.Net().Heal("a", "b")
	a3 := w.Net().Dial("a", "b")
	a3.Send("after heal")
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, []any{"after heal"}, rb.msgs[len(rb.msgs)-1:])
}

// demo runs a small ping-pong world and returns its trace.
func demo(seed uint64) []string {
	w := New(Config{Seed: seed})
	RunDemo(w, 20)
	return w.TraceLines()
}

func TestSameSeedSameTrace(t *testing.T) {
	a, b := demo(11), demo(11)
	require.NotEmpty(t, a)
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same seed, different traces (-first +second):\n%s", d)
	}
	w, o := New(Config{Seed: 11}), New(Config{Seed: 12})
	RunDemo(w, 20)
	RunDemo(o, 20)
	assert.NotEqual(t, w.TraceHash(), o.TraceHash(), "a different seed gives a different trace")
	h := New(Config{Seed: 11, Trace: TraceHash})
	RunDemo(h, 20)
	assert.Equal(t, w.TraceHash(), h.TraceHash(), "TraceHash mode gives the same fingerprint")
	assert.Empty(t, h.TraceLines())
}
