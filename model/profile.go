package model

import (
	"fmt"
	"slices"
	"strings"
)

// Profiles are upstream commits (DESIGN, spec errata E19). The timeline is
// the list of upstream commits, oldest first, at which a modelled
// behaviour changes; a quirk is one such behaviour, live from the commit
// that introduced it up to (not including) the commit that removed it; a
// profile is the set of quirks live at its commit. Nothing is ever mixed:
// every profile the explorer, the gate and the kept cases use is one
// commit. Scenario files may switch single quirks for a what-if
// experiment; such a profile is marked as a mixture wherever it is shown.
//
// docs/timeline.md lists every commit of f3105c779..553683bfd that touches
// a modelled path, and why each did or did not become a profile.

// Commit is one upstream commit of rivet-dev/rivet.
type Commit struct {
	Hash  string // abbreviated to 9 hex digits
	Alias string // a short name, or ""
	Date  string // author date, YYYY-MM-DD
	PR    int
	Title string
}

// Name is the alias if the commit has one, else its hash.
func (c Commit) Name() string {
	if c.Alias != "" {
		return c.Alias
	}
	return c.Hash
}

func (c Commit) String() string {
	s := c.Hash
	if c.Alias != "" {
		s += " (" + c.Alias + ")"
	}
	return s
}

// Timeline is every upstream commit guardsim models, oldest first. Each
// one changes at least one quirk below (TestTimelineIsConsistent), but the
// last, upstream HEAD (alias head), which is named even where nothing
// modelled changed since the commit before it.
var Timeline = []Commit{
	{"716db379f", "parent", "2025-11-04", 3321, "fix(runner): dupe onActorStop call"},
	{"f3105c779", "seed", "2025-11-04", 3322, "fix(runner): fix http requests not returning 503 when actor removed"},
	{"53f4819a8", "", "2025-11-04", 3323, "fix(runner): close active requests after onActorStop has finished running"},
	{"03965b331", "", "2025-11-04", 3326, "fix(pegboard): fix tunnel ack from gateway"},
	{"60fc116b7", "", "2025-11-04", 3328, "chore(runner): decrease timeout to 15s"},
	{"c6161fd4a", "", "2025-11-04", 3339, "chore(guard): simplify gateway routing"},
	{"ecd4e0417", "", "2025-11-05", 3341, "chore(guard): handle cors on the gateway"},
	{"2f5666c05", "", "2025-11-06", 3377, "fix: boot dupe runners"},
	{"5111b8e76", "", "2025-11-06", 3378, "fix(gateway): fix gc logic"},
	{"aa4fc4cff", "", "2025-11-06", 3381, "fix(guard): fix 1006 when client closes ws connection"},
	{"3d4e089d6", "", "2025-11-06", 3387, "chore(runner): add safeguard against duplicate sockets"},
	{"4e60a30e9", "", "2025-11-13", 3400, "feat(gateway): websocket hibernation"},
	{"450d9e5c6", "", "2025-11-13", 3449, "fix(guard): dont send open msg for hibernating ws, hibernating ws keepalive"},
	{"3891bf8b6", "", "2025-11-21", 3481, "fix(guard): handle actor stopped during ws/req"},
	{"2e22a2e61", "", "2025-11-21", 3464, "chore(rivetkit): implement new hibernating ws protocol"},
	{"f5d14e116", "", "2025-11-21", 3487, "chore(engine-runner): remove echo close on ToClientWebSocketClose"},
	{"a89ca2b17", "", "2025-11-21", 3488, "chore(pegboard-gateway): remove `TunnelAck`"},
	{"6b7ebbb0d", "", "2025-11-21", 3492, "chore(pegboard-gateway): add new message id format & add deprecated tunnel ack"},
	{"c76f319fe", "", "2025-11-21", 3491, "fix(tunnel): implement ping pong"},
	{"b3313f9f0", "", "2025-11-21", 3494, "chore(rivetkit): fix hibernation implementation"},
	{"6339e242d", "", "2025-11-21", 3496, "fix(pegboard-gateway): write hws immediately on socket hibernate"},
	{"9f2bc6e19", "", "2025-11-21", 3498, "fix(pegboard-gateway): ping hibernating requests both during open hws connections and during hibernation"},
	{"553683bfd", "", "2025-11-21", 3505, "fix(gateway): prevent gc from removing hibernating in flight req, check actor started after sub when hibernating"},
	{"dbcce0a47", "", "2025-11-21", 3507, "fix(engine): ensure first keepalive tick is not skipped to prevent timeout on ws hibernation"},
	{"2a24121ce", "", "2025-11-21", 3509, "chore(rivetkit): buffer outbound tunnel messages"},
	{"0169801a0", "", "2025-11-21", 3513, "fix(runner-protocol): fix decoding gateway & req id from req id instead of message id"},
	{"5fcb724b0", "", "2025-12-03", 3543, "fix(pb): implement events and commands for actor wfs"},
	{"16a3f243b", "", "2025-12-12", 3611, "fix(guard): fix routing gateway cross-region"},
	{"bb46e0a16", "", "2025-12-12", 3638, "fix: backport ee changes to engine runner"},
	{"640d27e36", "", "2025-12-15", 3648, "fix(pegboard): store events/commands per actor gen"},
	{"eb9149843", "", "2026-01-12", 3800, "fix(rivetkit): fix runner reconnection bug"},
	{"240f318a1", "", "2026-01-14", 3815, "feat: add metrics to pb, guard"},
	{"e08d064ea", "", "2026-01-14", 3837, "fix(pb): have restart policy actors sleep after pending for too long"},
	{"8ce69e139", "", "2026-01-14", 3862, "fix(guard): clean up guard"},
	{"c078579f5", "", "2026-01-30", 4059, "fix(guard): cache custom serve routes"},
	{"b9334b316", "", "2026-02-03", 4090, "fix(gateway): prevent timeout after hibernation wake, improve logging"},
	{"4943580fd", "", "2026-02-11", 4171, "fix(pb): set crash_policy=restart actor to sleeping after pending timeout"},
	{"ba328f490", "", "2026-02-23", 3824, "chore(engine): tweak platform limits"},
	{"36c3771fd", "", "2026-03-10", 4366, "fix(pb): add ping keepalive to runner ws"},
	{"d319a6210", "", "2026-03-26", 4507, "fix: correct stop codes"},
	{"e07f72618", "", "2026-04-05", 4463, "feat(pb): actors v3"},
	{"5dba5ded9", "", "2026-04-08", 4588, "chore: tunnel auth"},
	{"7c84b2bd6", "", "2026-04-13", 4621, "fix(pegboard-runner): clear terminal tunnel routes"},
	{"c074c72b5", "", "2026-04-21", 4688, "move ee changes to oss"},
	{"1761e6f0f", "", "2026-04-24", 0, "chore: rivetkit to rust"},
	{"1e2d08bff", "", "2026-05-02", 0, "test(raw-websocket): add serverless smoke coverage"},
	{"4bb92916c", "", "2026-05-02", 0, "chore(rivetkit): wasm support"},
	{"82f5c9d06", "", "2026-05-04", 0, "fix(gateway): split actor response wait errors"},
	{"4bec25189", "", "2026-05-05", 0, "fix(pegboard): align drain grace defaults with stop threshold"},
	{"0fe4f08fe", "", "2026-06-02", 0, "[SLOP(claude-opus-4-8)] feat: upstream OSS-safe engine + rivetkit changes from EE"},
	{"cb33baec8", "head", "2026-08-06", 0, "chore: exclude Unity C# from language stats"},
}

