package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
	"github.com/guardsim/guardsim/sim"
)

// A sweep is the main job's whole exploration: every profile against every
// property, checks scenarios per profile from one rapid seed. It is cut
// into units, a profile's budget in chunks, each explored from its own
// seed. A unit's result depends only on the sweep and the unit (and on
// rapid's wall-clock bound on shrinking), never on which process or
// machine runs it, so the units can be dealt to shards: worker processes
// on this machine, or the jobs of a CI matrix, and their results merged.
type sweep struct {
	Profiles   []string `json:"profiles"`
	Properties []string `json:"properties"`
	Checks     int      `json:"checks"`
	Seed       uint64   `json:"seed"`
	Chunks     int      `json:"chunks"`
	Directed   int      `json:"directed"`
	Shrink     string   `json:"shrinktime"`
	Plant      string   `json:"plant,omitempty"`
	// Focus limits the chunks' action kinds (-focus); the directed
	// searches keep their findings' own.
	Focus []string `json:"focus,omitempty"`
}

// unit is one chunk of one profile's budget, or a directed search: the
// swarm limited to the action kinds of one registered finding's Focus, at
// a profile its range covers, so that a known finding the full swarm meets
// rarely is still looked for (directedProfiles says at which).
type unit struct {
	Profile string `json:"profile"`
	Chunk   int    `json:"chunk"`
	Finding string `json:"finding,omitempty"` // a directed unit's finding
	Checks  int    `json:"checks"`
	Seed    uint64 `json:"seed"`
}

// chunkSeedStride separates the seeds of a profile's chunks: each chunk's
// exploration may move on to later seeds after a failure (seed, seed+1,
// ...), far fewer than this many.
const chunkSeedStride = 1_000_003

// profileSeedStride separates the seeds of one finding's directed searches
// at the profiles of its range. The chunks of every profile draw the same
// scenarios (so a column differs from its neighbour by the commit alone),
// but a directed search is there to find its finding at least somewhere in
// its range: with one seed for all it drew the same few hundred scenarios
// at each commit (runner_blip_loses_message, met about once in a thousand
// of them, was reported on 4 of 10 seeds); with a seed per profile the
// searches of a range add up.
const profileSeedStride = 1_000 * chunkSeedStride

// units lists the sweep's units in a fixed order: profiles oldest first,
// then chunks, then directed searches in the findings' registry order.
func (s sweep) units() []unit {
	var us []unit
	directed := make([][]string, len(properties.Findings))
	if s.Directed > 0 {
		for i, k := range properties.Findings {
			directed[i] = directedProfiles(k, s.Profiles)
		}
	}
	for _, p := range s.Profiles {
		for c := range s.Chunks {
			n := s.Checks / s.Chunks
			if c < s.Checks%s.Chunks {
				n++
			}
			if n > 0 {
				us = append(us, unit{Profile: p, Chunk: c, Checks: n, Seed: s.Seed + uint64(c)*chunkSeedStride})
			}
		}
		if s.Directed == 0 {
			continue
		}
		prof, err := model.ProfileByName(p)
		if err != nil {
			continue // newSweep parsed every profile
		}
		for i, k := range properties.Findings {
			if len(k.Focus) > 0 && slices.Contains(directed[i], p) {
				us = append(us, unit{Profile: p, Chunk: s.Chunks + i, Finding: k.Slug, Checks: s.Directed * max(k.DirectedScale, 1),
					Seed: s.Seed + uint64(s.Chunks+i)*chunkSeedStride + uint64(prof.Index())*profileSeedStride})
			}
		}
	}
	return us
}

// maxDirectedProfiles bounds how many profiles of a finding's range get a
// directed search. The ranges carried to upstream HEAD cover up to 48
// profiles, and a search at each cost make sim 160 s of its 400 s of work
// on two cores; six searches, spread over the range, find each finding on
// every seed (the note of issue 12 has the table).
const maxDirectedProfiles = 6

