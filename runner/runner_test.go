package runner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// traceEvents returns the trace lines of the runner's event ev.
func traceEvents(w *sim.World, ev string) []string {
	var out []string
	for _, l := range w.TraceLines() {
		if f := strings.Fields(l); len(f) >= 4 && f[3] == ev {
			out = append(out, l)
		}
	}
	return out
}

// assertAckFirst checks that the runner's first tunnel message for rid is a
// TunnelAck echoing mid, and that the rest use other message ids.
func assertAckFirst(t *testing.T, e *fakeEngine, rid model.RequestID, mid model.MessageID) {
	t.Helper()
	msgs := e.tunnelMsgs(rid)
	require.NotEmpty(t, msgs)
	assert.Equal(t, model.TunnelAck{}, msgs[0].Kind, "first message is the ack")
	assert.Equal(t, mid, msgs[0].MessageID, "ack echoes the message id")
	for _, m := range msgs[1:] {
		assert.NotEqual(t, mid, m.MessageID)
		assert.NotEqual(t, model.TunnelAck{}, m.Kind)
	}
}

func TestFetchUnknownActor(t *testing.T) {
	tests := []struct {
		name       string
		quirks     model.Quirks
		hosted     bool // some other actor is hosted
		wantStatus int
		wantHdrs   model.Headers
	}{
		{"seed: 503 + x-rivet-error", model.Seed.Quirks, false, 503,
			model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "15", "x-rivet-error": "runner.actor_not_found"}},
		{"seed, other actor hosted", model.Seed.Quirks, true, 503,
			model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "15", "x-rivet-error": "runner.actor_not_found"}},
		{"parent: 404", model.Parent.Quirks, false, 404,
			model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "15"}},
		{"450d9e5c6: 503", mustProfile(t, "450d9e5c6").Quirks, true, 503,
			model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "15", "x-rivet-error": "runner.actor_not_found"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := 0
			w, e, r := setup(t, 1, Config{Quirks: tc.quirks, Behavior: func(model.ActorID) Behavior { called++; return Behavior{} }}, 0)
			if tc.hosted {
				startActor(t, w, e, "other", 1)
			}
			mid := e.request(7, "a1")
			run(t, w, 100*sim.Millisecond)

			assertAckFirst(t, e, 7, mid)
			resp := e.responses(7)
			require.Len(t, resp, 1)
			assert.Equal(t, model.ResponseStart{Status: tc.wantStatus, Headers: tc.wantHdrs, Body: "Actor not found"}, resp[0])
			assert.Zero(t, called, "user handler not called")
			assert.Empty(t, r.HandlerRuns())
			ans := r.Answers()
			require.Len(t, ans, 1)
			assert.Equal(t, Answer{Request: 7, Actor: "a1", Status: tc.wantStatus, At: ans[0].At}, ans[0])
		})
	}
}

func TestFetchKnownActor(t *testing.T) {
	tests := []struct {
		name  string
		b     Behavior
		want  model.ResponseStart
		delay sim.Time
	}{
		{"default body", Behavior{}, model.ResponseStart{Status: 200, Body: "runner=r1 actor=a1 gen=3",
			Headers: model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "24"}}, 0},
		{"custom", Behavior{Status: 201, Body: "{}", Headers: model.Headers{"X-Foo": "bar", "content-type": "application/json"}},
			model.ResponseStart{Status: 201, Body: "{}",
				Headers: model.Headers{"x-foo": "bar", "content-type": "application/json", "content-length": "2"}}, 0},
		{"own content-length kept", Behavior{Body: "abc", Headers: model.Headers{"content-length": "99"}},
			model.ResponseStart{Status: 200, Body: "abc",
				Headers: model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "99"}}, 0},
		{"delayed", Behavior{Delay: 300 * sim.Millisecond}, model.ResponseStart{Status: 200, Body: "runner=r1 actor=a1 gen=3",
			Headers: model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "24"}}, 300 * sim.Millisecond},
		{"throws", Behavior{Delay: 50 * sim.Millisecond, Throw: true}, model.ResponseStart{Status: 500, Body: "Internal Server Error",
			Headers: model.Headers{"content-type": "text/plain"}}, 50 * sim.Millisecond},
		{"not implemented", Behavior{NotImplemented: true}, model.ResponseStart{Status: 501, Body: "Not Implemented",
			Headers: model.Headers{"content-type": "text/plain;charset=UTF-8", "content-length": "15"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 2, Config{Behavior: func(model.ActorID) Behavior { return tc.b }}, 0)
			startActor(t, w, e, "a1", 3)
			mid := e.request(9, "a1")
			run(t, w, tc.delay+100*sim.Millisecond)

			assertAckFirst(t, e, 9, mid)
			resp := e.responses(9)
			require.Len(t, resp, 1)
			assert.Equal(t, tc.want, resp[0])

			runs := r.HandlerRuns()
			require.Len(t, runs, 1, "user handler called once")
			assert.Equal(t, HandlerRun{Actor: "a1", Generation: 3, Request: 9, At: runs[0].At}, runs[0])
			ans := r.Answers()
			require.Len(t, ans, 1)
			assert.Equal(t, tc.want.Status, ans[0].Status)
			assert.Equal(t, tc.delay, ans[0].At-runs[0].At, "handler takes Delay")
			assert.Empty(t, r.actors["a1"].requests, "request id removed when done")
		})
	}
}

