package runner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// The runner's one WebSocket to the engine (#openPegboardWebSocket,
// RUN:451-680), on a sim connection.
//
// When the connection counts as open. Upstream, the WebSocket "open" event
// (RUN:460-540) resets the reconnect counter, clears the reconnect and the
// runner-lost timers and sends ToServerInit; from then on
// __webSocketReady() is true. A sim dialler never learns that the peer
// accepted, so here ToServerInit is queued right after the dial (the sim
// delivers it behind the opening), and the rest of the open handler runs
// when ToClientInit arrives: that is when ready becomes true. Until then
// tunnel messages are dropped and events are buffered, as while down.
//
// Events and commands. Upstream numbers every event, keeps it in
// #eventHistory, and after a reconnect resends those past the init's
// lastEventIdx (RUN:731-746, 574-579, 1429-1445); the runner's init carries
// its lastCommandIdx and the engine resends the commands it missed
// (RUN:483-486, 703; RWF:95-128). Both are ported; indices are 1-based so
// that zero means none. The history is trimmed at each init instead of on
// ToClientAckEvents, which is not modelled.

// recordedEvent is an EventWrapper (RUN:834-841) waiting to be resent.
type recordedEvent struct {
	index int64
	msg   model.ToServer
}

// MaxPendingReconnects caps the runner's pending reconnect timers, which
// upstream lets double without bound while the engine is unreachable
// (errata E15).
const MaxPendingReconnects = 8

// Reconnect backoff (#scheduleReconnect, RUN:1405-1410).
const (
	reconnectInitialDelay = 1000  // ms, RUN:1406
	reconnectMaxDelay     = 30000 // ms, RUN:1407
	reconnectMultiplier   = 2     // RUN:1408
)

// calculateBackoff (UTL:12-31): min(initial·multiplier^attempt, max) ms,
// times 1 + U[0, 0.25) jitter, floored to whole milliseconds.
func calculateBackoff(attempt int, rng *rand.Rand) sim.Time {
	delay := int64(reconnectInitialDelay) // UTL:23, without overflow
	for i := 0; i < attempt && delay < reconnectMaxDelay; i++ {
		delay *= reconnectMultiplier
	}
	delay = min(delay, reconnectMaxDelay)
	// The explicit conversions round each step, so no platform fuses them
	// into an FMA: the delay is the same on every machine.
	jitter := float64(rng.Float64() * 0.25)           // UTL:25-28
	ms := float64(float64(delay) * (1 + jitter))      // UTL:27
	return sim.Time(math.Floor(ms)) * sim.Millisecond // UTL:30
}

// Connected reports whether the engine connection is open and initialised
// (__webSocketReady).
func (r *Runner) Connected() bool { return r.ready }

// Disconnect drops the engine connection with a reset, as when the runner's
// WebSocket dies: the engine learns Reset, messages in flight either way are
// lost, and the runner handles it like a WebSocket error/close: lost timer,
// then a reconnect unless auto-reconnect is off.
func (r *Runner) Disconnect() {
	if r.conn == nil || !r.conn.Open() {
		r.trace("runner.disconnect_noop")
		return
	}
	c := r.conn
	r.trace("runner.disconnect", sim.Uint("conn", c.ID()))
	c.Reset()
	r.onEngineClose(c, sim.Reset) // the resetting end gets no callback of its own
}

// SetAutoReconnect switches automatic reconnects. Off cancels a pending
// reconnect, so the runner stays down until Reconnect or until it is
// switched back on, which schedules a reconnect if the runner is down.
func (r *Runner) SetAutoReconnect(on bool) {
	r.autoReconnect = on
	r.trace("runner.auto_reconnect", sim.Bool("on", on))
	if !on {
		if r.reconnectTimer.Stop() {
			r.trace("runner.reconnect_cancel")
		}
		return
	}
	if r.started && !r.connOpen() && !r.reconnectTimer.Pending() {
		r.scheduleReconnect()
	}
}

// Reconnect reconnects now if the runner has no open engine connection (a
// connection still being opened counts as open), as if the reconnect timer
// fired: the attempt counter goes up.
func (r *Runner) Reconnect() {
	if !r.started || r.connOpen() || r.shutdownDone {
		r.trace("runner.reconnect_noop")
		return
	}
	r.reconnectTimer.Stop()
	r.reconnect()
}

