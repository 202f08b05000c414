package oracle

import (
	"fmt"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// Earned failures (issue 9, H5, H7, H8, E22): a Guard error that reaches a
// client must be explained by the world's true history, never merely be on
// an allow-list. The evidence is the engine's history (placement, ready,
// destroy), the wire (Stopped reaching Guard, Guard's Wake reaching the
// engine) and the faults the scenario injected; nothing Guard logs about
// itself.

// Upstream constants the explanations rest on.
const (
	// routingMaxRewakes16: routing gives up with service_unavailable after
	// this many Stopped while waiting for Ready (PGR:195-206); 8 from
	// e07f72618 (pegboard_gateway.rs@e07f72618:393).
	routingMaxRewakes16 = 16
	routingMaxRewakes8  = 8
	// routingReadyWait: the ready wait restarts on each pass (PGR:183-231);
	// 30 s from 0fe4f08fe (GCFG@0fe4f08fe:125).
	routingReadyWait   = 10 * sim.Second
	routingReadyWait30 = 30 * sim.Second
)

// readyWait is routing's ready wait at the profile.
func readyWait(p model.Profile) sim.Time {
	if p.Has(model.GuardRoutingLimits15s) {
		return routingReadyWait
	}
	return routingReadyWait30
}

// operation is a client request or socket whose failure the world must
// explain: who, for which actor, from its issue to its failure.
type operation struct {
	name     string
	actor    model.ActorID
	from, to sim.Time
}

func checkEarned(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if r.Response == nil || peer(r.Actor) {
			continue
		}
		code := ErrorCode(r.Response.Body)
		if code == "" || r.Response.Headers["content-type"] != "application/json" {
			continue
		}
		op := operation{r.Name, r.Actor, r.Issued, r.Answered}
		if why := w.unexplained(op, code); why != "" {
			out = append(out, viol("earned", r.Name, why,
				map[string]string{"outcome": "success, or a failure the world explains"},
				map[string]string{"outcome": fmt.Sprintf("%d %s", r.Response.Status, code)}))
		}
	}
	for _, c := range w.Sockets {
		code, _, found := strings.Cut(c.CloseReason, "#")
		if !c.Closed || c.ClientClosed || !found || peer(c.Actor) || w.viaTarget(c) {
			continue // ws_close judges the frame itself
		}
		op := operation{c.Name, c.Actor, c.Issued, c.ClosedAt}
		why := w.unexplained(op, code)
		if why == "" {
			why = w.unexplainedWS(c, code)
		}
		if why != "" {
			out = append(out, viol("earned", c.Name, why,
				map[string]string{"close": "by the client, or a failure the world explains"},
				map[string]string{"close": fmt.Sprintf("%d %s", c.CloseCode, code)}))
		}
	}
	return out
}

// pendingLimit is the hibernation buffer's bound (GSS:18, 172-176): its
// byte counter is cumulative and never decreases (errata E4); the port
// counts len(data)+40 per message. maxPendingMsgs bounds the count.
const (
	pendingLimit    = 1 << 20
	pendingOverhead = 40
	maxPendingMsgs  = 65535
)

// couldFillBuffer reports whether what the client sent could have reached
// the hibernation buffer's bound.
func couldFillBuffer(c *record.WS) bool {
	total := 0
	for _, m := range c.Sent {
		total += len(m) + pendingOverhead
	}
	return total > pendingLimit || len(c.Sent) >= maxPendingMsgs
}

// unexplainedWS returns why the world does not explain a WebSocket-only
// Guard close, or "".
func (w world) unexplainedWS(c *record.WS, code string) string {
	p := w.Profile
	switch code {
	case "guard.websocket_pending_limit_reached":
		if !couldFillBuffer(c) {
			return fmt.Sprintf("pending_limit_reached, but the client sent %d message(s), far from the buffer's 1 MiB or %d messages (E4)", len(c.Sent), maxPendingMsgs)
		}
	case "guard.websocket_tunnel_ping_timeout": // from 0fe4f08fe, the ping's close
		if !w.faultFree(c.ClosedAt) || w.crashedWhileOpen(c) {
			return ""
		}
		return "websocket_tunnel_ping_timeout with no fault that could starve the ping"
	case "guard.websocket_service_timeout", "guard.websocket_garbage_collected":
		// The GC's kill reaching a live handler while its age checks are
		// inverted (GSS@450d9e5c6:475), or from c76f319fe a ping with no
		// pong for 30 s (GSS@c76f319fe:221-224), which needs a fault.
		gcKill := p.Has(model.GatewayGCInvertedAge) && !p.Has(model.GatewayGCOnePhase) && !p.Has(model.GatewayGCKillUndelivered)
		// An actor that crashed while the socket was open never acks the
		// client messages it had not acked yet (from 6b7ebbb0d the
		// runner drops every send for a request whose actor is not
		// loaded, TUN@553683bfd:416-445), and the GC then flags the
		// buffered message (GSS@553683bfd:500-521): the crash explains it.
		if !gcKill && !(p.Has(model.GatewayWSPing) && !w.faultFree(c.ClosedAt)) && !w.crashedWhileOpen(c) {
			return strings.TrimPrefix(code, "guard.") + " with neither a GC that kills a live socket at this commit nor a fault that could starve the ping"
		}
	}
	return ""
}

// readyTransit bounds how long the actor's Ready takes from the engine to
// Guard: two hops (engine to pub/sub, pub/sub to Guard), each at most the
// swarm's largest link latency (200 ms) over its base.
const readyTransit = sim.Second

