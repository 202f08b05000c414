package guard

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

func TestWrappingGT(t *testing.T) {
	tests := []struct {
		a, b uint16
		want bool
	}{
		{2, 1, true}, {1, 2, false}, {1, 1, false},
		{0, 65535, true}, {5, 65530, true}, // wrapped
		{65530, 5, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wrappingGT(tt.a, tt.b), "%d > %d", tt.a, tt.b)
	}
}

// newTestGateway returns a gateway whose publishes stay buffered in its UPS
// client (the world never runs), so a test can read them.
func newTestGateway(t *testing.T, q model.Quirks) *Guard {
	t.Helper()
	w := sim.New(sim.Config{Seed: 1})
	return New(w, model.NewUPS(w), Config{Quirks: q})
}

func TestHibernationBuffer(t *testing.T) {
	tests := []struct {
		name         string
		ack          int   // ack index from the runner, 0 for none
		lastMsgIndex int64 // in the next ServerWebSocketOpen
		wantResent   []uint16
		wantKept     []uint16
	}{
		{"fresh open resends everything", 0, -1, []uint16{1, 2, 3}, []uint16{1, 2, 3}},
		{"resend after the actor's last index", 0, 1, []uint16{2, 3}, []uint16{2, 3}},
		{"acked messages are gone", 2, -1, []uint16{3}, []uint16{3}},
		{"nothing after the last index", 0, 3, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, model.Seed.Quirks)
			s := g.gw
			s.start(7, "r1", func(tunnelEvent) {})
			require.NoError(t, s.toggleHibernation(7, true))
			for _, d := range []string{"a", "b", "c"} {
				require.NoError(t, s.send(7, model.WebSocketMessage{Data: d}))
			}
			if tt.ack > 0 {
				s.ackPending(7, uint16(tt.ack))
			}
			before := len(g.ups.Buffered())
			require.NoError(t, s.resendPending(7, tt.lastMsgIndex))
			var resent []uint16
			for _, p := range g.ups.Buffered()[before:] {
				resent = append(resent, p.Msg.(*model.ToClientTunnelMessage).Kind.(model.WebSocketMessage).Index)
			}
			assert.Equal(t, tt.wantResent, resent)
			var kept []uint16
			for _, p := range s.inFlight[7].hibernation.pending {
				kept = append(kept, p.msg.Kind.(model.WebSocketMessage).Index)
			}
			assert.Equal(t, tt.wantKept, kept)
		})
	}
}

func TestHibernationSurvivesRetryOnlyWithTheEntry(t *testing.T) {
	g := newTestGateway(t, model.Seed.Quirks)
	s := g.gw
	s.start(7, "r1", func(tunnelEvent) {})
	require.NoError(t, s.toggleHibernation(7, true))
	require.NoError(t, s.send(7, model.WebSocketMessage{Data: "a"}))
	// The attempt ends; a retry reuses the entry: the buffer survives and
	// the receiver subject follows the new runner (GSS:103-108).
	s.inFlight[7].closeChannel()
	f, _ := s.start(7, "r2", func(tunnelEvent) {})
	require.NotNil(t, f.hibernation)
	assert.Len(t, f.hibernation.pending, 1)
	assert.Equal(t, model.RunnerReceiverSubject("r2"), f.receiverSubject)
	// A GC tick between the attempts removes a closed entry and its buffer
	// (errata E5).
	f.closeChannel()
	s.gc()
	f, _ = s.start(7, "r2", func(tunnelEvent) {})
	assert.Nil(t, f.hibernation)
}

