package properties

import (
	"flag"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
)

// The gate's budget: scenarios per exploration in `go test`. `make sim`
// explores far more.
var gateChecks = flag.Int("guardsim.checks", 5000, "scenarios per exploration in the property tests")

// TestPropertiesHoldUnderFixed is the gate: under profile fixed every
// property holds. A failure prints the seed, the rapid fail file, the
// replay command, the shrunk scenario, the oracle's diff and the trace; the
// fail file is written under testdata/rapid/ and replayed first next time.
//
// Quirks upstream never fixed break properties under fixed too; they are
// known findings (TestKnownFindings, testdata/kept/). If the gate meets one,
// it says so and goes on checking the other properties for the rest of its
// budget; any other violation fails it.
func TestPropertiesHoldUnderFixed(t *testing.T) {
	props := PropertyNames()
	checked := 0
	for round := uint64(0); checked < *gateChecks; round++ {
		res := Explore(ExploreConfig{Profile: model.Fixed, Properties: props, Checks: *gateChecks - checked, Seed: 1 + round, Name: t.Name()})
		require.NoError(t, res.Err)
		checked += res.Stats.Checks
		f := res.Failure
		if f == nil {
			break
		}
		known := knownUnfixed(f)
		if known == "" {
			t.Fatalf("%s", f.Report())
		}
		t.Logf("known finding reproduced after %d scenarios: %s (%s)", f.Checks, f.Property, known)
		props = slices.DeleteFunc(props, func(p string) bool { return p == f.Property })
	}
	t.Logf("%d scenarios checked", checked)
}

// gcDroppedBuffer matches the gateway GC removing a closed entry that still
// buffered hibernating messages (errata E5).
var gcDroppedBuffer = regexp.MustCompile(`gw\.gc_remove_closed +rid=\S+ buffered=[1-9]`)

// knownUnfixed names the kept finding a violation is, if it is one of the
// quirks upstream never fixed.
func knownUnfixed(f *Failure) string {
	v := FormatViolations(f.Violations)
	switch {
	case f.Property == "ws_close" && strings.Contains(v, "1011 Actor not found"):
		return "testdata/kept/stale_preopen_close_reaches_client.txt"
	case f.Property == "ws_delivery" && gcDroppedBuffer.MatchString(f.Trace):
		return "testdata/kept/gc_between_attempts_loses_message.txt"
	}
	return ""
}

// TestKnownFindings runs the exploration per profile and asserts that it
// finds what upstream got wrong, within a stated budget, shrunk.
func TestKnownFindings(t *testing.T) {
	freshAckOnly := model.Seed
	freshAckOnly.GatewayInvertedGC = false
	invertedGCOnly := model.Seed
	invertedGCOnly.GatewayFreshAckID = false
	tests := []struct {
		name       string
		profile    model.Profile
		properties []string
		budget     int
		maxActions int
		seeds      []uint64
		sawHas     string // a substring of what the violation observed
	}{
		// (a) the 404 of parent breaks the seed property (H6).
		{"parent 404 breaks the seed property", model.Parent, []string{"seed"}, 300, 6, []uint64{1, 2, 3}, `404 "Actor not found"`},
		// (b) the fresh-id ack (#3326) closes healthy sockets.
		{"seed fresh-id ack closes sockets", freshAckOnly, []string{"ws_quiet"}, 300, 6, []uint64{1, 2}, "Message acknowledgment timeout"},
		// the inverted gateway GC (#3492) reconnects healthy sockets and drops replies.
		{"seed inverted GC disturbs sockets", invertedGCOnly, []string{"ws_quiet"}, 1000, 8, []uint64{4}, ""},
		// (c) never fixed upstream: one request id for every WebSocket attempt
		// lets a stale pre-open close (delayed > 2 s by a partition) close the
		// reopened socket. Rare: rapid seed 4 finds it after 188 scenarios;
		// seeds 1-5 at 3000 scenarios find it once.
		{"stale pre-open close reaches the client", model.Fixed, []string{"ws_close"}, 400, 6, []uint64{4}, "1011 Actor not found"},
		// (c) never fixed upstream (errata E5): a gateway GC tick between two
		// attempts of a hibernatable socket drops the in-flight entry with its
		// buffer, so an un-acked message never reaches the actor while the
		// socket stays open. Rare: rapid seed 3 finds it after 1122 scenarios.
		{"GC between attempts loses a buffered message", model.Fixed, []string{"ws_delivery"}, 1500, 12, []uint64{3}, `"lost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, seed := range tt.seeds {
				res := Explore(ExploreConfig{Profile: tt.profile, Properties: tt.properties, Checks: tt.budget, Seed: seed,
					Name: "Known", NoFailFile: true})
				require.NoError(t, res.Err)
				f := res.Failure
				require.NotNil(t, f, "seed %d: not found within %d scenarios", seed, tt.budget)
				t.Logf("seed %d: %s found after %d scenarios, shrunk to %d actions", seed, f.Property, f.Checks, f.Actions)
				assert.LessOrEqual(t, f.Checks, tt.budget)
				assert.LessOrEqual(t, f.Actions, tt.maxActions, "shrunk case:\n%s", f.Report())
				if tt.sawHas != "" {
					assert.Contains(t, FormatViolations(f.Violations), tt.sawHas)
				}
			}
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
			res := Explore(ExploreConfig{Profile: k.Profile, Properties: []string{k.Property}, Checks: 1, FailFile: k.FailFile, Name: "Kept", NoFailFile: true})
			require.NoError(t, res.Err)
			require.NotNil(t, res.Failure, "the rapid fail file %s no longer fails: regenerate with make keep", k.FailFile)
			assert.Equal(t, k.Hash, res.Failure.Hash, "the rapid fail file %s shrinks to another trace: regenerate with make keep", k.FailFile)
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
