package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// TestMainJobSmoke runs the main job's paths on a small budget, from the
// repository root, so they cannot rot between runs of make sim.
func TestMainJobSmoke(t *testing.T) {
	require.NoError(t, os.Chdir("../.."))
	t.Cleanup(func() { _ = os.Chdir("cmd/guardsim") })
	ps, err := model.ParseProfiles("seed,newest-is-not-a-commit")
	require.Error(t, err)
	require.Nil(t, ps)
	ps, err = model.ParseProfiles("all")
	require.NoError(t, err)
	require.NoError(t, explore(ps[len(ps)-2:], properties.PropertyNames(), 30, 1, false))
	require.NoError(t, replayScript("testdata/kept/parent_404_seed_property.txt", ""))
}

// TestDocsFollowTheRegistries: the README's tables of profiles, properties
// and findings, docs/timeline.md and -h are checked against the registries in
// model/profile.go and properties/findings.go, so they cannot drift.
func TestDocsFollowTheRegistries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	timeline, err := os.ReadFile("../../docs/timeline.md")
	require.NoError(t, err)
	help := model.TimelineText()
	for _, c := range model.Timeline {
		assert.Contains(t, string(readme), "`"+c.Hash+"`", "README: profile %s", c.Hash)
		assert.Contains(t, string(readme), c.Title, "README: title of %s", c.Hash)
		assert.Contains(t, string(timeline), "`"+c.Hash+"`", "docs/timeline.md: %s", c.Hash)
		assert.Contains(t, help, c.Hash+" ", "-h: %s", c.Hash)
	}
	for _, p := range properties.Properties {
		row := "| `" + p.Name + "` | " + strings.ReplaceAll(p.Desc, "|", "\\|") + " | " + p.Spec + " |"
		assert.True(t, strings.Contains(string(readme), row), "README: the row of property %s must read\n%s", p.Name, row)
	}
	for _, k := range properties.Findings {
		assert.Contains(t, string(readme), k.Slug+".txt", "README: finding %s", k.Slug)
		_, err := os.Stat("../../testdata/kept/" + k.Slug + ".txt")
		assert.NoError(t, err, "no kept case for %s: run make keep", k.Slug)
	}
}
