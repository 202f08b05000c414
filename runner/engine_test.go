package runner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// fakeEngine is a tiny pegboard-runner endpoint: it answers ToServerInit
// with ToClientInit, lets the test send engine → runner messages on the
// current connection, and records everything the runner sends.
type fakeEngine struct {
	t             *testing.T
	node          string
	w             *sim.World
	lostThreshold sim.Time
	conn          *sim.End // the latest accepted connection
	accepts       int
	got           []received
	nextMID       model.MessageID
	lastEvent     int64 // the last event index received, for ToClientInit
}

type received struct {
	At   sim.Time
	Conn uint64
	Msg  model.ToServer
}

func newFakeEngine(t *testing.T, w *sim.World, lostThreshold sim.Time) *fakeEngine {
	return newFakeEngineAt(t, w, DefaultEngine, lostThreshold)
}

// newFakeEngineAt is newFakeEngine listening on another node, for a second
// runner in the same world.
func newFakeEngineAt(t *testing.T, w *sim.World, node string, lostThreshold sim.Time) *fakeEngine {
	e := &fakeEngine{t: t, node: node, w: w, lostThreshold: lostThreshold, nextMID: 1000}
	e.listen()
	return e
}

// listen (re)starts accepting runner connections.
func (e *fakeEngine) listen() {
	t, w := e.t, e.w
	w.Net().Listen(e.node, func(c *sim.End) {
		e.conn = c
		e.accepts++
		c.Handle(func(msg any) {
			m, ok := msg.(model.ToServer)
			require.True(t, ok, "runner sent a %T, not a model.ToServer", msg)
			e.got = append(e.got, received{At: w.Now(), Conn: c.ID(), Msg: m})
			switch ev := m.(type) {
			case *model.ToServerInit:
				c.Send(&model.ToClientInit{Runner: ev.Runner, Incarnation: ev.Incarnation, RunnerLostThreshold: int64(e.lostThreshold), LastEventIdx: e.lastEvent})
			case *model.EventActorStateUpdate:
				e.lastEvent = max(e.lastEvent, ev.Index)
			case *model.EventActorIntent:
				e.lastEvent = max(e.lastEvent, ev.Index)
			}
		}, func(sim.CloseReason) {})
	})
}

// send sends an engine → runner message on the current connection.
func (e *fakeEngine) send(msg model.ToClient) {
	e.t.Helper()
	require.NotNil(e.t, e.conn, "no runner connected")
	require.True(e.t, e.conn.Open(), "engine connection closed")
	e.conn.Send(msg)
}

// tunnel sends a tunnel message with a fresh message id and returns the id.
func (e *fakeEngine) tunnel(rid model.RequestID, kind model.TunnelKind) model.MessageID {
	e.nextMID++
	e.send(&model.ToClientTunnelMessage{RequestID: rid, MessageID: e.nextMID, Kind: kind})
	return e.nextMID
}

func (e *fakeEngine) request(rid model.RequestID, actor model.ActorID) model.MessageID {
	return e.tunnel(rid, model.RequestStart{ActorID: actor, Method: "GET", Path: "/", Headers: model.Headers{}})
}

// tunnelMsgs returns the runner's tunnel messages for rid, in order.
func (e *fakeEngine) tunnelMsgs(rid model.RequestID) []*model.ToServerTunnelMessage {
	var out []*model.ToServerTunnelMessage
	for _, r := range e.got {
		if m, ok := r.Msg.(*model.ToServerTunnelMessage); ok && m.RequestID == rid {
			out = append(out, m)
		}
	}
	return out
}

// responses returns the ResponseStarts the engine received for rid.
func (e *fakeEngine) responses(rid model.RequestID) []model.ResponseStart {
	var out []model.ResponseStart
	for _, m := range e.tunnelMsgs(rid) {
		if rs, ok := m.Kind.(model.ResponseStart); ok {
			out = append(out, rs)
		}
	}
	return out
}

// events returns the actor events the engine received, with their times.
func (e *fakeEngine) events() []received {
	var out []received
	for _, r := range e.got {
		switch r.Msg.(type) {
		case *model.EventActorStateUpdate, *model.EventActorIntent:
			out = append(out, r)
		}
	}
	return out
}

func (e *fakeEngine) states(actor model.ActorID) []model.ActorState {
	var out []model.ActorState
	for _, r := range e.events() {
		if m, ok := r.Msg.(*model.EventActorStateUpdate); ok && m.ActorID == actor {
			out = append(out, m.State)
		}
	}
	return out
}

// setup builds a world, a fake engine and a started, initialised runner.
func setup(t *testing.T, seed uint64, cfg Config, lostThreshold sim.Time) (*sim.World, *fakeEngine, *Runner) {
	t.Helper()
	w := sim.New(sim.Config{Seed: seed})
	e := newFakeEngine(t, w, lostThreshold)
	if cfg.ID == "" {
		cfg.ID = "r1"
	}
	if cfg.Quirks == (model.Quirks{}) {
		cfg.Quirks = model.Seed.Quirks // the tests describe the seed unless they name a commit
	}
	r := New(w, cfg)
	r.Start()
	run(t, w, 100*sim.Millisecond)
	require.True(t, r.Connected())
	return w, e, r
}

func run(t *testing.T, w *sim.World, d sim.Time) {
	t.Helper()
	require.NoError(t, w.RunFor(d))
}

// startActor starts an actor and runs until the runner has handled it.
func startActor(t *testing.T, w *sim.World, e *fakeEngine, id model.ActorID, gen model.Generation) {
	t.Helper()
	e.send(&model.CommandStartActor{ActorID: id, Generation: gen})
	run(t, w, 10*sim.Millisecond)
}
