//detguard:outside-simulation the exploration driver: it times itself and its shrinking on the wall clock, between worlds.

package properties

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// ExploreConfig configures one exploration: rapid checks of one profile
// against a set of properties.
type ExploreConfig struct {
	Profile model.Profile
	// KeptStart lets the minimizer start a registered finding's failure
	// from the finding's kept case when that fails the same way at this
	// profile (keptStart): the main job's reports. A search, and make keep
	// with it, shrinks the swarm's own scenario.
	KeptStart bool
	// Minimize, when set, decides from a failure (its violations and
	// whole trace) whether the minimizer shrinks it; one it declines is
	// returned as the swarm drew it, NotMinimized. The main job's directed
	// searches minimize only their own finding's failures and new ones:
	// the others are the swarm's too, and were minimized there.
	Minimize func(*Failure) bool
	// Properties to check; all when empty.
	Properties []string
	// Checks is rapid's budget of scenarios.
	Checks int
	// Seed is rapid's seed; 0 draws one (and reports it).
	Seed uint64
	// Name names the run for rapid: its fail files go to
	// testdata/rapid/<Name>/ (relative to the working directory) and are
	// replayed first on every later run of the same name.
	Name string
	// FailFile, when set, replays only that rapid fail file.
	FailFile string
	// NoFailFile stops rapid from writing a fail file.
	NoFailFile bool
	// Progress, when set, is called after every scenario.
	Progress func(Stats)
	// ShrinkTime, when set, bounds rapid's shrinking of the failure.
	ShrinkTime time.Duration
	// Focus, when set, limits the drawn action kinds to these (plus advance
	// and http), each always on: a search for a known rare finding.
	Focus []string
	// Tolerate, when set, is asked about every violating scenario (with its
	// whole trace); a failure it accepts counts as a pass, so rapid neither
	// stops nor shrinks it. A search uses it to walk past other known
	// findings instead of stopping (and shrinking) at each.
	// Tolerate must be a pure function of the failure: the minimizer asks
	// it about candidates too.
	Tolerate func(*Failure) bool
	// Tolerated, when set, is told about every scenario of the exploration
	// proper that Tolerate accepted (not about the shrinking's), so a caller
	// can count known failures.
	Tolerated func(*Failure)
}

// Stats measure an exploration.
type Stats struct {
	// Checks counts the scenarios rapid checked before stopping (the budget,
	// or up to and including the first failure).
	Checks int
	// Scenarios counts every scenario run, shrinking included.
	Scenarios int
	Virtual   sim.Time // virtual time covered by all scenarios
	Events    int64
	Wall      time.Duration
	// Tolerated counts violating scenarios ExploreConfig.Tolerate accepted.
	Tolerated int
}

// Failure is a property violation found by an exploration, shrunk.
type Failure struct {
	Property   string
	Violations []Violation
	Options    Options
	Script     []string // the minimal scenario, replayable with RunScript
	Actions    int
	Trace      string
	Hash       string
	FailFile   string
	Seed       uint64 // rapid's seed
	Checks     int    // scenarios run before the failure was found
	Replay     string // the exact command that replays it
	RapidLog   string
	// Minimal reports that the minimizer ran to its end: removing any one
	// action makes the failure go away.
	Minimal bool
	// MinimizeRuns counts the scenarios the minimizer ran.
	MinimizeRuns int
	// FromKept is the kept case the minimizer started from, when one,
	// replayed at this profile, fails the same way in fewer actions: the
	// kept case of the registered finding that explains the failure
	// (keptStart), or, when the swarm's case stays longer than
	// MaxReportActions, any kept case (anyKeptStart).
	FromKept string
	// NotMinimized: ExploreConfig.Minimize declined it; Script is the
	// swarm's own scenario.
	NotMinimized bool
	// SwarmActions is the size of the scenario the swarm drew.
	SwarmActions int

	matched map[traceQuery]bool // traceHas's answers about Trace
}

