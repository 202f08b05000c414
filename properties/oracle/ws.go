package oracle

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// Upstream constants the WebSocket properties rest on.
const (
	// wsOpenTimeout5s is the gateway's wait for the runner's open from
	// 2e22a2e61 (TUNNEL_ACK_TIMEOUT, GW@2e22a2e61:38, 371); before, the
	// 2 s tunnelAckTimeout (GW:256-262); from 0169801a0 wsOpenTimeout
	// (WEBSOCKET_OPEN_TIMEOUT, GW@0169801a0:35, 376).
	wsOpenTimeout5s = 5 * sim.Second
	wsOpenTimeout   = 15 * sim.Second
	// getForGatewayTimeout is get_for_gateway's operation timeout (GFG:21-22).
	getForGatewayTimeout = 5 * sim.Second
	// routingCap caps a whole routing call (PS:406, 416-426); from
	// 0fe4f08fe the router's 55 s dispatch cap comes first (GCFG@0fe4f08fe:76-80).
	routingCap   = 15 * sim.Second
	routingCap55 = 55 * sim.Second
	// closeBound is how long a close may take to cross Guard: two hops
	// through pub/sub and pegboard-runner, with room for the slowest
	// latency a scenario sets.
	closeBound = 5 * sim.Second
)

// peerSchedule is the middleware's backoff for Target routes, 150 ms·2^(n-1)
// for 7 attempts (GMW:33-34, PS:1438-1444).
var peerSchedule = []sim.Time{150 * sim.Millisecond, 300 * sim.Millisecond, 600 * sim.Millisecond,
	1200 * sim.Millisecond, 2400 * sim.Millisecond, 4800 * sim.Millisecond}

func checkWSUpgrade(w world) []Violation {
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

func checkWSOneID(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if ids := requestIDs(w.Wire.Starts[c.Name], true); len(ids) > 1 {
			out = append(out, viol("ws_one_id", c.Name, "opens used several request ids",
				map[string]string{"request ids": "1"}, map[string]string{"request ids": fmt.Sprint(ids)}))
		}
	}
	return out
}

// wsAttempt is one of Guard's attempts for a client socket as the wire
// shows it: it begins with its routing read and lasts until the next.
type wsAttempt struct {
	read   record.Read
	end    sim.Time // the next attempt's read, or the world's end
	opened sim.Time // the first runner open reaching Guard in it, or -1
	failed bool
	// gcRace: it opened, but a GC tick fell between the open's publish and
	// its arrival: the GC may have stopped the in-flight entry first (a
	// message of an earlier attempt not acked in time, GSS@450d9e5c6:
	// 475-520), failing the attempt before the open reached it. The wire
	// does not tell which came first.
	gcRace bool
}

