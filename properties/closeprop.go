package properties

import (
	"fmt"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/runner"
	"github.com/guardsim/guardsim/sim"
)

// clientCloseBound is how long a client's close may take to reach the
// actor: two hops through pub/sub and pegboard-runner, with room for the
// slowest latency a scenario sets.
const clientCloseBound = 5 * sim.Second

// checkWSClientClose is close propagation from the client to the actor
// (W7, GW:443-465, issue 9): when a client closes a socket whose adapter is
// open at the actor, with no fault and no lifecycle action on the actor,
// the actor hears the close (ToClientWebSocketClose at its runner) within
// clientCloseBound. Judged from the client's observation and the runners'
// received messages only.
func checkWSClientClose(w *World) []Violation {
	var out []Violation
	for _, c := range w.Sockets {
		if !c.ClientClosed || viaTarget(c) {
			continue
		}
		ids := distinctRequests(w.wire.starts[c.Name], true)
		if len(ids) != 1 {
			continue // ws_one_id reports it
		}
		tc := c.ClientClosedAt
		due := tc + clientCloseBound
		if !w.faultFree(due) || !w.untouched(c.Actor, 0, due) || w.Sim.Now() < due {
			continue
		}
		rn, open := w.adapterOpenAt(ids[0], tc)
		if !open {
			continue
		}
		heard := false
		for _, e := range w.Runners[rn].WebSocketEvents() {
			if e.Request == ids[0] && e.Kind == runner.WSCloseReceived && e.At >= tc && e.At <= due {
				heard = true
				break
			}
		}
		if !heard {
			out = append(out, viol("ws_client_close", c.Name,
				fmt.Sprintf("the client closed at %s and %s, whose socket was open on %s, never heard of it", tc, c.Actor, rn),
				map[string]string{"close at the actor": "by " + due.String()},
				map[string]string{"close at the actor": "none"}))
		}
	}
	return out
}

// adapterOpenAt finds the runner where the request's socket was open at t:
// its last open (or restore) there came before t, with no close sent or
// received since.
func (w *World) adapterOpenAt(rid model.RequestID, t sim.Time) (model.RunnerID, bool) {
	for _, id := range sim.SortedKeys(w.Runners) {
		open := false
		for _, e := range w.Runners[id].WebSocketEvents() {
			if e.Request != rid || e.At > t {
				continue
			}
			switch e.Kind {
			case runner.WSOpen, runner.WSRestored:
				open = !e.Dropped
			case runner.WSCloseSent, runner.WSCloseReceived, runner.WSOrphaned:
				open = false
			}
		}
		if open {
			return id, true
		}
	}
	return "", false
}
