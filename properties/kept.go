package properties

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/guardsim/guardsim/model"
)

// A kept failure is a scenario file under testdata/kept/: the profile and
// seed are in its world line, the shrunk actions follow explicitly, and it
// ends with the trace hash it must reproduce and the violation it must
// show. Rapid's fail files go stale when generators change; these do not.
// Header comments name the exploration that found it:
//
//	# kept: property=retry_reaches_moved_actor profile=parent quirks=...
//	# failfile: testdata/rapid/<name>/<file>.fail

// Kept is a kept failure's header.
type Kept struct {
	Property string
	Profile  model.Profile
	FailFile string
	Hash     string
}

// ReadKept reads a kept failure's header and expected hash.
func ReadKept(path string) (Kept, error) {
	var k Kept
	f, err := os.Open(path)
	if err != nil {
		return k, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# kept:"):
			_, kv := args(strings.Fields(strings.TrimPrefix(line, "# kept:")))
			k.Property = kv.last("property")
			if k.Profile, err = model.ProfileByName(kv.last("profile")); err != nil {
				return k, fmt.Errorf("%s: %v", path, err)
			}
			for _, q := range kv.all("quirk") {
				if err := k.Profile.Set(strings.TrimLeft(q, "+-"), !strings.HasPrefix(q, "-")); err != nil {
					return k, fmt.Errorf("%s: %v", path, err)
				}
			}
		case strings.HasPrefix(line, "# failfile:"):
			k.FailFile = strings.TrimSpace(strings.TrimPrefix(line, "# failfile:"))
		case strings.HasPrefix(line, "expect_hash "):
			k.Hash = strings.TrimSpace(strings.TrimPrefix(line, "expect_hash "))
		}
	}
	if k.Property == "" || k.Hash == "" {
		return k, fmt.Errorf("%s: not a kept failure (want a '# kept:' header and an expect_hash line)", path)
	}
	return k, sc.Err()
}

// KeptText renders a failure as a kept scenario file.
func KeptText(f *Failure, title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", title)
	fmt.Fprintf(&b, "# kept: property=%s profile=%s%s\n", f.Property, f.Options.Profile.Commit.Name(), f.Options.Profile.QuirkArgs())
	if f.FailFile != "" {
		fmt.Fprintf(&b, "# failfile: %s\n", f.FailFile)
	}
	fmt.Fprintf(&b, "# found after %d scenario(s) with rapid seed %d; replay: go test ./properties -run 'TestKeptFailures'\n", f.Checks, f.Seed)
	for _, v := range f.Violations {
		fmt.Fprintf(&b, "# violation: %s\n", v)
	}
	for _, l := range f.Script {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "expect_hash %s\n", f.Hash)
	fmt.Fprintf(&b, "expect_violation %s\n", f.Property)
	return b.String()
}
