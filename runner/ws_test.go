package runner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// behave returns a Config.Behavior giving every actor b.
func behave(b Behavior) func(model.ActorID) Behavior {
	return func(model.ActorID) Behavior { return b }
}

func openWS(e *fakeEngine, rid model.RequestID, actor model.ActorID) model.MessageID {
	return e.tunnel(rid, model.WebSocketOpen{ActorID: actor, Path: "/ws", Headers: model.Headers{}})
}

func msgWS(e *fakeEngine, rid model.RequestID, idx uint16, data string) model.MessageID {
	return e.tunnel(rid, model.WebSocketMessage{Index: idx, Data: data})
}

func closeWS(e *fakeEngine, rid model.RequestID, code uint16, reason string) model.MessageID {
	return e.tunnel(rid, model.WebSocketClose{Code: model.Code(code), Reason: reason})
}

// serverKinds returns the runner's non-ack tunnel message kinds for rid.
func serverKinds(e *fakeEngine, rid model.RequestID) []model.TunnelKind {
	var out []model.TunnelKind
	for _, m := range e.tunnelMsgs(rid) {
		if _, ok := m.Kind.(model.TunnelAck); !ok {
			out = append(out, m.Kind)
		}
	}
	return out
}

// acks counts the TunnelAcks the runner sent for rid.
func acks(e *fakeEngine, rid model.RequestID) int {
	n := 0
	for _, m := range e.tunnelMsgs(rid) {
		if _, ok := m.Kind.(model.TunnelAck); ok {
			n++
		}
	}
	return n
}

func serverClose(code uint16, reason string, retry bool) model.ServerWebSocketClose {
	return model.ServerWebSocketClose{Code: model.Code(code), Reason: reason, Retry: retry}
}

