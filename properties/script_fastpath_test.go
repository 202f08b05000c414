package properties

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// datadrivenWords is what datadriven.ParseLine makes of a line, as
// splitDirective's words: a multi-valued argument's values joined by ", ".
func datadrivenWords(line string) ([]string, error) {
	cmd, args, err := datadriven.ParseLine(line)
	if err != nil || cmd == "" {
		return nil, err
	}
	words := []string{cmd}
	for _, a := range args {
		if a.Vals == nil {
			words = append(words, a.Key)
		} else {
			words = append(words, a.Key+"="+strings.Join(a.Vals, ", "))
		}
	}
	return words, nil
}

// TestSplitDirectiveIsDatadriven: a script line splits as datadriven
// parses a directive, on every line of every scenario and kept file and
// on edge cases; where datadriven refuses a line, so does splitDirective.
func TestSplitDirectiveIsDatadriven(t *testing.T) {
	lines := []string{"", " ", "#", "# comment", "  # indented comment", "world profile=seed seed=1 runners=r1,r2",
		"  http c1  actor=a1", "expect w1 close_reason~=guard.actor_destroyed#WRONG", "close w1 reason=(probe done)",
		"behavior a1 body=(a, b) status=200", "x k=(a (b) c)", "x k=(unclosed", "x =v", "x k= v", "x k=", "a#b c",
		"é ü ñ", "expect c1 latency<=2s gap2>=100ms body~=runner=r1", "x k=(a)b", "cmd=x y", "x k=((a, b), c)"}
	for _, glob := range []string{"testdata/scenarios/*.txt", "testdata/kept/*.txt", WitnessDir + "/*.txt"} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
	}
	for _, line := range lines {
		if strings.TrimSpace(line) == "----" {
			continue
		}
		got, err := splitDirective(nil, line)
		want, werr := datadrivenWords(line)
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			want, werr = nil, nil // datadriven skips comment lines before parsing
		}
		if (err == nil) != (werr == nil) || (err == nil && !slices.Equal(got, want)) {
			t.Errorf("%q: splitDirective = %q, %v; datadriven %q, %v", line, got, err, want, werr)
		}
	}
}

// FuzzScript: no input makes the script runner panic; a line it refuses
// is an error naming the file and the line.
func FuzzScript(f *testing.F) {
	for _, s := range []string{"world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 status=200",
		"world runners=r1\nws w1 actor=a1\nsend w1 hi\nclose w1 reason=(bye now)\nrun for=1s",
		"world runners=r1\nhttp c1 actor=a1\nsend c1 x", "world runners=r1 peers=dc2\nat 1s peer_down dc2\nrun",
		"behavior a1 stauts=500", "world runners=r1\nexpect c1 close_reason~=x#y", "\x00(", "world runners=r1\nlatency a->b base=1ms\nrun until=1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		// A fuzzed script may ask for days of virtual time: bounded in
		// events, a run that goes on is an error like any other.
		_, err := RunScript("fuzz.txt", text, ScriptOptions{Trace: sim.TraceOff, MaxSteps: 20_000})
		var se *ScriptError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("an error that names no line: %v", err)
		}
		if se != nil && (se.File != "fuzz.txt" || se.Line < 1) {
			t.Fatalf("the error names %s:%d", se.File, se.Line)
		}
	})
}

func TestSprintRunnersIsFmt(t *testing.T) {
	for _, ids := range [][]model.RunnerID{nil, {}, {"r1"}, {"r1", "r2", "r3"}, {"a b", ""}} {
		if got, want := sprintRunners(ids), fmt.Sprint(ids); got != want {
			t.Errorf("sprintRunners(%q) = %q, fmt gives %q", ids, got, want)
		}
	}
}
