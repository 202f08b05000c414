package oracle

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/guardsim/guardsim/"

// askers are the packages whose word the oracle may not take: Guard, the
// runner, and the world that wires them.
var askers = []string{module + "guard", module + "runner", module + "properties"}

// forbiddenImports walks root's imports inside the module, directly or
// not, and lists each path by which it reaches one of askers.
func forbiddenImports(t *testing.T, root string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(path, via string)
	walk = func(path, via string) {
		if seen[path] || !strings.HasPrefix(path, module) {
			return
		}
		seen[path] = true
		if slices.Contains(askers, path) && path != root {
			out = append(out, via+" -> "+path)
			return
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp, path)
		}
	}
	walk(root, root)
	if !seen[module+"model"] {
		t.Fatalf("%s: the walk never reached model; it is not looking", root)
	}
	return out
}

// TestOracleCannotAskGuardOrRunner proves the oracle judges only from the
// record: neither it nor anything it imports is Guard's or the runner's
// package, so no verdict can rest on what they say about themselves.
func TestOracleCannotAskGuardOrRunner(t *testing.T) {
	for _, root := range []string{module + "properties/oracle", module + "properties/record"} {
		for _, p := range forbiddenImports(t, root) {
			t.Errorf("%s reaches a component it may not ask: %s", root, p)
		}
	}
}

// TestBoundaryCheckCatchesAnAsker is the check's planted violation: the
// world's package imports Guard and the runner, and the walk must say so.
func TestBoundaryCheckCatchesAnAsker(t *testing.T) {
	got := forbiddenImports(t, module+"properties")
	for _, want := range []string{module + "guard", module + "runner"} {
		found := false
		for _, p := range got {
			found = found || strings.HasSuffix(p, " -> "+want)
		}
		if !found {
			t.Errorf("the walk from properties did not report %s; got %v", want, got)
		}
	}
}
