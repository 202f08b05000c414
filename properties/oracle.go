package properties

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// A Violation is one client operation (or the world) breaking a property.
// Allowed and Saw describe, key by key, what the oracle allowed and what was
// observed; a go-cmp diff of the two is the readable part of a report.
type Violation struct {
	Property string
	Subject  string // the client operation or component
	Msg      string
	Allowed  map[string]string
	Saw      map[string]string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s: %s", v.Property, v.Subject, v.Msg) }

// Property is one invariant the oracle checks on a finished world.
type Property struct {
	Name string
	Desc string
	// Spec names the spec items it checks.
	Spec  string
	check func(w *World) []Violation
}

// Properties lists every property, in report order.
var Properties = []Property{
	{"attempts", "at most 3 runner attempts per HTTP request (RequestStart publishes, on the wire)", "H1", checkAttempts},
	{"routing", "at most 4 routing calls per HTTP request", "H2", checkRouting},
	{"backoff", "backoff exactly 100/200/400 ms, and each retry starts no earlier", "H3", checkBackoff},
	{"outcome", "one terminal outcome from the allowed set; a 503 with x-rivet-error never reaches a client", "H5, H12", checkOutcome},
	{"exhausted", "retry_attempts_exceeded only when every attempt really failed on the wire", "H4, H9, H10, H11", checkExhausted},
	{"attempt_end", "an HTTP attempt ends when its outcome reaches Guard: the response or abort, else the 2 s timeout (or a gateway GC tick)", "H9, H10, H11, c.6", checkAttemptEnd},
	{"earned", "every Guard error a client gets is explained by the world: routing's service_unavailable only after 17 stops, actor_ready_timeout only if the actor was not ready (or a fault hid it) and every stop while routing was followed by a wake, not-found only for a missing or destroyed actor, internal_error only with a fault on Guard's engine link", "H5, H7, H8, E22, issue 9", checkEarned},
	{"seed", "the runner's \"Actor not found\" never reaches a client when a retry would have reached the actor (ready again, or asleep and woken by the retry, within the retry window)", "H6, f", checkSeed},
	{"destroyed", "a destroyed actor never answers a request issued after its destruction was committed", "L4, E13", checkDestroyed},
	{"stop_once", "onActorStop exactly once per removal of an actor generation from a runner", "L2", checkStopOnce},
	{"ws_upgrade", "every client WebSocket gets 101 with sec-websocket-protocol: rivet", "W1", checkWSUpgrade},
	{"ws_one_id", "all opens of one client WebSocket use one request id", "W2", checkWSOneID},
	{"ws_preopen", "at most 4 consecutive pre-open failures, backoff 100/200/400 ms, then 1011 websocket_service_unavailable", "W3, W4", checkWSPreOpen},
	{"ws_hibernate", "a hibernatable actor's stop never closes its client socket", "W5, W6", checkWSHibernate},
	{"ws_delivery", "every message a client sends on a hibernatable socket that stays open reaches the actor", "W5, E5", checkWSDelivery},
	{"ws_close", "a client socket closes only with a Guard error frame from the allowed set or a runner close Guard may pass through", "W6, W8, d.5", checkWSClose},
	{"ws_runner_close", "the runner gets Guard's close at most once per attempt whose open succeeded", "W7, E6", checkWSRunnerClose},
	{"ws_client_close", "a client's close reaches the actor whose socket is open, within 5 s, when no fault or lifecycle action intervenes", "W7, GW:443-465, issue 9", checkWSClientClose},
	{"ws_quiet", "with no fault and no lifecycle action, an open socket is never closed, reconnected or loses a reply", "W5, W7, i.6, i.7", checkWSQuiet},
	{"liveness", "after faults stop and the world heals, every live actor answers HTTP and WebSocket probes", "design: liveness", checkLiveness},
	{"quiescence", "nothing pending once the world is quiet: every request answered, no leaked subscription or in-flight entry", "design: lifecycle", checkQuiescence},
}

// PropertyNames lists the property names in order.
func PropertyNames() []string {
	names := make([]string, len(Properties))
	for i, p := range Properties {
		names[i] = p.Name
	}
	return names
}

// Check evaluates the named properties (all when names is empty).
func Check(w *World, names ...string) []Violation {
	var out []Violation
	for _, p := range Properties {
		if len(names) == 0 || slices.Contains(names, p.Name) {
			out = append(out, p.check(w)...)
		}
	}
	return out
}

func viol(prop, subject, msg string, allowed, saw map[string]string) Violation {
	return Violation{prop, subject, msg, allowed, saw}
}

// --- HTTP ---

func distinctRequests(starts []wireStart, ws bool) []model.RequestID {
	var ids []model.RequestID
	for _, s := range starts {
		if s.WS == ws && !slices.Contains(ids, s.Request) {
			ids = append(ids, s.Request)
		}
	}
	return ids
}

func checkAttempts(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if n := len(distinctRequests(w.wire.starts[r.Name], false)); n > 3 {
			out = append(out, viol("attempts", r.Name, "more than 3 runner attempts",
				map[string]string{"attempts": "<=3"}, map[string]string{"attempts": fmt.Sprint(n)}))
		}
	}
	return out
}

