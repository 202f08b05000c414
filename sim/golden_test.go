package sim

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden traces in testdata/")

// TestDemoGoldenTrace pins the demo's trace byte for byte, so any change to
// the kernel's ordering, randomness or rendering shows up as a diff. Run with
// -update to accept a deliberate change.
func TestDemoGoldenTrace(t *testing.T) {
	w := New(Config{Seed: 2026})
	require.NoError(t, RunDemo(w, 8))
	path := filepath.Join("testdata", "demo.trace")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(w.TraceText()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create the golden trace")
	if d := cmp.Diff(string(want), w.TraceText()); d != "" {
		t.Fatalf("demo trace changed (-golden +now):\n%s", d)
	}
}

// TestTraceIndependentOfGOMAXPROCS runs the same seed under GOMAXPROCS=1 and
// the machine's default and compares whole traces.
func TestTraceIndependentOfGOMAXPROCS(t *testing.T) {
	base := demo(99)
	prev := runtime.GOMAXPROCS(1)
	one := demo(99)
	runtime.GOMAXPROCS(max(prev, 4))
	many := demo(99)
	runtime.GOMAXPROCS(prev)
	if d := cmp.Diff(base, one); d != "" {
		t.Fatalf("GOMAXPROCS=1 changed the trace:\n%s", d)
	}
	if d := cmp.Diff(base, many); d != "" {
		t.Fatalf("GOMAXPROCS>1 changed the trace:\n%s", d)
	}
}
