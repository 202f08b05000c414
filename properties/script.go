package properties

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/runner"
	"github.com/guardsim/guardsim/sim"
)

// Scenario scripts: one command per line, in cockroachdb/datadriven's
// directive syntax (splitDirective); a line starting with '#' is a
// comment. The commands, their arguments and their documentation are one
// registry, Commands (commands.go), which checks every line before it
// runs; testdata/scenarios/README.md's reference is generated from it. A
// datadriven scenario file is a script whose commands are followed by
// ---- and their output, which RunScript skips.

// ScriptError is a malformed line or a failed expectation.
type ScriptError struct {
	File  string
	Line  int
	Msg   string
	Trace string // the world's trace so far, for failed expectations
}

func (e *ScriptError) Error() string {
	s := fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	if e.Trace != "" {
		s += "\n--- trace ---\n" + e.Trace
	}
	return s
}

// ScriptOptions change how a script runs.
type ScriptOptions struct {
	// Profile, when set, overrides the script's profile.
	Profile *model.Profile
	// NoExpect skips the script's expectations (expect, expect_runner,
	// expect_violation, expect_hash, check): for replaying a scenario
	// under another profile, where the oracle's verdict is what matters.
	NoExpect bool
	// Trace selects how much trace the world keeps (default: all of it).
	// A failed expectation prints the trace only when it is kept.
	Trace sim.TraceMode
	// MaxSteps bounds the events a run may take (0: the kernel's default);
	// beyond it a run command fails.
	MaxSteps int64
	// NoMessages: a full trace without the record of messages a picture
	// draws (the exploration's reruns read only the trace).
	NoMessages bool
}

// RunScriptFile runs the scenario script at path.
func RunScriptFile(path string, opt ScriptOptions) (*World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return RunScript(path, string(b), opt)
}

type scriptRun struct {
	file string
	line int
	opt  ScriptOptions
	w    *World
	// kinds holds the client names declared so far (with 'at' too, when
	// the line is read) and what each names.
	kinds map[string]clientKind
	// output collects what commands print (hash), for scenario files.
	output []string
	// pos and kv are args' buffers, reused line to line.
	pos []string
	kv  kvs
}

// RunScript runs a scenario script's text; file names it in errors.
func RunScript(file, text string, opt ScriptOptions) (*World, error) {
	r := newScriptRun(file, opt)
	var words []string // reused line to line: no command keeps its words
	for rest := text; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		r.line++
		if line == "----" { // a datadriven file: the output below runs to a blank line
			for rest != "" {
				line, rest, _ = strings.Cut(rest, "\n")
				r.line++
				if strings.TrimSpace(line) == "" {
					break
				}
			}
			continue
		}
		f, err := splitDirective(words[:0], line)
		words = f
		if err != nil {
			return r.w, r.errf("%v", err)
		}
		if len(f) == 0 {
			continue
		}
		if err := r.exec(f); err != nil {
			return r.w, err
		}
	}
	return r.w, nil
}

func newScriptRun(file string, opt ScriptOptions) *scriptRun {
	return &scriptRun{file: file, opt: opt, kinds: map[string]clientKind{}}
}

// scenarioOutput is a trace line as a scenario file's output shows it, if
// it does: what the clients observe, Guard's attempts, faults, where the
// engine places actors and the runners start and stop them, and the phases
// of the run; without the step column, one space between columns.
func scenarioOutput(line string) (string, bool) {
	t := parseTraceLine(line)
	switch {
	case t.node == "client", strings.HasPrefix(t.event, "fault."),
		t.event == "guard.attempt", t.event == "guard.ws_attempt", t.event == "guard.ws_target_attempt",
		t.event == "wf.allocated", t.event == "wf.deallocated", t.event == "runner.actor_started", t.event == "runner.actor_stopped",
		t.event == "world.booted", t.event == "script.noop", strings.HasPrefix(t.event, "liveness."):
	default:
		return "", false
	}
	f := strings.Fields(line[:sim.TraceHeaderWidth])
	s := f[len(f)-1] + " " + t.node + " " + t.event
	if t.rest != "" {
		s += " " + t.rest
	}
	return s, true
}