// wsAttempts derives a local socket's attempts from the wire. An attempt
// failed if no open reached Guard in it, or, from 3891bf8b6, if it opened
// and the actor's Stopped reached Guard before it ended (the gateway's
// websocket_service_unavailable counts like a pre-open failure, and only a
// hibernation resets the count, GW@3891bf8b6:436-444, PS@553683bfd:2001-2006).
//
// It reports whether it stopped at an open after which the socket
// hibernates within its attempt.
func (w world) wsAttempts(c *record.WS) ([]wsAttempt, bool) {
	reads := w.Wire.Reads[c.Name]
	ids := requestIDs(w.Wire.Starts[c.Name], true)
	var responses []record.Answer
	if len(ids) == 1 {
		responses = w.Wire.Responses[ids[0]]
	}
	stoppedCounts := !w.Profile.Has(model.GatewayIgnoresActorStopped)
	wait := w.openWait()
	out := make([]wsAttempt, len(reads))
	for k, rd := range reads {
		a := wsAttempt{read: rd, end: w.End, opened: -1}
		retried := k+1 < len(reads)
		if retried {
			a.end = reads[k+1].Sent
		} else if c.ClientClosed {
			a.end = min(a.end, c.ClientClosedAt)
		} else if c.Closed {
			a.end = min(a.end, c.ClosedAt)
		}
		// Opened: a runner's open reached Guard within the open wait of one
		// of the attempt's publishes (a later one found the gateway gone).
		// The publish may leave in the same instant as the read (no latency
		// on the engine link): it is still this attempt's, and one in the
		// instant of the next read is the next attempt's if it came after
		// that read.
		for _, s := range w.wsStarts(c) {
			if s.Sent < rd.Sent || (s.Sent == rd.Sent && s.Seq < rd.Seq) || s.Sent > a.end || (retried && s.Sent == a.end && s.Seq > reads[k+1].Seq) {
				continue
			}
			until := min(s.Sent+wait, a.end)
			if stoppedCounts {
				// From 3891bf8b6 the wait for the open ends at the actor's
				// Stopped, subscribed before the open is published
				// (GW@3891bf8b6:290-293, 356-359): an open reaching Guard
				// after it finds the attempt failed (one in the same instant
				// is taken as opened: the Stopped then fails the attempt).
				if t := w.firstStopped(c.Actor, s.Sent, until); t >= 0 {
					until = t
				}
			}
			// The runner's first answer under the request id ends the wait:
			// an open, or a close before it (GW:234-239, GW@3891bf8b6:339-342).
			// One reaching Guard in the publish's instant but after it counts:
			// an earlier attempt's late open under the same request id (the
			// id is kept across attempts) opens this one as far as the
			// gateway can tell.
			for _, x := range responses {
				if x.At < s.Sent || (x.At == s.Sent && x.Seq < s.Seq) || x.At > until {
					continue
				}
				if _, ok := x.Kind.(model.ServerWebSocketClose); ok {
					break
				}
				if _, ok := x.Kind.(model.ServerWebSocketOpen); ok {
					if a.opened < 0 || x.At < a.opened {
						a.opened = x.At
						a.gcRace = (s.Sent/gcInterval+1)*gcInterval <= x.At
					}
					break
				}
			}
		}
		a.failed = a.opened < 0 || (stoppedCounts && w.stoppedBetween(c.Actor, a.opened, a.end))
		a.gcRace = a.gcRace && !a.failed
		out[k] = a
		if a.opened >= 0 && w.hibernates(c) {
			// The gateway now hibernates the socket across the actor's
			// stops and resolves it again in the same attempt, with
			// routing reads of its own (GW@4e60a30e9:554-612): later reads
			// are not attempts.
			return out[:k+1], true
		}
	}
	return out, false
}

// hibernates reports whether an opened socket hibernates inside its
// attempt: a hibernatable actor, from 4e60a30e9 (guard_ws_retry_immediate
// gone).
func (w world) hibernates(c *record.WS) bool {
	return w.hibernatable(c.Actor) && !w.Profile.Has(model.GuardWSRetryImmediate)
}

func checkWSPreOpen(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if w.viaTarget(c) {
			out = append(out, checkWSTargetPreOpen(w, c)...)
			continue
		}
		as, hibernated := w.wsAttempts(c)
		// run counts the consecutive failures that end the attempts;
		// runMax counts a GC race as one too.
		run, runMax, longest := 0, 0, 0
		for _, a := range as {
			if a.gcRace {
				run = 0
				runMax++
				continue
			}
			if !a.failed {
				run, runMax = 0, 0
				continue
			}
			run++
			runMax++
			longest = max(longest, run)
		}
		policy := wsRetry(w.Profile)
		calls := policy.attempts + 1 // the loop closes once attempts exceed the maximum (PS:1868-1890)
		if longest > calls {
			out = append(out, viol("ws_preopen", c.Name, fmt.Sprintf("more than %d consecutive failed attempts", calls),
				map[string]string{"consecutive pre-open failures": fmt.Sprintf("<=%d", calls)}, map[string]string{"consecutive pre-open failures": fmt.Sprint(longest)}))
		}
		for k := 1; k < len(as); k++ {
			if !as[k-1].failed {
				continue
			}
			if gap, ok := w.wsBackoff(c, as[k-1], as[k].read.Sent); !ok {
				out = append(out, viol("ws_preopen", c.Name,
					fmt.Sprintf("attempt %d's routing read left %s after the last wire evidence of attempt %d's failure", k+1, gap, k),
					map[string]string{"backoff": "one of " + durs(policy.schedule())}, map[string]string{"backoff": gap.String()}))
			}
		}
		if !hibernated && strings.HasPrefix(c.CloseReason, "guard.websocket_service_unavailable#") && (calls < run || calls > runMax || c.CloseCode != model.CloseError) {
			out = append(out, viol("ws_preopen", c.Name, fmt.Sprintf("closed as unavailable without %d consecutive pre-open failures", calls),
				map[string]string{"final pre-open failures": fmt.Sprint(calls), "code": "1011"},
				map[string]string{"final pre-open failures": fmt.Sprint(run), "code": fmt.Sprint(c.CloseCode)}))
		}
	}
	return out
}

