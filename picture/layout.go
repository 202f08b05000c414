package picture

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/guardsim/guardsim/sim"
)

// Geometry, in SVG user units (pixels). Text widths are estimated from the
// monospace fonts' advance (about 0.6 em), which is all the renderer needs:
// lanes are spaced so that the longest label between two lanes fits.
const (
	rowH      = 22         // one row per trace line
	gapH      = 34         // the extra band where virtual time jumps
	bigJump   = sim.Second // the jump that earns a band
	headH     = 34         // the sticky header with the lane names
	footH     = 40         // the lane names repeated at the bottom
	footRows  = 25         // diagrams longer than this repeat the names
	timeColW  = 104        // the virtual time column on the left
	topPad    = 8          // above the first row
	minGap    = 110        // the narrowest space between two lanes
	labelMax  = 34         // runes of an arrow's label before the ellipsis
	noteMax   = 44         // runes of a note or attempt badge
	violMax   = 90         // runes of a violation's text
	lostShort = 34         // how far short of its receiver a lost message's cross is
	loopW     = 36         // a message to its own lane
	charW11   = 6.7        // a character at 11 px
	charW10   = 6.1        // a character at 10 px
	charW13   = 8.0        // a bold character at 13 px
)

// page is a Diagram laid out: everything the template draws, with its
// coordinates and classes worked out.
type page struct {
	Title    string
	Subtitle []string
	Script   []string
	Stats    string
	Width    int // of both SVGs
	Height   int // of the body SVG
	HeadH    int
	TimeX    int // where the time labels end
	Heads    []box
	Lanes    []lane
	Rows     []row
	Gaps     []gap
	Arrows   []arrow
	Marks    []mark
}

// box is a lane's name in a rounded rectangle.
type box struct {
	X, Y, W, H int
	TX, TY     int
	Name       string
}

type lane struct {
	Name      string
	X, Y1, Y2 int
	Foot      *box
}

type row struct {
	Y, H  int // the row's band
	TY    int // the baseline of its time label
	Time  string
	Same  bool // the same virtual time as the row before
	Line  string
	Width int
	TimeX int
}

type gap struct {
	Y, H, W int
	TX, TY  int
	Text    string
	Breaks  []string // a zigzag across each lifeline
}

type arrow struct {
	From, To           string
	SentStep, RecvStep int
	Lost               bool
	Class              string
	Title              string
	D                  string // the shaft
	Head               string // the arrowhead's points, or the cross's path when lost
	Label              string
	LX, LY             int
	Anchor             string
	Rotate             string // the label's transform, if it is not level
}

type mark struct {
	Kind  string
	Node  string
	Step  int
	Class string
	Title string
	Paths []shape
	Rects []shape
	Texts []label
}

type shape struct {
	Class      string
	D          string // paths
	X, Y, W, H int    // rects
}

type label struct {
	Class  string
	X, Y   int
	Anchor string
	Text   string
}

// layout is the state of laying a diagram out: where the lanes and rows
// are, and what has been placed so far.
type layout struct {
	rows   []Row
	index  map[string]int // lane by node
	xs     []int          // each lane's x
	ys     []int          // each row's middle
	right  int            // the rightmost thing drawn so far
	labels []placed       // arrow labels placed so far
	spans  []span         // backoffs placed so far
	free   map[spot]int   // where the next badge on a lane's row may start
}

type span struct{ lane, y1, y2, level int }

type spot struct{ lane, y int }

