// Command guardsim is guardsim's main job: it explores every profile of
// the timeline (each one upstream commit, oldest first) against every
// property with rapid, prints a table of property × profile, so the commit
// where a finding appears or goes away is visible at a glance, and for each
// violation the shrunk scenario and the command that replays it.
//
//	go run ./cmd/guardsim                                         explore the whole timeline
//	go run ./cmd/guardsim -profile=seed,5111b8e76 -checks=20000   explore some commits harder
//	go run ./cmd/guardsim -profile=parent -property=retry_reaches_moved_actor -failfile=F   replay a rapid fail file
//	go run ./cmd/guardsim -replay=testdata/kept/x.txt             replay a scenario file
//	go run ./cmd/guardsim -keep                                   regenerate testdata/kept/ and their fail files
//
// go run ./cmd/guardsim -h lists every flag; a command line that makes no
// sense exits with code 2, a job that fails (a fail file or kept case that
// no longer reproduces, say) with 1.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardsim/guardsim/internal/plant"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
	"github.com/guardsim/guardsim/sim"
)

// gcPercent is the main job's garbage-collection target: it builds and
// drops hundreds of thousands of small worlds, and collecting a quarter as
// often saves a fifth of its time for some hundred MB. GOGC overrides it.
const gcPercent = 400

func main() {
	// rapid takes its settings from the testing and rapid flags, which
	// properties.Explore sets; they are never on guardsim's command line.
	testing.Init()
	if err := flag.CommandLine.Parse(nil); err != nil {
		panic(err)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is guardsim with its arguments (without the program's name): it
// returns the exit code, 0 when done, 1 when the job failed, 2 when the
// command line makes no sense.
func run(args []string, stdout, stderr io.Writer) int {
	j, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "guardsim: %v\n\n%sRun 'guardsim -h' for every flag, profile and property.\n", err, synopsis)
		return 2
	}
	if err := j.run(stdout); err != nil {
		fmt.Fprintln(stderr, "guardsim:", err)
		return 1
	}
	return 0
}

// run does the job the command line asks for.
func (j job) run(w io.Writer) error {
	o := j.o
	if o.plant != "" {
		b, _ := plant.Lookup(o.plant)
		plant.Set(b.Bug)
		defer plant.Set(plant.None)
	}
	if err := flag.Set("rapid.shrinktime", o.shrink.String()); err != nil {
		return err
	}
	var focus []string
	if o.focus != "" {
		focus = strings.Split(o.focus, ",")
	}
	profile := ""
	if len(j.profiles) == 1 {
		profile = j.profiles[0].Name()
	}
	switch j.mode {
	case "commands":
		fmt.Fprint(w, properties.CommandTable())
		return nil
	case "merge":
		return mergeFiles(w, j.args, o.verbose, o.html)
	case "fuzzcompare":
		var slugs []string
		if o.search != "" {
			slugs = strings.Split(o.search, ",")
		}
		return fuzzCompare(w, slugs, o.compare)
	case "replay":
		if err := replayScript(w, o.replay, profile); err != nil {
			return err
		}
		if o.html != "" {
			opts := properties.ScriptOptions{}
			if profile != "" {
				p := j.profiles[0]
				opts.Profile, opts.NoExpect = &p, true
			}
			if err := properties.WriteScenarioPicture(o.replay, opts, o.html); err != nil {
				return err
			}
			fmt.Fprintf(w, "picture: %s\n", o.html)
		}
		return nil
	case "failfile":
		return replayFailFile(w, profile, o.quirks, o.property, o.failfile, focus, o.verbose, o.html)
	case "keep":
		return keepFindings(w, o.search) // -search=SLUG keeps one
	case "search":
		return searchFinding(w, o.search, profile, o.rapidseed, o.checks)
	}
	seed := o.rapidseed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())%1_000_000 + 1
	}
	sw := newSweep(j.profiles, j.properties, o.checks, seed, o.chunks, o.directed, o.shrink, o.plant, focus)
	if j.mode == "shard" {
		r, err := runShard(sw, j.shard, o.verbose, w)
		if err != nil {
			return err
		}
		return writeShard(o.out, r)
	}
	return explore(w, sw, o.workers, o.verbose, o.html)
}

// cell is one profile × property result: the distinct failures (by
// signature) met there, in the order found.
type cell struct {
	profile, property string
	sigs              []*sigResult
}

// profileRun is one profile's part of a merged sweep: its units' stats
// summed, and its distinct failures, each once, with the counts of every
// unit added up and the first unit's shrunk case.
type profileRun struct {
	name  string
	stats properties.Stats
	cells []cell
	order []*sigResult
}