// Quirk is one upstream behaviour that changes inside the timeline.
type Quirk uint8

// The quirks. Each one's doc, upstream lines and range are in quirkInfos.
const (
	RunnerNotFound404 Quirk = iota
	RunnerUnregisterBeforeStop
	GatewayFreshAckID
	RunnerLostThreshold2m
	GuardActorsRoutePath
	GatewayCORS
	PBREvictsDuplicateRunner
	GatewayGCOnePhase
	GatewayGCInvertedAge
	GuardEmptyCloseFrame
	RunnerDuplicateOpenOrphans
	GuardWSRetryImmediate
	GatewayGCKillUndelivered
	GatewayOpenAfterHibernation
	GatewayResendAfterLastIndex
	GatewayIgnoresActorStopped
	PBRClosesWebSocketsOnDisconnect
	GatewayClosesHibernatingToRunner
	GatewayCloseToRunnerInverted
	GatewayHibernationIgnoresPending
	GuardActorNotFound404
	GatewayTimeouts2s
	RunnerDropsHTTPResponses
	RunnerAnswersUnknownActor
	RunnerClosesWebSocketsOnActorStop
	RunnerOpensBeforeHandler
	RunnerEchoesClose
	RunnerRestoresHibernating
	RunnerValidatesWSIndex
	TunnelAcks
	PBRTunnelActiveRequests
	RunnerCannotEncodeTunnel
	RunnerTunnelGC
	TunnelMessageIDSizeMismatch
	GuardRequestIDPerAttempt
	RunnerSendsForUnmappedRequests
	GatewayWSIndexSeparate
	GatewayMessageIndexResetOnReuse
	GatewayWSPing
	RunnerRemovesActorBeforeOnStop
	RunnerDispatchesBeforeStart
	GatewayGCCollectsClosedHibernatable
	GatewayHibernationReadyRace
	RunnerGCClosesWithRetry
	GatewayRowAfterPendingCheck
	GatewayKeepaliveOnlyWhileHibernating
	RunnerGlobalPendingMessages
	GatewayKeepaliveSkipsFirstTick
	RunnerDropsSendsWhileDisconnected
	GatewayWSOpenTimeout5s
	RunnerShutdownClosesWithRetry
	RunnerGlobalEventHistory
	EngineResendsCommandsAfterLastIndex
	RunnerKeepsActorsOnNewRunnerID
	RunnerNeverReportsStopped
	RunnerAcksStopCommands
	WFEventIndexPerRunner
	GuardPeerDCStrippedPath
	RunnerDoubleReconnectTimers
	GuardWSRetry3x100ms
	GuardHTTPRetry3x100ms
	GuardActorNotFound400
	WFRestartPendsForever
	WFRestartPendingSleepIgnored
	GuardCachesPeerRoutes
	GatewayPongNotResetOnReuse
	GatewayResponseTimeout15s
	RunnerStopCodeAlwaysOk
	GuardRewakes16
	GuardCloseLinger100ms
	GatewayRetriesWSOnActorStop
	WFActorStopThreshold30s
	GuardRetriesAnyXRivetError
	GuardWSPreopenRetry
	GuardRoutingLimits15s
	GuardHeaderRouteAnyPath
	PBRNoRunnerPingTimeout
	PBRRejectsUnroutedTunnelMessages
	PBRClearsTerminalTunnelRoutes
	numQuirks
)

// quirkInfo describes a quirk: its name in scenario files, what it does
// with the upstream lines, and the commits that introduced and removed it
// ("" for Since: before the timeline's first commit; "" for Until: still
// live at the timeline's last commit, with Note saying where upstream
// changed it later).
type quirkInfo struct {
	Name         string
	Since, Until string
	Doc          string
	Note         string
}

