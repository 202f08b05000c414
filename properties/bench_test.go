package properties

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// BenchmarkScenario measures the exploration's unit of work: one generated
// scenario of the newest profile (about 30 actions, then the liveness
// phase) parsed, built, run and judged by the oracle, with each trace mode:
// off is how the exploration runs a scenario (nothing reads a passing
// scenario's trace), hash keeps only the determinism fingerprint, full
// renders every line. It reports scenarios/s, simulated events/s and
// virtual seconds per wall second.
func BenchmarkScenario(b *testing.B) {
	for _, m := range []struct {
		name string
		mode sim.TraceMode
	}{{"trace=off", sim.TraceOff}, {"trace=hash", sim.TraceHash}, {"trace=full", sim.TraceFull}} {
		b.Run(m.name, func(b *testing.B) { benchScenarios(b, m.mode) })
	}
}

// benchScenarios runs b.N scenarios as BenchmarkScenario describes and
// returns the events they fired.
func benchScenarios(b *testing.B, mode sim.TraceMode) int64 {
	b.StopTimer()
	scripts := benchScripts(b)
	var events int64
	var virtual sim.Time
	b.StartTimer()
	for i := range b.N {
		w, err := RunScript("bench", scripts[i%len(scripts)], ScriptOptions{Trace: mode})
		if err != nil {
			b.Fatal(err)
		}
		if vs := Check(w); len(vs) > 0 {
			b.Fatalf("newest violated: %s", vs[0])
		}
		events += w.Sim.Steps()
		virtual += w.Sim.Now()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "scenarios/s")
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(virtual)/float64(sim.Second)/secs, "virtual-s/s")
	return events
}

var benchSample []string

// benchScripts draws, once per process, the same sample of scenarios at the
// newest profile that every property accepts, so a benchmark never measures
// a shrink or a known finding's report.
func benchScripts(b *testing.B) []string {
	if benchSample != nil {
		return benchSample
	}
	// The same sample on every run: rapid's seed 1, 100 scenarios.
	defer restoreRapidFlags(saveRapidFlags())
	setRapidFlag("seed", "1")
	setRapidFlag("checks", "100")
	rapid.Check(b, func(t *rapid.T) {
		_, s := drawScenario(t, model.Newest())
		script := strings.Join(s, "\n")
		if w, err := RunScript("bench", script, ScriptOptions{Trace: sim.TraceOff}); err == nil && len(Check(w)) == 0 {
			benchSample = append(benchSample, script)
		}
	})
	return benchSample
}

// BenchmarkExploreFixed measures a whole reference exploration (the newest
// profile, rapid seed 1, 200 scenarios, every property) as the main job
// runs it, generation and rapid's bookkeeping included.
func BenchmarkExploreFixed(b *testing.B) {
	var st Stats
	for range b.N {
		// As the gate does, walk past the newest profile's known findings.
		res := Explore(ExploreConfig{Profile: model.Newest(), Checks: 200, Seed: 1, Name: "Bench", NoFailFile: true,
			Tolerate: func(f *Failure) bool { return len(Unexplained(f)) == 0 }})
		if res.Err != nil || res.Failure != nil {
			b.Fatalf("reference exploration failed: %v %v", res.Err, res.Failure)
		}
		st.Scenarios += res.Stats.Scenarios
		st.Virtual += res.Stats.Virtual
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(st.Scenarios)/secs, "scenarios/s")
	b.ReportMetric(float64(st.Virtual)/float64(sim.Second)/secs, "virtual-s/s")
}

// BenchmarkChecksToFindParentBug reports how many scenarios the exploration
// needs to find the parent's 404 (the retry_reaches_moved_actor property), as the median and the
// worst over nine rapid seeds.
func BenchmarkChecksToFindParentBug(b *testing.B) {
	var med, worst float64
	for range b.N {
		var checks []int
		for seed := uint64(1); seed <= 9; seed++ {
			res := Explore(ExploreConfig{Profile: model.Parent, Properties: []string{"retry_reaches_moved_actor"}, Checks: 3000, Seed: seed, Name: "Bench", NoFailFile: true})
			if res.Failure == nil {
				b.Fatalf("seed %d: the parent bug was not found in 3000 scenarios", seed)
			}
			checks = append(checks, res.Failure.Checks)
		}
		slices.Sort(checks)
		med, worst = float64(checks[len(checks)/2]), float64(checks[len(checks)-1])
	}
	b.ReportMetric(med, "checks-median")
	b.ReportMetric(worst, "checks-worst")
	b.ReportMetric(0, "ns/op")
}