// eventsOf returns the runner's WebSocket events with At zeroed, optionally
// only those of the given kinds.
func eventsOf(r *Runner, kinds ...string) []WSEvent {
	var out []WSEvent
	for _, ev := range r.WebSocketEvents() {
		if len(kinds) > 0 && !contains(kinds, ev.Kind) {
			continue
		}
		ev.At = 0
		out = append(out, ev)
	}
	return out
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// addRunner starts a second runner with its own fake engine.
func addRunner(t *testing.T, w *sim.World, id model.RunnerID, engine string, cfg Config) (*fakeEngine, *Runner) {
	t.Helper()
	e := newFakeEngineAt(t, w, engine, 0)
	cfg.ID, cfg.Engine = id, engine
	if cfg.Quirks == (model.Quirks{}) {
		cfg.Quirks = model.Seed.Quirks // as setup
	}
	r := New(w, cfg)
	r.Start()
	run(t, w, 100*sim.Millisecond)
	require.True(t, r.Connected())
	return e, r
}

func TestWebSocketOpenRejected(t *testing.T) {
	tests := []struct {
		name  string
		actor model.ActorID
		b     Behavior
		want  WSEvent
	}{
		{"unknown actor", "zz", Behavior{CanHibernate: true},
			WSEvent{Actor: "zz", Request: 5, Kind: WSCloseSent, Code: 1011, Reason: "Actor not found"}},
		{"no websocket handler", "a1", Behavior{NotImplemented: true},
			WSEvent{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseSent, Code: 1011, Reason: "Not Implemented"}},
		{"getActorHibernationConfig throws (E16)", "a1", Behavior{CanHibernate: true, WSThrow: true},
			WSEvent{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseSent, Code: 1011, Reason: "Server Error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 20, Config{Behavior: behave(tc.b)}, 0)
			startActor(t, w, e, "a1", 1)
			mid := openWS(e, 5, tc.actor)
			run(t, w, 10*sim.Millisecond)

			assertAckFirst(t, e, 5, mid)
			assert.Equal(t, []model.TunnelKind{serverClose(1011, tc.want.Reason, false)}, serverKinds(e, 5),
				"a pre-open close, retry:false, no ServerWebSocketOpen")
			assert.Equal(t, []WSEvent{tc.want}, eventsOf(r))
			assert.Empty(t, r.tunnel.actorWebSockets)
			assert.Empty(t, r.actors["a1"].webSockets, "untracked")

			// Later messages find no adapter.
			msgWS(e, 5, 1, "x")
			run(t, w, 10*sim.Millisecond)
			assert.Len(t, serverKinds(e, 5), 1)
			assert.Len(t, traceEvents(w, "runner.ws_message_ignored"), 1)
		})
	}
}

func TestWebSocketOpenEchoAck(t *testing.T) {
	tests := []struct {
		name     string
		b        Behavior
		wantAcks []uint16
	}{
		{"hibernatable, acks at once", Behavior{CanHibernate: true}, []uint16{1, 2, 3}},
		{"hibernatable, acks later", Behavior{CanHibernate: true, AckDelay: 500 * sim.Millisecond}, []uint16{1, 2, 3}},
		{"not hibernatable: never acks", Behavior{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 21, Config{Behavior: behave(tc.b)}, 0)
			startActor(t, w, e, "a1", 2)
			mid := openWS(e, 5, "a1")
			run(t, w, 10*sim.Millisecond)
			assertAckFirst(t, e, 5, mid)
			assert.Equal(t, []model.TunnelKind{model.ServerWebSocketOpen{CanHibernate: tc.b.CanHibernate, LastMsgIndex: -1}},
				serverKinds(e, 5))
			assert.Equal(t, map[model.RequestID]struct{}{5: {}}, r.actors["a1"].webSockets)
			require.Contains(t, r.tunnel.actorWebSockets, model.RequestID(5))
			assert.Equal(t, wsOpen, r.tunnel.actorWebSockets[5].readyState)

			msgWS(e, 5, 1, "a")
			msgWS(e, 5, 2, "b")
			e.tunnel(5, model.WebSocketMessage{Index: 3, Data: "bin", Binary: true}) // not echoed
			run(t, w, 10*sim.Millisecond)
			var echoes []model.TunnelKind
			for _, k := range serverKinds(e, 5) {
				if _, ok := k.(model.ServerWebSocketMessage); ok {
					echoes = append(echoes, k)
				}
			}
			assert.Equal(t, []model.TunnelKind{
				model.ServerWebSocketMessage{Data: "echo:a"},
				model.ServerWebSocketMessage{Data: "echo:b"},
			}, echoes)
			assert.Equal(t, 4, acks(e, 5), "every gateway message is TunnelAck'd")

			run(t, w, tc.b.AckDelay)
			var gotAcks []uint16
			for _, k := range serverKinds(e, 5) {
				if a, ok := k.(model.ServerWebSocketMessageAck); ok {
					gotAcks = append(gotAcks, a.Index)
				}
			}
			assert.Equal(t, tc.wantAcks, gotAcks)
			received := map[int]sim.Time{}
			for _, ev := range r.WebSocketEvents() {
				switch ev.Kind {
				case WSMessage:
					received[ev.Index] = ev.At
				case WSAck:
					assert.Equal(t, tc.b.AckDelay, ev.At-received[ev.Index], "ack AckDelay after the message")
				}
			}
			last, ok := r.Store().LastMsgIndex("a1", 5)
			assert.Equal(t, tc.wantAcks != nil, ok)
			if ok {
				assert.Equal(t, int64(3), last)
			}

			msgs := eventsOf(r, WSOpen, WSMessage)
			assert.Equal(t, []WSEvent{
				{Actor: "a1", Generation: 2, Request: 5, Kind: WSOpen, Index: -1, CanHibernate: tc.b.CanHibernate},
				{Actor: "a1", Generation: 2, Request: 5, Kind: WSMessage, Data: "a", Index: 1},
				{Actor: "a1", Generation: 2, Request: 5, Kind: WSMessage, Data: "b", Index: 2},
				{Actor: "a1", Generation: 2, Request: 5, Kind: WSMessage, Data: "bin", Binary: true, Index: 3},
			}, msgs)
		})
	}
}

