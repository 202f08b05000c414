package properties

import (
	"fmt"
	"slices"
	"strings"

	"github.com/guardsim/guardsim/sim"
)

// The minimizer takes over where rapid's shrinking stops. rapid shrinks
// the choices that drew a scenario; the minimizer shrinks the script those
// choices wrote, line by line, and keeps a change only when the smaller
// script still fails the same way (one of the signatures the failure had).
// It is deterministic: it is bounded by a number of runs, never by the wall
// clock, so a failure shrinks to the same case on any machine under any
// load.
//
// Its passes, repeated until a round changes nothing:
//   - remove actions, in halves, quarters, ... and then one at a time (a
//     combined action, such as a stale race, is already several lines, so
//     its parts go one by one);
//   - merge consecutive "run for=" steps into one;
//   - remove header lines: latencies, actors and their behaviours, so the
//     swarm options shrink too (an actor still used makes the script
//     invalid, and the candidate is refused);
//   - remove unused runners and peers from the world, and zero its workflow
//     delay;
//   - while the case is longer than MaxReportActions, remove two action
//     lines at once, and one actor with everything about it;
//   - renumber clients, sockets and messages in order of appearance.
//
// The result is 1-minimal when the last round ran to its end: removing any
// one action line makes the failure go away (and, for a case longer than
// MaxReportActions, any two).

// MinimizeRuns bounds the scenarios the minimizer runs for one failure.
const MinimizeRuns = 3000

// minimizer shrinks one failing script.
type minimizer struct {
	fails  func(script []string) bool
	runs   int
	budget int
}

func (m *minimizer) try(script []string) bool {
	if m.runs >= m.budget {
		return false
	}
	m.runs++
	return m.fails(script)
}

// span returns the indexes of the first action line and of the liveness
// line: actions are the lines between the world's first "run" and the
// final "liveness".
func span(script []string) (int, int) {
	start := slices.Index(script, "run") + 1
	end := len(script)
	if end > 0 && script[end-1] == "liveness" {
		end--
	}
	return start, end
}

func without(script []string, from, to int) []string {
	out := make([]string, 0, len(script)-(to-from))
	out = append(out, script[:from]...)
	return append(out, script[to:]...)
}

func replaced(script []string, i int, lines ...string) []string {
	out := make([]string, 0, len(script)+len(lines))
	out = append(out, script[:i]...)
	out = append(out, lines...)
	return append(out, script[i+1:]...)
}

// minimize returns the smallest script it finds that still fails, whether
// the result is 1-minimal (the last removal pass ran out of candidates
// rather than out of budget), and the runs it spent.
func minimize(script []string, fails func([]string) bool, budget int) ([]string, bool, int) {
	m := &minimizer{fails: fails, budget: budget}
	cur := slices.Clone(script)
	for changed := true; changed && m.runs < m.budget; {
		changed = false
		for _, pass := range []func([]string) ([]string, bool){m.removeActions, m.mergeRuns, m.removeHeader, m.simplifyWorld, m.removePairs, m.removeActors} {
			var ok bool
			if cur, ok = pass(cur); ok {
				changed = true
			}
		}
	}
	minimal := m.runs < m.budget
	if r, ok := renumber(cur); ok && m.try(r) {
		cur = r
	}
	return cur, minimal, m.runs
}

// removeActions removes chunks of action lines, halving the chunk size
// down to one line (ddmin's complement step).
func (m *minimizer) removeActions(cur []string) ([]string, bool) {
	changed := false
	start, end := span(cur)
	for size := max((end-start)/2, 1); size >= 1; size /= 2 {
		for i := start; i+size <= end && m.runs < m.budget; {
			if cand := without(cur, i, i+size); m.try(cand) {
				cur, changed = cand, true
				start, end = span(cur)
				continue
			}
			i += size
		}
		if size == 1 {
			break
		}
	}
	return cur, changed
}

// removePairs removes two action lines at once, for a case still longer
// than a report should be: two lines that are each needed only while the
// other is there (a second open and its send, a disconnect and the
// reschedule it makes matter) go together.
func (m *minimizer) removePairs(cur []string) ([]string, bool) {
	start, end := span(cur)
	if end-start <= MaxReportActions {
		return cur, false
	}
	for i := start; i < end; i++ {
		for j := i + 1; j < end && m.runs < m.budget; j++ {
			cand := without(without(cur, j, j+1), i, i+1)
			if m.try(cand) {
				return cand, true // the next round starts over from single removals
			}
		}
	}
	return cur, false
}

// mergeRuns merges consecutive "run for=" steps.
func (m *minimizer) mergeRuns(cur []string) ([]string, bool) {
	changed := false
	for i := 0; i+1 < len(cur); i++ {
		a, okA := runFor(cur[i])
		b, okB := runFor(cur[i+1])
		if !okA || !okB {
			continue
		}
		cand := replaced(without(cur, i+1, i+2), i, "run for="+dur(a+b))
		if m.try(cand) {
			cur, changed = cand, true
			i--
		}
	}
	return cur, changed
}

