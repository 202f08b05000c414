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
			g := newTestGateway(t, model.Quirks{})
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
	g := newTestGateway(t, model.Quirks{})
	s := g.gw
	s.start(7, "r1", func(tunnelEvent) {})
	require.NoError(t, s.toggleHibernation(7, true))
	require.NoError(t, s.send(7, model.WebSocketMessage{Data: "a"}))
	// The attempt ends; a retry reuses the entry: the buffer survives and
	// the receiver subject follows the new runner (GSS:103-108).
	s.inFlight[7].closeChannel()
	f := s.start(7, "r2", func(tunnelEvent) {})
	require.NotNil(t, f.hibernation)
	assert.Len(t, f.hibernation.pending, 1)
	assert.Equal(t, model.RunnerReceiverSubject("r2"), f.receiverSubject)
	// A GC tick between the attempts removes a closed entry and its buffer
	// (errata E5).
	f.closeChannel()
	s.gc()
	f = s.start(7, "r2", func(tunnelEvent) {})
	assert.Nil(t, f.hibernation)
}

func TestGatewayGC(t *testing.T) {
	tests := []struct {
		name     string
		quirks   model.Quirks
		age      sim.Time
		wantKeep bool
	}{
		{"inverted: a young un-acked message removes the entry", model.Quirks{GatewayInvertedGC: true}, 5 * sim.Second, false},
		{"inverted: an old one keeps it", model.Quirks{GatewayInvertedGC: true}, 31 * sim.Second, true},
		{"fixed: a young one keeps it", model.Quirks{}, 5 * sim.Second, true},
		{"fixed: an old one removes it", model.Quirks{}, 31 * sim.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, tt.quirks)
			s := g.gw
			var got []tunnelEvent
			s.start(7, "r1", func(ev tunnelEvent) { got = append(got, ev) })
			require.NoError(t, s.send(7, model.RequestStart{ActorID: "a1"}))
			s.inFlight[7].pending[0].sentAt = -tt.age
			s.gc()
			_, kept := s.inFlight[7]
			assert.Equal(t, tt.wantKeep, kept)
			if !kept && tt.quirks.GatewayInvertedGC {
				assert.Equal(t, []tunnelEvent{{closed: true}}, got, "the Timeout is never delivered")
			}
			if !kept && !tt.quirks.GatewayInvertedGC {
				assert.Equal(t, []tunnelEvent{{timeout: true}, {closed: true}}, got)
			}
		})
	}
}