// maxRouting is 1 + max attempts: the pegboard path's 3, or for a peer-DC
// Target route the middleware's 7 (GMW:33).
func maxRouting(a model.ActorID) int {
	if strings.Contains(string(a), "@") {
		return 8
	}
	return 4
}

func checkRouting(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if limit := maxRouting(r.Actor); r.Log.RoutingCalls > limit {
			out = append(out, viol("routing", r.Name, fmt.Sprintf("more than %d routing calls", limit),
				map[string]string{"routing": fmt.Sprintf("<=%d", limit)}, map[string]string{"routing": fmt.Sprint(r.Log.RoutingCalls)}))
		}
	}
	return out
}

var schedule = []sim.Time{100 * sim.Millisecond, 200 * sim.Millisecond, 400 * sim.Millisecond}

func durs(ds []sim.Time) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprint(d.Millis(), "ms")
	}
	return strings.Join(parts, ",")
}

func checkBackoff(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if strings.Contains(string(r.Actor), "@") {
			continue // peer-DC routes use the middleware's 150 ms schedule
		}
		b := r.Log.Backoffs
		if len(b) > len(schedule) || !slices.Equal(b, schedule[:len(b)]) {
			out = append(out, viol("backoff", r.Name, "backoff schedule differs",
				map[string]string{"backoffs": "prefix of " + durs(schedule)}, map[string]string{"backoffs": durs(b)}))
			continue
		}
		for k := 1; k < len(r.Log.Attempts); k++ {
			gap := r.Log.Attempts[k].Start - r.Log.Attempts[k-1].End
			if gap < b[k-1] {
				out = append(out, viol("backoff", r.Name, fmt.Sprintf("attempt %d started %s after the failure", k+1, gap),
					map[string]string{"gap": ">=" + b[k-1].String()}, map[string]string{"gap": gap.String()}))
			}
		}
	}
	return out
}

// guardCodes are the error codes a client may see from Guard itself.
var guardCodes = map[string]bool{
	"guard.retry_attempts_exceeded": true, "guard.actor_not_found": true, "guard.actor_destroyed": true,
	"actor.not_found":           true, // from 2e22a2e61 (PGR@2e22a2e61:161,165)
	"guard.actor_ready_timeout": true, "guard.service_unavailable": true, "guard.request_timeout": true,
	"guard.upstream_error": true, "actor.destroyed_while_waiting_for_ready": true, "core.internal_error": true,
}

func responseSaw(r *HTTPRequest) map[string]string {
	if r.Response == nil {
		return map[string]string{"response": "none"}
	}
	m := map[string]string{"status": fmt.Sprint(r.Response.Status), "body": r.Response.Body}
	if v, ok := r.Response.Headers[model.XRivetError]; ok {
		m["x-rivet-error"] = v
	}
	if c := errorCode(r.Response.Body); c != "" {
		m["code"] = c
	}
	return m
}

