package properties

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMinimize drives the minimizer with predicates whose smallest failing
// scripts are known: it must reach them, deterministically, and within its
// budget say so.
func TestMinimize(t *testing.T) {
	header := []string{"world profile=seed seed=1 runners=r1,r2,r3 workflow_delay=5ms peers=dc2", "latency ups->engine base=5ms",
		"actor a1 on=r1 crash=restart", "actor a2 on=r2 crash=restart", "behavior a2 hibernate ack_delay=0", "run"}
	script := func(actions ...string) []string {
		return append(append(slices.Clone(header), actions...), "liveness")
	}
	has := func(s []string, lines ...string) bool {
		for _, l := range lines {
			if !slices.Contains(s, l) {
				return false
			}
		}
		return true
	}
	valid := func(s []string) bool {
		// an actor or runner still used must be declared: the script
		// language refuses the script otherwise
		text := strings.Join(s, "\n")
		for _, a := range []string{"a1", "a2"} {
			if strings.Contains(text, "actor="+a) && !strings.Contains(text, "actor "+a+" ") {
				return false
			}
		}
		for _, r := range []string{"r1", "r2", "r3"} {
			if strings.Contains(text, "on="+r) && !strings.Contains(s[0], r) {
				return false
			}
		}
		return true
	}
	for _, tt := range []struct {
		name  string
		in    []string
		fails func([]string) bool
		want  []string
	}{
		{
			name:  "two needed actions among noise",
			in:    script("http c1 actor=a1", "run for=1ms", "ws w1 actor=a1", "run for=3ms", "crash a1", "send w1 m6", "run for=10ms", "http c2 actor=a1"),
			fails: func(s []string) bool { return valid(s) && has(s, "ws w1 actor=a1", "crash a1") },
			want:  []string{"world profile=seed seed=1 runners=r1 workflow_delay=0", "actor a1 on=r1 crash=restart", "run", "ws w1 actor=a1", "crash a1", "liveness"},
		},
		{
			name: "consecutive runs merge, names renumber",
			in:   script("http c7 actor=a2", "run for=1ms", "run for=3ms", "stop a2"),
			fails: func(s []string) bool {
				var total int
				for _, l := range s {
					if d, ok := runFor(l); ok {
						total += int(d)
					}
				}
				return valid(s) && total >= 4_000_000 && slices.ContainsFunc(s, func(l string) bool { return strings.HasPrefix(l, "http c") }) && has(s, "stop a2")
			},
			want: []string{"world profile=seed seed=1 runners=r2 workflow_delay=0", "actor a2 on=r2 crash=restart", "run", "http c1 actor=a2", "run for=4ms", "stop a2", "liveness"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, minimal, runs := minimize(tt.in, tt.fails, MinimizeRuns)
			assert.True(t, minimal, "the minimizer ran out of budget (%d runs)", runs)
			assert.Equal(t, tt.want, got)
			again, _, runs2 := minimize(tt.in, tt.fails, MinimizeRuns)
			assert.Equal(t, got, again, "the minimizer is deterministic")
			assert.Equal(t, runs, runs2)
		})
	}
	// A budget too small to finish is reported, not hidden.
	_, minimal, runs := minimize(script("a", "b", "c", "d"), func(s []string) bool { return has(s, "a") }, 2)
	assert.False(t, minimal)
	assert.Equal(t, 2, runs)
}

// TestEveryActionKindHasAVerb: a shrunk case's options keep the weights of
// the kinds its lines still use, so every kind must be named by a verb.
func TestEveryActionKindHasAVerb(t *testing.T) {
	for _, k := range ActionKinds {
		found := false
		for _, ks := range verbKinds {
			found = found || slices.Contains(ks, k)
		}
		assert.True(t, found, "action kind %s has no verb in verbKinds", k)
	}
}