func TestStartReportsRunningBeforeOnActorStartFinishes(t *testing.T) {
	w, e, r := setup(t, 3, Config{StartDelay: 5 * sim.Second}, 0)
	e.send(&model.CommandStartActor{ActorID: "a1", Generation: 1})
	run(t, w, 10*sim.Millisecond)

	assert.True(t, r.HasActor("a1"))
	assert.Equal(t, []model.ActorState{model.ActorRunning}, e.states("a1"))
	assert.Empty(t, traceEvents(w, "runner.actor_started"), "onActorStart still running")

	// Spec (i).12: the user handler runs although onActorStart has not finished.
	e.request(1, "a1")
	run(t, w, 10*sim.Millisecond)
	assert.Len(t, r.HandlerRuns(), 1)
	assert.Equal(t, 200, e.responses(1)[0].Status)

	run(t, w, 5*sim.Second)
	assert.Len(t, traceEvents(w, "runner.actor_started"), 1)
}

func TestStopActor(t *testing.T) {
	tests := []struct {
		name      string
		stops     []model.CommandStopActor
		wantCalls int
		wantHost  bool
	}{
		{"stop", []model.CommandStopActor{{ActorID: "a1", Generation: 3}}, 1, false},
		{"duplicate stop", []model.CommandStopActor{{ActorID: "a1", Generation: 3}, {ActorID: "a1", Generation: 3}}, 1, false},
		{"stale generation", []model.CommandStopActor{{ActorID: "a1", Generation: 2}}, 0, true},
		{"stale then current then stale", []model.CommandStopActor{
			{ActorID: "a1", Generation: 2}, {ActorID: "a1", Generation: 3}, {ActorID: "a1", Generation: 4}}, 1, false},
		{"unknown actor", []model.CommandStopActor{{ActorID: "zz", Generation: 3}}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 4, Config{StopDelay: sim.Second}, 0)
			startActor(t, w, e, "a1", 3)
			for _, s := range tc.stops {
				e.send(&s)
			}
			run(t, w, 10*sim.Millisecond)
			assert.Equal(t, tc.wantHost, r.HasActor("a1"), "removed before onActorStop finishes")
			if tc.wantCalls > 0 {
				assert.Equal(t, []model.ActorState{model.ActorRunning}, e.states("a1"), "stopped only after onActorStop")
			}

			run(t, w, 2*sim.Second)
			calls := r.StopCalls()
			require.Len(t, calls, tc.wantCalls, "onActorStop exactly once per removal")
			want := []model.ActorState{model.ActorRunning}
			if tc.wantCalls > 0 {
				assert.Equal(t, StopCall{Actor: "a1", Generation: 3, At: calls[0].At}, calls[0])
				want = append(want, model.ActorStopped)
			}
			assert.Equal(t, want, e.states("a1"))
		})
	}
}