var quirkInfos = [numQuirks]quirkInfo{
	RunnerNotFound404: {Name: "runner_not_found_404", Until: "f3105c779",
		Doc: "the runner answers a request for an unknown actor with 404 \"Actor not found\" (TUN@716db379f:212-218) instead of 503 + x-rivet-error: runner.actor_not_found (TUN@f3105c779:212-223)"},
	RunnerUnregisterBeforeStop: {Name: "runner_unregister_before_stop", Until: "53f4819a8",
		Doc: "forceStopActor closes the actor's WebSockets (1000 \"Actor stopped\", retry) before awaiting onActorStop (RUN@f3105c779:162-174, 240-246); from 53f4819a8 they close after onActorStop resolves, just before ActorStateStopped (RUN@53f4819a8:162-181)"},
	GatewayFreshAckID: {Name: "gateway_fresh_ack_id", Until: "03965b331",
		Doc: "the gateway acks a runner message with a fresh random message id (GSS@f3105c779:253), so the runner's pending tunnel messages never clear and its GC closes every WebSocket with \"Message acknowledgment timeout\"; 03965b331 echoes the original id"},
	RunnerLostThreshold2m: {Name: "runner_lost_threshold_2m", Until: "60fc116b7",
		Doc: "RUNNER_LOST_THRESHOLD_MS is 2 min (RWF@f3105c779:18); 60fc116b7 lowers it to 15 s (RWF@60fc116b7:20), also sent to the runner in ToClientInit"},
	GuardActorsRoutePath: {Name: "guard_actors_route_path", Until: "c6161fd4a",
		Doc: "path routing parses /gateway/actors/{id}[/tokens/{t}]/route/{rest} (RMOD@f3105c779:147-237); c6161fd4a parses /gateway/{id}[@{token}]/{rest} (RMOD@c6161fd4a:187-210)"},
	GatewayCORS: {Name: "gateway_cors", Since: "ecd4e0417",
		Doc: "the gateway answers OPTIONS itself with 204 and CORS headers and adds CORS headers to every tunnelled response (GW@ecd4e0417:105-133, 217-226)"},
	PBREvictsDuplicateRunner: {Name: "pbr_evicts_duplicate_runner", Since: "2f5666c05",
		Doc: "a runner connection evicts every older connection of the same runner: Guard closes the older socket with 1000 \"ws.eviction#ray\" and its active requests get the error close (PBR@2f5666c05:92-132); the TS runner answers an eviction close by shutting down for good (RUN:638-645). Before it both connections live, each subscribed to the runner's subject"},
	GatewayGCOnePhase: {Name: "gateway_gc_one_phase", Until: "5111b8e76",
		Doc: "the gateway GC removes an entry in one pass: a closed channel whatever it still buffers, or an entry flagged by the age checks while its handler runs, which closes that handler's channel (GSS@f3105c779:403-442); 5111b8e76 purges a closed entry only with empty buffers, and removes a flagged entry only after its handler returned (GSS@5111b8e76:455-549)"},
	GatewayGCInvertedAge: {Name: "gateway_gc_inverted_age", Until: "6b7ebbb0d",
		Doc: "the GC's age checks are inverted: an entry whose oldest un-acked tunnel message, or else oldest buffered hibernation message, is at most 30 s old is flagged (GSS@f3105c779:418-432, GSS@5111b8e76:494, 504); 6b7ebbb0d deletes the tunnel check (MessageNotAcked) and flags a buffered message older than 30 s (GSS@6b7ebbb0d:412)"},
	GuardEmptyCloseFrame: {Name: "guard_empty_close_frame", Until: "aa4fc4cff",
		Doc: "a handler ending without a close frame makes Guard send an empty close frame, which the client sees as 1005 (PS@f3105c779:2489-2499); aa4fc4cff sends 1000 \"ws.closed\" (PS@aa4fc4cff:2566-2572)"},
	GuardWSRetryImmediate: {Name: "guard_ws_retry_immediate", Until: "4e60a30e9",
		Doc: "a hibernatable socket whose attempt ends with websocket_service_retry is re-resolved and reopened at once (PS@f3105c779:1862-1863, 1892); from 4e60a30e9 the error is websocket_service_hibernate and Guard first waits for the actor's Ready or the client's next frame (handle_websocket_hibernation, PS@4e60a30e9:1898-1935, GW@4e60a30e9:554-612)"},
	GatewayGCKillUndelivered: {Name: "gateway_gc_kill_undelivered", Until: "450d9e5c6",
		Doc: "the GC's Timeout to a flagged entry's handler is an async send never awaited (GSS@f3105c779:434-436, GSS@5111b8e76:520); from 450d9e5c6 the two-phase GC's flag reaches a live handler through drop_tx (GSS@450d9e5c6:475): HTTP gives service_unavailable, a socket not yet open websocket_service_unavailable, an open socket 1011 websocket_service_timeout (GW@450d9e5c6:215, 342, 418)"},
	GatewayOpenAfterHibernation: {Name: "gateway_open_after_hibernation", Until: "450d9e5c6",
		Doc: "a socket reconnecting after hibernation opens like any other; from 450d9e5c6 Guard passes after_hibernation (set once, never reset, PS@450d9e5c6:1848-1937) and the gateway sends no ToClientWebSocketOpen, takes the socket as open and hibernatable, and resends its buffer (GW@450d9e5c6:296); the TS runner restores nothing until 2e22a2e61, so it ignores what follows"},
	GatewayResendAfterLastIndex: {Name: "gateway_resend_after_last_index", Until: "450d9e5c6",
		Doc: "on open the gateway resends the buffered messages after the runner's lastMsgIndex and drops the acked ones (GSS@f3105c779:312-369); protocol v3 (450d9e5c6) drops lastMsgIndex and the gateway resends the whole buffer (GSS@450d9e5c6:325-343)"},
	GatewayIgnoresActorStopped: {Name: "gateway_ignores_actor_stopped", Until: "3891bf8b6",
		Doc: "the gateway does not watch the actor's Stopped; from 3891bf8b6 it subscribes to it for every attempt: an HTTP request waiting for its response, or a socket waiting for its open, gives up as unavailable (retried), an open socket hibernates if it can and is otherwise retried as websocket_service_unavailable (GW@3891bf8b6:155, 220-223, 290, 356-359, 436-444)"},
	PBRClosesWebSocketsOnDisconnect: {Name: "pbr_closes_websockets_on_disconnect", Until: "3891bf8b6",
		Doc: "when a runner's connection ends pegboard-runner closes its WebSocket requests, 1000 after a clean close, else 1011 ws.upstream_closed, with retry (PBR:150-166, errata E24); from 3891bf8b6 it skips WebSockets (PBR@3891bf8b6:251): they wait for the actor's Stopped"},
	GatewayClosesHibernatingToRunner: {Name: "gateway_closes_hibernating_to_runner", Until: "3891bf8b6",
		Doc: "after an opened attempt the gateway always sends the runner a close, even when the attempt ends hibernating (1011 ws.downstream_closed, GW@450d9e5c6:536-560); from 3891bf8b6 see gateway_close_to_runner_inverted, and from b3313f9f0 every end but a hibernation sends it"},
	GatewayCloseToRunnerInverted: {Name: "gateway_close_to_runner_inverted", Since: "3891bf8b6", Until: "b3313f9f0",
		Doc: "the gateway's close to the runner after an opened attempt is sent only when the attempt ends hibernating, as 1011 ws.downstream_closed, and never otherwise: the condition is inverted (GW@3891bf8b6:562-566); b3313f9f0 sends it for every end but a hibernation (GW@b3313f9f0:489)"},
	GatewayHibernationIgnoresPending: {Name: "gateway_hibernation_ignores_pending", Until: "3891bf8b6",
		Doc: "a hibernation waits for Ready or client data even when the entry still buffers messages; from 3891bf8b6 buffered messages end it at once (GW@3891bf8b6:614-621, GSS@3891bf8b6:347)"},
	GuardActorNotFound404: {Name: "guard_actor_not_found_404", Until: "2e22a2e61",
		Doc: "routing to a missing or destroyed actor fails with guard.actor_not_found or guard.actor_destroyed, 404 (PGR:161-165); from 2e22a2e61 both are actor.not_found, which err_into_response has no arm for: 400, and a WebSocket close reason actor.not_found#ray (PGR@2e22a2e61:161,165)"},
	GatewayTimeouts2s: {Name: "gateway_timeouts_2s", Until: "2e22a2e61",
		Doc: "the gateway waits 2 s for an HTTP response or a WebSocket open (TUNNEL_ACK_TIMEOUT, GW:32); from 2e22a2e61 it waits 15 s for the response and 5 s for the open (GW@2e22a2e61:37-38, 234, 371)"},
	RunnerDropsHTTPResponses: {Name: "runner_drops_http_responses", Since: "2e22a2e61", Until: "c76f319fe",
		Doc: "the TS runner's #sendResponse and #sendResponseError return early when the actor IS loaded, so no HTTP response is ever sent (TUN@2e22a2e61:830, 879); c76f319fe inverts the check back (TUN@c76f319fe:807, 857)"},
	RunnerAnswersUnknownActor: {Name: "runner_answers_unknown_actor", Until: "2e22a2e61",
		Doc: "the runner answers a request for an actor it does not host (404 or 503, see runner_not_found_404); from 2e22a2e61 it sends nothing, \"request will leak\" (TUN@2e22a2e61:689-697), and the gateway waits out its timeout"},
	RunnerClosesWebSocketsOnActorStop: {Name: "runner_closes_websockets_on_actor_stop", Until: "2e22a2e61",
		Doc: "a stopping actor's sockets are closed through the tunnel, 1000 \"Actor stopped\" with retry (TUN:186-208); from 2e22a2e61 a socket that cannot hibernate is closed locally, 1000 actor.stopped, sending nothing, and a hibernatable one is left alone: the gateway learns of the stop from Stopped (TUN@2e22a2e61:547-567)"},
	RunnerOpensBeforeHandler: {Name: "runner_opens_before_handler", Until: "2e22a2e61",
		Doc: "the runner sends ToServerWebSocketOpen, then runs the actor's websocket handler, so a throwing handler closes an opened socket (TUN:573-613); from 2e22a2e61 the open is sent after the handler resolved, and a throw is a close before the open, which the gateway retries (TUN@2e22a2e61:953-995)"},
	RunnerEchoesClose: {Name: "runner_echoes_close", Since: "2e22a2e61",
		Doc: "the adapter's _handleClose runs the close callback, so the runner answers the gateway's ToClientWebSocketClose with a ToServerWebSocketClose of the same code and reason, hibernate false (WSA@2e22a2e61:236; f5d14e116's title says it removed the echo, the code still sends it, WSA@553683bfd:232)"},
	RunnerRestoresHibernating: {Name: "runner_restores_hibernating", Since: "2e22a2e61",
		Doc: "when an actor starts, the runner restores the hibernating requests CommandStartActor lists (the gateway's hibernating_request rows younger than 90 s): a socket whose metadata the actor persisted gets an open adapter without an open event, any other is closed 1000 ws.meta_not_found_during_restore (RUN@2e22a2e61:918-975, TUN@2e22a2e61:100-160); before, the runner restores nothing"},
	RunnerValidatesWSIndex: {Name: "runner_validates_ws_index", Since: "2e22a2e61",
		Doc: "the adapter of a hibernatable socket drops a message whose index is not above the last one it saw, and closes the socket 1008 ws.message_index_skip on a gap (WSA@2e22a2e61:147-183)"},
	TunnelAcks: {Name: "tunnel_acks", Until: "a89ca2b17",
		Doc: "every tunnel message is acked with TunnelAck by its receiver (GSS:240-253, TUN:247-278); a89ca2b17 removes TunnelAck: nothing acks, the gateway still records every send as pending until 6b7ebbb0d and the TS runner still does until its GC goes at 6b7ebbb0d"},
	PBRTunnelActiveRequests: {Name: "pbr_tunnel_active_requests", Until: "a89ca2b17",
		Doc: "pegboard-runner forwards a runner's tunnel message only for a request the gateway opened on that connection, and aborts the connection's HTTP requests when it ends (P2C:41-86, C2P:344-398, PBR:150-166); a89ca2b17 deletes tunnel_active_requests: runner messages go to the gateway their id names, and nothing is sent when a connection ends (PBR@a89ca2b17)"},
	RunnerCannotEncodeTunnel: {Name: "runner_cannot_encode_tunnel", Since: "a89ca2b17", Until: "6b7ebbb0d",
		Doc: "the TS runner builds ToServerTunnelMessage without the gatewayId the regenerated encoder asserts, so every tunnel send throws (TUN@a89ca2b17:430-437, runner-protocol index.ts@a89ca2b17:927-929)"},
	RunnerTunnelGC: {Name: "runner_tunnel_gc", Until: "6b7ebbb0d",
		Doc: "the TS runner's GC (60 s ticks, 5 s ack deadline) closes a socket with a message left un-acked (TUN:131-184); 6b7ebbb0d deletes it with pendingTunnelMessages"},
	TunnelMessageIDSizeMismatch: {Name: "tunnel_message_id_size_mismatch", Since: "6b7ebbb0d", Until: "c76f319fe",
		Doc: "build_message_id writes 10 bytes and then requires 12 (pegboard/src/tunnel/id.rs@6b7ebbb0d:9,29,36), so every gateway send fails: HTTP 500 core.internal_error, a WebSocket 1011 core.internal_error; c76f319fe makes ids 10 bytes"},
	GuardRequestIDPerAttempt: {Name: "guard_request_id_per_attempt", Until: "6b7ebbb0d",
		Doc: "every HTTP attempt gets a fresh request id (GW:102); from 6b7ebbb0d Guard acquires one id per client request, shared by its attempts (PS@6b7ebbb0d:667-694, 1102, 1137)"},
	RunnerSendsForUnmappedRequests: {Name: "runner_sends_for_unmapped_requests", Until: "6b7ebbb0d",
		Doc: "the runner sends a tunnel message for any request id; from 6b7ebbb0d #sendMessage drops a message for a request with no requestToActor entry, so the unknown-actor WebSocket close is never sent (TUN@6b7ebbb0d, TUN@553683bfd:478-486)"},
	GatewayWSIndexSeparate: {Name: "gateway_ws_index_separate", Until: "6b7ebbb0d",
		Doc: "a hibernatable socket's messages carry their own index, counted from 1 (GSS:155-170); from 6b7ebbb0d the index is the tunnel message index, one counter per request for every gateway send, the open taking 0 (GSS@6b7ebbb0d:146-150)"},
	GatewayMessageIndexResetOnReuse: {Name: "gateway_message_index_reset_on_reuse", Since: "6b7ebbb0d", Until: "b3313f9f0",
		Doc: "reusing an in-flight entry (a retry, a reconnect after hibernation) resets its message index to 0 (GSS@6b7ebbb0d:121); b3313f9f0 keeps it, so indices continue"},
	GatewayWSPing: {Name: "gateway_ws_ping", Since: "c76f319fe",
		Doc: "every 3 s an open socket's gateway pings the runner through pegboard-runner, which answers for it; a ping more than 30 s after the last pong (set when the entry was created, not on reuse) ends the attempt with websocket_service_timeout (GW@c76f319fe:41, 416, ping_task.rs, GSS@c76f319fe:19, 119, 221-224)"},
	RunnerRemovesActorBeforeOnStop: {Name: "runner_removes_actor_before_on_stop", Until: "b3313f9f0",
		Doc: "forceStopActor removes the actor before awaiting onActorStop, so a request arriving meanwhile finds no actor (RUN:162-174); from b3313f9f0 it is removed after onActorStop, just before stopped (RUN@b3313f9f0:290-314)"},
	RunnerDispatchesBeforeStart: {Name: "runner_dispatches_before_start", Until: "b3313f9f0",
		Doc: "tunnel requests reach an actor as soon as it is inserted, while onActorStart runs; from b3313f9f0 they wait for onActorStart to finish (TUN@b3313f9f0:447-455, RUN@b3313f9f0:354, 986, 994)"},
	GatewayGCCollectsClosedHibernatable: {Name: "gateway_gc_collects_closed_hibernatable", Until: "553683bfd",
		Doc: "the GC collects an entry whose handler returned (GatewayClosed; from 5111b8e76 only with an empty buffer) whether or not it can hibernate, so a socket hibernating across a tick loses its entry and its message index; from 553683bfd a hibernatable entry is collected only for a buffered message older than 30 s or no keepalive for 90 s (refreshed every 45 s while connected or hibernating), and a reconnect after hibernation that finds no entry fails (GSS@553683bfd:500-521, GW@553683bfd:311-314, 425)"},
	GatewayHibernationReadyRace: {Name: "gateway_hibernation_ready_race", Until: "553683bfd",
		Doc: "a hibernation subscribes to Ready and waits, so an actor that became ready just before leaves the socket waiting for client data; from 553683bfd it reads the actor after subscribing and reconnects at once if it has a runner (GW@553683bfd:649-657)"},
	RunnerGCClosesWithRetry: {Name: "runner_gc_closes_with_retry", Until: "f5d14e116",
		Doc: "the TS runner's GC closes a socket with an un-acked message with retry (hibernate from 2e22a2e61), 1000 \"Message acknowledgment timeout\", which the gateway takes as a hibernation for a hibernatable socket (TUN:162-170); f5d14e116 closes it plainly, 1000 ws.ack_timeout, hibernate false (TUN@f5d14e116:513-516)"},
	GatewayRowAfterPendingCheck: {Name: "gateway_row_after_pending_check", Until: "6339e242d",
		Doc: "a hibernation writes its hibernating_request row from the keepalive's first tick, which starts after the check for buffered messages, so a socket that reconnects at once for its buffer gets no row (GW@3891bf8b6:614-650); 6339e242d writes the row first (GW@6339e242d:542-550)"},
	GatewayKeepaliveOnlyWhileHibernating: {Name: "gateway_keepalive_only_while_hibernating", Until: "9f2bc6e19",
		Doc: "the hibernating_request row is refreshed only while the socket hibernates; from 9f2bc6e19 a keepalive task also refreshes it every 45 s (first tick skipped) while a hibernatable socket is connected (GW@9f2bc6e19:481-505, keepalive_task.rs), and from 553683bfd it refreshes the entry's last_ping too"},
	RunnerGlobalPendingMessages: {Name: "runner_global_pending_messages", Until: "2e22a2e61",
		Doc: "the TS runner keeps one map of pending tunnel messages for all actors (TUN:34); from 2e22a2e61 each actor instance has its own (RunnerActor.pendingTunnelMessages), a message is recorded only if its request's actor is loaded, and a stopped instance's messages go with it (TUN@2e22a2e61, actor.ts)"},
	GatewayKeepaliveSkipsFirstTick: {Name: "gateway_keepalive_skips_first_tick", Until: "dbcce0a47",
		Doc: "the keepalive task skips its immediate first tick, so its first write of the hibernating_request row and lastPing comes 45 s after it starts, and a hibernation writes the row itself before the check for buffered messages (keepalive_task.rs@553683bfd:33-35, GW@553683bfd:581-589); dbcce0a47 writes at once on every start of the task (a hibernatable socket's open, each attempt after hibernation, a hibernation that waits) and drops the hibernation's own write (keepalive_task.rs@dbcce0a47:33-39, GW@dbcce0a47:580-601)"},
	RunnerDropsSendsWhileDisconnected: {Name: "runner_drops_sends_while_disconnected", Until: "2a24121ce",
		Doc: "#sendMessage drops a tunnel message while the engine socket is not ready (TUN@553683bfd:463-470); 2a24121ce buffers it before any other check and resends the buffer, through #sendMessage again (the request's mapping and a loaded actor checked then), after the next ToClientInit's events (TUN@2a24121ce:79-95, 486-495, RUN@2a24121ce:834-836)"},
	GatewayWSOpenTimeout5s: {Name: "gateway_ws_open_timeout_5s", Since: "2e22a2e61", Until: "0169801a0",
		Doc: "the gateway waits 5 s for a WebSocket's open (TUNNEL_ACK_TIMEOUT, GW@2e22a2e61:38, 371); 0169801a0 waits 15 s, as for an HTTP response (WEBSOCKET_OPEN_TIMEOUT, GW@0169801a0:35, 376)"},
	RunnerShutdownClosesWithRetry: {Name: "runner_shutdown_closes_with_retry", Until: "2e22a2e61",
		Doc: "the tunnel's shutdown (on ToClientClose) closes every WebSocket with retry (TUN:46-63); from 2e22a2e61 it closes only the sockets that cannot hibernate, locally with 1000 ws.tunnel_shutdown and nothing sent, and clears requestToActor (TUN@2e22a2e61:80-102, TUN@553683bfd:73-102)"},
	RunnerGlobalEventHistory: {Name: "runner_global_event_history", Until: "5fcb724b0",
		Doc: "the runner numbers its events in one history, resends those after ToClientInit's lastEventIdx, and the runner workflow drops an event whose index it has seen (RUN@553683bfd:825-840, RWF@553683bfd:82-115); from 5fcb724b0 (protocol mk2) each actor instance numbers its own events from the start and keeps its own history, which goes with it, the whole of every loaded actor's history is resent on every init, and the actor workflow drops duplicates (ACT@5fcb724b0:30-32, 202-208, RUN@5fcb724b0:957-976, 1707-1726, AWF@5fcb724b0:459-472)"},
	EngineResendsCommandsAfterLastIndex: {Name: "engine_resends_commands_after_last_index", Until: "5fcb724b0",
		Doc: "the runner's init names the last command it processed and the engine resends only the later ones, and the runner drops a command whose index it has seen (RUN@553683bfd:744, RWF@553683bfd:82-115); from 5fcb724b0 pegboard-runner sends every stored command of the runner after ToClientInit, each actor's indexed on its own, and deletes only what the runner acks; the runner acks the last command of each loaded actor every 5 min from its socket's open, and does not dedupe: a replayed CommandStartActor replaces the loaded instance without onActorStop (CONN@5fcb724b0:319-385, RUN@5fcb724b0:741-754, 910-930, 998-1017, 1170-1193, W2T@5fcb724b0:749-781)"},
	RunnerKeepsActorsOnNewRunnerID: {Name: "runner_keeps_actors_on_new_runner_id", Until: "5fcb724b0",
		Doc: "an init with a new runner id (a new runner workflow) only clears the runner's event history (RUN@553683bfd:825); from 5fcb724b0 the runner stops all its actors (RUN@5fcb724b0:778-782)"},
	RunnerNeverReportsStopped: {Name: "runner_never_reports_stopped", Since: "5fcb724b0", Until: "bb46e0a16",
		Doc: "forceStopActor removes the actor and then sends stopped, which #sendActorStateUpdate drops for an actor it cannot find, so no stopped is ever sent and the workflow loses the actor after its stop threshold (RUN@5fcb724b0:297-302, 1121-1127); bb46e0a16 sends stopped first (RUN@bb46e0a16:316, 320)"},
	RunnerAcksStopCommands: {Name: "runner_acks_stop_commands", Since: "5fcb724b0", Until: "bb46e0a16",
		Doc: "the runner's last command index of an actor moves on any command whose actor and generation it still hosts after dispatch, a stop too (RUN@5fcb724b0:927-928); from bb46e0a16 only on CommandStartActor, so a stop is never acked"},
	WFEventIndexPerRunner: {Name: "wf_event_index_per_runner", Since: "5fcb724b0", Until: "640d27e36",
		Doc: "the actor workflow keeps its last event and command index per (actor, runner id) across generations (ART@5fcb724b0:25-38, AWF@5fcb724b0:66, 107-118, 459-472), while each runner instance numbers from the start: a new generation on a runner the actor used before has its events, running first, dropped as duplicates; 640d27e36 keys events and commands by generation and resets the indices at deallocation (AWF@640d27e36:460-468, 819, ART@640d27e36:562)"},
	GuardPeerDCStrippedPath: {Name: "guard_peer_dc_stripped_path", Until: "16a3f243b",
		Doc: "a path-routed request (/gateway/{id}@dc/...) to another datacenter's actor targets the peer's guard with the path stripped of its /gateway/{id} prefix (RMOD@553683bfd:65, 222-238, PGR@553683bfd:135), so the peer cannot route it; 16a3f243b sends the original path (PGR@16a3f243b:149). Header routing always passed the whole path. The port's peer guard picks the actor from the request whatever the path, so this shows only in the trace"},
	RunnerDoubleReconnectTimers: {Name: "runner_double_reconnect_timers", Until: "eb9149843",
		Doc: "the runner's error and close listeners both schedule a reconnect, and the second overwrites the first's timer handle without clearing it, so a refused dial fires two reconnects (errata E15, RUN@553683bfd:1692-1711); eb9149843 clears the previous timer in #scheduleReconnect (RUN@eb9149843:1797-1802), and a new socket closes a connecting or open predecessor with 1000 duplicate_websocket (RUN@eb9149843:719-729)"},
	GuardWSRetry3x100ms: {Name: "guard_ws_retry_3x100ms", Until: "240f318a1",
		Doc: "a CustomServe route (every local actor) has no actor id, so its WebSocket retries take the defaults, 3 attempts at 100 ms (PS@553683bfd:1266-1285); 240f318a1 gives WebSockets the middleware's 7 attempts at 150 ms (PS@240f318a1:1226-1238)"},
	GuardHTTPRetry3x100ms: {Name: "guard_http_retry_3x100ms", Until: "8ce69e139",
		Doc: "a CustomServe route's HTTP retries take the defaults, 3 attempts at 100 ms (PS@553683bfd:891-908); 8ce69e139 takes the middleware's config for every route, 7 attempts at 150 ms (PS@8ce69e139:801, 1009-1057, middleware.rs@8ce69e139:12-37)"},
	GuardActorNotFound400: {Name: "guard_actor_not_found_400", Since: "2e22a2e61", Until: "8ce69e139",
		Doc: "actor.not_found has no arm in err_into_response, so it is a 400 (PGR@2e22a2e61:161, 165); 8ce69e139 maps it to 404 (PS@8ce69e139:2336); a WebSocket still closes 1011 actor.not_found#ray"},
	WFRestartPendsForever: {Name: "wf_restart_pends_forever", Until: "e08d064ea",
		Doc: "a crashed restart-policy actor is rescheduled with no allocation override, so it waits in the pending queue until a runner has room, however long (AWF@553683bfd:673-686); from e08d064ea it pends at most 60 s (RESTART_PENDING_TIMEOUT_MS, AWF@e08d064ea:18, 1058-1069), then the allocation gives up with Sleep"},
	WFRestartPendingSleepIgnored: {Name: "wf_restart_pending_sleep_ignored", Since: "e08d064ea", Until: "4943580fd",
		Doc: "the Sleep a restart's pending timeout returns is ignored (AWF@e08d064ea:1066): the actor is left neither allocated, nor pending, nor sleeping, so Guard never wakes it and the workflow ignores Wake; 4943580fd marks it sleeping and writes SleepTsKey (AWF@4943580fd:1156-1166)"},
	GuardCachesPeerRoutes: {Name: "guard_caches_peer_routes", Until: "c078579f5",
		Doc: "a Route output (a peer datacenter's actor) is cached for 10 min under hash(host, path, method), or the actor header's id (PS@553683bfd:415, 448-458); c078579f5 comments the insert out, so nothing is cached (PS@c078579f5:129-134, route.rs@cb33baec8:65-72)"},
	GatewayPongNotResetOnReuse: {Name: "gateway_pong_not_reset_on_reuse", Until: "b9334b316",
		Doc: "an in-flight entry's last_pong is set when the entry is created only (GSS@553683bfd:124); b9334b316 resets it when an entry is reused, by a retry or a reconnect after hibernation (GSS@b9334b316:156)"},
	GatewayResponseTimeout15s: {Name: "gateway_response_timeout_15s", Since: "2e22a2e61", Until: "ba328f490",
		Doc: "the gateway waits 15 s for an HTTP response start (GW@2e22a2e61:37, 234, GW@0169801a0:36); ba328f490 waits 5 min (gateway_response_start_timeout_ms, PCFG@ba328f490:253-256)"},
	RunnerStopCodeAlwaysOk: {Name: "runner_stop_code_always_ok", Until: "d319a6210",
		Doc: "the runner reports every stop with StopCode Ok (RUN@553683bfd:1161, errata E12), so a stop the actor did not ask for completes and destroys it, and resets the reschedule backoff; from d319a6210 a stop is Ok only after destroyActor or while the runner drains (neither is modelled), else Error: the workflow records a crash, applies the crash policy (restart, sleep, destroy) and keeps the backoff count (RUN@d319a6210:317-323, 1256-1258, AWF@d319a6210:960-982, 1134-1192)"},
	GuardRewakes16: {Name: "guard_rewakes_16", Until: "e07f72618",
		Doc: "routing rewakes an actor that stops while it waits for Ready up to 16 times before it gives up (PGR@553683bfd:197); e07f72618 allows 8 (pegboard_gateway.rs@e07f72618:393)"},
	GuardCloseLinger100ms: {Name: "guard_close_linger_100ms", Until: "1761e6f0f",
		Doc: "Guard lingers 100 ms after sending a WebSocket close (PS@553683bfd:50); 1761e6f0f lingers 5 ms (PS@1761e6f0f:45)"},
	GatewayRetriesWSOnActorStop: {Name: "gateway_retries_ws_on_actor_stop", Since: "3891bf8b6", Until: "1e2d08bff",
		Doc: "an open socket that cannot hibernate ends with websocket_service_unavailable when its actor stops, and Guard reopens it at the actor's new place (T2W@553683bfd:67-75); from 1e2d08bff it ends with a server close, 1000 actor.stopped, for the client, the runner gets a 1000 close, and nothing is retried (T2W@1e2d08bff:80-92, GW@1e2d08bff:543-581)"},
	WFActorStopThreshold30s: {Name: "wf_actor_stop_threshold_30s", Until: "4bec25189",
		Doc: "an actor told to sleep or stop that does not report stopped is lost after actor_stop_threshold, 30 s (PCFG@553683bfd, AWF:327, 357); 4bec25189 makes it 30 min (PCFG@4bec25189:175-177)"},
	GuardRetriesAnyXRivetError: {Name: "guard_retries_any_x_rivet_error", Until: "82f5c9d06",
		Doc: "Guard retries an HTTP response that is 503 with any x-rivet-error, and an error only if it is guard.service_unavailable, which the gateway raises for every failed attempt (PS@553683bfd:2610-2626, GW@553683bfd:136-160); from 82f5c9d06 a response is retried only if it is 503 or 504 and its x-rivet-error is guard.<retryable>, an error only if it is guard.<retryable> (service_unavailable, actor_ready_timeout, actor_stopped_while_waiting, tunnel_request_aborted, tunnel_message_timeout, tunnel_response_closed, gateway_response_start_timeout), and the gateway raises one per cause: an abort tunnel_request_aborted (503), a closed channel tunnel_response_closed (503), the actor's Stopped actor_stopped_while_waiting (503), the GC tunnel_message_timeout (504), the wait gateway_response_start_timeout (504) (utils.rs@82f5c9d06:221-256, GW@82f5c9d06:161-211); a runner's 503 with x-rivet-error runner.actor_not_found is no longer retried"},
	GuardWSPreopenRetry: {Name: "guard_ws_preopen_retry", Until: "0fe4f08fe",
		Doc: "every WebSocket failure before the open is websocket_service_unavailable, which Guard retries, and after the open the GC's kill and the ping timeout are websocket_service_timeout (GW@553683bfd:309-353); from 0fe4f08fe each pre-open cause has its own code, none of which Guard's is_retryable_ws_error matches (it still names only websocket_service_unavailable, which nothing raises), so the first pre-open failure closes the client 1011 guard.<code>#ray: a runner close websocket_closed_before_open, the actor's Stopped actor_stopped_while_waiting_for_websocket_open, the GC websocket_open_dropped, a closed channel websocket_open_response_closed, the 15 s wait websocket_open_timeout; after the open the GC's kill is websocket_garbage_collected and the ping timeout websocket_tunnel_ping_timeout (GW@0fe4f08fe:322-396, utils.rs@0fe4f08fe:258-265, T2W@cb33baec8:93-100, GSS@cb33baec8:328-337)"},
	GuardRoutingLimits15s: {Name: "guard_routing_limits_15s", Until: "0fe4f08fe",
		Doc: "a routing call is capped at 15 s, the wait for Ready lasts 10 s per pass, get_for_gateway has only its own 5 s operation timeout (500 core.internal_error), the Wake has none, and running out of rewakes is 503 service_unavailable (PS@553683bfd:406-426, PGR@553683bfd:11, 197); from 0fe4f08fe the cap is 60 s (504 request_timeout) with a 55 s dispatch cap (400 route_dispatch_timeout), the ready wait 30 s, get_for_gateway and each Wake get a 5 s phase timeout (400 pegboard.route_fetch_actor_timeout, pegboard.route_wake_signal_timeout; the phase timer starts first and wins a tie with the operation's), and running out of rewakes is 400 actor_wake_retries_exceeded (GCFG@0fe4f08fe:76-125, pegboard_gateway/mod.rs@cb33baec8:297-357, 656-681, 705-753, 784-786)"},
	GuardHeaderRouteAnyPath: {Name: "guard_header_route_any_path", Until: "4bb92916c",
		Doc: "a request with x-rivet-target: actor is routed to the actor whatever its path (PGR@553683bfd:48-98); from 4bb92916c an HTTP request (not a WebSocket upgrade) is, only on /request, /request/... or /request?... (the path passed on whole); any other path falls through to 404 guard.no_route (pegboard_gateway.rs@4bb92916c:141-143, 234-240). The harness's clients then use /request paths"},
	PBRNoRunnerPingTimeout: {Name: "pbr_no_runner_ping_timeout", Until: "36c3771fd",
		Doc: "pegboard-runner never closes a runner connection that stops answering; from 36c3771fd its ping task pings the runner every 3 s and ends the connection at the first tick more than 15 s after the last pong (runner_ping_timeout_ms), so the runner sees an error close (1011 core.internal_error#ray) and reconnects (ping_task.rs@36c3771fd:36-44, ws_to_tunnel_task.rs@36c3771fd:170-171). The port models the pings from this commit only: before, they change nothing"},
	PBRRejectsUnroutedTunnelMessages: {Name: "pbr_rejects_unrouted_tunnel_messages", Since: "5dba5ded9", Until: "c074c72b5",
		Doc: "pegboard-runner keeps, per runner connection, the (gateway, request) pairs a gateway message it forwarded on that connection opened (conn.rs@5dba5ded9:33, 193, tunnel_to_ws_task.rs@5dba5ded9:160-166, 257-260); a runner tunnel message for any other pair ends the whole connection with ws.invalid_packet, the runner seeing 1011 ws.invalid_packet#ray, and the message is lost (ws_to_tunnel_task.rs@5dba5ded9:873-878, 930-935); c074c72b5 comments the check out (ws_to_tunnel_task.rs@c074c72b5:874-878, 935-939)"},
	PBRClearsTerminalTunnelRoutes: {Name: "pbr_clears_terminal_tunnel_routes", Since: "7c84b2bd6", Until: "c074c72b5",
		Doc: "the authorized pair is dropped after the runner's terminal message for it: a non-streamed ResponseStart, an Abort, any WebSocketClose (ws_to_tunnel_task.rs@7c84b2bd6:902-904, 957-985), so anything the runner sends on it after that ends the connection too"},
	RunnerDuplicateOpenOrphans: {Name: "runner_duplicate_open_orphans", Until: "3d4e089d6",
		Doc: "a second ToClientWebSocketOpen with the same request id overwrites the adapter and orphans the old one, still open (TUN@f3105c779:549, spec (i).20); 3d4e089d6 first closes the old adapter locally with 1000 \"ws.duplicate_open\", sending nothing (TUN@3d4e089d6:583-592)"},
}

