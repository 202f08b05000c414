package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimelineIsConsistent: every quirk's range names commits of the
// timeline, every commit after the first changes at least one quirk (a
// profile that changes nothing is not a profile), names are unique, and
// parent and seed are the commits of the design.
func TestTimelineIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range Timeline {
		require.Len(t, c.Hash, 9, "commit %d", i)
		require.False(t, seen[c.Name()], "duplicate name %s", c.Name())
		seen[c.Name()] = true
		if i > 0 {
			assert.LessOrEqual(t, Timeline[i-1].Date, c.Date, "%s is out of order", c.Hash)
		}
	}
	for _, q := range AllQuirks() {
		since, until := q.Range()
		for _, h := range []string{since, until} {
			if h != "" {
				assert.GreaterOrEqual(t, commitIndex(h), 0, "quirk %s names %s, not in the timeline", q.Name(), h)
			}
		}
		if since != "" && until != "" {
			assert.Less(t, commitIndex(since), commitIndex(until), "quirk %s ends before it starts", q.Name())
		}
		assert.NotEmpty(t, q.Doc(), q.Name())
	}
	ps := Profiles()
	for i := 1; i < len(ps); i++ {
		if ps[i].Commit.Alias == "head" && i == len(ps)-1 {
			continue // upstream HEAD, named even where nothing modelled changed since the commit before it
		}
		assert.NotEqual(t, ps[i-1].Quirks, ps[i].Quirks, "%s changes no quirk: it is not a profile", ps[i].Commit.Hash)
	}
	assert.Equal(t, "716db379f", Parent.Commit.Hash)
	assert.Equal(t, "f3105c779", Seed.Commit.Hash)
	assert.True(t, Parent.Has(RunnerNotFound404))
	assert.False(t, Seed.Has(RunnerNotFound404))
	for _, p := range ps {
		assert.False(t, p.Mixed(), "%s", p.Name())
	}
}

func TestProfileNames(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"seed", "f3105c779", false},
		{"parent", "716db379f", false},
		{"5111b8e76", "5111b8e76", false},
		{"5111b8e", "5111b8e76", false},
		{"5111b8e76b2f05d8", "5111b8e76", false},
		{"5111b8", "", true}, // too short to be a commit
		{"fixed", "", true},  // withdrawn: it was a mixture
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ProfileByName(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Commit.Hash)
		})
	}
	all, err := ParseProfiles("all")
	require.NoError(t, err)
	assert.Len(t, all, len(Timeline))
	some, err := ParseProfiles("5111b8e76,parent,seed")
	require.NoError(t, err)
	assert.Equal(t, []string{"parent", "seed", "5111b8e76"}, []string{some[0].Name(), some[1].Name(), some[2].Name()}, "timeline order")
	_, err = ParseProfiles(",")
	require.Error(t, err)
}

func TestMixtureSaysSo(t *testing.T) {
	p := Seed
	require.NoError(t, p.Set("gateway_fresh_ack_id", false))
	assert.True(t, p.Mixed())
	assert.Equal(t, "seed+quirk=-gateway_fresh_ack_id", p.Name())
	require.Error(t, p.Set("no_such_quirk", true))
}