// lay works out a page from a diagram. It only reads d.
func lay(d *Diagram) *page {
	p := &page{
		Title:    d.Title,
		Subtitle: d.Subtitle,
		Script:   d.Script,
		HeadH:    headH,
		TimeX:    timeColW - 12,
	}
	if p.Title == "" {
		p.Title = "sequence diagram"
	}
	l := &layout{rows: d.Rows, free: make(map[spot]int)}
	if len(l.rows) == 0 {
		l.rows = impliedRows(d)
	}
	names, index := lanesOf(d)
	l.index = index
	headW := l.spaceLanes(d, names)
	tops, bottom := l.placeRows(p)

	for _, m := range d.Messages {
		p.Arrows = append(p.Arrows, l.arrow(m))
	}
	for _, mk := range d.Marks {
		if mk.Kind == Violation { // its dot is on the lane
			l.free[spot{index[mk.Node], l.rowOf(mk.Step)}] = l.xs[index[mk.Node]] + 12
		}
	}
	for _, mk := range d.Marks {
		p.Marks = append(p.Marks, l.mark(mk))
	}

	width := l.right + 16
	p.Width, p.Height = width, bottom+topPad
	if len(l.rows) > footRows {
		p.Height = bottom + footH
	}
	for i := range p.Marks {
		for j, s := range p.Marks[i].Paths {
			if s.Class == "vline" { // across the whole diagram
				p.Marks[i].Paths[j].D += fmt.Sprintf("H%d", width)
			}
		}
	}
	for i, r := range l.rows {
		p.Rows = append(p.Rows, row{
			Y: tops[i], H: rowH, TY: l.ys[i] + 4, Width: width, TimeX: timeColW - 12,
			Time: r.At.String(), Same: i > 0 && r.At == l.rows[i-1].At, Line: r.Line,
		})
	}
	for i := range p.Gaps {
		g := &p.Gaps[i]
		g.W, g.TX, g.TY = width, 8, g.Y+g.H/2+4
		for _, x := range l.xs {
			g.Breaks = append(g.Breaks, fmt.Sprintf("M%d %d l6 %d l-12 %d l6 %d", x, g.Y, g.H/3, g.H/3, g.H-2*(g.H/3)))
		}
	}
	for i, name := range names {
		ln := lane{Name: name, X: l.xs[i], Y1: 0, Y2: bottom}
		if len(l.rows) > footRows {
			b := nameBox(name, l.xs[i], bottom+8, headW[i])
			ln.Foot = &b
		}
		p.Lanes = append(p.Lanes, ln)
		p.Heads = append(p.Heads, nameBox(name, l.xs[i], 5, headW[i]))
	}
	p.Stats = stats(d, l.rows, len(names))
	return p
}

// spaceLanes sets each lane's x, spacing the lanes wide enough for their
// names and every label between them, and returns the names' widths.
func (l *layout) spaceLanes(d *Diagram, names []string) (headW []int) {
	n := len(names)
	headW = make([]int, n)
	for i, name := range names {
		headW[i] = max(int(float64(utf8.RuneCountInString(name))*charW13)+20, 64)
	}
	gaps := make([]int, max(n-1, 0))
	for i := range gaps {
		gaps[i] = max(minGap, (headW[i]+headW[i+1])/2+14)
	}
	need := func(a, b, w int) {
		a, b = min(a, b), max(a, b)
		sum := 0
		for i := a; i < b; i++ {
			sum += gaps[i]
		}
		if deficit := w - sum; deficit > 0 {
			span := b - a
			for i := a; i < b; i++ {
				gaps[i] += (deficit + span - 1) / span
			}
		}
	}
	// Single-gap needs first, so wider spans only add what they still lack.
	for pass := 0; pass < 2; pass++ {
		for _, m := range d.Messages {
			a, b := l.index[m.From], l.index[m.To]
			if a == b || (abs(a-b) == 1) != (pass == 0) {
				continue
			}
			w := textW(truncate(m.Label, labelMax), charW11) + 30
			if m.Lost {
				w += lostShort
			}
			need(a, b, w)
		}
	}
	l.xs = make([]int, n)
	for i := range l.xs {
		if i == 0 {
			l.xs[i] = timeColW + headW[0]/2 + 14
		} else {
			l.xs[i] = l.xs[i-1] + gaps[i-1]
		}
	}
	l.right = timeColW + 40
	if n > 0 {
		l.right = l.xs[n-1] + max(headW[n-1]/2, 50)
	}
	return headW
}

// placeRows sets each row's middle, adding a band to p wherever virtual
// time jumps, and returns each row's top and the bottom of the last.
func (l *layout) placeRows(p *page) (tops []int, bottom int) {
	l.ys = make([]int, len(l.rows))
	tops = make([]int, len(l.rows))
	y := topPad
	for i, r := range l.rows {
		if i > 0 && r.At-l.rows[i-1].At >= bigJump {
			p.Gaps = append(p.Gaps, gap{Y: y + 4, H: gapH - 8, Text: "⋯ " + jump(r.At-l.rows[i-1].At) + " later"})
			y += gapH
		}
		tops[i] = y
		l.ys[i] = y + rowH/2
		y += rowH
	}
	return tops, y
}

// rowOf is the middle of the row of a step: its own, else the next one
// after it, else the last.
func (l *layout) rowOf(step int) int {
	if len(l.rows) == 0 {
		return topPad
	}
	i := sort.Search(len(l.rows), func(i int) bool { return l.rows[i].Step >= step })
	return l.ys[min(i, len(l.rows)-1)]
}

