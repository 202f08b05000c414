package properties

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/picture"
	"github.com/guardsim/guardsim/properties/oracle"
	"github.com/guardsim/guardsim/sim"
)

// Picture draws w's run as a sequence diagram (see package picture). It
// needs a world that kept its whole trace, which also keeps the network's
// message record (NewWorld turns it on with TraceFull). The rows are the
// failing exchange of the report (exchangeLines); a message is drawn when
// its delivery (or the line that lost it) is one of them.
func Picture(w *World, title string, subtitle, script []string, vs []oracle.Violation) (*picture.Diagram, error) {
	lines := w.Sim.TraceLines()
	if len(lines) == 0 {
		return nil, fmt.Errorf("the world kept no trace: a picture needs one run with the whole trace")
	}
	d := &picture.Diagram{Title: title, Subtitle: subtitle, Script: script}
	keep := exchangeLines(lines, violationSubjects(vs))
	rows := map[int]bool{}
	lanes := map[string]bool{}
	parsed := make([]traceLine, len(lines))
	for i, l := range lines {
		parsed[i] = parseTraceLine(l)
	}

	for _, m := range w.Sim.Net().MessageRecords() {
		sent := max(m.SentLine-1, 0)
		recv := m.RecvLine
		if m.State != sim.Delivered {
			recv = max(m.RecvLine-1, 0) // the line that lost it
			if m.State == sim.InFlight {
				recv = len(lines) - 1
			}
		}
		if recv >= len(lines) || !keep[recv] {
			continue
		}
		dm := picture.Message{From: m.From, To: m.To, Conn: m.Conn, SentStep: sent, Sent: m.Sent,
			RecvStep: recv, Recv: m.Recv, Label: renderMsg(m.Msg), Line: lines[recv], Lost: m.State != sim.Delivered}
		if m.State == sim.InFlight {
			dm.Recv = parsed[recv].at
			dm.Label += " (still in flight at the end)"
			dm.Line = "never delivered: still on the wire, or held, when the run ended"
		} else if m.State == sim.Lost {
			dm.Line = "lost after: " + lines[recv]
		}
		d.Messages = append(d.Messages, dm)
		rows[sent], rows[recv] = true, true
		lanes[m.From], lanes[m.To] = true, true
	}

	// Marks: every kept line that is not a delivery or the network's own
	// bookkeeping. Guard's attempts and the faults get their own kinds; a
	// backoff spans from an attempt that retries to the next line of the
	// same ray.
	retrying := map[string]int{} // ray -> the step of its attempt that retries
	for i, t := range parsed {
		if !keep[i] || t.node == "" || t.event == "recv" || strings.HasPrefix(t.event, "net.") {
			continue
		}
		node := t.node
		if node == "world" {
			if t.event != "liveness.start" {
				continue
			}
			node = "client"
		}
		mk := picture.Mark{Kind: picture.Note, Node: node, Step: i, EndStep: i, At: t.at, Text: t.summary(), Line: lines[i]}
		switch {
		case strings.HasPrefix(t.event, "fault."):
			mk.Kind, mk.To, mk.Text = picture.Fault, t.kv("to"), strings.TrimPrefix(t.event, "fault.")
			lanes[mk.To] = true
		case t.event == "guard.attempt" || t.event == "guard.ws_attempt" || t.event == "guard.ws_target_attempt":
			mk.Kind = picture.Attempt
			mk.Text = "attempt " + t.kv("n") + ": " + cmp.Or(t.kv("result"), "?")
			if t.kv("retry") == "true" {
				mk.Text += " (retry)"
				retrying[t.kv("ray")] = i
			}
		}
		if ray := t.kv("ray"); ray != "" && mk.Kind != picture.Attempt {
			if from, ok := retrying[ray]; ok {
				delete(retrying, ray)
				d.Marks = append(d.Marks, picture.Mark{Kind: picture.Backoff, Node: node, Step: from, EndStep: i, At: parsed[from].at,
					Text: "backoff and resolution: " + dur(t.at-parsed[from].at), Line: lines[from] + "\n" + lines[i]})
			}
		}
		d.Marks = append(d.Marks, mk)
		rows[i] = true
		lanes[node] = true
	}

	// A violation is marked at the last client line of its subject, or at
	// the end.
	for _, v := range vs {
		at := -1
		for i := len(parsed) - 1; i >= 0 && at < 0; i-- {
			if keep[i] && parsed[i].node == "client" && slices.Contains(violationSubjects([]oracle.Violation{v}), parsed[i].kv("name")) {
				at = i
			}
		}
		if at < 0 {
			at = len(lines) - 1
		}
		d.Marks = append(d.Marks, picture.Mark{Kind: picture.Violation, Node: "client", Step: at, EndStep: at, At: parsed[at].at,
			Text: v.String(), Line: lines[at]})
		rows[at] = true
		lanes["client"] = true
	}
	slices.SortStableFunc(d.Marks, func(a, b picture.Mark) int { return cmp.Compare(a.Step, b.Step) })

	for _, i := range sim.SortedKeys(rows) {
		d.Rows = append(d.Rows, picture.Row{Step: i, At: parsed[i].at, Line: lines[i]})
	}
	delete(lanes, "world")
	d.Lanes = laneOrder(sim.SortedKeys(lanes))
	return d, nil
}