func explore(w io.Writer, sw sweep, workers int, verbose bool, pictures string) error {
	fmt.Fprintf(w, "guardsim: exploring %d profile(s) against %d properties, %d scenarios per profile in %d chunk(s), rapid seed %d, %d worker(s)\n",
		len(sw.Profiles), len(sw.Properties), sw.Checks, sw.Chunks, sw.Seed, workers)
	fmt.Fprintf(w, "swarm: 1-4 runners, 1-6 actors, each of %d action kinds on with odds 1/2 (sparse) or 7/8 (dense) and weighted 1-8, ~30 actions per scenario each drawn by weight, then a liveness phase\n",
		len(properties.ActionKinds))
	fmt.Fprintf(w, "rapid fail files: testdata/rapid/Explore_<profile>[_<chunk>]/ (replayed first on the next run)\n\n")
	start := time.Now()
	var rs []shardResult
	if workers <= 1 {
		r, err := runShard(sw, shard{1, 1}, verbose, w)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	} else {
		var err error
		if rs, err = runWorkers(w, sw, workers, verbose); err != nil {
			return err
		}
	}
	return report(w, rs, verbose, time.Since(start), pictures)
}

// report merges shard results and prints the table and every distinct
// failure; with a pictures directory, it draws each failure there as an
// HTML sequence diagram and prints the page's path under its report, and
// at the end one page per finding.
func report(w io.Writer, rs []shardResult, verbose bool, wall time.Duration, pictures string) error {
	sw, us, err := mergeShards(rs)
	if err != nil {
		return err
	}
	var runs []profileRun
	for _, pn := range sw.Profiles {
		run := profileRun{name: pn}
		bySig := map[string]*sigResult{}
		for _, u := range us {
			if u.Unit.Profile != pn {
				continue
			}
			st := u.Stats
			run.stats.Checks += st.Checks
			run.stats.Scenarios += st.Scenarios
			run.stats.Virtual += st.Virtual
			run.stats.Events += st.Events
			run.stats.Wall += st.Wall
			run.stats.Tolerated += st.Tolerated
			for _, f := range u.Failures {
				if sr := bySig[f.Sig]; sr != nil {
					sr.Count += f.Count
					if sr.NotMinimized && !f.NotMinimized {
						// A later unit's shrunk case shows it better; the
						// count stays the sum.
						count := sr.Count
						*sr = f
						sr.Count = count
					}
					continue
				}
				f := f
				bySig[f.Sig] = &f
				run.order = append(run.order, &f)
			}
		}
		for _, prop := range sw.Properties {
			c := cell{profile: pn, property: prop}
			for _, sr := range run.order {
				if sr.Property == prop {
					c.sigs = append(c.sigs, sr)
				}
			}
			run.cells = append(run.cells, c)
		}
		runs = append(runs, run)
	}
	printTable(w, runs, wall)
	if pictures != "" {
		if err := os.MkdirAll(pictures, 0o755); err != nil {
			return err
		}
	}
	// Draw every page first, as many at a time as there are CPUs: each is a
	// world of its own, run again with its whole trace (one goroutine per
	// world, as everywhere), and the parent draws after its workers ended.
	type page struct {
		path    string
		profile string // the profile whose case it draws
		err     error
	}
	// A registered finding is drawn at the first profile that shows it
	// through each property (a finding's later profiles repeat it: 500
	// pages and 200 MB for the timeline to HEAD); a new signature, at every
	// profile.
	pages := map[*sigResult]*page{}
	drawn := map[string]*page{}
	var todo []func()
	for _, r := range runs {
		for i, sr := range r.order {
			if pictures == "" || len(sr.Script) == 0 {
				continue
			}
			name := sr.Finding
			if name == "" {
				name = "NEW-" + sr.Property
			}
			key := sr.Finding + "/" + sr.Property
			if pg := drawn[key]; pg != nil && sr.Finding != "" {
				pages[sr] = pg
				continue
			}
			pg := &page{path: filepath.Join(pictures, fmt.Sprintf("%s-%s-%d.html", r.name, name, i+1)), profile: r.name}
			pages[sr] = pg
			drawn[key] = pg
			title := fmt.Sprintf("%s at %s: %s", sr.Property, r.name, sr.Sig)
			sub := []string{fmt.Sprintf("%d violating scenario(s); shrunk to %d actions", sr.Count, sr.Actions)}
			script := sr.Script
			todo = append(todo, func() { pg.err = properties.WriteScriptPicture(script, title, sub, pg.path) })
		}
	}
	parallel(todo, runtime.NumCPU())
	var index []string // per finding (or NEW signature), its first page
	seen := map[string]bool{}
	for _, r := range runs {
		for _, sr := range r.order {
			fmt.Fprintf(w, "\n=== %s / %s (%d violating scenario(s)) ===\n%s", r.name, sr.Sig, sr.Count, sr.Report)
			if verbose && sr.Trace != "" {
				fmt.Fprintf(w, "full trace:\n%s", sr.Trace)
			}
			pg := pages[sr]
			if pg == nil {
				continue
			}
			if pg.err != nil {
				fmt.Fprintf(w, "picture: none (%v)\n", pg.err)
				continue
			}
			if pg.profile == r.name {
				fmt.Fprintf(w, "picture: %s\n", pg.path)
			} else {
				fmt.Fprintf(w, "picture: %s (the finding through %s at its first profile here; -replay this case with -html to draw it)\n", pg.path, sr.Property)
			}
			key := cmp.Or(sr.Finding, sr.Sig)
			if !seen[key] {
				seen[key] = true
				index = append(index, fmt.Sprintf("  %-45s %s", cmp.Or(sr.Finding, "NEW "+sr.Sig), pg.path))
			}
		}
	}
	if len(index) > 0 {
		fmt.Fprintf(w, "\npictures (open in a browser), one per finding and per new signature, at its first profile:\n%s\n", strings.Join(index, "\n"))
	}
	return nil
}