// MaxLineLength is the longest line a script may have.
const MaxLineLength = 4096

// splitDirective splits a script line as cockroachdb/datadriven parses a
// directive (datadriven.ParseLine), appending to out: the command, then
// its arguments separated by spaces, each a bare word, key=value or
// key=(value with spaces, or several, separated by commas), which comes
// back as "key=value with spaces". A line whose first non-blank character
// is '#' is a comment; '#' anywhere else is an ordinary character, so it
// never cuts a value short. A line without parentheses (every generated
// line) is split in place: its words are substrings of it.
func splitDirective(out []string, line string) ([]string, error) {
	if len(line) > MaxLineLength {
		return out, fmt.Errorf("the line is %d bytes long, more than the %d a line may be", len(line), MaxLineLength)
	}
	if strings.IndexByte(line, '\t') >= 0 {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '\t'); i >= 0 {
			return out, fmt.Errorf("a tab at column %d: separate words with spaces", i+1)
		}
	}
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return out, nil
	}
	if !utf8.ValidString(line) {
		return out, fmt.Errorf("the line is not valid UTF-8")
	}
	if strings.IndexByte(line, '(') < 0 {
		for w := range strings.SplitSeq(line, " ") {
			if w != "" {
				out = append(out, w)
			}
		}
		return checkWords(out)
	}
	rest := line
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		col := len(line) - len(rest) + 1
		end := strings.IndexAny(rest, " =")
		if end < 0 {
			out = append(out, rest)
			break
		}
		if rest[end] == ' ' || len(out) == 0 { // a bare word, or the command
			if len(out) == 0 && rest[end] == '=' {
				end = strings.IndexByte(rest, ' ')
				if end < 0 {
					end = len(rest)
				}
			}
			out = append(out, rest[:end])
			rest = rest[end:]
			continue
		}
		key, val := rest[:end], rest[end+1:]
		if !strings.HasPrefix(val, "(") {
			v, r, _ := strings.Cut(val, " ")
			out = append(out, key+"="+v)
			rest = r
			continue
		}
		depth, i := 0, 0
		for i = 0; i < len(val); i++ {
			if val[i] == '(' {
				depth++
			} else if val[i] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if depth != 0 {
			return out[:0], fmt.Errorf("column %d: %s=( has no closing parenthesis", col, key)
		}
		out = append(out, key+"="+val[1:i])
		rest = val[i+1:]
	}
	return checkWords(out)
}

// checkWords rejects an argument that datadriven cannot parse: an empty
// key (a word starting with '=').
func checkWords(words []string) ([]string, error) {
	for _, w := range words[1:] {
		if strings.HasPrefix(w, "=") {
			return words[:0], fmt.Errorf("%q: an argument needs a name before '='", w)
		}
	}
	return words, nil
}

func (r *scriptRun) errf(format string, args ...any) error {
	return &ScriptError{File: r.file, Line: r.line, Msg: fmt.Sprintf(format, args...)}
}

func (r *scriptRun) fail(format string, args ...any) error {
	e := &ScriptError{File: r.file, Line: r.line, Msg: fmt.Sprintf(format, args...)}
	if r.w != nil {
		e.Trace = r.w.Sim.TraceText()
	}
	return e
}

// kv is one key=value argument.
type kv struct{ key, val string }

// kvs are a line's key=value arguments in order; a key may repeat.
type kvs []kv

// last is the key's last value, or "".
func (a kvs) last(key string) string {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i].key == key {
			return a[i].val
		}
	}
	return ""
}

// all is every value of the key, in order.
func (a kvs) all(key string) []string {
	var vs []string
	for _, x := range a {
		if x.key == key {
			vs = append(vs, x.val)
		}
	}
	return vs
}

// has reports whether the key is given.
func (a kvs) has(key string) bool {
	for _, x := range a {
		if x.key == key {
			return true
		}
	}
	return false
}

// keys are the distinct keys, sorted.
func (a kvs) keys() []string {
	var ks []string
	for _, x := range a {
		if !slices.Contains(ks, x.key) {
			ks = append(ks, x.key)
		}
	}
	slices.Sort(ks)
	return ks
}

