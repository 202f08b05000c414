package oracle

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// generation is one actor generation on one runner.
type generation struct {
	runner model.RunnerID
	actor  model.ActorID
	gen    model.Generation
}

func (g generation) String() string { return fmt.Sprintf("%s gen %d on %s", g.actor, g.gen, g.runner) }

// runnerFaulted reports whether a fault named the runner (a disconnect, its
// reconnects turned off, a link of it held or dropped).
func (w world) runnerFaulted(rn model.RunnerID) bool {
	for _, n := range w.Notes {
		if !n.Fault {
			continue
		}
		for _, f := range strings.Fields(strings.ReplaceAll(n.What, "->", " ")) {
			if f == string(rn) {
				return true
			}
		}
	}
	return false
}

// checkStopOnce is L2, judged from the actors' code and the engine's
// commands on the wire: onActorStop runs at most once per generation
// started on a runner, never for one that was not started, and, once the
// world settled, exactly once for a started generation that the engine's
// CommandStopActor (or a CommandStartActor of another generation, which
// replaces it, RUN:748-791) reached on a runner that suffered no fault.
func checkStopOnce(w world) []Violation {
	starts, stops := map[generation]sim.Time{}, map[generation]int{}
	var gens []generation
	for _, e := range w.App {
		g := generation{e.Runner, e.Actor, e.Generation}
		switch e.Kind {
		case model.AppStart:
			if _, ok := starts[g]; !ok {
				gens = append(gens, g)
			}
			starts[g] = e.At
		case model.AppStop:
			if _, ok := starts[g]; !ok && stops[g] == 0 {
				gens = append(gens, g)
			}
			stops[g]++
		}
	}
	var out []Violation
	for _, g := range gens {
		started, ok := starts[g]
		n := stops[g]
		switch {
		case !ok:
			out = append(out, viol("stop_once", string(g.runner), fmt.Sprintf("onActorStop called for %s, which was never started", g),
				map[string]string{"onActorStop": "0"}, map[string]string{"onActorStop": fmt.Sprint(n)}))
		case n > 1:
			out = append(out, viol("stop_once", string(g.runner), fmt.Sprintf("%s stopped %d times", g, n),
				map[string]string{"onActorStop": "1"}, map[string]string{"onActorStop": fmt.Sprint(n)}))
		case n == 0 && w.Settled && !w.runnerFaulted(g.runner):
			if cmd, removed := w.removal(g, started); removed {
				out = append(out, viol("stop_once", string(g.runner), fmt.Sprintf("%s removed by %s, and onActorStop was never called", g, cmd),
					map[string]string{"onActorStop": "1"}, map[string]string{"onActorStop": "0"}))
			}
		}
	}
	return out
}

// removal finds the engine command that removed a generation started at
// t from its runner.
func (w world) removal(g generation, t sim.Time) (string, bool) {
	for _, c := range w.Wire.Commands {
		if c.Runner != g.runner || c.Actor != g.actor || c.At < t {
			continue
		}
		if c.Stop && c.Generation == g.gen {
			return fmt.Sprintf("CommandStopActor at %s", c.At), true
		}
		if !c.Stop && c.Generation != g.gen && c.At > t {
			return fmt.Sprintf("CommandStartActor of gen %d at %s", c.Generation, c.At), true
		}
	}
	return "", false
}

func checkLiveness(w world) []Violation {
	var out []Violation
	for _, p := range w.Probes {
		switch {
		case p.HTTP != nil:
			r := p.HTTP
			if r.Response == nil || r.Response.Status != 200 {
				out = append(out, viol("liveness", r.Name, fmt.Sprintf("%s did not answer after the world healed", r.Actor),
					map[string]string{"status": "200"}, responseSaw(r)))
			}
		case p.WS != nil:
			c := p.WS
			want := map[string]string{"opened": "true", "received": strings.Join(echoes(c.Sent), ",")}
			saw := map[string]string{"opened": strconv.FormatBool(w.opened(c)), "received": strings.Join(c.Received, ",")}
			if !maps.Equal(want, saw) {
				if c.Closed && !c.ClientClosed {
					saw["closed"] = fmt.Sprintf("%d %s", c.CloseCode, c.CloseReason)
				}
				out = append(out, viol("liveness", c.Name, fmt.Sprintf("%s's socket did not work after the world healed", c.Actor), want, saw))
			}
		}
	}
	return out
}

func checkQuiescence(w world) []Violation {
	if !w.Settled {
		return nil // only meaningful after the liveness phase let the world go quiet
	}
	var out []Violation
	for _, r := range w.Requests {
		if r.Response == nil {
			out = append(out, viol("quiescence", r.Name, "never answered", map[string]string{"response": "one"}, map[string]string{"response": "none"}))
		}
	}
	open := 0
	for _, c := range w.Sockets {
		if !c.Closed {
			open++
		}
	}
	if n := w.Gauges.InFlight; n > open {
		out = append(out, viol("quiescence", "gateway", "in-flight entries left after the world went quiet",
			map[string]string{"in-flight": fmt.Sprintf("<=%d (open sockets)", open)}, map[string]string{"in-flight": fmt.Sprint(n)}))
	}
	// No socket is half-open: one its client no longer has is not still
	// open in an actor's code (issue 9, W7).
	for _, c := range w.Sockets {
		ids := requestIDs(w.Wire.Starts[c.Name], true)
		if !(c.Closed || c.ClientClosed) || len(ids) != 1 {
			continue
		}
		at := c.ClosedAt
		if c.ClientClosed {
			at = c.ClientClosedAt
		}
		if rn, open := w.appOpenAt(ids[0], w.End); open {
			by := fmt.Sprintf("Guard closed the client's socket (%d %s)", c.CloseCode, c.CloseReason)
			if c.ClientClosed {
				by = "the client closed its socket"
			}
			// Whether a close for it ever reached a runner tells a close
			// that was never sent or was lost from one a restore undid.
			reached := "no close for it reached a runner"
			if rc := w.Wire.RunnerCloses[ids[0]]; len(rc) > 0 {
				reached = fmt.Sprintf("a close for it reached %s at %s", rc[len(rc)-1].Runner, rc[len(rc)-1].At)
			}
			out = append(out, viol("quiescence", c.Name, fmt.Sprintf("%s at %s, but %s still has it open on %s (%s)", by, at, c.Actor, rn, reached),
				map[string]string{"open at the actor": "no"}, map[string]string{"open at the actor": "yes, on " + string(rn)}))
		}
	}
	// From 4e60a30e9 an open hibernatable socket whose actor stopped waits
	// for the actor's Ready with a subscription of its own (GW@4e60a30e9:
	// 554-612): held, not leaked.
	var held []string
	for _, c := range w.Sockets {
		// From 3891bf8b6 every open socket's attempt watches its actor's
		// Stopped (GW@3891bf8b6:290).
		watches := w.hibernatable(c.Actor) && !w.Profile.Has(model.GuardWSRetryImmediate) ||
			!w.Profile.Has(model.GatewayIgnoresActorStopped)
		if !c.Closed && watches {
			held = append(held, model.ActorSubject(c.Actor))
		}
	}
	for _, s := range w.Gauges.Subjects {
		if strings.HasPrefix(s, "actor.") && !slices.Contains(held, s) {
			out = append(out, viol("quiescence", "ups", "a routing subscription leaked: "+s,
				map[string]string{"subscriptions": "none for actors"}, map[string]string{"subscriptions": s}))
		}
	}
	return out
}
