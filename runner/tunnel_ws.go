package runner

import (
	"github.com/guardsim/guardsim/model"
)

// WebSocket handling over the tunnel (TUN:460-666, WSA).
//
// Not ported yet: this runner has no websocket handler (config.websocket is
// optional, RUN:54-60), so a WebSocketOpen for a hosted actor is answered
// as upstream does without one: close 1011 "Not Implemented", retry:false
// (TUN:484-500). To add WebSocket support:
//   - give Config a websocket behaviour and, in handleWebSocketOpen, replace
//     the "Not Implemented" close with TUN:502-613: track the id in
//     actor.webSockets, create a webSocketAdapter, store it in
//     t.actorWebSockets, send ServerWebSocketOpen{canHibernate,
//     lastMsgIndex} (from getActorHibernationConfig), then run the handler
//     (an exception there closes 1011 "Server Error", retry:false);
//   - deliver messages and closes to the adapter in handleWebSocketMessage
//     (TUN:617-632, adapter._handleMessage) and handleWebSocketClose
//     (TUN:652-666; the id stays in actor.webSockets, errata E18);
//   - message acks: __ackWebsocketMessage (TUN:634-650).
// The tunnel's GC, unregisterActor and shutdown already close every adapter
// in t.actorWebSockets with retry (TUN:162-170, 199-207, 58-62).

// webSocketAdapter is the part of WebSocketTunnelAdapter (WSA) that the
// tunnel's close paths use: a close sent once through the tunnel
// (closeInner, WSA:196-221, with the tunnel's close callback TUN:527-545).
type webSocketAdapter struct {
	t         *Tunnel
	requestID model.RequestID
	actor     *actorInstance
	closed    bool // readyState CLOSING or CLOSED
}

// closeWithRetry is __closeWithRetry (WSA:192-194).
func (a *webSocketAdapter) closeWithRetry(code *uint16, reason string) {
	a.closeInner(code, reason, true)
}

func (a *webSocketAdapter) closeInner(code *uint16, reason string, retry bool) {
	if a.closed {
		return
	}
	a.closed = true
	a.t.sendMessage(a.requestID, model.ServerWebSocketClose{Code: code, Reason: reason, Retry: retry})
	delete(a.t.actorWebSockets, a.requestID)
	if a.actor != nil {
		delete(a.actor.webSockets, a.requestID)
	}
}

// handleWebSocketOpen (TUN:460-614), without a websocket handler.
func (t *Tunnel) handleWebSocketOpen(rid model.RequestID, open model.WebSocketOpen) {
	actor := t.r.getActor(open.ActorID, nil)
	t.r.trace("runner.ws_open", "actor", open.ActorID, "rid", rid, "found", actor != nil)
	if actor == nil { // TUN:466-482
		t.sendMessage(rid, model.ServerWebSocketClose{Code: model.Code(model.CloseError), Reason: "Actor not found", Retry: false})
		return
	}
	// TUN:484-500: no websocket handler configured.
	t.sendMessage(rid, model.ServerWebSocketClose{Code: model.Code(model.CloseError), Reason: "Not Implemented", Retry: false})
}

// handleWebSocketMessage (TUN:617-632): no adapter, nothing to do.
func (t *Tunnel) handleWebSocketMessage(rid model.RequestID, _ model.WebSocketMessage) {
	if t.actorWebSockets[rid] == nil {
		return
	}
	// TODO(websocket): adapter._handleMessage.
}

// handleWebSocketClose (TUN:652-666): no adapter, nothing to do.
func (t *Tunnel) handleWebSocketClose(rid model.RequestID, _ model.WebSocketClose) {
	if t.actorWebSockets[rid] == nil {
		return
	}
	// TODO(websocket): adapter._handleClose, then delete from
	// t.actorWebSockets (the id stays in actor.webSockets, errata E18).
}
