package oracle

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// retryPolicy is what a local actor's requests get from Guard at the
// profile: the CustomServe defaults, 3 attempts at 100 ms (PS:40, 891-908,
// 1266-1285), until 8ce69e139 for HTTP and 240f318a1 for WebSockets; then
// the middleware's 7 at 150 ms (GMW@8ce69e139:12-37, PS@240f318a1:1226-1238).
type retryPolicy struct {
	attempts int
	initial  sim.Time
}

func httpRetry(p model.Profile) retryPolicy {
	if p.Has(model.GuardHTTPRetry3x100ms) {
		return retryPolicy{3, 100 * sim.Millisecond}
	}
	return retryPolicy{7, 150 * sim.Millisecond}
}

func wsRetry(p model.Profile) retryPolicy {
	switch {
	case p.Has(model.GuardWSRetry3x100ms):
		return retryPolicy{3, 100 * sim.Millisecond}
	case !p.Has(model.GuardWSPreopenRetry):
		// From 0fe4f08fe no pre-open failure is retried: the first one
		// closes the client (utils.rs@0fe4f08fe:258-265).
		return retryPolicy{0, 150 * sim.Millisecond}
	}
	return retryPolicy{7, 150 * sim.Millisecond}
}

// schedule is the backoff after each attempt, initial·2^(n-1) (PS:2432-2442):
// Guard sleeps after the last attempt too, before it gives up.
func (r retryPolicy) schedule() []sim.Time {
	out := make([]sim.Time, r.attempts)
	for i := range out {
		out[i] = r.initial << i
	}
	return out
}

const (
	// tunnelAckTimeout is the gateway's response wait (GW:154-160).
	tunnelAckTimeout = 2 * sim.Second
	// responseTimeout replaces it from 2e22a2e61: WEBSOCKET_OPEN_TIMEOUT
	// used as the response wait (GW@2e22a2e61:37, 234).
	responseTimeout = 15 * sim.Second
	// responseStartTimeout replaces it from ba328f490
	// (gateway_response_start_timeout_ms, PCFG@ba328f490:253-256).
	responseStartTimeout = 5 * sim.Minute
	// gcInterval is the gateway GC's tick, the first when Guard starts at
	// the world's time 0 (GSS:16, 403-442).
	gcInterval = 15 * sim.Second
)

// httpAttempt is one attempt of a client HTTP request at a runner, as the
// wire shows it: its RequestStart, when its outcome reached Guard (due,
// with what brought it), and when Guard next acted for the request: the
// next routing read (a retry) or the client's answer.
type httpAttempt struct {
	n     int // the attempt's number: Guard's routing reads up to its start
	start record.Start
	due   sim.Time
	why   string
	// alt is the start itself when an answer under the shared request id
	// (6b7ebbb0d), or the actor's Stopped (from 3891bf8b6), reached Guard
	// the instant the attempt started: the order of the two is not on the
	// wire, and the gateway may have taken it (then the attempt ended at
	// once), or not (-1: no such answer).
	alt sim.Time
	// final is the answer that ended it, when that was the runner's final
	// (non-retryable) ResponseStart.
	final *model.ResponseStart
	next  sim.Time // the next routing read, or -1
}

// responseWait is the gateway's wait for a runner's response at p.
func responseWait(p model.Profile) sim.Time {
	switch {
	case p.Has(model.GatewayTimeouts2s):
		return tunnelAckTimeout
	case p.Has(model.GatewayResponseTimeout15s):
		return responseTimeout
	}
	return responseStartTimeout
}