// minimizeFailure shrinks a failure's script with the minimizer, keeping
// only changes after which the scenario still shows one of the failure's
// new signatures (those the exploration does not tolerate), and sets the
// failure's script, violations, trace and hash from the final run.
func minimizeFailure(cfg ExploreConfig, f *Failure) error {
	// judge runs a candidate without its trace first: most candidates
	// violate nothing, and only a violating one needs its whole trace (the
	// findings' matchers read it). A candidate can keep one of the
	// failure's signatures only by breaking one of its properties, so the
	// traceless run checks those alone.
	judge := func(script []string, props []string) (*Failure, error) {
		text := strings.Join(script, "\n")
		w, err := RunScript("minimal", text, ScriptOptions{Trace: sim.TraceOff})
		if err != nil {
			return nil, err
		}
		if vs := Check(w, props...); len(vs) == 0 {
			return &Failure{Options: f.Options}, nil
		}
		if w, err = RunScript("minimal", text, ScriptOptions{NoMessages: true}); err != nil {
			return nil, err
		}
		return &Failure{Options: f.Options, Violations: Check(w, cfg.Properties...), Trace: w.Sim.TraceText(), Hash: w.Sim.TraceHash()}, nil
	}
	// A failure ExploreConfig.Minimize judged already has its violations
	// and whole trace: no need to run it again.
	first := &Failure{Options: f.Options, Violations: f.Violations, Trace: f.Trace, Hash: f.Hash}
	if f.Trace == "" {
		var err error
		if first, err = judge(f.Script, cfg.Properties); err != nil {
			return fmt.Errorf("the minimal case does not run again: %w", err)
		}
	}
	first.Property = f.Property
	// The case must keep one of the failure's signatures, and stay a
	// failure the exploration does not tolerate.
	targets := Signatures(first)
	if len(targets) == 0 || (cfg.Tolerate != nil && cfg.Tolerate(first)) {
		return fmt.Errorf("the minimal case no longer fails the way it did (violations now: %v): the simulation is not deterministic", first.Violations)
	}
	var props []string
	for _, v := range first.Violations {
		if !slices.Contains(props, v.Property) {
			props = append(props, v.Property)
		}
	}
	fails := func(script []string) bool {
		g, err := judge(script, props)
		if err != nil || len(g.Violations) == 0 {
			return false
		}
		g.Property = g.Violations[0].Property
		if cfg.Tolerate != nil && cfg.Tolerate(g) {
			return false
		}
		for _, s := range Signatures(g) {
			if slices.Contains(targets, s) {
				return true
			}
		}
		return false
	}
	f.SwarmActions = f.Actions
	start := f.Script
	if cfg.KeptStart {
		if kept, path, ok := keptStart(f.Script, targets, fails); ok {
			start, f.FromKept = kept, path
		}
	}
	script, minimal, runs := minimize(start, fails, MinimizeRuns)
	if cfg.KeptStart && actionCount(script) > MaxReportActions {
		// Still too long to read: any kept case that shows this failure
		// here in fewer actions is a better start (a finding's failure
		// of another property than its own kept case's, or a new one).
		if kept, path, ok := anyKeptStart(script, fails); ok {
			if again, isMin, n := minimize(kept, fails, MinimizeRuns); actionCount(again) < actionCount(script) {
				script, minimal, f.FromKept = again, isMin, path
				runs += n
			}
		}
	}
	final, err := judge(script, cfg.Properties)
	if err != nil {
		return fmt.Errorf("the minimized case does not run: %w", err)
	}
	f.Script, f.Minimal, f.MinimizeRuns = script, minimal, runs
	f.Actions = actionCount(script)
	f.Violations, f.Trace, f.Hash, f.matched = final.Violations, final.Trace, final.Hash, nil
	f.Property = f.Violations[0].Property
	for _, v := range f.Violations {
		if slices.ContainsFunc(ViolationSignatures(f, v), func(s string) bool { return slices.Contains(targets, s) }) {
			f.Property = v.Property
			break
		}
	}
	f.Options = f.Options.shrunkTo(script)
	return nil
}

