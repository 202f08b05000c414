package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// keepFindings reruns the search of every registered finding (at its
// Search profile, with its first seed), writing rapid fail files, and
// writes each shrunk case as a scenario file in testdata/kept/.
func keepFindings(w io.Writer, only string) error {
	if err := os.MkdirAll(properties.KeptDir, 0o755); err != nil {
		return err
	}
	var missed []string
	for _, k := range properties.Findings {
		if only != "" && k.Slug != only {
			continue
		}
		p, err := model.ProfileByName(k.SearchAt)
		if err != nil {
			return err
		}
		f, _, err := k.Search(p, k.Seeds[0], k.Budget, "Keep_"+k.Slug, true, 0)
		if err != nil {
			return err
		}
		if f == nil {
			missed = append(missed, fmt.Sprintf("%s: not found at %s from rapid seed %d within %d scenarios (its kept case is left as it is)",
				k.Slug, p.Commit, k.Seeds[0], k.Budget))
			continue
		}
		res := properties.Result{Failure: f}
		title := fmt.Sprintf("Finding %s (commits %s): %s", k.Slug, k.Range(), k.Title)
		path := filepath.Join(properties.KeptDir, k.Slug+".txt")
		if err := os.WriteFile(path, []byte(properties.KeptText(res.Failure, title)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "kept %s (%d actions, fail file %s)\n", path, res.Failure.Actions, res.Failure.FailFile)
	}
	if len(missed) > 0 {
		return fmt.Errorf("%d finding(s) not kept:\n%s", len(missed), strings.Join(missed, "\n"))
	}
	return nil
}