// openWait is the gateway's wait for a runner's open at the profile.
func (w world) openWait() sim.Time {
	switch {
	case w.Profile.Has(model.GatewayTimeouts2s):
		return tunnelAckTimeout
	case w.Profile.Has(model.GatewayWSOpenTimeout5s):
		return wsOpenTimeout5s
	}
	return wsOpenTimeout
}

// wsBackoff checks that the retry's read at next left Guard a backoff of
// the schedule after something on the wire (or a timeout running from
// something on the wire) that could have failed the attempt: an answer
// under its request id, the actor's Stopped, the reply to its read, or
// the open, read, ready and routing timeouts. It returns the gap to the
// latest such evidence.
func (w world) wsBackoff(c *record.WS, a wsAttempt, next sim.Time) (sim.Time, bool) {
	var ev []sim.Time
	add := func(t sim.Time) {
		if t > a.read.Sent && t <= next {
			ev = append(ev, t)
		}
	}
	for _, rid := range requestIDs(w.Wire.Starts[c.Name], true) {
		for _, x := range w.Wire.Responses[rid] {
			add(x.At)
		}
	}
	openWait := w.openWait()
	for _, s := range w.Wire.Starts[c.Name] {
		// The open may leave in the same instant as the read (no latency on
		// the engine link): it is still this attempt's.
		if s.WS && s.Sent >= a.read.Sent && s.Sent <= next {
			add(s.Sent + openWait)
		}
	}
	for _, t := range w.Wire.Stopped[c.Actor] {
		add(t)
		add(t + readyWait(w.Profile))
	}
	if t, ok := w.Wire.Replies[a.read.ID]; ok {
		add(t)
		add(t + readyWait(w.Profile))
	}
	add(a.read.Sent + getForGatewayTimeout)
	if w.Profile.Has(model.GuardRoutingLimits15s) {
		add(a.read.Sent + routingCap)
	} else {
		add(a.read.Sent + routingCap55)
	}
	for t := (a.read.Sent/gcInterval + 1) * gcInterval; t <= next; t += gcInterval {
		add(t)
	}
	latest := sim.Time(-1)
	for _, t := range ev {
		if slices.Contains(wsRetry(w.Profile).schedule(), next-t) {
			return next - t, true
		}
		latest = max(latest, t)
	}
	if latest < 0 {
		return next - a.read.Sent, false
	}
	return next - latest, false
}