// Name is the quirk's name in scenario files.
func (q Quirk) Name() string { return quirkInfos[q].Name }

// Doc says what the quirk does, with upstream lines.
func (q Quirk) Doc() string { return quirkInfos[q].Doc }

// Range is the commits that introduced and removed the quirk ("" as above).
func (q Quirk) Range() (since, until string) { return quirkInfos[q].Since, quirkInfos[q].Until }

// Note is where upstream changed the quirk after the timeline, if anywhere.
func (q Quirk) Note() string { return quirkInfos[q].Note }

// AllQuirks lists every quirk in registry order.
func AllQuirks() []Quirk {
	qs := make([]Quirk, numQuirks)
	for i := range qs {
		qs[i] = Quirk(i)
	}
	return qs
}

// QuirkByName finds a quirk by its scenario-file name.
func QuirkByName(name string) (Quirk, error) {
	for _, q := range AllQuirks() {
		if q.Name() == strings.ToLower(name) {
			return q, nil
		}
	}
	return 0, fmt.Errorf("unknown quirk %q (want one of %s)", name, strings.Join(QuirkNames(), ", "))
}

// QuirkNames lists the quirks' names in registry order.
func QuirkNames() []string {
	var names []string
	for _, q := range AllQuirks() {
		names = append(names, q.Name())
	}
	return names
}

