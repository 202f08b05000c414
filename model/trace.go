package model

import "github.com/guardsim/guardsim/sim"

// The protocol's messages trace themselves as typed parts (sim.Value): the
// determinism hash folds the parts in without formatting, and a kept trace
// line renders them. Each String is the same rendering.

// TracePrefix makes a RequestID a sim.Prefixed id: rq12.
func (RequestID) TracePrefix() string { return "rq" }

// TracePrefix makes a MessageID a sim.Prefixed id: m7.
func (MessageID) TracePrefix() string { return "m" }

func (id RequestID) String() string { return "rq" + utoa(uint64(id)) }
func (id MessageID) String() string { return "m" + utoa(uint64(id)) }

// TraceTo renders headers in sorted key order: {k:v,k:v}.
func (h Headers) TraceTo(e *sim.Enc) {
	e.Lit("{")
	for i, k := range sim.SortedKeys(h) {
		if i > 0 {
			e.Lit(",")
		}
		e.Str(k)
		e.Lit(":")
		e.Str(h[k])
	}
	e.Lit("}")
}
func (h Headers) String() string { return sim.Render(h) }

func (m *GetForGateway) TraceTo(e *sim.Enc) {
	e.Lit("GetForGateway{#")
	e.Uint(m.ID)
	e.Lit(" ")
	e.Str(string(m.Actor))
	e.Lit("}")
}

func (m *ActorKeys) TraceTo(e *sim.Enc) {
	e.Lit("ActorKeys{#")
	e.Uint(m.ID)
	e.Lit(" found=")
	e.Bool(m.Found)
	e.Lit(" destroyed=")
	e.Bool(m.Destroyed)
	e.Lit(" sleeping=")
	e.Bool(m.Sleeping)
	e.Lit(" connectable=")
	e.Bool(m.Connectable)
	e.Lit(" runner=")
	e.Str(string(m.Runner))
	e.Lit("}")
}

func (m *SignalWake) TraceTo(e *sim.Enc) {
	e.Lit("Wake{#")
	e.Uint(m.ID)
	e.Lit(" ")
	e.Str(string(m.Actor))
	e.Lit("}")
}

func (m *SignalSent) TraceTo(e *sim.Enc) {
	e.Lit("SignalSent{#")
	e.Uint(m.ID)
	e.Lit("}")
}

func (m *Ready) TraceTo(e *sim.Enc) {
	e.Lit("Ready{")
	e.Str(string(m.Runner))
	e.Lit("}")
}
func (*Stopped) TraceTo(e *sim.Enc) { e.Lit("Stopped{}") }
func (m *Failed) TraceTo(e *sim.Enc) {
	e.Lit("Failed{")
	e.Str(m.Error)
	e.Lit("}")
}
func (*DestroyStarted) TraceTo(e *sim.Enc) { e.Lit("DestroyStarted{}") }

func (m *HibernatingRequestUpsert) TraceTo(e *sim.Enc) {
	e.Lit("HibernatingRequestUpsert{")
	e.Str(string(m.Actor))
	e.Lit(" ")
	e.ID("rq", uint64(m.Request))
	e.Lit("}")
}

func (m *HibernatingRequestDelete) TraceTo(e *sim.Enc) {
	e.Lit("HibernatingRequestDelete{")
	e.Str(string(m.Actor))
	e.Lit(" ")
	e.ID("rq", uint64(m.Request))
	e.Lit("}")
}

func (m *ToClientTunnelMessage) TraceTo(e *sim.Enc) {
	e.Lit(m.Kind.tunnelKind())
	e.Lit("{")
	e.ID("rq", uint64(m.RequestID))
	e.Lit(" ")
	e.ID("m", uint64(m.MessageID))
	if m.GatewayReplyTo != "" {
		e.Lit(" reply=")
		e.Str(m.GatewayReplyTo)
	}
	kindFields(e, m.Kind)
	e.Lit("}")
}

func (m *ToServerTunnelMessage) TraceTo(e *sim.Enc) {
	e.Lit(m.Kind.tunnelKind())
	e.Lit("{")
	e.ID("rq", uint64(m.RequestID))
	e.Lit(" ")
	e.ID("m", uint64(m.MessageID))
	kindFields(e, m.Kind)
	e.Lit("}")
}

// kindTracer is a tunnel kind with fields to show.
type kindTracer interface{ traceFields(e *sim.Enc) }

