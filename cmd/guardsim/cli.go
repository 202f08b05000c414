package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// options are guardsim's flags, parsed.
type options struct {
	profile, property, quirks, focus  string
	failfile, replay, search, plant   string
	html                              string
	shard, out                        string
	checks, workers, chunks, directed int
	shrink, compare                   time.Duration
	rapidseed                         uint64
	keep, verbose, merge, commands    bool
}

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("guardsim", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports parse errors itself
	fs.Usage = func() {}
	fs.StringVar(&o.profile, "profile", "", "the profiles (commits or aliases): exploring, comma-separated or all (default all); with -replay, -failfile or -search exactly one (-replay: instead of the file's own; -search: default the finding's search profile)")
	fs.StringVar(&o.property, "property", "", "the properties: exploring, comma-separated or all (default all); with -failfile one (default every property)")
	fs.IntVar(&o.checks, "checks", 1500, fmt.Sprintf("scenarios per profile (with -search: the search's budget, default %d)", searchChecks))
	fs.DurationVar(&o.shrink, "shrinktime", 0, "rapid's own shrinking of a failure's draws, before the minimizer shrinks its script (0: the minimizer alone, which is deterministic and bounded by runs)")
	fs.Uint64Var(&o.rapidseed, "rapidseed", 0, "rapid's seed for exploring (default: a fresh one, printed) or -search (default 1); not the world seed of a scenario's world line, which rapid draws")
	fs.StringVar(&o.quirks, "quirks", "", "with -failfile: quirk switches on top of -profile, e.g. 'quirk=-gateway_inverted_gc'")
	fs.StringVar(&o.failfile, "failfile", "", "replay one rapid fail file (needs -profile)")
	fs.StringVar(&o.replay, "replay", "", "replay one scenario script and print its trace")
	fs.StringVar(&o.html, "html", "", "draw failures as HTML sequence diagrams: exploring or -merge, the directory for one page per distinct failure (default "+picturesDir+"; off: none); -replay or -failfile, the page's file")
	fs.BoolVar(&o.commands, "commands", false, "print the scenario language's commands (testdata/scenarios/README.md has them too)")
	fs.BoolVar(&o.keep, "keep", false, "regenerate the kept failures under testdata/kept/ (-search=SLUG: that finding's alone)")
	fs.StringVar(&o.focus, "focus", "", "exploring or with -failfile: only these action kinds (comma-separated), as a replay command says")
	fs.StringVar(&o.search, "search", "", "search one registered finding (by slug) at -profile, from -rapidseed, within -checks scenarios; with -keep, keep that one; with -fuzzcompare, comma-separated slugs")
	fs.BoolVar(&o.verbose, "v", false, "print whole traces of violations")
	fs.StringVar(&o.plant, "plant", "", "switch one planted bug on (internal/plant; needs go run -tags guardsim_plant)")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "worker processes exploring the sweep's units in parallel (each process has its own rapid)")
	fs.IntVar(&o.chunks, "chunks", 1, "units per profile: each explores checks/chunks scenarios from its own rapid seed")
	fs.IntVar(&o.directed, "directed", 200, "scenarios of each directed search: a registered finding's focus (its action kinds) at every profile its range covers, each from its own seed (0: none)")
	fs.StringVar(&o.shard, "shard", "", "explore only shard i of n of the sweep (1 ≤ i ≤ n), e.g. -shard=2/4, and write its result to -out (for a CI matrix; combine with -merge); needs -rapidseed")
	fs.StringVar(&o.out, "out", "", "with -shard: the file to write the shard's result to")
	fs.BoolVar(&o.merge, "merge", false, "merge the shard results named as arguments and print the table and the failures")
	fs.DurationVar(&o.compare, "fuzzcompare", 0, "compare the swarm with go test -fuzz on every finding (or -search=SLUG,...), at most this long each (make fuzz-compare)")
	return fs
}

// renamed are flags guardsim no longer takes, and what to use instead.
var renamed = map[string]string{
	"seed":       "-rapidseed (the rapid seed; a scenario's world seed is the seed= of its world line)",
	"profiles":   "-profile (one flag, a comma-separated list or all, for exploring and replaying)",
	"properties": "-property (one flag, a comma-separated list or all, for exploring and replaying)",
}

// checkRenamed finds a renamed flag in args, walking them as the flag
// package parses them (up to the first non-flag argument or "--").
func checkRenamed(fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || a == "--" {
			return nil
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if use, ok := renamed[name]; ok {
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			return usageError{fmt.Sprintf("-%s=%s: there is no -%s flag any more: use %s", name, value, name, use)}
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil // the flag package says so
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			i++ // the next argument is this flag's value
		}
	}
	return nil
}

// usageError is a command line that makes no sense: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// modes are the flags that choose what guardsim does; at most one is given
// (-search alone is a mode too, and a parameter of -keep and -fuzzcompare).
var modes = []string{"replay", "failfile", "keep", "merge", "shard", "fuzzcompare", "commands"}