// checkWSTargetPreOpen is W3/W4 for the Target path (spec (i).15): at most
// 7 connects with the middleware's backoff between them, then 1011
// guard.retry_attempts_exceeded after exactly 7 failures. A connect's
// failure is not a message on the wire, so the backoff is a lower bound on
// the gap between connects.
func checkWSTargetPreOpen(w world, c *record.WS) []Violation {
	var out []Violation
	conns := w.Wire.Peers[c.Name]
	failed := 0
	for i, p := range conns {
		if p.Accepted {
			failed = 0
			continue
		}
		failed++
		if i+1 < len(conns) && failed-1 < len(peerSchedule) {
			if gap := conns[i+1].Sent - p.Sent; gap < peerSchedule[failed-1] {
				out = append(out, viol("ws_preopen", c.Name, "a connect to the peer datacenter came before its backoff",
					map[string]string{"gap": ">= " + peerSchedule[failed-1].String()}, map[string]string{"gap": gap.String()}))
			}
		}
	}
	if failed > 7 {
		out = append(out, viol("ws_preopen", c.Name, "more than 7 connect attempts to the peer datacenter",
			map[string]string{"failed connects": "<=7"}, map[string]string{"failed connects": fmt.Sprint(failed)}))
	}
	if strings.HasPrefix(c.CloseReason, "guard.retry_attempts_exceeded#") && failed != 7 {
		out = append(out, viol("ws_preopen", c.Name, "closed as exhausted without 7 failed connects",
			map[string]string{"failed connects": "7"}, map[string]string{"failed connects": fmt.Sprint(failed)}))
	}
	return out
}

