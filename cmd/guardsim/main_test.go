package main

import (
	"os"
	"testing"

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