// allowed lists, per mode, the other flags that apply to it.
var allowed = map[string][]string{
	"explore":     {"profile", "property", "checks", "shrinktime", "rapidseed", "focus", "plant", "v", "workers", "chunks", "directed", "html"},
	"shard":       {"profile", "property", "checks", "shrinktime", "rapidseed", "focus", "plant", "v", "chunks", "directed", "out"},
	"search":      {"profile", "checks", "rapidseed", "plant"},
	"replay":      {"profile", "plant", "html"},
	"failfile":    {"profile", "property", "quirks", "focus", "plant", "v", "html"},
	"keep":        {"search"},
	"merge":       {"v", "html"},
	"commands":    {},
	"fuzzcompare": {"search"},
}

// job is a checked command line: the mode and what it works on.
type job struct {
	mode       string
	o          options
	profiles   []model.Profile // exploring: the profiles, in timeline order
	properties []string        // exploring: the properties
	shard      shard
	args       []string // -merge: the shard result files
}

// parse parses and checks a command line.
func parse(args []string) (job, error) {
	var j job
	fs := newFlagSet(&j.o)
	if err := checkRenamed(fs, args); err != nil {
		return j, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return j, err
		}
		return j, usageError{err.Error()}
	}
	o := &j.o
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	var given []string
	for _, m := range modes {
		if _, ok := set[m]; ok {
			given = append(given, m)
		}
	}
	switch {
	case len(given) > 1:
		return j, usagef("-%s=%s and -%s=%s cannot be used together", given[0], set[given[0]], given[1], set[given[1]])
	case len(given) == 1:
		j.mode = given[0]
	case set["search"] != "":
		j.mode = "search"
	default:
		j.mode = "explore"
	}
	if _, ok := set["out"]; ok && j.mode != "shard" {
		return j, usagef("-out=%s needs -shard=i/n: only a shard writes its result to a file", o.out)
	}
	what := map[string]string{"explore": "exploring", "shard": "-shard", "search": "-search"}[j.mode]
	if what == "" {
		what = "-" + j.mode
	}
	for _, name := range sortedFlags(set) {
		if name == j.mode || slices.Contains(allowed[j.mode], name) {
			continue
		}
		return j, usagef("-%s=%s does not apply to %s (which takes %s)", name, set[name], what, flagList(allowed[j.mode]))
	}
	if j.mode == "merge" {
		if fs.NArg() == 0 {
			return j, usagef("-merge needs the shard result files as arguments")
		}
		j.args = fs.Args()
	} else if fs.NArg() > 0 {
		return j, usagef("unexpected argument %q: guardsim takes flags only (but -merge FILE...)", fs.Arg(0))
	}

	// The values.
	for _, n := range []struct {
		name string
		v    int
		min  int
	}{{"checks", o.checks, 1}, {"workers", o.workers, 1}, {"chunks", o.chunks, 1}, {"directed", o.directed, 0}} {
		switch {
		case n.v < n.min && n.min == 0:
			return j, usagef("-%s=%d: must not be negative", n.name, n.v)
		case n.v < n.min:
			return j, usagef("-%s=%d: must be positive", n.name, n.v)
		}
	}
	if _, ok := set["checks"]; !ok && j.mode == "search" {
		o.checks = searchChecks
	}
	if o.shrink < 0 {
		return j, usagef("-shrinktime=%s: must not be negative", o.shrink)
	}
	if _, ok := set["fuzzcompare"]; ok && o.compare <= 0 {
		return j, usagef("-fuzzcompare=%s: must be positive (how long each finding is searched)", o.compare)
	}
	if _, ok := set["rapidseed"]; ok && o.rapidseed == 0 {
		return j, usagef("-rapidseed=0: give a seed from 1 on (leave the flag out for a fresh one)")
	}
	if err := j.checkProfiles(set); err != nil {
		return j, err
	}
	if err := j.checkProperties(set); err != nil {
		return j, err
	}
	if err := checkSlugs(j.mode, set); err != nil {
		return j, err
	}
	if o.focus != "" {
		for _, k := range strings.Split(o.focus, ",") {
			if !slices.Contains(properties.ActionKinds, k) {
				return j, usagef("-focus=%s: unknown action kind %q (want some of %s)", o.focus, k, strings.Join(properties.ActionKinds, ","))
			}
		}
	}
	if _, ok := set["html"]; ok && o.html == "" {
		return j, usagef("-html=: name a file (-replay, -failfile) or a directory (exploring, -merge), or off")
	}
	if (j.mode == "replay" || j.mode == "failfile") && o.html == "off" {
		return j, usagef("-html=off: -%s draws only when -html names a file", j.mode)
	}
	if j.mode == "explore" || j.mode == "merge" {
		switch o.html {
		case "":
			o.html = picturesDir
		case "off":
			o.html = ""
		}
	}
	if j.mode == "failfile" {
		if _, ok := set["profile"]; !ok {
			return j, usagef("-failfile=%s needs -profile=P: the profile its replay command names", o.failfile)
		}
	}
	if j.mode == "shard" {
		var err error
		if j.shard, err = parseShard(o.shard); err != nil {
			return j, usageError{err.Error()}
		}
		if o.out == "" {
			return j, usagef("-shard=%s needs -out=FILE, where the shard's result goes", o.shard)
		}
		if o.rapidseed == 0 {
			return j, usagef("-shard=%s needs -rapidseed=S: every shard of a sweep must explore from the same seed", o.shard)
		}
	}
	if o.plant != "" {
		if !plant.Enabled {
			return j, usagef("-plant=%s needs the planted bugs compiled in: go run -tags guardsim_plant ./cmd/guardsim ...", o.plant)
		}
		if _, ok := plant.Lookup(o.plant); !ok {
			return j, usagef("-plant=%s: unknown planted bug (see internal/plant)", o.plant)
		}
	}
	return j, nil
}

