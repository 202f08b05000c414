package picture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/sim"
)

func render(t *testing.T, d *Diagram) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, d))
	return b.String()
}

// small is a diagram with every kind of thing drawn once or twice.
func small() *Diagram {
	ms := sim.Millisecond
	return &Diagram{
		Title:    "stale_route at profile seed",
		Subtitle: []string{"stale_route: r1: a request failed", "seed 7", "replay: go run ./cmd/guardsim -seed=7"},
		Script:   []string{"world seed=7", "actor a1 on=r1", "http h1 actor=a1"},
		Lanes:    []string{"client", "guard", "ups", "engine", "r1"},
		Rows: []Row{
			{Step: 0, At: 0, Line: "000000 0.000000s client client.http name=h1"},
			{Step: 1, At: 1 * ms, Line: "000001 0.001000s engine recv from=guard msg=GetForGateway{#1 a1}"},
			{Step: 2, At: 2 * ms, Line: "000002 0.002000s guard recv from=engine msg=ActorKeys{#1}"},
			{Step: 3, At: 3 * ms, Line: "000003 0.003000s ups recv from=guard msg=Publish{runner.r1 RequestStart{rq1}}"},
			{Step: 4, At: 4 * ms, Line: "000004 0.004000s guard guard.attempt n=1 result=503 retry=true"},
			{Step: 5, At: 2 * sim.Second, Line: "000005 2.004000s guard guard.route call=2"},
			{Step: 6, At: 2*sim.Second + ms, Line: "000006 2.005000s world violation"},
		},
		Messages: []Message{
			{From: "guard", To: "engine", SentStep: 0, RecvStep: 1, Label: "GetForGateway{#1 a1}"},
			{From: "engine", To: "guard", SentStep: 1, RecvStep: 2, Label: "ActorKeys{#1}"},
			{From: "guard", To: "ups", SentStep: 2, RecvStep: 3, Label: "Publish{runner.r1 RequestStart{rq1}}"},
			{From: "ups", To: "engine", SentStep: 3, RecvStep: 4, Label: "Delivery{runner.r1 RequestStart{rq1}}", Lost: true},
		},
		Marks: []Mark{
			{Kind: Note, Node: "client", Step: 0, Text: "http h1"},
			{Kind: Attempt, Node: "guard", Step: 4, Text: "attempt 1 → 503 retry"},
			{Kind: Backoff, Node: "guard", Step: 4, EndStep: 5, Text: "backoff 2s"},
			{Kind: Fault, Node: "ups", To: "engine", Step: 3, Text: "drop"},
			{Kind: Violation, Node: "client", Step: 6, Text: "stale_route: r1: a request failed"},
		},
	}
}

var (
	laneRe  = regexp.MustCompile(`data-lane="([^"]*)"`)
	arrowRe = regexp.MustCompile(`data-arrow="" data-from="([^"]*)" data-to="([^"]*)" data-sent-step="(-?\d+)" data-recv-step="(-?\d+)" data-lost="(true|false)"`)
	markRe  = regexp.MustCompile(`data-mark="([^"]*)" data-node="([^"]*)" data-step="(-?\d+)"`)
)

// shown reads the data attributes back from a page, as the browser test
// does from the DOM.
func shown(page string) (lanes, arrows, marks []string) {
	for _, m := range laneRe.FindAllStringSubmatch(page, -1) {
		lanes = append(lanes, m[1])
	}
	for _, m := range arrowRe.FindAllStringSubmatch(page, -1) {
		arrows = append(arrows, strings.Join(m[1:], " "))
	}
	for _, m := range markRe.FindAllStringSubmatch(page, -1) {
		marks = append(marks, strings.Join(m[1:], " "))
	}
	return lanes, arrows, marks
}

func TestWriteHTMLElements(t *testing.T) {
	withStranger := small()
	withStranger.Messages = append(withStranger.Messages, Message{From: "r2", To: "engine", SentStep: 5, RecvStep: 6, Label: "Init{r2}"})
	noRows := small()
	noRows.Rows = nil
	tests := []struct {
		name   string
		d      *Diagram
		lanes  []string
		arrows []string
		marks  []string
	}{
		{
			name:  "every kind",
			d:     small(),
			lanes: []string{"client", "guard", "ups", "engine", "r1"},
			arrows: []string{
				"guard engine 0 1 false", "engine guard 1 2 false", "guard ups 2 3 false", "ups engine 3 4 true",
			},
			marks: []string{"note client 0", "attempt guard 4", "backoff guard 4", "fault ups 3", "violation client 6"},
		},
		{
			name:  "a node missing from Lanes gets a lane after them",
			d:     withStranger,
			lanes: []string{"client", "guard", "ups", "engine", "r1", "r2"},
			arrows: []string{
				"guard engine 0 1 false", "engine guard 1 2 false", "guard ups 2 3 false", "ups engine 3 4 true", "r2 engine 5 6 false",
			},
			marks: []string{"note client 0", "attempt guard 4", "backoff guard 4", "fault ups 3", "violation client 6"},
		},
		{
			name:  "no rows: drawn on the steps named",
			d:     noRows,
			lanes: []string{"client", "guard", "ups", "engine", "r1"},
			arrows: []string{
				"guard engine 0 1 false", "engine guard 1 2 false", "guard ups 2 3 false", "ups engine 3 4 true",
			},
			marks: []string{"note client 0", "attempt guard 4", "backoff guard 4", "fault ups 3", "violation client 6"},
		},
		{name: "empty", d: &Diagram{}},
		{name: "nil", d: nil},
		{
			name:  "lanes only",
			d:     &Diagram{Lanes: []string{"client", "guard"}},
			lanes: []string{"client", "guard"},
		},
		{
			name: "a message to its own lane",
			d: &Diagram{Lanes: []string{"guard"}, Rows: []Row{{Step: 0}, {Step: 1}},
				Messages: []Message{{From: "guard", To: "guard", SentStep: 0, RecvStep: 1, Label: "tick"}}},
			lanes:  []string{"guard"},
			arrows: []string{"guard guard 0 1 false"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.d)
			assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
			assert.Contains(t, page, "</html>")
			lanes, arrows, marks := shown(page)
			assert.Equal(t, tt.lanes, lanes, "lanes")
			assert.Equal(t, tt.arrows, arrows, "arrows")
			assert.Equal(t, tt.marks, marks, "marks")
			// Every element found by its attribute is matched in full above.
			assert.Equal(t, len(tt.arrows), strings.Count(page, "data-arrow="), "data-arrow elements")
			assert.Equal(t, len(tt.marks), strings.Count(page, "data-mark="), "data-mark elements")
			assert.Equal(t, len(tt.lanes), strings.Count(page, "data-lane="), "data-lane elements")
		})
	}
}

