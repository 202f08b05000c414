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
// finding that explains it, or else its property and its message with names,
// times and counts abstracted.
func Signature(f *Failure, v Violation) string {
	if k, ok := FindingExplaining(f, v.Property); ok {
		return v.Property + ": finding " + k.Slug
	}
	for _, k := range Findings {
		if k.Explains(f, v.Property) {
			return v.Property + ": finding " + k.Slug + OutsideRange
		}
	}
	msg := sigNames.ReplaceAllString(v.Msg, "<id>")
	msg = sigNumbers.ReplaceAllString(msg, "<n>")
	return v.Property + ": " + strings.TrimSpace(msg)
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
