package properties

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// A Finding is a known upstream problem: a property broken at a range of
// commits of the timeline. It is the one registry that `make sim`, `make
// keep`, the gate and TestKnownFindings read. Its range is what the
// exploration of the timeline shows (TestKnownFindings asserts it is found
// inside and not at the first commit after), never what was hoped.
type Finding struct {
	// Slug names its kept case, testdata/kept/<slug>.txt.
	Slug  string
	Title string
	// Properties are those it breaks; its search checks them all.
	Properties []string
	// First and Last are the first and last profiles where it shows; Last
	// is the timeline's last commit when upstream fixed it later or never.
	First, Last string
	// Fixed says where upstream fixed it, when that is after the timeline.
	Fixed string
	// SearchAt is a profile inside the range where the kept case is found;
	// Budget and Seeds bound that search, MaxActions its minimized size
	// (at most MaxReportActions: the minimizer is deterministic, so the
	// size does not vary with the machine).
	SearchAt   string
	Budget     int
	Seeds      []uint64
	MaxActions int
	// Focus limits the search's action kinds (see ExploreConfig.Focus)
	// for a finding the full swarm meets too rarely; every kind stays in
	// make sim's exploration.
	Focus []string
	// DirectedScale multiplies the main job's directed search budget
	// (-directed) for this finding, for one that even its focus meets
	// about once in a thousand scenarios (0 or 1: the budget as given).
	DirectedScale int
	// AbsentBudget is how many scenarios must not find it at the first
	// commit after Last (unused when Last is the timeline's end).
	AbsentBudget int
	// match tells this finding's failures from other failures of the
	// same property, from what the violation saw and the trace.
	match func(f *Failure) bool
	// matchFor, when it names a property, replaces match for that
	// property's violations.
	matchFor map[string]func(f *Failure) bool
}

// Matches reports whether a failure is this finding.
func (k Finding) Matches(f *Failure) bool {
	return f != nil && k.Explains(f, f.Property)
}

// Explains reports whether the finding explains the failure's violation of
// the property (a failure may break several).
func (k Finding) Explains(f *Failure, property string) bool {
	if m, ok := k.matchFor[property]; ok {
		return f != nil && slices.Contains(k.Properties, property) && m(f)
	}
	return f != nil && slices.Contains(k.Properties, property) && k.match(f)
}

// Covers reports whether the finding's range includes the profile.
func (k Finding) Covers(p model.Profile) bool {
	first, last := mustIndex(k.First), mustIndex(k.Last)
	return first <= p.Index() && p.Index() <= last
}

// Range renders the range, e.g. "716db379f..f3105c779".
func (k Finding) Range() string {
	s := model.Profiles()[mustIndex(k.First)].Commit.Hash + ".." + model.Profiles()[mustIndex(k.Last)].Commit.Hash
	if k.Fixed != "" {
		s += " (" + k.Fixed + ")"
	}
	return s
}

// After is the profile of the first commit after the range, if any.
func (k Finding) After() (model.Profile, bool) {
	i := mustIndex(k.Last) + 1
	if i >= len(model.Timeline) {
		return model.Profile{}, false
	}
	return model.Profiles()[i], true
}

func mustIndex(name string) int {
	p, err := model.ProfileByName(name)
	if err != nil {
		panic(err)
	}
	return p.Index()
}

// sawContains tells failures by what their violations say: a message or
// a value the oracle allowed or saw.
func sawContains(s string) func(*Failure) bool {
	return func(f *Failure) bool {
		for _, v := range f.Violations {
			if strings.Contains(v.Msg, s) || strings.Contains(v.Subject, s) {
				return true
			}
			for _, m := range []map[string]string{v.Allowed, v.Saw} {
				for _, k := range sim.SortedKeys(m) {
					if strings.Contains(m[k], s) {
						return true
					}
				}
			}
		}
		return false
	}
}

// traceHas reports whether the failure's trace (or its part before the
// liveness phase) matches re. Findings' matchers ask the same questions of
// one trace many times (for each violation, each finding), so the answers
// are kept with the failure.
//
// Every pattern a matcher runs on a whole trace is a tracePattern, so that
// it starts with a literal: regexp then skips to that literal's next
// occurrence, where a pattern without one runs its machine at every byte
// of a trace that can be megabytes long (issue 10: two such patterns took
// a third of make sim).
func (f *Failure) traceHas(re *regexp.Regexp, beforeLive bool) bool {
	key := traceQuery{re: re, beforeLive: beforeLive}
	if v, ok := f.matched[key]; ok {
		return v
	}
	t := f.Trace
	if beforeLive {
		t = beforeLiveness(t)
	}
	v := re.MatchString(t)
	if f.matched == nil {
		f.matched = map[traceQuery]bool{}
	}
	f.matched[key] = v
	return v
}

// tracePattern compiles a pattern matchers run on whole traces; it must
// start with a literal (see traceHas).
func tracePattern(expr string) *regexp.Regexp {
	re := regexp.MustCompile(expr)
	if lit, _ := re.LiteralPrefix(); lit == "" {
		panic(fmt.Sprintf("trace pattern %q does not start with a literal: it would run at every byte of a trace", expr))
	}
	if strings.HasPrefix(expr, "(?s)") {
		panic(fmt.Sprintf("trace pattern %q: a .* across lines runs to the trace's end from every match of its start; use traceInOrder", expr))
	}
	return re
}

// traceInOrder reports whether the trace has first, and then after it.
func traceInOrder(f *Failure, first, then string) bool {
	i := strings.Index(f.Trace, first)
	return i >= 0 && strings.Contains(f.Trace[i+len(first):], then)
}

type traceQuery struct {
	re         *regexp.Regexp
	beforeLive bool
	fact       string // a question a function answers (traceFact)
}

// traceFact is traceHas for a question a function answers: the answer is
// kept with the failure under the question's name.
func (f *Failure) traceFact(name string, answer func() bool) bool {
	key := traceQuery{fact: name}
	if v, ok := f.matched[key]; ok {
		return v
	}
	v := answer()
	if f.matched == nil {
		f.matched = map[traceQuery]bool{}
	}
	f.matched[key] = v
	return v
}

func traceMatches(re *regexp.Regexp) func(*Failure) bool {
	return func(f *Failure) bool { return f.traceHas(re, false) }
}

// The gateway GC dropping a hibernating socket's buffer: removing a closed
// entry that still buffers (one phase), removing a flagged entry whose
// handler returned, or resetting a flagged entry's buffer on reuse (two
// phases).
var gcDroppedBuffer = tracePattern(`gw\.(gc_remove_closed|gc_remove_stopping|reuse_stopping) +rid=(\S+) buffered=[1-9]`)

// gcDroppedLost reports whether the GC dropped the buffer of a socket a
// lost message was published on (gcDroppedBuffer); of any socket when the
// gateway never published a lost message. A closed socket's buffer
// dropped with messages the actor already got explains no other socket's
// loss.
func gcDroppedLost(f *Failure) bool {
	return f.traceFact("gcDroppedLost", func() bool {
		drops := gcDroppedBuffer.FindAllStringSubmatchIndex(f.Trace, -1)
		if len(drops) == 0 {
			return false
		}
		lost := lostMessages(f)
		rids := map[string]bool{}
		for _, m := range wsMessagePublished.FindAllStringSubmatchIndex(f.Trace, -1) {
			if lost[f.Trace[m[6]:m[7]]] {
				rids[f.Trace[m[2]:m[3]]] = true
			}
		}
		for _, d := range drops {
			if len(rids) == 0 || rids[f.Trace[d[4]:d[5]]] {
				return true
			}
		}
		return false
	})
}

// The one-phase GC removing an entry whose handler still runs.
var gcRemovedLive = tracePattern(`gw\.gc_remove +rid=`)

