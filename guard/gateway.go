package guard

import (
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Gateway constants (GW, GSS).
const (
	// TunnelAckTimeout bounds the whole HTTP response, or a WebSocket's
	// open (GW:32, 154-160, 256-262).
	TunnelAckTimeout = 2 * sim.Second
	// GatewayGCInterval is the in-flight GC tick (GSS:16).
	GatewayGCInterval = 15 * sim.Second
	// GatewayMessageAckTimeout is the GC's ack deadline (GSS:17).
	GatewayMessageAckTimeout = 30 * sim.Second
)

// tunnelEvent is what reaches an in-flight request's channel: a runner
// message, the GC's Timeout, or the channel closing.
type tunnelEvent struct {
	kind    model.TunnelKind // nil for Timeout or closed
	timeout bool
	closed  bool
}

// inFlight is an InFlightRequest (GSS:25-56). Its channel is modelled as
// the current attempt's receiver function; closed once that attempt ended.
type inFlight struct {
	id              model.RequestID
	receiverSubject string
	recv            func(tunnelEvent) // msg_tx; nil when the receiver was dropped
	opened          bool
	pending         []pendingMsg
	hibernation     *hibernationState // kept across attempts (GSS:103-108)
}

type pendingMsg struct {
	id     model.MessageID
	sentAt sim.Time
}

// sharedState is the gateway's per-guard state (GSS:58-442).
type sharedState struct {
	g        *Guard
	subject  string
	inFlight map[model.RequestID]*inFlight
	nextReq  model.RequestID
	nextMsg  model.MessageID
}

func newSharedState(g *Guard) *sharedState {
	s := &sharedState{g: g, subject: model.GatewayReceiverSubject(g.node), inFlight: map[model.RequestID]*inFlight{}}
	// Request and message ids are random UUIDs upstream; here they are
	// numbered per guard, which keeps traces readable and deterministic.
	s.nextMsg = 1 << 32
	g.ups.Subscribe(s.subject, s.receive)
	// tokio's interval fires its first tick at once (GSS:403-442).
	g.w.Daemon(0, s.gc)
	return s
}

func (s *sharedState) newRequestID() model.RequestID { s.nextReq++; return s.nextReq }
func (s *sharedState) newMessageID() model.MessageID { s.nextMsg++; return s.nextMsg }

// start is start_in_flight_request (GSS:86-112): a new entry, or, for an
// existing one, a new channel with opened and pending reset.
func (s *sharedState) start(id model.RequestID, runner model.RunnerID, recv func(tunnelEvent)) *inFlight {
	f := s.inFlight[id]
	if f == nil {
		f = &inFlight{id: id}
		s.inFlight[id] = f
	}
	f.receiverSubject = model.RunnerReceiverSubject(runner)
	f.recv = recv
	f.opened = false
	f.pending = nil
	return f
}

// send is send_message (GSS:114-197).
func (s *sharedState) send(id model.RequestID, kind model.TunnelKind) error {
	f := s.inFlight[id]
	if f == nil {
		return &internalError{"request not in flight"}
	}
	m := &model.ToClientTunnelMessage{RequestID: id, MessageID: s.newMessageID(), Kind: kind}
	if !f.opened {
		f.opened = true
		m.GatewayReplyTo = s.subject
	}
	now := s.g.w.Now()
	f.pending = append(f.pending, pendingMsg{m.MessageID, now})
	if wm, ok := kind.(model.WebSocketMessage); ok && f.hibernation != nil {
		hs := f.hibernation
		wm.Index = hs.lastIndex + 1 // skips 0 when initiated, as upstream notes
		m.Kind = wm
		hs.totalSize += uint64(len(wm.Data) + envelopeOverhead) // never decremented (errata E4)
		if hs.totalSize > MaxPendingMsgsSizePerReq || len(hs.pending) >= MaxPendingMsgs {
			return rivetErr("guard", "websocket_pending_limit_reached", "WebSocket pending limit reached.")
		}
		hs.lastIndex = wm.Index
		hs.pending = append(hs.pending, pendingWSMsg{m, now})
	}
	s.g.ups.Publish(f.receiverSubject, m)
	return nil
}

// receive is the receiver loop (GSS:199-287).
func (s *sharedState) receive(msg any) {
	m := msg.(*model.ToServerTunnelMessage)
	f := s.inFlight[m.RequestID]
	if f == nil {
		s.g.trace("gw.not_in_flight", "rid", m.RequestID)
		return
	}
	if _, ok := m.Kind.(model.TunnelAck); ok {
		for i, p := range f.pending {
			if p.id == m.MessageID {
				f.pending = append(f.pending[:i], f.pending[i+1:]...)
				break
			}
		}
		return
	}
	if f.recv != nil {
		f.recv(tunnelEvent{kind: m.Kind})
	}
	ackID := m.MessageID
	if s.g.quirks.GatewayFreshAckID { // GSS:253, fixed in 03965b331 (#3326)
		ackID = s.newMessageID()
	}
	s.g.ups.Publish(f.receiverSubject, &model.ToClientTunnelMessage{RequestID: m.RequestID, MessageID: ackID, Kind: model.TunnelAck{}})
}

// closeChannel drops the attempt's receiver: the entry stays until the GC
// sees the closed channel (errata E8).
func (f *inFlight) closeChannel() { f.recv = nil }

// gc is the in-flight GC tick (GSS:403-442).
func (s *sharedState) gc() {
	now := s.g.w.Now()
	for _, id := range sim.SortedKeys(s.inFlight) {
		f := s.inFlight[id]
		if f.recv == nil { // msg_tx.is_closed(): the handler is gone
			if f.hibernation != nil {
				s.g.trace("gw.gc_remove_closed", "rid", id, "buffered", len(f.hibernation.pending))
			}
			delete(s.inFlight, id)
			continue
		}
		keep := true
		if len(f.pending) > 0 {
			keep = s.gcKeep(now - f.pending[0].sentAt)
		}
		if hs := f.hibernation; keep && hs != nil && len(hs.pending) > 0 {
			keep = s.gcKeep(now - hs.pending[0].sentAt)
		}
		if keep {
			continue
		}
		s.g.trace("gw.gc_remove", "rid", id, "pending", len(f.pending))
		recv := f.recv
		delete(s.inFlight, id)
		if !s.g.quirks.GatewayInvertedGC {
			recv(tunnelEvent{timeout: true}) // delivered only once fixed
		}
		recv(tunnelEvent{closed: true}) // the entry and its channel are gone
	}
	s.g.w.Daemon(GatewayGCInterval, s.gc)
}

// gcKeep is the GC's verdict on an entry whose oldest un-acked message has
// the given age.
func (s *sharedState) gcKeep(age sim.Time) bool {
	if s.g.quirks.GatewayInvertedGC {
		return age > GatewayMessageAckTimeout // as written upstream: removes young entries
	}
	return age <= GatewayMessageAckTimeout // 6b7ebbb0d (#3492)
}

// PegboardGateway forwards requests for one actor to the runner pinned
// when Guard resolved the route (GW:49-66, PGR:237-245).
type PegboardGateway struct {
	g      *Guard
	runner model.RunnerID
	actor  model.ActorID
	path   string
}

// handleRequest is GW:71-177: one attempt with a fresh request id.
func (p *PegboardGateway) handleRequest(req *Request, att *Attempt, done func(*Response, error)) {
	s := p.g.gw
	id := s.newRequestID() // GW:102
	att.Request = id
	finished := false
	var timer sim.Timer
	var f *inFlight
	finish := func(r *Response, err error) {
		if finished {
			return
		}
		finished = true
		timer.Stop()
		f.closeChannel()
		done(r, err)
	}
	f = s.start(id, p.runner, func(ev tunnelEvent) {
		switch k := ev.kind.(type) {
		case model.ResponseStart: // GW:131-135, 164-176
			finish(&Response{Status: k.Status, Headers: k.Headers.Clone(), Body: k.Body}, nil)
		case model.ResponseAbort: // GW:136-139
			finish(nil, errServiceUnavailable())
		case nil:
			if ev.timeout || ev.closed { // GW:144-152
				finish(nil, errServiceUnavailable())
			}
		}
	})
	p.g.trace("gw.request", "rid", id, "actor", p.actor, "runner", p.runner)
	headers := req.Headers.Clone()
	if err := s.send(id, model.RequestStart{ActorID: p.actor, Method: req.Method, Path: p.path, Headers: headers, Body: req.Body}); err != nil {
		finish(nil, err)
		return
	}
	timer = p.g.w.After(TunnelAckTimeout, func() { // GW:154-160
		p.g.trace("gw.timeout", "rid", id)
		finish(nil, errServiceUnavailable())
	})
}
