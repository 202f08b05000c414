package properties

import (
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// ClientTag is the header every client request and WebSocket carries, so
// the oracle can attribute tunnel messages on the wire to client operations.
// The gateway copies request headers into RequestStart and WebSocketOpen.
const ClientTag = "x-sim-client"

// wire is what the oracle sees on the network, independent of Guard's and
// the runner's internal state.
type wire struct {
	// opens: RequestStart/WebSocketOpen publishes reaching UPS, by tag.
	starts map[string][]wireStart
	// arrivals: RequestStart/WebSocketOpen reaching a runner, by request id.
	arrivals map[model.RequestID][]wireArrival
	// responses: runner answers reaching the guard, by request id.
	responses map[model.RequestID][]wireResponse
	// stopped: an actor's Stopped reaching the guard (which the gateway
	// watches from 3891bf8b6), by actor.
	stopped map[model.ActorID][]sim.Time
	// wakes: Guard's Wake signals reaching the engine, by actor.
	wakes map[model.ActorID][]sim.Time
}

type wireStart struct {
	At      sim.Time
	Request model.RequestID
	Runner  model.RunnerID
	WS      bool
}

type wireArrival struct {
	At     sim.Time
	Runner model.RunnerID
}

type wireResponse struct {
	At    sim.Time
	Kind  model.TunnelKind
	Retry bool // a 503 carrying x-rivet-error
}

// Note is something the scenario did that properties condition on: a
// network or runner fault, or a lifecycle action on an actor.
type Note struct {
	At    sim.Time
	Fault bool
	Actor model.ActorID // for lifecycle actions
	What  string
}

func (w *World) tap() {
	w.wire = wire{starts: map[string][]wireStart{}, arrivals: map[model.RequestID][]wireArrival{}, responses: map[model.RequestID][]wireResponse{}, stopped: map[model.ActorID][]sim.Time{}, wakes: map[model.ActorID][]sim.Time{}}
	w.Sim.Net().Observe(func(from, to string, msg any) {
		now := w.Sim.Now()
		switch m := msg.(type) {
		case *model.Publish: // at UPS
			tm, ok := m.Msg.(*model.ToClientTunnelMessage)
			if !ok {
				return
			}
			var tag string
			ws := false
			switch k := tm.Kind.(type) {
			case model.RequestStart:
				tag = k.Headers[ClientTag]
			case model.WebSocketOpen:
				tag, ws = k.Headers[ClientTag], true
			default:
				return
			}
			runner := model.RunnerID(m.Subject[len("runner."):])
			w.wire.starts[tag] = append(w.wire.starts[tag], wireStart{now, tm.RequestID, runner, ws})
		case *model.ToClientTunnelMessage: // at a runner
			switch m.Kind.(type) {
			case model.RequestStart, model.WebSocketOpen:
				w.wire.arrivals[m.RequestID] = append(w.wire.arrivals[m.RequestID], wireArrival{now, model.RunnerID(to)})
			}
		case *model.SignalWake: // at the engine
			w.wire.wakes[m.Actor] = append(w.wire.wakes[m.Actor], now)
		case *model.Delivery: // at the guard
			if _, ok := m.Msg.(*model.Stopped); ok && to == w.Guard.Node() {
				a := model.ActorID(m.Subject[len("actor."):])
				w.wire.stopped[a] = append(w.wire.stopped[a], now)
				return
			}
			tm, ok := m.Msg.(*model.ToServerTunnelMessage)
			if !ok || to != w.Guard.Node() {
				return
			}
			r := wireResponse{At: now, Kind: tm.Kind}
			if rs, ok := tm.Kind.(model.ResponseStart); ok {
				_, hdr := rs.Headers[model.XRivetError]
				r.Retry = rs.Status == 503 && hdr
			}
			if _, ok := tm.Kind.(model.TunnelAck); ok {
				return
			}
			w.wire.responses[tm.RequestID] = append(w.wire.responses[tm.RequestID], r)
		}
	})
}

// NoteFault records an injected fault.
func (w *World) NoteFault(what string) { w.Notes = append(w.Notes, Note{w.Sim.Now(), true, "", what}) }

// NoteLifecycle records a lifecycle action on an actor.
func (w *World) NoteLifecycle(a model.ActorID, what string) {
	w.Notes = append(w.Notes, Note{w.Sim.Now(), false, a, what})
}

// faultFree reports whether no fault was injected up to t.
func (w *World) faultFree(t sim.Time) bool {
	for _, n := range w.Notes {
		if n.Fault && n.At <= t {
			return false
		}
	}
	return true
}

// untouched reports whether no lifecycle action hit actor a in [from, to].
func (w *World) untouched(a model.ActorID, from, to sim.Time) bool {
	for _, n := range w.Notes {
		if !n.Fault && n.Actor == a && n.At >= from && n.At <= to {
			return false
		}
	}
	return true
}

// destroyedAt is when the engine committed the actor's destruction, or -1.
func (w *World) destroyedAt(a model.ActorID) sim.Time {
	for _, p := range w.Engine.History() {
		if p.Actor == a && p.Event == "destroyed" {
			return p.At
		}
	}
	return -1
}

// stoppedBetween reports whether the actor's Stopped reached the guard in
// [from, to].
func (w *World) stoppedBetween(a model.ActorID, from, to sim.Time) bool {
	for _, t := range w.wire.stopped[a] {
		if t >= from && t <= to {
			return true
		}
	}
	return false
}
