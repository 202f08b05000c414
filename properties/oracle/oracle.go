// Package oracle judges a finished world from its record alone: what the
// clients and the actors' code saw, what crossed the wire, and the world's
// true history (placement, faults, lifecycle actions). It cannot ask Guard or
// the runner what they did: it imports neither (a test proves it), and a
// record.Record holds nothing of theirs.
//
// Every property is registered once, in Properties, with the spec items it
// checks; every one has a planted bug in internal/plant that breaks it.
package oracle

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/guardsim/guardsim/properties/record"
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
	check func(w world) []Violation
}

// Properties lists every property, in report order.
var Properties = []Property{
	{"attempts", "at most the profile's attempts per HTTP request, 3 (7 from 8ce69e139) (RequestStart publishes, on the wire)", "H1", checkAttempts},
	{"routing", "at most one routing call more than the profile's attempts per HTTP request, 4 (8 from 8ce69e139) (get_for_gateway reads on the wire)", "H2", checkRouting},
	{"backoff", "each retry's routing read leaves Guard exactly the backoff after the failed attempt's outcome reached Guard on the wire: 100/200/400 ms (150 ms·2^(n-1) from 8ce69e139)", "H3", checkBackoff},
	{"outcome", "one terminal outcome from the allowed set; a response Guard retries never reaches a client (a 503 with x-rivet-error; from 82f5c9d06 a 503 or 504 with x-rivet-error guard.<retryable>); a runner's response reaches the client verbatim", "H5, H12", checkOutcome},
	{"exhausted", "an attempt whose final (non-retryable) answer reached Guard is never retried nor counted as failed", "H4, H9, H10, H11", checkExhausted},
	{"attempt_end", "an HTTP attempt ends when its outcome reaches Guard on the wire: the response or abort, the actor's Stopped (from 3891bf8b6), a GC tick that collects it, else the 2 s (15 s from 2e22a2e61) wait", "H9, H10, H11, c.6", checkAttemptEnd},
	{"earned", "every Guard error a client gets, as an HTTP response or a WebSocket close, is explained by the world: routing's service_unavailable only after 17 stops (9 from e07f72618), actor_ready_timeout only if the actor was not ready (or a fault hid it) and every stop while routing was followed by a wake, not-found only for a missing or destroyed actor, internal_error only with a fault on Guard's engine link, pending_limit_reached only after the client sent 1 MiB, websocket_service_timeout (from 0fe4f08fe websocket_garbage_collected and websocket_tunnel_ping_timeout) only from a GC that kills live sockets at the commit or a ping starved by a fault", "H5, H7, H8, E4, E22, issue 9", checkEarned},
	{"retry_reaches_moved_actor", "the runner's \"Actor not found\" never reaches a client when a retry would have reached the actor (ready again, or asleep and woken by the retry, within the retry window)", "H6, f", checkRetryReachesMovedActor},
	{"destroyed", "a destroyed actor never answers a request issued after its destruction was committed", "L4, E13", checkDestroyed},
	{"stop_once", "onActorStop at most once per actor generation started on a runner, and exactly once when the engine's stop (or a replacing start) reached a runner that suffered no fault", "L2", checkStopOnce},
	{"ws_upgrade", "every client WebSocket gets 101 with sec-websocket-protocol: rivet", "W1", checkWSUpgrade},
	{"ws_one_id", "all opens of one client WebSocket use one request id", "W2", checkWSOneID},
	{"ws_preopen", "at most 4 (8 from 240f318a1, 1 from 0fe4f08fe) consecutive failed attempts (routing reads on the wire), each retry a 100/200/400 ms (150 ms·2^(n-1) from 240f318a1) backoff after wire evidence of the failure, then 1011 websocket_service_unavailable (from 0fe4f08fe the failure's own code)", "W3, W4", checkWSPreOpen},
	{"ws_hibernate", "a hibernatable actor's stop never closes its client socket", "W5, W6", checkWSHibernate},
	{"ws_delivery", "every message a client sends on a hibernatable socket that stays open reaches the actor's code", "W5, E5", checkWSDelivery},
	{"ws_close", "a client socket closes only with a Guard error frame from the allowed set or a runner close Guard may pass through", "W6, W8, d.5", checkWSClose},
	{"ws_runner_close", "the runner gets Guard's close at most once per open that reached Guard, and at least once within 5 s of a client's close when nothing intervened", "W7, E6", checkWSRunnerClose},
	{"ws_actor_close", "a close the actor's runner sends after the open, which Guard may not turn into a reconnect, reaches the client within 5 s, when no fault intervenes", "W6, W8, d.5, GW:306-318, issue 9", checkWSActorClose},
	{"ws_client_close", "a client's close reaches the actor's code whose socket is open, within 5 s, when no fault or lifecycle action intervenes", "W7, GW:443-465, issue 9", checkWSClientClose},
	{"ws_quiet", "with no fault and no lifecycle action, an open socket is never closed, reopened or loses a reply", "W5, W7, i.6, i.7", checkWSQuiet},
	{"liveness", "after faults stop and the world heals, every live actor answers HTTP and WebSocket probes", "design: liveness", checkLiveness},
	{"quiescence", "nothing pending once the world is quiet: every request answered, no leaked subscription or in-flight entry, no socket the client closed still open in an actor's code", "design: lifecycle, W7", checkQuiescence},
}

// PropertyNames lists the property names in order.
func PropertyNames() []string {
	names := make([]string, len(Properties))
	for i, p := range Properties {
		names[i] = p.Name
	}
	return names
}

// Check evaluates the named properties (all when names is empty) on a
// finished world's record.
func Check(rec *record.Record, names ...string) []Violation {
	w := world{rec}
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