func checkWSHibernate(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if c.Closed && c.CloseReason == "Actor stopped" && w.hibernatable(c.Actor) {
			out = append(out, viol("ws_hibernate", c.Name, "a hibernatable actor's stop closed the client socket",
				map[string]string{"close": "none: Guard reconnects"}, map[string]string{"close": fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)}))
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

// reopens counts the socket's WebSocketOpen publishes after its first open
// reached Guard.
func (w world) reopens(c *record.WS) int {
	first := sim.Time(-1)
	for _, rid := range requestIDs(w.Wire.Starts[c.Name], true) {
		if o := w.opens(rid); len(o) > 0 && (first < 0 || o[0] < first) {
			first = o[0]
		}
	}
	n := 0
	for _, s := range w.wsStarts(c) {
		if first >= 0 && s.Sent > first {
			n++
		}
	}
	return n
}

func checkWSQuiet(w world) []Violation {
	var out []Violation
	end := w.End
	for _, c := range w.Sockets {
		if !w.opened(c) || !w.faultFree(end) || !w.untouched(c.Actor, 0, end) || w.destroyedAt(c.Actor) >= 0 {
			continue
		}
		if w.Actors[c.Actor].WSHandlerThrow {
			continue // the actor's own handler fails the socket: 1011 "Server Error" (TUN:595-613); ws_close judges the frame
		}
		if strings.HasPrefix(c.CloseReason, "guard.websocket_pending_limit_reached#") && couldFillBuffer(c) {
			continue // the buffer's cumulative 1 MiB bound (errata E4); earned judges whether the client sent that much
		}
		want := echoes(c.Sent)
		if c.ClientClosed && len(c.Received) <= len(want) && slices.Equal(c.Received, want[:len(c.Received)]) {
			want = c.Received // replies still in flight when the client closed may be lost
		}
		allowed := map[string]string{"closed by": "client or never", "reopens": "0", "received": strings.Join(want, ",")}
		saw := map[string]string{"closed by": "client or never", "reopens": strconv.Itoa(w.reopens(c)), "received": strings.Join(c.Received, ",")}
		if c.Closed && !c.ClientClosed {
			saw["closed by"] = fmt.Sprintf("guard: %d %s at %s", c.CloseCode, c.CloseReason, c.ClosedAt)
		}
		if !maps.Equal(allowed, saw) {
			out = append(out, viol("ws_quiet", c.Name, "a healthy socket was disturbed", allowed, saw))
		}
	}
	return out
}

func checkWSDelivery(w world) []Violation {
	var out []Violation
	got := map[string]bool{} // message data the actors' code received, on any runner
	for _, e := range w.App {
		if e.Kind == model.AppWSMessage {
			got[e.Data] = true
		}
	}
	for _, c := range w.Sockets {
		if c.Closed || !w.opened(c) || !w.hibernatable(c.Actor) || w.destroyedAt(c.Actor) >= 0 || w.viaTarget(c) {
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
	// from 0fe4f08fe: each pre-open cause's own code, the renamed GC and
	// ping closes, and routing's errors (GW@0fe4f08fe:322-396,
	// pegboard_gateway/mod.rs@cb33baec8:297-357, 656-681, 747-752)
	"guard.websocket_closed_before_open": true, "guard.actor_stopped_while_waiting_for_websocket_open": true,
	"guard.websocket_open_dropped": true, "guard.websocket_open_response_closed": true, "guard.websocket_open_timeout": true,
	"guard.websocket_garbage_collected": true, "guard.websocket_tunnel_ping_timeout": true,
	"guard.route_dispatch_timeout": true, "pegboard.route_fetch_actor_timeout": true,
	"pegboard.route_wake_signal_timeout": true, "guard.actor_wake_retries_exceeded": true,
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

// rayOK reports whether a close reason's suffix names a ray id: Guard's
// error frames end in "#<ray>" (PS:2119-2187), the ray on every response.
func rayOK(suffix string) bool { return strings.HasPrefix(suffix, "ray") && len(suffix) > len("ray") }

func checkWSClose(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if !c.Closed || c.ClientClosed {
			continue
		}
		ok := false
		if code, ray, found := strings.Cut(c.CloseReason, "#"); found {
			ok = c.CloseCode == model.CloseError && guardWSCodes[code] && rayOK(ray)
			if code == "guard.retry_attempts_exceeded" && !w.viaTarget(c) {
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
			case "1011 Server Error", emptyClose(w.Profile):
				ok = true
			case "1000 actor.stopped":
				// From 1e2d08bff the gateway closes an open socket that
				// cannot hibernate when its actor's Stopped reaches it
				// (T2W@1e2d08bff:80-92).
				ok = !w.Profile.Has(model.GatewayRetriesWSOnActorStop) && !w.Profile.Has(model.GatewayIgnoresActorStopped) &&
					!w.hibernatable(c.Actor) && w.stoppedBetween(c.Actor, 0, c.ClosedAt)
			}
		}
		if !ok {
			out = append(out, viol("ws_close", c.Name, "the client saw a close Guard should not send",
				map[string]string{"close": "1011 <allowed group.code>#<ray>, or a runner close of a non-hibernatable actor"},
				map[string]string{"close": fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)}))
		}
	}
	return out
}

// checkWSRunnerClose is W7 from Guard's side, judged at the runners' end
// of the wire: Guard's close reaches a runner at most once per open of
// the socket that reached Guard; and when the client closes an opened
// socket with nothing intervening (no fault, no lifecycle action on the
// actor), Guard's close reaches a runner within closeBound (GW:443-465),
// except while the gateway's close to the runner is inverted
// (gateway_close_to_runner_inverted, GW@3891bf8b6:562-566).
func checkWSRunnerClose(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		ids := requestIDs(w.Wire.Starts[c.Name], true)
		if len(ids) != 1 || w.viaTarget(c) {
			continue // ws_one_id reports it
		}
		opens := w.opens(ids[0])
		// Connections of the socket to an actor: each open a runner
		// answered, and for a socket that hibernates within its attempt
		// each resumption after the actor's Stopped (from 450d9e5c6 without
		// a new open, GW@450d9e5c6:296).
		conns := w.answeredOpens(c)
		if w.hibernates(c) {
			end := w.End
			if c.Closed {
				end = c.ClosedAt
			}
			// A hibernation starts at the actor's Stopped or at a runner's
			// close asking for a retry (GW:306-318).
			for _, t := range w.Wire.Stopped[c.Actor] {
				if t >= c.Issued && t <= end {
					conns++
				}
			}
			for _, x := range w.Wire.Responses[ids[0]] {
				if k, ok := x.Kind.(model.ServerWebSocketClose); ok && k.Retry && x.At <= end {
					conns++
				}
			}
		}
		closes := w.Wire.RunnerCloses[ids[0]]
		if len(closes) > conns {
			out = append(out, viol("ws_runner_close", c.Name, "the runner got more closes than the socket had connections to an actor",
				map[string]string{"closes": fmt.Sprintf("<=%d", conns)}, map[string]string{"closes": fmt.Sprint(len(closes))}))
			continue
		}
		if !c.ClientClosed || len(opens) == 0 || w.Profile.Has(model.GatewayCloseToRunnerInverted) {
			continue
		}
		tc := c.ClientClosedAt
		due := tc + closeBound
		if opens[len(opens)-1] > tc || !w.faultFree(due) || !w.untouched(c.Actor, 0, due) || w.End < due || w.destroyedAt(c.Actor) >= 0 {
			continue
		}
		if _, open := w.appOpenAt(ids[0], tc); !open {
			continue // the runner or the actor had closed it already
		}
		heard := false
		for _, x := range closes {
			if x.At >= tc && x.At <= due {
				heard = true
			}
		}
		if !heard {
			out = append(out, viol("ws_runner_close", c.Name,
				fmt.Sprintf("the client closed at %s and no close from Guard reached a runner by %s", tc, due),
				map[string]string{"closes after the client's": "1"}, map[string]string{"closes after the client's": "0"}))
		}
	}
	return out
}

// answeredOpens counts the socket's WebSocketOpen publishes that a
// runner's open answered (one or more reaching Guard before the next
// publish).
func (w world) answeredOpens(c *record.WS) int {
	starts := w.wsStarts(c)
	n := 0
	for i, s := range starts {
		end := w.End
		if i+1 < len(starts) {
			end = starts[i+1].Sent
		}
		for _, t := range w.opens(s.Request) {
			if t > s.Sent && t <= end {
				n++
				break
			}
		}
	}
	return n
}

// appOpenAt finds the runner where the request's socket was open in the
// actor's code at t: the latest handler that ran for it (an open or a
// restore) came before t, and its close listener had not fired since.
func (w world) appOpenAt(rid model.RequestID, t sim.Time) (model.RunnerID, bool) {
	var at generation
	open := false
	for _, e := range w.App {
		if e.At > t {
			break
		}
		switch {
		case e.Kind == model.AppWSOpen && e.Request == rid:
			at, open = generation{e.Runner, e.Actor, e.Generation}, true
		case e.Kind == model.AppWSClose && e.Request == rid && e.Runner == at.runner:
			open = false
		case e.Kind == model.AppStop && (generation{e.Runner, e.Actor, e.Generation}) == at:
			open = false // the actor instance that held it is gone
		}
	}
	return at.runner, open
}

// checkWSClientClose is close propagation from the client to the actor
// (W7, GW:443-465, issue 9): when a client closes a socket that is open in
// the actor's code, with no fault and no lifecycle action on the actor,
// the actor's close listener fires within closeBound. Judged from the
// client's and the actor's observations only.
func checkWSClientClose(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if !c.ClientClosed || w.viaTarget(c) {
			continue
		}
		ids := requestIDs(w.Wire.Starts[c.Name], true)
		if len(ids) != 1 {
			continue // ws_one_id reports it
		}
		tc := c.ClientClosedAt
		due := tc + closeBound
		if !w.faultFree(due) || !w.untouched(c.Actor, 0, due) || w.End < due {
			continue
		}
		rn, open := w.appOpenAt(ids[0], tc)
		if !open {
			continue
		}
		heard := false
		for _, e := range w.App {
			if e.Request == ids[0] && e.Runner == rn && e.Kind == model.AppWSClose && e.At >= tc && e.At <= due {
				heard = true
				break
			}
		}
		if !heard {
			out = append(out, viol("ws_client_close", c.Name,
				fmt.Sprintf("the client closed at %s and %s, whose socket was open on %s, never heard of it", tc, c.Actor, rn),
				map[string]string{"close at the actor": "by " + due.String()},
				map[string]string{"close at the actor": "none"}))
		}
	}
	return out
}