func kindFields(e *sim.Enc, k TunnelKind) {
	if t, ok := k.(kindTracer); ok {
		e.Lit(" ")
		t.traceFields(e)
	}
}

// kindString renders a tunnel kind's fields, as the message shows them.
func kindString(k kindTracer) string { return sim.Render(kindValue{k}) }

type kindValue struct{ k kindTracer }

func (v kindValue) TraceTo(e *sim.Enc) { v.k.traceFields(e) }

func (k RequestStart) traceFields(e *sim.Enc) {
	e.Lit("actor=")
	e.Str(string(k.ActorID))
	e.Lit(" ")
	e.Str(k.Method)
	e.Lit(" ")
	e.Str(k.Path)
}

func (k WebSocketOpen) traceFields(e *sim.Enc) {
	e.Lit("actor=")
	e.Str(string(k.ActorID))
	e.Lit(" ")
	e.Str(k.Path)
}

func (k WebSocketMessage) traceFields(e *sim.Enc) {
	e.Lit("idx=")
	e.Uint(uint64(k.Index))
	e.Lit(" data=")
	e.Quote(k.Data)
}

func (k WebSocketClose) traceFields(e *sim.Enc) { closeFields(e, k.Code, k.Reason) }

func (k ResponseStart) traceFields(e *sim.Enc) {
	e.Lit("status=")
	e.Int(int64(k.Status))
	if v, ok := k.Headers[XRivetError]; ok {
		e.Lit(" x-rivet-error=")
		e.Str(v)
	}
}

func (k ServerWebSocketOpen) traceFields(e *sim.Enc) {
	e.Lit("hibernate=")
	e.Bool(k.CanHibernate)
	e.Lit(" last=")
	e.Int(k.LastMsgIndex)
}

func (k ServerWebSocketMessage) traceFields(e *sim.Enc) {
	e.Lit("data=")
	e.Quote(k.Data)
}

func (k ServerWebSocketMessageAck) traceFields(e *sim.Enc) {
	e.Lit("idx=")
	e.Uint(uint64(k.Index))
}

func (k ServerWebSocketClose) traceFields(e *sim.Enc) {
	closeFields(e, k.Code, k.Reason)
	e.Lit(" retry=")
	e.Bool(k.Retry)
}

func closeFields(e *sim.Enc, code *uint16, reason string) {
	e.Lit("code=")
	if code == nil {
		e.Lit("none")
	} else {
		e.Uint(uint64(*code))
	}
	e.Lit(" reason=")
	e.Quote(reason)
}

func (k RequestStart) String() string              { return kindString(k) }
func (k WebSocketOpen) String() string             { return kindString(k) }
func (k WebSocketMessage) String() string          { return kindString(k) }
func (k WebSocketClose) String() string            { return kindString(k) }
func (k ResponseStart) String() string             { return kindString(k) }
func (k ServerWebSocketOpen) String() string       { return kindString(k) }
func (k ServerWebSocketMessage) String() string    { return kindString(k) }
func (k ServerWebSocketMessageAck) String() string { return kindString(k) }
func (k ServerWebSocketClose) String() string      { return kindString(k) }

func (m *ToRunnerPing) TraceTo(e *sim.Enc) {
	e.Lit("ToRunnerPing{")
	e.ID("rq", uint64(m.RequestID))
	e.Lit("}")
}

func (m *ToGatewayPong) TraceTo(e *sim.Enc) {
	e.Lit("ToGatewayPong{")
	e.ID("rq", uint64(m.RequestID))
	e.Lit("}")
}

func (m *ToClientInit) TraceTo(e *sim.Enc) {
	e.Lit("Init{")
	e.Str(string(m.Runner))
	e.Lit("}")
}

func (m *ToServerInit) TraceTo(e *sim.Enc) {
	e.Lit("Init{")
	e.Str(string(m.Runner))
	e.Lit("}")
}

func (m *CommandStartActor) TraceTo(e *sim.Enc) {
	e.Lit("StartActor{")
	e.Str(string(m.ActorID))
	e.Lit(" gen=")
	e.Uint(uint64(m.Generation))
	e.Lit("}")
}

func (m *CommandStopActor) TraceTo(e *sim.Enc) {
	e.Lit("StopActor{")
	e.Str(string(m.ActorID))
	e.Lit(" gen=")
	e.Uint(uint64(m.Generation))
	e.Lit("}")
}

