//go:build guardsim_plant

package properties

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
)

// mutantMaxActions bounds a planted bug's shrunk case.
const mutantMaxActions = 8

// TestMutants runs the exploration once per planted bug, with that bug
// compiled in and switched on, at its profile and within its budget, and
// asserts that its target property breaks with a violation no registered
// finding explains, shrunk to at most mutantMaxActions actions. It prints
// the table `make mutants` shows.
//
//	go test -tags guardsim_plant ./properties -run TestMutants -v
func TestMutants(t *testing.T) {
	type row struct {
		bug, property, caught string
		checks, actions       int
	}
	var rows []row
	for _, b := range plant.Bugs {
		t.Run(b.Name, func(t *testing.T) {
			plant.Set(b.Bug)
			defer plant.Set(plant.None)
			p, err := model.ProfileByName(b.Profile)
			if err != nil {
				t.Fatal(err)
			}
			f, checked := huntMutant(t, p, b)
			r := row{bug: b.Name, property: b.Property, checks: checked}
			if f == nil {
				r.caught = "NOT CAUGHT"
				rows = append(rows, r)
				t.Errorf("%s: %s never broke at %s within %d scenarios", b.Name, b.Property, p.Commit, checked)
				return
			}
			r.caught, r.actions = f.Property, f.Actions
			rows = append(rows, r)
			assert.LessOrEqual(t, f.Actions, mutantMaxActions, "shrunk case:\n%s", f.Report())
			t.Logf("%s: %s broke at %s after %d scenarios, shrunk to %d actions:\n%s",
				b.Name, f.Property, p.Commit, f.Checks, f.Actions, strings.Join(f.Script, "\n"))
		})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-36s %-16s %-16s %9s %7s\n", "planted bug", "target", "caught by", "scenarios", "shrunk")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-36s %-16s %-16s %9d %7d\n", r.bug, r.property, r.caught, r.checks, r.actions)
	}
	t.Log(out.String())
}

// huntMutant explores the bug's target property and returns the first
// failure that no registered finding explains; a failure a finding
// explains is skipped with the next rapid seed.
func huntMutant(t *testing.T, p model.Profile, b plant.Info) (*Failure, int) {
	checked := 0
	for round := uint64(0); checked < b.Budget; round++ {
		res := Explore(ExploreConfig{Profile: p, Properties: []string{b.Property}, Checks: b.Budget - checked,
			Seed: 1 + round, Name: "Mutant", NoFailFile: true, ShrinkTime: 10 * time.Second,
			Tolerate: func(f *Failure) bool { return len(Unexplained(f)) == 0 }})
		if res.Err != nil {
			t.Fatalf("%s: %v", b.Name, res.Err)
		}
		checked += res.Stats.Checks
		f := res.Failure
		if f == nil {
			return nil, checked
		}
		if len(Unexplained(f)) > 0 {
			f.Checks = checked
			return f, checked
		}
	}
	return nil, checked
}
