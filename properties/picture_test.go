package properties

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/picture"
)

// TestPictureMatchesTheTrace draws every kept failure and checks the
// diagram against the trace it comes from: one arrow for each delivery
// the failing exchange shows, ending at its recv line and starting no
// later; every arrow's nodes have lanes; every row is a trace line, in
// order; every violation is marked.
func TestPictureMatchesTheTrace(t *testing.T) {
	files, err := filepath.Glob("testdata/kept/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			w, err := RunScriptFile(file, ScriptOptions{})
			require.NoError(t, err)
			vs := Check(w)
			require.NotEmpty(t, vs, "a kept failure shows its violation")
			d, err := Picture(w, "t", nil, nil, vs)
			require.NoError(t, err)
			lines := w.Sim.TraceLines()
			keep := exchangeLines(lines, violationSubjects(vs))
			byRecv := map[int]int{}
			for _, m := range d.Messages {
				assert.Contains(t, d.Lanes, m.From)
				assert.Contains(t, d.Lanes, m.To)
				assert.LessOrEqual(t, m.SentStep, m.RecvStep, "%+v", m)
				assert.LessOrEqual(t, m.Sent, m.Recv, "%+v", m)
				if !m.Lost {
					byRecv[m.RecvStep]++
					assert.Equal(t, lines[m.RecvStep], m.Line)
				}
			}
			for i, l := range lines {
				if p := parseTraceLine(l); keep[i] && p.event == "recv" {
					assert.Equal(t, 1, byRecv[i], "line %d %q has %d arrows", i, l, byRecv[i])
					delete(byRecv, i)
				}
			}
			assert.Empty(t, byRecv, "arrows that end at no recv line of the exchange")
			steps := make([]int, len(d.Rows))
			for i, r := range d.Rows {
				steps[i] = r.Step
				assert.Equal(t, lines[r.Step], r.Line)
			}
			assert.True(t, slices.IsSorted(steps))
			assert.Equal(t, len(steps), len(slices.Compact(slices.Clone(steps))))
			n := 0
			for _, m := range d.Marks {
				if m.Kind == picture.Violation {
					n++
				}
			}
			assert.Equal(t, len(vs), n)
		})
	}
}
