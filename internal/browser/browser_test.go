package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAvailableSaysHowToInstall(t *testing.T) {
	t.Setenv("GUARDSIM_CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	_, err := Available()
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") {
		t.Fatalf("Available() = %v, want the install hint", err)
	}
}

// page has an arrow of each kind Inspect must tell apart: drawn, hidden by
// display, by visibility, by opacity, empty, and drawn outside its SVG.
const page = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">
<g data-lane="client"><line x1="50" y1="0" x2="50" y2="200" stroke="black"/></g>
<g data-lane="guard"><line x1="250" y1="0" x2="250" y2="200" stroke="black"/></g>
<g data-arrow="" data-from="client" data-to="guard" data-sent-step="1" data-recv-step="2" data-lost="false"><path d="M50 20 L250 30" stroke="blue"/><polygon points="250,30 240,25 240,35"/></g>
<g data-arrow="" data-from="guard" data-to="client" data-sent-step="3" data-recv-step="4" data-lost="true" style="display:none"><path d="M250 40 L50 50" stroke="red"/><text x="60" y="45">x</text></g>
<g data-arrow="" data-from="guard" data-to="client" data-sent-step="5" data-recv-step="6" data-lost="false" visibility="hidden"><path d="M250 60 L50 70" stroke="red"/><text x="60" y="65">x</text></g>
<g opacity="0"><g data-arrow="" data-from="guard" data-to="client" data-sent-step="7" data-recv-step="8" data-lost="false"><path d="M250 80 L50 90" stroke="red"/><text x="60" y="85">x</text></g></g>
<g data-arrow="" data-from="client" data-to="guard" data-sent-step="9" data-recv-step="10" data-lost="false"></g>
<g data-arrow="" data-from="client" data-to="guard" data-sent-step="11" data-recv-step="12" data-lost="false"><path d="M50 120 L450 130" stroke="blue"/><text x="400" y="125">past the edge</text></g>
<g data-mark="violation" data-node="client" data-step="12"><circle cx="50" cy="150" r="8" fill="red"/></g>
<g data-mark="note" data-node="guard" data-step="3"><rect x="255" y="30" width="30" height="14"/></g>
</svg></body></html>`

func TestInspect(t *testing.T) {
	Require(t)
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	want := &Shown{
		Lanes: []string{"client", "guard"},
		Arrows: []ShownArrow{
			{From: "client", To: "guard", SentStep: 1, RecvStep: 2, Visible: true},
			{From: "guard", To: "client", SentStep: 3, RecvStep: 4, Lost: true},
			{From: "guard", To: "client", SentStep: 5, RecvStep: 6},
			{From: "guard", To: "client", SentStep: 7, RecvStep: 8},
			{From: "client", To: "guard", SentStep: 9, RecvStep: 10},
			{From: "client", To: "guard", SentStep: 11, RecvStep: 12},
		},
		Marks: []ShownMark{{Kind: "violation", Node: "client", Step: 12}, {Kind: "note", Node: "guard", Step: 3}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inspect (-want +got):\n%s", diff)
	}
}

func TestInspectRejectsBadAttributes(t *testing.T) {
	Require(t)
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><svg><g data-arrow="" data-from="a" data-to="b" data-sent-step="one" data-recv-step="2" data-lost="false"></g></svg>`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(context.Background(), path); err == nil || !strings.Contains(err.Error(), "arrow 0") {
		t.Fatalf("Inspect = %v, want an error about arrow 0", err)
	}
}

func TestInspectMissingFile(t *testing.T) {
	if _, err := Inspect(context.Background(), filepath.Join(t.TempDir(), "none.html")); err == nil {
		t.Fatal("Inspect of a missing file succeeded")
	}
}
