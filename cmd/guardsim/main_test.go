package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/properties"
)

// TestMainJobSmoke runs the main job's paths on a small budget, from the
// repository root, so they cannot rot between runs of make sim.
func TestMainJobSmoke(t *testing.T) {
	require.NoError(t, os.Chdir("../.."))
	t.Cleanup(func() { _ = os.Chdir("cmd/guardsim") })
	require.NoError(t, explore([]string{"fixed"}, properties.PropertyNames(), 50, 1, false))
	require.NoError(t, replayScript("testdata/kept/parent_404_seed_property.txt"))
}