// checkWSActorClose is close propagation from the actor to the client
// (GW:306-318, d.5, issue 9): a ServerWebSocketClose that reaches Guard for
// an opened socket, and that Guard may not turn into a reconnect (it does so
// only for a retry close of a socket that can hibernate), reaches the client
// within closeBound. It is not judged when something else may have ended the
// attempt first: the client's own close, a Guard close to the runner (the
// runner's close is then its echo), a reopen, the actor's Stopped (from
// 3891bf8b6), a GC tick while the GC's age checks are inverted, or a fault.
func checkWSActorClose(w world) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		ids := requestIDs(w.Wire.Starts[c.Name], true)
		if len(ids) != 1 || w.viaTarget(c) {
			continue
		}
		rid := ids[0]
		var lastOpen, retried sim.Time = -1, -1
		canHibernate := false
		for _, x := range w.Wire.Responses[rid] {
			switch k := x.Kind.(type) {
			case model.ServerWebSocketOpen:
				lastOpen, canHibernate = x.At, k.CanHibernate
				continue
			case model.ServerWebSocketClose:
				t := x.At
				if lastOpen < 0 {
					continue
				}
				if canHibernate && k.Retry {
					retried = t
					continue
				}
				if retried >= lastOpen && !w.resumedBetween(c, retried, t) {
					// A close asking for a retry ended the attempt: the
					// gateway hibernates (or, before 4e60a30e9, retries) and
					// reads no runner message until a new attempt's routing
					// read is answered (GW@3891bf8b6:683-711 waits only for
					// Ready and the client).
					continue
				}
				// The attempt the open answered: the latest publish before
				// it, answered within the open wait.
				start := sim.Time(-1)
				for _, st := range w.wsStarts(c) {
					if st.Sent < lastOpen {
						start = st.Sent
					}
				}
				if start < 0 || lastOpen > start+w.openWait() || w.endedBefore(c, rid, start, t) {
					continue
				}
				due := t + closeBound
				if c.Closed && c.ClosedAt >= t && c.ClosedAt <= due {
					continue
				}
				saw := "open"
				if c.Closed {
					saw = fmt.Sprintf("%d %s at %s", c.CloseCode, c.CloseReason, c.ClosedAt)
				}
				want := fmt.Sprintf("%d %s by %s", codeOr(k.Code), k.Reason, due)
				out = append(out, viol("ws_actor_close", c.Name,
					fmt.Sprintf("the runner closed %s's socket (%d %q) and Guard got it at %s, but the client was not closed", c.Actor, codeOr(k.Code), k.Reason, t),
					map[string]string{"client close": want}, map[string]string{"client close": saw}))
			}
		}
	}
	return out
}

