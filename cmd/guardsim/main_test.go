package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	ps = model.Profiles()
	var stdout, stderr strings.Builder
	pics := t.TempDir()
	code := run([]string{"-profile=" + ps[len(ps)-2].Name() + "," + ps[len(ps)-1].Name(), "-checks=30", "-rapidseed=1", "-chunks=2", "-directed=20", "-workers=1", "-html=" + pics}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "rapid seed 1")
	pages, err := filepath.Glob(filepath.Join(pics, "*.html"))
	require.NoError(t, err)
	checkPages(t, stdout.String(), pages)
	require.NoError(t, replayScript(io.Discard, "testdata/kept/parent_404_reaches_client.txt", ""))

	// -replay -html draws any scenario.
	page := filepath.Join(pics, "replay.html")
	stdout.Reset()
	require.Equal(t, 0, run([]string{"-replay=testdata/scenarios/pr3322_race_seed.txt", "-html=" + page}, &stdout, &stderr), "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "picture: "+page)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(b), "data-arrow")
}

// TestDocsFollowTheRegistries: the README's tables of profiles, properties
// and findings, docs/timeline.md (and timeline-head.md) and -h are checked against the registries in
// model/profile.go and properties/findings.go, so they cannot drift.
func TestDocsFollowTheRegistries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	timeline, err := os.ReadFile("../../docs/timeline.md")
	require.NoError(t, err)
	head, err := os.ReadFile("../../docs/timeline-head.md") // the profiles after 553683bfd (issue 12)
	require.NoError(t, err)
	timeline = append(timeline, head...)
	help := model.TimelineText()
	for _, c := range model.Timeline {
		assert.Contains(t, string(readme), "`"+c.Hash+"`", "README: profile %s", c.Hash)
		assert.Contains(t, string(readme), c.Title, "README: title of %s", c.Hash)
		assert.Contains(t, string(timeline), "`"+c.Hash+"`", "docs/timeline.md or docs/timeline-head.md: %s", c.Hash)
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
	ps, err := model.ParseProfiles("seed,parent")
	require.NoError(t, err)
	sw := newSweep(ps, []string{"retry_reaches_moved_actor", "attempts"}, 40, 7, 3, 0, 0, "", nil)
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
	// The merge draws one page per distinct failure and prints its path.
	var out strings.Builder
	pics := t.TempDir()
	require.NoError(t, mergeFiles(&out, files, false, pics))
	pages, err := filepath.Glob(filepath.Join(pics, "*.html"))
	require.NoError(t, err)
	checkPages(t, out.String(), pages)
	if len(pages) == 0 {
		t.Log("the sweep met no failure: no pages to check")
	}
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

// TestCommandLine: every command line that makes no sense is a usage
// error (exit code 2) naming the flag and its value, with the usage hint,
// before any work; a fail file or kept case that cannot be read or no
// longer fails is an error (exit code 1) naming the file.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.fail")
	require.NoError(t, os.WriteFile(garbage, []byte("# a comment\nthis is not a fail file\n"), 0o644))
	badNumber := filepath.Join(dir, "bad_number.fail")
	require.NoError(t, os.WriteFile(badNumber, []byte("v0.4.8#37\n0x12\nzz\n"), 0o644))
	empty := filepath.Join(dir, "empty.fail")
	require.NoError(t, os.WriteFile(empty, []byte("# only comments\n"), 0o644))
	const keptCase = "../../testdata/kept/parent_404_reaches_client.txt"
	failFile, err := filepath.Glob("../../testdata/rapid/Keep_parent_404_reaches_client/*.fail")
	require.NoError(t, err)
	require.Len(t, failFile, 1)
	// The kept case at the fix's profile: its violation is gone (its
	// expect_violation is checked before its hash).
	b, err := os.ReadFile(keptCase)
	require.NoError(t, err)
	text := strings.Replace(string(b), "world profile=parent ", "world profile=seed ", 1)
	hash := regexp.MustCompile(`(?m)^expect_hash .*\n`)
	text = hash.ReplaceAllString(text, "") + hash.FindString(string(b))
	fixed := filepath.Join(dir, "parent_404_reaches_client.txt")
	require.NoError(t, os.WriteFile(fixed, []byte(text), 0o644))

	const hint = "Run 'guardsim -h'"
	for _, tt := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		// Numbers.
		{[]string{"-checks=0"}, 2, "-checks=0: must be positive"},
		{[]string{"-checks=-5"}, 2, "-checks=-5: must be positive"},
		{[]string{"-checks=many"}, 2, `invalid value "many" for flag -checks`},
		{[]string{"-workers=0"}, 2, "-workers=0: must be positive"},
		{[]string{"-chunks=0"}, 2, "-chunks=0: must be positive"},
		{[]string{"-directed=-1"}, 2, "-directed=-1: must not be negative"},
		{[]string{"-shrinktime=-1s"}, 2, "-shrinktime=-1s: must not be negative"},
		{[]string{"-rapidseed=0"}, 2, "-rapidseed=0: give a seed from 1 on"},
		{[]string{"-fuzzcompare=0s"}, 2, "-fuzzcompare=0s: must be positive"},
		// Names.
		{[]string{"-profile=nosuch"}, 2, `-profile=nosuch: unknown profile "nosuch"`},
		{[]string{"-profile=seed,nosuch"}, 2, `-profile=seed,nosuch: unknown profile "nosuch"`},
		{[]string{"-profile=,"}, 2, `-profile=,: no profile named`},
		{[]string{"-property=nosuch"}, 2, `-property=nosuch: unknown property "nosuch"`},
		{[]string{"-property=seed"}, 2, `-property=seed: unknown property "seed"`},
		{[]string{"-property=,"}, 2, `-property=,: no property named`},
		{[]string{"-search=nosuch"}, 2, `-search=nosuch: unknown finding "nosuch"`},
		{[]string{"-search=parent_404_seed_property"}, 2, `unknown finding "parent_404_seed_property"`},
		{[]string{"-keep", "-search=nosuch"}, 2, `-search=nosuch: unknown finding "nosuch"`},
		{[]string{"-fuzzcompare=1s", "-search=parent_404_reaches_client,nosuch"}, 2, `unknown finding "nosuch"`},
		{[]string{"-focus=ws_open,nosuch"}, 2, `-focus=ws_open,nosuch: unknown action kind "nosuch"`},
		{[]string{"-plant=guard_route_twice"}, 2, "-plant=guard_route_twice needs the planted bugs compiled in"},
		// Shards.
		{[]string{"-shard=0/2", "-out=x.json", "-rapidseed=1"}, 2, `-shard="0/2": want i/n with 1 ≤ i ≤ n`},
		{[]string{"-shard=3/2", "-out=x.json", "-rapidseed=1"}, 2, `-shard="3/2": want i/n`},
		{[]string{"-shard=1", "-out=x.json", "-rapidseed=1"}, 2, `-shard="1": want i/n`},
		{[]string{"-shard=a/b", "-out=x.json", "-rapidseed=1"}, 2, `-shard="a/b": want i/n`},
		{[]string{"-shard=1/0", "-out=x.json", "-rapidseed=1"}, 2, `-shard="1/0": want i/n`},
		{[]string{"-shard=1/2", "-rapidseed=1"}, 2, "-shard=1/2 needs -out=FILE"},
		{[]string{"-shard=1/2", "-out=x.json"}, 2, "-shard=1/2 needs -rapidseed=S"},
		{[]string{"-shard=1/2", "-out=x.json", "-rapidseed=1", "-workers=2"}, 2, "-workers=2 does not apply to -shard"},
		{[]string{"-out=x.json"}, 2, "-out=x.json needs -shard=i/n"},
		// Flags that make no sense together.
		{[]string{"-replay=x.txt", "-failfile=y.fail"}, 2, "-replay=x.txt and -failfile=y.fail cannot be used together"},
		{[]string{"-merge", "-shard=1/2", "a.json"}, 2, "-merge=true and -shard=1/2 cannot be used together"},
		{[]string{"-keep", "-replay=x.txt"}, 2, "-replay=x.txt and -keep=true cannot be used together"},
		{[]string{"-replay=x.txt", "-checks=10"}, 2, "-checks=10 does not apply to -replay (which takes -profile, -plant, -html)"},
		{[]string{"-replay=x.txt", "-property=outcome"}, 2, "-property=outcome does not apply to -replay"},
		{[]string{"-replay=x.txt", "-rapidseed=3"}, 2, "-rapidseed=3 does not apply to -replay"},
		{[]string{"-keep", "-rapidseed=3"}, 2, "-rapidseed=3 does not apply to -keep (which takes -search)"},
		{[]string{"-keep", "-profile=seed"}, 2, "-profile=seed does not apply to -keep"},
		{[]string{"-search=parent_404_reaches_client", "-property=outcome"}, 2, "-property=outcome does not apply to -search"},
		{[]string{"-quirks=quirk=-gateway_inverted_gc"}, 2, "-quirks=quirk=-gateway_inverted_gc does not apply to exploring"},
		{[]string{"-merge", "-checks=5", "a.json"}, 2, "-checks=5 does not apply to -merge (which takes -v, -html)"},
		// One -profile, one -property.
		{[]string{"-replay=x.txt", "-profile=all"}, 2, "-profile=all: -replay takes exactly one profile"},
		{[]string{"-replay=x.txt", "-profile=seed,parent"}, 2, "-profile=seed,parent: -replay takes exactly one profile"},
		{[]string{"-failfile=y.fail"}, 2, "-failfile=y.fail needs -profile=P"},
		{[]string{"-failfile=y.fail", "-profile=parent,seed"}, 2, "-profile=parent,seed: -failfile takes exactly one profile"},
		{[]string{"-failfile=y.fail", "-profile=parent", "-property=outcome,attempts"}, 2, "-property=outcome,attempts: -failfile takes one property"},
		{[]string{"-failfile=y.fail", "-profile=parent", "-property=all"}, 2, "-property=all: -failfile takes one property"},
		{[]string{"-search=parent_404_reaches_client", "-profile=all"}, 2, "-profile=all: -search takes exactly one profile"},
		// Renamed flags.
		// Pictures and the command list.
		{[]string{"-html="}, 2, "-html=: name a file (-replay, -failfile) or a directory (exploring, -merge), or off"},
		{[]string{"-replay=x.txt", "-html=off"}, 2, "-html=off: -replay draws only when -html names a file"},
		{[]string{"-commands", "-checks=1"}, 2, "-checks=1 does not apply to -commands (which takes no other flag)"},
		{[]string{"-keep", "-html=x"}, 2, "-html=x does not apply to -keep"},
		{[]string{"-seed=7"}, 2, "-seed=7: there is no -seed flag any more: use -rapidseed"},
		{[]string{"-seed", "7"}, 2, "-seed=7: there is no -seed flag any more: use -rapidseed"},
		{[]string{"-profile=seed", "-property=seed", "-seed=7"}, 2, "-seed=7: there is no -seed flag any more: use -rapidseed"},
		{[]string{"-profiles=all"}, 2, "-profiles=all: there is no -profiles flag any more: use -profile"},
		{[]string{"-properties=outcome"}, 2, "-properties=outcome: there is no -properties flag any more: use -property"},
		{[]string{"--seed=7"}, 2, "use -rapidseed"},
		// Arguments.
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-checks=10", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-merge"}, 2, "-merge needs the shard result files as arguments"},
		{[]string{"-nosuch"}, 2, "flag provided but not defined: -nosuch"},
		// Fail files and kept cases that cannot be read or no longer fail.
		{[]string{"-failfile=" + filepath.Join(dir, "missing.fail"), "-profile=parent"}, 1, "missing.fail: no such file"},
		{[]string{"-failfile=" + garbage, "-profile=parent"}, 1, garbage + `:2: not a rapid fail file: want VERSION#SEED, got "this is not a fail file"`},
		{[]string{"-failfile=" + badNumber, "-profile=parent"}, 1, badNumber + `:3: not a rapid fail file: want a number, got "zz"`},
		{[]string{"-failfile=" + empty, "-profile=parent"}, 1, empty + ": not a rapid fail file: no data in it"},
		{[]string{"-failfile=" + failFile[0], "-profile=seed", "-property=retry_reaches_moved_actor"}, 1,
			failFile[0] + " no longer fails: the property retry_reaches_moved_actor holds at seed"},
		{[]string{"-replay=" + filepath.Join(dir, "missing.txt")}, 1, "missing.txt: no such file"},
		{[]string{"-replay=" + fixed}, 1, "the kept case " + fixed + " no longer reproduces its violation of retry_reaches_moved_actor"},
		// What works.
		{[]string{"-failfile=" + failFile[0], "-profile=parent", "-property=retry_reaches_moved_actor"}, 0, ""},
		{[]string{"-replay=" + keptCase}, 0, ""},
		{[]string{"-replay=" + keptCase, "-profile=seed"}, 0, ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code, "exit code; stderr:\n%s", stderr.String())
			assert.Contains(t, stderr.String(), tt.want)
			switch tt.code {
			case 0:
				assert.Empty(t, stderr.String())
			case 1:
				assert.NotContains(t, stderr.String(), hint)
			case 2:
				assert.Contains(t, stderr.String(), hint, "a usage error ends with the hint")
				assert.Empty(t, stdout.String(), "a usage error does no work")
			}
		})
	}
}

