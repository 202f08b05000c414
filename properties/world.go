package properties

import (
	"fmt"
	"strings"

	"github.com/guardsim/guardsim/guard"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/runner"
	"github.com/guardsim/guardsim/sim"
)

// WorldConfig describes one simulated deployment: one guard, UPS, the
// engine, and runners.
type WorldConfig struct {
	Seed    uint64
	Profile model.Profile
	Runners []model.RunnerID
	// Peers are other datacenters whose guards serve actors "a@dc".
	Peers []string
	// WorkflowDelay is the engine's processing delay per signal.
	WorkflowDelay sim.Time
	// RunnerLostThreshold overrides the engine's (2 min) when non-zero.
	RunnerLostThreshold sim.Time
	// StartDelay and StopDelay are how long onActorStart and onActorStop take.
	StartDelay, StopDelay sim.Time
	Trace                 sim.TraceMode
	// NoMessages keeps a full-trace world from recording its messages for
	// a picture (Picture): for the runs that only read the trace.
	NoMessages bool
	MaxSteps   int64
	Horizon    sim.Time
}

// World wires sim, model, guard and runner for one scenario.
type World struct {
	Sim       *sim.World
	Cfg       WorldConfig
	UPS       *model.UPS
	Engine    *model.Engine
	Guard     *guard.Guard
	Runners   map[model.RunnerID]*runner.Runner
	behaviors map[model.ActorID]runner.Behavior
	Requests  []*HTTPRequest
	Sockets   []*WSClient
	Probes    []Probe
	// rec is what the world observed, for the oracle: the clients' and
	// actors' observations and the wire, recorded as they happen.
	rec     record.Record
	settled bool // the liveness phase ran to the end
}

// HTTPRequest is one client HTTP request: what the client saw (the
// record the oracle reads) and Guard's log of it, which only scenario
// expectations and reports read.
type HTTPRequest struct {
	*record.HTTP
	Log *guard.Log
}

// NewWorld builds and starts a world. Actors are placed with Actor.
func NewWorld(cfg WorldConfig) *World {
	s := sim.New(sim.Config{Seed: cfg.Seed, Trace: cfg.Trace, MaxSteps: cfg.MaxSteps, Horizon: cfg.Horizon})
	w := &World{Sim: s, Cfg: cfg, Runners: map[model.RunnerID]*runner.Runner{}, behaviors: map[model.ActorID]runner.Behavior{}}
	if cfg.Trace == sim.TraceFull && !cfg.NoMessages {
		s.Net().RecordMessages() // for the picture of the run (Picture)
	}
	s.Trace("world", "world.start", sim.Uint("seed", cfg.Seed), sim.Str("profile", cfg.Profile.Name()), sim.Str("runners", sprintRunners(cfg.Runners)))
	w.UPS = model.NewUPS(s)
	w.tap()
	w.Engine = model.NewEngine(s, w.UPS, model.EngineConfig{WorkflowDelay: cfg.WorkflowDelay, RunnerLostThreshold: cfg.RunnerLostThreshold, Quirks: cfg.Profile.Quirks})
	w.Guard = guard.New(s, w.UPS, guard.Config{Node: guardNode, Quirks: cfg.Profile.Quirks})
	store := runner.NewStore() // actor state (hibernation indices) follows the actor across runners
	for _, id := range cfg.Runners {
		r := runner.New(s, runner.Config{ID: id, Engine: model.EngineNode, Quirks: cfg.Profile.Quirks, Store: store,
			Behavior: w.behavior, StartDelay: cfg.StartDelay, StopDelay: cfg.StopDelay,
			App: func(e model.AppEvent) { w.rec.App = append(w.rec.App, e) }})
		w.Runners[id] = r
		r.Start()
	}
	for _, dc := range cfg.Peers {
		w.AddPeer(dc)
	}
	// Boot: let every runner connect before the scenario places actors.
	if err := s.RunUntilQuiet(); err != nil {
		panic(err) // a world that cannot boot is a bug in the harness
	}
	s.Trace("world", "world.booted")
	return w
}

// sprintRunners renders runner ids as fmt.Sprint does ("[r1 r2]"), without
// its reflection.
func sprintRunners(ids []model.RunnerID) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, id...)
	}
	return string(append(b, ']'))
}

func (w *World) behavior(a model.ActorID) runner.Behavior { return w.behaviors[a] }

// SetBehavior sets what the actor's fetch handler does from now on.
func (w *World) SetBehavior(a model.ActorID, b runner.Behavior) { w.behaviors[a] = b }