// attempts derives a local actor's HTTP attempts from the wire.
func (w world) attempts(r *record.HTTP) []httpAttempt {
	reads := w.Wire.Reads[r.Name]
	var out []httpAttempt
	for _, s := range w.startsOf(r.Name, false) {
		a := httpAttempt{start: s, next: -1}
		for _, rd := range reads {
			if rd.Sent <= s.Sent {
				a.n++
			} else if a.next < 0 {
				a.next = rd.Sent
			}
		}
		a.due, a.why, a.final = w.attemptDue(r, s)
		a.alt = -1
		if !w.Profile.Has(model.GatewayIgnoresActorStopped) && w.firstStopped(r.Actor, s.Sent, s.Sent) >= 0 {
			a.alt = s.Sent // the actor's Stopped in the start's instant
		}
		for _, x := range w.Wire.Responses[s.Request] {
			switch x.Kind.(type) {
			case model.ResponseStart, model.ResponseAbort:
				if x.At == s.Sent {
					a.alt = s.Sent
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// attemptDue is when the attempt's outcome reached Guard on the wire, and
// what it was. An answer is the runner's first ResponseStart or
// ResponseAbort after the start (an earlier one belongs to an earlier
// attempt under the shared request id of 6b7ebbb0d); something else that
// ends the attempt at the same instant (a Stopped, a GC tick) comes first.
func (w world) attemptDue(r *record.HTTP, s record.Start) (sim.Time, string, *model.ResponseStart) {
	p := w.Profile
	due, why := s.Sent+responseWait(p), "the response wait"
	var final *model.ResponseStart
	if p.Has(model.TunnelMessageIDSizeMismatch) {
		return s.Sent, "the tunnel send failing", nil // the id cannot be encoded (6b7ebbb0d)
	}
	for _, x := range w.Wire.Responses[s.Request] {
		if x.At <= s.Sent { // no answer arrives the instant its request starts
			continue
		}
		switch k := x.Kind.(type) {
		case model.ResponseStart:
			if x.At < due {
				due, why = x.At, "the runner's "+strconv.Itoa(k.Status)
				if !x.Retry {
					final = &k
				}
			}
		case model.ResponseAbort:
			if x.At < due {
				due, why = x.At, "the runner's abort"
			}
		default:
			continue
		}
		break
	}
	if !p.Has(model.GatewayIgnoresActorStopped) { // GW@3891bf8b6:220-223
		// A Stopped in the start's own instant may have reached Guard
		// before the attempt subscribed: the order is not on the wire, so
		// it is the attempt's alt (attempts), not its certain end.
		if t := w.firstStopped(r.Actor, s.Sent+1, due); t >= 0 {
			due, why, final = t, "the actor's Stopped", nil
		}
	}
	for t := (s.Sent + gcInterval - 1) / gcInterval * gcInterval; t <= due; t += gcInterval {
		if w.gcCollects(s, t) {
			due, why, final = t, "the gateway GC", nil
			break
		}
	}
	return due, why, final
}

// gcCollects reports whether the gateway GC's tick at t ends a live HTTP
// attempt started by s. Through gateway_gc_inverted_age the age check on
// the oldest un-acked tunnel message is inverted (GSS@f3105c779:418-432,
// GSS@5111b8e76:492-508): the RequestStart, not yet acked by the runner on
// the wire, is young enough to be collected. The one-phase GC removes the
// entry; the two-phase one hands the flag to the handler from 450d9e5c6
// (GSS@450d9e5c6:475), not while gateway_gc_kill_undelivered.
func (w world) gcCollects(s record.Start, t sim.Time) bool {
	p := w.Profile
	if !p.Has(model.GatewayGCInvertedAge) || (!p.Has(model.GatewayGCOnePhase) && p.Has(model.GatewayGCKillUndelivered)) {
		return false
	}
	for _, a := range w.Wire.Acks[s.Request] {
		if a > s.Sent && a < t {
			return false
		}
	}
	return true
}

func checkAttempts(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if limit, n := httpRetry(w.Profile).attempts, len(w.startsOf(r.Name, false)); n > limit {
			out = append(out, viol("attempts", r.Name, fmt.Sprintf("more than %d runner attempts", limit),
				map[string]string{"attempts": fmt.Sprintf("<=%d", limit)}, map[string]string{"attempts": fmt.Sprint(n)}))
		}
	}
	return out
}

func checkRouting(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if peer(r.Actor) {
			continue // the Target path resolves without the engine (PGR:116-140)
		}
		limit := httpRetry(w.Profile).attempts + 1 // the attempts and the re-resolution after the last (PS:1079)
		if n := len(w.Wire.Reads[r.Name]); n > limit {
			out = append(out, viol("routing", r.Name, fmt.Sprintf("more than %d routing calls", limit),
				map[string]string{"routing reads": fmt.Sprintf("<=%d", limit)}, map[string]string{"routing reads": fmt.Sprint(n)}))
		}
	}
	return out
}

func durs(ds []sim.Time) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprint(d.Millis(), "ms")
	}
	return strings.Join(parts, ",")
}

// checkBackoff: Guard does nothing on the wire between an attempt's outcome
// reaching it and the retry's routing read but sleep the backoff
// (PS:2432-2442), so the gap between the two is the backoff, exactly.
func checkBackoff(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if peer(r.Actor) {
			continue // peer-DC routes use the middleware's 150 ms schedule
		}
		schedule := httpRetry(w.Profile).schedule()
		for _, a := range w.attempts(r) {
			if a.next < 0 || a.n < 1 || a.n > len(schedule) {
				continue // no retry followed; attempts and routing report the rest
			}
			gap, want := a.next-a.due, schedule[a.n-1]
			if gap < 0 || gap == want || (a.alt >= 0 && a.next-a.alt == want) {
				continue // attempt_end reports a retry before the outcome
			}
			out = append(out, viol("backoff", r.Name,
				fmt.Sprintf("attempt %d's outcome (%s) reached Guard at %s and the retry's routing read left at %s", a.n, a.why, a.due, a.next),
				map[string]string{"backoff": want.String()}, map[string]string{"backoff": gap.String()}))
		}
	}
	return out
}