// laneOrder orders nodes as the request flows: the client, Guard and its
// peers, pub/sub, the engine, then the runners.
func laneOrder(nodes []string) []string {
	rank := func(n string) int {
		switch {
		case n == "client":
			return 0
		case n == "guard":
			return 1
		case strings.HasPrefix(n, "guard-"):
			return 2
		case n == "ups":
			return 3
		case n == "engine":
			return 4
		}
		return 5
	}
	slices.SortStableFunc(nodes, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		// r2 before r10
		if len(a) != len(b) {
			return cmp.Compare(len(a), len(b))
		}
		return cmp.Compare(a, b)
	})
	return nodes
}

// violationSubjects are the names a violation's subject mentions (a
// client operation, or several).
func violationSubjects(vs []oracle.Violation) []string {
	var subjects []string
	for _, v := range vs {
		for _, w := range strings.FieldsFunc(v.Subject, func(r rune) bool { return r == ' ' || r == ',' || r == '/' }) {
			if !slices.Contains(subjects, w) {
				subjects = append(subjects, w)
			}
		}
	}
	return subjects
}

// exchangeLines says which trace lines the failing exchange shows: every
// line up to the liveness phase or, if later, up to the last client line
// of a violation's subject (so an exchange that the healing completes,
// such as a held message delivered late, is shown whole), then only the
// lines of the liveness phase, of the clients and of the subjects.
func exchangeLines(lines []string, subjects []string) []bool {
	mentions := func(l string) bool {
		for _, s := range subjects {
			if strings.Contains(l, "="+s+" ") || strings.HasSuffix(l, "="+s) {
				return true
			}
		}
		return false
	}
	cut := len(lines) - 1
	for i, l := range lines {
		if strings.Contains(l, "liveness.start") {
			cut = i
			break
		}
	}
	for i := len(lines) - 1; i > cut; i-- {
		if strings.Contains(lines[i], " client.") && mentions(lines[i]) {
			cut = i
			break
		}
	}
	keep := make([]bool, len(lines))
	for i, l := range lines {
		keep[i] = i <= cut || strings.Contains(l, "liveness.") || strings.Contains(l, " client.") || mentions(l)
	}
	return keep
}

// renderMsg is a message as the trace prints it.
func renderMsg(msg any) string {
	if v, ok := msg.(sim.Value); ok {
		return sim.Render(v)
	}
	return fmt.Sprint(msg)
}

// traceLine is a trace line's parts.
type traceLine struct {
	at          sim.Time
	node, event string
	rest        string // the fields, as printed
}

// parseTraceLine splits "STEP TIMEs NODE EVENT k=v ..." (sim's header).
func parseTraceLine(l string) traceLine {
	f := strings.Fields(l)
	if len(f) < 4 {
		return traceLine{}
	}
	secs, _ := strconv.ParseFloat(strings.TrimSuffix(f[1], "s"), 64)
	t := traceLine{at: sim.Time(secs*1e6+0.5) * sim.Microsecond, node: f[2], event: f[3]}
	if i := strings.Index(l, " "+f[3]); i >= 0 {
		t.rest = strings.TrimSpace(l[i+1+len(f[3]):])
	}
	return t
}

