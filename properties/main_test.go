package properties

import (
	"os"
	"testing"
)

// TestMain runs the package's tests from the repository root, so that
// rapid's fail files land in, and are replayed from, testdata/rapid/ there,
// beside the scenario files.
func TestMain(m *testing.M) {
	if err := os.Chdir(".."); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
