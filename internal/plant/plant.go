// Package plant is guardsim's catalogue of planted bugs: small, realistic
// changes to the port (guard, runner, model), each aimed at one property of
// the oracle, that prove the property can fail. A planted bug is compiled
// in only under the build tag guardsim_plant; in every other build On is a
// constant false and the planted branches are dead code.
//
// `make mutants` runs the exploration once per bug, with that bug switched
// on, and prints which property caught it, after how many scenarios, and
// the shrunk size (properties/mutants_test.go).
package plant

// Bug is one planted bug.
type Bug uint8

// The planted bugs. Each one's target, profile and doc are in Bugs.
const (
	None Bug = iota
	GuardNoRetryRivetError
	GuardRetriesPlain503
	GuardFourAttempts
	GuardBackoffConstant
	GuardRouteTwice
	GatewayShortTimeout
	GatewayDropsBody
	RunnerOmitsRivetError
	RunnerDoubleStop
	GuardNoSubprotocol
	GuardFreshWSRequestID
	GuardWSNoAttemptCap
	GatewayIgnoresCanHibernate
	GatewayNoResend
	GuardCloseWithoutRay
	GatewayDoubleCloseToRunner
	RunnerIgnoresTunnelAck
	EngineLostKeepsActors
	RoutingLeaksSubscription
	EngineDestroyKeepsRunner
	GatewayKeepsEntries
	GuardGiveUpUnavailable
	RoutingNoRewake
	GatewayNoClientCloseToRunner
	GuardErrorCloseNormal
	GatewaySwallowsRunnerClose
	numBugs
)

// Info describes a planted bug: the property it is aimed at, the profile
// the exploration runs (a commit where the bug's path is live) and its
// budget of scenarios.
type Info struct {
	Bug      Bug
	Name     string
	Property string
	Profile  string
	Budget   int
	Doc      string
}

// Bugs is the catalogue, in the order `make mutants` prints it.
var Bugs = []Info{
	{GuardNoRetryRivetError, "guard_no_retry_rivet_error", "outcome", "seed", 2000,
		"should_retry_request_inner ignores x-rivet-error: the runner's 503 runner.actor_not_found is final (PS:2457-2460)"},
	{GuardRetriesPlain503, "guard_retries_plain_503", "exhausted", "seed", 2000,
		"any 503 is retried, with or without x-rivet-error, so an actor's own 503s are counted as failed attempts"},
	{GuardFourAttempts, "guard_four_attempts", "attempts", "seed", 2000,
		"the CustomServe loop allows 4 attempts (off by one on DefaultMaxAttempts, PS:1079)"},
	{GuardBackoffConstant, "guard_backoff_constant", "backoff", "seed", 2000,
		"the backoff does not grow: 100 ms before every retry"},
	{GuardRouteTwice, "guard_route_twice", "routing", "seed", 2000,
		"a retry re-resolves the route twice (a second resolve whose result is dropped)"},
	{GatewayShortTimeout, "gateway_short_timeout", "attempt_end", "seed", 2000,
		"the gateway gives up on a response after 1 s instead of TUNNEL_ACK_TIMEOUT (GW:32)"},
	{GatewayDropsBody, "gateway_drops_body", "outcome", "seed", 2000,
		"the gateway forwards the runner's status and headers but an empty body (GW:164-176)"},
	{RunnerOmitsRivetError, "runner_omits_rivet_error", "retry_reaches_moved_actor", "seed", 2000,
		"the runner answers an unknown actor with 503 but without x-rivet-error, so Guard passes it through (TUN:212-223)"},
	{RunnerDoubleStop, "runner_double_stop", "stop_once", "seed", 2000,
		"onActorStop is called twice for one stop (the bug #3321 fixed in 716db379f's parent)"},
	{GuardNoSubprotocol, "guard_no_subprotocol", "ws_upgrade", "seed", 500,
		"the 101 lacks sec-websocket-protocol: rivet (PS:1982-1995)"},
	{GuardFreshWSRequestID, "guard_fresh_ws_request_id", "ws_one_id", "seed", 2000,
		"every WebSocket attempt draws a fresh request id (PS:1823)"},
	{GuardWSNoAttemptCap, "guard_ws_no_attempt_cap", "ws_preopen", "seed", 2000,
		"the WebSocket loop never checks its attempt cap, so it retries a failing open forever (PS:1868-1890)"},
	{GatewayIgnoresCanHibernate, "gateway_ignores_can_hibernate", "ws_hibernate", "seed", 2000,
		"the gateway passes a runner's retry close through even for a hibernatable socket (GW:306-318)"},
	{GatewayNoResend, "gateway_no_resend", "ws_delivery", "seed", 3000,
		"on a reopen the gateway resends none of the buffered messages (GSS:312-369)"},
	{GuardCloseWithoutRay, "guard_close_without_ray", "ws_close", "seed", 2000,
		"Guard's error close frame lacks the #ray suffix (PS:2119-2187)"},
	{GatewayDoubleCloseToRunner, "gateway_double_close_to_runner", "ws_runner_close", "seed", 2000,
		"the gateway sends its close to the runner twice when an opened attempt ends (GW:443-465)"},
	{RunnerIgnoresTunnelAck, "runner_ignores_tunnel_ack", "ws_quiet", "450d9e5c6", 2000,
		"the runner never clears a pending tunnel message on the gateway's ack, so its GC closes healthy sockets (TUN:247-253)"},
	{EngineLostKeepsActors, "engine_lost_keeps_actors", "liveness", "seed", 2000,
		"a lost runner's actors are never signalled Lost: they stay allocated to a runner that is gone (RWF:323-329)"},
	{RoutingLeaksSubscription, "routing_leaks_subscription", "quiescence", "seed", 2000,
		"a finished routing call keeps its subscription to the actor's messages (PGR:142-154)"},
	{EngineDestroyKeepsRunner, "engine_destroy_keeps_runner", "destroyed", "seed", 3000,
		"the destroy workflow stops after publishing DestroyStarted: DestroyTsKey is never written and the actor is neither deallocated nor stopped (ADS:25-108), so it keeps answering"},
	{GatewayKeepsEntries, "gateway_keeps_entries", "quiescence", "553683bfd", 2000,
		"the gateway GC never removes an entry whose handler returned (GSS@553683bfd:518-549)"},
	{GuardGiveUpUnavailable, "guard_give_up_unavailable", "earned", "553683bfd", 2000,
		"Guard gives up after one attempt that failed with service_unavailable, where a retry would reach the actor on its new runner"},
	{RoutingNoRewake, "routing_no_rewake", "earned", "seed", 5000,
		"routing never re-wakes an actor whose start failed: a Stopped while waiting ends in actor_ready_timeout (PGR:183-231)"},
	{GatewayNoClientCloseToRunner, "gateway_no_client_close_to_runner", "ws_client_close", "seed", 2000,
		"a client's close is never forwarded to the runner: the actor never hears of it (GW:443-465)"},
	{GuardErrorCloseNormal, "guard_error_close_normal", "ws_close", "seed", 2000,
		"Guard closes a client socket after an error with 1000 instead of 1011 (PS:2119-2187)"},
	{GatewaySwallowsRunnerClose, "gateway_swallows_runner_close", "ws_actor_close", "seed", 2000,
		"the gateway drops a runner's close it should pass to the client, so the client's socket stays open to nobody (GW:306-318)"},
}

// Lookup finds a bug by name.
func Lookup(name string) (Info, bool) {
	for _, b := range Bugs {
		if b.Name == name {
			return b, true
		}
	}
	return Info{}, false
}
