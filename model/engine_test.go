package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/sim"
)

// fakeRunner is a trivially obedient runner: it reports running for every
// start and stopped for every stop, and records the commands it got.
type fakeRunner struct {
	conn *sim.End
	cmds []string
}

func newFakeRunner(w *sim.World, id RunnerID) *fakeRunner {
	f := &fakeRunner{}
	f.conn = w.Net().Dial(string(id), EngineNode)
	f.conn.Handle(func(msg any) {
		switch m := msg.(type) {
		case *CommandStartActor:
			f.cmds = append(f.cmds, m.String())
			f.conn.Send(&EventActorStateUpdate{ActorID: m.ActorID, Generation: m.Generation, State: ActorRunning})
		case *CommandStopActor:
			f.cmds = append(f.cmds, m.String())
			f.conn.Send(&EventActorStateUpdate{ActorID: m.ActorID, Generation: m.Generation, State: ActorStopped})
		}
	}, nil)
	f.conn.Send(&ToServerInit{Runner: id})
	return f
}

type engineFixture struct {
	w       *sim.World
	e       *Engine
	ups     *UPS
	runners map[RunnerID]*fakeRunner
	pubs    []string // what a subscriber to actor.a1 saw
}

func newEngineFixture(t *testing.T, cfg EngineConfig) *engineFixture {
	w := sim.New(sim.Config{Seed: 1})
	ups := NewUPS(w)
	f := &engineFixture{w: w, ups: ups, e: NewEngine(w, ups, cfg), runners: map[RunnerID]*fakeRunner{}}
	for _, id := range []RunnerID{"r1", "r2"} {
		f.runners[id] = newFakeRunner(w, id)
	}
	ups.Client("observer").Subscribe(ActorSubject("a1"), func(m any) { f.pubs = append(f.pubs, m.(interface{ String() string }).String()) })
	require.NoError(t, w.RunUntilQuiet())
	return f
}

func (f *engineFixture) keys(t *testing.T) *ActorKeys {
	t.Helper()
	require.NoError(t, f.w.RunUntilQuiet())
	return f.e.getForGateway(&GetForGateway{Actor: "a1"})
}

func TestActorWorkflow(t *testing.T) {
	tests := []struct {
		name     string
		crash    CrashPolicy
		act      func(f *engineFixture)
		want     ActorKeys
		wantPubs []string
	}{
		{"allocate then ready", CrashRestart, func(f *engineFixture) {},
			ActorKeys{Found: true, Connectable: true, Runner: "r1"}, []string{"Ready{r1}"}},
		{"sleep intent clears connectable and writes SleepTs", CrashRestart, func(f *engineFixture) {
			f.runners["r1"].conn.Send(&EventActorIntent{ActorID: "a1", Generation: 1, Intent: IntentSleep})
		}, ActorKeys{Found: true, Sleeping: true}, []string{"Ready{r1}", "Stopped{}"}},
		{"wake while sleeping reschedules", CrashRestart, func(f *engineFixture) {
			f.runners["r1"].conn.Send(&EventActorIntent{ActorID: "a1", Generation: 1, Intent: IntentSleep})
			f.w.RunUntilQuiet()
			f.e.Prefer("a1", "r2")
			f.e.Wake("a1")
		}, ActorKeys{Found: true, Connectable: true, Runner: "r2"}, []string{"Ready{r1}", "Stopped{}", "Ready{r2}"}},
		{"wake while still stopping sets will_wake", CrashRestart, func(f *engineFixture) {
			f.runners["r1"].conn.Send(&EventActorIntent{ActorID: "a1", Generation: 1, Intent: IntentSleep})
			f.w.RunFor(1500 * sim.Microsecond) // intent processed, stop not yet reported
			f.e.Wake("a1")
		}, ActorKeys{Found: true, Connectable: true, Runner: "r1"}, []string{"Ready{r1}", "Stopped{}", "Ready{r1}"}},
		{"wake when not sleeping is ignored", CrashRestart, func(f *engineFixture) { f.e.Wake("a1") },
			ActorKeys{Found: true, Connectable: true, Runner: "r1"}, []string{"Ready{r1}"}},
		{"stop intent completes and destroys (errata E12)", CrashRestart, func(f *engineFixture) {
			f.runners["r1"].conn.Send(&EventActorIntent{ActorID: "a1", Generation: 1, Intent: IntentStop})
		}, ActorKeys{Found: true, Destroyed: true}, []string{"Ready{r1}", "DestroyStarted{}"}},
		{"destroy signal", CrashRestart, func(f *engineFixture) { f.e.Destroy("a1") },
			ActorKeys{Found: true, Destroyed: true, Connectable: true}, []string{"Ready{r1}", "DestroyStarted{}"}},
		{"forced reschedule", CrashRestart, func(f *engineFixture) { f.e.Reschedule("a1", "r2") },
			ActorKeys{Found: true, Connectable: true, Runner: "r2"}, []string{"Ready{r1}", "Stopped{}", "Ready{r2}"}},
		{"stale generation event is ignored", CrashRestart, func(f *engineFixture) {
			f.runners["r1"].conn.Send(&EventActorIntent{ActorID: "a1", Generation: 7, Intent: IntentStop})
		}, ActorKeys{Found: true, Connectable: true, Runner: "r1"}, []string{"Ready{r1}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEngineFixture(t, EngineConfig{})
			f.e.CreateActor("a1", tt.crash, "r1")
			require.NoError(t, f.w.RunUntilQuiet())
			tt.act(f)
			got := f.keys(t)
			got.ID = 0
			assert.Equal(t, tt.want, *got)
			assert.Equal(t, tt.wantPubs, f.pubs)
			if strings.Contains(tt.name, "will_wake") {
				assert.Contains(t, f.w.TraceText(), "wf.will_wake", "the wake arrived while stopping")
			}
		})
	}
}