// directedProfiles are the profiles of the sweep where finding k gets a
// directed search: every one its range covers, or, for a longer range,
// maxDirectedProfiles of them spread evenly from its first to its last,
// its SearchAt (where it was tuned) among them.
func directedProfiles(k properties.Finding, profiles []string) []string {
	var covered []string
	for _, p := range profiles {
		prof, err := model.ProfileByName(p)
		if err == nil && k.Covers(prof) {
			covered = append(covered, p)
		}
	}
	n := len(covered)
	if n <= maxDirectedProfiles {
		return covered
	}
	idx := make([]int, maxDirectedProfiles)
	for j := range idx {
		idx[j] = (j*(n-1) + (maxDirectedProfiles-1)/2) / (maxDirectedProfiles - 1)
	}
	// SearchAt, where the finding was tuned, takes the place of the
	// nearest pick between the first and the last.
	if prof, err := model.ProfileByName(k.SearchAt); err == nil {
		if at := slices.Index(covered, prof.Name()); at >= 0 && !slices.Contains(idx, at) {
			near := 1
			for j := 2; j < len(idx)-1; j++ {
				if abs(idx[j]-at) < abs(idx[near]-at) {
					near = j
				}
			}
			idx[near] = at
			slices.Sort(idx)
		}
	}
	out := make([]string, len(idx))
	for j, i := range idx {
		out[j] = covered[i]
	}
	return out
}

func abs(x int) int { return max(x, -x) }

// shard is the i-th of n disjoint parts of a sweep (1 ≤ i ≤ n): the units
// whose position in the sweep's order is i-1 modulo n.
type shard struct{ I, N int }

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

func parseShard(v string) (shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return shard{}, fmt.Errorf("-shard=%q: want i/n with 1 ≤ i ≤ n, e.g. -shard=2/4", v)
	}
	return shard{i, n}, nil
}

func (s shard) has(pos int) bool { return pos%s.N == s.I-1 }

// shardResult is what one shard found: the file a shard writes with -out
// and -merge reads.
type shardResult struct {
	Sweep sweep        `json:"sweep"`
	Shard string       `json:"shard"`
	Units []unitResult `json:"units"`
}

type unitResult struct {
	Unit     unit             `json:"unit"`
	Stats    properties.Stats `json:"stats"`
	Failures []sigResult      `json:"failures"`
}

// sigResult is one distinct failure (by signature) met in a unit: how many
// violating scenarios showed it and its first one, shrunk and reported.
type sigResult struct {
	Sig      string   `json:"signature"`
	Property string   `json:"property"`
	Finding  string   `json:"finding,omitempty"` // the registered finding that explains it
	Count    int      `json:"count"`
	Checks   int      `json:"checks"`  // scenarios of the unit before it was found
	Actions  int      `json:"actions"` // the shrunk case's size
	Report   string   `json:"report"`
	Script   []string `json:"script"` // the shrunk case, to draw it
	// NotMinimized: met by a directed search that minimizes only its own
	// finding's failures and new ones (Report says so; no Script).
	NotMinimized bool   `json:"not_minimized,omitempty"`
	Trace        string `json:"trace,omitempty"` // with -v
}