// Quirks is a set of quirks: a bit per quirk, comparable with ==.
type Quirks [quirkWords]uint64

// quirkWords is how many 64-bit words hold every quirk.
const quirkWords = (int(numQuirks) + 63) / 64

// Has reports whether q is in the set.
func (s Quirks) Has(q Quirk) bool { return s[q/64]&(1<<(q%64)) != 0 }

// With returns the set with q switched on or off.
func (s Quirks) With(q Quirk, on bool) Quirks {
	if on {
		s[q/64] |= 1 << (q % 64)
	} else {
		s[q/64] &^= 1 << (q % 64)
	}
	return s
}

// Profile is the upstream code at one commit: the quirks live there. A
// profile whose quirks were switched by hand is a mixture, never an
// upstream state; it says so in its name.
type Profile struct {
	Commit Commit
	Quirks Quirks
}

// Name is the commit's alias or hash, followed by the switched quirks for
// a mixture ("seed+quirk=-gateway_fresh_ack_id").
func (p Profile) Name() string {
	if args := strings.TrimSpace(p.QuirkArgs()); args != "" {
		return p.Commit.Name() + "+" + strings.ReplaceAll(args, " ", "+")
	}
	return p.Commit.Name()
}

// Mixed reports whether the profile's quirks differ from its commit's.
func (p Profile) Mixed() bool { return p.Quirks != baseQuirks(p.Commit.Hash) }