func TestGatewayGC(t *testing.T) {
	seed, gc5111, kill := model.Seed.Quirks, profile(t, "5111b8e76").Quirks, profile(t, "450d9e5c6").Quirks
	flipped := gc5111.With(model.GatewayGCInvertedAge, false) // what 6b7ebbb0d did to the checks
	tests := []struct {
		name       string
		quirks     model.Quirks
		age        sim.Time
		handlerRun bool // the handler still runs (else it returned)
		buffered   bool // a hibernation message is buffered
		ticks      int
		wantKeep   bool
		wantEvents []tunnelEvent // what the live handler saw
	}{
		{"seed: a young un-acked message removes a live entry, closing its channel", seed, 5 * sim.Second, true, false, 1, false, []tunnelEvent{{closed: true}}},
		{"seed: an old one keeps it", seed, 31 * sim.Second, true, false, 1, true, nil},
		{"seed: a closed entry goes whatever it buffers (E5)", seed, 31 * sim.Second, false, true, 1, false, nil},
		{"5111b8e76: a young message flags a live entry, never disturbing it", gc5111, 5 * sim.Second, true, false, 3, true, nil},
		{"5111b8e76: a closed entry that buffers a young message is flagged and removed", gc5111, 5 * sim.Second, false, true, 1, false, nil},
		{"5111b8e76: a closed entry with an old un-acked message stays (no reason fires)", gc5111, 31 * sim.Second, false, false, 2, true, nil},
		{"450d9e5c6: a young message flags a live entry and the flag reaches its handler", kill, 5 * sim.Second, true, false, 2, true, []tunnelEvent{{timeout: true}}},
		{"6b7ebbb0d's checks: a closed entry that buffers a young message stays", flipped, 5 * sim.Second, false, true, 2, true, nil},
		{"6b7ebbb0d's checks: an old buffered message flags it", flipped, 31 * sim.Second, false, true, 1, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, tt.quirks)
			s := g.gw
			var got []tunnelEvent
			f, _ := s.start(7, "r1", func(ev tunnelEvent) { got = append(got, ev) })
			if tt.buffered {
				require.NoError(t, s.toggleHibernation(7, true))
				require.NoError(t, s.send(7, model.WebSocketMessage{Data: "m"}))
				f.hibernation.pending[0].sentAt = -tt.age
				f.pending = nil
			} else {
				require.NoError(t, s.send(7, model.RequestStart{ActorID: "a1"}))
				f.pending[0].sentAt = -tt.age
			}
			if !tt.handlerRun {
				f.closeChannel()
			}
			for range tt.ticks {
				if tt.quirks.Has(model.GatewayGCOnePhase) {
					s.gcOnePhase()
				} else {
					s.gcTwoPhase()
				}
			}
			_, kept := s.inFlight[7]
			assert.Equal(t, tt.wantKeep, kept)
			assert.Equal(t, tt.wantEvents, got, "the Timeout is never delivered")
		})
	}
}

// TestGatewayReuseOfStoppingEntry: from 5111b8e76 a retry that reuses an
// entry the GC flagged loses its hibernation buffer (GSS@5111b8e76:125-128).
func TestGatewayReuseOfStoppingEntry(t *testing.T) {
	for _, tt := range []struct {
		name     string
		quirks   model.Quirks
		wantKept int
	}{
		{"seed keeps the buffer on reuse", model.Seed.Quirks, 1},
		{"5111b8e76 resets a flagged entry's buffer", profile(t, "5111b8e76").Quirks, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, tt.quirks)
			s := g.gw
			f, _ := s.start(7, "r1", func(tunnelEvent) {})
			require.NoError(t, s.toggleHibernation(7, true))
			require.NoError(t, s.send(7, model.WebSocketMessage{Data: "m"}))
			f.pending = nil
			if !tt.quirks.Has(model.GatewayGCOnePhase) {
				s.gcTwoPhase() // flagged: the live handler holds on
				require.True(t, f.stopping)
			}
			f, _ = s.start(7, "r2", func(tunnelEvent) {})
			n := 0
			if f.hibernation != nil {
				n = len(f.hibernation.pending)
			}
			assert.Equal(t, tt.wantKept, n)
		})
	}
}

func profile(t *testing.T, name string) model.Profile {
	t.Helper()
	p, err := model.ProfileByName(name)
	require.NoError(t, err)
	return p
}