func TestWebSocketMessageIndexNotFiltered(t *testing.T) {
	// WSA:439-483 passes msg.index through as rivetMessageIndex and never
	// compares it with anything: duplicates and old indices reach the actor.
	w, e, r := setup(t, 22, Config{Behavior: behave(Behavior{CanHibernate: true})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	for _, i := range []uint16{1, 2, 2, 1, 7} {
		msgWS(e, 5, i, "m")
	}
	run(t, w, 10*sim.Millisecond)
	var idx []int
	for _, ev := range eventsOf(r, WSMessage) {
		idx = append(idx, ev.Index)
	}
	assert.Equal(t, []int{1, 2, 2, 1, 7}, idx)
	last, _ := r.Store().LastMsgIndex("a1", 5)
	assert.Equal(t, int64(7), last, "the last message's index, whatever it is")
}

func TestWebSocketHibernationStateSurvivesRestart(t *testing.T) {
	tests := []struct {
		name     string
		moveTo   model.RunnerID // "" restarts on the same runner
		shared   bool
		wantLast int64
	}{
		{"same runner, next generation", "", false, 3},
		{"another runner, shared store", "r2", true, 3},
		{"another runner, separate stores", "r2", false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var store *Store
			if tc.shared {
				store = NewStore()
			}
			cfg := Config{Store: store, Behavior: behave(Behavior{CanHibernate: true, AckDelay: 50 * sim.Millisecond})}
			w, e1, r1 := setup(t, 23, cfg, 0)
			e2, r2 := e1, r1
			if tc.moveTo != "" {
				e2, r2 = addRunner(t, w, tc.moveTo, "engine2", cfg)
			}
			startActor(t, w, e1, "a1", 1)
			openWS(e1, 5, "a1")
			for i := uint16(1); i <= 3; i++ {
				msgWS(e1, 5, i, "m")
			}
			run(t, w, 100*sim.Millisecond)

			e1.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
			run(t, w, 10*sim.Millisecond)
			assert.Equal(t, serverClose(1000, "Actor stopped", true), serverKinds(e1, 5)[len(serverKinds(e1, 5))-1])

			startActor(t, w, e2, "a1", 2)
			openWS(e2, 5, "a1") // the gateway's retry: same request id
			openWS(e2, 6, "a1") // another socket: nothing stored
			run(t, w, 10*sim.Millisecond)
			opens := eventsOf(r2, WSOpen)
			require.NotEmpty(t, opens)
			assert.Equal(t, WSEvent{Actor: "a1", Generation: 2, Request: 5, Kind: WSOpen, Index: int(tc.wantLast), CanHibernate: true},
				opens[len(opens)-2])
			assert.Equal(t, WSEvent{Actor: "a1", Generation: 2, Request: 6, Kind: WSOpen, Index: -1, CanHibernate: true},
				opens[len(opens)-1])
			k := serverKinds(e2, 5)
			assert.Equal(t, model.ServerWebSocketOpen{CanHibernate: true, LastMsgIndex: tc.wantLast}, k[len(k)-1])
		})
	}
}

func TestWebSocketActorStop(t *testing.T) {
	w, e, r := setup(t, 24, Config{StopDelay: sim.Second, Behavior: behave(Behavior{})}, 0)
	startActor(t, w, e, "a1", 1)
	startActor(t, w, e, "b1", 1)
	openWS(e, 7, "a1")
	openWS(e, 5, "a1")
	openWS(e, 6, "a1")
	openWS(e, 9, "b1")
	closeWS(e, 6, 1000, "") // the gateway closed 6: it stays in actor.webSockets (E18)
	run(t, w, 10*sim.Millisecond)
	require.Equal(t, map[model.RequestID]struct{}{5: {}, 6: {}, 7: {}}, r.actors["a1"].webSockets)

	e.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
	run(t, w, 10*sim.Millisecond)
	assert.False(t, r.HasActor("a1"))
	for _, rid := range []model.RequestID{5, 7} {
		k := serverKinds(e, rid)
		assert.Equal(t, serverClose(1000, "Actor stopped", true), k[len(k)-1], "rid %d", rid)
	}
	assert.Equal(t, []model.TunnelKind{model.ServerWebSocketOpen{LastMsgIndex: -1}}, serverKinds(e, 6),
		"no close for the socket the gateway closed")
	assert.Equal(t, []model.RequestID{9}, sim.SortedKeys(r.tunnel.actorWebSockets), "b1's socket untouched")
	assert.Equal(t, []WSEvent{
		{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseSent, Code: 1000, Reason: "Actor stopped", Retry: true},
		{Actor: "a1", Generation: 1, Request: 7, Kind: WSCloseSent, Code: 1000, Reason: "Actor stopped", Retry: true},
	}, eventsOf(r, WSCloseSent), "sorted order")
	assert.Len(t, traceEvents(w, "runner.ws_actor_close"), 3, "the actor's close listener saw 6, 5, 7")

	// Guard answers the runner's close after an open with its own (W7): no
	// adapter is left, the close is recorded against the stopped instance.
	closeWS(e, 5, 1011, "ws.downstream_closed")
	run(t, w, 10*sim.Millisecond)
	got := eventsOf(r, WSCloseReceived)
	require.Len(t, got, 2)
	assert.Equal(t, WSEvent{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseReceived, Code: 1011,
		Reason: "ws.downstream_closed", NoAdapter: true}, got[1])
	assert.Len(t, r.StopCalls(), 1, "closes sent before onActorStop resolves (spec L1)")
	assert.Equal(t, []model.ActorState{model.ActorRunning}, e.states("a1"))
}

func TestWebSocketGatewayClose(t *testing.T) {
	w, e, r := setup(t, 25, Config{Behavior: behave(Behavior{CanHibernate: true})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	mid := closeWS(e, 5, 1011, "ws.downstream_closed")
	run(t, w, 10*sim.Millisecond)

	msgs := e.tunnelMsgs(5)
	last := msgs[len(msgs)-1]
	assert.Equal(t, model.TunnelAck{}, last.Kind, "only the TunnelAck goes back (E18)")
	assert.Equal(t, mid, last.MessageID)
	assert.Equal(t, []model.TunnelKind{model.ServerWebSocketOpen{CanHibernate: true, LastMsgIndex: -1}}, serverKinds(e, 5))
	assert.Empty(t, r.tunnel.actorWebSockets, "adapter removed")
	assert.Contains(t, r.actors["a1"].webSockets, model.RequestID(5), "id stays tracked (E18)")
	assert.Equal(t, []WSEvent{{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseReceived, Code: 1011, Reason: "ws.downstream_closed"}},
		eventsOf(r, WSCloseReceived))
	assert.Len(t, traceEvents(w, "runner.ws_actor_close"), 1)

	// A second close and later messages find no adapter.
	closeWS(e, 5, 1000, "")
	msgWS(e, 5, 1, "late")
	run(t, w, 10*sim.Millisecond)
	assert.Len(t, serverKinds(e, 5), 1)
	assert.Empty(t, eventsOf(r, WSMessage))
	assert.Len(t, traceEvents(w, "runner.ws_message_ignored"), 1)
	assert.Equal(t, WSEvent{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseReceived, Code: 1000, NoAdapter: true},
		eventsOf(r, WSCloseReceived)[1], "recorded, with the owner it was last opened for")
	assert.Len(t, traceEvents(w, "runner.ws_actor_close"), 1, "nothing fired")
}

func TestWebSocketTunnelGC(t *testing.T) {
	tests := []struct {
		name      string
		ackOpen   bool
		wantClose bool
	}{
		{"open never acked: closed at the 60 s tick", false, true},
		{"open acked: kept", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 26, Config{Behavior: behave(Behavior{CanHibernate: true})}, 0)
			startActor(t, w, e, "a1", 1)
			openWS(e, 5, "a1")
			run(t, w, 10*sim.Millisecond)
			if tc.ackOpen {
				open := e.tunnelMsgs(5)[1]
				require.IsType(t, model.ServerWebSocketOpen{}, open.Kind)
				e.send(&model.ToClientTunnelMessage{RequestID: 5, MessageID: open.MessageID, Kind: model.TunnelAck{}})
			}
			require.NoError(t, w.RunUntil(60*sim.Second-sim.Millisecond))
			assert.Len(t, serverKinds(e, 5), 1)

			require.NoError(t, w.RunUntil(60*sim.Second+10*sim.Millisecond))
			closes := eventsOf(r, WSCloseSent)
			if !tc.wantClose {
				assert.Empty(t, closes)
				assert.Contains(t, r.tunnel.actorWebSockets, model.RequestID(5))
				return
			}
			assert.Equal(t, []model.TunnelKind{
				model.ServerWebSocketOpen{CanHibernate: true, LastMsgIndex: -1},
				serverClose(1000, "Message acknowledgment timeout", true),
			}, serverKinds(e, 5))
			assert.Equal(t, []WSEvent{{Actor: "a1", Generation: 1, Request: 5, Kind: WSCloseSent, Code: 1000,
				Reason: "Message acknowledgment timeout", Retry: true}}, closes)
			assert.Empty(t, r.tunnel.actorWebSockets)
			assert.Empty(t, r.actors["a1"].webSockets)
			assert.Equal(t, 1, r.PendingTunnelMessages(), "the close itself is pending now")
		})
	}
}

func TestWebSocketHandlerThrows(t *testing.T) {
	w, e, r := setup(t, 27, Config{Behavior: behave(Behavior{CanHibernate: true, WSHandlerThrow: true})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	assert.Equal(t, []model.TunnelKind{
		model.ServerWebSocketOpen{CanHibernate: true, LastMsgIndex: -1},
		serverClose(1011, "Server Error", false),
	}, serverKinds(e, 5), "a post-open close (d.4 step 4)")
	assert.Equal(t, []string{WSOpen, WSCloseSent}, kindsOf(eventsOf(r)))
	assert.Empty(t, r.tunnel.actorWebSockets)
	assert.Empty(t, r.actors["a1"].webSockets)

	msgWS(e, 5, 1, "x")
	run(t, w, 10*sim.Millisecond)
	assert.Len(t, serverKinds(e, 5), 2, "no adapter any more")
}

func kindsOf(evs []WSEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

func TestWebSocketReopenOrphans(t *testing.T) {
	w, e, r := setup(t, 28, Config{Behavior: behave(Behavior{})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	old := r.tunnel.actorWebSockets[5]
	openWS(e, 5, "a1") // the gateway's retry after a pre-open failure (spec (i).20)
	msgWS(e, 5, 1, "hi")
	run(t, w, 10*sim.Millisecond)

	assert.NotSame(t, old, r.tunnel.actorWebSockets[5])
	assert.Equal(t, []WSEvent{
		{Actor: "a1", Generation: 1, Request: 5, Kind: WSOpen, Index: -1},
		{Actor: "a1", Generation: 1, Request: 5, Kind: WSOrphaned},
		{Actor: "a1", Generation: 1, Request: 5, Kind: WSOpen, Index: -1},
		{Actor: "a1", Generation: 1, Request: 5, Kind: WSMessage, Data: "hi", Index: 1},
	}, eventsOf(r))
	assert.Equal(t, []model.TunnelKind{
		model.ServerWebSocketOpen{LastMsgIndex: -1},
		model.ServerWebSocketOpen{LastMsgIndex: -1},
		model.ServerWebSocketMessage{Data: "echo:hi"},
	}, serverKinds(e, 5), "only the new adapter gets the message")

	e.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
	run(t, w, 10*sim.Millisecond)
	assert.Len(t, eventsOf(r, WSCloseSent), 1, "one close, for the new adapter")
	assert.Equal(t, wsOpen, old.readyState, "the orphan is never closed")
}

func TestWebSocketAdapterClosePaths(t *testing.T) {
	type call struct {
		code   string
		reason string
		retry  bool
	}
	tests := []struct {
		name  string
		do    func(a *webSocketAdapter)
		calls []call
	}{
		{"close", func(a *webSocketAdapter) { a.close(model.Code(4000), "bye") }, []call{{"4000", "bye", false}}},
		{"closeWithRetry", func(a *webSocketAdapter) { a.closeWithRetry(model.Code(1000), "x") }, []call{{"1000", "x", true}}},
		{"closeWithRetry, no code", func(a *webSocketAdapter) { a.closeWithRetry(nil, "") }, []call{{"none", "", true}}},
		{"second close is a no-op", func(a *webSocketAdapter) {
			a.close(nil, "a")
			a.closeWithRetry(nil, "b")
		}, []call{{"none", "a", false}}},
		{"terminate", func(a *webSocketAdapter) { a.terminate() }, []call{{"1006", "Abnormal Closure", false}}},
		{"terminate after close sends again", func(a *webSocketAdapter) {
			a.close(nil, "")
			a.terminate()
		}, []call{{"none", "", false}, {"1006", "Abnormal Closure", false}}},
		{"close after a gateway close is a no-op", func(a *webSocketAdapter) {
			a.handleClose(1, nil, "")
			a.close(nil, "")
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, r := setup(t, 29, Config{}, 0)
			var calls []call
			var closeEvents []wsEvent
			a := newWebSocketAdapter(r, 1, newActorInstance("a1", 1), func(string, bool) {},
				func(code *uint16, reason string, retry bool) {
					calls = append(calls, call{codeString(code), reason, retry})
				})
			a.handleOpen(1)
			a.addEventListener(wsEventClose, func(ev wsEvent) { closeEvents = append(closeEvents, ev) })
			tc.do(a)
			assert.Equal(t, tc.calls, calls)
			assert.Equal(t, wsClosed, a.readyState)
			assert.NotEmpty(t, closeEvents)
			assert.ErrorIs(t, a.send("x", false), errWebSocketNotOpen)
		})
	}
}

func TestWebSocketAdapterBuffersEvents(t *testing.T) {
	// WSA:335-338, 341-418: events fired with no listener wait for one.
	_, _, r := setup(t, 30, Config{}, 0)
	a := newWebSocketAdapter(r, 1, newActorInstance("a1", 1), func(string, bool) {}, func(*uint16, string, bool) {})
	assert.True(t, a.handleMessage(1, "early", 1, false), "not OPEN: dropped")
	a.handleOpen(1)
	assert.False(t, a.handleMessage(1, "m1", 1, false))
	assert.False(t, a.handleMessage(1, "m2", 2, false))
	var got []string
	a.addEventListener(wsEventOpen, func(ev wsEvent) { got = append(got, "open") })
	a.addEventListener(wsEventMessage, func(ev wsEvent) { got = append(got, ev.data) })
	assert.Equal(t, []string{"open", "m1", "m2"}, got)
	assert.Empty(t, a.bufferedEvents)
}

func TestToClientCloseClosesWebSockets(t *testing.T) {
	w, e, r := setup(t, 31, Config{Behavior: behave(Behavior{CanHibernate: true})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	e.send(&model.ToClientClose{})
	run(t, w, 10*sim.Millisecond)
	k := serverKinds(e, 5)
	assert.Equal(t, model.ServerWebSocketClose{Code: nil, Reason: "", Retry: true}, k[len(k)-1],
		"shutdown: __closeWithRetry() with no code (TUN:58-62)")
	assert.Empty(t, r.tunnel.actorWebSockets)
}

// wsScenario exercises the WebSocket paths and returns the trace and the
// WebSocket events of both runners.
func wsScenario(t *testing.T, seed uint64) ([]string, []WSEvent) {
	store := NewStore()
	cfg := Config{Store: store, StopDelay: 200 * sim.Millisecond, Behavior: func(id model.ActorID) Behavior {
		return Behavior{CanHibernate: id != "b1", AckDelay: sim.Time(len(id)) * 300 * sim.Millisecond}
	}}
	w, e1, r1 := setup(t, seed, cfg, 0)
	e2, r2 := addRunner(t, w, "r2", "engine2", cfg)
	startActor(t, w, e1, "a1", 1)
	startActor(t, w, e1, "b1", 1)
	openWS(e1, 1, "a1")
	openWS(e1, 2, "b1")
	openWS(e1, 3, "zz")
	for i := uint16(1); i <= 4; i++ {
		msgWS(e1, 1, i, "x")
		msgWS(e1, 2, 0, "y")
	}
	run(t, w, 100*sim.Millisecond)
	openWS(e1, 2, "b1")
	e1.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
	run(t, w, sim.Second)
	startActor(t, w, e2, "a1", 2)
	openWS(e2, 1, "a1")
	msgWS(e2, 1, 5, "z")
	closeWS(e1, 2, 1000, "")
	require.NoError(t, w.RunFor(130*sim.Second))
	require.NoError(t, w.RunUntilQuiet())
	return w.TraceLines(), append(r1.WebSocketEvents(), r2.WebSocketEvents()...)
}

func TestWebSocketDeterminism(t *testing.T) {
	a, evA := wsScenario(t, 42)
	b, evB := wsScenario(t, 42)
	require.NotEmpty(t, evA)
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same seed, different trace (-first +second):\n%s", d)
	}
	assert.Equal(t, evA, evB)
	c, _ := wsScenario(t, 43)
	assert.NotEqual(t, a, c, "the seed matters")
	for _, l := range a {
		assert.NotContains(t, l, "0x", "no addresses in the trace")
	}
}

// TestWebSocketActorStopOrder: at the seed the actor's sockets close before
// onActorStop runs; from 53f4819a8 after it resolves, just before stopped
// (RUN@53f4819a8:162-181).
func TestWebSocketActorStopOrder(t *testing.T) {
	for _, tc := range []struct {
		profile   model.Profile
		wantClose sim.Time // after the stop command
	}{
		{model.Seed, 0},
		{mustProfile(t, "53f4819a8"), sim.Second},
	} {
		t.Run(tc.profile.Name(), func(t *testing.T) {
			w, e, r := setup(t, 24, Config{Quirks: tc.profile.Quirks, StopDelay: sim.Second, Behavior: behave(Behavior{})}, 0)
			startActor(t, w, e, "a1", 1)
			openWS(e, 5, "a1")
			run(t, w, 10*sim.Millisecond)
			stopAt := w.Now()
			e.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
			run(t, w, 2*sim.Second)
			var closes []WSEvent
			for _, ev := range r.WebSocketEvents() {
				if ev.Kind == WSCloseSent {
					closes = append(closes, ev)
				}
			}
			require.Len(t, closes, 1)
			assert.Equal(t, "Actor stopped", closes[0].Reason)
			assert.InDelta(t, float64(tc.wantClose), float64(closes[0].At-stopAt), float64(5*sim.Millisecond))
		})
	}
}

// TestWebSocketDuplicateOpen: from 3d4e089d6 a duplicate open closes the
// old adapter locally, 1000 "ws.duplicate_open", sending nothing
// (TUN@3d4e089d6:575-592); before it the old adapter is orphaned, open.
func TestWebSocketDuplicateOpen(t *testing.T) {
	w, e, r := setup(t, 28, Config{Quirks: mustProfile(t, "3d4e089d6").Quirks, Behavior: behave(Behavior{})}, 0)
	startActor(t, w, e, "a1", 1)
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	old := r.tunnel.actorWebSockets[5]
	openWS(e, 5, "a1")
	run(t, w, 10*sim.Millisecond)
	assert.Equal(t, wsClosed, old.readyState)
	assert.Empty(t, eventsOf(r, WSOrphaned))
	assert.Empty(t, eventsOf(r, WSCloseSent), "nothing is sent for the old adapter")
	assert.Len(t, traceEvents(w, "runner.ws_duplicate_open"), 1)
}

func mustProfile(t *testing.T, name string) model.Profile {
	t.Helper()
	p, err := model.ProfileByName(name)
	require.NoError(t, err)
	return p
}