// QuirkArgs renders the quirks where p differs from its commit, as
// world-line arguments (" quirk=name quirk=-name"), or "".
func (p Profile) QuirkArgs() string {
	base := baseQuirks(p.Commit.Hash)
	if p.Quirks == base {
		return ""
	}
	var b strings.Builder
	for _, q := range AllQuirks() {
		switch {
		case p.Quirks.Has(q) && !base.Has(q):
			b.WriteString(" quirk=" + q.Name())
		case !p.Quirks.Has(q) && base.Has(q):
			b.WriteString(" quirk=-" + q.Name())
		}
	}
	return b.String()
}

// Has reports whether the quirk is live in the profile.
func (p Profile) Has(q Quirk) bool { return p.Quirks.Has(q) }

// Set switches one quirk by name, making the profile a mixture.
func (p *Profile) Set(name string, on bool) error {
	q, err := QuirkByName(name)
	if err != nil {
		return err
	}
	p.Quirks = p.Quirks.With(q, on)
	return nil
}

// Index is the profile's commit's position in the timeline.
func (p Profile) Index() int { return commitIndex(p.Commit.Hash) }

func commitIndex(hash string) int {
	for i, c := range Timeline {
		if c.Hash == hash {
			return i
		}
	}
	return -1
}

// quirksAt is the set of quirks live at the commit.
func quirksAt(hash string) Quirks {
	at := commitIndex(hash)
	var s Quirks
	for _, q := range AllQuirks() {
		since, until := q.Range()
		if (since == "" || commitIndex(since) <= at) && (until == "" || at < commitIndex(until)) {
			s = s.With(q, true)
		}
	}
	return s
}