// TestWriteHTMLSelfContained: nothing is fetched, and no script runs.
func TestWriteHTMLSelfContained(t *testing.T) {
	page := render(t, small())
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url(", "<link", "http://", "https://"} {
		if bad == "http://" {
			// The SVG namespace is a name, not a fetch.
			page = strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		assert.NotContains(t, page, bad)
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script> & 'q'`
	d := &Diagram{
		Title:    evil,
		Subtitle: []string{evil},
		Script:   []string{evil},
		Lanes:    []string{`a"b`, "c<d"},
		Rows:     []Row{{Step: 0, Line: evil}, {Step: 1, Line: "</title>" + evil}},
		Messages: []Message{{From: `a"b`, To: "c<d", SentStep: 0, RecvStep: 1, Label: evil, Line: "</title><b>" + evil}},
		Marks: []Mark{
			{Kind: Note, Node: `a"b`, Step: 0, Text: evil, Line: evil},
			{Kind: Violation, Node: "c<d", Step: 1, Text: evil, Line: evil},
		},
	}
	page := render(t, d)
	assert.NotContains(t, page, "<script")
	assert.NotContains(t, page, "<b>")
	assert.NotContains(t, page, `"x"`)
	assert.NotContains(t, page, "& ")
	assert.Contains(t, page, "&lt;script&gt;")
	assert.Contains(t, page, "&amp;")
	assert.Contains(t, page, `data-lane="a&#34;b"`)
	assert.Contains(t, page, `data-to="c&lt;d"`)
	lanes, arrows, marks := shown(page)
	assert.Len(t, lanes, 2)
	assert.Len(t, arrows, 1)
	assert.Len(t, marks, 2)
}

func TestWriteHTMLLabels(t *testing.T) {
	long := "Publish{runner.r1 RequestStart{rq1 m4294967297 reply=gateway.guard actor=a2 GET /probe}}"
	d := &Diagram{
		Lanes: []string{"guard", "ups"},
		Rows:  []Row{{Step: 3, At: 0}, {Step: 8, At: 500 * sim.Millisecond}, {Step: 9, At: 3 * sim.Second}, {Step: 12, At: 3 * sim.Second}},
		Messages: []Message{
			{From: "guard", To: "ups", SentStep: 0, RecvStep: 7, Label: long, Line: "000008 line behind the arrow"},
			{From: "ups", To: "guard", SentStep: 10, RecvStep: 99, Label: "Hello{}"},
		},
	}
	page := render(t, d)
	assert.Contains(t, page, ">"+truncate(long, labelMax)+"<", "the label is cut")
	assert.True(t, strings.HasSuffix(truncate(long, labelMax), "…"))
	assert.Contains(t, page, "<title>"+escaped(long)+"\n000008 line behind the arrow</title>", "the hover has the full label and the line")
	assert.Equal(t, 1, strings.Count(page, `class="gap"`), "one band for the 2.5 s jump, none for 0.5 s")
	assert.Contains(t, page, "2.500 s later")
	assert.Contains(t, page, ">0.500000s<", "rows are labelled with virtual time")

	// Steps without a row land on the next row, or the last.
	p := lay(d)
	ys := []int{p.Rows[0].Y + rowH/2, p.Rows[1].Y + rowH/2, p.Rows[2].Y + rowH/2, p.Rows[3].Y + rowH/2}
	assert.Equal(t, fmt.Sprintf("M%d %d L%d %d", p.Lanes[0].X, ys[0], p.Lanes[1].X, ys[1]), p.Arrows[0].D, "steps 0 and 7: rows of steps 3 and 8")
	assert.Equal(t, fmt.Sprintf("M%d %d L%d %d", p.Lanes[1].X, ys[3], p.Lanes[0].X, ys[3]), p.Arrows[1].D, "steps 10 and 99: the row of step 12")
}

// escaped escapes s as html/template does text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestWriteHTMLDeterministic(t *testing.T) {
	b, err := os.ReadFile("testdata/fixture.json")
	require.NoError(t, err)
	var d1, d2 Diagram
	require.NoError(t, json.Unmarshal(b, &d1))
	require.NoError(t, json.Unmarshal(b, &d2))
	a, c := render(t, &d1), render(t, &d2)
	assert.Equal(t, a, render(t, &d1), "the same diagram twice")
	assert.Equal(t, a, c, "an equal diagram")
	lanes, arrows, marks := shown(a)
	assert.Equal(t, d1.Lanes, lanes)
	assert.Len(t, arrows, len(d1.Messages))
	assert.Len(t, marks, len(d1.Marks))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteHTMLWriteError(t *testing.T) {
	assert.ErrorContains(t, WriteHTML(failWriter{}, small()), "disk full")
}