func TestInFlightRequestSurvivesStop(t *testing.T) {
	w, e, r := setup(t, 5, Config{Behavior: func(model.ActorID) Behavior { return Behavior{Delay: 500 * sim.Millisecond} }}, 0)
	startActor(t, w, e, "a1", 2)
	e.request(1, "a1")
	run(t, w, 100*sim.Millisecond)
	e.send(&model.CommandStopActor{ActorID: "a1", Generation: 2})
	run(t, w, 10*sim.Millisecond)
	require.False(t, r.HasActor("a1"))
	require.Empty(t, e.responses(1), "handler still running")

	run(t, w, sim.Second)
	resp := e.responses(1)
	require.Len(t, resp, 1, "the response is still sent")
	assert.Equal(t, 200, resp[0].Status)
	assert.Equal(t, "runner=r1 actor=a1 gen=2", resp[0].Body)
	assert.Len(t, r.StopCalls(), 1)

	// A request after the stop gets the retryable 503.
	e.request(2, "a1")
	run(t, w, 10*sim.Millisecond)
	assert.Equal(t, 503, e.responses(2)[0].Status)
	assert.Len(t, r.HandlerRuns(), 1)
}

func TestMessagesDroppedWhileDisconnected(t *testing.T) {
	w, e, r := setup(t, 6, Config{Behavior: func(model.ActorID) Behavior { return Behavior{Delay: sim.Second} }}, 0)
	startActor(t, w, e, "a1", 1)
	e.request(1, "a1")
	run(t, w, 100*sim.Millisecond)
	r.SetAutoReconnect(false)
	r.Disconnect()
	assert.False(t, r.Connected())
	r.SleepActor("a1") // buffered, resent after the next init
	run(t, w, 5*sim.Second)

	assert.Empty(t, e.responses(1), "response dropped while down")
	ans := r.Answers()
	require.Len(t, ans, 1)
	assert.True(t, ans[0].Dropped)
	assert.Len(t, traceEvents(w, "runner.drop_send"), 1)
	assert.Equal(t, 1, e.accepts, "no auto reconnect")
	assert.Zero(t, r.PendingTunnelMessages(), "a dropped message is not pending")

	r.Reconnect()
	run(t, w, 100*sim.Millisecond)
	require.True(t, r.Connected())
	assert.Equal(t, 2, e.accepts)
	// On the new connection: Init, then the buffered intent.
	var onNew []model.ToServer
	for _, g := range e.got {
		if g.Conn == e.conn.ID() {
			onNew = append(onNew, g.Msg)
		}
	}
	assert.Equal(t, []model.ToServer{
		&model.ToServerInit{Runner: "r1"},
		&model.EventActorIntent{ActorID: "a1", Generation: 1, Intent: model.IntentSleep, Index: 2},
	}, onNew)
	assert.True(t, r.HasActor("a1"), "an intent does not remove the actor")
}

func TestLostThreshold(t *testing.T) {
	const threshold = 10 * sim.Second
	tests := []struct {
		name      string
		threshold sim.Time
		reconnect bool
		wantStops []model.ActorID
	}{
		{"stays down: all actors stopped", threshold, false, []model.ActorID{"a1", "a2"}},
		{"reconnects in time: timer cancelled", threshold, true, nil},
		{"no threshold", 0, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, r := setup(t, 7, Config{StopDelay: 100 * sim.Millisecond}, tc.threshold)
			startActor(t, w, e, "a2", 1)
			startActor(t, w, e, "a1", 1)
			r.SetAutoReconnect(tc.reconnect)
			r.Disconnect()
			run(t, w, threshold-100*sim.Millisecond)
			assert.Empty(t, r.StopCalls())
			run(t, w, 200*sim.Millisecond)

			var stopped []model.ActorID
			for _, c := range r.StopCalls() {
				stopped = append(stopped, c.Actor)
			}
			assert.Equal(t, tc.wantStops, stopped, "sorted order")
			if tc.wantStops != nil {
				assert.Empty(t, r.Actors())
				assert.Len(t, traceEvents(w, "runner.lost_timer"), 1)
				// The stopped events wait for the next init.
				r.Reconnect()
				run(t, w, sim.Second)
				assert.Equal(t, []model.ActorState{model.ActorRunning, model.ActorStopped}, e.states("a1"))
				assert.Equal(t, []model.ActorState{model.ActorRunning, model.ActorStopped}, e.states("a2"))
			} else {
				assert.Equal(t, []model.ActorID{"a1", "a2"}, r.Actors())
			}
		})
	}
}

func TestCalculateBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		lo, hi  sim.Time // [lo, hi)
	}{
		{0, 1000 * sim.Millisecond, 1250 * sim.Millisecond},
		{1, 2000 * sim.Millisecond, 2500 * sim.Millisecond},
		{4, 16000 * sim.Millisecond, 20000 * sim.Millisecond},
		{5, 30000 * sim.Millisecond, 37500 * sim.Millisecond}, // 32 s capped to 30 s
		{1000, 30000 * sim.Millisecond, 37500 * sim.Millisecond},
	}
	w := sim.New(sim.Config{Seed: 1})
	rng := w.Rand("test")
	for _, tc := range tests {
		for range 200 {
			d := calculateBackoff(tc.attempt, rng)
			require.GreaterOrEqual(t, d, tc.lo, "attempt %d", tc.attempt)
			require.Less(t, d, tc.hi, "attempt %d", tc.attempt)
			require.Zero(t, d%sim.Millisecond, "whole milliseconds")
		}
	}
}

func TestReconnectBackoff(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		w, e, r := setup(t, seed, Config{}, 0)
		w.Net().Unlisten(DefaultEngine)
		r.Disconnect()

		bounds := [][2]sim.Time{{1000, 1250}, {2000, 2500}, {4000, 5000}}
		for i, b := range bounds {
			require.True(t, r.reconnectTimer.Pending(), "seed %d: reconnect %d scheduled", seed, i+1)
			d := r.reconnectTimer.When() - w.Now()
			require.GreaterOrEqual(t, d, b[0]*sim.Millisecond, "seed %d attempt %d", seed, i+1)
			require.Less(t, d, b[1]*sim.Millisecond, "seed %d attempt %d", seed, i+1)
			// Fire it, then step until the refused dial schedules the next.
			require.NoError(t, w.RunUntil(r.reconnectTimer.When()))
			for !r.reconnectTimer.Pending() {
				require.True(t, w.Step())
			}
		}

		// The engine is back: the next attempt connects and resets the count.
		e.listen()
		require.NoError(t, w.RunUntil(r.reconnectTimer.When()))
		run(t, w, 10*sim.Millisecond)
		require.True(t, r.Connected(), "seed %d", seed)
		r.Disconnect()
		d := r.reconnectTimer.When() - w.Now()
		require.GreaterOrEqual(t, d, 1000*sim.Millisecond)
		require.Less(t, d, 1250*sim.Millisecond)
	}
}

func TestTunnelGC(t *testing.T) {
	w, e, r := setup(t, 8, Config{}, 0)
	startActor(t, w, e, "a1", 1)

	e.request(1, "a1") // its response is pending from ~0.1 s
	run(t, w, 10*sim.Millisecond)
	require.Equal(t, 1, r.PendingTunnelMessages(), "acks are not pending, responses are")

	// Exactly 5 s old at the 60 s tick: kept (the purge needs more than 5 s).
	w.At(55*sim.Second, func() { r.tunnel.sendMessage(2, model.ResponseStart{Status: 200}) })
	// Young at the tick: kept.
	w.At(58*sim.Second, func() { e.request(3, "a1") })
	// Acked by the gateway: removed at once.
	w.At(58*sim.Second, func() { e.request(4, "a1") })
	require.NoError(t, w.RunUntil(59*sim.Second))
	require.Equal(t, 4, r.PendingTunnelMessages())
	resp4 := e.tunnelMsgs(4)[1]
	e.send(&model.ToClientTunnelMessage{RequestID: 4, MessageID: resp4.MessageID, Kind: model.TunnelAck{}})
	run(t, w, 10*sim.Millisecond)
	require.Equal(t, 3, r.PendingTunnelMessages())
	assert.Empty(t, traceEvents(w, "runner.gc_purge"))

	require.NoError(t, w.RunUntil(60*sim.Second+sim.Millisecond))
	purged := traceEvents(w, "runner.gc_purge")
	require.Len(t, purged, 1, "only the message older than 5 s")
	assert.Contains(t, purged[0], "rid=rq1")
	assert.Equal(t, 2, r.PendingTunnelMessages())

	require.NoError(t, w.RunUntil(120*sim.Second+sim.Millisecond))
	assert.Len(t, traceEvents(w, "runner.gc_purge"), 3)
	assert.Zero(t, r.PendingTunnelMessages())
	assert.True(t, w.Quiet(), "GC ticks do not keep the world alive")
}

