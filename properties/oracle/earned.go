package oracle

import (
	"fmt"

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
	// routingMaxRewakes: routing gives up with service_unavailable after
	// this many Stopped while waiting for Ready (PGR:195-206).
	routingMaxRewakes = 16
	// routingReadyWait: the ready wait restarts on each pass (PGR:183-231).
	routingReadyWait = 10 * sim.Second
)

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
		if why := w.unexplained(r, code); why != "" {
			out = append(out, viol("earned", r.Name, why,
				map[string]string{"outcome": "success, or a failure the world explains"},
				map[string]string{"outcome": fmt.Sprintf("%d %s", r.Response.Status, code)}))
		}
	}
	return out
}

// unexplained returns why the world does not explain the request's Guard
// error code, or "" when it does (or the code is judged elsewhere).
func (w world) unexplained(r *record.HTTP, code string) string {
	from, to := r.Issued, r.Answered
	stops := 0
	for _, t := range w.Wire.Stopped[r.Actor] {
		if t >= from && t <= to {
			stops++
		}
	}
	switch code {
	case "guard.service_unavailable":
		// Every attempt's service_unavailable is retried (PS:2444-2455): a
		// final one comes only from routing, after more than 16 Stopped.
		if stops <= routingMaxRewakes {
			return fmt.Sprintf("service_unavailable reached the client, but %s stopped only %d time(s) during the request (routing gives up after %d; an attempt's is retried)", r.Actor, stops, routingMaxRewakes)
		}
	case "guard.actor_ready_timeout":
		if at, ok := w.readyIn(r.Actor, to-routingReadyWait, to); ok && w.faultFree(to) {
			return fmt.Sprintf("actor_ready_timeout, but %s was ready at %s, within the last %s of the wait, and no fault could hide it", r.Actor, at, routingReadyWait)
		}
		if t, ok := w.stopWithoutRewake(r); ok {
			return fmt.Sprintf("actor_ready_timeout, but %s stopped at %s while routing waited for it and Guard never woke it again (PGR:195-206)", r.Actor, t)
		}
	case "guard.actor_not_found", "guard.actor_destroyed", "actor.not_found":
		if d := w.destroyedAt(r.Actor); w.known(r.Actor) && (d < 0 || d > to) {
			return fmt.Sprintf("%s, but %s existed and was not destroyed when the client got it", code, r.Actor)
		}
	case "actor.destroyed_while_waiting_for_ready":
		if d := w.destroyedAt(r.Actor); d < from || d > to {
			return fmt.Sprintf("%s, but %s was not destroyed during the request", code, r.Actor)
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
func (w world) stopWithoutRewake(r *record.HTTP) (sim.Time, bool) {
	if w.guardLinkFaulted(r.Answered) {
		return 0, false // a lost Wake, or a RequestStart the wire never saw
	}
	if len(w.Wire.Starts[r.Name]) > 0 {
		// An attempt ran: a Stopped may have reached its gateway, not
		// routing, and when routing ended is not on the wire (a delayed
		// RequestStart reaches pub/sub late).
		return 0, false
	}
	for _, t := range w.Wire.Stopped[r.Actor] {
		if t < r.Issued || t > r.Answered {
			continue
		}
		woken := false
		for _, wk := range w.Wire.Wakes[r.Actor] {
			if wk >= t && wk <= r.Answered { // a zero-latency link delivers it the same instant
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
