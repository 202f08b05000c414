package oracle

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// world is a Record with the queries the properties ask of it: all of them
// about the world's true history or what crossed the wire.
type world struct{ *record.Record }

// faultFree reports whether no fault was injected up to t.
func (w world) faultFree(t sim.Time) bool {
	for _, n := range w.Notes {
		if n.Fault && n.At <= t {
			return false
		}
	}
	return true
}

// untouched reports whether no lifecycle action hit actor a in [from, to].
func (w world) untouched(a model.ActorID, from, to sim.Time) bool {
	for _, n := range w.Notes {
		if !n.Fault && n.Actor == a && n.At >= from && n.At <= to {
			return false
		}
	}
	return true
}

// linkFaulted reports whether a fault on a link or node whose description
// names every one of parts was injected up to t.
func (w world) linkFaulted(t sim.Time, parts ...string) bool {
	for _, n := range w.Notes {
		if !n.Fault || n.At > t {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n.What, p)
		}
		if all {
			return true
		}
	}
	return false
}

// destroyedAt is when the engine committed the actor's destruction, or -1.
func (w world) destroyedAt(a model.ActorID) sim.Time {
	for _, p := range w.History {
		if p.Actor == a && p.Event == "destroyed" {
			return p.At
		}
	}
	return -1
}

// destroyedBetween reports whether the actor was destroyed in (from, to].
func (w world) destroyedBetween(a model.ActorID, from, to sim.Time) bool {
	d := w.destroyedAt(a)
	return d > from && d <= to
}

// stoppedBetween reports whether the actor's Stopped reached Guard in
// [from, to].
func (w world) stoppedBetween(a model.ActorID, from, to sim.Time) bool {
	for _, t := range w.Wire.Stopped[a] {
		if t >= from && t <= to {
			return true
		}
	}
	return false
}

// firstStopped is the first Stopped of the actor reaching Guard in
// [from, to], or -1.
func (w world) firstStopped(a model.ActorID, from, to sim.Time) sim.Time {
	for _, t := range w.Wire.Stopped[a] {
		if t >= from && t <= to {
			return t
		}
	}
	return -1
}

// readyBetween reports whether the engine made the actor ready in (from, to]
// without destroying it first.
func (w world) readyBetween(a model.ActorID, from, to sim.Time) (model.RunnerID, bool) {
	for _, p := range w.History {
		if p.Actor != a || p.At <= from {
			continue
		}
		if p.At > to || p.Event == "destroyed" {
			return "", false
		}
		if p.Event == "ready" {
			return p.Runner, true
		}
	}
	return "", false
}

// asleepAt reports whether the actor's SleepTsKey was set at time t.
func (w world) asleepAt(a model.ActorID, t sim.Time) bool {
	asleep := false
	for _, p := range w.History {
		if p.At > t {
			break
		}
		if p.Actor == a {
			asleep = p.Asleep
		}
	}
	return asleep
}

// known reports whether the engine ever had the actor.
func (w world) known(a model.ActorID) bool { return slices.Contains(w.EngineActors, a) }

// hibernatable reports whether the actor's sockets can hibernate.
func (w world) hibernatable(a model.ActorID) bool { return w.Actors[a].CanHibernate }

// peer reports whether the actor lives in a peer datacenter ("a@dc").
func peer(a model.ActorID) bool { return strings.Contains(string(a), "@") }

// startsOf are a client's publishes of one kind: WebSocketOpens when ws,
// else RequestStarts (one per attempt; the request id is shared from
// 6b7ebbb0d).
func (w world) startsOf(name string, ws bool) []record.Start {
	all := w.Wire.Starts[name]
	if !slices.ContainsFunc(all, func(s record.Start) bool { return s.WS != ws }) {
		return all[:len(all):len(all)] // all of one kind (the callers only read it)
	}
	var out []record.Start
	for _, s := range all {
		if s.WS == ws {
			out = append(out, s)
		}
	}
	return out
}