// parallel runs the jobs, n at a time, and returns when all are done.
func parallel(jobs []func(), n int) {
	next := make(chan func())
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				job()
			}
		}()
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
}

func hours(t sim.Time) string { return fmt.Sprintf("%.1fh", float64(t)/float64(sim.Hour)) }

// printTable prints one row per property and one column per profile,
// oldest commit first: "." holds, a letter names a registered finding (the
// legend follows), "NEW" is a violation no finding explains.
func printTable(w io.Writer, runs []profileRun, wall time.Duration) {
	width := len("property")
	for _, c := range runs[0].cells {
		width = max(width, len(c.property))
	}
	fmt.Fprintf(w, "\n%-*s", width, "property")
	for _, r := range runs {
		fmt.Fprintf(w, " %-9.9s", r.name)
	}
	fmt.Fprintln(w)
	legend := map[string]string{}
	for i, p := range runs[0].cells {
		fmt.Fprintf(w, "%-*s", width, p.property)
		for _, r := range runs {
			c := r.cells[i]
			var marks []string
			for _, sr := range c.sigs {
				slugs, outside := properties.SignatureFindings(sr.Sig)
				ms := []string{"NEW"}
				if len(slugs) > 0 {
					ms = nil
				}
				for j, k := range properties.Findings {
					if slices.Contains(slugs, k.Slug) {
						m := string(rune('A' + j))
						legend[m] = fmt.Sprintf("%s: %s (%s, %s)", m, k.Slug, strings.Join(k.Properties, ","), k.Range())
						if outside {
							m += "!" // outside its registered range
						}
						ms = append(ms, m)
					}
				}
				for _, m := range ms {
					if !slices.Contains(marks, m) {
						marks = append(marks, m)
					}
				}
			}
			s := "."
			if len(marks) > 0 {
				s = strings.Join(marks, ",")
			}
			fmt.Fprintf(w, " %-9s", s)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\n. holds for every scenario checked; NEW: a violation no registered finding explains; X!: a finding outside its range")
	for _, l := range sim.SortedKeys(legend) {
		fmt.Fprintln(w, legend[l])
	}
	fmt.Fprintf(w, "\n%-10s %9s %10s %10s %12s %14s %14s\n", "profile", "checked", "run", "virtual", "scenarios/s", "events/s", "virtual s/s")
	var total properties.Stats
	for _, r := range runs {
		st := r.stats
		total.Checks += st.Checks
		total.Scenarios += st.Scenarios
		total.Virtual += st.Virtual
		total.Events += st.Events
		fmt.Fprintf(w, "%-10s %9d %10d %10s %12.0f %14.0f %14.0f\n", r.name, st.Checks, st.Scenarios, hours(st.Virtual), rate(float64(st.Scenarios), st.Wall),
			rate(float64(st.Events), st.Wall), rate(float64(st.Virtual)/float64(sim.Second), st.Wall))
	}
	fmt.Fprintf(w, "%-10s %9d %10d %10s %12.0f %14.0f %14.0f   (wall %s)\n", "total", total.Checks, total.Scenarios, hours(total.Virtual),
		rate(float64(total.Scenarios), wall), rate(float64(total.Events), wall), rate(float64(total.Virtual)/float64(sim.Second), wall), wall.Round(time.Millisecond))
}

func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func replayScript(w io.Writer, path, profile string) error {
	opts := properties.ScriptOptions{}
	if profile != "" {
		p, err := model.ProfileByName(profile)
		if err != nil {
			return err
		}
		opts.Profile, opts.NoExpect = &p, true
		fmt.Fprintf(w, "replaying %s under %s instead of its own profile; its expectations are skipped, the oracle judges\n", path, p.Commit)
	}
	world, err := properties.RunScriptFile(path, opts)
	if world != nil {
		fmt.Fprint(w, world.Sim.TraceText())
		fmt.Fprintf(w, "trace hash %s, %d events, virtual %s\n", world.Sim.TraceHash(), world.Sim.Steps(), world.Sim.Now())
		if vs := properties.Check(world); len(vs) > 0 {
			fmt.Fprintf(w, "oracle: %d violation(s):\n%s", len(vs), properties.FormatViolations(vs))
			fmt.Fprintln(w, "signatures (what the exploration would report them as):")
			for _, s := range properties.WorldSignatures(world) {
				fmt.Fprintf(w, "  %s\n", s)
			}
		} else {
			fmt.Fprintln(w, "oracle: every property holds")
		}
	}
	var se *properties.ScriptError
	if errors.As(err, &se) && se.Trace != "" {
		// A failed expectation: its trace is printed above already.
		e := *se
		e.Trace = ""
		err = &e
		if k, kerr := properties.ReadKept(path); kerr == nil {
			err = fmt.Errorf("the kept case %s no longer reproduces its violation of %s at %s: %w", path, k.Property, k.Profile.Name(), err)
		}
	}
	return err
}

// replayFailFile replays a rapid fail file: its draws, as the exploration
// that wrote it drew them, at the profile and for the property its replay
// command names. A fail file that is missing or unreadable, or that no
// longer fails, is an error.
func replayFailFile(w io.Writer, profile, quirks, property, failfile string, focus []string, verbose bool, html string) error {
	if err := checkFailFile(failfile); err != nil {
		return err
	}
	p, err := model.ProfileByName(profile)
	if err != nil {
		return err
	}
	for _, q := range strings.Fields(quirks) {
		q = strings.TrimPrefix(q, "quirk=")
		if err := p.Set(strings.TrimLeft(q, "+-"), !strings.HasPrefix(q, "-")); err != nil {
			return fmt.Errorf("-quirks=%s: %w", quirks, err)
		}
	}
	var props []string
	if property != "" {
		props = []string{property}
	}
	// rapid replays the fail file, then (Checks: 1) one scenario of its own
	// from a fresh seed: a failure that does not come from the fail file
	// does not count.
	res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: props, Checks: 1, FailFile: failfile, NoFailFile: true, Name: "Replay", Focus: focus})
	if res.Err != nil {
		return res.Err
	}
	if res.Failure == nil || res.Failure.FailFile != failfile {
		what := "every property holds"
		if property != "" {
			what = "the property " + property + " holds"
		}
		return fmt.Errorf("%s no longer fails: %s at %s for its draws (or they no longer make a valid scenario: the generators changed since it was written, or it is from another rapid version)", failfile, what, p.Name())
	}
	fmt.Fprint(w, res.Failure.Report())
	if verbose {
		fmt.Fprintf(w, "full trace:\n%s", res.Failure.Trace)
	}
	if html != "" {
		if err := res.Failure.WritePicture(html); err != nil {
			return err
		}
		fmt.Fprintf(w, "picture: %s\n", html)
	}
	return nil
}