// runUnit explores one unit: every property in every scenario for the
// whole budget; a scenario whose violations all have signatures met before
// is counted and passed over, a new signature stops rapid, is shrunk and
// recorded, and the exploration goes on from the next seed.
func runUnit(sw sweep, u unit, verbose bool, log io.Writer) (unitResult, error) {
	res := unitResult{Unit: u}
	p, err := model.ProfileByName(u.Profile)
	if err != nil {
		return res, err
	}
	sigs := map[string]*sigResult{}
	var order []*sigResult
	tolerate := func(f *properties.Failure) bool {
		for _, s := range properties.Signatures(f) {
			if sigs[s] == nil {
				return false
			}
		}
		return true
	}
	tolerated := func(f *properties.Failure) {
		for _, s := range properties.Signatures(f) {
			sigs[s].Count++
		}
	}
	name := fmt.Sprintf("Explore_%s", u.Profile)
	if u.Chunk > 0 {
		name = fmt.Sprintf("Explore_%s_%d", u.Profile, u.Chunk)
	}
	focus := sw.Focus
	if u.Finding != "" {
		k, err := properties.FindingBySlug(u.Finding)
		if err != nil {
			return res, err
		}
		focus, name = k.Focus, fmt.Sprintf("Explore_%s_%s", u.Profile, u.Finding)
	}
	// rapid's own shrinking runs for the sweep's shrink time; none (a
	// nanosecond) leaves every failure to the minimizer.
	shrink, err := time.ParseDuration(sw.Shrink)
	if err != nil {
		return res, fmt.Errorf("sweep: shrink time %q: %w", sw.Shrink, err)
	}
	shrink = max(shrink, time.Nanosecond)
	var minimize func(*properties.Failure) bool
	if u.Finding != "" {
		// A directed search minimizes its own finding's failures and new
		// ones (no registered finding in its range explains them); the
		// rest are the swarm's to show, and minimizing them again in
		// every directed search was a third of make sim's time.
		minimize = func(f *properties.Failure) bool {
			for _, s := range properties.Signatures(f) {
				slugs, outside := properties.SignatureFindings(s)
				if len(slugs) == 0 || outside || slugs[0] == u.Finding {
					return true
				}
			}
			return false
		}
	}
	for round := uint64(0); res.Stats.Checks < u.Checks; round++ {
		done := res.Stats
		r := properties.Explore(properties.ExploreConfig{Profile: p, Properties: sw.Properties, Checks: u.Checks - done.Checks,
			Seed: u.Seed + round, Name: name, Focus: focus, ShrinkTime: shrink, Tolerate: tolerate, Tolerated: tolerated,
			KeptStart: true, Minimize: minimize})
		if r.Err != nil {
			var np *sim.NoProgressError
			if errors.As(r.Err, &np) {
				return res, fmt.Errorf("%s: the harness made no progress: %w", u.Profile, r.Err)
			}
			return res, fmt.Errorf("%s: %w", u.Profile, r.Err)
		}
		res.Stats.Checks += r.Stats.Checks
		res.Stats.Scenarios += r.Stats.Scenarios
		res.Stats.Virtual += r.Stats.Virtual
		res.Stats.Events += r.Stats.Events
		res.Stats.Wall += r.Stats.Wall
		res.Stats.Tolerated += r.Stats.Tolerated
		f := r.Failure
		if f == nil {
			break
		}
		f.Checks += done.Checks
		report := f.Report()
		if f.NotMinimized {
			// What broke and how to replay it; the swarm's scenario is
			// left out (the swarm's own unit, or the finding's kept case,
			// shows the failure shrunk).
			report, _, _ = strings.Cut(report, "\noptions: ")
			report += fmt.Sprintf("\n  not minimized: a search directed at %s minimizes only that finding's failures and new ones\n", u.Finding)
		}
		for _, v := range f.Violations {
			for _, s := range properties.ViolationSignatures(f, v) {
				if sigs[s] != nil {
					continue
				}
				sr := &sigResult{Sig: s, Property: v.Property, Count: 1, Checks: f.Checks, Actions: f.Actions, Report: report, Script: f.Script, NotMinimized: f.NotMinimized}
				if f.NotMinimized {
					sr.Script = nil
				}
				if verbose {
					sr.Trace = f.Trace
				}
				what := "NOT a registered finding"
				if slugs, outside := properties.SignatureFindings(s); len(slugs) > 0 {
					sr.Finding = slugs[0]
					what = "registered finding " + slugs[0]
					if outside {
						what += ", outside its range"
					}
				}
				sigs[s] = sr
				order = append(order, sr)
				where := ""
				if u.Finding != "" {
					where = " directed at " + u.Finding
					sr.Report = fmt.Sprintf("  (found by the search directed at %s: action kinds %s)\n", u.Finding, strings.Join(focus, ",")) + sr.Report
				}
				size := fmt.Sprintf("minimized to %d actions", f.Actions)
				if f.NotMinimized {
					size = "not minimized"
				}
				fmt.Fprintf(log, "  %-9s %-12s VIOLATED after %d scenarios%s, %s (%s)\n", u.Profile, v.Property, f.Checks, where, size, what)
			}
		}
	}
	for _, sr := range order {
		res.Failures = append(res.Failures, *sr)
	}
	return res, nil
}

// claimsEnv names the directory through which the worker processes of one
// machine deal the sweep's units among themselves (runWorkers sets it):
// each unit goes to the first worker that creates its claim file, so a
// worker that drew cheap units takes more, and none sits idle while
// another still has a queue. Without it a shard takes every n-th unit (a
// CI matrix, whose jobs share no disk).
const claimsEnv = "GUARDSIM_CLAIMS"