// args splits key=value arguments; bare words go to pos.
func args(f []string) (pos []string, kv kvs) { return argsInto(nil, nil, f) }

// argsInto is args appending to pos and kv.
func argsInto(pos []string, a kvs, f []string) ([]string, kvs) {
	for _, w := range f {
		if k, v, ok := strings.Cut(w, "="); ok {
			a = append(a, kv{k, v})
		} else {
			pos = append(pos, w)
		}
	}
	return pos, a
}

// args is args into the run's buffers: what it returns is good until the
// next call, and nothing keeps it.
func (r *scriptRun) args(f []string) ([]string, kvs) {
	r.pos, r.kv = argsInto(r.pos[:0], r.kv[:0], f)
	return r.pos, r.kv
}

func parseDur(s string) (sim.Time, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want e.g. 100ms, 1.5s)", s)
	}
	return sim.Time(d.Nanoseconds()), nil
}

func (r *scriptRun) exec(f []string) error {
	cmd := f[0]
	if cmd == "world" {
		if r.w != nil {
			return r.errf("a second world line")
		}
		if err := r.validate(f); err != nil {
			return err
		}
		return r.world(f[1:])
	}
	if _, ok := CommandByName(cmd); ok && r.w == nil {
		return r.errf("%q before the world line: expected 'world profile=... runners=...' first", cmd)
	}
	if err := r.validateLine(f); err != nil {
		return err
	}
	if cmd == "at" {
		t, _ := parseDur(f[1])
		if t < r.w.Sim.Now() {
			return r.errf("at %s is in the past (now %s)", f[1], r.w.Sim.Now())
		}
		act, err := r.action(f[2:])
		if err != nil {
			return err
		}
		r.w.Sim.At(t, act)
		return nil
	}
	if r.opt.NoExpect {
		switch cmd {
		case "expect", "expect_runner", "expect_violation", "expect_hash", "check":
			return nil
		}
	}
	switch cmd {
	case "run":
		return r.run(f[1:])
	case "expect":
		return r.expect(f[1:])
	case "expect_runner":
		return r.expectRunner(f[1:])
	case "behavior":
		return r.behavior(f[1:])
	case "latency":
		return r.latency(f[1:])
	case "liveness":
		if err := r.w.Liveness(); err != nil {
			return r.fail("liveness: %v", err)
		}
		return nil
	case "check":
		if vs := Check(r.w, f[1:]...); len(vs) > 0 {
			return r.fail("check: %d violation(s):\n%s", len(vs), FormatViolations(vs))
		}
		return nil
	case "expect_violation":
		if len(f) != 2 {
			return r.errf("expect_violation: expected 'expect_violation PROPERTY'")
		}
		if !slices.Contains(PropertyNames(), f[1]) {
			return r.errf("expect_violation: unknown property %q (want one of %s)", f[1], strings.Join(PropertyNames(), ", "))
		}
		if vs := Check(r.w, f[1]); len(vs) == 0 {
			return r.fail("expect_violation %s: the property holds", f[1])
		}
		return nil
	case "hash":
		r.output = append(r.output, r.w.Sim.TraceHash())
		return nil
	case "expect_hash":
		if len(f) != 2 {
			return r.errf("expect_hash: expected 'expect_hash HASH'")
		}
		if got := r.w.Sim.TraceHash(); got != f[1] {
			return r.fail("expect_hash: trace hash %s, want %s", got, f[1])
		}
		return nil
	}
	act, err := r.action(f)
	if err != nil {
		return err
	}
	act()
	return nil
}

// validateLine checks a line against the registry before it runs.
func (r *scriptRun) validateLine(f []string) error {
	switch f[0] {
	case "at":
		if len(f) < 3 {
			return r.errf("at: expected 'at T COMMAND ...'")
		}
		if _, err := parseDur(f[1]); err != nil {
			return r.errf("at: %v", err)
		}
		c, ok := CommandByName(f[2])
		if ok && c.Section != SectionHappen {
			return r.errf("at: %s cannot be scheduled; only the commands of %q can", f[2], SectionHappen.String())
		}
		return r.validate(f[2:])
	case "expect":
		return r.validateExpect(f)
	case "check":
		for _, p := range f[1:] {
			if !slices.Contains(PropertyNames(), p) {
				return r.errf("check: unknown property %q%s (want one of %s)", p, suggest(p, PropertyNames()), strings.Join(PropertyNames(), ", "))
			}
		}
		return nil
	}
	return r.validate(f)
}