func TestToClientCloseStopsGCForGood(t *testing.T) {
	w, e, r := setup(t, 9, Config{}, 30*sim.Second)
	startActor(t, w, e, "a1", 1)
	e.request(1, "a1")
	run(t, w, 10*sim.Millisecond)
	require.Equal(t, 1, r.PendingTunnelMessages())

	e.send(&model.ToClientClose{})
	run(t, w, 3*sim.Second)
	assert.True(t, r.Connected(), "not a shutdown: the runner reconnects (errata E17)")
	assert.Equal(t, 2, e.accepts)
	assert.True(t, r.HasActor("a1"), "lost timer cancelled by the reconnect")

	require.NoError(t, w.RunUntil(300*sim.Second))
	assert.Empty(t, traceEvents(w, "runner.gc_purge"), "the GC never runs again")
	assert.Equal(t, 1, r.PendingTunnelMessages())
	assert.Empty(t, r.StopCalls())
}

func TestWebSocketOpen(t *testing.T) {
	tests := []struct {
		name   string
		actor  model.ActorID
		reason string
	}{
		{"unknown actor", "zz", "Actor not found"},
		{"no websocket handler", "a1", "Not Implemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e, _ := setup(t, 10, Config{Behavior: func(model.ActorID) Behavior { return Behavior{NotImplemented: true} }}, 0)
			startActor(t, w, e, "a1", 1)
			mid := e.tunnel(5, model.WebSocketOpen{ActorID: tc.actor, Path: "/ws"})
			run(t, w, 10*sim.Millisecond)
			assertAckFirst(t, e, 5, mid)
			msgs := e.tunnelMsgs(5)
			require.Len(t, msgs, 2)
			assert.Equal(t, model.ServerWebSocketClose{Code: model.Code(1011), Reason: tc.reason, Retry: false}, msgs[1].Kind)
		})
	}
}

func TestIntentsAndCrash(t *testing.T) {
	w, e, r := setup(t, 11, Config{StopDelay: 50 * sim.Millisecond}, 0)
	startActor(t, w, e, "a1", 4)
	r.SleepActor("a1")
	r.StopActor("a1")
	r.SleepActor("zz") // unknown: nothing
	run(t, w, 10*sim.Millisecond)
	assert.True(t, r.HasActor("a1"), "intents keep the actor")

	r.CrashActor("a1")
	assert.False(t, r.HasActor("a1"))
	r.CrashActor("a1") // already gone: no-op
	run(t, w, 100*sim.Millisecond)

	var got []model.ToServer
	for _, ev := range e.events() {
		got = append(got, ev.Msg)
	}
	assert.Equal(t, []model.ToServer{
		&model.EventActorStateUpdate{ActorID: "a1", Generation: 4, State: model.ActorRunning, Index: 1},
		&model.EventActorIntent{ActorID: "a1", Generation: 4, Intent: model.IntentSleep, Index: 2},
		&model.EventActorIntent{ActorID: "a1", Generation: 4, Intent: model.IntentStop, Index: 3},
		&model.EventActorStateUpdate{ActorID: "a1", Generation: 4, State: model.ActorStopped, Index: 4},
	}, got)
	assert.Len(t, r.StopCalls(), 1)
}

// scenario exercises most paths and returns the trace.
func scenario(t *testing.T, seed uint64) []string {
	w, e, r := setup(t, seed, Config{
		StartDelay: 200 * sim.Millisecond,
		StopDelay:  300 * sim.Millisecond,
		Behavior: func(id model.ActorID) Behavior {
			return Behavior{Delay: sim.Time(len(id)) * 100 * sim.Millisecond}
		},
	}, 20*sim.Second)
	startActor(t, w, e, "a1", 1)
	startActor(t, w, e, "bb2", 1)
	for i := range 6 {
		actor := model.ActorID("a1")
		if i%2 == 1 {
			actor = "bb2"
		}
		e.request(model.RequestID(i+1), actor)
	}
	run(t, w, 150*sim.Millisecond)
	e.send(&model.CommandStopActor{ActorID: "a1", Generation: 1})
	e.request(50, "a1")
	run(t, w, 50*sim.Millisecond)
	r.Disconnect()
	require.NoError(t, w.RunFor(40*sim.Second))
	e.send(&model.CommandStartActor{ActorID: "a1", Generation: 2})
	e.request(60, "a1")
	require.NoError(t, w.RunFor(130*sim.Second))
	require.NoError(t, w.RunUntilQuiet())
	return w.TraceLines()
}

func TestDeterminism(t *testing.T) {
	a, b := scenario(t, 42), scenario(t, 42)
	require.NotEmpty(t, a)
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same seed, different trace (-first +second):\n%s", d)
	}
	assert.NotEqual(t, a, scenario(t, 43), "the seed matters")
}
