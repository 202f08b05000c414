package guard

import (
	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Hibernation limits (GSS:18, 172-176; errata E4).
const (
	// MaxPendingMsgsSizePerReq bounds the hibernation buffer. The counter
	// is cumulative: it never decreases on ack or resend.
	MaxPendingMsgsSizePerReq = 1 << 20
	// MaxPendingMsgs bounds the number of buffered messages.
	MaxPendingMsgs = 65535
	// envelopeOverhead approximates the serialized envelope around a
	// message's data (request id, message id, kind, index).
	envelopeOverhead = 40
)

// hibernationState is kept across attempts of one client WebSocket while
// its in-flight entry survives (GSS:25-56, 103-108; errata E5).
type hibernationState struct {
	totalSize uint64
	lastIndex uint16
	pending   []pendingWSMsg
	// lastPing is refreshed by the keepalive (GSS@553683bfd:49-54, 266).
	lastPing sim.Time
}

// pendingWSMsg is a buffered client message, kept as it was first sent:
// same message id, same index.
type pendingWSMsg struct {
	msg    *model.ToClientTunnelMessage
	sentAt sim.Time
}

// wrappingGT compares u16 indices with wrap-around (GSS:445-447).
func wrappingGT(a, b uint16) bool { return a != b && a-b < 0xffff/2 }

// toggleHibernation is GSS:289-310.
func (s *sharedState) toggleHibernation(id model.RequestID, enable bool) error {
	f := s.inFlight[id]
	if f == nil {
		return &internalError{"request not in flight"}
	}
	switch {
	case f.hibernation != nil && !enable:
		f.hibernation = nil
	case f.hibernation == nil && enable:
		f.hibernation = &hibernationState{lastPing: s.g.w.Now()}
	}
	return nil
}

// resendPending is GSS:312-369: resend buffered messages after
// lastMsgIndex (all of them when it is negative), then drop the acked ones.
//
// From 450d9e5c6 (protocol v3 drops lastMsgIndex) every buffered message is
// resent and none is dropped here (GSS@450d9e5c6:325-343).
func (s *sharedState) resendPending(id model.RequestID, lastMsgIndex int64) error {
	f := s.inFlight[id]
	if f == nil {
		return &internalError{"request not in flight"}
	}
	hs := f.hibernation
	if hs == nil || len(hs.pending) == 0 || plant.On(plant.GatewayNoResend) {
		return nil
	}
	if !s.g.quirks.Has(model.GatewayResendAfterLastIndex) {
		for _, p := range hs.pending {
			s.g.trace("gw.ws_resend", sim.ID("rid", id), sim.Int("idx", int(p.msg.Kind.(model.WebSocketMessage).Index)))
			s.g.ups.Publish(f.receiverSubject, p.msg)
		}
		return nil
	}
	n := uint16(len(hs.pending))
	first := hs.lastIndex - n + 1
	for i, p := range hs.pending {
		idx := first + uint16(i)
		if lastMsgIndex < 0 || wrappingGT(idx, uint16(lastMsgIndex)) {
			s.g.trace("gw.ws_resend", sim.ID("rid", id), sim.Int("idx", int(idx)))
			s.g.ups.Publish(f.receiverSubject, p.msg)
		}
	}
	if lastMsgIndex >= 0 {
		last := uint16(lastMsgIndex)
		kept := hs.pending[:0]
		for i, p := range hs.pending {
			if wrappingGT(first+uint16(i), last) {
				kept = append(kept, p)
			}
		}
		hs.pending = kept
		if len(hs.pending) == 0 {
			hs.lastIndex = last
		}
	}
	return nil
}

// ackPending is GSS:371-401.
func (s *sharedState) ackPending(id model.RequestID, ack uint16) {
	f := s.inFlight[id]
	if f == nil || f.hibernation == nil {
		return
	}
	hs := f.hibernation
	first := hs.lastIndex - uint16(len(hs.pending)) + 1
	kept := hs.pending[:0]
	for i, p := range hs.pending {
		if wrappingGT(first+uint16(i), ack) {
			kept = append(kept, p)
		}
	}
	hs.pending = kept
}

// lifecycle is the gateway WebSocket's LifecycleResult (GW:400-441).
type lifecycle struct {
	serverClose *model.ServerWebSocketClose
	clientClose bool
	clientCode  *uint16
	clientWhy   string
}

// handleWebSocket is GW:180-482: one attempt for a client WebSocket, with
// the request id shared by every attempt. done receives the close frame for
// the client (nil for a bare close) or an error.
//
// afterHibernation (450d9e5c6, PS@450d9e5c6:1848-1937, GW@450d9e5c6:296): the
// socket hibernated before. Through gateway_open_after_hibernation the
// attempt opens as any other; from 450d9e5c6 no ToClientWebSocketOpen is
// sent, the socket counts as open and hibernatable at once, and the
// buffered messages are resent.
func (p *PegboardGateway) handleWebSocket(h *WebSocketHandle, req *Request, id model.RequestID, afterHibernation bool, att *Attempt, done func(*closeFrame, error)) {
	g, s, q := p.g, p.g.gw, p.g.quirks
	att.Request = id
	// The attempt's state, one allocation for every closure below.
	var st struct {
		opened, finished bool
		timer, ping      sim.Timer
		keepalive        *sim.Timer
		stopped          model.Subscription
		f                *inFlight
		canHibernate     bool
	}

	// finish ends the attempt. After a successful open the runner gets a
	// close (GW:443-465), unless the entry was already GC'd; which ends
	// send it changed at 3891bf8b6 and b3313f9f0.
	finish := func(res lifecycle, err error) {
		if st.finished {
			return
		}
		st.finished = true
		st.timer.Stop()
		st.ping.Stop()
		if st.keepalive != nil {
			st.keepalive.Stop()
		}
		st.stopped.Unsubscribe()
		h.detach()
		hibernating := err != nil && isWSRetry(err)
		send := !hibernating // b3313f9f0 (GW@b3313f9f0:489)
		switch {
		case q.Has(model.GatewayCloseToRunnerInverted): // GW@3891bf8b6:562-566
			send = hibernating
		case q.Has(model.GatewayClosesHibernatingToRunner):
			send = true
		}
		if plant.On(plant.GatewayNoClientCloseToRunner) && res.clientClose {
			send = false
		}
		if st.opened && send {
			code, reason := model.CloseNormal, ""
			switch {
			case err != nil:
				code, reason = model.CloseError, "ws.downstream_closed"
			case res.clientClose && res.clientCode != nil:
				code, reason = *res.clientCode, res.clientWhy
			}
			if e := s.send(id, model.WebSocketClose{Code: model.Code(code), Reason: reason}); e != nil {
				g.trace("gw.ws_close_failed", sim.ID("rid", id), sim.Str("err", e.Error())) // only logged (GW:459-465, errata E6)
			}
			if plant.On(plant.GatewayDoubleCloseToRunner) {
				_ = s.send(id, model.WebSocketClose{Code: model.Code(code), Reason: reason})
			}
		}
		st.f.closeChannel() // msg_rx is dropped when the handler returns
		switch {
		case err != nil:
			done(nil, err)
		case res.serverClose != nil && res.serverClose.Code != nil:
			done(&closeFrame{*res.serverClose.Code, res.serverClose.Reason}, nil)
		default:
			done(nil, nil)
		}
	}
	// The tasks that run once the socket is open: the ws→tunnel task reads
	// the client stream; from c76f319fe the ping task; from 553683bfd the
	// keepalive of a hibernatable socket.
	running := func() {
		h.attach(func(fr clientFrame) {
			switch {
			case fr.end:
				finish(lifecycle{clientClose: true}, nil)
			case fr.close:
				finish(lifecycle{clientClose: true, clientCode: fr.code, clientWhy: fr.reason}, nil)
			default:
				if err := s.send(id, model.WebSocketMessage{Data: fr.data, Binary: fr.binary}); err != nil {
					finish(lifecycle{}, err)
				}
			}
		})
		if st.finished {
			return
		}
		if q.Has(model.GatewayWSPing) { // ping_task.rs@c76f319fe
			var tick func()
			tick = func() {
				if st.f.lastPong+PingTimeout < g.w.Now() { // send_and_check_ping, GSS@c76f319fe:221-224
					g.trace("gw.ping_timeout", sim.ID("rid", id), sim.Dur("last_pong", st.f.lastPong))
					finish(lifecycle{}, p.wsError(errWebSocketServiceTimeout, errWSPingTimeout))
					return
				}
				model.PublishPing(g.ups, st.f.receiverSubject, model.ToRunnerPing{Gateway: s.subject, RequestID: id, TS: int64(g.w.Now() / sim.Millisecond)})
				st.ping = g.w.Daemon(PingInterval, tick)
			}
			st.ping = g.w.Daemon(PingInterval, tick)
		}
		if st.canHibernate && !q.Has(model.GatewayKeepaliveOnlyWhileHibernating) { // GW@9f2bc6e19:481-505, GW@553683bfd:425-436
			st.keepalive = s.keepalive(p.actor, id)
		}
	}
	var isNew bool
	st.f, isNew = s.start(id, p.runner, func(ev tunnelEvent) {
		if !st.opened { // the open wait (GW:226-262)
			switch k := ev.kind.(type) {
			case model.ServerWebSocketOpen:
				st.opened = true
				att.Opened = true
				st.timer.Stop()
				st.canHibernate = k.CanHibernate
				g.trace("gw.ws_opened", sim.ID("rid", id), sim.Str("runner", p.runner), sim.Bool("hibernate", k.CanHibernate), sim.Int("last", k.LastMsgIndex))
				if err := s.toggleHibernation(id, k.CanHibernate); err != nil {
					finish(lifecycle{}, err)
					return
				}
				if err := s.resendPending(id, k.LastMsgIndex); err != nil {
					finish(lifecycle{}, err)
					return
				}
				running()
			case model.ServerWebSocketClose: // any close before the open, retry flag ignored (GW:234-239)
				g.trace("gw.ws_closed_before_open", sim.ID("rid", id), sim.Str("close", k.String()))
				finish(lifecycle{}, p.wsError(errWebSocketServiceUnavailable, errWSClosedBeforeOpen))
			case nil:
				switch {
				case ev.timeout:
					finish(lifecycle{}, p.wsError(errWebSocketServiceUnavailable, errWSOpenDropped))
				case ev.closed:
					finish(lifecycle{}, p.wsError(errWebSocketServiceUnavailable, errWSOpenResponseClosed))
				}
			}
			return
		}
		switch k := ev.kind.(type) { // the tunnel→ws task (GW:280-338)
		case model.ServerWebSocketMessage:
			h.toClient(k.Data, k.Binary)
		case model.ServerWebSocketMessageAck:
			s.ackPending(id, k.Index)
		case model.ServerWebSocketClose:
			switch {
			case st.canHibernate && k.Retry && !plant.On(plant.GatewayIgnoresCanHibernate):
				finish(lifecycle{}, g.errWSRetry())
			case plant.On(plant.GatewaySwallowsRunnerClose):
			default:
				finish(lifecycle{serverClose: &k}, nil)
			}
		case nil:
			if ev.timeout {
				finish(lifecycle{}, p.wsError(errWebSocketServiceTimeout, errWSGarbageCollected))
			} else if ev.closed {
				finish(lifecycle{}, g.errWSRetry())
			}
		}
	})
	if !q.Has(model.GatewayIgnoresActorStopped) { // GW@3891bf8b6:290, 356-359, 436-444
		st.stopped = g.ups.Subscribe(model.ActorSubject(p.actor), func(msg any) {
			if _, ok := msg.(*model.Stopped); !ok {
				return
			}
			g.trace("gw.actor_stopped", sim.ID("rid", id), sim.Str("actor", p.actor), sim.Bool("opened", st.opened))
			switch {
			case !st.opened:
				finish(lifecycle{}, p.wsError(errWebSocketServiceUnavailable, errWSStoppedBeforeOpen))
			case st.canHibernate:
				finish(lifecycle{}, g.errWSRetry())
			case !q.Has(model.GatewayRetriesWSOnActorStop): // T2W@1e2d08bff:80-92
				finish(lifecycle{serverClose: &model.ServerWebSocketClose{Code: model.Code(model.CloseNormal), Reason: "actor.stopped"}}, nil)
			default:
				finish(lifecycle{}, errWebSocketServiceUnavailable())
			}
		})
	}
	if afterHibernation && isNew && !q.Has(model.GatewayGCCollectsClosedHibernatable) { // ensure!, GW@553683bfd:311-314
		finish(lifecycle{}, &internalError{"should not be creating a new in flight entry after hibernation"})
		return
	}
	if afterHibernation && !q.Has(model.GatewayOpenAfterHibernation) {
		st.opened, st.canHibernate = true, true
		att.Opened = true
		g.trace("gw.ws_resumed", sim.ID("rid", id), sim.Str("actor", p.actor), sim.Str("runner", p.runner))
		if err := s.resendPending(id, -1); err != nil {
			finish(lifecycle{}, err)
			return
		}
		running()
		return
	}
	g.trace("gw.ws_open", sim.ID("rid", id), sim.Str("actor", p.actor), sim.Str("runner", p.runner))
	if err := s.send(id, model.WebSocketOpen{ActorID: p.actor, Path: p.path, Headers: req.Headers.Clone()}); err != nil {
		finish(lifecycle{}, err)
		return
	}
	wait := OpenTimeout
	switch {
	case q.Has(model.GatewayTimeouts2s):
		wait = TunnelAckTimeout
	case q.Has(model.GatewayWSOpenTimeout5s):
		wait = OpenTimeout5s
	}
	st.timer = g.w.After(wait, func() { // GW:256-262
		if !st.opened {
			g.trace("gw.ws_open_timeout", sim.ID("rid", id))
			finish(lifecycle{}, p.wsError(errWebSocketServiceUnavailable, errWSOpenTimeout))
		}
	})
}

// keepalive is keepalive_task.rs@553683bfd: every 45 s, the first tick
// skipped (the 0-127 ms jitter is left out), it writes the socket's
// hibernating_request row and refreshes the entry's lastPing
// (keepalive_hws, GSS@553683bfd:266-280). From dbcce0a47 the first tick
// runs at once (keepalive_task.rs@dbcce0a47:33-39; its jitter is left out
// too). It runs until stopped.
func (s *sharedState) keepalive(actor model.ActorID, id model.RequestID) *sim.Timer {
	t := new(sim.Timer)
	var tick func()
	tick = func() {
		s.upsertHibernating(actor, id)
		if f := s.inFlight[id]; f != nil && f.hibernation != nil {
			f.hibernation.lastPing = s.g.w.Now()
		}
		*t = s.g.w.Daemon(KeepaliveInterval, tick)
	}
	if s.g.quirks.Has(model.GatewayKeepaliveSkipsFirstTick) {
		*t = s.g.w.Daemon(KeepaliveInterval, tick)
	} else {
		tick()
	}
	return t
}

// upsertHibernating writes the hibernating_request row the runner restores
// from (runner_restores_hibernating); before 2e22a2e61 no runner reads the
// rows, and they are not written here.
func (s *sharedState) upsertHibernating(actor model.ActorID, id model.RequestID) {
	if s.g.quirks.Has(model.RunnerRestoresHibernating) {
		s.g.engine.Send(&model.HibernatingRequestUpsert{Actor: actor, Gateway: s.subject, Request: id})
	}
}

// errWSRetry is the error that makes Guard reconnect a hibernatable socket:
// websocket_service_retry, or websocket_service_hibernate from 4e60a30e9.
func (g *Guard) errWSRetry() error {
	if g.quirks.Has(model.GuardWSRetryImmediate) {
		return errWebSocketServiceRetry()
	}
	return errWebSocketServiceHibernate()
}

// hibernate is handle_websocket_hibernation (GW@4e60a30e9:554-612): wait for
// the first of the actor's Ready (subscribed now), or a frame from the
// client: data ends the wait and stays queued for the next attempt; a close
// or the end of the stream ends it too, with close=true (Guard reconnects
// anyway so the actor learns of the close). Other frames do not exist here.
//
// Later commits: from 3891bf8b6 buffered messages end it at once (and a
// missing entry is an error, GW@3891bf8b6:614-621); from 2e22a2e61 the
// hibernating_request row is written at once and every 45 s (the keepalive,
// which also refreshes the entry's lastPing from 553683bfd) and deleted
// when the wait ends with a close; from 553683bfd the actor is read after
// subscribing, and a runner ends the wait (GW@553683bfd:576-633).
func (p *PegboardGateway) hibernate(h *WebSocketHandle, id model.RequestID, done func(close bool, err error)) {
	g, s, q := p.g, p.g.gw, p.g.quirks
	finished := false
	var sub model.Subscription
	var keepalive *sim.Timer
	var read *routingCall
	finish := func(why string, close bool, err error) {
		if finished {
			return
		}
		finished = true
		sub.Unsubscribe()
		read.cancel()
		if keepalive != nil {
			keepalive.Stop()
		}
		h.onFrame = nil
		if close || err != nil {
			if q.Has(model.RunnerRestoresHibernating) {
				g.engine.Send(&model.HibernatingRequestDelete{Actor: p.actor, Gateway: s.subject, Request: id})
			}
		}
		g.trace("gw.hibernation_end", sim.Str("ray", h.log.Ray), sim.Str("actor", p.actor), sim.Str("why", why))
		done(close, err)
	}
	peek := func() bool {
		if len(h.inbox) == 0 {
			return false
		}
		f := h.inbox[0]
		if f.close || f.end {
			finish("client_close", true, nil)
		} else {
			finish("client_data", false, nil)
		}
		return true
	}
	g.trace("gw.hibernate", sim.Str("ray", h.log.Ray), sim.Str("actor", p.actor))
	// GW@6339e242d:542-550 until dbcce0a47, which leaves the write to the
	// keepalive's first tick, after the check (GW@dbcce0a47:580-601).
	if !q.Has(model.GatewayRowAfterPendingCheck) && q.Has(model.GatewayKeepaliveSkipsFirstTick) {
		s.upsertHibernating(p.actor, id)
	}
	if !q.Has(model.GatewayHibernationIgnoresPending) {
		f := s.inFlight[id]
		switch {
		case f == nil:
			finish("not_in_flight", false, &internalError{"request not in flight"})
			return
		case f.hibernation != nil && len(f.hibernation.pending) > 0:
			finish("pending", false, nil)
			return
		}
	}
	if q.Has(model.RunnerRestoresHibernating) {
		if q.Has(model.GatewayRowAfterPendingCheck) {
			s.upsertHibernating(p.actor, id) // the keepalive's immediate first tick
		}
		keepalive = s.keepalive(p.actor, id)
	}
	sub = g.ups.Subscribe(model.ActorSubject(p.actor), func(msg any) {
		if _, ok := msg.(*model.Ready); ok {
			finish("ready", false, nil)
		}
	})
	if !q.Has(model.GatewayHibernationReadyRace) { // GW@553683bfd:649-657
		read = &routingCall{g: g}
		g.readKeys(read, p.actor, func(k *model.ActorKeys, err error) {
			if err == nil && k.Found && k.Runner != "" {
				finish("actor_has_runner", false, nil)
			}
		})
		if finished {
			return
		}
	}
	if peek() {
		return
	}
	h.onFrame = func() { peek() }
}

// wsError is the error a WebSocket attempt ends with for a cause: the
// shared one until 0fe4f08fe (guard_ws_preopen_retry), then the cause's own.
func (p *PegboardGateway) wsError(shared, own func() *RivetError) error {
	if p.g.quirks.Has(model.GuardWSPreopenRetry) {
		return shared()
	}
	return own()
}
