package guard

import (
	"github.com/guardsim/guardsim/internal/plant"
	"maps"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Gateway constants (GW, GSS).
const (
	// TunnelAckTimeout bounds the whole HTTP response, or a WebSocket's
	// open (GW:32, 154-160, 256-262), through gateway_timeouts_2s.
	TunnelAckTimeout = 2 * sim.Second
	// ResponseTimeout bounds the HTTP response from 2e22a2e61
	// (WEBSOCKET_OPEN_TIMEOUT, GW@2e22a2e61:37, 234; RESPONSE_START_TIMEOUT,
	// GW@0169801a0:36, 234).
	ResponseTimeout = 15 * sim.Second
	// ResponseStartTimeout is gateway_response_start_timeout_ms's default
	// from ba328f490 (PCFG@ba328f490:253-256).
	ResponseStartTimeout = 5 * sim.Minute
	// OpenTimeout5s bounds a WebSocket's open from 2e22a2e61
	// (TUNNEL_ACK_TIMEOUT, GW@2e22a2e61:38, 371), through
	// gateway_ws_open_timeout_5s; from 0169801a0 it is OpenTimeout
	// (WEBSOCKET_OPEN_TIMEOUT, GW@0169801a0:35, 376).
	OpenTimeout5s = 5 * sim.Second
	OpenTimeout   = 15 * sim.Second
	// PingInterval and PingTimeout are the open socket's ping task from
	// c76f319fe (UPDATE_PING_INTERVAL, GW@c76f319fe:41; TUNNEL_PING_TIMEOUT,
	// GSS@c76f319fe:19).
	PingInterval = 3 * sim.Second
	PingTimeout  = 30 * sim.Second
	// HibernationTimeout is hibernating_request_eligible_threshold (90 s,
	// GSS@553683bfd:74-86): the GC's keepalive deadline for a hibernatable
	// entry, and the age of the rows CommandStartActor lists.
	HibernationTimeout = 90 * sim.Second
	// KeepaliveInterval is half of it (keepalive_task.rs@553683bfd).
	KeepaliveInterval = HibernationTimeout / 2
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
	// stopping is the GC's first-phase flag (GSS@5111b8e76:45); never set
	// under gateway_gc_one_phase.
	stopping bool
	// messageIndex is the per-request message index from 6b7ebbb0d
	// (GSS@6b7ebbb0d:146-150); lastPong the ping task's (GSS@c76f319fe:119),
	// set when the entry is created only.
	messageIndex uint16
	lastPong     sim.Time
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
	gcTick   func()            // s.gc, made once: every tick reschedules it
	gcKeys   []model.RequestID // the GC's list of in-flight keys, reused every tick
}

func newSharedState(g *Guard) *sharedState {
	s := &sharedState{g: g, subject: model.GatewayReceiverSubject(g.node), inFlight: map[model.RequestID]*inFlight{}}
	// Request and message ids are random UUIDs upstream; here they are
	// numbered per guard, which keeps traces readable and deterministic.
	s.nextMsg = 1 << 32
	g.ups.Subscribe(s.subject, s.receive)
	s.gcTick = s.gc
	// tokio's interval fires its first tick at once (GSS:403-442).
	g.w.Daemon(0, s.gcTick)
	return s
}

func (s *sharedState) newRequestID() model.RequestID { s.nextReq++; return s.nextReq }
func (s *sharedState) newMessageID() model.MessageID { s.nextMsg++; return s.nextMsg }

// start is start_in_flight_request (GSS@f3105c779:86-112,
// GSS@5111b8e76:98-133): a new entry, or, for an existing one, a new
// channel with opened and pending reset. The hibernation buffer survives a
// reuse, except that from 5111b8e76 an entry the GC flagged as stopping
// loses it (and its flag).
//
// From 6b7ebbb0d a reuse resets the message index, until b3313f9f0; from
// b9334b316 it resets last_pong. new reports whether the entry was created
// (GW@553683bfd:311-314).
func (s *sharedState) start(id model.RequestID, runner model.RunnerID, recv func(tunnelEvent)) (f *inFlight, new bool) {
	f = s.inFlight[id]
	if f == nil {
		f = &inFlight{id: id, lastPong: s.g.w.Now()}
		s.inFlight[id] = f
		new = true
	} else {
		if s.g.quirks.Has(model.GatewayMessageIndexResetOnReuse) {
			f.messageIndex = 0
		}
		if !s.g.quirks.Has(model.GatewayPongNotResetOnReuse) { // GSS@b9334b316:156
			f.lastPong = s.g.w.Now()
		}
	}
	if !new && f.stopping {
		buffered := 0
		if f.hibernation != nil {
			buffered = len(f.hibernation.pending)
		}
		s.g.trace("gw.reuse_stopping", sim.ID("rid", id), sim.Int("buffered", buffered))
		f.hibernation = nil
		f.stopping = false
	}
	f.receiverSubject = model.RunnerReceiverSubject(runner)
	f.recv = recv
	f.opened = false
	f.pending = nil
	return f, new
}

// send is send_message (GSS:114-197, GSS@6b7ebbb0d:133-201).
func (s *sharedState) send(id model.RequestID, kind model.TunnelKind) error {
	f := s.inFlight[id]
	if f == nil {
		return &internalError{"request not in flight"}
	}
	q := s.g.quirks
	if q.Has(model.TunnelMessageIDSizeMismatch) { // tunnel/id.rs@6b7ebbb0d:9,29,36
		return &internalError{"message id: wrote 10 bytes, expected 12"}
	}
	index := f.messageIndex // GSS@6b7ebbb0d:146-150 (unused before)
	f.messageIndex++
	m := &model.ToClientTunnelMessage{RequestID: id, MessageID: s.newMessageID(), Kind: kind}
	if !f.opened {
		f.opened = true
		if q.Has(model.PBRTunnelActiveRequests) {
			m.GatewayReplyTo = s.subject
		}
	}
	if !q.Has(model.PBRTunnelActiveRequests) {
		m.Gateway = s.subject
	}
	now := s.g.w.Now()
	if q.Has(model.GatewayGCInvertedAge) { // the tunnel's pending_msgs go with MessageNotAcked at 6b7ebbb0d
		f.pending = append(f.pending, pendingMsg{m.MessageID, now})
	}
	if wm, ok := kind.(model.WebSocketMessage); ok && f.hibernation != nil {
		hs := f.hibernation
		if q.Has(model.GatewayWSIndexSeparate) {
			wm.Index = hs.lastIndex + 1 // skips 0 when initiated, as upstream notes
		} else {
			wm.Index = index
		}
		m.Kind = wm
		hs.totalSize += uint64(len(wm.Data) + envelopeOverhead) // never decremented (errata E4)
		if hs.totalSize > MaxPendingMsgsSizePerReq || len(hs.pending) >= MaxPendingMsgs {
			return rivetErr("guard", "websocket_pending_limit_reached", "WebSocket pending limit reached.")
		}
		hs.lastIndex = wm.Index
		hs.pending = append(hs.pending, pendingWSMsg{m, now})
	} else if ok && !q.Has(model.GatewayWSIndexSeparate) {
		wm.Index = index
		m.Kind = wm
	}
	s.g.ups.Publish(f.receiverSubject, m)
	return nil
}

// receive is the receiver loop (GSS:199-287).
func (s *sharedState) receive(msg any) {
	if p, ok := msg.(*model.ToGatewayPong); ok { // GSS@c76f319fe: the pong
		if f := s.inFlight[p.RequestID]; f != nil {
			f.lastPong = s.g.w.Now()
		}
		return
	}
	m := msg.(*model.ToServerTunnelMessage)
	f := s.inFlight[m.RequestID]
	if f == nil {
		s.g.trace("gw.not_in_flight", sim.ID("rid", m.RequestID))
		return
	}
	if !s.g.quirks.Has(model.TunnelAcks) { // a89ca2b17: no acks either way
		if _, ok := m.Kind.(model.TunnelAck); ok {
			return
		}
		if f.recv != nil {
			f.recv(tunnelEvent{kind: m.Kind})
		}
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
	if s.g.quirks.Has(model.GatewayFreshAckID) { // GSS:253, fixed in 03965b331 (#3326)
		ackID = s.newMessageID()
	}
	model.PublishNew(s.g.ups, f.receiverSubject, model.ToClientTunnelMessage{RequestID: m.RequestID, MessageID: ackID, Kind: model.TunnelAck{}})
}

// closeChannel drops the attempt's receiver when its handler returns:
// msg_rx and drop_rx go with it, so the GC sees msg_tx.is_closed() and
// drop_tx.is_closed(). The entry stays until the GC removes it (errata E8).
func (f *inFlight) closeChannel() { f.recv = nil }

// gc is the in-flight GC tick, every 15 s, the first at once (GSS:403-442).
// Through gateway_gc_kill_undelivered its Timeout send is an async send that
// is never awaited (GSS@f3105c779:434-436, GSS@5111b8e76:520): nothing
// reaches the handler but, in one phase, the channel closing. From
// 450d9e5c6 the two-phase GC's flag is delivered.
func (s *sharedState) gc() {
	switch {
	case len(s.inFlight) == 0: // neither pass does anything without entries
	case s.g.quirks.Has(model.GatewayGCOnePhase):
		s.gcOnePhase()
	default:
		s.gcTwoPhase()
	}
	s.g.w.Daemon(GatewayGCInterval, s.gcTick)
}

// gcOnePhase is the seed's retain (GSS@f3105c779:403-442): an entry whose
// handler is gone is removed whatever it still buffers (errata E5); an
// entry the age checks flag is removed at once, which closes its live
// handler's channel.
func (s *sharedState) gcOnePhase() {
	for _, id := range sim.SortedKeys(s.inFlight) {
		f := s.inFlight[id]
		if f.recv == nil { // msg_tx.is_closed(): the handler is gone
			if f.hibernation != nil {
				s.g.trace("gw.gc_remove_closed", sim.ID("rid", id), sim.Int("buffered", len(f.hibernation.pending)))
			}
			delete(s.inFlight, id)
			continue
		}
		reason := s.gcAgeReason(f)
		if reason == "" {
			continue
		}
		s.g.trace("gw.gc_remove", sim.ID("rid", id), sim.Str("reason", reason), sim.Int("pending", len(f.pending)))
		recv := f.recv
		delete(s.inFlight, id)
		recv(tunnelEvent{closed: true}) // the entry and its msg_tx are gone
	}
}

// gcTwoPhase is 5111b8e76's GC (GSS@5111b8e76:424-547). Phase one flags
// an entry as stopping when its handler is gone and nothing is buffered
// (GatewayClosed, 481-490), or when the age checks flag it; nothing is
// sent anywhere. Phase two removes a stopping entry once its handler has
// returned (drop_tx.is_closed(), 535). A live handler is never disturbed.
func (s *sharedState) gcTwoPhase() {
	var kill []*inFlight
	// The two loops only flag, trace and delete (the kills run after
	// them), so they list the keys into one slice kept for every tick.
	s.gcKeys = sim.AppendSortedKeys(s.gcKeys, s.inFlight)
	for _, id := range s.gcKeys {
		f := s.inFlight[id]
		if f.stopping {
			continue
		}
		reason := ""
		switch {
		case !s.g.quirks.Has(model.GatewayGCCollectsClosedHibernatable): // GSS@553683bfd:500-521
			reason = s.gcReason553(f)
		case f.recv == nil && len(f.pending) == 0 && (f.hibernation == nil || len(f.hibernation.pending) == 0):
			reason = "gateway_closed"
		default:
			reason = s.gcAgeReason(f)
		}
		if reason == "" {
			continue
		}
		f.stopping = true
		buffered := 0
		if f.hibernation != nil {
			buffered = len(f.hibernation.pending)
		}
		s.g.trace("gw.gc_stopping", sim.ID("rid", id), sim.Str("reason", reason), sim.Int("buffered", buffered))
		if f.recv != nil && !s.g.quirks.Has(model.GatewayGCKillUndelivered) {
			kill = append(kill, f)
		}
	}
	s.gcKeys = sim.AppendSortedKeys(s.gcKeys, s.inFlight)
	for _, id := range s.gcKeys {
		if f := s.inFlight[id]; f.stopping && f.recv == nil {
			buffered := 0
			if f.hibernation != nil {
				buffered = len(f.hibernation.pending)
			}
			s.g.trace("gw.gc_remove_stopping", sim.ID("rid", id), sim.Int("buffered", buffered))
			delete(s.inFlight, id)
		}
	}
	// From 450d9e5c6 the flag reaches the live handler through drop_tx
	// (GSS@450d9e5c6:475): HTTP and a socket not yet open give up as
	// unavailable, an open socket with websocket_service_timeout. The handler
	// returns later than this tick upstream, so its entry goes at the next.
	for _, f := range kill {
		if recv := f.recv; recv != nil {
			recv(tunnelEvent{timeout: true})
		}
	}
}

// gcAgeReason is the GC's age checks on the oldest un-acked tunnel message,
// then the oldest buffered hibernation message. As written upstream through
// the whole timeline, both are inverted: an entry is flagged when that
// message is at most 30 s old (GSS@f3105c779:418-432, GSS@5111b8e76:492-508).
// Without gateway_gc_inverted_age (a what-if, never a profile of the
// timeline) they are as 6b7ebbb0d wrote them: the tunnel check is deleted
// and the buffer check flags a message older than 30 s.
func (s *sharedState) gcAgeReason(f *inFlight) string {
	now := s.g.w.Now()
	inverted := s.g.quirks.Has(model.GatewayGCInvertedAge)
	if inverted && len(f.pending) > 0 && now-f.pending[0].sentAt <= GatewayMessageAckTimeout {
		return "message_not_acked"
	}
	if hs := f.hibernation; hs != nil && len(hs.pending) > 0 {
		age := now - hs.pending[0].sentAt
		if (inverted && age <= GatewayMessageAckTimeout) || (!inverted && age > GatewayMessageAckTimeout) {
			return "websocket_message_not_acked"
		}
	}
	return ""
}

// gcReason553 is 553683bfd's first phase (GSS@553683bfd:500-521): a
// hibernatable entry is collected only for a buffered message older than
// 30 s or a keepalive older than 90 s, never for a closed channel; any
// other entry when its handler is gone.
func (s *sharedState) gcReason553(f *inFlight) string {
	if plant.On(plant.GatewayKeepsEntries) && f.hibernation == nil {
		return ""
	}
	now := s.g.w.Now()
	if hs := f.hibernation; hs != nil {
		switch {
		case len(hs.pending) > 0 && now-hs.pending[0].sentAt > GatewayMessageAckTimeout:
			return "websocket_message_not_acked"
		case now-hs.lastPing > HibernationTimeout:
			return "hibernation_timeout"
		}
		return ""
	}
	if f.recv == nil {
		return "gateway_closed"
	}
	return ""
}

// PegboardGateway forwards requests for one actor to the runner pinned
// when Guard resolved the route (GW:49-66, PGR:237-245).
type PegboardGateway struct {
	g      *Guard
	runner model.RunnerID
	actor  model.ActorID
	path   string
}

// handleRequest is GW:71-177: one attempt, with a fresh request id through
// guard_request_id_per_attempt, else the id Guard acquired for every
// attempt of the client request (PS@6b7ebbb0d:1102, 1137).
func (p *PegboardGateway) handleRequest(req *Request, att *Attempt, sharedID model.RequestID, done func(*Response, error)) {
	s, q := p.g.gw, p.g.quirks
	if q.Has(model.GatewayCORS) && req.Method == "OPTIONS" { // GW@ecd4e0417:105-133
		p.g.trace("gw.cors_preflight", sim.Str("actor", p.actor))
		h := corsHeaders(req)
		h["access-control-allow-methods"] = "GET, POST, PUT, DELETE, OPTIONS, PATCH"
		h["access-control-allow-headers"] = "*"
		if v, ok := req.Headers["access-control-request-headers"]; ok {
			h["access-control-allow-headers"] = v
		}
		h["access-control-max-age"] = "86400"
		done(&Response{Status: 204, Headers: h}, nil)
		return
	}
	id := sharedID
	if q.Has(model.GuardRequestIDPerAttempt) {
		id = s.newRequestID() // GW:102
	}
	att.Request = id
	// The attempt's state, one allocation for every closure below.
	var st struct {
		finished bool
		timer    sim.Timer
		stopped  model.Subscription
		f        *inFlight
	}
	finish := func(r *Response, err error) {
		if st.finished {
			return
		}
		st.finished = true
		st.timer.Stop()
		st.stopped.Unsubscribe()
		st.f.closeChannel()
		done(r, err)
	}
	if !q.Has(model.GatewayIgnoresActorStopped) { // GW@3891bf8b6:155, 220-223
		st.stopped = p.g.ups.Subscribe(model.ActorSubject(p.actor), func(msg any) {
			if _, ok := msg.(*model.Stopped); ok {
				p.g.trace("gw.actor_stopped", sim.ID("rid", id), sim.Str("actor", p.actor))
				finish(nil, p.httpError(errActorStoppedWhileWaiting))
			}
		})
	}
	st.f, _ = s.start(id, p.runner, func(ev tunnelEvent) {
		switch k := ev.kind.(type) {
		case model.ResponseStart: // GW:131-135, 164-176
			h := k.Headers.Clone()
			if q.Has(model.GatewayCORS) { // GW@ecd4e0417:217-226 (appended upstream; one value per header here)
				maps.Copy(h, corsHeaders(req))
			}
			body := k.Body
			if plant.On(plant.GatewayDropsBody) {
				body = ""
			}
			finish(&Response{Status: k.Status, Headers: h, Body: body}, nil)
		case model.ResponseAbort: // GW:136-139
			finish(nil, p.httpError(errTunnelRequestAborted))
		case nil:
			switch { // GW:144-152
			case ev.timeout:
				finish(nil, p.httpError(errTunnelMessageTimeout))
			case ev.closed:
				finish(nil, p.httpError(errTunnelResponseClosed))
			}
		}
	})
	p.g.trace("gw.request", sim.ID("rid", id), sim.Str("actor", p.actor), sim.Str("runner", p.runner))
	headers := req.Headers.Clone()
	if err := s.send(id, model.RequestStart{ActorID: p.actor, Method: req.Method, Path: p.path, Headers: headers, Body: req.Body}); err != nil {
		finish(nil, err)
		return
	}
	wait := ResponseStartTimeout
	switch {
	case q.Has(model.GatewayTimeouts2s):
		wait = TunnelAckTimeout
	case q.Has(model.GatewayResponseTimeout15s):
		wait = ResponseTimeout
	}
	if plant.On(plant.GatewayShortTimeout) {
		wait = sim.Second
	}
	st.timer = p.g.w.After(wait, func() { // GW:154-160
		p.g.trace("gw.timeout", sim.ID("rid", id))
		finish(nil, p.httpError(errGatewayResponseStartTimeout))
	})
}

// httpError is the error a failed HTTP attempt ends with: service_unavailable
// for every cause until 82f5c9d06, then the cause's own.
func (p *PegboardGateway) httpError(own func() *RivetError) error {
	if p.g.quirks.Has(model.GuardRetriesAnyXRivetError) {
		return errServiceUnavailable()
	}
	return own()
}

// corsHeaders are the CORS headers the gateway adds from ecd4e0417 on: the
// request's Origin is echoed (with Vary), or "*" (GW@ecd4e0417:86-94,
// 217-226).
func corsHeaders(req *Request) model.Headers {
	origin := "*"
	if o, ok := req.Headers["origin"]; ok {
		origin = o
	}
	h := model.Headers{
		"access-control-allow-origin":      origin,
		"access-control-allow-credentials": "true",
		"access-control-expose-headers":    "*",
	}
	if origin != "*" {
		h["vary"] = "Origin"
	}
	return h
}