func (r *Runner) connOpen() bool { return r.conn != nil && r.conn.Open() }

func (r *Runner) openPegboardWebSocket() {
	// From eb9149843 a connecting or open predecessor is closed first, 1000
	// duplicate_websocket (RUN@eb9149843:719-729); its close listener runs
	// as for any other socket, once the new one is the runner's.
	var dup *sim.End
	if !r.cfg.Quirks.Has(model.RunnerDoubleReconnectTimers) && r.conn != nil && r.conn.Open() {
		dup = r.conn
		r.trace("runner.duplicate_websocket", sim.Uint("conn", dup.ID()))
		dup.Close()
	}
	c := r.w.Net().Dial(r.node, r.engine)
	r.conn, r.ready = c, false
	if dup != nil {
		r.closeReasons[dup] = "duplicate_websocket"
		r.onEngineClose(dup, sim.Closed)
	}
	r.trace("runner.dial", sim.Uint("conn", c.ID()), sim.Int("attempt", r.reconnectAttempt))
	c.Handle(func(msg any) { r.onEngineMessage(c, msg) }, func(why sim.CloseReason) { r.onEngineClose(c, why) })
	init := &model.ToServerInit{Runner: r.cfg.ID, Incarnation: r.incarnation, LastCommandIdx: r.lastCommandIdx} // RUN:478-501
	if !r.cfg.Quirks.Has(model.EngineResendsCommandsAfterLastIndex) {
		init.LastCommandIdx = 0 // mk2's init has no command index (RUN@5fcb724b0:721-734)
	}
	c.Send(init)
}

// onEngineMessage is the WebSocket "message" listener (RUN:542-598). Every
// socket the runner ever opened keeps its listeners (E15): a message on an
// older socket is handled like one on the newest.
func (r *Runner) onEngineMessage(c *sim.End, msg any) {
	if r.shutdownDone {
		return
	}
	if c != r.conn {
		r.trace("runner.stale_socket_message", sim.Uint("conn", c.ID()), sim.Any("msg", msg))
	}
	switch m := msg.(type) {
	case *model.CloseFrame: // the close frame's reason, read by the close listener
		r.closeReasons[c] = m.Reason
	case *model.ToClientInit:
		r.handleInit(c, m)
	case *model.CommandStartActor:
		if r.newCommand(m.Index) {
			r.handleCommandStartActor(m)
			r.tookCommand(m.ActorID, m.Generation, m.Index, true)
		}
	case *model.CommandStopActor:
		if r.newCommand(m.Index) {
			r.handleCommandStopActor(m)
			r.tookCommand(m.ActorID, m.Generation, m.Index, false)
		}
	case *model.ToClientTunnelMessage:
		// Dispatched without being awaited (RUN:590-591): requests run
		// concurrently.
		r.tunnel.handleTunnelMessage(m)
	case *model.ToClientClose:
		r.handleToClientClose(c)
	case *model.ToClientPing: // answered on the socket it came on (RUN@36c3771fd)
		if c == r.conn && r.ready {
			c.Send(&model.ToServerPong{TS: m.TS})
		}
	default:
		panic(fmt.Sprintf("runner %s: unexpected engine message %T", r.node, msg)) // RUN:596
	}
}