// guardCodes are the error codes a client may see from Guard itself.
// retriedResponse is Guard's retry predicate for a response at the
// profile: 503 with any x-rivet-error, and from 82f5c9d06 503 or 504 with
// x-rivet-error guard.<retryable> (utils.rs@82f5c9d06:221-256).
func retriedResponse(p model.Profile, status int, xRivetError string) bool {
	if p.Has(model.GuardRetriesAnyXRivetError) {
		return status == 503
	}
	group, code, _ := strings.Cut(xRivetError, ".")
	return (status == 503 || status == 504) && group == "guard" && retryableGuardCodes[code]
}

// retryableGuardCodes are the codes of retryableGuardCodes in utils.rs@82f5c9d06:221-256.
var retryableGuardCodes = map[string]bool{"service_unavailable": true, "actor_ready_timeout": true,
	"actor_stopped_while_waiting": true, "tunnel_request_aborted": true, "tunnel_message_timeout": true,
	"tunnel_response_closed": true, "gateway_response_start_timeout": true}

var guardCodes = map[string]bool{
	"guard.retry_attempts_exceeded": true, "guard.actor_not_found": true, "guard.actor_destroyed": true,
	"actor.not_found":           true, // from 2e22a2e61 (PGR@2e22a2e61:161,165)
	"guard.actor_ready_timeout": true, "guard.service_unavailable": true, "guard.request_timeout": true,
	"guard.upstream_error": true, "actor.destroyed_while_waiting_for_ready": true, "core.internal_error": true,
	// routing's errors from 0fe4f08fe (pegboard_gateway/mod.rs@cb33baec8:297-357, 656-681, 747-752)
	"guard.route_dispatch_timeout": true, "pegboard.route_fetch_actor_timeout": true,
	"pegboard.route_wake_signal_timeout": true, "guard.actor_wake_retries_exceeded": true,
}

