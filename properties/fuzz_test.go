package properties

import (
	"os"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// FuzzExplore is the coverage-guided counterpart of the swarm exploration:
// the same generator (drawScenario, which never skips a step, so a fixed
// input never runs out of valid ones) fed by go test -fuzz's mutated inputs
// through rapid.MakeFuzz, judged by the same oracle. Plain go test replays
// its corpus, testdata/fuzz/FuzzExplore/ (kept inputs that every property
// accepts at the newest profile), as regression inputs.
//
// Two environment variables aim it, as make fuzz-compare does:
// GUARDSIM_FUZZ_PROFILE (a commit or alias; default the newest) and
// GUARDSIM_FUZZ_FINDING (a finding's slug: fail only on that finding; by
// default fail on any violation no registered finding explains).
func FuzzExplore(f *testing.F) {
	p := model.Newest()
	if name := os.Getenv("GUARDSIM_FUZZ_PROFILE"); name != "" {
		var err error
		if p, err = model.ProfileByName(name); err != nil {
			f.Fatal(err)
		}
	}
	var target *Finding
	if slug := os.Getenv("GUARDSIM_FUZZ_FINDING"); slug != "" {
		k, err := FindingBySlug(slug)
		if err != nil {
			f.Fatal(err)
		}
		target = &k
	}
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		o, script := drawScenario(t, p)
		text := strings.Join(script, "\n")
		w, err := RunScript("fuzz", text, ScriptOptions{Trace: sim.TraceOff})
		if err != nil {
			t.Fatalf("scenario failed to run: %v\n%s", err, text)
		}
		vs := Check(w)
		if len(vs) == 0 {
			return
		}
		full, err := RunScript("fuzz", text, ScriptOptions{})
		if err != nil {
			t.Fatalf("the scenario does not run again: %v", err)
		}
		fail := &Failure{Property: vs[0].Property, Violations: vs, Options: o, Script: script, Trace: full.Sim.TraceText()}
		if target != nil {
			for _, v := range vs {
				if target.Explains(fail, v.Property) {
					t.Fatalf("finding %s (%s):\n%s\n%s", target.Slug, v.Property, FormatViolations(vs), text)
				}
			}
			return
		}
		if un := Unexplained(fail); len(un) > 0 {
			t.Fatalf("a violation no registered finding explains:\n%s\n%s", FormatViolations(un), text)
		}
	}))
}