func checkOutcome(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		resp := r.Response
		if resp == nil {
			continue // quiescence reports unanswered requests
		}
		if _, ok := resp.Headers[model.XRivetError]; ok && resp.Status == 503 {
			out = append(out, viol("outcome", r.Name, "a 503 with x-rivet-error reached the client",
				map[string]string{"status": "not 503 with x-rivet-error"}, responseSaw(r)))
			continue
		}
		if code := errorCode(resp.Body); code != "" && resp.Headers["content-type"] == "application/json" {
			if !guardCodes[code] {
				out = append(out, viol("outcome", r.Name, "unexpected Guard error",
					map[string]string{"code": "one of Guard's routing/retry errors"}, responseSaw(r)))
			}
			continue
		}
		if strings.Contains(string(r.Actor), "@") {
			continue // peer responses are not on this guard's tunnel
		}
		// A verbatim response must be what the runner sent for the last
		// attempt whose RequestStart reached pub/sub before the client got it
		// (judged from the wire, not from Guard's log).
		var rid model.RequestID
		for _, st := range w.wire.starts[r.Name] {
			if st.At <= r.Answered {
				rid = st.Request
			}
		}
		if rid == 0 {
			out = append(out, viol("outcome", r.Name, "a non-Guard response without any attempt on the wire", nil, responseSaw(r)))
			continue
		}
		var got *model.ResponseStart
		for _, x := range w.wire.responses[rid] {
			if rs, ok := x.Kind.(model.ResponseStart); ok && x.At <= r.Answered {
				got = &rs
			}
		}
		if got == nil || got.Status != resp.Status || got.Body != resp.Body {
			allowed := map[string]string{"status": "the runner's response for " + rid.String()}
			if got != nil {
				allowed = map[string]string{"status": fmt.Sprint(got.Status), "body": got.Body}
			}
			out = append(out, viol("outcome", r.Name, "the client's response is not the runner's", allowed, responseSaw(r)))
		}
	}
	return out
}

func checkExhausted(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if r.Response == nil || errorCode(r.Response.Body) != "guard.retry_attempts_exceeded" || strings.Contains(string(r.Actor), "@") {
			continue
		}
		for i, a := range r.Log.Attempts {
			// An attempt failed for real if, on the wire, it got a retryable
			// answer, an abort, or no answer at all before it ended.
			// Something else that ends an attempt at the instant it failed
			// (the actor's Stopped from 3891bf8b6, a GC tick): an answer
			// arriving at that same instant came after the failure.
			otherEnd := a.End%(15*sim.Second) == 0 ||
				(!w.Cfg.Profile.Has(model.GatewayIgnoresActorStopped) && w.stoppedBetween(r.Actor, a.End, a.End))
			for _, x := range w.wire.responses[a.Request] {
				if x.At > a.End || (x.At == a.End && otherEnd) {
					break
				}
				if x.At <= a.Start { // no answer arrives the instant its request starts
					continue // an earlier attempt's, under one request id (6b7ebbb0d)
				}
				if rs, ok := x.Kind.(model.ResponseStart); ok && !x.Retry {
					out = append(out, viol("exhausted", r.Name, fmt.Sprintf("attempt %d got a final response yet counted as failed", i+1),
						map[string]string{"attempt": "503+x-rivet-error, abort, or no answer"},
						map[string]string{"attempt": fmt.Sprintf("%d %q at %s", rs.Status, rs.Body, x.At)}))
				}
			}
		}
	}
	return out
}

