package model

import "github.com/guardsim/guardsim/sim"

// runnerWF is a runner's workflow (RWF) together with pegboard-runner, the
// engine's endpoint for the runner's WebSocket (PBR, P2C, C2P).
type runnerWF struct {
	id        RunnerID
	conn      *sim.End // nil while disconnected
	lost      bool
	lostTimer sim.Timer
	// incarnation numbers runner workflows: a lost runner that comes back
	// gets a new one with an empty command log.
	incarnation uint32
	// commands is the workflow's command log; commands[i] has index i+1.
	commands []ToClient
	// lastEventIdx is the last runner event processed (duplicates after a
	// reconnect are ignored).
	lastEventIdx int64
	sub          Subscription
	// tunnel_active_requests (P2C:41-86)
	active map[RequestID]activeRequest
}

type activeRequest struct {
	replyTo string
	ws      bool
}

func (r *runnerWF) eligible() bool { return r.conn != nil && !r.lost }

func (e *Engine) runnerConnected(init *ToServerInit, c *sim.End) *runnerWF {
	id := init.Runner
	rw := e.runners[id]
	if rw == nil {
		rw = &runnerWF{id: id, incarnation: 1}
		e.runners[id] = rw
	}
	if rw.lost { // a new runner workflow (RWF): fresh logs
		rw.incarnation++
		rw.commands, rw.lastEventIdx = nil, 0
	}
	if rw.conn != nil && rw.conn != c {
		rw.conn.Close()
		e.dropTunnel(rw, false)
	}
	rw.lostTimer.Stop()
	rw.conn, rw.lost = c, false
	rw.active = map[RequestID]activeRequest{}
	rw.sub = e.ups.Subscribe(RunnerReceiverSubject(id), func(msg any) { e.toRunner(rw, msg.(*ToClientTunnelMessage)) })
	e.w.Trace(EngineNode, "pbr.connected", "runner", id)
	c.Send(&ToClientInit{Runner: id, Incarnation: rw.incarnation, RunnerLostThreshold: int64(e.cfg.RunnerLostThreshold), LastEventIdx: rw.lastEventIdx})
	// Missed commands (RWF:123-128): those after the runner's last one.
	from := int64(0)
	if init.Incarnation == rw.incarnation {
		from = min(init.LastCommandIdx, int64(len(rw.commands)))
	}
	for _, cmd := range rw.commands[from:] {
		c.Send(cmd)
	}
	// AllocatePendingActors: a slot is free now.
	pending := e.pending
	e.pending = nil
	for _, aid := range pending {
		if a := e.actors[aid]; a != nil && !a.done && a.runner == "" {
			if r := e.pickRunner(a); r != "" {
				e.allocate(a, r)
			} else {
				e.pending = append(e.pending, aid)
			}
		}
	}
	return rw
}

// command appends a command to the runner workflow's log and sends it if
// the runner is connected; a reconnecting runner gets the commands it
// missed. A lost runner's workflow is over: its commands go nowhere.
func (e *Engine) command(id RunnerID, cmd ToClient) {
	rw := e.runners[id]
	if rw == nil || rw.lost {
		return
	}
	idx := int64(len(rw.commands)) + 1
	switch c := cmd.(type) {
	case *CommandStartActor:
		c.Index = idx
	case *CommandStopActor:
		c.Index = idx
	}
	rw.commands = append(rw.commands, cmd)
	if rw.conn != nil {
		rw.conn.Send(cmd)
	}
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
		if !e.newEvent(rw, m.Index) {
			return
		}
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
		if !e.newEvent(rw, m.Index) {
			return
		}
		gen, in := m.Generation, m.Intent
		e.signal(m.ActorID, func(a *actorWF) { e.event(a, gen, func() { e.intent(a, in) }) })
	}
}

// newEvent records an event index and reports whether it is new; an
// unindexed event (0) is always new.
func (e *Engine) newEvent(rw *runnerWF, idx int64) bool {
	if idx == 0 {
		return true
	}
	if idx <= rw.lastEventIdx {
		e.w.Trace(EngineNode, "rwf.duplicate_event", "runner", rw.id, "idx", idx)
		return false
	}
	rw.lastEventIdx = idx
	return true
}

// runnerDisconnected is pegboard-runner's cleanup (PBR:129-194) and the
// start of the runner workflow's lost timer (RWF:89, 323-329).
func (e *Engine) runnerDisconnected(rw *runnerWF, why sim.CloseReason) {
	rw.conn = nil
	e.w.Trace(EngineNode, "pbr.disconnected", "runner", rw.id, "why", why)
	e.dropTunnel(rw, why == sim.Closed)
	rw.lostTimer = e.w.After(e.cfg.RunnerLostThreshold, func() { e.runnerLost(rw) })
}

// dropTunnel tells every gateway with an active request on rw that it
// ended: an HTTP request is aborted; a WebSocket is closed with retry, 1000
// and no reason when the runner's connection ended cleanly (its close
// frame), else 1011 ws.upstream_closed (PBR:150-166, errata E24).
func (e *Engine) dropTunnel(rw *runnerWF, clean bool) {
	rw.sub.Unsubscribe()
	for _, rid := range sim.SortedKeys(rw.active) {
		req := rw.active[rid]
		e.msgID++
		var kind TunnelKind = ResponseAbort{}
		if req.ws {
			kind = ServerWebSocketClose{Code: Code(CloseError), Reason: "ws.upstream_closed", Retry: true}
			if clean {
				kind = ServerWebSocketClose{Code: Code(CloseNormal), Retry: true}
			}
		}
		e.ups.Publish(req.replyTo, &ToServerTunnelMessage{RequestID: rid, MessageID: 1<<48 + e.msgID, Kind: kind})
	}
	rw.active = map[RequestID]activeRequest{}
}

// runnerLost signals Lost for every actor still allocated to the runner.
func (e *Engine) runnerLost(rw *runnerWF) {
	rw.lost = true
	e.w.Trace(EngineNode, "rwf.lost", "runner", rw.id)
	for _, aid := range sim.SortedKeys(e.actors) {
		a := e.actors[aid]
		if a.runner == rw.id && !a.done {
			gen := a.gen
			e.signal(aid, func(a *actorWF) { e.lost(a, gen, false) })
		}
	}
}