// TestCommands: -commands prints the registry's reference, which is the
// one testdata/scenarios/README.md has.
func TestCommands(t *testing.T) {
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run([]string{"-commands"}, &stdout, &stderr), stderr.String())
	assert.Equal(t, properties.CommandTable(), stdout.String())
	assert.Contains(t, stdout.String(), "| `send NAME DATA` |")
}

// TestHelp: -h lists the flags (the renamed ones no more), the profiles
// and the properties, on stdout, and exits 0.
func TestHelp(t *testing.T) {
	var stdout, stderr strings.Builder
	require.Equal(t, 0, run([]string{"-h"}, &stdout, &stderr))
	help := stdout.String()
	for _, f := range []string{"-profile", "-property", "-rapidseed", "-checks", "-failfile", "-replay", "-shard", "-out", "-merge", "-keep", "-search"} {
		assert.Regexp(t, "\n  "+f+"[ \n]", help, "-h lists %s", f)
	}
	for _, f := range []string{"-seed ", "-profiles ", "-properties ", "-test.", "-rapid."} {
		assert.NotContains(t, help, "\n  "+f, "-h no longer lists %s", f)
	}
	for _, p := range model.ProfileNames() {
		assert.Contains(t, help, p)
	}
	for _, p := range properties.PropertyNames() {
		assert.Contains(t, help, p)
	}
}