func checkAttemptEnd(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if strings.Contains(string(r.Actor), "@") {
			continue
		}
		for i, a := range r.Log.Attempts {
			if a.End == 0 && r.Response == nil {
				continue // still running
			}
			p := w.Cfg.Profile
			wait := 15 * sim.Second // WEBSOCKET_OPEN_TIMEOUT as the response wait (GW@2e22a2e61:37, 234)
			if p.Has(model.GatewayTimeouts2s) {
				wait = 2 * sim.Second // TUNNEL_ACK_TIMEOUT (GW:154-160)
			}
			due := a.Start + wait
			for _, x := range w.wire.responses[a.Request] {
				if x.At <= a.Start { // no answer arrives the instant its request starts
					continue // an earlier attempt's, under one request id (6b7ebbb0d)
				}
				switch x.Kind.(type) {
				case model.ResponseStart, model.ResponseAbort:
					due = min(due, x.At)
				}
			}
			gcTick := a.End%(15*sim.Second) == 0 // the gateway GC closes the channel (GSS:403-442)
			early := gcTick ||
				(!p.Has(model.GatewayIgnoresActorStopped) && w.stoppedBetween(r.Actor, a.Start, a.End)) || // GW@3891bf8b6:220-223
				(p.Has(model.TunnelMessageIDSizeMismatch) && a.End == a.Start) // the send failed
			if a.End > due || (a.End < due && !early) {
				out = append(out, viol("attempt_end", r.Name, fmt.Sprintf("attempt %d ended at %s", i+1, a.End),
					map[string]string{"end": due.String() + " (or earlier at a GC tick)"}, map[string]string{"end": a.End.String()}))
			}
		}
	}
	return out
}

// notFoundBody is the runner SDK's answer for an unknown actor.
const notFoundBody = "Actor not found"

// retryWindow is how long after a failed attempt a retry under the fix
// could still reach the actor: the 100 ms backoff, then a resolution that
// waits up to ActorReadyTimeout for Ready (PGR:183-231).
const retryWindow = 100*sim.Millisecond + 10*sim.Second

// readyBetween reports whether the engine made the actor ready in (from, to]
// without destroying it first.
func (w *World) readyBetween(a model.ActorID, from, to sim.Time) (model.RunnerID, bool) {
	for _, p := range w.Engine.History() {
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
func (w *World) asleepAt(a model.ActorID, t sim.Time) bool {
	asleep := false
	for _, p := range w.Engine.History() {
		if p.At > t {
			break
		}
		if p.Actor == a {
			asleep = p.Asleep
		}
	}
	return asleep
}

// destroyedBetween reports whether the actor was destroyed in (from, to].
func (w *World) destroyedBetween(a model.ActorID, from, to sim.Time) bool {
	d := w.destroyedAt(a)
	return d > from && d <= to
}

func checkSeed(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		resp := r.Response
		if resp == nil || resp.Body != notFoundBody || (resp.Status != 404 && resp.Status != 503) || len(r.Log.Attempts) == 0 {
			continue
		}
		// H6's premise: the actor left the runner, and within the retry
		// window it was made ready again, or it was asleep when a retry
		// would have re-resolved it (and a retry wakes it, PGR:169-176);
		// either way it was not destroyed.
		last := r.Log.Attempts[len(r.Log.Attempts)-1]
		where, ok := w.readyBetween(r.Actor, last.Start, last.End+retryWindow)
		if !ok {
			if !w.asleepAt(r.Actor, last.End+100*sim.Millisecond) || w.destroyedBetween(r.Actor, last.Start, last.End+retryWindow) {
				continue
			}
			where = "wake"
		}
		out = append(out, viol("seed", r.Name,
			fmt.Sprintf("the runner's %q reached the client after %d attempt(s), though a retry would have reached %s (ready within the window: %s)", notFoundBody, len(r.Log.Attempts), r.Actor, where),
			map[string]string{"outcome": "success after retry, or a Guard error"},
			map[string]string{"outcome": fmt.Sprintf("%d %q from %s", resp.Status, resp.Body, last.Runner)}))
	}
	return out
}

func checkDestroyed(w *World) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		d := w.destroyedAt(r.Actor)
		if d < 0 || r.Issued < d || r.Response == nil {
			continue
		}
		if rn, _, ok := servedBy(r.Response.Body); ok {
			out = append(out, viol("destroyed", r.Name, "a destroyed actor answered",
				map[string]string{"outcome": "guard.actor_destroyed or another error"},
				map[string]string{"outcome": fmt.Sprintf("%d served by %s", r.Response.Status, rn)}))
		}
	}
	return out
}