// Findings lists the known findings, in timeline order of their first commit.
var Findings = []Finding{
	{
		Slug:       "parent_404_reaches_client",
		Title:      "The runner's 404 \"Actor not found\" reaches the client although a retry would have found the actor on another runner (H6): what #3322 fixed.",
		Properties: []string{"retry_reaches_moved_actor"}, First: "parent", Last: "parent",
		SearchAt: "parent", Budget: 300, Seeds: []uint64{1, 2, 3}, MaxActions: 6, AbsentBudget: 1500,
		match: sawContains(`404 "Actor not found"`),
	},
	{
		Slug:       "fresh_ack_closes_socket",
		Title:      "The gateway acks runner messages with a fresh message id (GSS@f3105c779:253), so the runner's GC closes every healthy socket with \"Message acknowledgment timeout\" 5-65 s after its open (TUN:131-184).",
		Properties: []string{"ws_quiet", "liveness"}, First: "parent", Last: "53f4819a8",
		SearchAt: "seed", Budget: 300, Seeds: []uint64{1, 2}, MaxActions: 6, AbsentBudget: 1500,
		match: func(f *Failure) bool {
			// The client sees the runner GC's close, or for a hibernatable
			// socket Guard reconnecting after it.
			return (sawContains("Message acknowledgment timeout")(f) || f.traceHas(runnerAckTimeoutClose, false)) &&
				!f.traceHas(gcRemovedLive, false)
		},
		// A liveness probe closed by the runner's GC for want of an ack
		// (the inverted gateway GC may remove live probes as well).
		matchFor: map[string]func(*Failure) bool{"liveness": sawContains("1000 Message acknowledgment timeout")},
	},
	{
		Slug:       "inverted_gc_disturbs_socket",
		Title:      "The one-phase gateway GC with inverted age checks removes the in-flight entry of a healthy socket whose oldest un-acked message is younger than 30 s (GSS@f3105c779:403-442): Guard reconnects with the same request id and a reply is lost, or, before the open, the first attempt's orphaned open is never acked and the runner's GC closes the reopened socket with \"Message acknowledgment timeout\" (TUN:131-184). With a lifecycle action too, the removed entry takes its hibernation buffer with it and a client message never reaches the actor.",
		Properties: []string{"ws_quiet", "ws_delivery", "liveness"}, First: "parent", Last: "2f5666c05",
		SearchAt: "03965b331", Budget: 1500, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1500,
		match: traceMatches(gcRemovedLive),
		matchFor: map[string]func(*Failure) bool{
			// A message lost on a socket that stays open is lost before the
			// liveness phase (whose probes are closed at its end): a
			// removal before it explains one, and so does, as the phase
			// starts right after the last action, the removal of the lost
			// message's entry after it was published and before the
			// socket's reopen could resend it.
			"ws_delivery": func(f *Failure) bool { return f.traceHas(gcRemovedLive, true) || removedBeforeResend(f) },
			// The GC removes a probe socket's entry as its probe is in
			// flight: Guard reconnects and the echo is lost.
			"liveness": func(f *Failure) bool {
				return sawContains("socket did not work after the world healed")(f) && f.traceHas(gcRemovedLive, false)
			},
		},
	},
	{
		Slug:       "stale_preopen_close_reaches_client",
		Title:      "Every WebSocket attempt reuses one request id (PS:1823) and the gateway matches runner messages by request id alone (GSS:214-245), so a pre-open close of an earlier attempt, delayed past the attempt's end (the 2 s open timeout; from 3891bf8b6 also the actor's Stopped, GW@3891bf8b6:290), closes the reopened socket with the runner's 1011 \"Actor not found\" (errata E21).",
		Properties: []string{"ws_close"}, First: "parent", Last: "f5d14e116",
		// 2e22a2e61's 5 s open wait does not shield it: from 3891bf8b6 the
		// attempt also ends on the actor's Stopped (GW@3891bf8b6:290), before
		// the stale open's close comes back (found at 2e22a2e61 and f5d14e116
		// from rapid seed 1 in 322 scenarios, 4 actions).
		Fixed:    "not found from a89ca2b17, where the TS runner cannot encode any tunnel message, so its close never reaches Guard (TUN@a89ca2b17:430-437); the runner's unknown-actor close is dropped from 6b7ebbb0d and pre-open retry removed at 0fe4f08fe",
		SearchAt: "seed", Budget: 2000, Seeds: []uint64{3}, MaxActions: 8,
		Focus:        []string{"ws_open", "ws_open_race", "drop", "reschedule", "heal"},
		AbsentBudget: 1000,
		match:        sawContains("1011 Actor not found"),
	},
	{
		Slug:       "gc_between_attempts_loses_message",
		Title:      "A gateway GC tick between two attempts of a hibernatable socket drops the in-flight entry's buffer (errata E5: one phase removes the closed entry, GSS@f3105c779:414-416; from 5111b8e76 the inverted check flags the entry, which is removed or reset on reuse, GSS@5111b8e76:125-128, 494-535), so an un-acked client message never reaches the actor while the socket stays open. A reset on reuse also restarts the message indices (GSS@5111b8e76:125-128): a later message the pub/sub delivery loses (a runner reconnecting) carries an index the runner already has, and the resend after its lastMsgIndex skips it.",
		Properties: []string{"ws_delivery"}, First: "parent", Last: "3891bf8b6",
		Fixed:    "not found from 2e22a2e61 on; the GC's buffer check is flipped at 6b7ebbb0d and hibernating entries are kept from 553683bfd",
		SearchAt: "5111b8e76", Budget: 3000, Seeds: []uint64{2}, MaxActions: 8,
		AbsentBudget: 1000,
		// The buffer dropped, or (from 5111b8e76) a flagged entry reset on
		// reuse with an empty buffer: its indices restart, so a message
		// renumbered at or below the runner's last index is skipped by the
		// resend when the pub/sub delivery lost it.
		match: func(f *Failure) bool {
			return gcDroppedLost(f) || (f.traceHas(reuseStopping, false) && lostRenumbered(f))
		},
	},
	{
		Slug:       "lost_publish_strands_socket",
		Title:      "A blip of Guard's pub/sub connection, or of pegboard-runner's (the engine's subscription to the runner's subject), loses a client message the gateway published, and with Guard's also the runner's close of the socket (publishes written into a broken connection, and deliveries to a disconnected subscriber, are lost: NATS core is at-most-once). Nothing at these commits ever tells the gateway: the client's socket stays open and its message never reaches the actor. From 5111b8e76 the GC only flags the entry; before it the inverted GC's reconnect drops the buffer too.",
		Properties: []string{"ws_delivery"}, First: "parent", Last: "450d9e5c6",
		Fixed:    "not found from 3891bf8b6, where the actor's Stopped or the GC's delivered kill ends such a socket first; the gateway's ping/pong comes at c76f319fe",
		SearchAt: "5111b8e76", Budget: 600, Seeds: []uint64{7}, MaxActions: 8,
		AbsentBudget: 1000,
		match: func(f *Failure) bool {
			return upsClientLost(f) && !gcDroppedLost(f)
		},
	},
	{
		Slug:       "runner_blip_loses_message",
		Title:      "pegboard-runner subscribes to a runner's subject per runner connection (PBR/lib.rs@2f5666c05:89-105), so a client message the gateway publishes while the runner reconnects has no subscriber and is lost (NATS core is at-most-once). pegboard-runner closes the old connection's sockets with ws.upstream_closed, retry (PBR/lib.rs@2f5666c05:244-288), and Guard reconnects; the gateway resends only the buffered messages after the runner's lastMsgIndex (GW@f3105c779:268-271, GSS@f3105c779:312-369), which the actor took from the last message it got (TUN@2f5666c05:617-620). The TS runner checks no index until 2e22a2e61 (WSA@2e22a2e61:147-183), so when the client's next message got through after the reconnect its index is past the lost one: the lost message is never resent while the client's socket stays open (from 4e60a30e9 the socket hibernates, and reconnects, the same way).",
		Properties: []string{"ws_delivery"}, First: "parent", Last: "4e60a30e9",
		Fixed:    "from 450d9e5c6 the gateway resends its whole buffer (protocol v3 drops lastMsgIndex, GSS@450d9e5c6:325-343)",
		SearchAt: "5111b8e76", Budget: 800, Seeds: []uint64{2}, MaxActions: 8,
		Focus:         []string{"ws_open", "ws_send", "disconnect"},
		DirectedScale: 5, // its focused search meets it after about 1,000 scenarios (4 seeds at 5111b8e76: 478-1,730)
		AbsentBudget:  1000,
		match:         lostBehindLaterIndex,
	},
	{
		Slug:       "duplicate_runner_connections",
		Title:      "The runner's double reconnect (errata E15: a refused dial fires error and close, each schedules a reconnect, the second overwrites the first's timer handle without clearing it, RUN:600-679, 1396-1427) opens a second socket next to a healthy one; before 2f5666c05 pegboard-runner lets both live, each subscribed to the runner's subject, so every tunnel message is handled once per socket: the actor gets each client message twice, the client gets each reply twice, and the runner gets Guard's close twice.",
		Properties: []string{"liveness", "ws_runner_close"}, First: "parent", Last: "ecd4e0417",
		SearchAt: "seed", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1500,
		match: traceMatches(tracePattern(`pbr\.duplicate_connection`)),
	},
	{
		Slug:       "runner_evicts_itself",
		Title:      "From 2f5666c05 a new connection evicts the runner's older ones (PBR@2f5666c05:92-132), and the TS runner answers an eviction close by shutting down for good (RUN:638-645). With the double reconnect of errata E15, a runner whose dial was refused once opens a second socket, evicts its own healthy one and stops: its actors are lost and, with nowhere else to go, never answer again (unless something outside restarts the process).",
		Properties: []string{"liveness"}, First: "2f5666c05", Last: "640d27e36",
		Fixed:    "eb9149843 clears the previous reconnect timer (RUN@eb9149843:1797-1802), so a refused dial reconnects once and the runner's second socket no longer evicts its first",
		SearchAt: "2f5666c05", Budget: 600, Seeds: []uint64{1}, MaxActions: 6,
		match: traceMatches(tracePattern(`runner\.shutdown`)),
	},
	{
		Slug:       "ws_cached_peer_route",
		Title:      "A WebSocket routed by subprotocol has no x-rivet-target header, so its route is cached under hash(host, path) (GCK@f3105c779:17-68): after a socket to a peer-datacenter actor, a socket to a local actor at the same host and path takes the cached Target route for 10 min. When the peer is unreachable the re-resolution finds the local actor and Guard closes the client with 1011 guard.target_changed (PS:1476-1484) although its actor is alive.",
		Properties: []string{"ws_close"}, First: "parent", Last: "8ce69e139",
		Fixed:    "c078579f5 caches no route (PS@c078579f5:129-134)",
		SearchAt: "seed", Budget: 3000, Seeds: []uint64{1}, MaxActions: 6,
		match: sawContains("guard.target_changed"),
	},
	{
		Slug:       "hibernated_socket_never_reopened",
		Title:      "From 450d9e5c6 a socket that hibernated reconnects without a ToClientWebSocketOpen (after_hibernation, GW@450d9e5c6:296), but the TS runner of these commits restores no hibernating socket (that comes with 2e22a2e61): the woken actor has no adapter for the request and ignores every client message (TUN:616-632) while the client's socket stays open.",
		Properties: []string{"ws_delivery"}, First: "450d9e5c6", Last: "3891bf8b6",
		Fixed: "the TS runner restores hibernating sockets from 2e22a2e61", AbsentBudget: 1000,
		SearchAt: "450d9e5c6", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		// These commits' runner restores nothing: a message ignored after a
		// resume with a restore tried in the trace is another mechanism
		// (from 2e22a2e61 the restore can miss the socket or its meta).
		match: func(f *Failure) bool {
			return resumedThenIgnored(f) && !f.traceHas(restoreTried, false)
		},
	},
	{
		Slug:       "gc_kill_times_out_healthy_socket",
		Title:      "From 450d9e5c6 the gateway GC's flag reaches the live handler (drop_tx, GSS@450d9e5c6:475) while its age checks are still inverted: a healthy hibernatable socket whose client message is not yet acked (the actor acks late) at a 15 s tick is closed with 1011 guard.websocket_service_timeout (GW@450d9e5c6:418).",
		Properties: []string{"ws_quiet", "liveness", "quiescence"}, First: "450d9e5c6", Last: "f5d14e116",
		Fixed:    "the buffer check is flipped at 6b7ebbb0d; a89ca2b17 and 6b7ebbb0d open no socket at all",
		SearchAt: "450d9e5c6", Budget: 2000, Seeds: []uint64{1}, MaxActions: 8,
		AbsentBudget: 150, // at 2e22a2e61 every scenario breaks liveness first (no HTTP response), and each is shrunk before it is skipped
		match:        sawContains("guard.websocket_service_timeout"),
	},
	{
		Slug:       "restored_socket_drops_renumbered_message",
		Title:      "From 2e22a2e61 the runner restores a hibernated socket as its actor starts, its server index continuing from the persisted one (WSA@2e22a2e61:147-183), but until 553683bfd the gateway GC collects the hibernating entry (GatewayClosed) and the reconnect after hibernation creates a new one whose message index starts again at 0 (GSS@6b7ebbb0d:121; kept on reuse from b3313f9f0, but no entry is left to reuse): the runner drops the client's next message as a duplicate while the socket stays open. The new entry has no hibernation state either (set only by a runner's open, GSS:289-310, and a resumed socket gets none), so nothing it sends is buffered: a message that reaches the runner as the actor stops again is ignored and never resent after the wake.",
		Properties: []string{"ws_delivery"}, First: "2e22a2e61", Last: "9f2bc6e19",
		Fixed:    "hibernating entries are kept from 553683bfd",
		SearchAt: "c76f319fe", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1000,
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		match: func(f *Failure) bool {
			return traceInOrder(f, "gw.ws_resumed", "runner.ws_message_duplicate") ||
				resumedAfterGCRemoval(f) && traceInOrder(f, "gw.ws_resumed", "runner.ws_message_ignored")
		},
	},
	{
		Slug:       "client_close_never_reaches_actor",
		Title:      "From 3891bf8b6 the gateway's close to the runner is sent only when an attempt ends hibernating (the condition is inverted, GW@3891bf8b6:562-566): a client's close, like every other end, never reaches the actor, whose socket stays open at the runner. b3313f9f0 flips it back (GW@b3313f9f0:489).",
		Properties: []string{"ws_client_close", "quiescence"}, First: "3891bf8b6", Last: "c76f319fe",
		SearchAt: "c76f319fe", Budget: 300, Seeds: []uint64{1}, MaxActions: 6, AbsentBudget: 1000,
		match: sawContains("never heard of it"),
		// The socket the client closed then stays open at the actor for good
		// because no close for it reached a runner (quiescence says so from
		// the wire, for the scenario's sockets and the liveness probe's
		// alike): not a socket a restore reopened after its close did reach
		// the runner (a close sent on a hibernation does).
		matchFor: map[string]func(*Failure) bool{"quiescence": func(f *Failure) bool {
			return sawContains("the client closed its socket")(f) && sawContains("no close for it reached a runner")(f) && !runnerLinkLost(f, true)
		}},
	},
	{
		Slug:       "echoed_close_ends_resumed_socket",
		Title:      "At c76f319fe the gateway sends its close to the runner only when an attempt ends hibernating (1011 ws.downstream_closed, inverted, GW@3891bf8b6:562-566), the runner echoes every close the gateway sends (WSA@2e22a2e61:236), and pegboard-runner no longer drops a message for a request the gateway closed (a89ca2b17): the echo reaches the socket that resumed after the hibernation, and Guard closes the client with 1011 ws.downstream_closed. b3313f9f0 stops sending the close on a hibernation.",
		Properties: []string{"ws_close"}, First: "c76f319fe", Last: "c76f319fe",
		SearchAt: "c76f319fe", Budget: 2000, Seeds: []uint64{4}, MaxActions: 8, AbsentBudget: 500,
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		match: sawContains("ws.downstream_closed"),
	},
	{
		Slug:       "runner_sends_no_http_response",
		Title:      "From 2e22a2e61 the TS runner's #sendResponse returns early when the actor IS loaded (TUN@2e22a2e61:830, 879): no HTTP response ever reaches Guard, every attempt waits out the gateway's 15 s and the client gets 502 guard.retry_attempts_exceeded from a healthy actor. Broken as committed; c76f319fe flips the check back.",
		Properties: []string{"liveness"}, First: "2e22a2e61", Last: "a89ca2b17",
		SearchAt: "2e22a2e61", Budget: 50, Seeds: []uint64{1}, MaxActions: 2, AbsentBudget: 200,
		match: traceMatches(tracePattern(`runner\.respond_skipped .*why=actor_loaded`)),
	},
	{
		Slug:       "runner_cannot_encode_tunnel",
		Title:      "At a89ca2b17 the TS runner builds ToServerTunnelMessage without the gatewayId its regenerated encoder asserts (TUN@a89ca2b17:430-437, runner-protocol index.ts:927-929): every tunnel send throws, no socket ever opens (1011 guard.websocket_service_unavailable after three 5 s waits). Broken as committed.",
		Properties: []string{"liveness"}, First: "a89ca2b17", Last: "a89ca2b17",
		SearchAt: "a89ca2b17", Budget: 50, Seeds: []uint64{1}, MaxActions: 2, AbsentBudget: 200,
		match: traceMatches(tracePattern(`runner\.encode_error`)),
	},
	{
		Slug:       "tunnel_message_id_size_mismatch",
		Title:      "At 6b7ebbb0d build_message_id writes 10 bytes and then requires 12 (pegboard/src/tunnel/id.rs@6b7ebbb0d:9,29,36): every gateway send fails, HTTP with 500 core.internal_error and a WebSocket with 1011 core.internal_error. Broken as committed; c76f319fe fixes the size.",
		Properties: []string{"liveness"}, First: "6b7ebbb0d", Last: "6b7ebbb0d",
		SearchAt: "6b7ebbb0d", Budget: 50, Seeds: []uint64{1}, MaxActions: 2, AbsentBudget: 200,
		match: traceMatches(tracePattern(`wrote 10 bytes, expected 12`)),
	},
	{
		Slug:       "ws_reopen_index_skip",
		Title:      "From b3313f9f0 a reused in-flight entry keeps its message index (GSS@b3313f9f0), but the TS runner starts every freshly opened hibernatable socket at server index 0 (TUN@553683bfd:971-985): after a retried open (the first attempt failed before its open) the gateway's next message carries index 2 or more, and the runner closes the healthy socket with 1008 ws.message_index_skip (WSA@553683bfd:160-172).",
		Properties: []string{"ws_close"}, First: "b3313f9f0", Last: "4bec25189",
		Fixed:    "from 0fe4f08fe a WebSocket that fails before its open is not retried, so no socket is reopened under its kept message index",
		SearchAt: "553683bfd", Budget: 2500, Seeds: []uint64{1}, MaxActions: 8,
		match: func(f *Failure) bool {
			return sawContains("ws.message_index_skip")(f) && !restoredThenSkipped(f)
		},
	},
	{
		Slug:       "restored_socket_index_skip",
		Title:      "When a hibernatable actor starts again, the TS runner restores a listed socket's adapter at the message index the actor persisted (TUN@2e22a2e61:100-160, RUN@2e22a2e61:918-975), and the actor persists an index only some time after it handled the message: an instance that stops in between leaves the index behind. A client message the gateway published to the previous attempt reaches the restored adapter with an index two or more above it, and the runner closes the healthy socket 1008 ws.message_index_skip (WSA@2e22a2e61:147-183, WSA@553683bfd:160-172).",
		Properties: []string{"ws_close"}, First: "2e22a2e61", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "553683bfd", Budget: 2000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "sleep", "wake", "reschedule"},
		match: func(f *Failure) bool {
			return sawContains("ws.message_index_skip")(f) && restoredThenSkipped(f)
		},
	},
	{
		Slug:       "lost_close_leaves_actor_socket_open",
		Title:      "Nothing repairs a close that never reached the runner. When a runner's connection drops, pegboard-runner closes the client side of its tunnelled sockets (ToServerWebSocketClose ws.upstream_closed, PR/lib.rs@2f5666c05:244-288, until 3891bf8b6) or the client's own close is lost with the connection; the TS runner's close handler leaves its tunnel alone (RUN@2f5666c05:652-703, RUN@553683bfd:887-947), so the actor's socket adapter outlives the reconnect and no close ever reaches it. Until 6b7ebbb0d the runner's sweep closes it only if the actor sends on it (TUN@2f5666c05:139-195; before 03965b331 every gateway ack had the wrong id, so it always did); from 6b7ebbb0d there is no sweep at all (TUN@553683bfd:69-71): the actor holds a socket nobody is on the other end of until it stops.",
		Properties: []string{"quiescence"}, First: "03965b331", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "2f5666c05", Budget: 500, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "ws_close", "disconnect", "reconnect", "autoreconnect"},
		match: func(f *Failure) bool {
			return sawContains("still has it open")(f) && runnerLinkLost(f, true)
		},
	},
	{
		Slug:       "late_open_leaves_actor_socket_open",
		Title:      "When Guard's open reaches the runner after the gateway gave up on it (its open timeout returns early with no close to the runner, GW@553683bfd:377-383, while pub/sub held the message), the runner opens the actor's socket and answers; the gateway drops the answer for a request no longer in flight without a word to the runner (GSS@4e60a30e9:235-243, GSS@553683bfd:318-328), and nothing on the runner closes an adapter whose peer is gone (no sweep at 553683bfd, TUN@553683bfd:69-71; before, only if the actor sends on it): the actor holds the socket until it stops.",
		Properties: []string{"quiescence"}, First: "4e60a30e9", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "553683bfd", Budget: 500, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "hold", "drop", "heal"},
		match: func(f *Failure) bool {
			// From 0fe4f08fe no pre-open failure is retried: the gateway also
			// gives up at the actor's Stopped, and the client's socket is
			// closed (by Guard, or by the client meanwhile).
			gaveUp := traceMatches(wsOpenTimeout)(f) || f.traceHas(stoppedBeforeOpen, false)
			return sawContains("still has it open")(f) && (sawContains("Guard closed the client's socket")(f) || sawContains("the client closed its socket")(f)) && gaveUp
		},
	},
	{
		Slug:       "closed_socket_restored_elsewhere",
		Title:      "A hibernatable socket's hibernating_request row outlives the client's close: the gateway deletes it only when a hibernation ends in a close (GW@553683bfd:615-628), and from 9f2bc6e19 refreshes it every 45 s while the socket is open. An actor start within the row's 90 s (a reschedule, a wake) lists the request in CommandStartActor.hibernatingRequests, and the TS runner restores the socket for an actor whose client is gone (TUN@553683bfd:224-260) before, or instead of, Guard's close reaching the old runner; no close ever reaches the restored socket, and the actor holds it until it stops.",
		Properties: []string{"quiescence"}, First: "b3313f9f0", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head) (from dbcce0a47 every hibernatable socket has its row from its open, so a plain close of a connected socket leaves it too); before b3313f9f0 no close reaches the actor at all (client_close_never_reaches_actor)",
		SearchAt: "553683bfd", Budget: 1000, Seeds: []uint64{6}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "ws_close", "reschedule", "sleep", "wake"},
		match: func(f *Failure) bool {
			return sawContains("still has it open")(f) && f.traceHas(restored, false)
		},
	},
	{
		Slug:       "ack_lost_in_hibernation_times_out_socket",
		Title:      "The gateway handles a runner's ToServerWebSocketMessageAck only in the live socket's tunnel-to-ws task (tunnel_to_ws_task.rs@553683bfd:40-48): an ack that arrives while the socket hibernates is dropped with the task, so the acked message stays buffered. On the resume the gateway resends it, the TS runner drops it as a duplicate without acking again (websocket-tunnel-adapter.ts@553683bfd:140-153), and once the buffered message is 30 s old the GC flags the entry (GSS@553683bfd:500-521) and Guard closes the healthy socket with 1011 guard.websocket_service_timeout.",
		Properties: []string{"earned"}, First: "c76f319fe", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "b3313f9f0", Budget: 2000, Seeds: []uint64{1}, MaxActions: 8, // shrinking is bounded by wall time: 4 to 11 actions measured
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		match: func(f *Failure) bool {
			return gcClosedSocket(f) && f.traceHas(duplicateDropped, false) && f.traceHas(gcNotAcked, false)
		},
	},
	{
		Slug:       "destroyed_actor_socket_times_out",
		Title:      "Destroying an actor publishes DestroyStarted, never Stopped (AWF@553683bfd:536, destroy.rs@553683bfd:21), and the gateway watches only Stopped, while the TS runner leaves a hibernatable socket alone when its actor stops (TUN@2e22a2e61:547-567): nothing ends the client's socket. The ack of the last message the actor handled, persisted after the actor stopped, is dropped because the actor is no longer loaded (TUN@553683bfd:434-441), so at the first GC tick 30 s later the entry is flagged for an un-acked message (GSS@553683bfd:500-521) and Guard closes the client's socket with 1011 guard.websocket_service_timeout rather than an error that says the actor is gone.",
		Properties: []string{"earned"}, First: "c76f319fe", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head); until 6b7ebbb0d the GC's buffer check is inverted and flags nothing here",
		SearchAt: "553683bfd", Budget: 2000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "destroy"},
		match: func(f *Failure) bool {
			return gcClosedSocket(f) && f.traceHas(actorDestroyed, false) && f.traceHas(gcNotAcked, false)
		},
	},
	{
		Slug:       "stopped_never_reported",
		Title:      "From 5fcb724b0 the TS runner sends an actor's events only while it hosts the actor (#sendActorStateUpdate returns for an actor it cannot find, RUN@5fcb724b0:1121-1127), but forceStopActor removes the actor before it sends stopped (RUN@5fcb724b0:297-302): no stopped is ever sent. An actor that crashes stays allocated and connectable at the engine, which set no timeout for it, and every request to it goes to a runner that no longer hosts it; a sleep or stop intent ends only after the workflow's stop threshold (AWF@5fcb724b0:277-291, 481-515).",
		Properties: []string{"liveness"}, First: "5fcb724b0", Last: "16a3f243b",
		Fixed:    "bb46e0a16 sends stopped before removing the actor (RUN@bb46e0a16:316, 320)",
		SearchAt: "5fcb724b0", Budget: 500, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1000,
		Focus: []string{"crash", "sleep", "stop", "http"},
		match: traceMatches(tracePattern(`runner\.event_dropped +actor=\S+ gen=\d+ event="ActorState\{\S+ gen=\d+ stopped\}"`)),
	},
	{
		Slug:       "new_generation_running_dropped",
		Title:      "From 5fcb724b0 the actor workflow keeps the last event index it took per (actor, runner id) across generations (ART@5fcb724b0:25-38, AWF@5fcb724b0:459-472), while the TS runner numbers each new actor instance's events from the start (ACT@5fcb724b0:30-32): when an actor gets a new generation on a runner it ran on before (a wake after a sleep on one runner), its running is dropped as a duplicate, the workflow never sees it start, and 30 s later it loses the actor (AWF@5fcb724b0, actor_start_threshold); Guard's requests time out waiting for Ready.",
		Properties: []string{"liveness", "quiescence"}, First: "5fcb724b0", Last: "bb46e0a16",
		Fixed:    "640d27e36 keys events by generation and resets the index at deallocation (AWF@640d27e36:460-468, 819)",
		SearchAt: "bb46e0a16", Budget: 500, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1000,
		Focus: []string{"sleep", "wake", "http", "reschedule"},
		match: traceMatches(newGenerationDropped),
		// The stranded actor's hibernating socket is left waiting for a
		// Ready that never comes: its in-flight entry outlives the world.
		matchFor: map[string]func(*Failure) bool{"quiescence": func(f *Failure) bool {
			return sawContains("did not answer after the world healed")(f) && traceMatches(newGenerationDropped)(f)
		}},
	},
	{
		Slug:       "restart_pending_timeout_strands_actor",
		Title:      "From e08d064ea a crashed (or lost) restart-policy actor waits at most 60 s for a runner (RESTART_PENDING_TIMEOUT_MS, AWF@e08d064ea:18, 1058-1069), and the Sleep the allocation then returns is ignored (AWF@e08d064ea:1066): the actor is left neither allocated, nor pending, nor sleeping. Guard never wakes it (it wakes only a sleeping actor) and the workflow would ignore a Wake anyway, so once its runner has been gone for 60 s every request to it fails with actor_ready_timeout for good, even after runners come back.",
		Properties: []string{"liveness"}, First: "e08d064ea", Last: "b9334b316",
		Fixed:    "4943580fd marks the actor sleeping and writes SleepTsKey (AWF@4943580fd:1156-1166)",
		SearchAt: "e08d064ea", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1000,
		Focus: []string{"lose", "disconnect", "advance", "crash", "http"},
		match: traceMatches(tracePattern(`wf\.pending_timeout +actor=`)),
	},
	{
		Slug:       "tunnel_auth_kills_runner_connection",
		Title:      "From 5dba5ded9 pegboard-runner ends a runner's whole connection with ws.invalid_packet when the runner sends a tunnel message for a (gateway, request) no gateway message on that connection opened (ws_to_tunnel_task.rs@5dba5ded9:873-878, 930-935). A runner that reconnects sends such messages as a matter of course: the commands replayed on the reconnect start its actor again, whose restore closes a hibernating socket it has no metadata for (1000 ws.meta_not_found_during_restore), or it resends buffered frames of sockets opened on the old connection; each kills the new connection, the runner reconnects, and the replay starts over. The runner never keeps a connection, its actors' requests wait out the gateway's 5 min response wait and its sockets time out.",
		Properties: []string{"liveness", "quiescence", "earned", "ws_quiet"}, First: "5dba5ded9", Last: "7c84b2bd6",
		Fixed:    "c074c72b5 comments the check out (ws_to_tunnel_task.rs@c074c72b5:874-878, 935-939)",
		SearchAt: "5dba5ded9", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8, AbsentBudget: 1000,
		Focus: []string{"ws_open", "ws_send", "disconnect", "reschedule", "sleep", "http"},
		match: traceMatches(tracePattern(`pbr\.unauthorized_tunnel_message +runner=`)),
	},
	{
		Slug:       "lost_stopped_strands_actor",
		Title:      "From 5fcb724b0 an actor's stopped can fail to reach its workflow across a runner reconnect: sent as the connection breaks, it goes with the actor's event history when the actor is removed (RUN@5fcb724b0:957-976, ER mod.ts@cb33baec8:346-350); and the commands pegboard-runner replays on the reconnect start the stopped generation again, whose events, numbered from the start, the workflow drops as duplicates of the old instance's (AWF@640d27e36:460-468), as it does a replaced instance's stopped (RUN@5fcb724b0:998-1017). The workflow then waits out its stop threshold, which 4bec25189 raises from 30 s to 30 min (PCFG@4bec25189:175-177): an actor put to sleep or stopped as its runner reconnects is unreachable for 30 min (for 30 s from bb46e0a16, where stopped is first sent before the actor is removed, to 4bec25189).",
		Properties: []string{"liveness", "quiescence"}, First: "bb46e0a16", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head); before 4bec25189 the loss costs the 30 s threshold, which a liveness probe in those 30 s sees; before bb46e0a16 no stopped is sent at all (stopped_never_reported)",
		SearchAt: "4bec25189", Budget: 1000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"sleep", "stop", "crash", "disconnect", "reconnect", "http"},
		match: func(f *Failure) bool {
			return f.traceHas(commandsReplayed, false) && f.traceHas(duplicateEvent, false)
		},
		// The liveness probe's request to the stranded actor is still
		// waiting out the gateway's 5 min response wait when the world
		// goes quiet (ba328f490 on): it is never answered, and its
		// in-flight entry and routing subscription are left.
		matchFor: map[string]func(*Failure) bool{"quiescence": func(f *Failure) bool {
			return sawContains("did not answer after the world healed")(f) && sawContains("never answered")(f) &&
				f.traceHas(commandsReplayed, false) && f.traceHas(duplicateEvent, false)
		}},
	},
	{
		Slug:       "replayed_commands_rerun_actor",
		Title:      "From 5fcb724b0 pegboard-runner sends a reconnecting runner every command stored for it (CONN@5fcb724b0:319-385) and deletes only what the runner acks, which the TS runner does every 5 min from its socket's open and only for the actors it still hosts (RUN@5fcb724b0:741-754, 1170-1193); the runner does not dedupe (RUN@5fcb724b0:910-930). After a reconnect within 5 min of a start, an actor generation that already stopped is started and stopped again, so its onActorStop runs twice, and a replayed start replaces the running instance without onActorStop (RUN@5fcb724b0:998-1017).",
		Properties: []string{"stop_once"}, First: "5fcb724b0", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "640d27e36", Budget: 500, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"sleep", "destroy", "disconnect", "reconnect", "reschedule"},
		match: traceMatches(commandsReplayed),
	},
	{
		Slug:       "resume_misses_restore_strands_socket",
		Title:      "When a hibernatable actor is rescheduled, the engine starts it elsewhere the instant it stops it, and CommandStartActor lists only the hibernating_request rows already written; the gateway writes the socket's row only once the actor's Stopped has reached it (GW@2e22a2e61:653, GW@553683bfd:581-589), or every 45 s from 9f2bc6e19. A socket whose row is not written yet is not restored on the new runner (TUN@553683bfd:224-260); restarted on its own runner, that start even drops the socket's persisted metadata as stale (TUN@2e22a2e61:210-255), so a later start that lists the row finds no metadata and closes it 1000 ws.meta_not_found_during_restore (TUN@2e22a2e61:137-160): a hibernating gateway drops that close, an attached one passes it to the client (ws_close). Yet the gateway resumes the socket there: the runner drops every message for a request the loaded actor has no adapter for (TUN@553683bfd:1022-1047; the stopped instance's adapter is never reached again), nothing acks the buffered ones, and 30 s later the GC flags the entry (GSS@553683bfd:500-521) and Guard closes the socket with 1011 guard.websocket_service_timeout. Until 553683bfd the GC collects a hibernating entry (restored_socket_drops_renumbered_message), and the entry the resume creates buffers nothing, so no GC ever flags the lost message: the client's socket stays open and its message never reaches the actor (ws_delivery).",
		Properties: []string{"earned", "ws_close", "ws_delivery"}, First: "2e22a2e61", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head)",
		SearchAt: "553683bfd", Budget: 2000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		match: func(f *Failure) bool {
			return gcClosedSocket(f) && f.traceHas(messageIgnored, false) && f.traceHas(gcNotAcked, false)
		},
		// ws_close: the metadata the first start dropped as stale is missing
		// at a later start that lists the row. ws_delivery: a socket resumed
		// on a runner with no adapter for it, where the restore missed: the
		// request was not listed, or a start that did not list it dropped
		// its metadata as stale (and no later start lists it, or one does
		// and finds no metadata).
		matchFor: map[string]func(*Failure) bool{
			"ws_close": func(f *Failure) bool {
				return sawContains("ws.meta_not_found_during_restore")(f) && staleMetaThenNoMeta(f)
			},
			"ws_delivery": func(f *Failure) bool {
				return resumedThenIgnored(f) && (f.traceHas(staleMeta, false) || !f.traceHas(restoreTried, false))
			},
		},
	},
	{
		Slug:       "resumed_socket_ping_timeout",
		Title:      "At 553683bfd the gateway keeps a hibernating socket's in-flight entry (GSS@553683bfd:500-521), and start_in_flight_request reuses an occupied entry without resetting last_pong (GSS@553683bfd:129-141). When a hibernation outlasts TUNNEL_PING_TIMEOUT (30 s), the resumed socket's first ping check (GSS@553683bfd:240) finds the pong from before the hibernation, and Guard closes the healthy socket with 1011 guard.websocket_service_timeout.",
		Properties: []string{"earned"}, First: "553683bfd", Last: "c078579f5",
		Fixed:    "b9334b316 resets last_pong when an entry is reused (GSS@b9334b316:156)",
		SearchAt: "553683bfd", Budget: 3000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "sleep", "wake"},
		match: traceMatches(tracePattern(`gw\.ping_timeout`)),
	},
	{
		Slug:       "keepalive_lapse_times_out_socket",
		Title:      "At 553683bfd the GC flags a hibernatable socket's in-flight entry whose last_ping is older than hibernating_request_eligible_threshold (90 s, GSS@553683bfd:515-517), but last_ping is set only when the socket first opens hibernatable (toggle_hibernation, GSS@553683bfd:347-367; not on a resume, GW@553683bfd:316-320) and by the keepalive task, which discards its first tick and so refreshes it first 45 s after it starts (keepalive_task.rs@553683bfd:24-35, 56), and which is restarted by every attempt and every hibernation (GW@553683bfd:425-436, 602-616). A healthy socket that hibernates and resumes within 45 s of each (re)start goes 90 s without a refresh: a 15 s GC tick flags it and Guard closes it with 1011 guard.websocket_service_timeout.",
		Properties: []string{"earned"}, First: "553683bfd", Last: "553683bfd",
		Fixed:    "not found from dbcce0a47, whose keepalive writes at once on every open, attempt and hibernation, so last_ping no longer lapses",
		SearchAt: "553683bfd", Budget: 3000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "sleep", "wake"},
		match: func(f *Failure) bool {
			return sawContains("websocket_service_timeout")(f) && gcKilledFor(f, "hibernation_timeout", "guard.websocket_service_timeout")
		},
	},
	{
		Slug:       "resume_after_gc_removal_internal_error",
		Title:      "At 553683bfd the GC keeps a hibernating socket's in-flight entry unless it flags it (a buffered client message un-acked for 30 s, or last_ping older than 90 s, GSS@553683bfd:500-521); a flagged entry is removed at once while no attempt holds its drop_rx (GSS@553683bfd:545-558), as between the attempts of a hibernation. The reconnect after the hibernation then creates a new entry and fails its ensure! (GW@553683bfd:311-314): Guard closes the client's socket with 1011 core.internal_error (and sends the runner no close).",
		Properties: []string{"earned"}, First: "553683bfd", Last: "cb33baec8",
		Fixed:    "still there at cb33baec8 (head); not found from dbcce0a47 to ba328f490 (4,000 scenarios), where the keepalive refreshes last_ping at once on every attempt; from d319a6210 a sleep's stop is an Error, so the reschedule backoff grows and a hibernation outlasts the GC's deadlines again",
		SearchAt: "553683bfd", Budget: 3000, Seeds: []uint64{1}, MaxActions: 8,
		Focus: []string{"ws_open", "ws_send", "reschedule", "sleep", "wake"},
		match: func(f *Failure) bool {
			return sawContains("core.internal_error")(f) && f.traceHas(newEntryAfterHibernation, false)
		},
	},
}

