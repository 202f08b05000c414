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
	key := cacheKey(req)
	if !ignoreCache {
		if cfg, ok := g.cache.get(key); ok && len(cfg.Targets) > 0 {
			t := cfg.Targets[g.rng.IntN(len(cfg.Targets))] // choose_random_target, seeded (PS:639-647)
			g.trace("guard.cache_hit", sim.Str("ray", log.Ray), sim.Str("target", t.Host))
			done(resolved{target: &t}, nil)
			return
		}
	}
	log.RoutingCalls++
	g.trace("guard.route", sim.Str("ray", log.Ray), sim.Int("call", log.RoutingCalls), sim.Bool("ignore_cache", ignoreCache))
	var call *routingCall
	finished := false
	capTimer := g.w.After(RoutingTimeout, func() { // PS:406-426
		finished = true
		call.cancel()
		g.trace("guard.route_timeout", sim.Str("ray", log.Ray))
		done(resolved{}, errRequestTimeout())
	})
	call = g.route(req, func(out any, err error) {
		if finished {
			return
		}
		finished = true
		capTimer.Stop()
		if err != nil {
			g.trace("guard.route_error", sim.Str("ray", log.Ray), sim.Str("err", err.Error()))
			done(resolved{}, err)
			return
		}
		switch o := out.(type) {
		case routeConfig:
			g.cache.insert(key, o) // inserted even when ignoreCache (PS:439)
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
	})
}

// routingCall is one run of the routing function; cancel drops it, as
// dropping the future does upstream.
type routingCall struct {
	trace   string // the request's model.TraceHeader, put on its engine operations
	subs    []model.Subscription
	timer   sim.Timer
	stops   []func() // forget the call's pending read and signals
	dropped bool
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
	for _, stop := range c.stops {
		stop()
	}
}