func (l *layout) extend(x int) { l.right = max(l.right, x) }

func (l *layout) arrow(m Message) arrow {
	a, b := l.index[m.From], l.index[m.To]
	x1, y1 := l.xs[a], l.rowOf(m.SentStep)
	x2, y2 := l.xs[b], l.rowOf(m.RecvStep)
	ar := arrow{
		From: m.From, To: m.To, SentStep: m.SentStep, RecvStep: m.RecvStep, Lost: m.Lost,
		Class: "msg f-" + family(m.Label),
		Label: truncate(m.Label, labelMax),
		Title: title(m.Label, m.Line),
	}
	if m.Lost {
		ar.Class += " lost"
	}
	lw := textW(ar.Label, charW11)
	if a == b { // a loop out to the right and back
		x3 := x1 + loopW
		ar.D = fmt.Sprintf("M%d %d H%d V%d H%d", x1, y1, x3, y2, x1+2)
		if m.Lost {
			ar.D = fmt.Sprintf("M%d %d H%d V%d", x1, y1, x3, y2)
			ar.Head = cross(x3, y2)
		} else {
			ar.Head = head(float64(x3), float64(y2), float64(x1), float64(y2))
		}
		ar.LX, ar.LY, ar.Anchor = x3+6, y2+4, "start"
		l.extend(x3 + 6 + lw)
		return ar
	}
	dir := 1
	if b < a {
		dir = -1
	}
	end := x2
	if m.Lost {
		end = x2 - dir*lostShort
	}
	ar.D = fmt.Sprintf("M%d %d L%d %d", x1, y1, end, y2)
	if m.Lost {
		ar.Head = cross(end, y2)
	} else {
		ar.Head = head(float64(x1), float64(y1), float64(x2), float64(y2))
	}
	// The label ends near the head. It runs along the arrow, just above
	// it, unless the arrow is steep or the label would run into one placed
	// before (a fan of arrows from one row): then it is level, above the
	// head, where each row has its own.
	ar.Anchor = "end"
	if dir < 0 {
		ar.Anchor = "start"
	}
	dx, dy := float64(end-x1), float64(y2-y1)
	ex, ey := float64(end), float64(y2)
	if n := math.Hypot(dx, dy); n > 0 {
		ex, ey = ex-dx/n*12, ey-dy/n*12
	}
	deg := math.Atan2(dy*float64(dir), dx*float64(dir)) * 180 / math.Pi
	along := placed{xa: ex, y0: ey - 4, slope: dy / dx, x0: ex - float64(lw), x1: ex}
	if dir < 0 {
		along.x0, along.x1 = ex, ex+float64(lw)
	}
	if math.Abs(deg) <= 35 && !along.hits(l.labels) {
		ar.LX, ar.LY = int(math.Round(ex)), int(math.Round(ey))-4
		if deg != 0 {
			ar.Rotate = fmt.Sprintf("rotate(%.2f %.1f %.1f)", deg, ex, ey)
		}
		l.labels = append(l.labels, along)
		return ar
	}
	ar.LX, ar.LY = end-dir*12, y2-5
	level := placed{xa: float64(ar.LX), y0: float64(ar.LY), x0: float64(ar.LX - lw), x1: float64(ar.LX)}
	if dir < 0 {
		level.x0, level.x1 = float64(ar.LX), float64(ar.LX+lw)
	}
	l.labels = append(l.labels, level)
	return ar
}

