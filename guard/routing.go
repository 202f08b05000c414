package guard

import (
	"github.com/guardsim/guardsim/internal/plant"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// routeTarget is a plain HTTP upstream (PS:111-117).
type routeTarget struct {
	Actor model.ActorID
	Host  string
	Path  string
}

// Routing outputs (PS:130-138): Route (cacheable), a canned Response, or a
// CustomServe handler. Here the only CustomServe is the pegboard gateway.
type (
	routeConfig    struct{ Targets []routeTarget }
	staticResponse struct {
		Status  int
		Message string
	}
)

// routeCache is the moka route cache: only Route outputs, 10 min TTL
// (PS:243-268, 438-439). Capacity eviction (TinyLFU) is not modelled.
type routeCache struct {
	w       *sim.World
	entries map[string]cacheEntry
}

type cacheEntry struct {
	cfg     routeConfig
	expires sim.Time
}

func newRouteCache(w *sim.World) *routeCache {
	return &routeCache{w: w, entries: map[string]cacheEntry{}}
}

func (c *routeCache) get(key string) (routeConfig, bool) {
	e, ok := c.entries[key]
	if !ok || c.w.Now() >= e.expires {
		delete(c.entries, key)
		return routeConfig{}, false
	}
	return e.cfg, true
}

func (c *routeCache) insert(key string, cfg routeConfig) {
	c.entries[key] = cacheEntry{cfg, c.w.Now() + RouteCacheTTL}
}

// ExpireRouteCache drops every cached route, as if their TTL had passed.
func (g *Guard) ExpireRouteCache() {
	g.trace("guard.cache_expire", sim.Int("entries", len(g.cache.entries)))
	clear(g.cache.entries)
}

// cacheKey is GCK:17-68: (target, actor, path) for x-rivet-target: actor,
// (host, path) otherwise. It is only relevant for Route outputs.
func cacheKey(req *Request) string {
	if req.Headers["x-rivet-target"] == "actor" {
		if a := req.Headers["x-rivet-actor"]; a != "" {
			return "actor|" + a + "|" + req.Path
		}
	}
	return "host|" + stripPort(req.Host) + "|" + req.Path
}

func stripPort(host string) string { // PS:383
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}

// resolved is the output of resolve_route (PS:168-173).
type resolved struct {
	target   *routeTarget
	response *staticResponse
	gateway  *PegboardGateway
}

// resolveRoute is PS:375-480. It calls done exactly once.
func (g *Guard) resolveRoute(req *Request, log *Log, ignoreCache bool, done func(resolved, error)) {
	// The cache holds only Route outputs (peer datacenters' actors): while
	// it is empty, a lookup cannot hit and its key is not built.
	if !ignoreCache && len(g.cache.entries) > 0 {
		if cfg, ok := g.cache.get(cacheKey(req)); ok && len(cfg.Targets) > 0 {
			t := cfg.Targets[g.rng.IntN(len(cfg.Targets))] // choose_random_target, seeded (PS:639-647)
			g.trace("guard.cache_hit", sim.Str("ray", log.Ray), sim.Str("target", t.Host))
			done(resolved{target: &t}, nil)
			return
		}
	}
	log.RoutingCalls++
	g.trace("guard.route", sim.Str("ray", log.Ray), sim.Int("call", log.RoutingCalls), sim.Bool("ignore_cache", ignoreCache))
	call := &routingCall{g: g, req: req, log: log, done: done, trace: req.Headers[model.TraceHeader]}
	capAfter := RoutingTimeout
	if !g.quirks.Has(model.GuardRoutingLimits15s) { // GCFG@0fe4f08fe:76-80
		capAfter = RoutingTimeout60s
		call.dispatchTimer = g.w.After(RouteDispatchTimeout, call.dispatchCapped)
	}
	call.capTimer = g.w.After(capAfter, call.capped) // PS:406-426
	g.route(call)
}

// dispatchCapped is the router's 55 s dispatch cap firing (from 0fe4f08fe,
// RMOD@cb33baec8:149-155).
func (c *routingCall) dispatchCapped() {
	if c.finished {
		return
	}
	c.finished = true
	c.capTimer.Stop()
	c.cancel()
	c.g.trace("guard.route_dispatch_timeout", sim.Str("ray", c.log.Ray))
	c.done(resolved{}, errRouteDispatchTimeout())
}

// capped is the routing cap firing (PS:406-426).
func (c *routingCall) capped() {
	c.finished = true
	c.dispatchTimer.Stop()
	c.cancel()
	c.g.trace("guard.route_timeout", sim.Str("ray", c.log.Ray))
	c.done(resolved{}, errRequestTimeout())
}

// routed is the routing function's output reaching resolve_route.
func (c *routingCall) routed(out any, err error) {
	if c.finished {
		return
	}
	c.finished = true
	c.capTimer.Stop()
	c.dispatchTimer.Stop()
	g, log, done := c.g, c.log, c.done
	if err != nil {
		g.trace("guard.route_error", sim.Str("ray", log.Ray), sim.Str("err", err.Error()))
		done(resolved{}, err)
		return
	}
	switch o := out.(type) {
	case routeConfig:
		if g.quirks.Has(model.GuardCachesPeerRoutes) { // the insert is commented out from c078579f5 (PS@c078579f5:129-134)
			g.cache.insert(cacheKey(c.req), o) // inserted even when ignoreCache (PS:439)
		}
		if len(o.Targets) == 0 {
			done(resolved{}, rivetErr("guard", "no_route_targets", "No route targets."))
			return
		}
		t := o.Targets[g.rng.IntN(len(o.Targets))]
		done(resolved{target: &t}, nil)
	case *staticResponse:
		done(resolved{response: o}, nil)
	case *PegboardGateway:
		g.trace("guard.routed", sim.Str("ray", log.Ray), sim.Str("actor", o.actor), sim.Str("runner", o.runner))
		done(resolved{gateway: o}, nil)
	}
}

// routingCall is one run of the routing function under resolve_route's cap;
// cancel drops it, as dropping the future does upstream. Its state and its
// steps live in one allocation, so the steps are methods rather than
// closures over separate variables.
type routingCall struct {
	g       *Guard
	trace   string // the request's model.TraceHeader, put on its engine operations
	subs    []model.Subscription
	timer   sim.Timer
	stops   []func() // forget the call's pending signals
	dropped bool

	// resolve_route (resolveRoute): the request, what to call once, the cap.
	req      *Request
	log      *Log
	done     func(resolved, error)
	finished bool
	capTimer sim.Timer
	// dispatchTimer is the router's 55 s dispatch cap (from 0fe4f08fe).
	dispatchTimer sim.Timer

	// get_for_gateway (readKeys): one read per call.
	readID    uint64 // 0: no read
	readTimer sim.Timer
	// readPhase: the read's timeout is routing's fetch phase timeout (from
	// 0fe4f08fe), not get_for_gateway's own.
	readPhase bool
	readActor model.ActorID
	readDone  func(*model.ActorKeys, error)

	// route_request_inner (routeActor): the actor and the wait loop's state.
	// Messages that arrive before the wait loop are buffered, one queue
	// per subscription.
	actor                      model.ActorID
	path                       string
	keys                       *model.ActorKeys
	ready                      []*model.Ready
	stopped, failed, destroyed []any
	waiting                    bool // the wait loop runs: a message polls it
	rewakes                    int
	waking                     bool // a Wake is being awaited: the select! is not polled
}

func (c *routingCall) cancel() {
	if c == nil || c.dropped {
		return
	}
	c.dropped = true
	c.timer.Stop()
	for _, s := range c.subs {
		if !plant.On(plant.RoutingLeaksSubscription) {
			s.Unsubscribe()
		}
	}
	if c.readID != 0 { // forget the pending read
		c.readTimer.Stop()
		delete(c.g.reads, c.readID)
	}
	for _, stop := range c.stops {
		stop()
	}
}

// finish is the routing function returning.
func (c *routingCall) finish(out any, err error) {
	if c.dropped {
		return
	}
	c.cancel()
	c.routed(out, err)
}

// route is Guard's routing function (RMOD:31-141).
func (g *Guard) route(call *routingCall) {
	req := call.req
	ws := strings.EqualFold(req.Headers["upgrade"], "websocket")
	if actor, path, ok := g.parseActorPath(req.Path); ok { // RMOD:55-72
		g.routeActor(call, actor, path)
		return
	}
	target := req.Headers["x-rivet-target"]
	actor := model.ActorID(req.Headers["x-rivet-actor"])
	if ws { // RMOD:76-91: WebSockets carry them in sec-websocket-protocol
		target, actor = "", ""
		for rest, more := req.Headers[model.SecWebSocketProtocol], true; more; { // each comma-separated part, as strings.Split gives them
			var p string
			p, rest, more = strings.Cut(rest, ",")
			p = strings.TrimSpace(p)
			if v, ok := strings.CutPrefix(p, "rivet_target."); ok {
				target = v
			}
			if v, ok := strings.CutPrefix(p, "rivet_actor."); ok {
				actor = model.ActorID(v)
			}
		}
	}
	switch target {
	case "actor": // RMOD:101-113, PGR:48-98
		// From 4bb92916c an HTTP request is header-routed only on a /request
		// path; any other falls through to no_route (pegboard_gateway.rs@4bb92916c:141-143, 234-240).
		if !ws && !g.quirks.Has(model.GuardHeaderRouteAnyPath) && !isActorRequestPath(req.Path) {
			call.finish(nil, errNoRoute())
			return
		}
		if actor == "" {
			name := "x-rivet-actor"
			if ws {
				name = "sec-websocket-protocol"
			}
			call.finish(nil, errMissingHeader(name))
			return
		}
		g.routeActor(call, actor, req.Path)
	case "", "api-public": // RMOD:120-126, errata E9
		call.finish(&staticResponse{200, "api-public"}, nil)
	default:
		call.finish(nil, errNoRoute())
	}
}

// parseActorPath parses an actor path in the format of the profile's
// commit: /gateway/actors/{id}[/tokens/{t}]/route/{rest} through
// guard_actors_route_path (RMOD@f3105c779:147-237), /gateway/{id}[@{t}]/{rest}
// from c6161fd4a (RMOD@c6161fd4a:147-225).
func (g *Guard) parseActorPath(p string) (model.ActorID, string, bool) {
	if g.quirks.Has(model.GuardActorsRoutePath) {
		return parseActorsRoutePath(p)
	}
	return parseGatewayPath(p)
}

// parseActorsRoutePath parses /gateway/actors/{id}[/tokens/{t}]/route/{rest}
// (PGR:48-76, RMOD:147-237).
func parseActorsRoutePath(p string) (model.ActorID, string, bool) {
	rest, ok := strings.CutPrefix(p, "/gateway/actors/")
	if !ok {
		return "", "", false
	}
	segs := strings.Split(rest, "/")
	i := 1
	if len(segs) > 2 && segs[1] == "tokens" {
		i = 3
	}
	if segs[0] == "" || len(segs) <= i || segs[i] != "route" {
		return "", "", false
	}
	return model.ActorID(segs[0]), "/" + strings.Join(segs[i+1:], "/"), true
}

// parseGatewayPath parses /gateway/{id}[@{token}]/{rest}[?query]
// (RMOD@c6161fd4a:147-225). Upstream then parses the id as an Id and a
// failure is a 500; guardsim's actor ids are names, so the old format's
// "actors" is simply an actor that does not exist (README, differences).
// Percent-decoding of the id and token (1fb3c1a55) changes nothing for
// guardsim's ids and is not modelled.
func parseGatewayPath(p string) (model.ActorID, string, bool) {
	base, query := p, ""
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		base = p[:i]
		if p[i] == '?' {
			query = p[i:]
			if j := strings.IndexByte(query, '#'); j >= 0 {
				query = query[:j]
			}
		}
	}
	if strings.Contains(base, "//") {
		return "", "", false
	}
	// Without "//", the first non-empty segment follows at most one
	// leading slash: a path that is not /gateway/... ends here unsplit.
	if seg, _, _ := strings.Cut(strings.TrimPrefix(base, "/"), "/"); seg != "gateway" {
		return "", "", false
	}
	var segs []string
	for _, s := range strings.Split(base, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) < 2 { // segs[0] is "gateway": checked above
		return "", "", false
	}
	actor := segs[1]
	if at := strings.IndexByte(actor, '@'); at >= 0 {
		if at == 0 || at == len(actor)-1 {
			return "", "", false
		}
		actor = actor[:at] // the token is not checked by routing
	}
	prefix := len("/gateway/") + len(segs[1])
	rest := "/"
	if prefix < len(base) {
		rest = base[prefix:]
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return model.ActorID(actor), rest + query, true
}

// routeActor is route_request_inner (PGR:106-246).
func (g *Guard) routeActor(call *routingCall, actor model.ActorID, path string) {
	if _, dc, ok := strings.Cut(string(actor), "@"); ok && dc != LocalDC { // PGR:116-140
		// A path-routed request targets the peer with the stripped path
		// (PGR@553683bfd:135) until 16a3f243b, which sends the original
		// path (PGR@16a3f243b:149); header routing passes the path whole.
		target := call.req.Path
		if g.quirks.Has(model.GuardPeerDCStrippedPath) {
			target = path
		}
		call.finish(routeConfig{Targets: []routeTarget{{Actor: actor, Host: "guard-" + dc, Path: target}}}, nil)
		return
	}
	call.actor, call.path = actor, path
	// Subscribe before reading (PGR:142-154).
	call.subs = append(call.subs, g.ups.Subscribe(model.ActorSubject(actor), call.actorMessage))
	g.readKeys(call, actor, call.keysRead)
}

// actorMessage buffers a message of the actor's subject and, once the wait
// loop runs, polls it.
func (c *routingCall) actorMessage(msg any) {
	switch m := msg.(type) {
	case *model.Ready:
		c.ready = append(c.ready, m)
	case *model.Stopped:
		c.stopped = append(c.stopped, m)
	case *model.Failed:
		c.failed = append(c.failed, m)
	case *model.DestroyStarted:
		c.destroyed = append(c.destroyed, m)
	}
	if c.waiting && !c.dropped && !c.waking {
		c.pass()
	}
}

// keysRead continues route_request_inner with the actor's keys.
func (c *routingCall) keysRead(k *model.ActorKeys, err error) {
	if c.dropped {
		return
	}
	g := c.g
	switch {
	case err != nil: // the op's timeout: a non-Rivet error (errata E22)
		c.finish(nil, err)
		return
	case !k.Found && g.quirks.Has(model.GuardActorNotFound404):
		c.finish(nil, errActorNotFound())
		return
	case k.Destroyed && g.quirks.Has(model.GuardActorNotFound404):
		c.finish(nil, errActorDestroyed())
		return
	case !k.Found || k.Destroyed: // PGR@2e22a2e61:161,165
		e := errActorNotFoundV2()
		if !g.quirks.Has(model.GuardActorNotFound400) {
			e.Status = 404
		}
		c.finish(nil, e)
		return
	}
	c.keys = k
	c.rewakes, c.waking = 0, false
	c.waiting = true
	if k.Sleeping { // PGR:169-176: Guard always wakes, and awaits the signal
		c.waking = true
		g.signalWake(c, c.actor, func() {
			c.waking = false
			c.afterWake()
		})
		return
	}
	c.afterWake()
}

func (c *routingCall) afterWake() {
	if k := c.keys; k.Runner != "" && k.Connectable { // PGR:178
		c.finish(c.gateway(k.Runner), nil)
		return
	}
	c.pass()
}

func (c *routingCall) gateway(r model.RunnerID) *PegboardGateway {
	return &PegboardGateway{g: c.g, runner: r, actor: c.actor, path: c.path}
}

// pass is one pass of the wait loop (PGR:183-231): tokio::select! picks
// uniformly among ready branches; the ready timer restarts on every pass.
func (c *routingCall) pass() {
	g := c.g
	c.timer.Stop()
	var buf [4]int
	branches := buf[:0]
	for i, n := range [4]int{len(c.ready), len(c.stopped), len(c.failed), len(c.destroyed)} {
		if n > 0 {
			branches = append(branches, i)
		}
	}
	if len(branches) == 0 {
		wait := ActorReadyTimeout
		if !g.quirks.Has(model.GuardRoutingLimits15s) {
			wait = ActorReadyTimeout30s // GCFG@0fe4f08fe:125
		}
		c.timer = g.w.After(wait, func() { c.finish(nil, errActorReadyTimeout()) })
		return
	}
	switch branches[g.rng.IntN(len(branches))] {
	case 0:
		r := c.ready[0].Runner
		c.ready = c.ready[1:]
		c.finish(c.gateway(r), nil)
	case 1:
		c.stopped = c.stopped[1:]
		if plant.On(plant.RoutingNoRewake) {
			c.pass()
			return
		}
		if c.rewakes >= g.maxRewakes() {
			if !g.quirks.Has(model.GuardRoutingLimits15s) { // mod.rs@0fe4f08fe:747-752
				c.finish(nil, errActorWakeRetriesExceeded())
				return
			}
			c.finish(nil, errServiceUnavailable())
			return
		}
		c.rewakes++
		g.trace("guard.rewake", sim.Str("actor", c.actor), sim.Int("n", c.rewakes))
		c.waking = true
		g.signalWake(c, c.actor, func() { // awaited (PGR:199-206)
			c.waking = false
			c.pass()
		})
	case 2:
		f := c.failed[0].(*model.Failed)
		c.finish(nil, rivetErr("actor", f.Error, "Actor failed."))
	case 3:
		c.finish(nil, errDestroyedWhileWaiting())
	}
}

// GetForGatewayTimeout is get_for_gateway's operation timeout (GFG:21-22):
// from the start of the op, over the whole transaction.
const GetForGatewayTimeout = 5 * sim.Second

// readKeys runs get_for_gateway against the engine (GFG:23-70), once per
// routing call. Its 5 s operation timeout raises a non-Rivet
// OperationTimeout (gasoline ctx/common.rs:108-110): 500
// core.internal_error for HTTP, a 1011 core.internal_error#ray close for a
// WebSocket (errata E22).
func (g *Guard) readKeys(call *routingCall, actor model.ActorID, cb func(*model.ActorKeys, error)) {
	g.readID++
	call.readID, call.readActor, call.readDone = g.readID, actor, cb
	g.reads[call.readID] = call
	call.readTimer = g.w.After(GetForGatewayTimeout, call.readTimedOut)
	call.readPhase = !g.quirks.Has(model.GuardRoutingLimits15s)
	g.engine.Send(&model.GetForGateway{ID: call.readID, Actor: actor, Trace: call.trace})
}

// keysArrived is the engine's answer to the call's read.
func (c *routingCall) keysArrived(k *model.ActorKeys) {
	c.readTimer.Stop()
	c.readDone(k, nil)
}

func (c *routingCall) readTimedOut() {
	delete(c.g.reads, c.readID)
	if c.readPhase { // the 5 s phase timer starts first and wins the tie (mod.rs@cb33baec8:297-357)
		c.g.trace("guard.phase_timeout", sim.Str("phase", "fetch_actor"), sim.Str("actor", c.readActor))
		c.readDone(nil, errRouteFetchActorTimeout())
		return
	}
	c.g.trace("guard.op_timeout", sim.Str("op", "get_for_gateway"), sim.Str("actor", c.readActor))
	c.readDone(nil, &internalError{"operation timed out: get_for_gateway"})
}

// signalWake sends the Wake signal and calls sent once it is committed.
// The send has no timeout of its own: only the routing cap bounds it; from
// 0fe4f08fe a 5 s phase timeout.
func (g *Guard) signalWake(call *routingCall, actor model.ActorID, sent func()) {
	g.readID++
	id := g.readID
	g.trace("guard.wake", sim.Str("actor", actor), sim.Uint("signal", id))
	var phase sim.Timer
	g.signals[id] = func() {
		phase.Stop()
		if !call.dropped {
			sent()
		}
	}
	call.stops = append(call.stops, func() { delete(g.signals, id); phase.Stop() })
	if !g.quirks.Has(model.GuardRoutingLimits15s) { // each Wake's 5 s phase timeout (mod.rs@cb33baec8:656-681)
		phase = g.w.After(WakeSignalTimeout, func() {
			delete(g.signals, id)
			g.trace("guard.phase_timeout", sim.Str("phase", "wake_signal"), sim.Str("actor", actor))
			call.finish(nil, errRouteWakeSignalTimeout())
		})
	}
	g.engine.Send(&model.SignalWake{ID: id, Actor: actor, Trace: call.trace})
}

// isActorRequestPath: /request followed by nothing, / or ? (from 4bb92916c).
func isActorRequestPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/request")
	return ok && (rest == "" || rest[0] == '/' || rest[0] == '?')
}
