package guard

import (
	"strconv"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Constants of Guard (PS, PGR) with their upstream references.
const (
	// RouteCacheTTL is the route cache's time to live (PS:44).
	RouteCacheTTL = 10 * sim.Minute
	// WebSocketCloseLinger is the wait after sending a close (PS:46).
	WebSocketCloseLinger = 100 * sim.Millisecond
	// RoutingTimeout caps a whole routing call (PS:406, 416-426), through
	// guard_routing_limits_15s; RoutingTimeout60s from 0fe4f08fe
	// (GCFG@0fe4f08fe:76), with RouteDispatchTimeout (GCFG@0fe4f08fe:80) and
	// the 5 s fetch and wake phase timeouts (GCFG@0fe4f08fe:101, 111).
	RoutingTimeout       = 15 * sim.Second
	RoutingTimeout60s    = 60 * sim.Second
	RouteDispatchTimeout = 55 * sim.Second
	WakeSignalTimeout    = 5 * sim.Second
	// ActorReadyTimeout30s is the ready wait from 0fe4f08fe (GCFG@0fe4f08fe:125).
	ActorReadyTimeout30s = 30 * sim.Second
	// DefaultMaxAttempts and DefaultInitialInterval are the retry defaults
	// used for every CustomServe route, i.e. every local actor (PS:498-516,
	// 822-837).
	DefaultMaxAttempts     = 3
	DefaultInitialInterval = 100 * sim.Millisecond
	// DefaultRequestTimeout is the Target path's request timeout (PS:498-516).
	DefaultRequestTimeout = 30 * sim.Second
	// MiddlewareMaxAttempts and MiddlewareInitialInterval are Guard's
	// production middleware for Target routes with an actor id (GMW:33-34).
	MiddlewareMaxAttempts     = 7
	MiddlewareInitialInterval = 150 * sim.Millisecond
	// ActorReadyTimeout is the wait for Ready, restarted on every pass of
	// the wait loop (PGR:11, 227-229).
	ActorReadyTimeout = 10 * sim.Second
	// MaxRewakes bounds rewakes while waiting for ready (PGR:192, 213-216),
	// through guard_rewakes_16; MaxRewakes8 from e07f72618
	// (pegboard_gateway.rs@e07f72618:393).
	MaxRewakes  = 16
	MaxRewakes8 = 8
	// WebSocketCloseLinger5ms is the linger from 1761e6f0f (PS@1761e6f0f:45).
	WebSocketCloseLinger5ms = 5 * sim.Millisecond
	// LocalDC is the datacenter label of this guard; actors labelled with
	// another DC ("a1@dc2") are routed to that DC's guard (PGR:116-140).
	LocalDC = "dc1"
)

// retryConfig is the retry config a local actor's requests get at the
// profile: the defaults (3 attempts at 100 ms) until 240f318a1 for
// WebSockets and 8ce69e139 for HTTP, then the middleware's 7 at 150 ms.
func (g *Guard) retryConfig(ws bool) (maxAttempts int, initial sim.Time) {
	if (ws && g.quirks.Has(model.GuardWSRetry3x100ms)) || (!ws && g.quirks.Has(model.GuardHTTPRetry3x100ms)) {
		return DefaultMaxAttempts, DefaultInitialInterval
	}
	return MiddlewareMaxAttempts, MiddlewareInitialInterval
}

// maxRewakes and closeLinger are MaxRewakes and WebSocketCloseLinger at
// the profile.
func (g *Guard) maxRewakes() int {
	if g.quirks.Has(model.GuardRewakes16) {
		return MaxRewakes
	}
	return MaxRewakes8
}

func (g *Guard) closeLinger() sim.Time {
	if g.quirks.Has(model.GuardCloseLinger100ms) {
		return WebSocketCloseLinger
	}
	return WebSocketCloseLinger5ms
}

// backoff is initial·2^(attempt-1), no jitter, no cap (PS:673-675).
func backoff(initial sim.Time, attempt int) sim.Time { return initial << (attempt - 1) }

// Request is a client's HTTP request (or WebSocket upgrade) to Guard.
type Request struct {
	Method  string
	Host    string
	Path    string
	Headers model.Headers
	Body    string
}

// Response is what a client receives.
type Response struct {
	Status  int
	Headers model.Headers
	Body    string
}

// TraceTo renders a response as its status, its x-rivet-error and its
// quoted body.
func (r *Response) TraceTo(e *sim.Enc) {
	e.Int(int64(r.Status))
	if v, ok := r.Headers[model.XRivetError]; ok {
		e.Lit(" x-rivet-error=")
		e.Str(v)
	}
	e.Lit(" ")
	e.Quote(r.Body)
}

func (r *Response) String() string { return sim.Render(r) }

// Log is what Guard did for one client request, for tests and the oracle:
// it is filled as the request runs.
type Log struct {
	Ray string
	// RoutingCalls counts calls of the routing function (cache hits excluded).
	RoutingCalls int
	// Attempts is one entry per handler attempt: its runner, tunnel request
	// id, when it started and ended, and whether its result was retryable.
	Attempts []Attempt
	// Backoffs are the sleeps between attempts, in order.
	Backoffs []sim.Time
	// Reconnects counts WebSocket reconnects on websocket_service_retry.
	Reconnects int
	// Done is when the client got its response.
	Done sim.Time
}

// Attempt is one handler call of a retry loop.
type Attempt struct {
	Runner    model.RunnerID
	Target    string // for Target routes: the upstream node
	Request   model.RequestID
	Start     sim.Time
	End       sim.Time
	Retryable bool
	Result    string
	// Opened: a WebSocket attempt received ToServerWebSocketOpen.
	Opened bool
}

// Config sets up a Guard.
type Config struct {
	// Node is the guard's node name (default "guard").
	Node   string
	Quirks model.Quirks
}

// Guard is one Guard process: the proxy service, its routing function and
// route cache, and the pegboard gateway's shared state.
type Guard struct {
	w      *sim.World
	node   string
	quirks model.Quirks
	rng    interface{ IntN(int) int }
	ups    *model.UPSClient
	engine *sim.End
	reads  map[uint64]*routingCall // get_for_gateway reads awaiting the engine, by id
	readID uint64
	// signals are the Wake signals awaiting their commit, by id.
	signals map[uint64]func()
	rays    uint64
	cache   *routeCache
	gw      *sharedState
}

// New starts a Guard: it connects to UPS and the engine and starts the
// gateway's receiver and GC.
func New(w *sim.World, ups *model.UPS, cfg Config) *Guard {
	if cfg.Node == "" {
		cfg.Node = "guard"
	}
	g := &Guard{w: w, node: cfg.Node, quirks: cfg.Quirks, rng: w.Rand(cfg.Node + "/guard"),
		ups: ups.Client(cfg.Node), reads: map[uint64]*routingCall{}, signals: map[uint64]func(){}}
	g.cache = newRouteCache(w)
	g.dialEngine()
	g.gw = newSharedState(g)
	return g
}

// EngineRedialWait is how long Guard waits before redialling the engine
// (its database and workflow signals) after losing the connection. A read
// in flight on the lost connection ends at get_for_gateway's 5 s operation
// timeout; a Wake in flight has no timeout of its own and ends at the 15 s
// routing cap (errata E22).
const EngineRedialWait = 1 * sim.Second

func (g *Guard) dialEngine() {
	c := g.w.Net().Dial(g.node, model.EngineNode)
	g.engine = c
	c.Handle(func(msg any) {
		switch m := msg.(type) {
		case *model.ActorKeys:
			if c := g.reads[m.ID]; c != nil {
				delete(g.reads, m.ID)
				c.keysArrived(m)
			}
		case *model.SignalSent:
			if cb := g.signals[m.ID]; cb != nil {
				delete(g.signals, m.ID)
				cb()
			}
		}
	}, func(why sim.CloseReason) {
		g.trace("guard.engine_lost", sim.Enum("why", why))
		g.w.After(EngineRedialWait, g.dialEngine)
	})
}

// Node is the guard's node name.
func (g *Guard) Node() string { return g.node }

func (g *Guard) trace(event string, fs ...sim.Field) { g.w.Trace(g.node, event, fs...) }

func (g *Guard) newRay() string {
	g.rays++
	return "ray" + strconv.FormatUint(g.rays, 10)
}

// InFlight is the number of entries in the gateway's in-flight map.
func (g *Guard) InFlight() int { return len(g.gw.inFlight) }
