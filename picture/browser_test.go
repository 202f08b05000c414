package picture_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/guardsim/guardsim/internal/browser"
	"github.com/guardsim/guardsim/picture"
)

var screenshot = flag.Bool("screenshot", false, "also write a screenshot of the fixture's page to testdata/screenshot.png")

// fixture is testdata/fixture.json: a real failing scenario's trace
// (testdata/sample_trace.txt) drawn as a diagram, with a lost message,
// faults, attempts, backoffs and the violation (testdata/genfixture.go).
func fixture(t *testing.T) *picture.Diagram {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := new(picture.Diagram)
	if err := json.Unmarshal(b, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBrowserShowsDiagram draws the fixture, loads the page in headless
// Chromium and checks that the browser shows every lane in order, one
// rendered arrow per message and one element per mark. Without Chromium it
// fails with the install hint (skipped only with GUARDSIM_SKIP_BROWSER=1).
// The page is a test artifact: go test -artifacts keeps it.
func TestBrowserShowsDiagram(t *testing.T) {
	browser.Require(t)
	d := fixture(t)
	if len(d.Lanes) < 5 || len(d.Messages) < 20 {
		t.Fatalf("the fixture is too small: %d lanes, %d messages", len(d.Lanes), len(d.Messages))
	}
	kinds := map[picture.MarkKind]bool{}
	lost := false
	for _, m := range d.Marks {
		kinds[m.Kind] = true
	}
	for _, m := range d.Messages {
		lost = lost || m.Lost
	}
	for _, k := range []picture.MarkKind{picture.Note, picture.Attempt, picture.Backoff, picture.Fault, picture.Violation} {
		if !kinds[k] {
			t.Errorf("the fixture has no %s mark", k)
		}
	}
	if !lost {
		t.Error("the fixture loses no message")
	}

	path := filepath.Join(t.ArtifactDir(), "diagram.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := picture.WriteHTML(f, d); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	shown, err := browser.Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	want := &browser.Shown{Lanes: d.Lanes}
	for _, m := range d.Messages {
		want.Arrows = append(want.Arrows, browser.ShownArrow{
			From: m.From, To: m.To, SentStep: m.SentStep, RecvStep: m.RecvStep, Lost: m.Lost,
		})
	}
	for _, m := range d.Marks {
		want.Marks = append(want.Marks, browser.ShownMark{Kind: m.Kind.String(), Node: m.Node, Step: m.Step})
	}
	if diff := cmp.Diff(want, shown, cmpopts.IgnoreFields(browser.ShownArrow{}, "Visible")); diff != "" {
		t.Errorf("the browser shows (-want +shown):\n%s\npage: %s", diff, path)
	}
	for i, a := range shown.Arrows {
		if !a.Visible {
			t.Errorf("arrow %d (%s → %s, steps %d to %d) is not rendered in its SVG; page: %s", i, a.From, a.To, a.SentStep, a.RecvStep, path)
		}
	}

	if *screenshot {
		png, err := browser.Screenshot(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "screenshot.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