// resumedBetween reports whether one of the socket's routing reads after
// from was answered before to: a new attempt that may listen to the
// runner again.
func (w world) resumedBetween(c *record.WS, from, to sim.Time) bool {
	for _, rd := range w.Wire.Reads[c.Name] {
		if rd.Sent <= from {
			continue
		}
		if t, ok := w.Wire.Replies[rd.ID]; ok && t <= to {
			return true
		}
	}
	return false
}

// codeOr is a close frame's code, 0 for none.
func codeOr(c *uint16) uint16 {
	if c == nil {
		return 0
	}
	return *c
}

// endedBefore reports whether something other than the runner's close at
// t may have ended the socket's attempt opened at open (see
// checkWSActorClose), or the client's socket was closed already.
func (w world) endedBefore(c *record.WS, rid model.RequestID, open, t sim.Time) bool {
	if (c.ClientClosed && c.ClientClosedAt <= t) || (c.Closed && c.ClosedAt < t) || !w.faultFree(t+closeBound) {
		return true
	}
	for _, x := range w.Wire.RunnerCloses[rid] {
		if x.At >= open && x.At <= t {
			return true
		}
	}
	for _, s := range w.wsStarts(c) {
		if s.Sent > open && s.Sent <= t {
			return true
		}
	}
	if !w.Profile.Has(model.GatewayIgnoresActorStopped) && w.stoppedBetween(c.Actor, open, t) {
		return true
	}
	if w.Profile.Has(model.GatewayGCInvertedAge) && (open/gcInterval) != (t/gcInterval) {
		return true
	}
	return false
}