// Actor creates an actor, preferably on runner.
func (w *World) Actor(a model.ActorID, on model.RunnerID, crash model.CrashPolicy) {
	w.Engine.CreateActor(a, crash, on)
}

// HTTP issues a client GET for the actor now, routed by the x-rivet-target
// and x-rivet-actor headers.
func (w *World) HTTP(name string, a model.ActorID, path string) *HTTPRequest {
	if !w.Cfg.Profile.Has(model.GuardHeaderRouteAnyPath) && !strings.HasPrefix(path, "/request") {
		// From 4bb92916c Guard routes a header-routed HTTP request only on a
		// /request path, so the clients (as rivetkit's) put their path under it.
		path = "/request" + strings.TrimSuffix(path, "/")
	}
	r := &HTTPRequest{HTTP: &record.HTTP{Name: name, Actor: a, Issued: w.Sim.Now()}}
	w.Requests = append(w.Requests, r)
	w.rec.Requests = append(w.rec.Requests, r.HTTP)
	req := &guard.Request{Method: "GET", Host: "guard.rivet", Path: path,
		Headers: model.Headers{"x-rivet-target": "actor", "x-rivet-actor": string(a), ClientTag: name}}
	w.Sim.Trace("client", "client.http", sim.Str("name", name), sim.Str("actor", a), sim.Str("path", path))
	r.Log = w.Guard.HandleHTTP(req, func(resp *guard.Response) {
		r.Response, r.Answered = &record.Response{Status: resp.Status, Headers: resp.Headers, Body: resp.Body}, w.Sim.Now()
		w.Sim.Trace("client", "client.response", sim.Str("name", name), sim.Int("status", resp.Status), sim.Str("body", resp.Body))
	})
	return r
}

