package properties

import (
	"github.com/guardsim/guardsim/sim"
	"os"
	"runtime/debug"
	"testing"
	"testing/synctest"
	"time"
)

// The synctest peer is what a Go user would write instead of guardsim: the
// same kind of system as goroutines that hand messages to each other over
// channels, with time.Sleep for network latency, run on synctest's fake
// clock. One hop is one handoff plus one sleep: the peer's unit of work, as
// one event is guardsim's. The goroutines form a ring and pass one token,
// so every hop waits for the bubble to block and the clock to advance, as a
// simulated message waits for its delivery time.

const peerRing = 8

// exploreGCPercent is cmd/guardsim's gcPercent.
const exploreGCPercent = 400

// peerHops passes a token hops times around a ring of goroutines inside a
// synctest bubble.
func peerHops(t *testing.T, hops int) {
	synctest.Test(t, func(t *testing.T) {
		chans := make([]chan int, peerRing)
		for i := range chans {
			chans[i] = make(chan int)
		}
		done := make(chan struct{})
		for i := range peerRing {
			go func() {
				for v := range chans[i] {
					time.Sleep(time.Millisecond) // the hop's latency
					if v >= hops {
						close(done)
						return
					}
					chans[(i+1)%peerRing] <- v + 1
				}
			}()
		}
		chans[0] <- 1
		<-done
		for _, c := range chans {
			close(c)
		}
	})
}

// runPeer runs the peer for hops hops and returns the wall time per hop.
// synctest.Test needs a *testing.T, so the peer runs as a test through
// testing.RunTests.
func runPeer(tb testing.TB, hops int) time.Duration {
	start := time.Now()
	ok := testing.RunTests(func(_, _ string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: "SynctestPeer", F: func(t *testing.T) { peerHops(t, hops) }}})
	if !ok {
		tb.Fatal("the synctest peer failed")
	}
	return time.Since(start) / time.Duration(hops)
}

// BenchmarkSynctestPeer measures the peer's cost of one hop.
func BenchmarkSynctestPeer(b *testing.B) {
	b.ReportMetric(float64(runPeer(b, b.N).Nanoseconds()), "ns/hop")
}

// BenchmarkPeerRatio runs the synctest peer and guardsim's full stack in
// exploration mode (BenchmarkScenario: a drawn scenario parsed, built, run
// with only the trace hash, and judged by every property) side by side, on
// the same machine in the same process, and reports how many times cheaper
// one guardsim event is than one peer hop. make bench prints it as
// "peer ratio: <x>".
//
// Both run under the main job's garbage-collection target (GOGC=400, set
// by cmd/guardsim), since that is how the exploration runs; GOGC in the
// environment overrides it here too.
func BenchmarkPeerRatio(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(exploreGCPercent))
	}
	scripts := benchScripts(b)
	b.ResetTimer()
	var hop, event time.Duration
	for range b.N {
		hop += runPeer(b, 200_000)
		var events int64
		start := time.Now()
		for _, s := range scripts {
			w, err := RunScript("bench", s, ScriptOptions{Trace: sim.TraceOff})
			if err != nil {
				b.Fatal(err)
			}
			Check(w)
			events += w.Sim.Steps()
		}
		event += time.Since(start) / time.Duration(events)
	}
	b.ReportMetric(float64(hop.Nanoseconds())/float64(b.N), "ns/hop")
	b.ReportMetric(float64(event.Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(hop)/float64(event), "peer-ratio")
	b.ReportMetric(0, "ns/op")
}
