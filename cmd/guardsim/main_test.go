package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	sw, err := newSweep(ps[len(ps)-2].Name()+","+ps[len(ps)-1].Name(), strings.Join(properties.PropertyNames(), ","), 30, 1, 2, 20, 0, "")
	require.NoError(t, err)
	require.NoError(t, explore(sw, 1, false))
	require.NoError(t, replayScript("testdata/kept/parent_404_reaches_client.txt", ""))
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

// TestShardsMergeToTheWholeSweep: the shards of a sweep are disjoint, cover
// it, and merge back to what one process explores; a merge refuses results
// that are not the shards of one sweep, each once, all of them.
func TestShardsMergeToTheWholeSweep(t *testing.T) {
	// rapid's fail files go to testdata/rapid/ under the working directory
	// and are replayed first: work in a fresh one.
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(t.TempDir()))
	t.Cleanup(func() { _ = os.Chdir(wd) })
	sw, err := newSweep("seed,parent", "seed,attempts", 40, 7, 3, 0, 0, "")
	require.NoError(t, err)
	require.Len(t, sw.units(), 6)
	checks := 0
	for _, u := range sw.units() {
		checks += u.Checks
	}
	assert.Equal(t, 80, checks, "the chunks split each profile's budget exactly")

	whole, err := runShard(sw, shard{1, 1}, false, io.Discard)
	require.NoError(t, err)
	dir := t.TempDir()
	var files []string
	var parts []shardResult
	for i := 1; i <= 2; i++ {
		r, err := runShard(sw, shard{i, 2}, false, io.Discard)
		require.NoError(t, err)
		f := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		require.NoError(t, writeShard(f, r))
		files = append(files, f)
		back, err := readShard(f)
		require.NoError(t, err)
		parts = append(parts, back)
	}
	_, merged, err := mergeShards(parts)
	require.NoError(t, err)
	_, one, err := mergeShards([]shardResult{whole})
	require.NoError(t, err)
	strip := func(us []unitResult) (out []string) {
		for _, u := range us {
			s := fmt.Sprintf("%+v checks=%d", u.Unit, u.Stats.Checks)
			for _, f := range u.Failures {
				s += " | " + f.Sig
			}
			out = append(out, s)
		}
		return out
	}
	assert.Equal(t, strip(one), strip(merged), "two shards merge to the sweep one process explores")
	require.NoError(t, mergeFiles(files, false))
	require.NoError(t, os.RemoveAll("testdata"))

	for _, tt := range []struct {
		name string
		rs   []shardResult
		want string
	}{
		{"missing", parts[:1], "missing shard(s) 2/2"},
		{"twice", []shardResult{parts[0], parts[0], parts[1]}, "given twice"},
		{"another sweep", []shardResult{parts[0], func() shardResult { r := parts[1]; r.Sweep.Seed++; return r }()}, "another sweep"},
	} {
		_, _, err := mergeShards(tt.rs)
		assert.ErrorContains(t, err, tt.want, tt.name)
	}
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n \"shard\": \"1/2\",\n oops\n}\n"), 0o644))
	_, err = readShard(bad)
	assert.ErrorContains(t, err, "bad.json:3:")
	for _, v := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		_, err := parseShard(v)
		assert.Error(t, err, v)
	}
}