// kv is the value of the field key (unquoted), or "".
func (t traceLine) kv(key string) string {
	rest := t.rest
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return ""
		}
		k, v := rest[:eq], rest[eq+1:]
		var val string
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				return ""
			}
			val, _ = strconv.Unquote(q)
			rest = v[len(q):]
		} else {
			end := strings.IndexByte(v, ' ')
			if end < 0 {
				end = len(v)
			}
			val, rest = v[:end], v[end:]
		}
		if k == key {
			return val
		}
	}
	return ""
}

// summary is a mark's label: the event without its node's prefix, and the
// fields.
func (t traceLine) summary() string {
	ev := t.event
	if i := strings.IndexByte(ev, '.'); i >= 0 {
		ev = ev[i+1:]
	}
	return strings.TrimSpace(ev + " " + t.rest)
}

// Picture runs the failure's shrunk case again, keeping its whole trace,
// and draws it: the title names the property, the profile and the
// findings that explain it; the subtitle says what was violated, how it
// was found and how to replay it.
func (f *Failure) Picture() (*picture.Diagram, error) {
	w, err := RunScript("minimal", strings.Join(f.Script, "\n"), ScriptOptions{NoExpect: true})
	if err != nil {
		return nil, fmt.Errorf("the shrunk case does not run again: %w", err)
	}
	title := fmt.Sprintf("%s violated at profile %s", f.Property, f.Options.Profile.Commit.Name())
	var explained []string
	for _, k := range Findings {
		for _, v := range f.Violations {
			if k.Explains(f, v.Property) && !slices.Contains(explained, k.Slug) {
				explained = append(explained, k.Slug)
			}
		}
	}
	if len(explained) > 0 {
		title += ": finding " + strings.Join(explained, ", ")
	} else {
		title += ": no registered finding explains it"
	}
	var sub []string
	for _, v := range f.Violations {
		sub = append(sub, v.String())
	}
	sub = append(sub, fmt.Sprintf("found after %d scenario(s); rapid seed %d; %d actions; trace hash %s", f.Checks, f.Seed, f.Actions, f.Hash))
	if f.Replay != "" {
		sub = append(sub, "replay: "+f.Replay)
	}
	return Picture(w, title, sub, f.Script, f.Violations)
}

// WritePicture draws the failure (Picture) as an HTML page at path.
func (f *Failure) WritePicture(path string) error {
	d, err := f.Picture()
	if err != nil {
		return err
	}
	return writeHTML(path, d)
}

func writeHTML(path string, d *picture.Diagram) error {
	var b bytes.Buffer
	if err := picture.WriteHTML(&b, d); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// WriteScenarioPicture runs a scenario file and draws it as an HTML page
// at path (guardsim -replay=F -html=P): the oracle's violations, if any,
// are marked.
func WriteScenarioPicture(file string, opt ScriptOptions, path string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return writeScriptPicture(file, string(text), opt, file, nil, path)
}

// WriteScriptPicture runs a script (a shrunk case) with its expectations
// skipped and draws it as an HTML page at path, under the title, with the
// subtitle lines first and then the oracle's violations.
func WriteScriptPicture(script []string, title string, subtitle []string, path string) error {
	return writeScriptPicture("case", strings.Join(script, "\n"), ScriptOptions{NoExpect: true}, title, subtitle, path)
}

func writeScriptPicture(file, text string, opt ScriptOptions, title string, subtitle []string, path string) error {
	opt.Trace = sim.TraceFull
	w, err := RunScript(file, text, opt)
	if err != nil {
		return err
	}
	vs := Check(w)
	sub := append(slices.Clone(subtitle), fmt.Sprintf("profile %s, trace hash %s", w.Cfg.Profile.Name(), w.Sim.TraceHash()))
	for _, v := range vs {
		sub = append(sub, v.String())
	}
	if len(vs) == 0 {
		sub = append(sub, "every property holds")
	}
	d, err := Picture(w, title, sub, scriptLines(text), vs)
	if err != nil {
		return err
	}
	return writeHTML(path, d)
}

// scriptLines are a scenario's commands, without comments and datadriven
// output blocks.
func scriptLines(text string) []string {
	var out []string
	skip := false
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case t == "----":
			skip = true
		case t == "":
			skip = false
		case !skip && !strings.HasPrefix(t, "#"):
			out = append(out, t)
		}
	}
	return out
}