func responseSaw(r *record.HTTP) map[string]string {
	if r.Response == nil {
		return map[string]string{"response": "none"}
	}
	m := map[string]string{"status": fmt.Sprint(r.Response.Status), "body": r.Response.Body}
	if v, ok := r.Response.Headers[model.XRivetError]; ok {
		m["x-rivet-error"] = v
	}
	if c := ErrorCode(r.Response.Body); c != "" {
		m["code"] = c
	}
	return m
}

func checkOutcome(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		resp := r.Response
		if resp == nil {
			continue // quiescence reports unanswered requests
		}
		if v, ok := resp.Headers[model.XRivetError]; ok && retriedResponse(w.Profile, resp.Status, v) {
			what := "not 503 with x-rivet-error"
			if !w.Profile.Has(model.GuardRetriesAnyXRivetError) {
				what = "not 503/504 with x-rivet-error guard.<retryable>"
			}
			out = append(out, viol("outcome", r.Name, "a response Guard retries reached the client",
				map[string]string{"status": what}, responseSaw(r)))
			continue
		}
		if code := ErrorCode(resp.Body); code != "" && resp.Headers["content-type"] == "application/json" {
			if !guardCodes[code] {
				out = append(out, viol("outcome", r.Name, "unexpected Guard error",
					map[string]string{"code": "one of Guard's routing/retry errors"}, responseSaw(r)))
			}
			continue
		}
		if peer(r.Actor) {
			continue // peer responses are not on this guard's tunnel
		}
		// A verbatim response must be what the runner sent under the request
		// id of the last attempt whose RequestStart reached pub/sub before
		// the client got it: the first such response to reach Guard during
		// that attempt (where attempts share a request id, an earlier
		// attempt's late answer is one), else the last before it.
		var rid model.RequestID
		var since sim.Time
		for _, st := range w.Wire.Starts[r.Name] {
			if st.Reached >= 0 && st.Reached <= r.Answered {
				rid, since = st.Request, st.Sent
			}
		}
		if rid == 0 {
			out = append(out, viol("outcome", r.Name, "a non-Guard response without any attempt on the wire", nil, responseSaw(r)))
			continue
		}
		//
		// An answer that reached Guard the very instant the attempt started
		// is an earlier attempt's (no answer arrives the instant its request
		// starts), and the order of the two is not on the wire (the answer
		// and the Ready that ended routing come on different subscriptions):
		// the gateway may have taken it, or dropped it for a request not in
		// flight yet (GSS@553683bfd:318-328), and then the attempt's own
		// answer is the first after it (as attemptDue's alt).
		var got, next *model.ResponseStart
		atStart := false // got reached Guard the instant the attempt started
		for _, x := range w.Wire.Responses[rid] {
			rs, ok := x.Kind.(model.ResponseStart)
			if !ok || x.At > r.Answered {
				continue
			}
			if atStart {
				if x.At > since {
					next = &rs
					break
				}
				continue
			}
			got = &rs
			if x.At > since {
				break
			}
			atStart = x.At == since
		}
		if next != nil && next.Status == resp.Status && next.Body == resp.Body {
			got = next
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

// checkExhausted: an attempt that a final answer ended succeeded; Guard
// passes that answer on and never retries it (PS:2444-2460), so it can be
// neither followed by a retry nor counted in retry_attempts_exceeded.
func checkExhausted(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if peer(r.Actor) {
			continue
		}
		exhausted := r.Response != nil && ErrorCode(r.Response.Body) == "guard.retry_attempts_exceeded"
		for i, a := range w.attempts(r) {
			// With an alt, something reached Guard in the attempt's own
			// instant and may have ended it at once: the later final
			// answer need not be its own.
			if a.final == nil || a.alt >= 0 || (a.next < 0 && !exhausted) {
				continue
			}
			what := "was retried"
			if a.next < 0 {
				what = "was counted as failed (retry_attempts_exceeded)"
			}
			out = append(out, viol("exhausted", r.Name, fmt.Sprintf("attempt %d got a final response, yet %s", i+1, what),
				map[string]string{"attempt": "503+x-rivet-error, abort, or no answer"},
				map[string]string{"attempt": fmt.Sprintf("%d %q at %s", a.final.Status, a.final.Body, a.due)}))
		}
	}
	return out
}

// checkAttemptEnd: Guard's next act for the request (the retry's routing
// read, or the client's answer after the last attempt) never comes before
// the attempt's outcome reached Guard, and the client's answer comes the
// instant the last attempt's outcome did.
func checkAttemptEnd(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		if peer(r.Actor) {
			continue
		}
		as := w.attempts(r)
		for i, a := range as {
			switch {
			case a.next >= 0 && a.next < a.due && a.alt < 0:
				out = append(out, viol("attempt_end", r.Name,
					fmt.Sprintf("attempt %d was retried at %s, before its outcome (%s) reached Guard at %s", i+1, a.next, a.why, a.due),
					map[string]string{"end": ">= " + a.due.String()}, map[string]string{"end": "<= " + a.next.String()}))
			case a.next < 0 && i == len(as)-1 && r.Response != nil && r.Answered != a.due && r.Answered != a.alt:
				out = append(out, viol("attempt_end", r.Name,
					fmt.Sprintf("the client got its answer at %s; the last attempt's outcome (%s) reached Guard at %s", r.Answered, a.why, a.due),
					map[string]string{"answered": a.due.String()}, map[string]string{"answered": r.Answered.String()}))
			}
		}
	}
	return out
}

