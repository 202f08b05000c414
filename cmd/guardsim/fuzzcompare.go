package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// fuzzCompare measures, for each finding, how many scenarios and seconds
// the swarm (rapid's exploration as make sim runs it, without the finding's
// focus) and coverage-guided fuzzing (go test -fuzz over FuzzExplore, the
// same generator through rapid.MakeFuzz) need to find it at its search
// profile, each within the limit, and prints them side by side. It runs
// from the repository root; the fuzzer's failing inputs are removed again
// from testdata/fuzz/FuzzExplore/ so the corpus stays a passing one.
func fuzzCompare(w io.Writer, slugs []string, limit time.Duration) error {
	var ks []properties.Finding
	for _, s := range slugs {
		k, err := properties.FindingBySlug(s)
		if err != nil {
			return err
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		ks = properties.Findings
	}
	fmt.Fprintf(w, "swarm vs go test -fuzz, each finding at its search profile, at most %s each (the fuzzer runs one worker per core, the swarm one process)\n\n", limit)
	fmt.Fprintf(w, "%-45s %-10s %22s %22s\n", "finding", "profile", "swarm: scenarios / s", "fuzz: execs / s")
	for _, k := range ks {
		p, err := model.ProfileByName(k.SearchAt)
		if err != nil {
			return err
		}
		sn, ss, sok := swarmToFind(k, p, limit)
		fn, fs, fok, err := fuzzToFind(k, p, limit)
		fuzz := toFind(fn, fs, fok)
		if err != nil {
			fuzz = "error (below)"
		}
		fmt.Fprintf(w, "%-45s %-10s %22s %22s\n", k.Slug, p.Name(), toFind(sn, ss, sok), fuzz)
		if err != nil {
			fmt.Fprintf(w, "    %v\n", firstLines(err.Error(), 12))
		}
	}
	return nil
}

func toFind(n int, d time.Duration, found bool) string {
	if !found {
		return fmt.Sprintf("not in %d / %.0f", n, d.Seconds())
	}
	return fmt.Sprintf("%d / %.1f", n, d.Seconds())
}

// swarmToFind explores in rounds of 250 scenarios from seed 1 on, walking
// past other findings, until the finding shows or the limit passes.
func swarmToFind(k properties.Finding, p model.Profile, limit time.Duration) (int, time.Duration, bool) {
	start := time.Now()
	checked := 0
	for seed := uint64(1); time.Since(start) < limit; seed++ {
		res := properties.Explore(properties.ExploreConfig{Profile: p, Properties: k.Properties, Checks: 250, Seed: seed,
			Name: "Compare", NoFailFile: true,
			Tolerate: func(f *properties.Failure) bool { return !k.Matches(f) && len(properties.Unexplained(f)) == 0 }})
		if res.Err != nil {
			return checked, time.Since(start), false
		}
		checked += res.Stats.Checks
		if res.Failure != nil && k.Matches(res.Failure) {
			return checked, time.Since(start), true
		}
	}
	return checked, time.Since(start), false
}

var fuzzExecs = regexp.MustCompile(`execs: (\d+)`)

// fuzzToFind runs go test -fuzz aimed at the finding.
func fuzzToFind(k properties.Finding, p model.Profile, limit time.Duration) (int, time.Duration, bool, error) {
	dir := filepath.Join("testdata", "fuzz", "FuzzExplore")
	before, _ := os.ReadDir(dir)
	had := map[string]bool{}
	for _, e := range before {
		had[e.Name()] = true
	}
	// No minimizing of the failing input: the figure is the time to find.
	cmd := exec.Command("go", "test", "./properties", "-run", "^$", "-fuzz", "^FuzzExplore$", "-fuzztime", limit.String(), "-fuzzminimizetime", "1x")
	cmd.Env = append(os.Environ(), "GUARDSIM_FUZZ_PROFILE="+p.Name(), "GUARDSIM_FUZZ_FINDING="+k.Slug)
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	took := time.Since(start)
	after, _ := os.ReadDir(dir)
	for _, e := range after {
		if !had[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	text := string(out)
	n := 0
	if m := fuzzExecs.FindAllStringSubmatch(text, -1); len(m) > 0 {
		n, _ = strconv.Atoi(m[len(m)-1][1])
	}
	found := strings.Contains(text, "--- FAIL: FuzzExplore") && strings.Contains(text, "finding "+k.Slug)
	if strings.Contains(text, "--- FAIL: FuzzExplore") && !found {
		return n, took, false, fmt.Errorf("go test -fuzz for %s failed on something else:\n%s", k.Slug, text)
	}
	if !found && !strings.Contains(text, "PASS") && !strings.Contains(text, "fuzz: elapsed") {
		return 0, took, false, fmt.Errorf("go test -fuzz for %s did not run:\n%s", k.Slug, text)
	}
	return n, took, found, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "    ...")
	}
	return strings.Join(lines, "\n    ")
}
