package properties

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

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

// TestScenarios runs every scenario file, a cockroachdb/datadriven file:
// each command's output (the observable events it caused, compactly; see
// scenarioOutput) must match what is below its ----, and -rewrite writes
// it. A failed expect fails the test and is never written as output. Then
// it checks that switching to each profile named by '# flip:' makes an
// expectation fail.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			r := newScriptRun(file, ScriptOptions{})
			datadriven.RunTest(t, file, func(t *testing.T, td *datadriven.TestData) string {
				if td.Input != "" {
					t.Fatalf("%s: a scenario command takes no input lines", td.Pos)
				}
				out, err := r.directive(td)
				if err != nil {
					t.Fatal(err)
				}
				return out
			})
			text, err := os.ReadFile(file)
			require.NoError(t, err)
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

// directive runs one command of a datadriven scenario file and returns its
// output: what the command printed (hash), then the observable events it
// caused (scenarioOutput), one per line.
func (r *scriptRun) directive(td *datadriven.TestData) (string, error) {
	if _, line, ok := strings.Cut(td.Pos, ":"); ok {
		r.line, _ = strconv.Atoi(line)
	}
	words := []string{td.Cmd}
	for _, a := range td.CmdArgs {
		if a.Vals == nil {
			words = append(words, a.Key)
		} else {
			words = append(words, a.Key+"="+strings.Join(a.Vals, ", "))
		}
	}
	from := 0
	if r.w != nil {
		from = len(r.w.Sim.TraceLines())
	}
	r.output = r.output[:0]
	if err := r.exec(words); err != nil {
		return "", err
	}
	out := append([]string(nil), r.output...)
	for _, l := range r.w.Sim.TraceLines()[from:] {
		if c, ok := scenarioOutput(l); ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	return strings.Join(out, "\n") + "\n", nil
}

// TestCommandTableIsCurrent: the reference's command tables are the
// registry's (go test ./properties -run TestCommandTableIsCurrent -update
// rewrites them).
func TestCommandTableIsCurrent(t *testing.T) {
	const path, begin, end = "testdata/scenarios/README.md", "<!-- commands: generated from properties.Commands -->\n", "<!-- end of commands -->"
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	require.True(t, i >= 0 && j > i, "%s: no %q ... %q markers", path, begin, end)
	if got := text[i+len(begin) : j]; got != CommandTable() {
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(text[:i+len(begin)]+CommandTable()+text[j:]), 0o644))
			return
		}
		t.Errorf("%s's command tables differ from the registry (properties.Commands); rerun with -update:\n%s", path, cmp.Diff(got, CommandTable()))
	}
}

var update = flag.Bool("update", false, "rewrite testdata/scenarios/README.md's command tables")

// TestScriptErrors checks that malformed scripts get an error naming the
// file, the line and what was expected, never a panic.
func TestScriptErrors(t *testing.T) {
	tests := []struct {
		name, script, want string
	}{
		{"no world", "actor a1 on=r1", "x.txt:1: \"actor\" before the world line"},
		{"unknown command", "world runners=r1\nfly a1", "x.txt:2: unknown command \"fly\""},
		{"misspelt command", "world runners=r1\nreshedule a1 to=r1", "x.txt:2: unknown command \"reshedule\" (did you mean \"reschedule\"?)"},
		{"bad profile", "world profile=main runners=r1", "x.txt:1: world: unknown profile \"main\""},
		{"bad duration", "world runners=r1\nat soon http c1 actor=a1", "x.txt:2: at: bad duration \"soon\""},
		{"missing actor", "world runners=r1\nhttp c1", "x.txt:2: http: missing actor= (usage: http NAME actor=A [path=/p])"},
		{"unknown runner", "world runners=r1\ndisconnect r9", "x.txt:2: disconnect: unknown runner \"r9\" (the world has r1)"},
		{"bad expect key", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 colour=red", "x.txt:5: expect: unknown key \"colour\""},
		{"misspelt behavior key", "world runners=r1\nbehavior a1 stauts=500", "x.txt:2: behavior: unknown key \"stauts\" (did you mean \"status\"?)"},
		{"misspelt flag", "world runners=r1\nbehavior a1 hibernte", "x.txt:2: behavior: unexpected word \"hibernte\" (did you mean \"hibernate\"?)"},
		{"repeated key", "world runners=r1\nbehavior a1 status=500 status=200", "x.txt:2: behavior: status= given twice"},
		{"bad number", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 status=ok", "x.txt:5: expect status: \"ok\" is not a number"},
		{"bad behavior number", "world runners=r1\nbehavior a1 status=ok", "x.txt:2: behavior: status=\"ok\", expected a whole number"},
		{"unknown quirk", "world runners=r1 quirk=fast", "x.txt:1: world: unknown quirk \"fast\""},
		{"past at", "world runners=r1\nrun until=2s\nat 1s wake a1", "x.txt:3: at 1s is in the past"},
		{"at a check", "world runners=r1\nat 1s run", "x.txt:2: at: run cannot be scheduled"},
		{"unclosed parenthesis", "world runners=r1\nbehavior a1 body=(oops", "x.txt:2: column 13: body=( has no closing parenthesis"},
		{"expect unknown request", "world runners=r1\nexpect c9 status=200", "x.txt:2: expect: request \"c9\" was never issued"},
		{"failed expectation", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 status=418", "x.txt:5: expect c1 status=418: got 200"},
		{"hash in a value is the value's", "world runners=r1\nactor a1 on=r1 crash=destroy\ndestroy a1\nrun\nws w1 actor=a1\nrun\nexpect w1 close_reason~=guard.actor_destroyed#WRONG",
			"x.txt:7: expect w1 close_reason~=guard.actor_destroyed#WRONG: got \"guard.actor_destroyed#ray1\""},
		{"send on an HTTP request", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nsend c1 hello", "x.txt:4: send: \"c1\" is an HTTP request (http); send needs a WebSocket"},
		{"socket key on a request", "world runners=r1\nactor a1 on=r1\nhttp c1 actor=a1\nrun\nexpect c1 close_code=1000", "x.txt:5: expect: close_code is a key of a WebSocket"},
		{"name used twice", "world runners=r1\nhttp c1 actor=a1\nws c1 actor=a1", "x.txt:3: ws: the name \"c1\" is already used by an HTTP request (http)"},
		{"unknown property", "world runners=r1\nexpect_violation liveliness", "x.txt:2: expect_violation: unknown property \"liveliness\" (did you mean \"liveness\"?)"},
		{"over-long line", "world runners=r1\nbehavior a1 body=" + strings.Repeat("x", 70000) + "\nexpect_hash 0", "x.txt:2: the line is 70017 bytes long, more than the 4096"},
		{"tab", "world runners=r1\nhttp c1\tactor=a1", "x.txt:2: a tab at column 8"},
		{"run until and for", "world runners=r1\nrun until=1s for=1s", "x.txt:2: run: until= and for= together"},
		{"extra word", "world runners=r1\nwake a1 a2", "x.txt:2: wake: unexpected word \"a2\""},
		{"choice", "world runners=r1\nactor a1 on=r1 crash=explode", "x.txt:2: actor: crash=\"explode\", expected restart or sleep or destroy"},
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
	witnesses, err := filepath.Glob(WitnessDir + "/*.txt")
	require.NoError(t, err)
	files = append(append(files, kept...), witnesses...)
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