// wsStarts are the socket's WebSocketOpen publishes.
func (w world) wsStarts(c *record.WS) []record.Start { return w.startsOf(c.Name, true) }

// requestIDs lists the distinct request ids of the client's publishes.
func requestIDs(starts []record.Start, ws bool) []model.RequestID {
	var ids []model.RequestID
	for _, s := range starts {
		if s.WS == ws && !slices.Contains(ids, s.Request) {
			ids = append(ids, s.Request)
		}
	}
	return ids
}

// opens are the times the runner's ServerWebSocketOpen for rid reached Guard.
func (w world) opens(rid model.RequestID) []sim.Time {
	var out []sim.Time
	for _, x := range w.Wire.Responses[rid] {
		if _, ok := x.Kind.(model.ServerWebSocketOpen); ok {
			out = append(out, x.At)
		}
	}
	return out
}

// viaTarget reports whether the socket took the Target path to a peer
// datacenter (a peer-DC actor, or a cached Target route, which the cache
// key of a WebSocket lets another actor hit). The peer is a fake that
// echoes; what the actor behind it receives is not judged.
func (w world) viaTarget(c *record.WS) bool { return len(w.Wire.Peers[c.Name]) > 0 }

// opened reports whether the socket reached its actor: a runner's open
// reached Guard under its request id, or a peer accepted it.
func (w world) opened(c *record.WS) bool {
	for _, p := range w.Wire.Peers[c.Name] {
		if p.Accepted {
			return true
		}
	}
	for _, rid := range requestIDs(w.Wire.Starts[c.Name], true) {
		if len(w.opens(rid)) > 0 {
			return true
		}
	}
	return false
}

// ServedBy parses the default body of the actor's fetch handler:
// "runner=<id> actor=<id> gen=<n>".
func ServedBy(body string) (runner string, gen int, ok bool) {
	for _, f := range strings.Fields(body) {
		if v, found := strings.CutPrefix(f, "runner="); found {
			runner, ok = v, true
		}
		if v, found := strings.CutPrefix(f, "gen="); found {
			gen, _ = strconv.Atoi(v)
		}
	}
	return runner, gen, ok
}

// ErrorCode parses Guard's JSON error body: "group.code".
func ErrorCode(body string) string {
	// Only a JSON object can set Group: any other body (a runner's text,
	// an empty one) gives "" without the decoder.
	if i := strings.IndexFunc(body, func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }); i < 0 || body[i] != '{' {
		return ""
	}
	// Guard's own rendering (errIntoResponse) with plain strings reads
	// the same as the decoder would.
	if g, c, ok := plainErrorBody(body); ok {
		if g == "" {
			return ""
		}
		return g + "." + c
	}
	var e struct{ Group, Code string }
	if json.Unmarshal([]byte(body), &e) != nil || e.Group == "" {
		return ""
	}
	return e.Group + "." + e.Code
}

// plainErrorBody reads {"group":"G","code":"C","message":"M"} where every
// string is printable ASCII without quotes or backslashes, so no JSON
// escape or field-matching rule can apply; ok is false for anything else.
func plainErrorBody(body string) (group, code string, ok bool) {
	rest, ok := strings.CutPrefix(body, `{"group":"`)
	if !ok {
		return "", "", false
	}
	group, rest, ok = plainJSONString(rest, `","code":"`)
	if !ok {
		return "", "", false
	}
	code, rest, ok = plainJSONString(rest, `","message":"`)
	if !ok {
		return "", "", false
	}
	if _, rest, ok = plainJSONString(rest, `"}`); !ok || rest != "" {
		return "", "", false
	}
	return group, code, true
}

// plainJSONString cuts s at sep; ok only when the part before it is
// printable ASCII without quotes or backslashes.
func plainJSONString(s, sep string) (v, rest string, ok bool) {
	v, rest, ok = strings.Cut(s, sep)
	if !ok {
		return "", "", false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", "", false
		}
	}
	return v, rest, true
}