// Request returns the named request, or nil.
func (w *World) Request(name string) *HTTPRequest {
	for _, r := range w.Requests {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// peerNode is the node of a peer datacenter's guard.
func peerNode(dc string) string { return "guard-" + dc }

// AddPeer starts a peer datacenter's guard: Guard routes actors labelled
// "@dc" to it over the Target path (PGR:116-140). It answers with the
// actor's behaviour, or "peer=dc actor=a" by default.
func (w *World) AddPeer(dc string) { w.PeerUp(dc) }

// PeerUp makes the peer accept connections.
func (w *World) PeerUp(dc string) {
	node := peerNode(dc)
	w.Sim.Trace(node, "peer.up")
	w.Sim.Net().Listen(node, func(e *sim.End) {
		e.Handle(func(msg any) {
			if m, ok := msg.(*guard.UpstreamWSOpen); ok {
				w.peerWebSocket(dc, e, m)
				return
			}
			m, ok := msg.(*guard.UpstreamRequest)
			if !ok {
				return
			}
			a := model.ActorID(m.Request.Headers["x-rivet-actor"])
			b := w.behaviors[a]
			resp := &guard.Response{Status: 200, Headers: model.Headers{}, Body: fmt.Sprintf("peer=%s actor=%s", dc, a)}
			if b.Status != 0 {
				resp.Status = b.Status
			}
			for _, k := range sim.SortedKeys(b.Headers) {
				resp.Headers[k] = b.Headers[k]
			}
			if b.Body != "" {
				resp.Body = b.Body
			}
			w.Sim.After(b.Delay, func() { e.Send(&guard.UpstreamResponse{Response: resp}) })
		}, nil)
	})
}

// peerWebSocket is the peer guard's side of a proxied WebSocket: it
// answers 101 after the actor's behaviour delay (its routing), echoes every
// frame as "echo:<data>", and answers a close frame with the same frame
// before closing. The peer's own retries and routing are not modelled.
func (w *World) peerWebSocket(dc string, e *sim.End, m *guard.UpstreamWSOpen) {
	a := model.ActorID(m.Request.Headers["x-rivet-actor"])
	if a == "" {
		for _, p := range strings.Split(m.Request.Headers[model.SecWebSocketProtocol], ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "rivet_actor."); ok {
				a = model.ActorID(v)
			}
		}
	}
	w.Sim.Trace(peerNode(dc), "peer.ws_open", sim.Str("actor", a))
	w.Sim.After(w.behaviors[a].Delay, func() {
		if !e.Open() {
			return
		}
		e.Send(&guard.UpstreamWSAccepted{})
		e.Handle(func(msg any) {
			f, ok := msg.(*guard.UpstreamWSFrame)
			if !ok {
				return
			}
			if f.Close {
				e.Send(f)
				e.Close()
				return
			}
			e.Send(&guard.UpstreamWSFrame{Data: "echo:" + f.Data, Binary: f.Binary})
		}, nil)
	})
}

// peerAccepted records, as the peer (part of the world), that it accepted
// the client's latest connection.
func (w *World) peerAccepted(tag string) {
	if cs := w.rec.Wire.Peers[tag]; len(cs) > 0 {
		cs[len(cs)-1].Accepted = true
	}
}

// PeerDown makes the peer refuse new connections (connect errors).
func (w *World) PeerDown(dc string) {
	w.Sim.Trace(peerNode(dc), "peer.down")
	w.Sim.Net().Unlisten(peerNode(dc))
}

// hibernatable reports whether the actor's sockets can hibernate.
func (w *World) hibernatable(a model.ActorID) bool { return w.behaviors[a].CanHibernate }

// Probe is a request or socket the liveness phase issues.
type Probe struct {
	HTTP *HTTPRequest
	WS   *WSClient
}

// Liveness phase timing.
const (
	// LivenessSettle is how long the healed world runs before probes: longer
	// than the runner reconnect backoff cap (37.5 s), the actor stop and
	// start thresholds (30 s), any runner lost threshold a scenario uses,
	// and the longest reschedule backoff (2 s·2^8 + 0.5 s, ART:612-700).
	LivenessSettle = 10 * sim.Minute
	// LivenessBacklog bounds the wait for the engine to work through the
	// signals the fault phase left (a storm of reschedules backs off
	// exponentially, each step up to 512 s).
	LivenessBacklog = 4 * sim.Hour
	// LivenessProbe bounds how long a probe may take.
	LivenessProbe = 30 * sim.Second
	// LivenessQuiet is how long the world then runs with nothing to do:
	// more than the gateway GC interval and the runner GC interval.
	LivenessQuiet = 75 * sim.Second
	// LivenessQuietHibernatable replaces it where the gateway keeps a
	// closed hibernatable socket's entry for its 90 s keepalive deadline
	// (553683bfd): that, one 15 s GC tick and a margin.
	LivenessQuietHibernatable = 2*sim.Minute + 15*sim.Second
)

// Liveness stops every fault and heals the world, lets it settle, then
// probes every actor that is not destroyed with a fresh HTTP request and a
// WebSocket that sends one message, and finally lets the world go quiet so
// that leaks show (TigerBeetle's VOPR liveness mode).
func (w *World) Liveness() error {
	s := w.Sim
	s.Trace("world", "liveness.start")
	s.Net().HealAll()
	w.Engine.SetWorkflowDelay(0)
	for _, dc := range w.Cfg.Peers {
		w.PeerUp(dc)
	}
	for _, id := range sim.SortedKeys(w.Runners) {
		rn := w.Runners[id]
		rn.SetAutoReconnect(true)
		if !rn.Connected() {
			rn.Reconnect()
		}
	}
	for _, a := range sim.SortedKeys(w.behaviors) {
		b := w.behaviors[a]
		w.behaviors[a] = runner.Behavior{CanHibernate: b.CanHibernate, AckDelay: min(b.AckDelay, sim.Second)}
	}
	// Let the engine drain what the fault phase queued, then settle.
	for deadline := s.Now() + LivenessBacklog; w.Engine.Busy() && s.Now() < deadline; {
		if err := s.RunFor(10 * sim.Second); err != nil {
			return err
		}
	}
	if err := s.RunFor(LivenessSettle); err != nil {
		return err
	}
	for _, a := range w.Engine.Actors() {
		if w.destroyedAt(a) >= 0 {
			continue
		}
		h := w.HTTP("live-http-"+string(a), a, "/probe")
		c := w.WebSocket("live-ws-"+string(a), a, "/probe")
		w.Probes = append(w.Probes, Probe{HTTP: h}, Probe{WS: c})
		w.rec.Probes = append(w.rec.Probes, record.Probe{HTTP: h.HTTP}, record.Probe{WS: c.WS})
		s.After(5*sim.Second, func() { c.Send("probe") })
	}
	if err := s.RunFor(LivenessProbe); err != nil {
		return err
	}
	for _, p := range w.Probes {
		if p.WS != nil && !p.WS.Closed {
			p.WS.Close(model.CloseNormal, "probe done")
		}
	}
	quiet := LivenessQuiet
	if !w.Cfg.Profile.Has(model.GatewayGCCollectsClosedHibernatable) {
		// From 553683bfd a closed hibernatable socket's entry lives until
		// its keepalive is 90 s old, then one GC tick (GSS@553683bfd:515).
		quiet = LivenessQuietHibernatable
	}
	if err := s.RunFor(quiet); err != nil {
		return err
	}
	w.settled = true
	s.Trace("world", "liveness.end")
	return nil
}
