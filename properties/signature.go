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

// Signature names what a violation is, so that distinct failures of one
// property are told apart and repeats are counted (issue 10): the registered
// findings that explain it (all of them, in registry order, so that one
// finding cannot hide another that shows in the same scenarios), or else its
// property and its message with names, times and counts abstracted.
func Signature(f *Failure, v Violation) string {
	var in, out []string
	for _, k := range Findings {
		if !k.Explains(f, v.Property) {
			continue
		}
		if k.Covers(f.Options.Profile) {
			in = append(in, k.Slug)
		} else {
			out = append(out, k.Slug)
		}
	}
	switch {
	case len(in) > 0:
		return v.Property + ": finding " + strings.Join(in, findingSep)
	case len(out) > 0:
		return v.Property + ": finding " + strings.Join(out, findingSep) + OutsideRange
	}
	msg := sigNames.ReplaceAllString(v.Msg, "<id>")
	msg = sigNumbers.ReplaceAllString(msg, "<n>")
	return v.Property + ": " + strings.TrimSpace(msg)
}

const findingSep = " + "

// SignatureFindings returns the registered findings a signature names, and
// whether they are outside their ranges; none for a signature no finding
// explains.
func SignatureFindings(sig string) (slugs []string, outside bool) {
	_, rest, ok := strings.Cut(sig, ": finding ")
	if !ok {
		return nil, false
	}
	rest, outside = strings.CutSuffix(rest, OutsideRange)
	return strings.Split(rest, findingSep), outside
}

// Signatures lists the distinct signatures of a failure's violations, in
// order.
func Signatures(f *Failure) []string {
	var out []string
	for _, v := range f.Violations {
		s := Signature(f, v)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
