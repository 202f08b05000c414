package model

import (
	"cmp"
	"github.com/guardsim/guardsim/internal/plant"
	"slices"

	"github.com/guardsim/guardsim/sim"
)

// runnerWF is a runner's workflow (RWF) together with pegboard-runner, the
// engine's endpoint for the runner's WebSocket (PBR, P2C, C2P).
type runnerWF struct {
	id        RunnerID
	conns     []*pbrConn // open connections, oldest first; none while disconnected
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
	// From 5fcb724b0 (protocol mk2, engine_resends_commands_after_last_index
	// off): stored are the commands not acked yet, each with its actor's
	// own index (ActorCommandKey, CONN@5fcb724b0:319-357), cmdIdx the last
	// index per actor (per generation from 640d27e36).
	stored []storedCommand
	cmdIdx map[cmdKey]int64
}

// commandKey is the key a command of the actor's generation is counted
// and acked under.
func (e *Engine) commandKey(actor ActorID, gen Generation) cmdKey {
	if e.cfg.Quirks.Has(WFEventIndexPerRunner) {
		gen = 0 // one count per actor until 640d27e36
	}
	return cmdKey{actor, gen}
}

// storedCommand is an ActorCommandKey row.
type storedCommand struct {
	key cmdKey
	idx int64
	cmd ToClient
}

// cmdKey is what a command index counts within: the actor, and from
// 640d27e36 its generation (0 before).
type cmdKey struct {
	actor ActorID
	gen   Generation
}

// pbrConn is one pegboard-runner connection task set (PBR:49-197): its
// subscription to the runner's subject and its tunnel_active_requests. At
// f3105c779 nothing stops a runner from holding two: both subscribe to the
// runner's subject, so each gets every command and tunnel message (errata
// E15); from 2f5666c05 a new connection evicts the older ones.
type pbrConn struct {
	c   *sim.End
	sub Subscription
	// lastPong and ping are the ping task of 36c3771fd
	// (ping_task.rs@36c3771fd:36-44).
	lastPong sim.Time
	ping     sim.Timer
	// tunnel_active_requests (P2C:41-86)
	active map[RequestID]activeRequest
	// authorized are the (gateway, request) pairs a gateway message
	// forwarded on this connection opened, 5dba5ded9..c074c72b5
	// (pbr_rejects_unrouted_tunnel_messages).
	authorized map[tunnelRoute]bool
}

// tunnelRoute is a (gateway, request) pair of the tunnel authorization.
type tunnelRoute struct {
	gateway string
	request RequestID
}

type activeRequest struct {
	replyTo string
	ws      bool
}

func (r *runnerWF) eligible() bool { return len(r.conns) > 0 && !r.lost }

