package runner

import (
	"fmt"
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

	gcTimer sim.Timer

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
		msgIDPrefix:           uint64(rng.Uint32()) << 32,
	}
}

func (t *Tunnel) newMessageID() model.MessageID {
	t.nextMsgID++
	return model.MessageID(t.msgIDPrefix | t.nextMsgID)
}

// start (TUN:42-44, 121-129) starts the GC ticks, one every GC_INTERVAL,
// as daemon events: they do not keep the world alive.
func (t *Tunnel) start() {
	t.gcTimer.Stop()
	t.gcTimer = t.r.w.Daemon(gcInterval, t.gcTick)
}

func (t *Tunnel) gcTick() {
	t.gc()
	t.gcTimer = t.r.w.Daemon(gcInterval, t.gcTick)
}

// shutdown (TUN:46-63): stop the GC (nothing restarts it, errata E17),
// reject pending streaming requests (none here) and close every WebSocket
// with retry.
func (t *Tunnel) shutdown() {
	t.gcTimer.Stop()
	t.r.trace("runner.tunnel_shutdown", "websockets", len(t.actorWebSockets))
	for _, id := range sim.SortedKeys(t.actorWebSockets) {
		if ws := t.actorWebSockets[id]; ws != nil {
			ws.closeWithRetry(nil, "")
		}
	}
	clear(t.actorWebSockets)
}

// sendMessage (#sendMessage, TUN:65-96): drop silently unless the engine
// connection is ready; otherwise record the message as pending under a
// fresh message id and send it. It reports whether it sent.
func (t *Tunnel) sendMessage(rid model.RequestID, kind model.TunnelKind) bool {
	if !t.r.ready {
		t.r.trace("runner.drop_send", "rid", rid, "kind", kindName(kind))
		return false
	}
	mid := t.newMessageID()
	t.pendingTunnelMessages[mid] = pendingTunnelMessage{sentAt: t.r.w.Now(), requestID: rid}
	return t.r.sendToServer(&model.ToServerTunnelMessage{RequestID: rid, MessageID: mid, Kind: kind})
}

// sendAck (#sendAck, TUN:98-119): echo the message id; acks are never
// pending themselves. Dropped unless ready.
func (t *Tunnel) sendAck(rid model.RequestID, mid model.MessageID) {
	if !t.r.ready {
		t.r.trace("runner.drop_send", "rid", rid, "kind", "TunnelAck", "mid", mid)
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
		if now-p.sentAt <= messageAckTimeout { // TUN:137
			continue
		}
		purge = append(purge, mid)
		// TUN:142-160: #actorPendingRequests is always empty (see Tunnel).
		if ws := t.actorWebSockets[p.requestID]; ws != nil { // TUN:162-170
			ws.closeWithRetry(model.Code(model.CloseNormal), "Message acknowledgment timeout")
			delete(t.actorWebSockets, p.requestID)
		}
	}
	for _, mid := range purge { // TUN:174-183
		p := t.pendingTunnelMessages[mid]
		delete(t.pendingTunnelMessages, mid)
		t.r.trace("runner.gc_purge", "mid", mid, "rid", p.requestID, "age", now-p.sentAt)
	}
	if len(purge) > 0 {
		t.r.trace("runner.gc", "purged", len(purge), "pending", len(t.pendingTunnelMessages))
	}
}

// unregisterActor (TUN:186-208): reject the actor's pending streaming
// requests (none exist: non-streaming in-flight fetches are NOT aborted,
// spec (i).10, they finish and still answer), forget its requests, and
// close its WebSockets with retry, 1000 "Actor stopped".
func (t *Tunnel) unregisterActor(actor *actorInstance) {
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
	if _, ok := m.Kind.(model.TunnelAck); ok { // TUN:247-253
		_, found := t.pendingTunnelMessages[m.MessageID]
		delete(t.pendingTunnelMessages, m.MessageID)
		t.r.trace("runner.tunnel_ack", "mid", m.MessageID, "rid", m.RequestID, "found", found)
		return
	}
	t.sendAck(m.RequestID, m.MessageID)
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