// The reconnect after a hibernation found no in-flight entry (GW@553683bfd:311-314).
var newEntryAfterHibernation = tracePattern(`result="should not be creating a new in flight entry after hibernation"`)

// gcKilledFor reports whether the GC flagged a socket's entry for the
// reason and that socket's attempt ended with the result in the same tick:
// the kill reached its live handler. It reads the trace twice, whatever
// the number of flags (a keepalive-heavy trace has thousands), finding
// the lines by their event's name rather than by a pattern anchored at
// every line's start.
func gcKilledFor(f *Failure, reason, result string) bool {
	return f.traceFact("gcKilledFor "+reason+" "+result, func() bool { return gcKilled(f, reason, result) })
}

func gcKilled(f *Failure, reason, result string) bool {
	type tick struct{ at, rid string }
	flagged := map[tick]bool{}
	eachTraceEvent(f.Trace, "guard", "gw.gc_stopping", func(at string, kv []string) {
		if traceValue(kv, "reason") == reason {
			flagged[tick{at, traceValue(kv, "rid")}] = true
		}
	})
	if len(flagged) == 0 {
		return false
	}
	killed := false
	eachTraceEvent(f.Trace, "guard", "guard.ws_attempt", func(at string, kv []string) {
		killed = killed || traceValue(kv, "result") == result && flagged[tick{at, traceValue(kv, "rid")}]
	})
	return killed
}