// handleInit runs the rest of the "open" listener (RUN:463-476) and the
// ToClientInit branch (RUN:556-581). The open of an older socket resets the
// same state, but sends go to the newest socket only, which is ready only
// once its own init arrived. clearTimeout reaches only the timer handle
// stored last: a timer a second #scheduleReconnect overwrote still fires
// (errata E15).
func (r *Runner) handleInit(c *sim.End, m *model.ToClientInit) {
	if c == r.conn {
		r.ready = true
	}
	r.reconnectAttempt = 0
	r.reconnectTimer.Stop()
	if r.lostTimerSet {
		if r.lostTimer.Stop() {
			r.trace("runner.lost_timer_cancel")
		}
		r.lostTimerSet = false
	}
	q := r.cfg.Quirks
	if r.runnerID != m.Runner || r.incarnation != m.Incarnation { // RUN:559-564: a new runner workflow
		first := r.runnerID == ""
		r.runnerID, r.incarnation = m.Runner, m.Incarnation
		r.eventHistory, r.lastCommandIdx = nil, 0
		if !q.Has(model.RunnerKeepsActorsOnNewRunnerID) && !first { // RUN@5fcb724b0:778-782
			r.stopAllActors()
		}
	}
	r.lostThreshold = sim.Time(m.RunnerLostThreshold) // RUN:567-569
	if q.Has(model.RunnerGlobalEventHistory) {
		r.trace("runner.init", sim.Uint("conn", c.ID()), sim.Dur("lost_threshold", r.lostThreshold), sim.Int("last_event", m.LastEventIdx))
		r.resendUnacknowledgedEvents(m.LastEventIdx)
	} else {
		r.trace("runner.init", sim.Uint("conn", c.ID()), sim.Dur("lost_threshold", r.lostThreshold))
		r.resendActorEvents()
	}
	r.tunnel.resendBufferedEvents() // RUN@2a24121ce:834-836
	if !q.Has(model.EngineResendsCommandsAfterLastIndex) && c == r.conn {
		r.startCommandAcks(c)
	}
}

// resendActorEvents (RUN@5fcb724b0:1707-1726): every loaded actor's whole
// history, actors in sorted order (upstream, the Map's insertion order). The
// engine's acks, which would trim it every 250 events, are not modelled:
// the actor workflow drops what it has seen.
func (r *Runner) resendActorEvents() {
	for _, id := range sim.SortedKeys(r.actors) {
		for _, ev := range r.actors[id].eventHistory {
			r.trace("runner.event_resend", sim.Int("idx", ev.index), sim.Any("event", ev.msg))
			r.conn.Send(ev.msg)
		}
	}
}

// CommandAckInterval is how often the mk2 runner acks its commands
// (RUN@5fcb724b0:741-754).
const CommandAckInterval = 5 * sim.Minute

// startCommandAcks is the interval the socket's open listener starts
// (RUN@5fcb724b0:741-754): every 5 min, while this socket is the ready
// one, ack each loaded actor's last command (#sendCommandAcknowledgment,
// RUN@5fcb724b0:1170-1193). The socket's close clears it.
func (r *Runner) startCommandAcks(c *sim.End) {
	r.commandAcks.Stop()
	var tick func()
	tick = func() {
		if c != r.conn || !c.Open() {
			return
		}
		if r.ready {
			var acks []model.CommandAck
			for _, id := range sim.SortedKeys(r.actors) {
				if a := r.actors[id]; a.lastCommandIdx > 0 {
					acks = append(acks, model.CommandAck{ActorID: id, Generation: a.generation, Index: a.lastCommandIdx})
				}
			}
			if len(acks) > 0 {
				r.sendToServer(&model.ToServerAckCommands{Acks: acks})
			}
		}
		r.commandAcks = r.w.Daemon(CommandAckInterval, tick)
	}
	r.commandAcks = r.w.Daemon(CommandAckInterval, tick)
}

// tookCommand records, from 5fcb724b0, the command's index on the actor if
// the runner still hosts that generation after dispatch
// (RUN@5fcb724b0:927-928); from bb46e0a16 only for a start.
func (r *Runner) tookCommand(id model.ActorID, gen model.Generation, idx int64, start bool) {
	q := r.cfg.Quirks
	if q.Has(model.EngineResendsCommandsAfterLastIndex) || (!start && !q.Has(model.RunnerAcksStopCommands)) {
		return
	}
	if a := r.getActor(id, &gen); a != nil {
		a.lastCommandIdx = idx
	}
}

// newCommand records a command index (RUN:703) and reports whether the
// command is new; an unindexed command (0) always is.
func (r *Runner) newCommand(idx int64) bool {
	if idx == 0 || !r.cfg.Quirks.Has(model.EngineResendsCommandsAfterLastIndex) { // mk2: no dedupe (RUN@5fcb724b0:910-930)
		return true
	}
	if idx <= r.lastCommandIdx {
		r.trace("runner.duplicate_command", sim.Int("idx", idx))
		return false
	}
	r.lastCommandIdx = idx
	return true
}