// checkFailFile reads a rapid fail file as rapid does (rapid ignores one it
// cannot read and explores instead): comment lines, a version#seed line,
// then one number per line.
func checkFailFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("fail file: %w", err)
	}
	data := 0
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if data++; data == 1 {
			v, seed, ok := strings.Cut(l, "#")
			if _, err := strconv.ParseUint(seed, 10, 64); !ok || v == "" || strings.Contains(seed, "#") || err != nil {
				return fmt.Errorf("%s:%d: not a rapid fail file: want VERSION#SEED, got %q", path, i+1, l)
			}
			continue
		}
		if _, err := strconv.ParseUint(l, 0, 64); err != nil {
			return fmt.Errorf("%s:%d: not a rapid fail file: want a number, got %q", path, i+1, l)
		}
	}
	if data == 0 {
		return fmt.Errorf("%s: not a rapid fail file: no data in it", path)
	}
	return nil
}

// searchFinding searches one registered finding and says after how many
// scenarios it was found, with which rapid seed, and its shrunk case.
func searchFinding(w io.Writer, slug, profile string, seed uint64, checks int) error {
	k, err := properties.FindingBySlug(slug)
	if err != nil {
		return err
	}
	if profile == "" {
		profile = k.SearchAt
	}
	p, err := model.ProfileByName(profile)
	if err != nil {
		return err
	}
	if seed == 0 {
		seed = 1
	}
	f, checked, err := k.Search(p, seed, checks, "Search_"+slug, false, 0)
	if err != nil {
		return err
	}
	if f == nil {
		fmt.Fprintf(w, "%s: not found at %s from rapid seed %d in %d scenarios\n", slug, p.Commit, seed, checked)
		return nil
	}
	fmt.Fprintf(w, "%s: found at %s from rapid seed %d after %d scenarios, shrunk to %d actions\n%s", slug, p.Commit, seed, f.Checks, f.Actions, f.Report())
	return nil
}
