package properties

import (
	"regexp"
	"slices"
	"strings"
)

// Names and numbers a violation mentions that do not change what went
// wrong: client, actor, runner, request and ray names, times and counts.
var (
	sigNames   = regexp.MustCompile(`\b(live-(http|ws)-)?(c|w|a|r|rq|ray)\d+\b`)
	sigNumbers = regexp.MustCompile(`\d+(\.\d+)?`)
)

// OutsideRange ends the signature of a violation a registered finding
// explains at a commit outside its range.
const OutsideRange = " (outside its range)"

// ViolationSignatures names what a violation is, so that distinct failures
// of one property are told apart and repeats are counted (issue 10): one
// signature for each registered finding that explains it (so one finding
// cannot hide another that shows in the same scenarios, and a scenario
// that shows two known findings is not a third, new failure), or else its
// property and its message with names, times and counts abstracted.
// Findings outside their ranges count only when none inside explains it.
func ViolationSignatures(f *Failure, v Violation) []string {
	var in, out []string
	for _, k := range Findings {
		if !k.Explains(f, v.Property) {
			continue
		}
		if k.Covers(f.Options.Profile) {
			in = append(in, v.Property+": finding "+k.Slug)
		} else {
			out = append(out, v.Property+": finding "+k.Slug+OutsideRange)
		}
	}
	switch {
	case len(in) > 0:
		return in
	case len(out) > 0:
		return out
	}
	msg := sigNames.ReplaceAllString(v.Msg, "<id>")
	msg = sigNumbers.ReplaceAllString(msg, "<n>")
	return []string{v.Property + ": " + strings.TrimSpace(msg)}
}

// SignatureFindings returns the registered finding a signature names, and
// whether it is outside its range; none for a signature no finding
// explains.
func SignatureFindings(sig string) (slugs []string, outside bool) {
	_, rest, ok := strings.Cut(sig, ": finding ")
	if !ok {
		return nil, false
	}
	rest, outside = strings.CutSuffix(rest, OutsideRange)
	return []string{rest}, outside
}

// Signatures lists the distinct signatures of a failure's violations, in
// order.
func Signatures(f *Failure) []string {
	var out []string
	for _, v := range f.Violations {
		for _, s := range ViolationSignatures(f, v) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// WorldSignatures judges a world that ran (a replayed scenario file) the
// way the exploration does: the signature of each violation the oracle
// finds, naming the registered finding that explains it.
func WorldSignatures(w *World) []string {
	f := &Failure{Options: Options{Profile: w.Cfg.Profile}, Violations: Check(w), Trace: w.Sim.TraceText()}
	if len(f.Violations) == 0 {
		return nil
	}
	f.Property = f.Violations[0].Property
	return Signatures(f)
}