// handleToClientClose (RUN:592-594): shut the tunnel down (which also stops
// its GC for good, errata E17) and close the WebSocket. #shutdown is not
// set, so the close listener then starts the lost timer and reconnects.
func (r *Runner) handleToClientClose(c *sim.End) {
	r.trace("runner.close", sim.Uint("conn", c.ID()))
	r.tunnel.shutdown()
	c.Close()
	// Upstream's own close event fires once the close handshake ends; the
	// sim gives the closing end no callback, so run the listener now.
	r.onEngineClose(c, sim.Closed)
}

// onEngineClose is the "error" and "close" listeners (RUN:600-626,
// 628-679), for any socket the runner opened, the newest or an older one.
// A socket that never opened (the dial was refused) fires both: each
// schedules a reconnect and the second overwrites the first's timer handle
// without clearing it, so two reconnects fire (errata E15). An open socket
// that closes or resets fires only close. A close whose reason starts with
// ws.eviction shuts the runner down (RUN:638-645). Runner.shutdown is
// otherwise not modelled.
func (r *Runner) onEngineClose(c *sim.End, why sim.CloseReason) {
	if r.shutdownDone {
		return
	}
	reason := r.closeReasons[c]
	delete(r.closeReasons, c)
	if c == r.conn {
		r.ready = false
		r.commandAcks.Stop() // the close listener clears the ack interval (RUN@5fcb724b0:882-886)
	}
	r.trace("runner.engine_closed", sim.Uint("conn", c.ID()), sim.Enum("why", why), sim.Str("reason", reason), sim.Bool("newest", c == r.conn))
	if strings.HasPrefix(reason, "ws.eviction") {
		r.shutdown()
		return
	}
	listeners := 1
	if why == sim.Refused {
		listeners = 2 // error, then close, in the same tick
	}
	for range listeners {
		if !r.lostTimerSet && r.lostThreshold > 0 {
			r.lostTimerSet = true
			r.lostTimer = r.w.After(r.lostThreshold, func() {
				r.trace("runner.lost_timer", sim.Dur("threshold", r.lostThreshold))
				r.stopAllActors()
			})
			r.trace("runner.lost_timer_start", sim.Dur("threshold", r.lostThreshold))
		}
		if r.autoReconnect {
			r.scheduleReconnect()
		} else {
			r.trace("runner.reconnect_off")
		}
	}
}

// shutdown is Runner.shutdown(immediate=true) as the eviction close calls it
// (RUN@2f5666c05:312-450): no more reconnects, the lost timer cleared, the
// newest socket closed if open ("Stopping"), the tunnel shut down. The
// actors are not stopped: the engine loses them with the runner.
func (r *Runner) shutdown() {
	r.shutdownDone = true
	r.trace("runner.shutdown", sim.Int("actors", len(r.actors)))
	r.reconnectTimer.Stop()
	if r.lostTimerSet {
		r.lostTimer.Stop()
		r.lostTimerSet = false
	}
	if r.conn != nil && r.conn.Open() && r.ready {
		r.conn.Close()
	}
	r.ready = false
	r.tunnel.shutdown()
}

// Shutdown reports whether the runner shut itself down (an eviction).
func (r *Runner) Shutdown() bool { return r.shutdownDone }

// scheduleReconnect (RUN:1396-1427): a new timer, its handle stored over
// the previous one, which is not cleared (errata E15).
//
// While the engine stays unreachable every refused dial schedules two
// timers, so upstream's pending reconnects double every round. guardsim
// caps them at MaxPendingReconnects (a named difference): beyond it a
// schedule is dropped and traced.
func (r *Runner) scheduleReconnect() {
	r.leakedReconnects = slices.DeleteFunc(r.leakedReconnects, func(t sim.Timer) bool { return !t.Pending() })
	if n := len(r.leakedReconnects) + 1; r.reconnectTimer.Pending() && n >= MaxPendingReconnects {
		r.trace("runner.reconnect_capped", sim.Int("pending", n))
		return
	}
	delay := calculateBackoff(r.reconnectAttempt, r.backoffRand)
	if r.reconnectTimer.Pending() && !r.cfg.Quirks.Has(model.RunnerDoubleReconnectTimers) {
		// From eb9149843 the previous timer is cleared (RUN@eb9149843:1797-1802).
		r.reconnectTimer.Stop()
		r.trace("runner.reconnect_timer_cleared", sim.Int("attempt", r.reconnectAttempt+1))
	}
	if r.reconnectTimer.Pending() {
		leaked := r.reconnectTimer
		r.leakedReconnects = append(r.leakedReconnects, leaked)
		r.trace("runner.reconnect_timer_overwritten", sim.Int("attempt", r.reconnectAttempt+1))
	}
	r.reconnectTimer = r.w.After(delay, r.reconnectNow)
	r.trace("runner.reconnect_scheduled", sim.Int("attempt", r.reconnectAttempt+1), sim.Dur("delay", delay))
}