// Profiles lists the profile of every commit of the timeline, oldest first.
func Profiles() []Profile { return slices.Clone(timelineProfiles) }

// timelineProfiles is computed once: every scenario script names its
// profile, and deriving the quirk sets walks the whole timeline per quirk.
var timelineProfiles = func() []Profile {
	ps := make([]Profile, len(Timeline))
	for i, c := range Timeline {
		ps[i] = Profile{Commit: c, Quirks: quirksAt(c.Hash)}
	}
	return ps
}()

// baseQuirks is quirksAt, read from timelineProfiles for a commit of the
// timeline (every profile a scenario names).
func baseQuirks(hash string) Quirks {
	if i := commitIndex(hash); i >= 0 && i < len(timelineProfiles) && timelineProfiles[i].Commit.Hash == hash {
		return timelineProfiles[i].Quirks
	}
	return quirksAt(hash)
}

// Newest is the profile of the timeline's last commit: the one the gate runs.
func Newest() Profile { return Profiles()[len(Timeline)-1] }

// The profiles with aliases.
var (
	// Parent is 716db379f, the parent of the fix: 404 for an unknown actor.
	Parent = mustProfile("parent")
	// Seed is f3105c779, the fix (#3322).
	Seed = mustProfile("seed")
)

func mustProfile(name string) Profile {
	p, err := ProfileByName(name)
	if err != nil {
		panic(err)
	}
	return p
}