// Result is the outcome of an exploration.
type Result struct {
	Config  ExploreConfig
	Stats   Stats
	Failure *Failure // nil when every property held
	Err     error    // the harness itself failed (e.g. a no-progress watchdog)
}

// recorder is a rapid.TB that records instead of failing a Go test, so an
// exploration can run inside a test that expects a failure, or in a command.
type recorder struct {
	name   string
	log    strings.Builder
	failed bool
}

type stopRecorder struct{}

func (r *recorder) Helper()                           {}
func (r *recorder) Name() string                      { return r.name }
func (r *recorder) Logf(format string, args ...any)   { fmt.Fprintf(&r.log, format+"\n", args...) }
func (r *recorder) Log(args ...any)                   { fmt.Fprintln(&r.log, args...) }
func (r *recorder) Skipf(format string, args ...any)  { r.Logf(format, args...); panic(stopRecorder{}) }
func (r *recorder) Skip(args ...any)                  { r.Log(args...); panic(stopRecorder{}) }
func (r *recorder) SkipNow()                          { panic(stopRecorder{}) }
func (r *recorder) Errorf(format string, args ...any) { r.failed = true; r.Logf(format, args...) }
func (r *recorder) Error(args ...any)                 { r.failed = true; r.Log(args...) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(stopRecorder{})
}
func (r *recorder) Fatal(args ...any) { r.Error(args...); panic(stopRecorder{}) }
func (r *recorder) FailNow()          { r.failed = true; panic(stopRecorder{}) }
func (r *recorder) Fail()             { r.failed = true }
func (r *recorder) Failed() bool      { return r.failed }

// setRapidFlag sets one of rapid's command-line flags, which is how rapid
// takes its budget, seed and fail file.
func setRapidFlag(name, value string) {
	if err := flag.Set("rapid."+name, value); err != nil {
		panic(err)
	}
}

var rapidFlags = []string{"checks", "seed", "failfile", "nofailfile", "shrinktime"}

func saveRapidFlags() map[string]string {
	m := map[string]string{}
	for _, name := range rapidFlags {
		m[name] = flag.Lookup("rapid." + name).Value.String()
	}
	return m
}

func restoreRapidFlags(m map[string]string) {
	for _, name := range rapidFlags {
		setRapidFlag(name, m[name])
	}
}

var failedAfter = regexp.MustCompile(`failed after (\d+) tests`)

