package model

import "github.com/guardsim/guardsim/sim"

// runnerWF is a runner's workflow (RWF) together with pegboard-runner, the
// engine's endpoint for the runner's WebSocket (PBR, P2C, C2P).
type runnerWF struct {
	id        RunnerID
	conn      *sim.End // nil while disconnected
	lost      bool
	lostTimer sim.Timer
	queued    []ToClient // commands for a disconnected runner, sent on reconnect
	sub       Subscription
	// tunnel_active_requests (P2C:41-86)
	active map[RequestID]activeRequest
}

type activeRequest struct {
	replyTo string
	ws      bool
}

func (r *runnerWF) eligible() bool { return r.conn != nil && !r.lost }

func (e *Engine) runnerConnected(id RunnerID, c *sim.End) *runnerWF {
	rw := e.runners[id]
	if rw == nil {
		rw = &runnerWF{id: id}
		e.runners[id] = rw
	}
	if rw.conn != nil && rw.conn != c {
		rw.conn.Close()
		e.dropTunnel(rw)
	}
	rw.lostTimer.Stop()
	rw.conn, rw.lost = c, false
	rw.active = map[RequestID]activeRequest{}
	rw.sub = e.ups.Subscribe(RunnerReceiverSubject(id), func(msg any) { e.toRunner(rw, msg.(*ToClientTunnelMessage)) })
	e.w.Trace(EngineNode, "pbr.connected", "runner", id)
	c.Send(&ToClientInit{Runner: id, RunnerLostThreshold: int64(e.cfg.RunnerLostThreshold)})
	for _, cmd := range rw.queued {
		c.Send(cmd)
	}
	rw.queued = nil
	// AllocatePendingActors: a slot is free now.
	pending := e.pending
	e.pending = nil
	for _, aid := range pending {
		if a := e.actors[aid]; a != nil && !a.done && a.runner == "" {
			e.allocate(a, e.pickRunner(a))
		}
	}
	return rw
}

// command sends a command to the runner, or queues it while the runner is
// disconnected (the runner workflow keeps undelivered commands).
func (e *Engine) command(id RunnerID, cmd ToClient) {
	rw := e.runners[id]
	if rw == nil {
		return
	}
	if rw.conn == nil {
		if !rw.lost {
			rw.queued = append(rw.queued, cmd)
		}
		return
	}
	rw.conn.Send(cmd)
}

// toRunner forwards a gateway message to the runner (P2C:15-110).
func (e *Engine) toRunner(rw *runnerWF, m *ToClientTunnelMessage) {
	if rw.conn == nil {
		return
	}
	if m.GatewayReplyTo != "" {
		_, ws := m.Kind.(WebSocketOpen)
		rw.active[m.RequestID] = activeRequest{m.GatewayReplyTo, ws}
	}
	switch m.Kind.(type) {
	case RequestAbort, WebSocketClose: // terminal gw→runner (P2C:58-63, 81-86)
		delete(rw.active, m.RequestID)
	}
	c := *m
	c.GatewayReplyTo = ""
	rw.conn.Send(&c)
}

// fromRunner handles a runner message.
func (e *Engine) fromRunner(rw *runnerWF, m ToServer) {
	switch m := m.(type) {
	case *ToServerTunnelMessage: // C2P:344-398
		req, ok := rw.active[m.RequestID]
		if !ok {
			e.w.Trace(EngineNode, "pbr.no_active_request", "runner", rw.id, "msg", m)
			return
		}
		switch k := m.Kind.(type) {
		case ResponseStart:
			if !k.Stream {
				delete(rw.active, m.RequestID)
			}
		case ResponseAbort, ServerWebSocketClose:
			delete(rw.active, m.RequestID)
		}
		e.ups.Publish(req.replyTo, m)
	case *EventActorStateUpdate:
		gen, st := m.Generation, m.State
		e.signal(m.ActorID, func(a *actorWF) {
			e.event(a, gen, func() {
				if st == ActorRunning {
					e.running(a)
				} else {
					e.handleStopped(a, false, false)
				}
			})
		})
	case *EventActorIntent:
		gen, in := m.Generation, m.Intent
		e.signal(m.ActorID, func(a *actorWF) { e.event(a, gen, func() { e.intent(a, in) }) })
	}
}

// runnerDisconnected is pegboard-runner's cleanup (PBR:129-194) and the
// start of the runner workflow's lost timer (RWF:89, 323-329).
func (e *Engine) runnerDisconnected(rw *runnerWF) {
	rw.conn = nil
	e.w.Trace(EngineNode, "pbr.disconnected", "runner", rw.id)
	e.dropTunnel(rw)
	rw.lostTimer = e.w.After(e.cfg.RunnerLostThreshold, func() { e.runnerLost(rw) })
}

// dropTunnel tells every gateway with an active request on rw that it ended.
func (e *Engine) dropTunnel(rw *runnerWF) {
	rw.sub.Unsubscribe()
	for _, rid := range sim.SortedKeys(rw.active) {
		req := rw.active[rid]
		e.msgID++
		var kind TunnelKind = ResponseAbort{}
		if req.ws {
			kind = ServerWebSocketClose{Code: Code(CloseError), Reason: "ws.upstream_closed", Retry: true}
		}
		e.ups.Publish(req.replyTo, &ToServerTunnelMessage{RequestID: rid, MessageID: 1<<48 + e.msgID, Kind: kind})
	}
	rw.active = map[RequestID]activeRequest{}
}

// runnerLost signals Lost for every actor still allocated to the runner.
func (e *Engine) runnerLost(rw *runnerWF) {
	rw.lost = true
	rw.queued = nil
	e.w.Trace(EngineNode, "rwf.lost", "runner", rw.id)
	for _, aid := range sim.SortedKeys(e.actors) {
		a := e.actors[aid]
		if a.runner == rw.id && !a.done {
			gen := a.gen
			e.signal(aid, func(a *actorWF) { e.lost(a, gen, false) })
		}
	}
}