func (j *job) checkProfiles(set map[string]string) error {
	v, ok := set["profile"]
	if !ok {
		if j.mode == "explore" || j.mode == "shard" {
			j.profiles = model.Profiles()
		}
		return nil
	}
	ps, err := model.ParseProfiles(v)
	if err != nil {
		return usagef("-profile=%s: %v", v, err)
	}
	switch j.mode {
	case "replay", "failfile", "search":
		if strings.TrimSpace(v) == "all" || len(strings.Split(v, ",")) != 1 {
			return usagef("-profile=%s: -%s takes exactly one profile", v, j.mode)
		}
	}
	j.profiles = ps
	return nil
}

func (j *job) checkProperties(set map[string]string) error {
	v, ok := set["property"]
	if !ok {
		if j.mode == "explore" || j.mode == "shard" {
			j.properties = properties.PropertyNames()
		}
		return nil
	}
	names := properties.PropertyNames()
	if strings.TrimSpace(v) == "all" {
		if j.mode == "failfile" {
			return usagef("-property=%s: -failfile takes one property (leave -property out to check every property)", v)
		}
		j.properties = names
		return nil
	}
	var ps []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(names, p) {
			return usagef("-property=%s: unknown property %q (want all, or some of %s)", v, p, strings.Join(names, ", "))
		}
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	switch {
	case len(ps) == 0:
		return usagef("-property=%s: no property named", v)
	case j.mode == "failfile" && len(ps) != 1:
		return usagef("-property=%s: -failfile takes one property (leave -property out to check every property)", v)
	}
	j.properties = ps
	return nil
}

func checkSlugs(mode string, set map[string]string) error {
	v, ok := set["search"]
	if !ok {
		return nil
	}
	slugs := []string{v}
	if mode == "fuzzcompare" {
		slugs = strings.Split(v, ",")
	}
	for _, s := range slugs {
		if _, err := properties.FindingBySlug(s); err != nil {
			var all []string
			for _, k := range properties.Findings {
				all = append(all, k.Slug)
			}
			return usagef("-search=%s: unknown finding %q (want one of %s)", v, s, strings.Join(all, ", "))
		}
	}
	return nil
}

func sortedFlags(set map[string]string) []string {
	var names []string
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func flagList(names []string) string {
	if len(names) == 0 {
		return "no other flag"
	}
	var fs []string
	for _, n := range names {
		fs = append(fs, "-"+n)
	}
	return strings.Join(fs, ", ")
}

const synopsis = `Usage:
  guardsim [-profile=all] [-property=all] [-checks=N] [-rapidseed=S]   explore the timeline (make sim)
  guardsim -replay=FILE [-profile=P]                                   replay a scenario file and judge it
  guardsim -failfile=F -profile=P [-property=X]                        replay a rapid fail file
  guardsim -search=SLUG [-profile=P] [-rapidseed=S] [-checks=N]        search one registered finding
  guardsim -shard=i/n -rapidseed=S -out=F [...]; guardsim -merge F...  a sweep in shards (CI)
  guardsim -keep [-search=SLUG]                                        regenerate testdata/kept/
  guardsim -replay=FILE -html=PAGE.html                                draw a scenario as a sequence diagram
  guardsim -commands                                                   the scenario language's commands
`

// searchChecks is -search's budget when -checks is not given: one finding at
// one profile, searched harder than a sweep explores each profile.
const searchChecks = 5000

// picturesDir is where exploring writes its pictures by default.
const picturesDir = "guardsim-pictures"

// usage is -h: the synopsis, the timeline and every flag.
func usage(w io.Writer) {
	fmt.Fprintf(w, `guardsim: deterministic simulation of Rivet's Guard, gateway, engine and runner.

%s
Profiles: each is the upstream code (rivet-dev/rivet) at one commit, oldest
first; + and - are the quirks (modelled behaviours) that commit switches:
%s
Properties: %s

Flags:
`, synopsis, model.TimelineText(), strings.Join(properties.PropertyNames(), ", "))
	fs := newFlagSet(&options{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}