func runFor(line string) (sim.Time, bool) {
	v, ok := strings.CutPrefix(line, "run for=")
	if !ok {
		return 0, false
	}
	d, err := parseDur(v)
	return d, err == nil
}

// removeHeader removes header lines other than the world and its "run":
// an actor goes with its behaviour lines.
func (m *minimizer) removeHeader(cur []string) ([]string, bool) {
	changed := false
	for i := 1; i < slices.Index(cur, "run") && m.runs < m.budget; {
		f := strings.Fields(cur[i])
		to := i + 1
		if len(f) > 1 && f[0] == "actor" {
			for to < len(cur) && strings.HasPrefix(cur[to], "behavior "+f[1]+" ") {
				to++
			}
		}
		if cand := without(cur, i, to); m.try(cand) {
			cur, changed = cand, true
			continue
		}
		i++
	}
	return cur, changed
}

// removeActors removes, for a case still longer than a report should be,
// one actor at a time with everything about it: its declaration and
// behaviours, the actions that name it, and those of the clients opened
// to it (a second actor's socket, its sends and its reschedule may each be
// needed while the others are there, and go only together).
func (m *minimizer) removeActors(cur []string) ([]string, bool) {
	start, end := span(cur)
	if end-start <= MaxReportActions {
		return cur, false
	}
	for _, l := range cur[:start] {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "actor" || m.runs >= m.budget {
			continue
		}
		if cand := withoutActor(cur, f[1]); m.try(cand) {
			return cand, true // the next round starts over
		}
	}
	return cur, false
}

// withoutActor drops the actor's header lines and every action line that
// names it, or names a client opened to it.
func withoutActor(script []string, actor string) []string {
	start, _ := span(script)
	gone := map[string]bool{actor: true}
	for _, l := range script[start:] {
		if f := strings.Fields(l); len(f) > 1 && (f[0] == "ws" || f[0] == "http") && slices.Contains(f[2:], "actor="+actor) {
			gone[f[1]] = true
		}
	}
	var out []string
	for i, l := range script {
		f := strings.Fields(l)
		drop := false
		switch {
		case i < start:
			drop = len(f) > 1 && (f[0] == "actor" || f[0] == "behavior") && f[1] == actor
		case len(f) > 0:
			for _, w := range f[1:] {
				_, v, _ := strings.Cut(w, "=")
				if gone[w] || gone[v] {
					drop = true
				}
			}
		}
		if !drop {
			out = append(out, l)
		}
	}
	return out
}

// simplifyWorld removes runners and peers from the world line one at a
// time and zeroes its workflow delay.
func (m *minimizer) simplifyWorld(cur []string) ([]string, bool) {
	changed := false
	f := strings.Fields(cur[0])
	if len(f) == 0 || f[0] != "world" {
		return cur, false
	}
	for i := 1; i < len(f) && m.runs < m.budget; i++ {
		k, v, _ := strings.Cut(f[i], "=")
		var alts []string
		switch k {
		case "runners":
			rs := strings.Split(v, ",")
			for j := range rs {
				if len(rs) > 1 {
					alts = append(alts, "runners="+strings.Join(without(rs, j, j+1), ","))
				}
			}
		case "peers":
			alts = append(alts, "")
		case "workflow_delay":
			if v != "0" {
				alts = append(alts, "workflow_delay=0")
			}
		}
		for _, alt := range alts {
			g := slices.Clone(f)
			g[i] = alt
			cand := replaced(cur, 0, strings.Join(strings.Fields(strings.Join(g, " ")), " "))
			if m.try(cand) {
				cur, changed = cand, true
				return cur, changed // the fields moved: the next round goes on
			}
		}
	}
	return cur, changed
}

// renumber renames clients (c), sockets (w) and messages (m) in order of
// first appearance, so a shrunk case reads c1, c2, w1, m1... It reports
// whether anything changed.
func renumber(script []string) ([]string, bool) {
	names := map[string]string{}
	next := map[byte]int{}
	out := make([]string, len(script))
	changed := false
	start, _ := span(script)
	for i, l := range script {
		if i < start {
			out[i] = l
			continue
		}
		f := strings.Fields(l)
		for j, w := range f {
			if j == 0 || !isName(w) {
				continue
			}
			n, ok := names[w]
			if !ok {
				next[w[0]]++
				n = fmt.Sprintf("%c%d", w[0], next[w[0]])
				names[w] = n
			}
			if n != w {
				f[j], changed = n, true
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out, changed
}

// isName reports whether a script word is a client, socket or message name
// (c12, w3, m40).
func isName(w string) bool {
	if len(w) < 2 || (w[0] != 'c' && w[0] != 'w' && w[0] != 'm') {
		return false
	}
	for _, c := range w[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