// Explore runs rapid over generated scenarios of one profile and returns
// the first property violation, shrunk, or nil. It is deterministic given
// a non-zero Seed. It is not safe for concurrent use: rapid takes its
// budget, seed and fail file from process-wide flags.
func Explore(cfg ExploreConfig) (res Result) {
	res.Config = cfg
	if cfg.Name == "" {
		cfg.Name = "Explore_" + cfg.Profile.Name()
	}
	defer restoreRapidFlags(saveRapidFlags())
	setRapidFlag("checks", strconv.Itoa(cfg.Checks))
	setRapidFlag("seed", strconv.FormatUint(cfg.Seed, 10))
	setRapidFlag("failfile", cfg.FailFile)
	setRapidFlag("nofailfile", strconv.FormatBool(cfg.NoFailFile))
	if cfg.ShrinkTime > 0 {
		setRapidFlag("shrinktime", cfg.ShrinkTime.String())
	}
	start := time.Now()
	var last *Failure
	prop := func(t *rapid.T) {
		o, script := drawScenario(t, cfg.Profile, cfg.Focus...)
		t.Logf("options: %s", o)
		// Nothing reads a passing scenario's trace, so exploring keeps none
		// (not even its hash); a violating one is run again with its whole
		// trace, and the minimal case is checked to run the same twice.
		w, err := RunScript("generated", strings.Join(script, "\n"), ScriptOptions{Trace: sim.TraceOff})
		if w != nil {
			res.Stats.Scenarios++
			res.Stats.Virtual += w.Sim.Now()
			res.Stats.Events += w.Sim.Steps()
			if cfg.Progress != nil {
				res.Stats.Wall = time.Since(start)
				cfg.Progress(res.Stats)
			}
		}
		if err != nil {
			var np *sim.NoProgressError
			if errors.As(err, &np) {
				t.Fatalf("no progress: %v\nscript:\n%s", np, strings.Join(script, "\n"))
			}
			t.Fatalf("scenario failed to run: %v", err)
		}
		vs := Check(w, cfg.Properties...)
		if len(vs) == 0 {
			return
		}
		if cfg.Tolerate != nil {
			full, err := RunScript("generated", strings.Join(script, "\n"), ScriptOptions{NoMessages: true})
			if err != nil {
				t.Fatalf("the scenario does not run again: %v", err)
			}
			f := &Failure{Property: vs[0].Property, Violations: vs, Options: o, Script: script,
				Actions: actionCount(script), Hash: full.Sim.TraceHash(), Trace: full.Sim.TraceText()}
			if cfg.Tolerate(f) {
				if last == nil {
					res.Stats.Tolerated++
					if cfg.Tolerated != nil {
						cfg.Tolerated(f)
					}
				}
				return
			}
		}
		last = &Failure{Property: vs[0].Property, Violations: vs, Options: o, Script: script,
			Actions: actionCount(script)}
		t.Fatalf("property %q violated:\n%s", vs[0].Property, FormatViolations(vs))
	}
	rec := &recorder{name: cfg.Name}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stopRecorder); !ok {
					panic(r)
				}
			}
		}()
		rapid.Check(rec, prop)
	}()
	res.Stats.Wall = time.Since(start)
	if !rec.failed {
		res.Stats.Checks = cfg.Checks
		return res
	}
	out := rec.log.String()
	if last == nil {
		res.Err = fmt.Errorf("exploration failed outside the oracle:\n%s", out)
		return res
	}
	// rapid replays the minimal case last, so last holds it. The minimizer
	// shrinks its script further; the result runs again keeping the whole
	// trace, and once more keeping only the hash: determinism makes them
	// the same run.
	last.RapidLog = out
	minimize := true
	if cfg.Minimize != nil {
		w, err := RunScript("generated", strings.Join(last.Script, "\n"), ScriptOptions{NoMessages: true})
		if err != nil {
			res.Err = fmt.Errorf("the failing scenario does not run again: %w", err)
			return res
		}
		last.Violations, last.Trace, last.Hash = Check(w, cfg.Properties...), w.Sim.TraceText(), w.Sim.TraceHash()
		if len(last.Violations) == 0 {
			res.Err = fmt.Errorf("the failing scenario no longer fails: the simulation is not deterministic")
			return res
		}
		minimize = cfg.Minimize(last)
		last.NotMinimized = !minimize
	}
	if minimize {
		if err := minimizeFailure(cfg, last); err != nil {
			res.Err = err
			return res
		}
	}
	hashed, err := RunScript("minimal", strings.Join(last.Script, "\n"), ScriptOptions{Trace: sim.TraceHash})
	switch {
	case err != nil:
		res.Err = fmt.Errorf("the minimal case does not run again: %w", err)
		return res
	case hashed.Sim.TraceHash() != last.Hash:
		res.Err = fmt.Errorf("the minimal case ran differently the second time (trace %s, then %s): the simulation is not deterministic", last.Hash, hashed.Sim.TraceHash())
		return res
	}
	if m := failedAfter.FindStringSubmatch(out); m != nil {
		last.Checks, _ = strconv.Atoi(m[1])
		last.Checks++
	}
	if m := regexp.MustCompile(`-rapid\.failfile="([^"]+)"`).FindStringSubmatch(out); m != nil {
		last.FailFile = m[1]
	}
	if m := regexp.MustCompile(`-rapid\.seed=(\d+)`).FindStringSubmatch(out); m != nil {
		last.Seed, _ = strconv.ParseUint(m[1], 10, 64)
	}
	last.Replay = replayCommand(cfg, last)
	res.Failure = last
	res.Stats.Checks = last.Checks
	return res
}

