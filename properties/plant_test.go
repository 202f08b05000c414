package properties

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
)

// TestPlantedBugsCoverEveryProperty checks the catalogue of planted bugs
// against the oracle: every bug aims at a property that exists, at a
// profile of the timeline, and every property is the target of at least
// one bug (a property no planted bug can break is a defect of the
// property). `make mutants` runs them.
func TestPlantedBugsCoverEveryProperty(t *testing.T) {
	aimed := map[string]int{}
	names := map[string]bool{}
	for _, b := range plant.Bugs {
		assert.False(t, names[b.Name], "duplicate bug name %s", b.Name)
		names[b.Name] = true
		assert.Contains(t, PropertyNames(), b.Property, "bug %s aims at an unknown property", b.Name)
		_, err := model.ProfileByName(b.Profile)
		assert.NoError(t, err, "bug %s", b.Name)
		assert.Positive(t, b.Budget, "bug %s", b.Name)
		aimed[b.Property]++
	}
	require.GreaterOrEqual(t, len(plant.Bugs), 25)
	for _, p := range PropertyNames() {
		assert.Positive(t, aimed[p], "no planted bug aims at property %s", p)
	}
}