// claim reports whether this process takes the unit at pos: it is the
// shard's, or this worker was first to claim it.
func claim(dir string, sh shard, pos int) (bool, error) {
	if dir == "" {
		return sh.has(pos), nil
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("unit-%d", pos)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	switch {
	case errors.Is(err, fs.ErrExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claiming unit %d: %w", pos, err)
	}
	return true, f.Close()
}

// runShard explores the shard's units. Claiming workers take the units
// newest profile first: the later commits' scenarios run longer (pings,
// keepalives, hibernation), and the long units are best dealt first.
func runShard(sw sweep, sh shard, verbose bool, log io.Writer) (shardResult, error) {
	out := shardResult{Sweep: sw, Shard: sh.String()}
	units := sw.units()
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	claims := os.Getenv(claimsEnv)
	if claims != "" {
		slices.Reverse(order)
	}
	for _, pos := range order {
		u := units[pos]
		mine, err := claim(claims, sh, pos)
		if err != nil {
			return out, err
		}
		if !mine {
			continue
		}
		r, err := runUnit(sw, u, verbose, log)
		if err != nil {
			return out, err
		}
		what := fmt.Sprintf("chunk %d", u.Chunk)
		if u.Finding != "" {
			what = "search directed at " + u.Finding
		}
		fmt.Fprintf(log, "  %-9s %s done: %d scenarios checked (%d run) in %s, %d distinct failure(s)\n",
			u.Profile, what, r.Stats.Checks, r.Stats.Scenarios, r.Stats.Wall.Round(1e6), len(r.Failures))
		out.Units = append(out.Units, r)
	}
	return out, nil
}

func writeShard(path string, r shardResult) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readShard(path string) (shardResult, error) {
	var r shardResult
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(b[:min(int(se.Offset), len(b))]), "\n")
			return r, fmt.Errorf("%s:%d: not a shard result: %v", path, line, err)
		}
		return r, fmt.Errorf("%s: not a shard result: %v", path, err)
	}
	if r.Shard == "" || len(r.Sweep.Profiles) == 0 {
		return r, fmt.Errorf("%s: not a shard result (no shard or sweep in it)", path)
	}
	return r, nil
}

// mergeShards checks that the results are the shards of one sweep, each
// once, all of them, and returns the units in the sweep's order.
func mergeShards(rs []shardResult) (sweep, []unitResult, error) {
	if len(rs) == 0 {
		return sweep{}, nil, errors.New("merge: no shard results given")
	}
	sw := rs[0].Sweep
	want := fmt.Sprint(sw)
	seen := map[string]bool{}
	var n int
	got := map[unit]unitResult{}
	for _, r := range rs {
		if fmt.Sprint(r.Sweep) != want {
			return sw, nil, fmt.Errorf("merge: shard %s is of another sweep (%+v, not %+v)", r.Shard, r.Sweep, sw)
		}
		sh, err := parseShard(r.Shard)
		if err != nil {
			return sw, nil, fmt.Errorf("merge: %w", err)
		}
		if n == 0 {
			n = sh.N
		}
		if sh.N != n {
			return sw, nil, fmt.Errorf("merge: shard %s does not split the sweep in %d like the others", r.Shard, n)
		}
		if seen[r.Shard] {
			return sw, nil, fmt.Errorf("merge: shard %s given twice", r.Shard)
		}
		seen[r.Shard] = true
		for _, u := range r.Units {
			got[u.Unit] = u
		}
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if s := (shard{i, n}).String(); !seen[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return sw, nil, fmt.Errorf("merge: missing shard(s) %s of %d", strings.Join(missing, ", "), n)
	}
	var us []unitResult
	for _, u := range sw.units() {
		r, ok := got[u]
		if !ok {
			return sw, nil, fmt.Errorf("merge: no shard explored %s chunk %d", u.Profile, u.Chunk)
		}
		us = append(us, r)
	}
	return sw, us, nil
}

// newSweep is the sweep of the profiles against the properties, both
// checked by the command line.
func newSweep(profiles []model.Profile, props []string, checks int, seed uint64, chunks, directed int, shrink time.Duration, plant string, focus []string) sweep {
	sw := sweep{Properties: props, Checks: checks, Seed: seed, Chunks: chunks, Directed: directed, Shrink: shrink.String(), Plant: plant, Focus: focus}
	for _, p := range profiles {
		sw.Profiles = append(sw.Profiles, p.Name())
	}
	return sw
}

// mergeFiles is -merge: the shard results of one sweep, from files.
func mergeFiles(w io.Writer, paths []string, verbose bool, pictures string) error {
	var rs []shardResult
	for _, p := range paths {
		r, err := readShard(p)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	var wall time.Duration
	for _, r := range rs {
		for _, u := range r.Units {
			wall += u.Stats.Wall
		}
	}
	fmt.Fprintf(w, "guardsim: merging %d shard result(s)\n", len(rs))
	return report(w, rs, verbose, wall, pictures)
}