func replayCommand(cfg ExploreConfig, f *Failure) string {
	cmd := fmt.Sprintf("go run ./cmd/guardsim -profile=%s -property=%s", cfg.Profile.Commit.Name(), f.Property)
	if q := cfg.Profile.QuirkArgs(); q != "" {
		cmd += " -quirks='" + strings.TrimSpace(q) + "'"
	}
	if len(cfg.Focus) > 0 {
		cmd += " -focus=" + strings.Join(cfg.Focus, ",")
	}
	if f.FailFile != "" {
		return cmd + fmt.Sprintf(" -failfile=%s", f.FailFile)
	}
	// No fail file: explore the one profile for the one property from
	// rapid's seed, in one chunk and without directed searches, so the
	// exploration is this one.
	return cmd + fmt.Sprintf(" -rapidseed=%d -checks=%d -chunks=1 -directed=0", f.Seed, f.Checks)
}

// Report renders a failure for a user: what broke, how to replay it, the
// shrunk scenario, what the oracle allowed against what was seen, and the
// trace of the minimal case up to the liveness phase (the whole trace is
// Failure.Trace).
func (f *Failure) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "property %q violated under profile %s%s\n", f.Property, f.Options.Profile.Commit.Name(), f.Options.Profile.QuirkArgs())
	for _, p := range Properties {
		if p.Name == f.Property {
			fmt.Fprintf(&b, "  %s (%s)\n", p.Desc, p.Spec)
		}
	}
	fmt.Fprintf(&b, "  found after %d scenario(s); rapid seed %d; fail file %s\n", f.Checks, f.Seed, orNone(f.FailFile))
	fmt.Fprintf(&b, "  replay: %s\n", f.Replay)
	fmt.Fprintf(&b, "options: %s\n", f.Options)
	size := fmt.Sprintf("%d actions", f.Actions)
	switch {
	case f.Minimal && f.Actions > MaxReportActions:
		size += ", more than " + fmt.Sprint(MaxReportActions) + " but 1-minimal: removing any one action makes this failure go away"
	case f.Minimal:
		size += ", 1-minimal"
	case f.MinimizeRuns > 0:
		size += fmt.Sprintf(", the minimizer stopped at its budget of %d runs", MinimizeRuns)
	}
	if f.FromKept != "" {
		kind := "kept case"
		if strings.HasPrefix(f.FromKept, WitnessDir) {
			kind = "witness"
		}
		fmt.Fprintf(&b, "shrunk from the %s %s, replayed at this profile: it fails the same way in fewer actions than the swarm's %d-action scenario (the fail file replays that one)\n", kind, f.FromKept, f.SwarmActions)
	}
	fmt.Fprintf(&b, "shrunk scenario (%s; trace hash %s):\n", size, f.Hash)
	for _, l := range f.Script {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "violations (- what the oracle allowed, + what was observed):\n%s", FormatViolations(f.Violations))
	b.WriteString(f.failingExchange())
	return b.String()
}

// MaxReportActions is the size a reported case should not exceed; a larger
// one says why.
const MaxReportActions = 8

// KeptDir holds the kept failures, relative to the repository's root (where
// the main job and the tests run).
const KeptDir = "testdata/kept"

// WitnessDir holds witnesses, relative to the repository's root: short
// scenario files, named <finding>.<property>[.<what>].txt, that show a registered
// finding through a property its kept case does not show, at a commit its
// kept case does not show it at. Kept cases are what make keep searches
// for; a witness is written by hand (the swarm's own case of that failure
// minimizes to a 1-minimal case longer than MaxReportActions) and checked
// by TestWitnesses: it reproduces its hash and violation, and the finding
// explains the violation of that property at the file's profile.
const WitnessDir = "testdata/witnesses"