// TestFindingsBoundTheirCases: every registered finding's search must
// minimize to a case a reader takes in at a glance.
func TestFindingsBoundTheirCases(t *testing.T) {
	for _, k := range Findings {
		assert.LessOrEqual(t, k.MaxActions, MaxReportActions, k.Slug)
	}
}

// TestKeptStart: the main job's minimizer starts a registered finding's
// failure from the finding's kept case, replayed at the failure's profile,
// only when that is smaller and fails the same way.
func TestKeptStart(t *testing.T) {
	const slug = "runner_blip_loses_message"
	world := "world profile=parent seed=3 runners=r1 quirk=-runner_not_found_404"
	kept, err := keptScriptAt(KeptDir+"/"+slug+".txt", world)
	if err != nil {
		t.Fatal(err)
	}
	assert.True(t, strings.HasPrefix(kept[0], "world profile=parent quirk=-runner_not_found_404 seed=16 "), kept[0])
	for _, l := range kept {
		assert.False(t, strings.HasPrefix(l, "#") || strings.HasPrefix(l, "expect_"), "kept line %q", l)
	}
	big := []string{world, "run"}
	for range 30 {
		big = append(big, "run for=1s")
	}
	big = append(big, "liveness")
	always := func([]string) bool { return true }
	never := func([]string) bool { return false }
	tests := []struct {
		name    string
		script  []string
		targets []string
		fails   func([]string) bool
		want    bool
	}{
		{"the finding's kept case fails the same way", big, []string{"ws_delivery: finding " + slug}, always, true},
		{"outside its range too", big, []string{"ws_delivery: finding " + slug + OutsideRange}, always, true},
		{"the kept case does not fail here", big, []string{"ws_delivery: finding " + slug}, never, false},
		{"no registered finding", big, []string{"ws_delivery: w<id>: <n> message(s) never reached a<id>"}, always, false},
		{"the swarm's case is smaller", big[:3], []string{"ws_delivery: finding " + slug}, always, false},
		{"no kept case", big, []string{"ws_delivery: finding no_such_finding"}, always, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, path, ok := keptStart(tt.script, tt.targets, tt.fails)
			assert.Equal(t, tt.want, ok)
			if tt.want {
				assert.Equal(t, kept, got)
				assert.Equal(t, KeptDir+"/"+slug+".txt", path)
			}
		})
	}
}

// TestAnyKeptStart: a case still too long starts from the first kept case,
// in file order, that fails the same way here in fewer actions.
func TestAnyKeptStart(t *testing.T) {
	big := []string{"world profile=parent seed=3 runners=r1", "run"}
	for range 30 {
		big = append(big, "run for=1s")
	}
	big = append(big, "liveness")
	want := KeptDir + "/runner_blip_loses_message.txt"
	got, path, ok := anyKeptStart(big, func(s []string) bool { return strings.Contains(strings.Join(s, "\n"), "disconnect r3") })
	assert.True(t, ok)
	assert.Equal(t, want, path, "the first kept case with a disconnect of r3")
	assert.True(t, strings.HasPrefix(got[0], "world profile=parent "), got[0])
	_, _, ok = anyKeptStart(big, func([]string) bool { return false })
	assert.False(t, ok)
}

// TestWithoutActor: an actor goes with its header lines, the actions that
// name it and those of the clients opened to it.
func TestWithoutActor(t *testing.T) {
	script := []string{"world profile=seed seed=1 runners=r1", "actor a1 on=r1 crash=sleep", "actor a2 on=r1 crash=sleep",
		"behavior a2 hibernate ack_delay=0", "run", "ws w1 actor=a1", "ws w2 actor=a2", "send w2 m1", "send w1 m2",
		"reschedule a2 to=r1", "http c1 actor=a2", "sleep a1", "liveness"}
	assert.Equal(t, []string{"world profile=seed seed=1 runners=r1", "actor a1 on=r1 crash=sleep", "run", "ws w1 actor=a1",
		"send w1 m2", "sleep a1", "liveness"}, withoutActor(script, "a2"))
}