func (l *layout) mark(mk Mark) mark {
	ln := l.index[mk.Node]
	x, yc := l.xs[ln], l.rowOf(mk.Step)
	m := mark{
		Kind: mk.Kind.String(), Node: mk.Node, Step: mk.Step,
		Class: "mark m-" + mk.Kind.String(),
		Title: title(mk.Text, mk.Line),
	}
	switch mk.Kind {
	case Backoff:
		y1, y2 := yc, l.rowOf(mk.EndStep)
		y1, y2 = min(y1, y2), max(y1, y2)
		// Overlapping backoffs on one lane nest outwards.
		level := 0
		for _, o := range l.spans {
			if o.lane == ln && o.y1 <= y2 && y1 <= o.y2 {
				level = max(level, o.level+1)
			}
		}
		l.spans = append(l.spans, span{ln, y1, y2, level})
		bx := x - 9 - 10*level
		m.Rects = append(m.Rects, shape{Class: "span", X: bx - 3, Y: y1 - 3, W: 6, H: y2 - y1 + 6})
		m.Paths = append(m.Paths, shape{Class: "bracket", D: fmt.Sprintf("M%d %d H%d V%d H%d", bx+5, y1, bx, y2, bx+5)})
		m.Texts = append(m.Texts, label{Class: "bl", X: bx - 6, Y: (y1+y2)/2 + 4, Anchor: "end", Text: truncate(mk.Text, noteMax)})
	case Fault:
		class := "bolt"
		if strings.Contains(strings.ToLower(mk.Text), "heal") {
			class = "bolt heal"
			m.Class += " heal"
		}
		mx := x + 18
		if t, ok := l.index[mk.To]; ok && t != ln {
			mx = (x + l.xs[t]) / 2
			m.Paths = append(m.Paths, shape{Class: "link", D: fmt.Sprintf("M%d %d H%d", x, yc, l.xs[t])})
		}
		m.Paths = append(m.Paths, shape{Class: class, D: fmt.Sprintf("M%d %d L%d %d L%d %d L%d %d L%d %d L%d %d Z",
			mx-1, yc-10, mx+6, yc-10, mx+2, yc-2, mx+6, yc-2, mx-4, yc+10, mx-1, yc+1)})
		txt := truncate(mk.Text, noteMax)
		m.Texts = append(m.Texts, label{Class: "fl", X: mx + 9, Y: yc + 4, Anchor: "start", Text: txt})
		l.extend(mx + 9 + textW(txt, charW11))
	case Violation:
		txt := truncate(mk.Text, violMax)
		w := textW(txt, 11*0.62) + 14
		m.Paths = append(m.Paths,
			shape{Class: "vline", D: fmt.Sprintf("M%d %d ", timeColW, yc)}, // lay ends it at the page's width
			shape{Class: "dot", D: fmt.Sprintf("M%d %d a9 9 0 1 0 18 0 a9 9 0 1 0 -18 0 Z", x-9, yc)},
		)
		m.Texts = append(m.Texts, label{Class: "bang", X: x, Y: yc + 4, Anchor: "middle", Text: "!"})
		at := spot{ln, yc}
		bx := max(x+14, l.free[at])
		// Far right and alone on its row, the text goes left of the lane.
		if lastX := l.xs[len(l.xs)-1]; bx+w > lastX+120 && x-14-w > timeColW && l.free[at] <= x+12 {
			bx = x - 14 - w
		}
		l.free[at] = max(l.free[at], bx+w+6)
		m.Rects = append(m.Rects, shape{Class: "vbox", X: bx, Y: yc - 9, W: w, H: 18})
		m.Texts = append(m.Texts, label{Class: "vt", X: bx + 7, Y: yc + 4, Anchor: "start", Text: txt})
		l.extend(bx + w)
	default: // Note, Attempt and anything new: a badge beside the lane
		txt := truncate(mk.Text, noteMax)
		w := textW(txt, charW10) + 10
		class := "note"
		if mk.Kind == Attempt {
			class = "badge " + attemptClass(mk.Text)
		}
		at := spot{ln, yc}
		bx := max(x+5, l.free[at])
		l.free[at] = bx + w + 6
		m.Rects = append(m.Rects, shape{Class: class, X: bx, Y: yc - 8, W: w, H: 16})
		m.Texts = append(m.Texts, label{Class: "nt", X: bx + 5, Y: yc + 4, Anchor: "start", Text: txt})
		l.extend(bx + w)
	}
	return m
}

// placed is a label's baseline: y0 at x = xa, rising by slope per unit of
// x, from x0 to x1.
type placed struct {
	xa, y0, slope, x0, x1 float64
}

func (p placed) at(x float64) float64 { return p.y0 + (x-p.xa)*p.slope }

// hits reports whether p runs into any of the labels: their spans overlap
// and their baselines come within a line's height of each other.
func (p placed) hits(labels []placed) bool {
	const clear = 13
	for _, q := range labels {
		a, b := max(p.x0, q.x0), min(p.x1, q.x1)
		if a >= b {
			continue
		}
		da, db := p.at(a)-q.at(a), p.at(b)-q.at(b)
		if math.Abs(da) < clear || math.Abs(db) < clear || (da < 0) != (db < 0) {
			return true
		}
	}
	return false
}