// --- lifecycle ---

func checkStopOnce(w *World) []Violation {
	var out []Violation
	type key struct {
		a model.ActorID
		g model.Generation
	}
	for _, id := range sim.SortedKeys(w.Runners) {
		rn := w.Runners[id]
		calls := map[key]int{}
		for _, s := range rn.StopCalls() {
			calls[key{s.Actor, s.Generation}]++
		}
		removals := map[key]int{}
		for _, h := range rn.Hosting() {
			if !h.Up {
				removals[key{h.Actor, h.Generation}]++
			}
		}
		keys := map[key]bool{}
		for k := range calls {
			keys[k] = true
		}
		for k := range removals {
			keys[k] = true
		}
		sorted := make([]key, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.SortFunc(sorted, func(x, y key) int {
			if c := strings.Compare(string(x.a), string(y.a)); c != 0 {
				return c
			}
			return int(x.g) - int(y.g)
		})
		for _, k := range sorted {
			if calls[k] != removals[k] {
				out = append(out, viol("stop_once", string(id), fmt.Sprintf("%s gen %d removed %d time(s), onActorStop called %d time(s)", k.a, k.g, removals[k], calls[k]),
					map[string]string{"onActorStop": fmt.Sprint(removals[k])}, map[string]string{"onActorStop": fmt.Sprint(calls[k])}))
			}
		}
	}
	return out
}

// --- WebSocket ---

func checkWSUpgrade(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if !c.Upgraded || c.Protocol != "rivet" {
			out = append(out, viol("ws_upgrade", c.Name, "no 101 with sec-websocket-protocol: rivet",
				map[string]string{"upgraded": "true", "protocol": "rivet"},
				map[string]string{"upgraded": fmt.Sprint(c.Upgraded), "protocol": c.Protocol}))
		}
	}
	return out
}

func checkWSOneID(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if ids := distinctRequests(w.wire.starts[c.Name], true); len(ids) > 1 {
			out = append(out, viol("ws_one_id", c.Name, "opens used several request ids",
				map[string]string{"request ids": "1"}, map[string]string{"request ids": fmt.Sprint(ids)}))
		}
	}
	return out
}

// peerSchedule is the middleware's backoff for Target routes, 150 ms·2^(n-1)
// for 7 attempts (GMW:33-34, PS:1438-1444).
var peerSchedule = []sim.Time{150 * sim.Millisecond, 300 * sim.Millisecond, 600 * sim.Millisecond,
	1200 * sim.Millisecond, 2400 * sim.Millisecond, 4800 * sim.Millisecond}