// conn finds the pegboard-runner connection of c.
func (r *runnerWF) conn(c *sim.End) *pbrConn {
	for _, pc := range r.conns {
		if pc.c == c {
			return pc
		}
	}
	return nil
}

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
		rw.stored, rw.cmdIdx = nil, nil
	}
	if e.cfg.Quirks.Has(PBREvictsDuplicateRunner) { // PBR@2f5666c05:92-132
		for _, old := range rw.conns {
			e.evict(rw, old)
		}
	} else if len(rw.conns) > 0 {
		e.w.Trace(EngineNode, "pbr.duplicate_connection", sim.Str("runner", id), sim.Int("conns", len(rw.conns)+1))
	}
	rw.lostTimer.Stop()
	rw.lost = false
	pc := &pbrConn{c: c, active: map[RequestID]activeRequest{}}
	pc.sub = e.ups.Subscribe(RunnerReceiverSubject(id), func(msg any) {
		switch m := msg.(type) {
		case *ToClientTunnelMessage:
			e.toRunner(pc, m)
		case *ToRunnerPing: // answered by pegboard-runner itself (tunnel_to_ws_task.rs@c76f319fe:57-79)
			PublishPong(e.ups, m.Gateway, ToGatewayPong{RequestID: m.RequestID, TS: m.TS})
		}
	})
	rw.conns = append(rw.conns, pc)
	e.w.Trace(EngineNode, "pbr.connected", sim.Str("runner", id), sim.Uint("conn", c.ID()))
	if !e.cfg.Quirks.Has(PBRNoRunnerPingTimeout) {
		e.startRunnerPing(rw, pc)
	}
	c.Send(&ToClientInit{Runner: id, Incarnation: rw.incarnation, RunnerLostThreshold: int64(e.cfg.RunnerLostThreshold), LastEventIdx: rw.lastEventIdx})
	if !e.cfg.Quirks.Has(EngineResendsCommandsAfterLastIndex) {
		// Every stored command, in key order: actor, (generation,) index
		// (CONN@5fcb724b0:319-385).
		sorted := slices.Clone(rw.stored)
		slices.SortStableFunc(sorted, func(a, b storedCommand) int {
			return cmp.Or(cmp.Compare(a.key.actor, b.key.actor), cmp.Compare(a.key.gen, b.key.gen), cmp.Compare(a.idx, b.idx))
		})
		if len(sorted) > 0 {
			e.w.Trace(EngineNode, "pbr.replay_commands", sim.Str("runner", id), sim.Int("commands", len(sorted)))
		}
		for _, sc := range sorted {
			c.Send(sc.cmd)
		}
	} else {
		e.resendMissedCommands(rw, init, c)
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

// resendMissedCommands (RWF:123-128) sends the commands after the runner's
// last one, until 5fcb724b0.
func (e *Engine) resendMissedCommands(rw *runnerWF, init *ToServerInit, c *sim.End) {
	from := int64(0)
	if init.Incarnation == rw.incarnation {
		from = min(init.LastCommandIdx, int64(len(rw.commands)))
	}
	for _, cmd := range rw.commands[from:] {
		c.Send(cmd)
	}
}

// command appends a command to the runner workflow's log and sends it on
// every connection of the runner; a reconnecting runner gets the commands
// it missed. A lost runner's workflow is over: its commands go nowhere.
func (e *Engine) command(id RunnerID, cmd ToClient) {
	rw := e.runners[id]
	if rw == nil || rw.lost {
		return
	}
	idx := int64(len(rw.commands)) + 1
	if !e.cfg.Quirks.Has(EngineResendsCommandsAfterLastIndex) { // mk2: per actor (and generation)
		var key cmdKey
		switch c := cmd.(type) {
		case *CommandStartActor:
			key = e.commandKey(c.ActorID, c.Generation)
		case *CommandStopActor:
			key = e.commandKey(c.ActorID, c.Generation)
		}
		if rw.cmdIdx == nil {
			rw.cmdIdx = map[cmdKey]int64{}
		}
		rw.cmdIdx[key]++
		idx = rw.cmdIdx[key]
		rw.stored = append(rw.stored, storedCommand{key: key, idx: idx, cmd: cmd})
	}
	switch c := cmd.(type) {
	case *CommandStartActor:
		c.Index = idx
	case *CommandStopActor:
		c.Index = idx
	}
	rw.commands = append(rw.commands, cmd)
	for _, pc := range rw.conns {
		pc.c.Send(cmd)
	}
}

// toRunner forwards a gateway message to the runner (P2C:15-110).
func (e *Engine) toRunner(pc *pbrConn, m *ToClientTunnelMessage) {
	if !e.cfg.Quirks.Has(PBRTunnelActiveRequests) { // a89ca2b17: no tunnel_active_requests
		if e.cfg.Quirks.Has(PBRRejectsUnroutedTunnelMessages) { // T2W-PBR@5dba5ded9:160-166, 257-260
			if pc.authorized == nil {
				pc.authorized = map[tunnelRoute]bool{}
			}
			pc.authorized[tunnelRoute{m.Gateway, m.RequestID}] = true
		}
		pc.c.Send(m)
		return
	}
	if m.GatewayReplyTo != "" {
		_, ws := m.Kind.(WebSocketOpen)
		pc.active[m.RequestID] = activeRequest{m.GatewayReplyTo, ws}
	}
	switch m.Kind.(type) {
	case RequestAbort, WebSocketClose: // terminal gw→runner (P2C:58-63, 81-86)
		delete(pc.active, m.RequestID)
	}
	c := *m
	c.GatewayReplyTo = ""
	pc.c.Send(&c)
}

// fromRunner handles a runner message that arrived on pc.
func (e *Engine) fromRunner(rw *runnerWF, pc *pbrConn, m ToServer) {
	switch m := m.(type) {
	case *ToServerTunnelMessage: // C2P:344-398
		if !e.cfg.Quirks.Has(PBRTunnelActiveRequests) { // routed by the message's gateway id (a89ca2b17)
			if _, ok := m.Kind.(TunnelAck); ok {
				return // DeprecatedTunnelAck from a runner is ignored (6b7ebbb0d)
			}
			if e.cfg.Quirks.Has(PBRRejectsUnroutedTunnelMessages) && !e.authorizedRoute(rw, pc, m) {
				return
			}
			e.ups.Publish(m.Gateway, m)
			return
		}
		req, ok := pc.active[m.RequestID]
		if !ok {
			e.w.Trace(EngineNode, "pbr.no_active_request", sim.Str("runner", rw.id), sim.Val("msg", m))
			return
		}
		switch k := m.Kind.(type) {
		case ResponseStart:
			if !k.Stream {
				delete(pc.active, m.RequestID)
			}
		case ResponseAbort, ServerWebSocketClose:
			delete(pc.active, m.RequestID)
		}
		e.ups.Publish(req.replyTo, m)
	case *ToServerPong: // W2T@36c3771fd:170-171
		pc.lastPong = e.w.Now()
	case *ToServerAckCommands: // W2T@5fcb724b0:749-781, per generation from 640d27e36
		for _, ack := range m.Acks {
			key := e.commandKey(ack.ActorID, ack.Generation)
			kept := rw.stored[:0]
			for _, sc := range rw.stored {
				if sc.key != key || sc.idx > ack.Index {
					kept = append(kept, sc)
				}
			}
			clear(rw.stored[len(kept):])
			rw.stored = kept
		}
	case *EventActorStateUpdate:
		if !e.newEvent(rw, m.Index) {
			return
		}
		gen, st, idx, stopErr := m.Generation, m.State, m.Index, m.StopError
		e.signal(m.ActorID, func(a *actorWF) {
			if !e.newActorEvent(a, rw.id, gen, idx) {
				return
			}
			e.event(a, gen, func() {
				if st == ActorRunning {
					e.running(a)
				} else {
					e.handleStoppedCode(a, false, false, stopErr)
				}
			})
		})
	case *EventActorIntent:
		if !e.newEvent(rw, m.Index) {
			return
		}
		gen, in, idx := m.Generation, m.Intent, m.Index
		e.signal(m.ActorID, func(a *actorWF) {
			if !e.newActorEvent(a, rw.id, gen, idx) {
				return
			}
			e.event(a, gen, func() { e.intent(a, in) })
		})
	}
}

// newActorEvent is the actor workflow's filter of mk2 events (from
// 5fcb724b0): events while the actor is not allocated, or from another
// runner than its own, are ignored, and an event of another generation, or
// whose index is not above the last one the workflow took from that
// runner, is dropped
// (AWF@5fcb724b0:459-472). Until 640d27e36 the last index is kept per
// runner across generations; from 640d27e36 it goes at deallocation
// (handleStopped). Before 5fcb724b0 the runner workflow dedupes (newEvent).
func (e *Engine) newActorEvent(a *actorWF, runner RunnerID, gen Generation, idx int64) bool {
	if e.cfg.Quirks.Has(RunnerGlobalEventHistory) || idx == 0 || a.runner == "" {
		return true // event drops it: not allocated (AWF@5fcb724b0:449-452)
	}
	if a.runner != runner { // AWF@5fcb724b0:454-457
		e.w.Trace(EngineNode, "wf.other_runner_event", sim.Str("actor", a.id), sim.Str("runner", runner), sim.Str("current", a.runner))
		return false
	}
	if gen != a.gen {
		return true // event drops it as stale, and the index stays
	}
	if idx <= a.lastEventIdx[runner] {
		event := "wf.duplicate_event"
		if a.eventGen != gen { // nothing of this generation was taken: its first events are lost
			event = "wf.new_generation_event_dropped"
		}
		e.w.Trace(EngineNode, event, sim.Str("actor", a.id), sim.Uint("gen", gen), sim.Int("idx", idx),
			sim.Uint("current_gen", a.gen), sim.Int("last", a.lastEventIdx[runner]))
		return false
	}
	if a.lastEventIdx == nil {
		a.lastEventIdx = map[RunnerID]int64{}
	}
	a.lastEventIdx[runner] = idx
	a.eventGen = gen
	return true
}

// newEvent records an event index and reports whether it is new; an
// unindexed event (0) is always new. From 5fcb724b0 events are indexed per
// actor instance and the actor workflow filters them (newActorEvent).
func (e *Engine) newEvent(rw *runnerWF, idx int64) bool {
	if idx == 0 || !e.cfg.Quirks.Has(RunnerGlobalEventHistory) {
		return true
	}
	if idx <= rw.lastEventIdx {
		e.w.Trace(EngineNode, "rwf.duplicate_event", sim.Str("runner", rw.id), sim.Int("idx", idx))
		return false
	}
	rw.lastEventIdx = idx
	return true
}

// RunnerPingInterval and RunnerPingTimeout are pegboard-runner's ping task
// from 36c3771fd (ping_task.rs@36c3771fd:36-44, runner_ping_timeout_ms).
const (
	RunnerPingInterval = 3 * sim.Second
	RunnerPingTimeout  = 15 * sim.Second
)

// authorizedRoute is the tunnel authorization of 5dba5ded9..c074c72b5: a
// runner message for a pair no gateway message on this connection opened
// ends the connection with ws.invalid_packet and is lost
// (W2T-PBR@5dba5ded9:873-878, 930-935); from 7c84b2bd6 the runner's
// terminal message drops its pair (W2T-PBR@7c84b2bd6:902-904, 957-985).
func (e *Engine) authorizedRoute(rw *runnerWF, pc *pbrConn, m *ToServerTunnelMessage) bool {
	route := tunnelRoute{m.Gateway, m.RequestID}
	if !pc.authorized[route] {
		e.w.Trace(EngineNode, "pbr.unauthorized_tunnel_message", sim.Str("runner", rw.id), sim.Uint("conn", pc.c.ID()), sim.Val("msg", m))
		pc.ping.Stop()
		pc.c.Send(&CloseFrame{Code: CloseError, Reason: "ws.invalid_packet"})
		pc.c.Close()
		e.runnerDisconnected(rw, pc, sim.Reset)
		return false
	}
	if e.cfg.Quirks.Has(PBRClearsTerminalTunnelRoutes) {
		switch k := m.Kind.(type) {
		case ResponseStart:
			if !k.Stream {
				delete(pc.authorized, route)
			}
		case ResponseAbort, ServerWebSocketClose:
			delete(pc.authorized, route)
		}
	}
	return true
}

// startRunnerPing runs the connection's ping task: every 3 s a ping, and at
// the first tick more than 15 s after the last pong the connection ends
// with an error; Guard closes the runner's socket 1011
// core.internal_error#ray (utils.rs@36c3771fd:251-273).
func (e *Engine) startRunnerPing(rw *runnerWF, pc *pbrConn) {
	pc.lastPong = e.w.Now()
	var tick func()
	tick = func() {
		if !pc.c.Open() || rw.conn(pc.c) == nil {
			return
		}
		if e.w.Now()-pc.lastPong > RunnerPingTimeout {
			e.w.Trace(EngineNode, "pbr.ping_timeout", sim.Str("runner", rw.id), sim.Uint("conn", pc.c.ID()), sim.Dur("last_pong", pc.lastPong))
			pc.c.Send(&CloseFrame{Code: CloseError, Reason: "core.internal_error"})
			pc.c.Close()
			e.runnerDisconnected(rw, pc, sim.Reset)
			return
		}
		pc.c.Send(&ToClientPing{TS: int64(e.w.Now() / sim.Millisecond)})
		pc.ping = e.w.Daemon(RunnerPingInterval, tick)
	}
	pc.ping = e.w.Daemon(RunnerPingInterval, tick)
}

// runnerDisconnected is pegboard-runner's cleanup of one connection
// (PBR:129-194); when it was the runner's last, the runner workflow's lost
// timer starts (RWF:89, 323-329; upstream it follows the missing pings).
func (e *Engine) runnerDisconnected(rw *runnerWF, pc *pbrConn, why sim.CloseReason) {
	pc.ping.Stop()
	rw.conns = slices.DeleteFunc(rw.conns, func(x *pbrConn) bool { return x == pc })
	e.w.Trace(EngineNode, "pbr.disconnected", sim.Str("runner", rw.id), sim.Uint("conn", pc.c.ID()), sim.Enum("why", why), sim.Int("left", len(rw.conns)))
	e.dropTunnel(pc, why == sim.Closed)
	if len(rw.conns) == 0 {
		rw.lostTimer = e.w.After(e.cfg.RunnerLostThreshold, func() { e.runnerLost(rw) })
	}
}

// evict ends an older connection of a runner that connected again
// (PBR@2f5666c05:92-132): its tasks fail with ws.eviction, Guard closes the
// runner's socket with 1000 "ws.eviction#ray" (PS:2489-2511, eviction maps
// to Normal), and its active requests get the error close.
func (e *Engine) evict(rw *runnerWF, pc *pbrConn) {
	rw.conns = slices.DeleteFunc(rw.conns, func(x *pbrConn) bool { return x == pc })
	pc.ping.Stop()
	e.w.Trace(EngineNode, "pbr.evict", sim.Str("runner", rw.id), sim.Uint("conn", pc.c.ID()))
	pc.c.Send(&CloseFrame{Code: CloseNormal, Reason: "ws.eviction"})
	pc.c.Close()
	e.dropTunnel(pc, false)
}

// dropTunnel tells every gateway with an active request on the connection
// that it ended: an HTTP request is aborted; a WebSocket is closed with
// retry, 1000 and no reason when the runner's connection ended cleanly (its
// close frame), else 1011 ws.upstream_closed (PBR:150-166, errata E24).
func (e *Engine) dropTunnel(pc *pbrConn, clean bool) {
	pc.sub.Unsubscribe()
	for _, rid := range sim.SortedKeys(pc.active) {
		req := pc.active[rid]
		e.msgID++
		var kind TunnelKind = ResponseAbort{}
		if req.ws && !e.cfg.Quirks.Has(PBRClosesWebSocketsOnDisconnect) {
			continue // PBR@3891bf8b6:251: a WebSocket waits for the actor's Stopped
		}
		if req.ws {
			kind = ServerWebSocketClose{Code: Code(CloseError), Reason: "ws.upstream_closed", Retry: true}
			if clean {
				kind = ServerWebSocketClose{Code: Code(CloseNormal), Retry: true}
			}
		}
		PublishNew(e.ups, req.replyTo, ToServerTunnelMessage{RequestID: rid, MessageID: 1<<48 + e.msgID, Kind: kind})
	}
	pc.active = map[RequestID]activeRequest{}
}

// runnerLost signals Lost for every actor still allocated to the runner.
func (e *Engine) runnerLost(rw *runnerWF) {
	rw.lost = true
	e.w.Trace(EngineNode, "rwf.lost", sim.Str("runner", rw.id))
	for _, aid := range sim.SortedKeys(e.actors) {
		a := e.actors[aid]
		if plant.On(plant.EngineLostKeepsActors) {
			break
		}
		if a.runner == rw.id && !a.done {
			gen := a.gen
			e.signal(aid, func(a *actorWF) { e.lost(a, gen, false) })
		}
	}
}
