package sim

import (
	"fmt"
	"testing"
)

// BenchmarkEvents measures trivial kernel events per second with a steady
// number of pending events: each fired event schedules its successor at a
// pseudo-random offset, so the heap keeps its size and really reorders.
func BenchmarkEvents(b *testing.B) {
	for _, pending := range []int{16, 1_000, 100_000} {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			w := New(Config{Seed: 1, Trace: TraceOff, MaxSteps: 1 << 62})
			var x uint64 = 88172645463325252
			var fn func()
			fn = func() {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				w.After(Time(x%1000)*Microsecond, fn)
			}
			for range pending {
				w.After(0, fn)
			}
			for range pending { // warm up: reach steady state
				w.Step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.Step()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(0, "ns/op") // events/s is the figure of merit
		})
	}
}

// BenchmarkConnMessages measures messages per second delivered over one
// connection with jitter, including the delivery event and the handler.
func BenchmarkConnMessages(b *testing.B) {
	w := New(Config{Seed: 1, Trace: TraceOff, MaxSteps: 1 << 62})
	n := w.Net()
	n.SetLatency("a", "b", Latency{Base: Millisecond, Jitter: Millisecond})
	got := 0
	n.Listen("b", func(e *End) { e.Handle(func(any) { got++ }, nil) })
	a := n.Dial("a", "b")
	if err := w.RunUntilQuiet(); err != nil {
		b.Fatal(err)
	}
	const batch = 64
	msg := any(&struct{}{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for range min(batch, b.N-i) {
			a.Send(msg)
		}
		if err := w.RunUntilQuiet(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got != b.N {
		b.Fatalf("delivered %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