func checkWSPreOpen(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if viaTarget(c) {
			out = append(out, checkWSTargetPreOpen(c)...)
			continue
		}
		// From 3891bf8b6 an open socket whose actor stopped is retried as
		// websocket_service_unavailable, and that attempt counts like a
		// pre-open failure (GW@3891bf8b6:436-444, PS:1868-1890).
		stoppedCounts := !w.Cfg.Profile.Has(model.GatewayIgnoresActorStopped)
		run, longest := 0, 0
		for _, a := range c.Log.Attempts {
			if a.Opened && !(stoppedCounts && strings.HasPrefix(a.Result, "guard.websocket_service_unavailable")) {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
		if longest > 4 {
			out = append(out, viol("ws_preopen", c.Name, "more than 4 consecutive failed attempts",
				map[string]string{"consecutive pre-open failures": "<=4"}, map[string]string{"consecutive pre-open failures": fmt.Sprint(longest)}))
		}
		for _, b := range c.Log.Backoffs {
			if !slices.Contains(schedule, b) {
				out = append(out, viol("ws_preopen", c.Name, "a backoff outside 100/200/400 ms",
					map[string]string{"backoff": durs(schedule)}, map[string]string{"backoff": b.String()}))
			}
		}
		if strings.HasPrefix(c.CloseReason, "guard.websocket_service_unavailable#") && (run != 4 || c.CloseCode != model.CloseError) {
			out = append(out, viol("ws_preopen", c.Name, "closed as unavailable without 4 consecutive pre-open failures",
				map[string]string{"final pre-open failures": "4", "code": "1011"},
				map[string]string{"final pre-open failures": fmt.Sprint(run), "code": fmt.Sprint(c.CloseCode)}))
		}
	}
	return out
}

// viaTarget reports whether the socket took the Target path to a peer
// datacenter (a peer-DC actor, or a cached Target route, which the cache
// key of a WebSocket lets another actor hit). The peer is a fake that
// echoes; what the actor behind it receives is not judged.
func viaTarget(c *WSClient) bool {
	for _, a := range c.Log.Attempts {
		if a.Target != "" {
			return true
		}
	}
	return false
}

// checkWSTargetPreOpen is W3/W4 for the Target path (spec (i).15): at most
// 7 connect attempts with the middleware's backoff, then 1011
// guard.retry_attempts_exceeded after exactly 7 failures.
func checkWSTargetPreOpen(c *WSClient) []Violation {
	var out []Violation
	failed := 0
	for _, a := range c.Log.Attempts {
		if !a.Opened {
			failed++
		}
	}
	if failed > 7 {
		out = append(out, viol("ws_preopen", c.Name, "more than 7 connect attempts to the peer datacenter",
			map[string]string{"failed connects": "<=7"}, map[string]string{"failed connects": fmt.Sprint(failed)}))
	}
	for i, b := range c.Log.Backoffs {
		if i >= len(peerSchedule) || b != peerSchedule[i] {
			out = append(out, viol("ws_preopen", c.Name, "a backoff outside the middleware's schedule",
				map[string]string{"backoff": durs(peerSchedule)}, map[string]string{"backoff": b.String()}))
		}
	}
	if strings.HasPrefix(c.CloseReason, "guard.retry_attempts_exceeded#") && failed != 7 {
		out = append(out, viol("ws_preopen", c.Name, "closed as exhausted without 7 failed connects",
			map[string]string{"failed connects": "7"}, map[string]string{"failed connects": fmt.Sprint(failed)}))
	}
	return out
}

func checkWSHibernate(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if c.Closed && c.CloseReason == "Actor stopped" && w.hibernatable(c.Actor) {
			out = append(out, viol("ws_hibernate", c.Name, "a hibernatable actor's stop closed the client socket",
				map[string]string{"close": "none: Guard reconnects"}, map[string]string{"close": fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)}))
		}
	}
	return out
}

func checkWSQuiet(w *World) []Violation {
	var out []Violation
	end := w.Sim.Now()
	for _, c := range w.Sockets {
		if !c.Opened() || !w.faultFree(end) || !w.untouched(c.Actor, 0, end) || w.destroyedAt(c.Actor) >= 0 {
			continue
		}
		if w.behaviors[c.Actor].WSHandlerThrow {
			continue // the actor's own handler fails the socket: 1011 "Server Error" (TUN:595-613); ws_close judges the frame
		}
		want := echoes(c.Sent)
		if c.ClientClosed && len(c.Received) <= len(want) && slices.Equal(c.Received, want[:len(c.Received)]) {
			want = c.Received // replies still in flight when the client closed may be lost
		}
		allowed := map[string]string{"closed by": "client or never", "reconnects": "0", "received": strings.Join(want, ",")}
		saw := map[string]string{"closed by": "client or never", "reconnects": fmt.Sprint(c.Log.Reconnects), "received": strings.Join(c.Received, ",")}
		if c.Closed && !c.ClientClosed {
			saw["closed by"] = fmt.Sprintf("guard: %d %s at %s", c.CloseCode, c.CloseReason, c.ClosedAt)
		}
		if fmt.Sprint(allowed) != fmt.Sprint(saw) {
			out = append(out, viol("ws_quiet", c.Name, "a healthy socket was disturbed", allowed, saw))
		}
	}
	return out
}

