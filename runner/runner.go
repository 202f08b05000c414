package runner

import (
	"math/rand/v2"
	"slices"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// DefaultEngine is the node a runner dials when Config.Engine is empty.
const DefaultEngine = "engine"

// Config sets up one runner (RunnerConfig, RUN:32-69, reduced to what the
// simulation needs).
type Config struct {
	// ID is the runner's id and its node name.
	ID model.RunnerID
	// Engine is the node to dial (pegboard-runner); "" means DefaultEngine.
	Engine string
	// Quirks selects the upstream commit's behaviour (RunnerNotFound404).
	Quirks model.Quirks
	// Behavior says what the actor's user fetch handler (config.fetch,
	// RUN:48-53) does; chosen per actor by the scenario. Nil means the
	// zero Behavior: 200 with the default body, no delay.
	Behavior func(model.ActorID) Behavior
	// StartDelay is how long onActorStart takes (RUN:777-790).
	StartDelay sim.Time
	// StopDelay is how long onActorStop takes (RUN:167-171).
	StopDelay sim.Time
	// Store holds the actors' persisted WebSocket hibernation state
	// (lastMsgIndex per actor and request id). Share one Store between all
	// runners of a world so the state follows an actor that moves; nil
	// means the runner makes its own.
	Store *Store
	// App, when set, is told what the actor's own code sees: its
	// lifecycle hooks and WebSocket listeners being called. The world
	// records it as the application's observations, for the oracle.
	App func(model.AppEvent)
}

// Behavior is what the user fetch handler does for one request. The
// handler is modelled as `new Response(Body, {status, headers})` returned
// after Delay, so a missing content-type becomes text/plain;charset=UTF-8
// as the Fetch Response constructor does for a string body.
type Behavior struct {
	// Delay is the virtual time the handler takes before it resolves.
	Delay sim.Time
	// Status is the response status; 0 means 200.
	Status int
	// Headers are the response headers (names are lowercased, as the
	// Fetch Headers object does).
	Headers model.Headers
	// Body is the response body; "" means the default body
	// "runner=<id> actor=<id> gen=<n>".
	Body string
	// Throw makes the handler reject after Delay: the SDK answers 500
	// "Internal Server Error" with content-type text/plain
	// (TUN:372-374, 441-458).
	Throw bool
	// NotImplemented makes config.fetch return no response: the SDK
	// answers 501 "Not Implemented" at once (TUN:232-234). For a
	// WebSocket it stands for a runner without config.websocket: the open
	// is closed with 1011 "Not Implemented", retry:false (TUN:484-500).
	NotImplemented bool

	// WebSocket behaviour (see actor_ws.go for the modelled handler).

	// CanHibernate is what getActorHibernationConfig returns as enabled,
	// sent as ToServerWebSocketOpen.canHibernate (TUN:573-580).
	CanHibernate bool
	// AckDelay is how long after receiving a client message a
	// hibernatable actor persists its index as lastMsgIndex and acks it
	// (ToServerWebSocketMessageAck, TUN:634-650). Non-hibernatable actors
	// never ack.
	AckDelay sim.Time
	// WSThrow makes building the request / getActorHibernationConfig
	// throw: a pre-open close 1011 "Server Error", retry:false (errata E16).
	WSThrow bool
	// WSHandlerThrow makes the websocket handler throw after the open: close
	// 1011 "Server Error", retry:false, after ToServerWebSocketOpen
	// (TUN:595-613).
	WSHandlerThrow bool
}

// HandlerRun records one start of the user fetch handler.
type HandlerRun struct {
	Actor      model.ActorID
	Generation model.Generation
	Request    model.RequestID
	At         sim.Time
}

// StopCall records one onActorStop call (its start).
type StopCall struct {
	Actor      model.ActorID
	Generation model.Generation
	At         sim.Time
}

// Answer records one HTTP response the runner produced for a tunnel
// request, the SDK's own 404/503/501/500 included. Dropped means the
// runner's engine connection was not open, so #sendMessage dropped it
// (TUN:70-75) and nobody received it.
type Answer struct {
	Request model.RequestID
	Actor   model.ActorID
	Status  int
	At      sim.Time
	Dropped bool
}

// Runner is the runner SDK's Runner class (RUN:90-1470) on the sim kernel:
// the actors map, the engine connection with its lost threshold and
// reconnect, the event history, and the tunnel.
type Runner struct {
	w      *sim.World
	cfg    Config
	node   string
	engine string

	// #actors (RUN:97).
	actors map[model.ActorID]*actorInstance
	tunnel *Tunnel

	started bool

	// The engine connection (#pegboardWebSocket, RUN:101). ready mirrors
	// __webSocketReady (RUN:1345-1349); see conn.go for when it is set.
	conn  *sim.End
	ready bool
	// runnerID is the id from the last ToClientInit (RUN:559-564).
	runnerID model.RunnerID

	// Runner lost threshold management (RUN:111-113). lostTimerSet mirrors
	// the truthiness of #runnerLostTimeout: it stays set after the timer
	// fired, until the next connection clears it (RUN:472-476, 609, 662).
	lostThreshold sim.Time
	lostTimer     sim.Timer
	lostTimerSet  bool

	// Reconnect (RUN:108-109, 1396-1427).
	reconnectAttempt int
	reconnectTimer   sim.Timer
	// leakedReconnects are timers whose handle a second scheduleReconnect
	// overwrote: nothing can clear them (errata E15).
	leakedReconnects []sim.Timer
	autoReconnect    bool
	// closeReasons: the close frame's reason per socket, until it closes.
	closeReasons map[*sim.End]string
	// shutdownDone: Runner.shutdown ran (#shutdown).
	shutdownDone bool
	backoffRand  *rand.Rand

	// Events (RUN:105, 116); see conn.go for the simplification.
	nextEventIdx   int64
	eventHistory   []recordedEvent
	lastCommandIdx int64
	incarnation    uint32
	// commandAcks is the mk2 ack interval of the ready socket (from 5fcb724b0).
	commandAcks sim.Timer

	// store is the actors' persisted hibernation state (Config.Store).
	store *Store

	// Observability.
	hosting     []HostingEvent
	wsEvents    []WSEvent
	handlerRuns []HandlerRun
	stopCalls   []StopCall
	answers     []Answer
}

// New returns a runner that has not started.
func New(w *sim.World, cfg Config) *Runner {
	engine := cfg.Engine
	if engine == "" {
		engine = DefaultEngine
	}
	prefix := "runner/" + string(cfg.ID) + "/"
	r := &Runner{
		w:             w,
		cfg:           cfg,
		node:          string(cfg.ID),
		engine:        engine,
		actors:        map[model.ActorID]*actorInstance{},
		autoReconnect: true,
		closeReasons:  map[*sim.End]string{},
		backoffRand:   w.Rand(prefix + "backoff"),
		store:         cfg.Store,
	}
	if r.store == nil {
		r.store = NewStore()
	}
	r.tunnel = newTunnel(r, w.Rand(prefix+"msgid"))
	return r
}

// ID is the runner's id.
func (r *Runner) ID() model.RunnerID { return r.cfg.ID }

// Start starts the tunnel GC and dials the engine (start, RUN:252-299).
// Calling it twice panics, as upstream throws.
func (r *Runner) Start() {
	if r.started {
		panic("runner: cannot call Start twice") // RUN:253
	}
	r.started = true
	r.trace("runner.start", sim.Str("engine", r.engine))
	r.tunnel.start()
	r.openPegboardWebSocket()
}

// HandlerRuns lists every start of the user fetch handler, in order.
func (r *Runner) HandlerRuns() []HandlerRun { return slices.Clone(r.handlerRuns) }

// StopCalls lists every onActorStop call, in order.
func (r *Runner) StopCalls() []StopCall { return slices.Clone(r.stopCalls) }

// Answers lists every HTTP response the runner produced, in order.
func (r *Runner) Answers() []Answer { return slices.Clone(r.answers) }

// PendingTunnelMessages is the number of sent tunnel messages not yet acked
// by the gateway and not yet purged by the GC.
func (r *Runner) PendingTunnelMessages() int { return len(r.tunnel.pendingTunnelMessages) }

func (r *Runner) trace(event string, fs ...sim.Field) { r.w.Trace(r.node, event, fs...) }

// app tells the world what the actor's code saw (Config.App).
func (r *Runner) app(ev model.AppEvent) {
	if r.cfg.App == nil {
		return
	}
	ev.At, ev.Runner = r.w.Now(), r.cfg.ID
	r.cfg.App(ev)
}

// after runs fn once d of virtual time has passed. A zero d runs fn now:
// upstream awaits an already-resolved promise there, which resumes in a
// microtask before any other message or timer is handled.
func (r *Runner) after(d sim.Time, fn func()) {
	if d <= 0 {
		fn()
		return
	}
	r.w.After(d, fn)
}

func (r *Runner) behavior(id model.ActorID) Behavior {
	if r.cfg.Behavior == nil {
		return Behavior{}
	}
	return r.cfg.Behavior(id)
}

// HostingEvent is a change of what the runner really hosts: an actor
// generation entering #actors (Up) or leaving it.
type HostingEvent struct {
	At         sim.Time
	Actor      model.ActorID
	Generation model.Generation
	Up         bool
}

// Hosting is the runner's true hosting history, in order.
func (r *Runner) Hosting() []HostingEvent { return slices.Clone(r.hosting) }
