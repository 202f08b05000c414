package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// keepFindings reruns the search of every registered finding (at its
// Search profile, with its first seed), writing rapid fail files, and
// writes each shrunk case as a scenario file in testdata/kept/.
func keepFindings() error {
	if err := os.MkdirAll("testdata/kept", 0o755); err != nil {
		return err
	}
	for _, k := range properties.Findings {
		p, err := model.ProfileByName(k.Search)
		if err != nil {
			return err
		}
		res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: k.Properties,
			Checks: k.Budget, Seed: k.Seeds[0], Name: "Keep_" + k.Slug})
		if res.Err != nil {
			return res.Err
		}
		if res.Failure == nil {
			return fmt.Errorf("%s: not found at %s within %d scenarios", k.Slug, p.Commit, k.Budget)
		}
		if !k.Matches(res.Failure) {
			return fmt.Errorf("%s: the search at %s found another violation:\n%s", k.Slug, p.Commit, res.Failure.Report())
		}
		title := fmt.Sprintf("Finding %s (commits %s): %s", k.Slug, k.Range(), k.Title)
		path := filepath.Join("testdata/kept", k.Slug+".txt")
		if err := os.WriteFile(path, []byte(properties.KeptText(res.Failure, title)), 0o644); err != nil {
			return err
		}
		fmt.Printf("kept %s (%d actions, fail file %s)\n", path, res.Failure.Actions, res.Failure.FailFile)
	}
	return nil
}