func checkWSDelivery(w *World) []Violation {
	var out []Violation
	got := map[string]bool{} // message data the actors received, any runner
	for _, id := range sim.SortedKeys(w.Runners) {
		for _, e := range w.Runners[id].WebSocketEvents() {
			if e.Kind == "message" {
				got[e.Data] = true
			}
		}
	}
	for _, c := range w.Sockets {
		if c.Closed || !c.Opened() || !w.hibernatable(c.Actor) || w.destroyedAt(c.Actor) >= 0 || viaTarget(c) {
			continue
		}
		var lost []string
		for _, m := range c.Sent {
			if !got[m] {
				lost = append(lost, m)
			}
		}
		if len(lost) > 0 {
			out = append(out, viol("ws_delivery", c.Name, fmt.Sprintf("%d message(s) never reached %s", len(lost), c.Actor),
				map[string]string{"lost": ""}, map[string]string{"lost": strings.Join(lost, ",")}))
		}
	}
	return out
}

// guardWSCodes are the errors Guard may close a client WebSocket with.
var guardWSCodes = map[string]bool{
	"guard.websocket_service_unavailable": true, "guard.websocket_service_timeout": true,
	"guard.websocket_pending_limit_reached": true, "guard.actor_destroyed": true, "guard.actor_not_found": true,
	"actor.not_found":           true,
	"guard.actor_ready_timeout": true, "guard.service_unavailable": true, "guard.request_timeout": true,
	"actor.destroyed_while_waiting_for_ready": true,
	// the Target path's connect attempts ran out (PS:1391-1435)
	"guard.retry_attempts_exceeded": true,
	// get_for_gateway's 5 s operation timeout (errata E22).
	"core.internal_error": true,
}

// emptyClose is what the client sees when a gateway attempt ends without
// a close frame: an empty frame (1005) through guard_empty_close_frame,
// 1000 "ws.closed" from aa4fc4cff (PS@aa4fc4cff:2566-2572).
func emptyClose(p model.Profile) string {
	if p.Has(model.GuardEmptyCloseFrame) {
		return "1005 "
	}
	return "1000 ws.closed"
}

func checkWSClose(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if !c.Closed || c.ClientClosed {
			continue
		}
		ok := false
		if code, _, found := strings.Cut(c.CloseReason, "#"); found {
			ok = c.CloseCode == model.CloseError && guardWSCodes[code] && strings.HasPrefix(c.CloseReason, code+"#"+c.Log.Ray)
			if code == "guard.retry_attempts_exceeded" && !viaTarget(c) {
				ok = false // only the Target path runs out of attempts
			}
		} else {
			// A runner close passed through: only when Guard may not
			// reconnect, i.e. the actor cannot hibernate (GW:306-318).
			// pegboard-runner closes on a runner disconnect with 1011
			// ws.upstream_closed, or 1000 and no reason after a clean close
			// (errata E24).
			switch got := fmt.Sprint(c.CloseCode, " ", c.CloseReason); got {
			case "1000 Actor stopped", "1000 Message acknowledgment timeout", "1011 ws.upstream_closed", "1000 ":
				ok = !w.hibernatable(c.Actor)
			case "1011 Server Error", emptyClose(w.Cfg.Profile):
				ok = true
			}
		}
		if !ok {
			out = append(out, viol("ws_close", c.Name, "the client saw a close Guard should not send",
				map[string]string{"close": "1011 <allowed group.code>#" + c.Log.Ray + ", or a runner close of a non-hibernatable actor"},
				map[string]string{"close": fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)}))
		}
	}
	return out
}