// reconnectNow is the reconnect timer's callback (RUN:1417-1426): it checks
// #shutdown; the auto-reconnect switch is the harness's lever, which holds
// back overwritten timers too.
func (r *Runner) reconnectNow() {
	if r.shutdownDone || !r.autoReconnect {
		return
	}
	r.reconnect()
}

func (r *Runner) reconnect() {
	r.reconnectAttempt++ // RUN:1419
	r.trace("runner.reconnect", sim.Int("attempt", r.reconnectAttempt))
	r.openPegboardWebSocket()
}

// sendActorStateUpdate (#sendActorStateUpdate, RUN:859-916). Stopped is
// always reported with code Ok (RUN:876-882).
func (r *Runner) sendActorStateUpdate(id model.ActorID, gen model.Generation, state model.ActorState) {
	// From d319a6210 a stop is Ok only after destroyActor or while the
	// runner drains (RUN@d319a6210:1256-1258); the model has neither.
	stopErr := state == model.ActorStopped && !r.cfg.Quirks.Has(model.RunnerStopCodeAlwaysOk)
	r.sendEvent(id, gen, &model.EventActorStateUpdate{ActorID: id, Generation: gen, State: state, StopError: stopErr})
}

// sendEvent numbers an event (#nextEventIdx, RUN:834, 893), records it in
// the history and sends it when the connection is ready. From 5fcb724b0 the
// actor instance numbers and keeps it, and an event for an actor the runner
// no longer hosts is dropped (RUN@5fcb724b0:957-976, 1121-1127).
func (r *Runner) sendEvent(actor model.ActorID, gen model.Generation, msg model.ToServer) {
	next, history := &r.nextEventIdx, &r.eventHistory
	if !r.cfg.Quirks.Has(model.RunnerGlobalEventHistory) {
		a := r.getActor(actor, &gen)
		if a == nil {
			r.trace("runner.event_dropped", sim.Str("actor", actor), sim.Uint("gen", gen), sim.Any("event", msg))
			return
		}
		next, history = &a.nextEventIdx, &a.eventHistory
	}
	*next++
	idx := *next
	setEventIndex(msg, idx)
	*history = append(*history, recordedEvent{index: idx, msg: msg})
	r.sendRecorded(idx, msg)
}

func setEventIndex(msg model.ToServer, idx int64) {
	switch m := msg.(type) {
	case *model.EventActorStateUpdate:
		m.Index = idx
	case *model.EventActorIntent:
		m.Index = idx
	}
}

// sendRecorded sends a recorded event when the connection is ready.
func (r *Runner) sendRecorded(idx int64, msg model.ToServer) {
	if !r.ready {
		r.trace("runner.event_buffered", sim.Int("idx", idx), sim.Any("event", msg))
		return
	}
	r.trace("runner.event", sim.Int("idx", idx), sim.Any("event", msg))
	r.conn.Send(msg)
}

// resendUnacknowledgedEvents (RUN:1429-1445): resend the events the engine
// has not processed, and forget the rest.
func (r *Runner) resendUnacknowledgedEvents(lastEventIdx int64) {
	kept := r.eventHistory[:0]
	for _, ev := range r.eventHistory {
		if ev.index > lastEventIdx {
			kept = append(kept, ev)
			r.trace("runner.event_resend", sim.Int("idx", ev.index), sim.Any("event", ev.msg))
			r.conn.Send(ev.msg)
		}
	}
	r.eventHistory = kept
}

// sendToServer (__sendToServer, RUN:1351-1372): drop unless ready.
func (r *Runner) sendToServer(msg model.ToServer) bool {
	if !r.ready {
		return false
	}
	return r.conn.Send(msg)
}