func (r *scriptRun) world(f []string) error {
	pos, kv := args(f)
	if len(pos) > 0 {
		return r.errf("world: unexpected %q, expected key=value", pos[0])
	}
	cfg := WorldConfig{Profile: model.Seed}
	for _, k := range kv.keys() { // the first bad key reported is always the same
		v := kv.last(k)
		var err error
		switch k {
		case "profile":
			cfg.Profile, err = model.ProfileByName(v)
		case "seed":
			cfg.Seed, err = strconv.ParseUint(v, 10, 64)
		case "runners":
			for _, id := range strings.Split(v, ",") {
				cfg.Runners = append(cfg.Runners, model.RunnerID(id))
			}
		case "peers":
			cfg.Peers = strings.Split(v, ",")
		case "workflow_delay":
			cfg.WorkflowDelay, err = parseDur(v)
		case "lost_threshold":
			cfg.RunnerLostThreshold, err = parseDur(v)
		case "start_delay":
			cfg.StartDelay, err = parseDur(v)
		case "stop_delay":
			cfg.StopDelay, err = parseDur(v)
		case "quirk":
		default:
			return r.errf("world: unknown key %q (want profile, seed, runners, peers, workflow_delay, lost_threshold, start_delay, stop_delay, quirk)", k)
		}
		if err != nil {
			return r.errf("world %s: %v", k, err)
		}
	}
	if r.opt.Profile != nil {
		cfg.Profile = *r.opt.Profile
	}
	for _, q := range kv.all("quirk") {
		on := !strings.HasPrefix(q, "-")
		if err := cfg.Profile.Set(strings.TrimLeft(q, "+-"), on); err != nil {
			return r.errf("world: %v", err)
		}
	}
	if len(cfg.Runners) == 0 {
		return r.errf("world: expected runners=r1[,r2...]")
	}
	slices.Sort(cfg.Runners)
	cfg.Trace, cfg.MaxSteps, cfg.NoMessages = r.opt.Trace, r.opt.MaxSteps, r.opt.NoMessages
	r.w = NewWorld(cfg)
	return nil
}

func (r *scriptRun) runner(id string) (*runner.Runner, error) {
	rn := r.w.Runners[model.RunnerID(id)]
	if rn == nil {
		return nil, r.errf("unknown runner %q", id)
	}
	return rn, nil
}

// hosting returns the runner that currently holds the actor, if any.
func (w *World) hosting(a model.ActorID) *runner.Runner {
	for _, id := range sim.SortedKeys(w.Runners) {
		if w.Runners[id].HasActor(a) {
			return w.Runners[id]
		}
	}
	return nil
}