func checkWSRunnerClose(w *World) []Violation {
	var out []Violation
	closes := map[model.RequestID]int{}
	for _, id := range sim.SortedKeys(w.Runners) {
		for _, e := range w.Runners[id].WebSocketEvents() {
			if e.Kind == "close_received" {
				closes[e.Request]++
			}
		}
	}
	for _, c := range w.Sockets {
		ids := distinctRequests(w.wire.starts[c.Name], true)
		if len(ids) != 1 {
			continue // ws_one_id reports it
		}
		opened := 0
		for _, a := range c.Log.Attempts {
			if a.Opened {
				opened++
			}
		}
		if n := closes[ids[0]]; n > opened {
			out = append(out, viol("ws_runner_close", c.Name, "the runner got more closes than there were opens",
				map[string]string{"closes": fmt.Sprintf("<=%d", opened)}, map[string]string{"closes": fmt.Sprint(n)}))
		}
	}
	return out
}

func echoes(sent []string) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = "echo:" + s
	}
	return out
}

// --- liveness and quiescence ---

func checkLiveness(w *World) []Violation {
	var out []Violation
	for _, p := range w.Probes {
		switch {
		case p.HTTP != nil:
			r := p.HTTP
			if r.Response == nil || r.Response.Status != 200 {
				out = append(out, viol("liveness", r.Name, fmt.Sprintf("%s did not answer after the world healed", r.Actor),
					map[string]string{"status": "200"}, responseSaw(r)))
			}
		case p.WS != nil:
			c := p.WS
			want := map[string]string{"opened": "true", "received": strings.Join(echoes(c.Sent), ",")}
			saw := map[string]string{"opened": fmt.Sprint(c.Opened()), "received": strings.Join(c.Received, ",")}
			if fmt.Sprint(want) != fmt.Sprint(saw) {
				if c.Closed && !c.ClientClosed {
					saw["closed"] = fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)
				}
				out = append(out, viol("liveness", c.Name, fmt.Sprintf("%s's socket did not work after the world healed", c.Actor), want, saw))
			}
		}
	}
	return out
}

func checkQuiescence(w *World) []Violation {
	if !w.settled {
		return nil // only meaningful after the liveness phase let the world go quiet
	}
	var out []Violation
	for _, r := range w.Requests {
		if r.Response == nil {
			out = append(out, viol("quiescence", r.Name, "never answered", map[string]string{"response": "one"}, map[string]string{"response": "none"}))
		}
	}
	open := 0
	for _, c := range w.Sockets {
		if !c.Closed {
			open++
		}
	}
	if n := w.Guard.InFlight(); n > open {
		out = append(out, viol("quiescence", "gateway", "in-flight entries left after the world went quiet",
			map[string]string{"in-flight": fmt.Sprintf("<=%d (open sockets)", open)}, map[string]string{"in-flight": fmt.Sprint(n)}))
	}
	// From 4e60a30e9 an open hibernatable socket whose actor stopped waits
	// for the actor's Ready with a subscription of its own (GW@4e60a30e9:
	// 554-612): held, not leaked.
	hibernating := map[string]bool{}
	for _, c := range w.Sockets {
		// From 3891bf8b6 every open socket's attempt watches its actor's
		// Stopped (GW@3891bf8b6:290).
		watches := w.hibernatable(c.Actor) && !w.Cfg.Profile.Has(model.GuardWSRetryImmediate) ||
			!w.Cfg.Profile.Has(model.GatewayIgnoresActorStopped)
		if !c.Closed && watches {
			hibernating[model.ActorSubject(c.Actor)] = true
		}
	}
	for _, s := range w.UPS.Subjects() {
		if strings.HasPrefix(s, "actor.") && !hibernating[s] {
			out = append(out, viol("quiescence", "ups", "a routing subscription leaked: "+s,
				map[string]string{"subscriptions": "none for actors"}, map[string]string{"subscriptions": s}))
		}
	}
	return out
}

// FormatViolations renders violations with a go-cmp diff of what the oracle
// allowed (-) against what was observed (+).
func FormatViolations(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %s\n", v)
		if v.Allowed != nil || v.Saw != nil {
			d := cmp.Diff(v.Allowed, v.Saw)
			for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", l)
			}
		}
	}
	return b.String()
}