// unexplained returns why the world does not explain the operation's Guard
// error code, or "" when it does (or the code is judged elsewhere).
func (w world) unexplained(op operation, code string) string {
	from, to := op.from, op.to
	stops := 0
	for _, t := range w.Wire.Stopped[op.actor] {
		if t >= from && t <= to {
			stops++
		}
	}
	switch code {
	case "guard.actor_wake_retries_exceeded": // from 0fe4f08fe, after the rewakes ran out
		if stops <= routingMaxRewakes8 {
			return fmt.Sprintf("actor_wake_retries_exceeded reached the client, but %s stopped only %d time(s) during the request (routing gives up after %d)", op.actor, stops, routingMaxRewakes8)
		}
	case "pegboard.route_fetch_actor_timeout", "pegboard.route_wake_signal_timeout":
		// A 5 s phase of routing (from 0fe4f08fe): the engine did not
		// answer, which needs a fault on Guard's engine link.
		if !w.engineLinkFaulted(to) {
			return code + " with no fault between Guard and the engine"
		}
	case "guard.service_unavailable":
		// Every attempt's service_unavailable is retried (PS:2444-2455): a
		// final one comes only from routing, after more than 16 Stopped.
		maxRewakes := routingMaxRewakes8
		if w.Profile.Has(model.GuardRewakes16) {
			maxRewakes = routingMaxRewakes16
		}
		if stops <= maxRewakes {
			return fmt.Sprintf("service_unavailable reached the client, but %s stopped only %d time(s) during the request (routing gives up after %d; an attempt's is retried)", op.actor, stops, maxRewakes)
		}
	case "guard.actor_ready_timeout":
		if wait := readyWait(w.Profile); true {
			// The Ready must have had time to reach Guard: a Ready at the
			// engine in the wait's last readyTransit may still be in
			// pub/sub when the wait ends.
			if at, ok := w.readyIn(op.actor, to-wait, to-readyTransit); ok && w.faultFree(to) {
				return fmt.Sprintf("actor_ready_timeout, but %s was ready at %s, within the last %s of the wait, and no fault could hide it", op.actor, at, wait)
			}
		}
		if t, ok := w.stopWithoutRewake(op); ok {
			return fmt.Sprintf("actor_ready_timeout, but %s stopped at %s while routing waited for it and Guard never woke it again (PGR:195-206)", op.actor, t)
		}
	case "guard.actor_not_found", "guard.actor_destroyed", "actor.not_found":
		if d := w.destroyedAt(op.actor); w.known(op.actor) && (d < 0 || d > to) {
			return fmt.Sprintf("%s, but %s existed and was not destroyed when the client got it", code, op.actor)
		}
	case "actor.destroyed_while_waiting_for_ready":
		if d := w.destroyedAt(op.actor); d < from || d > to {
			return fmt.Sprintf("%s, but %s was not destroyed during the request", code, op.actor)
		}
	case "core.internal_error":
		if !w.Profile.Has(model.TunnelMessageIDSizeMismatch) && !w.engineLinkFaulted(to) {
			return "core.internal_error with no fault between Guard and the engine (the read's 5 s timeout, E22) and no broken id format"
		}
	}
	return ""
}

// readyIn returns when the engine made the actor ready in (from, to].
func (w world) readyIn(a model.ActorID, from, to sim.Time) (sim.Time, bool) {
	for _, p := range w.History {
		if p.Actor == a && p.Event == "ready" && p.At > from && p.At <= to {
			return p.At, true
		}
	}
	return 0, false
}

// stopWithoutRewake finds, for a request that never got to an attempt (no
// RequestStart of it on the wire), a Stopped that reached Guard while it
// was routed and that no Wake at the engine followed, with no fault on any
// of Guard's links (which could lose the Wake or the RequestStart).
func (w world) stopWithoutRewake(r operation) (sim.Time, bool) {
	if w.guardLinkFaulted(r.to) {
		return 0, false // a lost Wake, or a RequestStart the wire never saw
	}
	if len(w.Wire.Starts[r.name]) > 0 {
		// An attempt ran: a Stopped may have reached its gateway, not
		// routing, and when routing ended is not on the wire (a delayed
		// RequestStart reaches pub/sub late).
		return 0, false
	}
	for _, t := range w.Wire.Stopped[r.actor] {
		if t < r.from || t > r.to {
			continue
		}
		woken := false
		for _, wk := range w.Wire.Wakes[r.actor] {
			if wk >= t && wk <= r.to { // a zero-latency link delivers it the same instant
				woken = true
				break
			}
		}
		if !woken {
			return t, true
		}
	}
	return 0, false
}

// guardLinkFaulted reports whether a fault hit one of Guard's links before t.
func (w world) guardLinkFaulted(t sim.Time) bool { return w.linkFaulted(t, "guard") }

// engineLinkFaulted reports whether a fault hit the guard↔engine link (or
// the guard's connection) before t.
func (w world) engineLinkFaulted(t sim.Time) bool { return w.linkFaulted(t, "engine", "guard") }

// crashedWhileOpen reports whether the socket's actor crashed (its process
// died) between the client's open and its close.
func (w world) crashedWhileOpen(c *record.WS) bool {
	for _, n := range w.Notes {
		if !n.Fault && n.Actor == c.Actor && n.What == "crash" && n.At >= c.Issued && n.At <= c.ClosedAt {
			return true
		}
	}
	return false
}