// action parses a command that can be scheduled with 'at'.
func (r *scriptRun) action(f []string) (func(), error) {
	pos, kv := r.args(f[1:])
	one := func(what string) (string, error) {
		if len(pos) != 1 {
			return "", r.errf("%s: expected '%s %s'", f[0], f[0], what)
		}
		return pos[0], nil
	}
	w := r.w
	switch f[0] {
	case "actor":
		a, err := one("ACTOR on=RUNNER")
		if err != nil {
			return nil, err
		}
		crash := model.CrashRestart
		switch v := kv.last("crash"); v {
		case "", "restart":
		case "sleep":
			crash = model.CrashSleep
		case "destroy":
			crash = model.CrashDestroy
		default:
			return nil, r.errf("actor: crash=%q, expected restart, sleep or destroy", v)
		}
		on := model.RunnerID(kv.last("on"))
		return func() { w.Actor(model.ActorID(a), on, crash) }, nil
	case "http", "ws":
		name, a, path := pos[0], kv.last("actor"), cmp.Or(kv.last("path"), "/")
		if f[0] == "http" {
			r.kinds[name] = httpClient
			return func() { w.HTTP(name, model.ActorID(a), path) }, nil
		}
		r.kinds[name] = wsClient
		return func() { w.WebSocket(name, model.ActorID(a), path) }, nil
	case "send":
		name, data := pos[0], pos[1]
		return func() { w.Socket(name).Send(data) }, nil
	case "close":
		name, code := pos[0], 1000
		if v := kv.last("code"); v != "" {
			if code, _ = strconv.Atoi(v); code < 0 || code > 65535 {
				return nil, r.errf("close: code=%q, expected a close code (0 to 65535)", v)
			}
		}
		reason := kv.last("reason")
		return func() { w.Socket(name).Close(uint16(code), reason) }, nil
	case "sleep", "stop", "crash":
		a, err := one("ACTOR")
		if err != nil {
			return nil, err
		}
		verb := f[0]
		return func() {
			w.NoteLifecycle(model.ActorID(a), verb)
			rn := w.hosting(model.ActorID(a))
			if rn == nil {
				w.Sim.Trace("script", "script.noop", sim.Str("cmd", verb), sim.Str("actor", a), sim.Str("why", "no runner hosts it"))
				return
			}
			switch verb {
			case "sleep":
				rn.SleepActor(model.ActorID(a))
			case "stop":
				rn.StopActor(model.ActorID(a))
			case "crash":
				rn.CrashActor(model.ActorID(a))
			}
		}, nil
	case "wake", "destroy":
		a, err := one("ACTOR")
		if err != nil {
			return nil, err
		}
		if f[0] == "wake" {
			return func() { w.NoteLifecycle(model.ActorID(a), "wake"); w.Engine.Wake(model.ActorID(a)) }, nil
		}
		return func() { w.NoteLifecycle(model.ActorID(a), "destroy"); w.Engine.Destroy(model.ActorID(a)) }, nil
	case "reschedule":
		a, err := one("ACTOR to=RUNNER")
		if err != nil {
			return nil, err
		}
		to := kv.last("to")
		if _, err := r.runner(to); err != nil {
			return nil, err
		}
		return func() {
			w.NoteLifecycle(model.ActorID(a), "reschedule")
			w.Engine.Reschedule(model.ActorID(a), model.RunnerID(to))
		}, nil
	case "disconnect", "reconnect":
		id, err := one("RUNNER")
		if err != nil {
			return nil, err
		}
		rn, err := r.runner(id)
		if err != nil {
			return nil, err
		}
		if f[0] == "disconnect" {
			return func() { w.NoteFault("disconnect " + id); rn.Disconnect() }, nil
		}
		return rn.Reconnect, nil
	case "autoreconnect":
		if len(pos) != 2 || (pos[1] != "on" && pos[1] != "off") {
			return nil, r.errf("autoreconnect: expected 'autoreconnect RUNNER on|off'")
		}
		rn, err := r.runner(pos[0])
		if err != nil {
			return nil, err
		}
		on, id := pos[1] == "on", pos[0]
		return func() {
			if !on {
				w.NoteFault("autoreconnect off " + id)
			}
			rn.SetAutoReconnect(on)
		}, nil
	case "hold", "drop", "heal":
		l, err := one("FROM->TO")
		if err != nil {
			return nil, err
		}
		from, to, ok := strings.Cut(l, "->")
		if !ok {
			return nil, r.errf("%s: expected FROM->TO, got %q", f[0], l)
		}
		n := w.Sim.Net()
		switch f[0] {
		case "hold":
			return func() { w.NoteFault("hold " + l); n.Hold(from, to) }, nil
		case "drop":
			return func() { w.NoteFault("drop " + l); n.Drop(from, to) }, nil
		}
		return func() { n.Heal(from, to) }, nil
	case "workflow_delay":
		d, err := one("DURATION")
		if err != nil {
			return nil, err
		}
		t, err := parseDur(d)
		if err != nil {
			return nil, r.errf("workflow_delay: %v", err)
		}
		return func() { w.Engine.SetWorkflowDelay(t) }, nil
	case "expire_route_cache":
		return w.Guard.ExpireRouteCache, nil
	case "peer_up", "peer_down":
		dc, err := one("DC")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(w.Cfg.Peers, dc) {
			return nil, r.errf("%s: unknown peer %q (declare it with world peers=...)", f[0], dc)
		}
		if f[0] == "peer_up" {
			return func() { w.PeerUp(dc) }, nil
		}
		return func() { w.NoteFault("peer_down " + dc); w.PeerDown(dc) }, nil
	}
	return nil, r.errf("%s: registered but not implemented (a bug in the harness)", f[0])
}