// route is Guard's routing function (RMOD:31-141).
func (g *Guard) route(req *Request, done func(any, error)) *routingCall {
	call := &routingCall{trace: req.Headers[model.TraceHeader]}
	finish := func(out any, err error) {
		if call.dropped {
			return
		}
		call.cancel()
		done(out, err)
	}
	ws := strings.EqualFold(req.Headers["upgrade"], "websocket")
	if actor, path, ok := g.parseActorPath(req.Path); ok { // RMOD:55-72
		g.routeActor(call, actor, path, finish)
		return call
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
		if actor == "" {
			name := "x-rivet-actor"
			if ws {
				name = "sec-websocket-protocol"
			}
			finish(nil, errMissingHeader(name))
			return call
		}
		g.routeActor(call, actor, req.Path, finish)
	case "", "api-public": // RMOD:120-126, errata E9
		finish(&staticResponse{200, "api-public"}, nil)
	default:
		finish(nil, errNoRoute())
	}
	return call
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
func (g *Guard) routeActor(call *routingCall, actor model.ActorID, path string, done func(any, error)) {
	if _, dc, ok := strings.Cut(string(actor), "@"); ok && dc != LocalDC { // PGR:116-140
		done(routeConfig{Targets: []routeTarget{{Actor: actor, Host: "guard-" + dc, Path: path}}}, nil)
		return
	}
	// Subscribe before reading (PGR:142-154). Messages that arrive before
	// the wait loop are buffered, one queue per subscription.
	// The wait's state, one allocation for every closure below.
	var st struct {
		ready                      []*model.Ready
		stopped, failed, destroyed []any
		wake                       func()
		rewakes                    int
		waking                     bool // a Wake is being awaited: the select! is not polled
		pass                       func()
	}
	call.subs = append(call.subs, g.ups.Subscribe(model.ActorSubject(actor), func(msg any) {
		switch m := msg.(type) {
		case *model.Ready:
			st.ready = append(st.ready, m)
		case *model.Stopped:
			st.stopped = append(st.stopped, m)
		case *model.Failed:
			st.failed = append(st.failed, m)
		case *model.DestroyStarted:
			st.destroyed = append(st.destroyed, m)
		}
		if st.wake != nil {
			st.wake()
		}
	}))
	g.readKeys(call, actor, func(k *model.ActorKeys, err error) {
		if call.dropped {
			return
		}
		switch {
		case err != nil: // the op's timeout: a non-Rivet error (errata E22)
			done(nil, err)
			return
		case !k.Found && g.quirks.Has(model.GuardActorNotFound404):
			done(nil, errActorNotFound())
			return
		case k.Destroyed && g.quirks.Has(model.GuardActorNotFound404):
			done(nil, errActorDestroyed())
			return
		case !k.Found || k.Destroyed: // PGR@2e22a2e61:161,165
			done(nil, errActorNotFoundV2())
			return
		}
		gw := func(r model.RunnerID) *PegboardGateway {
			return &PegboardGateway{g: g, runner: r, actor: actor, path: path}
		}
		st.rewakes, st.waking = 0, false
		// The wait loop (PGR:183-231): tokio::select! picks uniformly among
		// ready branches; the ready timer restarts on every pass.
		st.pass = func() {
			call.timer.Stop()
			var branches []int
			for i, q := range [][]any{nil, st.stopped, st.failed, st.destroyed} {
				if (i == 0 && len(st.ready) > 0) || (i > 0 && len(q) > 0) {
					branches = append(branches, i)
				}
			}
			if len(branches) == 0 {
				call.timer = g.w.After(ActorReadyTimeout, func() { done(nil, errActorReadyTimeout()) })
				return
			}
			switch branches[g.rng.IntN(len(branches))] {
			case 0:
				r := st.ready[0].Runner
				st.ready = st.ready[1:]
				done(gw(r), nil)
			case 1:
				st.stopped = st.stopped[1:]
				if plant.On(plant.RoutingNoRewake) {
					st.pass()
					return
				}
				if st.rewakes >= MaxRewakes {
					done(nil, errServiceUnavailable())
					return
				}
				st.rewakes++
				g.trace("guard.rewake", sim.Str("actor", actor), sim.Int("n", st.rewakes))
				st.waking = true
				g.signalWake(call, actor, func() { // awaited (PGR:199-206)
					st.waking = false
					st.pass()
				})
			case 2:
				f := st.failed[0].(*model.Failed)
				done(nil, rivetErr("actor", f.Error, "Actor failed."))
			case 3:
				done(nil, errDestroyedWhileWaiting())
			}
		}
		st.wake = func() {
			if !call.dropped && !st.waking {
				st.pass()
			}
		}
		afterWake := func() {
			if k.Runner != "" && k.Connectable { // PGR:178
				done(gw(k.Runner), nil)
				return
			}
			st.pass()
		}
		if k.Sleeping { // PGR:169-176: Guard always wakes, and awaits the signal
			st.waking = true
			g.signalWake(call, actor, func() {
				st.waking = false
				afterWake()
			})
			return
		}
		afterWake()
	})
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
	id := g.readID
	var timer sim.Timer
	g.reads[id] = func(k *model.ActorKeys) {
		timer.Stop()
		cb(k, nil)
	}
	timer = g.w.After(GetForGatewayTimeout, func() {
		delete(g.reads, id)
		g.trace("guard.op_timeout", sim.Str("op", "get_for_gateway"), sim.Str("actor", actor))
		cb(nil, &internalError{"operation timed out: get_for_gateway"})
	})
	call.stops = append(call.stops, func() { timer.Stop(); delete(g.reads, id) })
	g.engine.Send(&model.GetForGateway{ID: id, Actor: actor, Trace: call.trace})
}

// signalWake sends the Wake signal and calls sent once it is committed.
// The send has no timeout of its own: only the routing cap bounds it.
func (g *Guard) signalWake(call *routingCall, actor model.ActorID, sent func()) {
	g.readID++
	id := g.readID
	g.trace("guard.wake", sim.Str("actor", actor), sim.Uint("signal", id))
	g.signals[id] = func() {
		if !call.dropped {
			sent()
		}
	}
	call.stops = append(call.stops, func() { delete(g.signals, id) })
	g.engine.Send(&model.SignalWake{ID: id, Actor: actor, Trace: call.trace})
}
