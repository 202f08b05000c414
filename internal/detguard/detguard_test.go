package detguard

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSimulatedPackagesAreDeterministic(t *testing.T) {
	var dirs []string
	// The world wiring (properties/) runs inside the simulation too, and the
	// record and oracle judge it; only the exploration driver is outside.
	for _, dir := range []string{"../../sim", "../../model", "../../guard", "../../runner",
		"../../properties", "../../properties/record", "../../properties/oracle"} {
		if hasGoFiles(t, dir) {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		t.Skip("no simulated package has Go files yet")
	}

	start := time.Now()
	vs, err := CheckDirs(dirs...)
	t.Logf("CheckDirs(%s) took %v", strings.Join(dirs, ", "), time.Since(start))

	require.NoError(t, err)
	if len(vs) > 0 {
		lines := make([]string, len(vs))
		for i, v := range vs {
			lines[i] = v.String()
		}
		t.Fatalf("%d determinism violations:\n%s", len(vs), strings.Join(lines, "\n"))
	}
}

// TestOnlyTheExplorationDriverIsOutsideTheSimulation pins the files the
// outside-simulation directive exempts: the world wiring may not opt out.
func TestOnlyTheExplorationDriverIsOutsideTheSimulation(t *testing.T) {
	got, err := OutsideSimulation("../../properties")
	require.NoError(t, err)
	assert.Equal(t, []string{"run.go"}, got)
	for _, dir := range []string{"../../sim", "../../model", "../../guard", "../../runner", "../../properties/oracle", "../../properties/record"} {
		got, err := OutsideSimulation(dir)
		require.NoError(t, err)
		assert.Empty(t, got, dir)
	}
}

// hasGoFiles reports whether dir exists and holds non-test Go files.
func hasGoFiles(t *testing.T, dir string) bool {
	t.Helper()
	names, err := goFiles(dir)
	if os.IsNotExist(err) {
		return false
	}
	require.NoError(t, err)
	return len(names) > 0
}

func TestPlantedViolations(t *testing.T) {
	tests := []struct {
		name string
		want []string // "line: rule"
	}{
		{"time_now", []string{"7: " + ruleWallClock}},
		{"time_alias", []string{"6: " + ruleWallClock, "7: " + ruleChan, "7: " + ruleWallClock}},
		{"map_field", []string{"9: " + ruleMapRange}},
		{"map_generic", []string{"5: " + ruleMapRange}},
		{"map_imported", []string{"10: " + ruleMapRange}},
		{"maps_keys", []string{"7: " + ruleMapsIter}},
		{"rand_v2_global", []string{"6: " + ruleGlobalRand, "6: " + ruleGlobalRand}},
		{"chan_make", []string{"4: " + ruleChan, "5: " + ruleChan, "6: " + ruleChan}},
		{"select", []string{"3: " + ruleChan, "4: " + ruleChan, "5: " + ruleChan}},
		{"range_chan", []string{"3: " + ruleChan, "4: " + ruleChan}},
		{"go_stmt", []string{"4: " + ruleGo}},
		{"sync_mutex", []string{"6: " + ruleSync, "11: " + ruleSync, "12: " + ruleSync}},
		{"sync_atomic", []string{"5: " + ruleSync, "7: " + ruleSync}},
		{"crypto_rand", []string{"3: " + ruleRandImport}},
		{"math_rand", []string{"3: " + ruleRandImport}},
		{"clean", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "planted", tt.name)
			vs, err := CheckDirs(dir)
			require.NoError(t, err)

			var got []string
			for _, v := range vs {
				assert.Equal(t, filepath.Join(dir, "x.go"), v.File)
				assert.NotEmpty(t, v.Detail)
				got = append(got, fmt.Sprintf("%d: %s", v.Line, v.Rule))
			}
			assert.Equal(t, tt.want, got, "violations: %v", vs)
		})
	}
}

// TestGuardCatchesPlantedTimeNow plays the guard failing on a time.Now()
// planted in a clean package, and passing again without it.
func TestGuardCatchesPlantedTimeNow(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join("testdata", "planted", "clean", "x.go"), filepath.Join(dir, "clean.go"))

	vs, err := CheckDirs(dir)
	require.NoError(t, err)
	assert.Empty(t, vs)

	planted := filepath.Join(dir, "now.go")
	copyFile(t, filepath.Join("testdata", "planted", "time_now", "x.go"), planted)
	vs, err = CheckDirs(dir)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, Violation{
		File:   planted,
		Line:   7,
		Rule:   ruleWallClock,
		Detail: "use of time.Now (use the sim clock and timers)",
	}, vs[0])
	assert.Equal(t, planted+":7: wall-clock: use of time.Now (use the sim clock and timers)", vs[0].String())

	require.NoError(t, os.Remove(planted))
	vs, err = CheckDirs(dir)
	require.NoError(t, err)
	assert.Empty(t, vs)
}

func TestCheckDirsErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // written to a temp dir; nil means a missing dir
		dir     string            // checked instead of a temp dir
		wantErr string
	}{
		{name: "missing dir", wantErr: "no such file"},
		{name: "no go files", files: map[string]string{"x_test.go": "package x\n"}, wantErr: "no non-test Go files"},
		{name: "parse error", files: map[string]string{"a.go": "package x\n", "b.go": "package x\nfunc {\n"}, wantErr: "b.go:2"},
		{name: "type error", files: map[string]string{"x.go": "package x\nvar v = undefined\n"}, wantErr: "undefined"},
		{name: "unresolvable import", files: map[string]string{"x.go": "package x\nimport _ \"example.com/nope\"\n"}, wantErr: "example.com/nope"},
		{name: "import cycle", dir: filepath.Join("testdata", "cycle", "a"), wantErr: "import cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "pkg")
			}
			if tt.files != nil {
				require.NoError(t, os.Mkdir(dir, 0o755))
				for name, src := range tt.files {
					require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
				}
			}
			_, err := CheckDirs(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestTypeErrorsStillReportViolations(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\nimport \"time\"\n\nvar now = time.Now()\nvar v = undefined\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644))

	vs, err := CheckDirs(dir)
	require.Error(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, ruleWallClock, vs[0].Rule)
	assert.Equal(t, 5, vs[0].Line)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

// TestGuardPackageWithPlantedTimeNow copies the real sim, model, guard and plant
// packages into a scratch module, plants a time.Now() in guard/, and shows
// that the check fails on it and passes without it.
func TestGuardPackageWithPlantedTimeNow(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/guardsim/guardsim\n\ngo 1.26\n"), 0o644))
	for _, pkg := range []string{"sim", "model", "guard", "internal/plant"} {
		src := filepath.Join("..", "..", pkg)
		entries, err := os.ReadDir(src)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(root, pkg), 0o755))
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, name))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(root, pkg, name), b, 0o644))
		}
	}
	guardDir := filepath.Join(root, "guard")
	vs, err := CheckDirs(guardDir)
	require.NoError(t, err)
	require.Empty(t, vs, "the real guard package is clean")

	planted := filepath.Join(guardDir, "planted.go")
	require.NoError(t, os.WriteFile(planted, []byte("package guard\n\nimport \"time\"\n\nfunc plantedNow() int64 { return time.Now().UnixNano() }\n"), 0o644))
	vs, err = CheckDirs(guardDir)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "planted.go", filepath.Base(vs[0].File))
	assert.Equal(t, 5, vs[0].Line)
	assert.Equal(t, "wall-clock", vs[0].Rule)

	require.NoError(t, os.Remove(planted))
	vs, err = CheckDirs(guardDir)
	require.NoError(t, err)
	assert.Empty(t, vs)
}