func last(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func (r *scriptRun) behavior(f []string) error {
	pos, kv := r.args(f)
	if len(pos) < 1 {
		return r.errf("behavior: expected 'behavior ACTOR [delay=D] [status=N] [header=k:v] [body=text] [throw] [hibernate] [ack_delay=D] ...'")
	}
	b := runner.Behavior{}
	for _, p := range pos[1:] {
		switch p {
		case "throw":
			b.Throw = true
		case "hibernate":
			b.CanHibernate = true
		case "ws_throw":
			b.WSThrow = true
		case "ws_handler_throw":
			b.WSHandlerThrow = true
		case "not_implemented":
			b.NotImplemented = true
		default:
			return r.errf("behavior: unexpected %q (want throw, hibernate, ws_throw, ws_handler_throw, not_implemented)", p)
		}
	}
	if v := kv.last("ack_delay"); v != "" {
		var err error
		if b.AckDelay, err = parseDur(v); err != nil {
			return r.errf("behavior: ack_delay: %v", err)
		}
	}
	var err error
	if v := kv.last("delay"); v != "" {
		if b.Delay, err = parseDur(v); err != nil {
			return r.errf("behavior: %v", err)
		}
	}
	if v := kv.last("status"); v != "" {
		if b.Status, err = strconv.Atoi(v); err != nil {
			return r.errf("behavior: status=%q is not a number", v)
		}
	}
	for _, h := range kv.all("header") {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return r.errf("behavior: header=%q, expected name:value", h)
		}
		if b.Headers == nil {
			b.Headers = model.Headers{}
		}
		b.Headers[strings.ToLower(k)] = v
	}
	b.Body = kv.last("body")
	r.w.SetBehavior(model.ActorID(pos[0]), b)
	return nil
}

func (r *scriptRun) latency(f []string) error {
	pos, kv := r.args(f)
	if len(pos) != 1 || !strings.Contains(pos[0], "->") {
		return r.errf("latency: expected 'latency FROM->TO base=D [jitter=D]'")
	}
	from, to, _ := strings.Cut(pos[0], "->")
	var lat sim.Latency
	var err error
	if lat.Base, err = parseDur(kv.last("base")); err != nil {
		return r.errf("latency: base: %v", err)
	}
	if v := kv.last("jitter"); v != "" {
		if lat.Jitter, err = parseDur(v); err != nil {
			return r.errf("latency: jitter: %v", err)
		}
	}
	r.w.Sim.Net().SetLatency(from, to, lat)
	return nil
}

func (r *scriptRun) run(f []string) error {
	_, kv := r.args(f)
	if kv.has("until") && kv.has("for") {
		return r.errf("run: until= and for= together (usage: %s)", mustCommand("run").Usage())
	}
	var err error
	switch {
	case kv.last("until") != "":
		var t sim.Time
		if t, err = parseDur(kv.last("until")); err != nil {
			return r.errf("run: %v", err)
		}
		err = r.w.Sim.RunUntil(t)
	case kv.last("for") != "":
		var d sim.Time
		if d, err = parseDur(kv.last("for")); err != nil {
			return r.errf("run: %v", err)
		}
		err = r.w.Sim.RunFor(d)
	case len(f) == 0:
		err = r.w.Sim.RunUntilQuiet()
	default:
		return r.errf("run: expected 'run', 'run until=T' or 'run for=D'")
	}
	if err != nil {
		return r.fail("run: %v", err)
	}
	return nil
}
