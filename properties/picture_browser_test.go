package properties

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/internal/browser"
)

// TestBrowserShowsKeptFailure draws a kept failure, loads the page in
// headless Chromium and checks what the browser shows against the trace of
// the run itself: a lane for every node that sends or receives in the
// failing exchange, in the diagram's order, and one rendered arrow for each
// delivery (recv line) of the exchange, from its sender to its receiver,
// ending at that line. Without Chromium it fails with the install hint
// (skipped only with GUARDSIM_SKIP_BROWSER=1). go test -artifacts keeps the
// page.
func TestBrowserShowsKeptFailure(t *testing.T) {
	browser.Require(t)
	const file = "testdata/kept/stale_preopen_close_reaches_client.txt"
	w, err := RunScriptFile(file, ScriptOptions{})
	require.NoError(t, err)
	vs := Check(w)
	d, err := Picture(w, file, nil, nil, vs)
	require.NoError(t, err)
	page := filepath.Join(t.ArtifactDir(), "stale_preopen_close_reaches_client.html")
	require.NoError(t, writeHTML(page, d))

	shown, err := browser.Inspect(context.Background(), page)
	require.NoError(t, err)

	// The trace's deliveries in the exchange, and the nodes they join.
	lines := w.Sim.TraceLines()
	keep := exchangeLines(lines, violationSubjects(vs))
	type arrow struct {
		from, to string
		recv     int
	}
	var want []arrow
	nodes := map[string]bool{}
	for i, l := range lines {
		if p := parseTraceLine(l); keep[i] && p.event == "recv" {
			want = append(want, arrow{p.kv("from"), p.node, i})
			nodes[p.kv("from")], nodes[p.node] = true, true
		}
	}
	require.NotEmpty(t, want)
	for n := range nodes {
		assert.Contains(t, shown.Lanes, n, "the trace has deliveries at %s", n)
	}
	assert.Equal(t, d.Lanes, shown.Lanes)

	var got []arrow
	for _, a := range shown.Arrows {
		assert.True(t, a.Visible, "arrow %s->%s at line %d is not rendered", a.From, a.To, a.RecvStep)
		if !a.Lost {
			got = append(got, arrow{a.From, a.To, a.RecvStep})
		}
	}
	byLine := func(a, b arrow) int { return a.recv - b.recv }
	slices.SortFunc(got, byLine)
	slices.SortFunc(want, byLine)
	assert.Equal(t, want, got, "the arrows the browser shows are the trace's deliveries")
	marks := 0
	for _, m := range shown.Marks {
		if m.Kind == "violation" {
			marks++
		}
	}
	assert.Equal(t, len(vs), marks, "each violation is marked")
}