// notFoundBody is the runner SDK's answer for an unknown actor.
const notFoundBody = "Actor not found"

// retryWindow is how long after a failed attempt a retry under the fix
// could still reach the actor: the first backoff, then a resolution that
// waits up to the profile's ready wait for Ready (PGR:183-231).
func (w world) retryWindow() sim.Time { return httpRetry(w.Profile).initial + readyWait(w.Profile) }

func checkRetryReachesMovedActor(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		resp := r.Response
		if resp == nil || resp.Body != notFoundBody || (resp.Status != 404 && resp.Status != 503) || peer(r.Actor) {
			continue
		}
		as := w.attempts(r)
		if len(as) == 0 {
			continue
		}
		// H6's premise: the actor left the runner, and within the retry
		// window it was made ready again, or it was asleep when a retry
		// would have re-resolved it (and a retry wakes it, PGR:169-176);
		// either way it was not destroyed.
		last := as[len(as)-1]
		retryWindow := w.retryWindow()
		where, ok := w.readyBetween(r.Actor, last.start.Sent, last.due+retryWindow)
		if !ok {
			if !w.asleepAt(r.Actor, last.due+httpRetry(w.Profile).initial) || w.destroyedBetween(r.Actor, last.start.Sent, last.due+retryWindow) {
				continue
			}
			where = "wake"
		}
		out = append(out, viol("retry_reaches_moved_actor", r.Name,
			fmt.Sprintf("the runner's %q reached the client after %d attempt(s), though a retry would have reached %s (ready within the window: %s)", notFoundBody, len(as), r.Actor, where),
			map[string]string{"outcome": "success after retry, or a Guard error"},
			map[string]string{"outcome": fmt.Sprintf("%d %q from %s", resp.Status, resp.Body, last.start.Runner)}))
	}
	return out
}

func checkDestroyed(w world) []Violation {
	var out []Violation
	for _, r := range w.Requests {
		d := w.destroyedAt(r.Actor)
		if d < 0 || r.Issued < d || r.Response == nil {
			continue
		}
		if rn, _, ok := ServedBy(r.Response.Body); ok {
			out = append(out, viol("destroyed", r.Name, "a destroyed actor answered",
				map[string]string{"outcome": "guard.actor_destroyed or another error"},
				map[string]string{"outcome": fmt.Sprintf("%d served by %s", r.Response.Status, rn)}))
		}
	}
	return out
}