func (*ToClientClose) TraceTo(e *sim.Enc) { e.Lit("Close{}") }

func (m *EventActorStateUpdate) TraceTo(e *sim.Enc) {
	e.Lit("ActorState{")
	e.Str(string(m.ActorID))
	e.Lit(" gen=")
	e.Uint(uint64(m.Generation))
	e.Lit(" ")
	e.Str(m.State.String())
	if m.StopError {
		e.Lit(" code=error")
	}
	e.Lit("}")
}

func (m *EventActorIntent) TraceTo(e *sim.Enc) {
	e.Lit("ActorIntent{")
	e.Str(string(m.ActorID))
	e.Lit(" gen=")
	e.Uint(uint64(m.Generation))
	e.Lit(" ")
	e.Str(m.Intent.String())
	e.Lit("}")
}

func (m *ToClientPing) TraceTo(e *sim.Enc) {
	e.Lit("Ping{")
	e.Int(m.TS)
	e.Lit("}")
}

func (m *ToServerPong) TraceTo(e *sim.Enc) {
	e.Lit("Pong{")
	e.Int(m.TS)
	e.Lit("}")
}

func (m *ToServerAckCommands) TraceTo(e *sim.Enc) {
	e.Lit("AckCommands{")
	for i, a := range m.Acks {
		if i > 0 {
			e.Lit(" ")
		}
		e.Str(string(a.ActorID))
		e.Lit(" gen=")
		e.Uint(uint64(a.Generation))
		e.Lit(" idx=")
		e.Int(a.Index)
	}
	e.Lit("}")
}

func (m *CloseFrame) TraceTo(e *sim.Enc) {
	e.Lit("CloseFrame{")
	e.Uint(uint64(m.Code))
	e.Lit(" ")
	e.Str(m.Reason)
	e.Lit("}")
}

func (p *Publish) TraceTo(e *sim.Enc) {
	e.Lit("Publish{")
	e.Str(p.Subject)
	e.Lit(" ")
	e.Any(p.Msg)
	e.Lit("}")
}

func (d *Delivery) TraceTo(e *sim.Enc) {
	e.Lit("Delivery{")
	e.Str(d.Subject)
	e.Lit(" ")
	e.Any(d.Msg)
	e.Lit("}")
}

func (upsHello) TraceTo(e *sim.Enc) { e.Lit("Hello{}") }

func (m *GetForGateway) String() string            { return sim.Render(m) }
func (m *ActorKeys) String() string                { return sim.Render(m) }
func (m *SignalWake) String() string               { return sim.Render(m) }
func (m *SignalSent) String() string               { return sim.Render(m) }
func (m *Ready) String() string                    { return sim.Render(m) }
func (m *Stopped) String() string                  { return sim.Render(m) }
func (m *Failed) String() string                   { return sim.Render(m) }
func (m *DestroyStarted) String() string           { return sim.Render(m) }
func (m *HibernatingRequestUpsert) String() string { return sim.Render(m) }
func (m *HibernatingRequestDelete) String() string { return sim.Render(m) }
func (m *ToClientTunnelMessage) String() string    { return sim.Render(m) }
func (m *ToServerTunnelMessage) String() string    { return sim.Render(m) }
func (m *ToRunnerPing) String() string             { return sim.Render(m) }
func (m *ToGatewayPong) String() string            { return sim.Render(m) }
func (m *ToClientInit) String() string             { return sim.Render(m) }
func (m *ToServerInit) String() string             { return sim.Render(m) }
func (m *CommandStartActor) String() string        { return sim.Render(m) }
func (m *CommandStopActor) String() string         { return sim.Render(m) }
func (m *ToClientClose) String() string            { return sim.Render(m) }
func (m *EventActorStateUpdate) String() string    { return sim.Render(m) }
func (m *EventActorIntent) String() string         { return sim.Render(m) }
func (m *CloseFrame) String() string               { return sim.Render(m) }
func (m *ToServerAckCommands) String() string      { return sim.Render(m) }
func (m *ToClientPing) String() string             { return sim.Render(m) }
func (m *ToServerPong) String() string             { return sim.Render(m) }
func (p *Publish) String() string                  { return sim.Render(p) }
func (d *Delivery) String() string                 { return sim.Render(d) }
func (upsHello) String() string                    { return "Hello{}" }

func utoa(u uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}