func TestRunnerLost(t *testing.T) {
	tests := []struct {
		crash CrashPolicy
		want  ActorKeys
	}{
		{CrashRestart, ActorKeys{Found: true, Connectable: true, Runner: "r2"}},
		{CrashSleep, ActorKeys{Found: true, Sleeping: true}},
		{CrashDestroy, ActorKeys{Found: true, Destroyed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.crash.String(), func(t *testing.T) {
			f := newEngineFixture(t, EngineConfig{RunnerLostThreshold: 10 * sim.Second})
			f.e.CreateActor("a1", tt.crash, "r1")
			require.NoError(t, f.w.RunUntilQuiet())
			f.runners["r1"].conn.Reset()
			require.NoError(t, f.w.RunFor(9*sim.Second))
			before := f.e.getForGateway(&GetForGateway{Actor: "a1"})
			assert.Equal(t, RunnerID("r1"), before.Runner, "keys unchanged until the runner is lost")
			assert.True(t, before.Connectable)
			got := f.keys(t)
			got.ID = 0
			assert.Equal(t, tt.want, *got)
		})
	}
}

func TestUPSDropsWithoutSubscriber(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	u := NewUPS(w)
	a, b := u.Client("a"), u.Client("b")
	var got []any
	a.Publish("s", 1) // nobody subscribed: lost
	require.NoError(t, w.RunUntilQuiet())
	sub := b.Subscribe("s", func(m any) { got = append(got, m) })
	a.Publish("s", 2)
	require.NoError(t, w.RunUntilQuiet())
	sub.Unsubscribe()
	a.Publish("s", 3)
	require.NoError(t, w.RunUntilQuiet())
	assert.Equal(t, []any{2}, got)
	assert.Contains(t, w.TraceText(), "ups.drop")
}

func TestPegboardRunnerAbortsActiveRequestsOnDisconnect(t *testing.T) {
	f := newEngineFixture(t, EngineConfig{Quirks: Seed.Quirks}) // until 3891bf8b6 and a89ca2b17
	var got []string
	gw := f.ups.Client("guard")
	gw.Subscribe(GatewayReceiverSubject("guard"), func(m any) { got = append(got, m.(*ToServerTunnelMessage).String()) })
	gw.Publish(RunnerReceiverSubject("r1"), &ToClientTunnelMessage{RequestID: 1, MessageID: 1, GatewayReplyTo: GatewayReceiverSubject("guard"), Kind: RequestStart{ActorID: "a1"}})
	gw.Publish(RunnerReceiverSubject("r1"), &ToClientTunnelMessage{RequestID: 2, MessageID: 2, GatewayReplyTo: GatewayReceiverSubject("guard"), Kind: WebSocketOpen{ActorID: "a1"}})
	require.NoError(t, f.w.RunUntilQuiet())
	f.runners["r1"].conn.Reset()
	require.NoError(t, f.w.RunUntilQuiet())
	assert.Equal(t, []string{
		"ResponseAbort{rq1 m281474976710657}",
		`ServerWebSocketClose{rq2 m281474976710658 code=1011 reason="ws.upstream_closed" retry=true}`,
	}, got)
}

// TestUPSReusesHandledKeepalives: a ping or pong whose one delivery was
// handled is reused; one delivered to two subscriber nodes, or sent while
// the network records messages, never is.
func TestUPSReusesHandledKeepalives(t *testing.T) {
	tests := []struct {
		name      string
		nodes     int // subscriber nodes of the subject
		recording bool
		reused    bool
	}{
		{"one subscriber", 1, false, true},
		{"two subscribers", 2, false, false},
		{"recording", 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := sim.New(sim.Config{Seed: 1})
			if tt.recording {
				w.Net().RecordMessages()
			}
			u := NewUPS(w)
			pub := u.Client("guard")
			var got []ToRunnerPing
			for i := range tt.nodes {
				u.Client("engine"+string(rune('a'+i))).Subscribe("runner.r1", func(m any) { got = append(got, *m.(*ToRunnerPing)) })
			}
			require.NoError(t, w.RunUntilQuiet())
			PublishPing(pub, "runner.r1", ToRunnerPing{Gateway: "gateway.guard", RequestID: 1, TS: 5})
			require.NoError(t, w.RunUntilQuiet())
			reused := len(u.free) == 1 // back on the free list for the next ping
			PublishPing(pub, "runner.r1", ToRunnerPing{Gateway: "gateway.guard", RequestID: 2, TS: 6})
			require.NoError(t, w.RunUntilQuiet())
			assert.Equal(t, tt.reused, reused)
			want := []ToRunnerPing{}
			for _, id := range []RequestID{1, 2} {
				for range tt.nodes {
					want = append(want, ToRunnerPing{Gateway: "gateway.guard", RequestID: id, TS: int64(id) + 4})
				}
			}
			assert.Equal(t, want, got, "every subscriber saw each ping as it was sent")
		})
	}
}