// lanesOf returns the lanes in order with each one's index: d.Lanes, then
// any node a message or mark names that d.Lanes lacks, in order of first
// mention, so that nothing is dropped.
func lanesOf(d *Diagram) ([]string, map[string]int) {
	index := make(map[string]int)
	var names []string
	add := func(s string) {
		if _, ok := index[s]; !ok {
			index[s] = len(names)
			names = append(names, s)
		}
	}
	for _, s := range d.Lanes {
		add(s)
	}
	for _, m := range d.Messages {
		add(m.From)
		add(m.To)
	}
	for _, m := range d.Marks {
		add(m.Node)
	}
	return names, index
}

// impliedRows stands in for a diagram without rows: one row per step its
// messages and marks name, at the time they name.
func impliedRows(d *Diagram) []Row {
	at := make(map[int]sim.Time)
	put := func(step int, t sim.Time) {
		if old, ok := at[step]; !ok || t < old {
			at[step] = t
		}
	}
	for _, m := range d.Messages {
		put(m.SentStep, m.Sent)
		put(m.RecvStep, m.Recv)
	}
	for _, m := range d.Marks {
		put(m.Step, m.At)
		if m.Kind == Backoff {
			put(m.EndStep, m.At)
		}
	}
	rows := make([]Row, 0, len(at))
	for s, t := range at {
		rows = append(rows, Row{Step: s, At: t})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Step < rows[j].Step })
	return rows
}

func nameBox(name string, x, y, w int) box {
	return box{X: x - w/2, Y: y, W: w, H: 24, TX: x, TY: y + 16, Name: name}
}

// family sorts a message into the colour it is drawn in, by its label.
func family(label string) string {
	switch {
	case strings.Contains(label, "TunnelAck"):
		return "ack"
	case strings.Contains(label, "WebSocket"), strings.Contains(label, "WS"):
		return "ws"
	case strings.Contains(label, "Request"), strings.Contains(label, "Response"), strings.Contains(label, "HTTP"):
		return "http"
	case strings.HasPrefix(label, "Publish"), strings.HasPrefix(label, "Delivery"),
		strings.HasPrefix(label, "Hello"), strings.HasPrefix(label, "Subscribe"), strings.HasPrefix(label, "Unsubscribe"):
		return "pubsub"
	}
	return "engine"
}

// attemptClass colours an attempt's badge by its result.
func attemptClass(text string) string {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "retry"):
		return "retry"
	case strings.Contains(t, "→ 2"), strings.Contains(t, "connected"), strings.Contains(t, "ok"):
		return "ok"
	}
	return "fail"
}

// head is an arrowhead at (x2, y2) pointing away from (x1, y1).
func head(x1, y1, x2, y2 float64) string {
	dx, dy := x2-x1, y2-y1
	l := math.Hypot(dx, dy)
	if l == 0 {
		return ""
	}
	ux, uy := dx/l, dy/l
	const ln, hw = 9, 4
	bx, by := x2-ux*ln, y2-uy*ln
	return fmt.Sprintf("%.1f,%.1f %.1f,%.1f %.1f,%.1f", x2, y2, bx-uy*hw, by+ux*hw, bx+uy*hw, by-ux*hw)
}

// cross is a ✕ centred on (x, y).
func cross(x, y int) string {
	return fmt.Sprintf("M%d %d l10 10 M%d %d l10 -10", x-5, y-5, x-5, y+5)
}

// truncate shortens s to at most n runes, ending in an ellipsis if cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func textW(s string, perChar float64) int {
	return int(float64(utf8.RuneCountInString(s))*perChar + 0.5)
}

// title is the hover text: the label and, when it says more, the trace line.
func title(text, line string) string {
	switch {
	case line == "":
		return text
	case text == "" || strings.Contains(line, text):
		return line
	}
	return text + "\n" + line
}

// jump renders a stretch of virtual time for a gap band.
func jump(t sim.Time) string {
	if t >= sim.Minute {
		return fmt.Sprintf("%.1f s", float64(t)/float64(sim.Second))
	}
	return fmt.Sprintf("%.3f s", float64(t)/float64(sim.Second))
}

func stats(d *Diagram, rows []Row, lanes int) string {
	lost := 0
	for _, m := range d.Messages {
		if m.Lost {
			lost++
		}
	}
	s := fmt.Sprintf("%d lanes · %d rows · %d messages (%d lost) · %d marks", lanes, len(rows), len(d.Messages), lost, len(d.Marks))
	if len(rows) > 0 {
		s += fmt.Sprintf(" · virtual %s – %s", rows[0].At, rows[len(rows)-1].At)
	}
	return s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
