// Command guardsim is guardsim's main job: it explores every behaviour
// profile (parent, seed, fixed) against every property with rapid, prints a
// table of profile × property, and for each violation the shrunk scenario
// and the command that replays it.
//
//	go run ./cmd/guardsim                      explore (the default budget takes about a minute)
//	go run ./cmd/guardsim -checks=20000        explore harder
//	go run ./cmd/guardsim -profile=parent -property=seed -failfile=F   replay a rapid fail file
//	go run ./cmd/guardsim -replay=testdata/kept/x.txt                  replay a scenario file
//	go run ./cmd/guardsim -keep                regenerate testdata/kept/ and their fail files
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
	"github.com/guardsim/guardsim/sim"
)

func main() {
	testing.Init() // rapid reads the testing flags
	var (
		profiles = flag.String("profiles", "parent,seed,fixed", "profiles to explore")
		props    = flag.String("properties", strings.Join(properties.PropertyNames(), ","), "properties to check")
		checks   = flag.Int("checks", 1500, "scenarios per profile × property")
		seed     = flag.Uint64("seed", 0, "rapid seed (0: a fresh one, printed)")
		profile  = flag.String("profile", "", "with -failfile: the profile to replay under")
		property = flag.String("property", "", "with -failfile: the property to check")
		failfile = flag.String("failfile", "", "replay one rapid fail file")
		replay   = flag.String("replay", "", "replay one scenario script and print its trace")
		keep     = flag.Bool("keep", false, "regenerate the kept failures under testdata/kept/")
		verbose  = flag.Bool("v", false, "print whole traces of violations")
	)
	flag.Parse()
	var err error
	switch {
	case *replay != "":
		err = replayScript(*replay)
	case *failfile != "":
		err = replayFailFile(*profile, *property, *failfile, *verbose)
	case *keep:
		err = keepFindings()
	default:
		if *seed == 0 {
			*seed = uint64(time.Now().UnixNano()) % 1_000_000
		}
		err = explore(strings.Split(*profiles, ","), strings.Split(*props, ","), *checks, *seed, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type cell struct {
	profile, property string
	res               properties.Result
}

func explore(profiles, props []string, checks int, seed uint64, verbose bool) error {
	fmt.Printf("guardsim: exploring %d profile(s) × %d propert(ies), %d scenarios each, rapid seed %d\n", len(profiles), len(props), checks, seed)
	fmt.Printf("swarm: 1-4 runners, 1-6 actors, random subsets of %d action kinds; each scenario ends with a liveness phase\n\n", len(properties.ActionKinds))
	var cells []cell
	start := time.Now()
	for _, pn := range profiles {
		p, err := model.ProfileByName(pn)
		if err != nil {
			return err
		}
		for _, prop := range props {
			if !slices.Contains(properties.PropertyNames(), prop) {
				return fmt.Errorf("unknown property %q (want one of %s)", prop, strings.Join(properties.PropertyNames(), ", "))
			}
			fmt.Printf("  %-7s %-12s ", pn, prop)
			res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: []string{prop}, Checks: checks, Seed: seed,
				Name: "Explore_" + pn + "_" + prop})
			if res.Err != nil {
				var np *sim.NoProgressError
				if errors.As(res.Err, &np) {
					fmt.Println("NO PROGRESS")
				}
				return fmt.Errorf("%s/%s: %w", pn, prop, res.Err)
			}
			status := "holds"
			if res.Failure != nil {
				status = fmt.Sprintf("VIOLATED after %d, shrunk to %d actions", res.Failure.Checks, res.Failure.Actions)
			}
			fmt.Printf("%s (%s)\n", status, res.Stats.Wall.Round(time.Millisecond))
			cells = append(cells, cell{pn, prop, res})
		}
	}
	fmt.Printf("\n%-8s %-12s %-9s %9s %14s %12s %14s\n", "profile", "property", "result", "scenarios", "virtual time", "scenarios/s", "virtual s/s")
	var total properties.Stats
	for _, c := range cells {
		st := c.res.Stats
		total.Scenarios += st.Scenarios
		total.Virtual += st.Virtual
		total.Events += st.Events
		result := "holds"
		if c.res.Failure != nil {
			result = "VIOLATED"
		}
		fmt.Printf("%-8s %-12s %-9s %9d %14s %12.0f %14.0f\n", c.profile, c.property, result, st.Scenarios,
			st.Virtual.Truncate(sim.Second), rate(float64(st.Scenarios), st.Wall), rate(float64(st.Virtual)/float64(sim.Second), st.Wall))
	}
	wall := time.Since(start)
	fmt.Printf("\ntotal: %d scenarios, %d events, %s virtual in %s wall: %.0f scenarios/s, %.0f events/s, %.0f virtual s per wall s\n",
		total.Scenarios, total.Events, total.Virtual.Truncate(sim.Second), wall.Round(time.Millisecond),
		rate(float64(total.Scenarios), wall), rate(float64(total.Events), wall), rate(float64(total.Virtual)/float64(sim.Second), wall))
	for _, c := range cells {
		if f := c.res.Failure; f != nil {
			fmt.Printf("\n=== %s / %s ===\n%s", c.profile, c.property, f.Report())
			if verbose {
				fmt.Printf("full trace:\n%s", f.Trace)
			}
		}
	}
	return nil
}

func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func replayScript(path string) error {
	w, err := properties.RunScriptFile(path, properties.ScriptOptions{})
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

func replayFailFile(profile, property, failfile string, verbose bool) error {
	p, err := model.ProfileByName(profile)
	if err != nil {
		return err
	}
	var props []string
	if property != "" {
		props = []string{property}
	}
	res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: props, Checks: 1, FailFile: failfile, NoFailFile: true, Name: "Replay"})
	if res.Err != nil {
		return res.Err
	}
	if res.Failure == nil {
		fmt.Println("the fail file no longer fails (it may be stale: generators changed)")
		return nil
	}
	fmt.Print(res.Failure.Report())
	if verbose {
		fmt.Printf("full trace:\n%s", res.Failure.Trace)
	}
	return nil
}
