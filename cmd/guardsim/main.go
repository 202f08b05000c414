// Command guardsim is guardsim's main job: it explores every profile of
// the timeline (each one upstream commit, oldest first) against every
// property with rapid, prints a table of property × profile, so the commit
// where a finding appears or goes away is visible at a glance, and for each
// violation the shrunk scenario and the command that replays it.
//
//	go run ./cmd/guardsim                      explore the whole timeline
//	go run ./cmd/guardsim -profiles=seed,5111b8e76 -checks=20000   explore some commits harder
//	go run ./cmd/guardsim -profile=parent -property=retry_reaches_moved_actor -failfile=F   replay a rapid fail file
//	go run ./cmd/guardsim -replay=testdata/kept/x.txt                  replay a scenario file
//	go run ./cmd/guardsim -keep                regenerate testdata/kept/ and their fail files
package main

import (
	"flag"
	"fmt"
	"github.com/guardsim/guardsim/internal/plant"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
	"github.com/guardsim/guardsim/sim"
)

// gcPercent is the main job's garbage-collection target: it builds and
// drops hundreds of thousands of small worlds, and collecting a quarter as
// often saves a fifth of its time for some hundred MB. GOGC overrides it.
const gcPercent = 400

func main() {
	testing.Init() // rapid reads the testing flags
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	var (
		profiles = flag.String("profiles", "all", "profiles to explore: commits or aliases, comma-separated, or all")
		props    = flag.String("properties", strings.Join(properties.PropertyNames(), ","), "properties to check")
		checks   = flag.Int("checks", 5000, "scenarios per profile")
		shrink   = flag.Duration("shrinktime", 0, "rapid's own shrinking of a failure's draws, before the minimizer shrinks its script (0: the minimizer alone, which is deterministic and bounded by runs)")
		seed     = flag.Uint64("seed", 0, "rapid seed (0: a fresh one, printed)")
		profile  = flag.String("profile", "", "with -failfile: the profile (commit or alias) to replay under; with -replay: replay under this profile instead of the file's")
		property = flag.String("property", "", "with -failfile: the property to check")
		quirks   = flag.String("quirks", "", "with -failfile: quirk switches on top of -profile, e.g. 'quirk=-gateway_inverted_gc'")
		failfile = flag.String("failfile", "", "replay one rapid fail file")
		replay   = flag.String("replay", "", "replay one scenario script and print its trace")
		keep     = flag.Bool("keep", false, "regenerate the kept failures under testdata/kept/")
		focus    = flag.String("focus", "", "with -failfile: the action kinds the failing search was focused on (comma-separated), as its replay command says")
		search   = flag.String("search", "", "search one registered finding (by slug) at -profile (default: its search profile), from -seed, within -checks scenarios")
		verbose  = flag.Bool("v", false, "print whole traces of violations")
		planted  = flag.String("plant", "", "switch one planted bug on (internal/plant; needs go run -tags guardsim_plant)")
		workers  = flag.Int("workers", runtime.NumCPU(), "worker processes exploring the sweep's units in parallel (each process has its own rapid)")
		chunks   = flag.Int("chunks", 2, "units per profile: each explores checks/chunks scenarios from its own seed")
		directed = flag.Int("directed", 300, "scenarios of each directed search: a registered finding's focus (its action kinds) at every profile its range covers (0: none)")
		shardArg = flag.String("shard", "", "explore only shard i of n of the sweep (1 ≤ i ≤ n), e.g. -shard=2/4, and write its result to -out (for a CI matrix; combine with -merge)")
		out      = flag.String("out", "", "with -shard: the file to write the shard's result to")
		merge    = flag.Bool("merge", false, "merge the shard results named as arguments and print the table and the failures")
		compare  = flag.Duration("fuzzcompare", 0, "compare the swarm with go test -fuzz on every finding (or -search=SLUG,...), at most this long each (make fuzz-compare)")
	)
	flag.Usage = usage
	flag.Parse()
	if *merge {
		if err := mergeFiles(flag.Args(), *verbose); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "guardsim: unexpected argument %q\n", flag.Arg(0))
		usage()
		os.Exit(2)
	}
	if *checks <= 0 {
		fmt.Fprintf(os.Stderr, "guardsim: -checks must be positive, got %d\n", *checks)
		os.Exit(2)
	}
	if *chunks <= 0 || *workers <= 0 || *directed < 0 {
		fmt.Fprintf(os.Stderr, "guardsim: -chunks and -workers must be positive and -directed not negative, got %d, %d and %d\n", *chunks, *workers, *directed)
		os.Exit(2)
	}
	var sh shard
	if *shardArg != "" {
		var err error
		if sh, err = parseShard(*shardArg); err != nil {
			fmt.Fprintln(os.Stderr, "guardsim:", err)
			os.Exit(2)
		}
		if *out == "" {
			fmt.Fprintln(os.Stderr, "guardsim: -shard needs -out=FILE, where the shard's result goes")
			os.Exit(2)
		}
		if *seed == 0 {
			fmt.Fprintln(os.Stderr, "guardsim: -shard needs -seed: every shard of a sweep must explore from the same seed")
			os.Exit(2)
		}
	}
	if *planted != "" {
		b, ok := plant.Lookup(*planted)
		switch {
		case !plant.Enabled:
			fmt.Fprintln(os.Stderr, "guardsim: -plant needs the planted bugs compiled in: go run -tags guardsim_plant ./cmd/guardsim ...")
			os.Exit(2)
		case !ok:
			fmt.Fprintf(os.Stderr, "guardsim: unknown planted bug %q (see internal/plant)\n", *planted)
			os.Exit(2)
		}
		plant.Set(b.Bug)
	}
	if err := flag.Set("rapid.shrinktime", shrink.String()); err != nil {
		panic(err)
	}
	var err error
	switch {
	case *compare > 0:
		var slugs []string
		if *search != "" {
			slugs = strings.Split(*search, ",")
		}
		err = fuzzCompare(slugs, *compare)
	case *replay != "":
		err = replayScript(*replay, *profile)
	case *failfile != "":
		err = replayFailFile(*profile, *quirks, *property, *failfile, *focus, *verbose)
	case *keep:
		err = keepFindings(*search) // -search=SLUG keeps one
	case *search != "":
		err = searchFinding(*search, *profile, *seed, *checks)
	default:
		if *seed == 0 {
			*seed = uint64(time.Now().UnixNano()) % 1_000_000
		}
		var sw sweep
		if sw, err = newSweep(*profiles, *props, *checks, *seed, *chunks, *directed, *shrink, *planted); err != nil {
			break
		}
		if *shardArg != "" {
			var r shardResult
			if r, err = runShard(sw, sh, *verbose, os.Stdout); err == nil {
				err = writeShard(*out, r)
			}
			break
		}
		err = explore(sw, *workers, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
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

func explore(sw sweep, workers int, verbose bool) error {
	fmt.Printf("guardsim: exploring %d profile(s) against %d properties, %d scenarios per profile in %d chunk(s), rapid seed %d, %d worker(s)\n",
		len(sw.Profiles), len(sw.Properties), sw.Checks, sw.Chunks, sw.Seed, workers)
	fmt.Printf("swarm: 1-4 runners, 1-6 actors, each of %d action kinds on with odds d/4 (d, the density, drawn per scenario) and weighted 1-8, ~30 actions per scenario, then a liveness phase\n",
		len(properties.ActionKinds))
	fmt.Printf("rapid fail files: testdata/rapid/Explore_<profile>[_<chunk>]/ (replayed first on the next run)\n\n")
	start := time.Now()
	var rs []shardResult
	if workers <= 1 {
		r, err := runShard(sw, shard{1, 1}, verbose, os.Stdout)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	} else {
		var err error
		if rs, err = runWorkers(sw, workers, verbose); err != nil {
			return err
		}
	}
	return report(rs, verbose, time.Since(start))
}

// report merges shard results and prints the table and every distinct
// failure.
func report(rs []shardResult, verbose bool, wall time.Duration) error {
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
	printTable(runs, wall)
	for _, r := range runs {
		for _, sr := range r.order {
			fmt.Printf("\n=== %s / %s (%d violating scenario(s)) ===\n%s", r.name, sr.Sig, sr.Count, sr.Report)
			if verbose && sr.Trace != "" {
				fmt.Printf("full trace:\n%s", sr.Trace)
			}
		}
	}
	return nil
}

func hours(t sim.Time) string { return fmt.Sprintf("%.1fh", float64(t)/float64(sim.Hour)) }

// printTable prints one row per property and one column per profile,
// oldest commit first: "." holds, a letter names a registered finding (the
// legend follows), "NEW" is a violation no finding explains.
func printTable(runs []profileRun, wall time.Duration) {
	fmt.Printf("\n%-16s", "property")
	for _, r := range runs {
		fmt.Printf(" %-9.9s", r.name)
	}
	fmt.Println()
	legend := map[string]string{}
	for i, p := range runs[0].cells {
		fmt.Printf("%-16s", p.property)
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
			fmt.Printf(" %-9s", s)
		}
		fmt.Println()
	}
	fmt.Println("\n. holds for every scenario checked; NEW: a violation no registered finding explains; X!: a finding outside its range")
	for _, l := range sim.SortedKeys(legend) {
		fmt.Println(legend[l])
	}
	fmt.Printf("\n%-10s %9s %10s %10s %12s %14s %14s\n", "profile", "checked", "run", "virtual", "scenarios/s", "events/s", "virtual s/s")
	var total properties.Stats
	for _, r := range runs {
		st := r.stats
		total.Checks += st.Checks
		total.Scenarios += st.Scenarios
		total.Virtual += st.Virtual
		total.Events += st.Events
		fmt.Printf("%-10s %9d %10d %10s %12.0f %14.0f %14.0f\n", r.name, st.Checks, st.Scenarios, hours(st.Virtual), rate(float64(st.Scenarios), st.Wall),
			rate(float64(st.Events), st.Wall), rate(float64(st.Virtual)/float64(sim.Second), st.Wall))
	}
	fmt.Printf("%-10s %9d %10d %10s %12.0f %14.0f %14.0f   (wall %s)\n", "total", total.Checks, total.Scenarios, hours(total.Virtual),
		rate(float64(total.Scenarios), wall), rate(float64(total.Events), wall), rate(float64(total.Virtual)/float64(sim.Second), wall), wall.Round(time.Millisecond))
}

func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func replayScript(path, profile string) error {
	opts := properties.ScriptOptions{}
	if profile != "" {
		p, err := model.ProfileByName(profile)
		if err != nil {
			return err
		}
		opts.Profile, opts.NoExpect = &p, true
		fmt.Printf("replaying %s under %s instead of its own profile; its expectations are skipped, the oracle judges\n", path, p.Commit)
	}
	w, err := properties.RunScriptFile(path, opts)
	if w != nil {
		fmt.Print(w.Sim.TraceText())
		fmt.Printf("trace hash %s, %d events, virtual %s\n", w.Sim.TraceHash(), w.Sim.Steps(), w.Sim.Now())
		if vs := properties.Check(w); len(vs) > 0 {
			fmt.Printf("oracle: %d violation(s):\n%s", len(vs), properties.FormatViolations(vs))
		} else {
			fmt.Println("oracle: every property holds")
		}
	}
	return err
}

func replayFailFile(profile, quirks, property, failfile, focus string, verbose bool) error {
	p, err := model.ProfileByName(profile)
	if err != nil {
		return err
	}
	for _, q := range strings.Fields(quirks) {
		q = strings.TrimPrefix(q, "quirk=")
		if err := p.Set(strings.TrimLeft(q, "+-"), !strings.HasPrefix(q, "-")); err != nil {
			return err
		}
	}
	var props []string
	if property != "" {
		props = []string{property}
	}
	var kinds []string
	if focus != "" {
		kinds = strings.Split(focus, ",")
	}
	res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: props, Checks: 1, FailFile: failfile, NoFailFile: true, Name: "Replay", Focus: kinds})
	if res.Err != nil {
		return res.Err
	}
	if res.Failure == nil {
		return fmt.Errorf("the fail file %s does not fail under %s (it may be stale: generators changed)", failfile, p.Name())
	}
	fmt.Print(res.Failure.Report())
	if verbose {
		fmt.Printf("full trace:\n%s", res.Failure.Trace)
	}
	return nil
}

func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprintf(w, `guardsim: deterministic simulation of Rivet's Guard, gateway, engine and runner.

Usage:
  guardsim [-profiles=all] [-checks=N] [-seed=S]   explore the timeline (make sim)
  guardsim -replay=FILE [-profile=P]               replay a scenario file and judge it
  guardsim -profile=P -failfile=F [-property=X]    replay a rapid fail file
  guardsim -keep                                   regenerate testdata/kept/

Profiles: each is the upstream code (rivet-dev/rivet) at one commit, oldest
first; + and - are the quirks (modelled behaviours) that commit switches:
%s
Flags:
`, model.TimelineText())
	flag.PrintDefaults()
}

// searchFinding searches one registered finding and says after how many
// scenarios it was found, with which rapid seed, and its shrunk case.
func searchFinding(slug, profile string, seed uint64, checks int) error {
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
		fmt.Printf("%s: not found at %s from rapid seed %d in %d scenarios\n", slug, p.Commit, seed, checked)
		return nil
	}
	fmt.Printf("%s: found at %s from rapid seed %d after %d scenarios, shrunk to %d actions\n%s", slug, p.Commit, seed, f.Checks, f.Actions, f.Report())
	return nil
}
