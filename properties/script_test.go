package properties

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

var update = flag.Bool("update", false, "rewrite golden traces under testdata/")

const scenarioDir = "testdata/scenarios"

// flips returns the profiles named on '# flip: p1 p2' lines: under them the
// scenario's expectations must fail.
func flips(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "# flip:"); ok {
			out = append(out, strings.Fields(v)...)
		}
	}
	return out
}

// TestScenarios runs every scenario script, compares its trace with the
// golden trace beside it (-update rewrites them), and checks that switching
// to each profile named by '# flip:' makes an expectation fail.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(file)
			require.NoError(t, err)
			w, err := RunScript(file, string(text), ScriptOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(scenarioDir, "golden", name+".trace")
			got := w.Sim.TraceText()
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden trace: run go test ./properties -run TestScenarios -update")
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("trace differs from %s (-golden +now); run with -update if intended:\n%s", golden, d)
			}
			for _, p := range flips(string(text)) {
				prof, err := model.ProfileByName(p)
				require.NoError(t, err)
				_, err = RunScript(file, string(text), ScriptOptions{Profile: &prof})
				var se *ScriptError
				require.True(t, errors.As(err, &se), "under profile %s the scenario must fail an expectation, got %v", p, err)
				assert.True(t, strings.HasPrefix(se.Msg, "expect"), "under %s: %s", p, se.Msg)
			}
		})
	}
}

// TestScriptErrors checks that malformed scripts get an error naming the
// file, the line and what was expected, never a panic.
func TestScriptErrors(t *testing.T) {
	tests := []struct {
		name, script, want string
	}{
		{"no world", "actor a1 on=r1", "x.txt:1: \"actor\" before the world line"},
		{"unknown command", "world runners=r1\nfly a1", "x.txt:2: unknown command \"fly\""},
		{"bad profile", "world profile=main runners=r1", "x.txt:1: world profile: unknown profile \"main\""},
		{"bad duration", "world runners=r1\nat soon http c1 actor=a1", "x.txt:2: at: bad duration \"soon\""},
		{"missing actor", "world runners=r1\nhttp c1", "x.txt:2: http: expected actor=ACTOR"},
		{"unknown runner", "world runners=r1\ndisconnect r9", "x.txt:2: unknown runner \"r9\""},
		{"bad expect key", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 colour=red", "x.txt:5: expect: unknown key \"colour\""},
		{"bad number", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 status=ok", "x.txt:5: expect status: \"ok\" is not a number"},
		{"unknown quirk", "world runners=r1 quirk=fast", "x.txt:1: world: unknown quirk \"fast\""},
		{"past at", "world runners=r1\nrun until=2s\nat 1s wake a1", "x.txt:3: at 1s is in the past"},
		{"unterminated quote", "world runners=r1\nbehavior a1 body=\"oops", "x.txt:2: unterminated quote"},
		{"expect unknown request", "world runners=r1\nexpect c9 status=200", "x.txt:2: expect: request \"c9\" was never issued"},
		{"failed expectation", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 status=418", "x.txt:5: expect c1 status=418: got 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunScript("x.txt", tt.script, ScriptOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestScenarioDeterminism runs every scenario twice, and once more under
// GOMAXPROCS=1, and compares the whole traces.
func TestScenarioDeterminism(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	require.NoError(t, err)
	trace := func(file string) []string {
		w, err := RunScriptFile(file, ScriptOptions{})
		require.NoError(t, err)
		return w.Sim.TraceLines()
	}
	for _, file := range files {
		first := trace(file)
		if d := cmp.Diff(first, trace(file)); d != "" {
			t.Errorf("%s: same seed, different trace:\n%s", file, d)
		}
		prev := runtime.GOMAXPROCS(1)
		one := trace(file)
		runtime.GOMAXPROCS(prev)
		if d := cmp.Diff(first, one); d != "" {
			t.Errorf("%s: GOMAXPROCS=1 changed the trace:\n%s", file, d)
		}
	}
}

// TestTraceTextAndHashAgree proves that the determinism fingerprint and the
// rendered trace come from the same content, on every scenario file and
// kept failure: a world that keeps only the hash ends with the fingerprint
// of the world that keeps every line, and across all the lines of all the
// files a line's text (after its step and time) and its content hash
// determine each other. A part rendered but not hashed, or hashed but not
// rendered, would show up as two texts with one hash or one text with two.
func TestTraceTextAndHashAgree(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	require.NoError(t, err)
	kept, err := filepath.Glob("testdata/kept/*.txt")
	require.NoError(t, err)
	files = append(files, kept...)
	require.NotEmpty(t, kept)
	byText := map[string]uint64{}
	byHash := map[uint64]string{}
	for _, file := range files {
		full, err := RunScriptFile(file, ScriptOptions{})
		require.NoError(t, err, file)
		hashed, err := RunScriptFile(file, ScriptOptions{Trace: sim.TraceHash})
		require.NoError(t, err, file)
		assert.Equal(t, full.Sim.TraceHash(), hashed.Sim.TraceHash(), "%s: the hash-only world has another fingerprint", file)
		assert.Empty(t, hashed.Sim.TraceLines(), "%s: the hash-only world kept lines", file)
		lines, hashes := full.Sim.TraceLines(), full.Sim.TraceContentHashes()
		require.Len(t, hashes, len(lines), file)
		for i, l := range lines {
			text := l[sim.TraceHeaderWidth:]
			if h, ok := byText[text]; ok && h != hashes[i] {
				t.Errorf("%s: one text, two hashes: %q", file, text)
			}
			if o, ok := byHash[hashes[i]]; ok && o != text {
				t.Errorf("%s: one hash, two texts:\n  %q\n  %q", file, o, text)
			}
			byText[text], byHash[hashes[i]] = hashes[i], text
		}
	}
	t.Logf("%d files, %d distinct line contents", len(files), len(byText))
}