// startCases lists the cases a finding's failure may start minimizing
// from: its kept case, then its witnesses.
func startCases(slug string) []string {
	paths, _ := filepath.Glob(filepath.Join(WitnessDir, slug+".*.txt"))
	return append([]string{filepath.Join(KeptDir, slug+".txt")}, paths...)
}

// keptStart returns the kept case of a registered finding among the
// failure's target signatures, replayed at the failure's profile (its
// world line's profile and quirks), when that fails the same way and is
// smaller than the swarm's scenario: the minimizer then starts from a case
// already at most MaxReportActions long, where shrinking the swarm's own
// scenario can stop at a 1-minimal case of twenty actions (a runner blip's
// timing depends on every step before it) and costs hundreds of runs. A
// failure no registered finding explains starts from the swarm's scenario.
func keptStart(script []string, targets []string, fails func([]string) bool) ([]string, string, bool) {
	for _, sig := range targets {
		// A finding outside its range too: a kept case that shows it
		// here shows where the range is wrong.
		slugs, _ := SignatureFindings(sig)
		for _, slug := range slugs {
			for _, path := range startCases(slug) {
				kept, err := keptScriptAt(path, script[0])
				if err != nil || actionCount(kept) >= actionCount(script) {
					continue
				}
				if fails(kept) {
					return kept, path, true
				}
			}
		}
	}
	return nil, "", false
}

// anyKeptStart returns the first kept case or witness, in file order, that
// replayed at the script's profile fails the same way in fewer actions than
// it.
func anyKeptStart(script []string, fails func([]string) bool) ([]string, string, bool) {
	paths, _ := filepath.Glob(filepath.Join(KeptDir, "*.txt"))
	witnesses, _ := filepath.Glob(filepath.Join(WitnessDir, "*.txt"))
	for _, path := range append(paths, witnesses...) {
		kept, err := keptScriptAt(path, script[0])
		if err == nil && actionCount(kept) < actionCount(script) && fails(kept) {
			return kept, path, true
		}
	}
	return nil, "", false
}

// keptScriptAt reads a kept case's script (without comments and its
// expect lines) and gives it the world line's profile and quirks.
func keptScriptAt(path, world string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var at []string // the world's profile= and quirk= words
	for _, w := range strings.Fields(world) {
		if strings.HasPrefix(w, "profile=") || strings.HasPrefix(w, "quirk=") {
			at = append(at, w)
		}
	}
	var script []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", strings.HasPrefix(l, "#"), strings.HasPrefix(l, "expect_hash "), strings.HasPrefix(l, "expect_violation "):
			continue
		case strings.HasPrefix(l, "world "):
			words := []string{"world"}
			for _, w := range strings.Fields(l)[1:] {
				if !strings.HasPrefix(w, "profile=") && !strings.HasPrefix(w, "quirk=") {
					words = append(words, w)
				}
			}
			l = strings.Join(append(words[:1], append(at, words[1:]...)...), " ")
		}
		script = append(script, l)
	}
	if len(script) == 0 || !strings.HasPrefix(script[0], "world ") {
		return nil, fmt.Errorf("%s: no world line first", path)
	}
	return script, nil
}

// failingExchange renders the trace a reader needs: the lines exchangeLines
// keeps, so a failure that shows only once the world heals is shown where
// it happens.
func (f *Failure) failingExchange() string {
	var b strings.Builder
	b.WriteString("trace of the minimal case (after the liveness phase starts and the violations' subjects last show at a client: only the lines of the subjects and clients):\n")
	lines := strings.Split(strings.TrimSuffix(f.Trace, "\n"), "\n")
	keep := exchangeLines(lines, violationSubjects(f.Violations))
	shown, hidden := 0, 0
	for i, l := range lines {
		if l == "" {
			continue
		}
		if !keep[i] || shown >= 400 {
			hidden++
			continue
		}
		shown++
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "  (%d more lines in the full trace: replay with -v)\n", hidden)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