// checkPages: every failure the report shows points to a page that was
// drawn (its own, or its finding's through the same property at the first
// profile showing it), or says it was not minimized; and every page drawn
// is pointed to.
func checkPages(t *testing.T, out string, pages []string) {
	t.Helper()
	pointed := map[string]bool{}
	sections := strings.Split(out, "\n=== ")[1:]
	for _, sec := range sections {
		_, rest, ok := strings.Cut(sec, "\npicture: ")
		if !ok {
			assert.Contains(t, sec, "not minimized", "a failure shown without a picture says why: %s", sec)
			continue
		}
		path, _, _ := strings.Cut(rest, "\n")
		path, _, _ = strings.Cut(path, " (")
		pointed[path] = true
	}
	drawn := map[string]bool{}
	for _, p := range pages {
		drawn[p] = true
	}
	assert.Equal(t, drawn, pointed, "the pages drawn are the pages the report points to")
}

// TestDirectedProfiles: a finding's directed searches cover its whole range
// when it is short, and otherwise maxDirectedProfiles profiles of it, its
// first, its last and its SearchAt among them, in timeline order but for
// SearchAt.
func TestDirectedProfiles(t *testing.T) {
	var all []string
	for _, p := range model.Profiles() {
		all = append(all, p.Name())
	}
	for _, k := range properties.Findings {
		t.Run(k.Slug, func(t *testing.T) {
			var covered []string
			for _, p := range model.Profiles() {
				if k.Covers(p) {
					covered = append(covered, p.Name())
				}
			}
			got := directedProfiles(k, all)
			if len(covered) <= maxDirectedProfiles {
				assert.Equal(t, covered, got)
				return
			}
			assert.Len(t, got, maxDirectedProfiles)
			assert.Equal(t, covered[0], got[0], "the range's first profile")
			assert.Contains(t, got, covered[len(covered)-1], "the range's last profile")
			at, err := model.ProfileByName(k.SearchAt)
			require.NoError(t, err)
			if k.Covers(at) {
				assert.Contains(t, got, at.Name(), "the profile the finding was tuned at")
			}
			for _, p := range got {
				assert.Contains(t, covered, p)
			}
		})
	}
	// A sweep of some profiles searches only among them.
	assert.Empty(t, directedProfiles(properties.Findings[0], []string{"head"}))
}
