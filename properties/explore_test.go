package properties

import (
	"flag"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
)

// The gate's budget: scenarios per exploration in `go test`. `make sim`
// explores far more.
var gateChecks = flag.Int("guardsim.checks", 20000, "scenarios per exploration in the property tests")

// TestPropertiesHoldAtNewest is the gate: under the newest profile of the
// timeline every property holds, except registered findings whose range
// includes that commit. A failure prints the seed, the rapid fail file, the
// replay command, the shrunk scenario, the oracle's diff and the trace; the
// fail file is written under testdata/rapid/ and replayed first next time.
// When the gate meets a registered finding it says so and goes on with a
// new seed for the rest of its budget, still checking every property.
func TestPropertiesHoldAtNewest(t *testing.T) {
	p := model.Newest()
	// Registered findings at this commit are met often: they pass (and are
	// counted), so the budget goes to new scenarios and no known finding
	// masks a new bug behind the same property.
	res := Explore(ExploreConfig{Profile: p, Checks: *gateChecks, Seed: 1, Name: t.Name(), ShrinkTime: 10 * time.Second,
		Tolerate: func(f *Failure) bool { return len(Unexplained(f)) == 0 }})
	require.NoError(t, res.Err)
	if f := res.Failure; f != nil {
		t.Fatalf("%d violation(s) no registered finding explains:\n%s\n%s%s", len(Unexplained(f)), FormatViolations(Unexplained(f)), f.Report(), pictureArtifact(t, f))
	}
	t.Logf("%s: %d scenarios checked, %d of them breaking only registered findings", p.Commit, res.Stats.Checks, res.Stats.Tolerated)
}

// TestKnownFindings asserts every registered finding's range: the
// exploration finds it at a commit inside the range within its budget,
// shrunk, and does not find it at the first commit after the range within
// a larger budget (other findings met there are skipped with a new seed).
func TestKnownFindings(t *testing.T) {
	for _, k := range Findings {
		t.Run(k.Slug, func(t *testing.T) {
			p, err := model.ProfileByName(k.SearchAt)
			require.NoError(t, err)
			require.True(t, k.Covers(p), "the search profile %s is outside the range %s", k.SearchAt, k.Range())
			for _, seed := range k.Seeds {
				f, checked, err := k.Search(p, seed, k.Budget, "Known", false, 10*time.Second)
				require.NoError(t, err)
				require.NotNil(t, f, "%s, seed %d: not found within %d scenarios", p.Commit, seed, checked)
				t.Logf("%s, seed %d: found after %d scenarios, shrunk to %d actions", p.Commit, seed, f.Checks, f.Actions)
				if f.Actions > k.MaxActions {
					t.Errorf("shrunk to %d actions, more than %d:\n%s%s", f.Actions, k.MaxActions, f.Report(), pictureArtifact(t, f))
				}
			}
			after, ok := k.After()
			if !ok {
				t.Logf("range %s reaches the timeline's end", k.Range())
				return
			}
			f, checked, err := k.Search(after, 100, k.AbsentBudget, "Known", false, 2*time.Second)
			require.NoError(t, err)
			if f != nil {
				t.Fatalf("found at %s, after its range %s:\n%s%s", after.Commit, k.Range(), f.Report(), pictureArtifact(t, f))
			}
			t.Logf("not found at %s in %d scenarios", after.Commit, checked)
		})
	}
}

// TestKeptFailures replays every kept failure from its scenario file (the
// trace hash and the violation must reproduce) and, where it has one, from
// its rapid fail file (which must shrink to the same trace).
func TestKeptFailures(t *testing.T) {
	files, err := filepath.Glob("testdata/kept/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no kept failures: run make keep")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			k, err := ReadKept(file)
			require.NoError(t, err)
			if _, err := RunScriptFile(file, ScriptOptions{}); err != nil {
				t.Fatalf("the kept scenario no longer reproduces:\n%v", err)
			}
			if k.FailFile == "" {
				return
			}
			// The fail file replays with the search that wrote it, so it
			// minimizes to the same case.
			f, err := FindingBySlug(strings.TrimSuffix(filepath.Base(file), ".txt"))
			require.NoError(t, err, "a kept case is named after its finding")
			cfg := f.SearchConfig(k.Profile)
			cfg.Checks, cfg.FailFile, cfg.Name, cfg.NoFailFile = 1, k.FailFile, "Kept", true
			res := Explore(cfg)
			require.NoError(t, res.Err)
			require.NotNil(t, res.Failure, "the rapid fail file %s no longer fails: regenerate with make keep", k.FailFile)
			assert.Equal(t, k.Hash, res.Failure.Hash, "the rapid fail file %s shrinks to another trace: regenerate with make keep", k.FailFile)
		})
	}
}

// TestWitnesses: every witness reproduces its trace hash and violation,
// is at most MaxReportActions long, and at its own profile the finding its
// name gives, in range there, explains that violation of the property its
// name gives: what the minimizer relies on when it starts from it.
func TestWitnesses(t *testing.T) {
	files, err := filepath.Glob(WitnessDir + "/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no witnesses under %s", WitnessDir)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			slug, rest, ok := strings.Cut(name, ".")
			require.True(t, ok, "a witness is named <finding>.<property>[.<what>].txt")
			property, _, _ := strings.Cut(rest, ".")
			k, err := FindingBySlug(slug)
			require.NoError(t, err)
			require.Contains(t, PropertyNames(), property)
			w, err := RunScriptFile(file, ScriptOptions{})
			require.NoError(t, err, "the witness no longer reproduces")
			script, err := keptScriptAt(file, "world")
			require.NoError(t, err)
			assert.LessOrEqual(t, actionCount(script), MaxReportActions)
			assert.True(t, k.Covers(w.Cfg.Profile), "%s is outside %s's range %s", w.Cfg.Profile.Name(), slug, k.Range())
			assert.Contains(t, WorldSignatures(w), property+": finding "+slug)
		})
	}
}

// TestExplorationDeterminism runs a sample of generated scenarios twice,
// and under GOMAXPROCS=1, and compares whole traces.
func TestExplorationDeterminism(t *testing.T) {
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		p := rapid.SampledFrom(model.Profiles()).Draw(rt, "profile")
		_, script := drawScenario(rt, p)
		text := strings.Join(script, "\n")
		run := func() []string {
			w, err := RunScript("generated", text, ScriptOptions{})
			if err != nil {
				rt.Fatalf("%v", err)
			}
			return w.Sim.TraceLines()
		}
		first := run()
		if d := cmp.Diff(first, run()); d != "" {
			rt.Fatalf("same scenario, different trace:\n%s", d)
		}
		if n++; n%5 == 0 {
			prev := runtime.GOMAXPROCS(1)
			one := run()
			runtime.GOMAXPROCS(prev)
			if d := cmp.Diff(first, one); d != "" {
				rt.Fatalf("GOMAXPROCS=1 changed the trace:\n%s", d)
			}
		}
	})
}

// pictureArtifact draws a failure into the test's artifact directory
// (go test -artifacts keeps it) and says where, for the failure message.
func pictureArtifact(t *testing.T, f *Failure) string {
	path := filepath.Join(t.ArtifactDir(), f.Property+"-"+f.Options.Profile.Commit.Name()+".html")
	if err := f.WritePicture(path); err != nil {
		return "\n(no picture: " + err.Error() + ")"
	}
	return "\npicture of the failure: " + path + " (go test -artifacts keeps it)"
}