// eachTraceEvent calls fn, in trace order, with the time and the
// key=value words of every line of the trace that is the node's event.
func eachTraceEvent(trace, node, event string, fn func(at string, kv []string)) {
	needle := " " + event + " "
	for rest, off := trace, 0; ; {
		i := strings.Index(rest, needle)
		if i < 0 {
			return
		}
		at := off + i
		start := strings.LastIndexByte(trace[:at], '\n') + 1
		end := strings.IndexByte(trace[at:], '\n')
		if end < 0 {
			end = len(trace)
		} else {
			end += at
		}
		if w := strings.Fields(trace[start:end]); len(w) >= 4 && w[2] == node && w[3] == event {
			fn(w[1], w[4:])
		}
		rest, off = trace[end:], end
	}
}

// resumedAfterGCRemoval: the gateway GC removed a socket's entry and the
// socket was then resumed under the same request id, in a new entry.
func resumedAfterGCRemoval(f *Failure) bool {
	return f.traceFact("resumed after GC removal", func() bool {
		removed := map[string]bool{}
		eachTraceEvent(f.Trace, "guard", "gw.gc_remove_stopping", func(_ string, kv []string) { removed[traceValue(kv, "rid")] = true })
		found := false
		eachTraceEvent(f.Trace, "guard", "gw.ws_resumed", func(_ string, kv []string) { found = found || removed[traceValue(kv, "rid")] })
		return found
	})
}