// ProfileByName returns the profile of a commit, named by alias, by its
// abbreviated hash or any prefix of at least 7 hex digits of it.
func ProfileByName(name string) (Profile, error) {
	name = strings.TrimSpace(name)
	for _, p := range timelineProfiles {
		c := p.Commit
		if (name != "" && name == c.Alias) || (len(name) >= 7 && (strings.HasPrefix(c.Hash, name) || strings.HasPrefix(name, c.Hash))) {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want a commit of the timeline or an alias: %s; see guardsim -h)", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames lists the profiles' names, oldest first.
func ProfileNames() []string {
	var names []string
	for _, c := range Timeline {
		names = append(names, c.Name())
	}
	return names
}

// ParseProfiles parses a comma-separated list of commits or aliases, or
// "all" for the whole timeline, and returns them in timeline order.
func ParseProfiles(list string) ([]Profile, error) {
	if strings.TrimSpace(list) == "all" {
		return Profiles(), nil
	}
	seen := map[int]bool{}
	for _, name := range strings.Split(list, ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		p, err := ProfileByName(name)
		if err != nil {
			return nil, err
		}
		seen[p.Index()] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no profile named in %q", list)
	}
	var ps []Profile
	for i, p := range Profiles() {
		if seen[i] {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// TimelineText renders the timeline for -h and the README: one line per
// profile with its commit, date, PR and title, and the quirks it changes.
func TimelineText() string {
	var b strings.Builder
	var prev Quirks
	for i, p := range Profiles() {
		c := p.Commit
		alias := ""
		if c.Alias != "" {
			alias = " (" + c.Alias + ")"
		}
		pr := "  —  "
		if c.PR > 0 {
			pr = fmt.Sprintf("#%d", c.PR)
		}
		fmt.Fprintf(&b, "  %s%-9s %s %s %s\n", c.Hash, alias, c.Date, pr, c.Title)
		if i == 0 {
			prev = p.Quirks
			continue
		}
		for _, q := range AllQuirks() {
			switch {
			case p.Has(q) && !prev.Has(q):
				fmt.Fprintf(&b, "      + %s\n", q.Name())
			case !p.Has(q) && prev.Has(q):
				fmt.Fprintf(&b, "      - %s\n", q.Name())
			}
		}
		prev = p.Quirks
	}
	for _, q := range AllQuirks() {
		if n := q.Note(); n != "" && prev.Has(q) {
			fmt.Fprintf(&b, "  still live at the last profile: %s (%s)\n", q.Name(), n)
		}
	}
	return b.String()
}
