package runner

import (
	"fmt"
	"github.com/guardsim/guardsim/internal/plant"
	"math/rand/v2"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Tunnel constants (TUN:9-11).
const (
	gcInterval        = 60 * sim.Second // GC_INTERVAL, TUN:9
	messageAckTimeout = 5 * sim.Second  // MESSAGE_ACK_TIMEOUT, TUN:10
	// WEBSOCKET_STATE_PERSIST_TIMEOUT (30 s, TUN:11) is declared but
	// unused upstream.
)

// pendingTunnelMessage is PendingTunnelMessage (TUN:20-23).
type pendingTunnelMessage struct {
	sentAt    sim.Time
	requestID model.RequestID
	// actor is the instance the message is pending for, from 2e22a2e61
	// (RunnerActor.pendingTunnelMessages); nil before.
	actor *actorInstance
}

// Tunnel is the runner's end of the tunnel (Tunnel, TUN:25-667): acks,
// pending tunnel messages with their GC, and request/WebSocket dispatch.
// HTTP handling is in tunnel_http.go, WebSocket handling in tunnel_ws.go.
//
// #actorPendingRequests (TUN:29) is not kept: only streaming requests
// populate it (TUN:333-351) and the gateway always sends stream:false
// (GW:109-122), so every place that rejects its entries is a no-op here.
type Tunnel struct {
	r *Runner

	// #actorWebSockets (TUN:31): the adapter per WebSocket request id.
	actorWebSockets map[model.RequestID]*webSocketAdapter
	// wsOwners: the actor each WebSocket id was last opened for, for
	// WSEvents only (not upstream).
	wsOwners map[model.RequestID]wsOwner
	// #pendingTunnelMessages (TUN:34): sent, not yet acked by the gateway.
	pendingTunnelMessages map[model.MessageID]pendingTunnelMessage
	// requestToActor (#requestToActor, TUN@2e22a2e61): the actor each
	// request was started or restored for; from 6b7ebbb0d a message for a
	// request without an entry is not sent.
	requestToActor map[model.RequestID]model.ActorID
	// gateways is the gateway id each request's messages came with (from
	// a89ca2b17), which the runner's answers carry.
	gateways map[model.RequestID]string
	// bufferedMessages (#bufferedMessages, TUN@2a24121ce:61): what
	// #sendMessage was given while the engine socket was not ready, with
	// the gateway id of the moment, resent after the next init.
	bufferedMessages []bufferedMessage

	gcTimer sim.Timer
	gcFn    func() // t.gcTick, made once: every tick reschedules it

	// Message ids: upstream draws a UUIDv4 per message (TUN:78, 675-679).
	// Here: a random 32-bit prefix per runner, drawn once from the
	// runner's msgid stream, over a counter, so ids are unique across
	// runners (with overwhelming probability) and sort in send order.
	msgIDPrefix uint64
	nextMsgID   uint64
}

func newTunnel(r *Runner, rng *rand.Rand) *Tunnel {
	return &Tunnel{
		r:                     r,
		actorWebSockets:       map[model.RequestID]*webSocketAdapter{},
		wsOwners:              map[model.RequestID]wsOwner{},
		pendingTunnelMessages: map[model.MessageID]pendingTunnelMessage{},
		requestToActor:        map[model.RequestID]model.ActorID{},
		gateways:              map[model.RequestID]string{},
		msgIDPrefix:           uint64(rng.Uint32()) << 32,
	}
}

func (t *Tunnel) newMessageID() model.MessageID {
	t.nextMsgID++
	return model.MessageID(t.msgIDPrefix | t.nextMsgID)
}

// start (TUN:42-44, 121-129) starts the GC ticks, one every GC_INTERVAL,
// as daemon events: they do not keep the world alive.
//
// 6b7ebbb0d deletes the GC: start is a no-op (TUN@6b7ebbb0d:69-71).
func (t *Tunnel) start() {
	if !t.r.cfg.Quirks.Has(model.RunnerTunnelGC) {
		return
	}
	t.gcTimer.Stop()
	if t.gcFn == nil {
		t.gcFn = t.gcTick
	}
	t.gcTimer = t.r.w.Daemon(gcInterval, t.gcFn)
}

func (t *Tunnel) gcTick() {
	t.gc()
	t.gcTimer = t.r.w.Daemon(gcInterval, t.gcFn)
}

// shutdown (TUN:46-63): stop the GC (nothing restarts it, errata E17),
// reject pending streaming requests (none here) and close every WebSocket
// with retry. From 2e22a2e61 (TUN@2e22a2e61:80-102, TUN@553683bfd:73-102)
// only a socket that cannot hibernate is closed, locally (1000
// ws.tunnel_shutdown, nothing sent), every actor's list is emptied, and the
// request-to-actor map is cleared.
func (t *Tunnel) shutdown() {
	t.gcTimer.Stop()
	t.r.trace("runner.tunnel_shutdown", sim.Int("websockets", len(t.actorWebSockets)))
	old := t.r.cfg.Quirks.Has(model.RunnerShutdownClosesWithRetry)
	for _, id := range sim.SortedKeys(t.actorWebSockets) {
		ws := t.actorWebSockets[id]
		switch {
		case ws == nil:
		case old:
			ws.closeWithRetry(nil, "")
		case !ws.hibernatable:
			ws.closeWithoutCallback(model.Code(model.CloseNormal), "ws.tunnel_shutdown")
		}
	}
	clear(t.actorWebSockets)
	if !old {
		clear(t.requestToActor)
	}
}

// bufferedMessage is one entry of #bufferedMessages.
type bufferedMessage struct {
	rid     model.RequestID
	gateway string
	kind    model.TunnelKind
}

// sendMessage (#sendMessage, TUN:65-96): drop silently unless the engine
// connection is ready; otherwise record the message as pending under a
// fresh message id and send it. It reports whether it sent.
func (t *Tunnel) sendMessage(rid model.RequestID, kind model.TunnelKind) bool {
	return t.sendMessageVia(rid, t.gateways[rid], kind)
}

// resendBufferedEvents (TUN@2a24121ce:79-95) sends the buffered messages
// again through #sendMessage, in order, after the init's events
// (RUN@2a24121ce:834-836): each is checked then, and buffered again if the
// socket is not ready.
func (t *Tunnel) resendBufferedEvents() {
	if len(t.bufferedMessages) == 0 {
		return
	}
	msgs := t.bufferedMessages
	t.bufferedMessages = nil
	t.r.trace("runner.resend_buffered", sim.Int("count", len(msgs)))
	for _, m := range msgs {
		t.sendMessageVia(m.rid, m.gateway, m.kind)
	}
}

// sendMessageVia is sendMessage with the gateway id given.
//
// Later commits: from 2a24121ce a message given while the socket is not
// ready is buffered before any other check (TUN@2a24121ce:486-495); from
// 6b7ebbb0d a message for a request with no
// requestToActor entry, or whose entry's actor is not loaded, is dropped
// (TUN@6b7ebbb0d, TUN@553683bfd:416-445, 478-486);
// at a89ca2b17 every send throws (runner_cannot_encode_tunnel); messages
// are pending only while the runner's GC exists (until 6b7ebbb0d).
func (t *Tunnel) sendMessageVia(rid model.RequestID, gateway string, kind model.TunnelKind) bool {
	q := t.r.cfg.Quirks
	if !t.r.ready && !q.Has(model.RunnerDropsSendsWhileDisconnected) {
		t.r.trace("runner.buffer_send", sim.ID("rid", rid), sim.Str("kind", kindName(kind)))
		t.bufferedMessages = append(t.bufferedMessages, bufferedMessage{rid: rid, gateway: gateway, kind: kind})
		return false
	}
	if !q.Has(model.RunnerSendsForUnmappedRequests) {
		a, ok := t.requestToActor[rid]
		if !ok {
			t.r.trace("runner.drop_send_unmapped", sim.ID("rid", rid), sim.Str("kind", kindName(kind)))
			return false
		}
		// getRequestActor also needs the mapped actor loaded
		// (TUN@553683bfd:434-441): a request id an earlier attempt mapped
		// to an actor that has since stopped sends nothing.
		if t.r.actors[a] == nil {
			t.r.trace("runner.drop_send_unloaded", sim.ID("rid", rid), sim.Str("actor", a), sim.Str("kind", kindName(kind)))
			return false
		}
	}
	if !t.r.ready {
		t.r.trace("runner.drop_send", sim.ID("rid", rid), sim.Str("kind", kindName(kind)))
		return false
	}
	if q.Has(model.RunnerCannotEncodeTunnel) { // no gatewayId: the encoder throws (a89ca2b17)
		t.r.trace("runner.encode_error", sim.ID("rid", rid), sim.Str("kind", kindName(kind)))
		return false
	}
	mid := t.newMessageID()
	if q.Has(model.RunnerTunnelGC) {
		switch {
		case q.Has(model.RunnerGlobalPendingMessages):
			t.pendingTunnelMessages[mid] = pendingTunnelMessage{sentAt: t.r.w.Now(), requestID: rid}
		default: // recorded only for a loaded actor (TUN@2e22a2e61)
			if a := t.r.actors[t.requestToActor[rid]]; a != nil {
				t.pendingTunnelMessages[mid] = pendingTunnelMessage{sentAt: t.r.w.Now(), requestID: rid, actor: a}
			}
		}
	}
	m := &model.ToServerTunnelMessage{RequestID: rid, MessageID: mid, Kind: kind}
	if !q.Has(model.PBRTunnelActiveRequests) {
		m.Gateway = gateway
	}
	return t.r.sendToServer(m)
}

// sendAck (#sendAck, TUN:98-119): echo the message id; acks are never
// pending themselves. Dropped unless ready.
func (t *Tunnel) sendAck(rid model.RequestID, mid model.MessageID) {
	if !t.r.ready {
		t.r.trace("runner.drop_send", sim.ID("rid", rid), sim.Str("kind", "TunnelAck"), sim.ID("mid", mid))
		return
	}
	t.r.sendToServer(&model.ToServerTunnelMessage{RequestID: rid, MessageID: mid, Kind: model.TunnelAck{}})
}

// gc (#gc, TUN:131-184): purge every pending message unacked for more than
// MESSAGE_ACK_TIMEOUT. A streaming HTTP request would be rejected (none
// exist here); an open WebSocket is closed with retry.
func (t *Tunnel) gc() {
	now := t.r.w.Now()
	var purge []model.MessageID
	for _, mid := range sim.SortedKeys(t.pendingTunnelMessages) { // ids sort in send order
		p := t.pendingTunnelMessages[mid]
		if p.actor != nil && t.r.actors[p.actor.actorID] != p.actor {
			delete(t.pendingTunnelMessages, mid) // the instance stopped: its map went with it
			continue
		}
		if now-p.sentAt <= messageAckTimeout { // TUN:137
			continue
		}
		purge = append(purge, mid)
		// TUN:142-160: #actorPendingRequests is always empty (see Tunnel).
		if ws := t.actorWebSockets[p.requestID]; ws != nil { // TUN:162-170
			if t.r.cfg.Quirks.Has(model.RunnerGCClosesWithRetry) {
				ws.closeWithRetry(model.Code(model.CloseNormal), "Message acknowledgment timeout")
			} else {
				ws.close(model.Code(model.CloseNormal), "ws.ack_timeout") // TUN@f5d14e116:513-516
			}
			delete(t.actorWebSockets, p.requestID)
		}
	}
	for _, mid := range purge { // TUN:174-183
		p := t.pendingTunnelMessages[mid]
		delete(t.pendingTunnelMessages, mid)
		t.r.trace("runner.gc_purge", sim.ID("mid", mid), sim.ID("rid", p.requestID), sim.Dur("age", now-p.sentAt))
	}
	if len(purge) > 0 {
		t.r.trace("runner.gc", sim.Int("purged", len(purge)), sim.Int("pending", len(t.pendingTunnelMessages)))
	}
}

// unregisterActor (TUN:186-208): reject the actor's pending streaming
// requests (none exist: non-streaming in-flight fetches are NOT aborted,
// spec (i).10, they finish and still answer), forget its requests, and
// close its WebSockets with retry, 1000 "Actor stopped".
//
// From 2e22a2e61 (closeActiveRequests, TUN@2e22a2e61:547-567) the actor's
// requests lose their requestToActor entry, a socket that cannot hibernate
// is closed locally, 1000 actor.stopped, sending nothing, and a
// hibernatable one is left alone: the gateway hears of the stop from the
// actor's Stopped.
func (t *Tunnel) unregisterActor(actor *actorInstance) {
	if !t.r.cfg.Quirks.Has(model.RunnerClosesWebSocketsOnActorStop) {
		for _, id := range sim.SortedKeys(actor.requests) {
			delete(t.requestToActor, id)
		}
		clear(actor.requests)
		for _, id := range sim.SortedKeys(actor.webSockets) {
			if ws := t.actorWebSockets[id]; ws != nil && !ws.hibernatable {
				ws.closeWithoutCallback(model.Code(model.CloseNormal), "actor.stopped")
				delete(t.actorWebSockets, id)
				delete(t.requestToActor, id)
			}
		}
		return
	}
	clear(actor.requests)
	for _, id := range sim.SortedKeys(actor.webSockets) {
		if ws := t.actorWebSockets[id]; ws != nil {
			ws.closeWithRetry(model.Code(model.CloseNormal), "Actor stopped")
			delete(t.actorWebSockets, id)
		}
	}
	clear(actor.webSockets)
}

// handleTunnelMessage (TUN:239-305). A TunnelAck from the gateway clears the
// matching pending message; every other kind is acked first with the same
// message id, then dispatched. Kinds arrive as values.
func (t *Tunnel) handleTunnelMessage(m *model.ToClientTunnelMessage) {
	if m.Gateway != "" {
		t.gateways[m.RequestID] = m.Gateway
	}
	if !t.r.cfg.Quirks.Has(model.TunnelAcks) { // a89ca2b17: no acks
		if _, ok := m.Kind.(model.TunnelAck); ok {
			return
		}
		if actor := t.startingActor(m); actor != nil { // b3313f9f0: wait for onActorStart
			t.r.trace("runner.held_until_started", sim.ID("rid", m.RequestID), sim.Str("actor", actor.actorID))
			actor.held = append(actor.held, m)
			return
		}
		t.dispatch(m)
		return
	}
	if _, ok := m.Kind.(model.TunnelAck); ok { // TUN:247-253
		_, found := t.pendingTunnelMessages[m.MessageID]
		if !plant.On(plant.RunnerIgnoresTunnelAck) {
			delete(t.pendingTunnelMessages, m.MessageID)
		}
		t.r.trace("runner.tunnel_ack", sim.ID("mid", m.MessageID), sim.ID("rid", m.RequestID), sim.Bool("found", found))
		return
	}
	t.sendAck(m.RequestID, m.MessageID)
	t.dispatch(m)
}

// startingActor is the actor a message waits for from b3313f9f0
// (getAndWaitForActor, TUN@b3313f9f0:447-455): one still in onActorStart.
func (t *Tunnel) startingActor(m *model.ToClientTunnelMessage) *actorInstance {
	if t.r.cfg.Quirks.Has(model.RunnerDispatchesBeforeStart) {
		return nil
	}
	var id model.ActorID
	switch k := m.Kind.(type) {
	case model.RequestStart:
		id = k.ActorID
	case model.WebSocketOpen:
		id = k.ActorID
	default:
		id = t.requestToActor[m.RequestID]
	}
	if a := t.r.actors[id]; a != nil && !a.started {
		return a
	}
	return nil
}

// dispatch hands a gateway message to its handler.
func (t *Tunnel) dispatch(m *model.ToClientTunnelMessage) {
	switch k := m.Kind.(type) {
	case model.RequestStart:
		t.handleRequestStart(m.RequestID, k)
	case model.RequestAbort:
		t.handleRequestAbort(m.RequestID)
	case model.WebSocketOpen:
		t.handleWebSocketOpen(m.RequestID, k)
	case model.WebSocketMessage:
		t.handleWebSocketMessage(m.RequestID, k)
	case model.WebSocketClose:
		t.handleWebSocketClose(m.RequestID, k)
	default:
		panic(fmt.Sprintf("runner %s: unexpected tunnel message kind %T", t.r.node, m.Kind)) // TUN:301-302
	}
}

// kindName is a tunnel kind's protocol name, for the trace.
func kindName(k model.TunnelKind) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", k), "model.")
}