// traceValue is the value of key in a trace line's key=value words.
func traceValue(kv []string, key string) string {
	for _, w := range kv {
		if k, v, ok := strings.Cut(w, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// The runner's GC closed a socket for want of a gateway ack.
var wsOpenTimeout = tracePattern(`gw\.ws_open_timeout`)

var runnerAckTimeoutClose = tracePattern(`runner\.ws_close_sent .*reason="Message acknowledgment timeout"`)

// runnerLinkLost reports whether a runner lost its connection, or a link a
// close crosses was held or dropped (before the liveness phase, or in the
// whole trace).
func runnerLinkLost(f *Failure, beforeLive bool) bool {
	return f.traceHas(runnerDisconnect, beforeLive) || f.traceHas(faultDropHold, beforeLive)
}

var (
	runnerDisconnect = tracePattern(`runner\.disconnect `)
	faultDropHold    = tracePattern(`fault\.(drop|hold) `)
)

// The runner dropped a resent message as a duplicate, and the GC flagged an
// entry for a buffered message never acked.
var (
	duplicateDropped = tracePattern(`runner\.ws_message_duplicate `)
	gcNotAcked       = tracePattern(`gw\.gc_stopping +rid=\S+ reason=websocket_message_not_acked`)
)

// A runner ignored a message for a request it has no adapter for.
// restoreTried: the runner's restore of hibernating requests ran for the
// socket (restored it, found no metadata, or, because the start did not
// list the request, dropped its metadata as stale): from 2e22a2e61 every
// actor start runs it (TUN@2e22a2e61:100-160).
var restoreTried = tracePattern(`runner\.ws_(restored|restore_no_meta|stale_meta) `)

func resumedThenIgnored(f *Failure) bool {
	return traceInOrder(f, "gw.ws_resumed", "runner.ws_message_ignored")
}

var messageIgnored = tracePattern(`runner\.ws_message_ignored `)

// A runner restoring a socket, and skipping a message on one.
var (
	wsRestored  = tracePattern(`runner\.ws_restored +actor=\S+ gen=\d+ rid=(\S+) `)
	wsIndexSkip = tracePattern(`runner\.ws_message_index_skip +rid=(\S+) `)
)

// restoredThenSkipped reports whether a runner closed a socket for an
// index skip on an adapter it had restored (no fresh open since).
func restoredThenSkipped(f *Failure) bool {
	return f.traceFact("restoredThenSkipped", func() bool {
		for _, m := range wsIndexSkip.FindAllStringSubmatchIndex(f.Trace, -1) {
			rid := f.Trace[m[2]:m[3]]
			from := -1
			for _, r := range wsRestored.FindAllStringSubmatchIndex(f.Trace[:m[0]], -1) {
				if f.Trace[r[2]:r[3]] == rid {
					from = r[1]
				}
			}
			if from < 0 {
				continue
			}
			reopened := false
			for _, o := range runnerWSOpened.FindAllStringSubmatch(f.Trace[from:m[0]], -1) {
				reopened = reopened || o[1] == rid
			}
			if !reopened {
				return true
			}
		}
		return false
	})
}

var runnerWSOpened = tracePattern(`runner\.ws_opened +actor=\S+ gen=\d+ rid=(\S+) `)

// pegboard-runner replaying commands, and the actor workflow dropping an
// event as a duplicate.
var (
	commandsReplayed     = tracePattern(`pbr\.replay_commands +runner=`)
	newGenerationDropped = tracePattern(`wf\.new_generation_event_dropped +actor=`)
	duplicateEvent       = tracePattern(`wf\.duplicate_event +actor=`)
)

// gcClosedSocket: Guard closed a client's socket for the GC's flag:
// websocket_service_timeout, websocket_garbage_collected from 0fe4f08fe.
func gcClosedSocket(f *Failure) bool {
	return sawContains("websocket_service_timeout")(f) || sawContains("websocket_garbage_collected")(f)
}

// The gateway giving up on an open at the actor's Stopped.
var stoppedBeforeOpen = tracePattern(`gw\.actor_stopped +rid=\S+ actor=\S+ opened=false`)

// The engine destroying an actor.
var actorDestroyed = tracePattern(`wf\.destroyed +actor=`)

// A start dropped a socket's persisted metadata as stale: the request was
// not among the hibernating requests it was given (TUN@2e22a2e61:210-255).
var staleMeta = tracePattern(`runner\.ws_stale_meta `)

// A start dropped a socket's persisted metadata as stale, and a later
// start listing the socket found none.
func staleMetaThenNoMeta(f *Failure) bool {
	return traceInOrder(f, "runner.ws_stale_meta ", "runner.ws_restore_no_meta ")
}

// A runner restored a hibernating socket.
var restored = tracePattern(`runner\.ws_restored `)

// A hibernatable socket's reopen, and a client message reaching the actor.
var (
	wsReopened      = tracePattern(`gw\.ws_opened +rid=(\S+) runner=\S+ hibernate=true last=(\d+)`)
	runnerWSMessage = tracePattern(`runner\.ws_message +actor=\S+ gen=\d+ rid=(\S+) idx=(\d+) `)
)

// A flagged entry reset on reuse.
var reuseStopping = tracePattern(`gw\.reuse_stopping +rid=`)

// The gateway publishing a client message to a runner.
var wsMessagePublished = tracePattern(`Publish\{runner\.\S+ WebSocketMessage\{(\S+) \S+ (?:reply=\S+ )?idx=(\d+) data=\\"([^\\"]*)\\"`)

// lostRenumbered reports whether the gateway published a lost client
// message with an index the actor had already got on its socket.
func lostRenumbered(f *Failure) bool {
	lost := lostMessages(f)
	for _, m := range wsMessagePublished.FindAllStringSubmatchIndex(f.Trace, -1) {
		rid, idx := f.Trace[m[2]:m[3]], atoiOr(f.Trace[m[4]:m[5]], 1<<30)
		if !lost[f.Trace[m[6]:m[7]]] {
			continue
		}
		for _, r := range runnerWSMessage.FindAllStringSubmatchIndex(f.Trace[:m[0]], -1) {
			if f.Trace[r[2]:r[3]] == rid && atoiOr(f.Trace[r[4]:r[5]], -1) >= idx {
				return true
			}
		}
	}
	return false
}

// lostMessages are the messages the failure's ws_delivery violations lost.
func lostMessages(f *Failure) map[string]bool {
	lost := map[string]bool{}
	for _, v := range f.Violations {
		if v.Property == "ws_delivery" {
			for _, d := range strings.Split(v.Saw["lost"], ",") {
				lost[d] = true
			}
		}
	}
	return lost
}

// lostBehindLaterIndex reports whether, with a runner's connection
// dropped, a lost client message's next one reached the actor and the
// socket then reopened with a last message index at or past the lost
// one's: the gateway resends nothing up to that index.
func lostBehindLaterIndex(f *Failure) bool {
	t := f.Trace
	if !strings.Contains(t, "pbr.disconnected ") {
		return false
	}
	lost := lostMessages(f)
	// The lost message's publish: dropped for want of a subscriber, or
	// delivered to the subscription of a runner connection that dropped.
	for _, m := range wsMessagePublished.FindAllStringSubmatchIndex(t, -1) {
		rid, idx := t[m[2]:m[3]], atoiOr(t[m[4]:m[5]], 1<<30)
		if !lost[t[m[6]:m[7]]] {
			continue // the violation is about another message
		}
		// A new index, one the actor got neither before nor after (a
		// renumbered message, the gateway's entry lost with its buffer,
		// is another mechanism)...
		renumbered := false
		before := len(f.Trace) - len(t) + m[0]
		for _, r := range runnerWSMessage.FindAllStringSubmatchIndex(f.Trace, -1) {
			if f.Trace[r[2]:r[3]] != rid {
				continue
			}
			if n := atoiOr(f.Trace[r[4]:r[5]], -1); n == idx || (r[0] < before && n > idx) {
				renumbered = true
			}
		}
		if renumbered {
			continue
		}
		// The client's next message reached the actor...
		next := -1
		for _, r := range runnerWSMessage.FindAllStringSubmatchIndex(t[m[1]:], -1) {
			if t[m[1]:][r[2]:r[3]] == rid && atoiOr(t[m[1]:][r[4]:r[5]], -1) > idx {
				next = m[1] + r[1]
				break
			}
		}
		if next < 0 {
			continue
		}
		// ...and the socket reopened past the lost one.
		for _, r := range wsReopened.FindAllStringSubmatch(t[next:], -1) {
			if r[1] == rid && atoiOr(r[2], -1) >= idx {
				return true
			}
		}
	}
	return false
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// upsClientLost reports whether Guard's or the engine's (pegboard-runner's)
// connection to pub/sub broke.
func upsClientLost(f *Failure) bool {
	return f.traceFact("upsClientLost", func() bool {
		lost := false
		for _, node := range []string{"guard", "engine"} {
			eachTraceEvent(f.Trace, node, "ups.client_lost", func(string, []string) { lost = true })
		}
		return lost
	})
}

// removedBeforeResend reports whether the one-phase GC removed the entry
// of a lost client message's request after the gateway published the
// message and before the socket's next open, whose resend would have
// carried it.
func removedBeforeResend(f *Failure) bool {
	lost := lostMessages(f)
	for _, m := range wsMessagePublished.FindAllStringSubmatchIndex(f.Trace, -1) {
		if !lost[f.Trace[m[6]:m[7]]] {
			continue
		}
		rid, rest := f.Trace[m[2]:m[3]], f.Trace[m[1]:]
		removed := regexp.MustCompile(`gw\.gc_remove +rid=` + regexp.QuoteMeta(rid) + ` `).FindStringIndex(rest)
		if removed == nil {
			continue
		}
		opened := regexp.MustCompile(`gw\.ws_opened +rid=` + regexp.QuoteMeta(rid) + ` `).FindStringIndex(rest)
		if opened == nil || removed[0] < opened[0] {
			return true
		}
	}
	return false
}

// beforeLiveness is the part of a trace before the liveness phase.
func beforeLiveness(trace string) string {
	if i := strings.Index(trace, "liveness.start"); i >= 0 {
		return trace[:i]
	}
	return trace
}

// FindingFor returns the registered finding a failure is, if its range
// covers the failure's profile.
func FindingFor(f *Failure) (Finding, bool) {
	for _, k := range Findings {
		if k.Matches(f) && k.Covers(f.Options.Profile) {
			return k, true
		}
	}
	return Finding{}, false
}

// FindingExplaining returns the registered finding, if any, whose range
// covers the failure's profile and that explains its violation of the
// property (a failure may break several properties, each through another
// finding).
func FindingExplaining(f *Failure, property string) (Finding, bool) {
	for _, k := range Findings {
		if k.Covers(f.Options.Profile) && k.Explains(f, property) {
			return k, true
		}
	}
	return Finding{}, false
}

// Unexplained lists the failure's violations that no registered finding
// whose range covers the failure's profile explains.
func Unexplained(f *Failure) []Violation {
	var out []Violation
	for _, v := range f.Violations {
		explained := false
		for _, k := range Findings {
			if k.Covers(f.Options.Profile) && k.Explains(f, v.Property) {
				explained = true
				break
			}
		}
		if !explained {
			out = append(out, v)
		}
	}
	return out
}

// SearchConfig is the exploration a search runs at p, without its budget:
// the finding's properties and focus, walking past other known findings.
// Replaying a search's fail file with it minimizes to the same case.
func (k Finding) SearchConfig(p model.Profile) ExploreConfig {
	return ExploreConfig{Profile: p, Properties: k.Properties, Focus: k.Focus,
		// Walk past other known findings: neither stop nor shrink there.
		Tolerate: func(f *Failure) bool { return !k.Matches(f) && len(Unexplained(f)) == 0 }}
}

// Search runs SearchConfig at p from the rapid seed on, within budget
// scenarios. A violation of its properties that is another finding
// does not end the search: rapid goes on with the next seed (its fail
// file, if one was written, is removed so it is not replayed first). It
// returns the finding's shrunk failure, or nil, and the scenarios checked.
//
// shrink bounds each failure's shrinking (0: rapid's setting).
func (k Finding) Search(p model.Profile, seed uint64, budget int, name string, keepFailFile bool, shrink time.Duration) (*Failure, int, error) {
	checked := 0
	for round := uint64(0); checked < budget; round++ {
		cfg := k.SearchConfig(p)
		cfg.Checks, cfg.Seed, cfg.Name, cfg.NoFailFile, cfg.ShrinkTime = budget-checked, seed+round, name, !keepFailFile, shrink
		res := Explore(cfg)
		if res.Err != nil {
			return nil, checked, res.Err
		}
		checked += res.Stats.Checks
		f := res.Failure
		if f == nil {
			return nil, checked, nil
		}
		if k.Matches(f) {
			f.Checks = checked
			return f, checked, nil
		}
		if f.FailFile != "" {
			_ = os.Remove(f.FailFile)
		}
	}
	return nil, checked, nil
}

// FindingBySlug returns the named finding.
func FindingBySlug(slug string) (Finding, error) {
	for _, k := range Findings {
		if k.Slug == slug {
			return k, nil
		}
	}
	return Finding{}, fmt.Errorf("unknown finding %q", slug)
}
