package properties

import (
	"github.com/guardsim/guardsim/guard"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/oracle"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// ClientTag is the header every client request and WebSocket carries, so
// the oracle can attribute what crosses the wire to client operations
// (model.TraceHeader).
const ClientTag = model.TraceHeader

// guardNode is the node the world runs Guard on.
const guardNode = "guard"

// Violation is one property broken; the oracle's type.
type Violation = oracle.Violation

// Properties lists every property, in report order (the oracle's registry).
var Properties = oracle.Properties

// PropertyNames lists the property names in order.
func PropertyNames() []string { return oracle.PropertyNames() }

// FormatViolations renders violations with a diff of what the oracle
// allowed (-) against what was observed (+).
func FormatViolations(vs []Violation) string { return oracle.FormatViolations(vs) }

// Check has the oracle judge the world's record on the named properties
// (all when names is empty).
func Check(w *World, names ...string) []Violation { return oracle.Check(w.Record(), names...) }

// Record completes and returns what the world observed: the clients' and
// actors' observations and the wire are recorded as they happen; the
// engine's history, the actors' configuration and the gauges are read now.
func (w *World) Record() *record.Record {
	r := &w.rec
	r.Profile = w.Cfg.Profile
	r.End = w.Sim.Now()
	r.Settled = w.settled
	r.History = w.Engine.History()
	r.EngineActors = w.Engine.Actors()
	r.Actors = map[model.ActorID]record.ActorFacts{}
	for _, a := range sim.SortedKeys(w.behaviors) {
		b := w.behaviors[a]
		r.Actors[a] = record.ActorFacts{CanHibernate: b.CanHibernate, WSHandlerThrow: b.WSHandlerThrow}
	}
	r.Gauges = record.Gauges{InFlight: w.Guard.InFlight(), Subjects: w.UPS.Subjects()}
	return r
}

// tap records what crosses the wire into the record: what Guard sends (at
// the instant it sends it) and what reaches Guard, pub/sub, the engine and
// the runners. It never changes the world.
func (w *World) tap() {
	w.rec.Wire = record.NewWire()
	wire := &w.rec.Wire
	// published: a RequestStart or WebSocketOpen Guard sent, by message id:
	// its index in wire.Starts[tag].
	published := map[model.MessageID]int{}
	// seq orders the Starts, Answers and Reads observed in one instant.
	var seq int64
	net := w.Sim.Net()
	w.UPS.ObservePublish(func(node string, p *model.Publish) {
		tm, ok := p.Msg.(*model.ToClientTunnelMessage)
		if !ok || node != guardNode {
			return
		}
		tag, ok := tunnelTag(tm)
		if !ok {
			return
		}
		_, ws := tm.Kind.(model.WebSocketOpen)
		runner := model.RunnerID(p.Subject[len("runner."):])
		published[tm.MessageID] = len(wire.Starts[tag])
		seq++
		wire.Starts[tag] = append(wire.Starts[tag], record.Start{Sent: w.Sim.Now(), Seq: seq, Reached: -1, Request: tm.RequestID, Runner: runner, WS: ws})
	})
	net.ObserveSend(func(from, to string, msg any) {
		if from != guardNode {
			return
		}
		switch m := msg.(type) {
		case *model.GetForGateway:
			seq++
			wire.Reads[m.Trace] = append(wire.Reads[m.Trace], record.Read{Sent: w.Sim.Now(), Seq: seq, ID: m.ID, Actor: m.Actor})
		case *guard.UpstreamWSOpen:
			tag := m.Request.Headers[ClientTag]
			wire.Peers[tag] = append(wire.Peers[tag], record.PeerConnect{Sent: w.Sim.Now()})
		}
	})
	net.Observe(func(from, to string, msg any) {
		now := w.Sim.Now()
		switch m := msg.(type) {
		case *model.Publish: // at UPS
			tm, ok := m.Msg.(*model.ToClientTunnelMessage)
			if !ok || from != guardNode {
				return
			}
			if i, ok := published[tm.MessageID]; ok {
				tag, _ := tunnelTag(tm)
				if st := &wire.Starts[tag][i]; st.Reached < 0 {
					st.Reached = now
				}
			}
		case *model.ToClientTunnelMessage: // at a runner
			switch m.Kind.(type) {
			case model.RequestStart, model.WebSocketOpen:
				wire.Arrivals[m.RequestID] = append(wire.Arrivals[m.RequestID], record.Arrival{At: now, Runner: model.RunnerID(to)})
			case model.WebSocketClose:
				wire.RunnerCloses[m.RequestID] = append(wire.RunnerCloses[m.RequestID], record.Arrival{At: now, Runner: model.RunnerID(to)})
			}
		case *model.CommandStartActor: // at a runner
			wire.Commands = append(wire.Commands, record.Command{At: now, Runner: model.RunnerID(to), Actor: m.ActorID, Generation: m.Generation})
		case *model.CommandStopActor: // at a runner
			wire.Commands = append(wire.Commands, record.Command{At: now, Runner: model.RunnerID(to), Actor: m.ActorID, Generation: m.Generation, Stop: true})
		case *model.SignalWake: // at the engine
			wire.Wakes[m.Actor] = append(wire.Wakes[m.Actor], now)
		case *model.ActorKeys: // at the guard
			wire.Replies[m.ID] = now
		case *model.Delivery: // at the guard
			if to != guardNode {
				return
			}
			if _, ok := m.Msg.(*model.Stopped); ok {
				a := model.ActorID(m.Subject[len("actor."):])
				wire.Stopped[a] = append(wire.Stopped[a], now)
				return
			}
			tm, ok := m.Msg.(*model.ToServerTunnelMessage)
			if !ok {
				return
			}
			if _, ok := tm.Kind.(model.TunnelAck); ok {
				wire.Acks[tm.RequestID] = append(wire.Acks[tm.RequestID], now)
				return
			}
			seq++
			r := record.Answer{At: now, Seq: seq, Kind: tm.Kind}
			if rs, ok := tm.Kind.(model.ResponseStart); ok {
				_, hdr := rs.Headers[model.XRivetError]
				r.Retry = rs.Status == 503 && hdr
			}
			wire.Responses[tm.RequestID] = append(wire.Responses[tm.RequestID], r)
		}
	})
}

// tunnelTag is the client tag of a RequestStart or WebSocketOpen; ok is
// false for any other tunnel message.
func tunnelTag(tm *model.ToClientTunnelMessage) (tag string, ok bool) {
	switch k := tm.Kind.(type) {
	case model.RequestStart:
		return k.Headers[ClientTag], true
	case model.WebSocketOpen:
		return k.Headers[ClientTag], true
	}
	return "", false
}

// NoteFault records an injected fault.
func (w *World) NoteFault(what string) {
	w.rec.Notes = append(w.rec.Notes, record.Note{At: w.Sim.Now(), Fault: true, What: what})
}

// NoteLifecycle records a lifecycle action on an actor.
func (w *World) NoteLifecycle(a model.ActorID, what string) {
	w.rec.Notes = append(w.rec.Notes, record.Note{At: w.Sim.Now(), Actor: a, What: what})
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
