package runner

import (
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// WebSocket handling over the tunnel (TUN:460-666). The adapter is in
// websocket_adapter.go (WSA), the actor's handler and hibernation config in
// actor_ws.go. The tunnel's GC, unregisterActor and shutdown close the
// adapters in t.actorWebSockets with retry (TUN:162-170, 199-207, 58-62).

// handleWebSocketOpen (TUN:460-614). The ack was sent by
// handleTunnelMessage already (TUN:277-278).
func (t *Tunnel) handleWebSocketOpen(rid model.RequestID, open model.WebSocketOpen) {
	r := t.r
	webSocketID := rid // bufferToString(requestId), TUN:464
	actor := r.getActor(open.ActorID, nil)
	r.trace("runner.ws_open", sim.Str("actor", open.ActorID), sim.ID("rid", rid), sim.Str("path", open.Path), sim.Bool("found", actor != nil))
	if actor != nil && !r.cfg.Quirks.Has(model.RunnerSendsForUnmappedRequests) {
		t.requestToActor[rid] = actor.actorID
	}
	if actor == nil { // TUN:466-482
		t.sendWebSocketClose(rid, open.ActorID, 0, model.Code(model.CloseError), "Actor not found", false)
		return
	}

	b := r.behavior(open.ActorID)
	if b.NotImplemented { // no config.websocket, TUN:484-500
		t.sendWebSocketClose(rid, actor.actorID, actor.generation, model.Code(model.CloseError), "Not Implemented", false)
		return
	}

	// From 3d4e089d6 a duplicate open first closes the existing adapter
	// locally, 1000 "ws.duplicate_open", sending nothing (TUN@3d4e089d6:575-592).
	if old := t.actorWebSockets[webSocketID]; old != nil && !r.cfg.Quirks.Has(model.RunnerDuplicateOpenOrphans) {
		r.trace("runner.ws_duplicate_open", sim.ID("rid", rid), sim.Str("actor", old.actor.actorID), sim.Int("gen", int64(old.actor.generation)))
		old.closeWithoutCallback(model.Code(model.CloseNormal), "ws.duplicate_open")
	}

	// Track this WebSocket for the actor (TUN:502-505).
	actor.webSockets[webSocketID] = struct{}{}

	// try (TUN:507-594).
	adapter := t.newAdapter(rid, actor)

	// Store adapter (TUN:549). A retry of the gateway reuses the request id
	// (PS:1823, GW:204): the entry is overwritten and the old adapter is
	// orphaned, still OPEN, its handler's listeners still attached, never
	// closed by the runner (spec (i).20).
	if old := t.actorWebSockets[webSocketID]; old != nil && old.readyState != wsClosed {
		r.recordWS(WSEvent{Actor: old.actor.actorID, Generation: old.actor.generation, Request: rid, Kind: WSOrphaned})
		r.trace("runner.ws_orphaned", sim.ID("rid", rid), sim.Str("actor", old.actor.actorID), sim.Int("gen", int64(old.actor.generation)),
			sim.Int("state", old.readyState))
	}
	t.actorWebSockets[webSocketID] = adapter
	t.wsOwners[webSocketID] = wsOwner{actor.actorID, actor.generation}

	// Building the Request (TUN:551-570) adds Upgrade/Connection headers and
	// cannot fail here; getActorHibernationConfig (TUN:573) may throw. Both
	// run before the open is sent, so the catch's close is a pre-open close
	// (errata E16).
	hib, err := r.getActorHibernationConfig(actor.actorID, rid, b)
	if err != nil {
		t.webSocketOpenFailed(rid, actor)
		return
	}
	adapter.hibernatable = hib.enabled
	if !r.cfg.Quirks.Has(model.RunnerOpensBeforeHandler) {
		// From 2e22a2e61 the handler runs first and the open follows; a
		// throw is a close before the open (TUN@2e22a2e61:953-995). The
		// actor persists a hibernatable socket's metadata as it opens
		// (rivetkit's hibernatable connection), which restore reads.
		if err := r.websocketHandler(open.ActorID, adapter, rid, b); err != nil {
			t.webSocketOpenFailed(rid, actor)
			return
		}
		if hib.enabled && r.cfg.Quirks.Has(model.RunnerRestoresHibernating) {
			r.store.setLastMsgIndex(actor.actorID, rid, 0)
		}
		sent := t.sendMessage(rid, model.ServerWebSocketOpen{CanHibernate: hib.enabled, LastMsgIndex: -1})
		r.recordWS(WSEvent{Actor: actor.actorID, Generation: actor.generation, Request: rid, Kind: WSOpen,
			Index: -1, CanHibernate: hib.enabled, Dropped: !sent})
		r.trace("runner.ws_opened", sim.Str("actor", actor.actorID), sim.Int("gen", int64(actor.generation)), sim.ID("rid", rid),
			sim.Bool("hibernate", hib.enabled), sim.Bool("sent", sent))
		adapter.handleOpen(rid)
		return
	}
	lastMsgIndex := int64(-1) // `lastMsgIndex ?? -1`, TUN:578
	if hib.lastMsgIndex != nil {
		lastMsgIndex = *hib.lastMsgIndex
	}
	sent := t.sendMessage(rid, model.ServerWebSocketOpen{CanHibernate: hib.enabled, LastMsgIndex: lastMsgIndex})
	r.recordWS(WSEvent{Actor: actor.actorID, Generation: actor.generation, Request: rid, Kind: WSOpen,
		Index: int(lastMsgIndex), CanHibernate: hib.enabled, Dropped: !sent})
	r.trace("runner.ws_opened", sim.Str("actor", actor.actorID), sim.Int("gen", int64(actor.generation)), sim.ID("rid", rid),
		sim.Bool("hibernate", hib.enabled), sim.Int("last", lastMsgIndex), sim.Bool("sent", sent))

	adapter.handleOpen(rid) // TUN:583

	if err := r.websocketHandler(open.ActorID, adapter, rid, b); err != nil { // TUN:588-594
		t.webSocketOpenFailed(rid, actor)
	}
}

// newAdapter builds the adapter of a tunnelled socket with its two
// callbacks (TUN:509-546): a send goes out as ToServerWebSocketMessage; a
// close sends ToServerWebSocketClose and untracks the socket by id (which
// may be a newer adapter's entry), from the actor captured here and, from
// 2e22a2e61, from requestToActor (the mapping goes in the close callback,
// TUN@553683bfd:552).
func (t *Tunnel) newAdapter(rid model.RequestID, actor *actorInstance) *webSocketAdapter {
	r := t.r
	return newWebSocketAdapter(r, rid, actor,
		func(data string, isBinary bool) { // TUN:511-526
			sent := t.sendMessage(rid, model.ServerWebSocketMessage{Data: data, Binary: isBinary})
			r.trace("runner.ws_send", sim.ID("rid", rid), sim.Str("data", data), sim.Bool("binary", isBinary), sim.Bool("sent", sent))
		},
		func(code *uint16, reason string, retry bool) { // TUN:527-545
			if code != nil && *code == 0 { // `code || null`
				code = nil
			}
			t.sendWebSocketClose(rid, actor.actorID, actor.generation, code, reason, retry)
			delete(t.actorWebSockets, rid)
			delete(actor.webSockets, rid)
			delete(t.requestToActor, rid)
		})
}

// webSocketOpenFailed is the catch of handleWebSocketOpen (TUN:595-613):
// close 1011 "Server Error", retry:false, sent directly, not through the
// adapter (which keeps its readyState, OPEN after the open), then untrack
// the id from the map and the actor.
func (t *Tunnel) webSocketOpenFailed(rid model.RequestID, actor *actorInstance) {
	t.sendWebSocketClose(rid, actor.actorID, actor.generation, model.Code(model.CloseError), "Server Error", false)
	delete(t.actorWebSockets, rid)
	delete(actor.webSockets, rid)
	delete(t.requestToActor, rid)
}

// sendWebSocketClose sends ToServerWebSocketClose and records it.
func (t *Tunnel) sendWebSocketClose(rid model.RequestID, actorID model.ActorID, gen model.Generation,
	code *uint16, reason string, retry bool) {
	sent := t.sendMessage(rid, model.ServerWebSocketClose{Code: code, Reason: reason, Retry: retry})
	ev := WSEvent{Actor: actorID, Generation: gen, Request: rid, Kind: WSCloseSent,
		Reason: reason, Retry: retry, Dropped: !sent}
	if code != nil {
		ev.Code = *code
	}
	t.r.recordWS(ev)
	t.r.trace("runner.ws_close_sent", sim.ID("rid", rid), sim.Str("actor", actorID), sim.Int("gen", int64(gen)),
		sim.Str("code", codeString(code)), sim.Str("reason", reason), sim.Bool("retry", retry), sim.Bool("sent", sent))
}

// handleWebSocketMessage (TUN:616-632): hand the message to the adapter, if
// any. It returns false if the message was sent off (the result is unused,
// TUN:288).
func (t *Tunnel) handleWebSocketMessage(rid model.RequestID, msg model.WebSocketMessage) bool {
	adapter := t.actorWebSockets[rid]
	if adapter == nil {
		t.r.trace("runner.ws_message_ignored", sim.ID("rid", rid), sim.Int("idx", int(msg.Index)))
		return true
	}
	if !t.reachable(adapter) {
		t.r.trace("runner.ws_message_ignored", sim.ID("rid", rid), sim.Int("idx", int(msg.Index)),
			sim.Str("actor", adapter.actor.actorID), sim.Int("stopped_gen", int64(adapter.actor.generation)))
		return true
	}
	if adapter.hibernatable && t.r.cfg.Quirks.Has(model.RunnerValidatesWSIndex) && adapter.readyState == wsOpen {
		// WSA@2e22a2e61:147-183: a duplicate is dropped, a gap closes 1008.
		switch {
		case msg.Index <= adapter.lastIndex:
			t.r.trace("runner.ws_message_duplicate", sim.ID("rid", rid), sim.Int("idx", int(msg.Index)), sim.Int("last", int(adapter.lastIndex)))
			return true
		case msg.Index > adapter.lastIndex+1:
			t.r.trace("runner.ws_message_index_skip", sim.ID("rid", rid), sim.Int("idx", int(msg.Index)), sim.Int("last", int(adapter.lastIndex)))
			adapter.close(model.Code(model.ClosePolicy), "ws.message_index_skip")
			return true
		}
		adapter.lastIndex = msg.Index
	}
	return adapter.handleMessage(rid, msg.Data, msg.Index, msg.Binary)
}

// restoreHibernatingRequests (TUN@2e22a2e61:100-160; user-driven from
// b3313f9f0, RUN@b3313f9f0): for each request CommandStartActor listed, a
// socket whose metadata the actor persisted gets an OPEN adapter with the
// actor's handler and no open event, its index continuing from the
// persisted one; any other is closed 1000 ws.meta_not_found_during_restore.
// Persisted metadata no request names is stale and dropped.
func (t *Tunnel) restoreHibernatingRequests(actor *actorInstance) {
	r := t.r
	listed := map[model.RequestID]bool{}
	for _, rid := range actor.hibernating {
		listed[rid] = true
		t.requestToActor[rid] = actor.actorID
		idx, ok := r.store.LastMsgIndex(actor.actorID, rid)
		if !ok {
			r.trace("runner.ws_restore_no_meta", sim.Str("actor", actor.actorID), sim.ID("rid", rid))
			t.sendWebSocketClose(rid, actor.actorID, actor.generation, model.Code(model.CloseNormal), "ws.meta_not_found_during_restore", false)
			delete(t.requestToActor, rid)
			continue
		}
		adapter := t.newAdapter(rid, actor)
		adapter.hibernatable = true
		adapter.lastIndex = uint16(idx)
		adapter.readyState = wsOpen
		actor.webSockets[rid] = struct{}{}
		t.actorWebSockets[rid] = adapter
		t.wsOwners[rid] = wsOwner{actor.actorID, actor.generation}
		r.recordWS(WSEvent{Actor: actor.actorID, Generation: actor.generation, Request: rid, Kind: WSRestored, Index: int(idx), CanHibernate: true})
		r.trace("runner.ws_restored", sim.Str("actor", actor.actorID), sim.Int("gen", int64(actor.generation)), sim.ID("rid", rid), sim.Int("idx", idx))
		if err := r.websocketHandler(actor.actorID, adapter, rid, r.behavior(actor.actorID)); err != nil {
			adapter.close(model.Code(model.CloseError), "ws.restore_error")
		}
	}
	for _, rid := range r.store.Requests(actor.actorID) {
		if !listed[rid] {
			r.trace("runner.ws_stale_meta", sim.Str("actor", actor.actorID), sim.ID("rid", rid))
			r.store.forget(actor.actorID, rid)
		}
	}
}

// ackWebsocketMessage is __ackWebsocketMessage (TUN:634-650). The range
// check (TUN:641) cannot fail for a uint16. The ack is a tunnel message
// like any other: pending until the gateway acks it, subject to the GC.
func (t *Tunnel) ackWebsocketMessage(rid model.RequestID, index uint16) bool {
	sent := t.sendMessage(rid, model.ServerWebSocketMessageAck{Index: index})
	t.r.trace("runner.ws_ack", sim.ID("rid", rid), sim.Int("idx", int(index)), sim.Bool("sent", sent))
	return sent
}

// handleWebSocketClose (TUN:652-666): the adapter fires its close event and
// leaves #actorWebSockets. Nothing is sent back (the TunnelAck was sent
// already), and the id stays in actor.webSockets (errata E18).
func (t *Tunnel) handleWebSocketClose(rid model.RequestID, msg model.WebSocketClose) {
	adapter := t.actorWebSockets[rid]
	if adapter != nil && !t.reachable(adapter) {
		adapter = nil // TUN@2e22a2e61:1066-1071: the loaded actor has no such socket
	}
	code := msg.Code
	if code != nil && *code == 0 { // `close.code || undefined`
		code = nil
	}
	owner := t.wsOwners[rid]
	if adapter != nil {
		owner = wsOwner{adapter.actor.actorID, adapter.actor.generation}
	}
	ev := WSEvent{Actor: owner.actor, Generation: owner.gen, Request: rid,
		Kind: WSCloseReceived, Reason: msg.Reason, NoAdapter: adapter == nil}
	if code != nil {
		ev.Code = *code
	}
	t.r.recordWS(ev)
	t.r.trace("runner.ws_close_received", sim.ID("rid", rid), sim.Str("actor", owner.actor), sim.Int("gen", int64(owner.gen)),
		sim.Str("code", codeString(code)), sim.Str("reason", msg.Reason), sim.Bool("adapter", adapter != nil))
	if adapter == nil {
		return
	}
	if t.r.cfg.Quirks.Has(model.RunnerEchoesClose) {
		// _handleClose runs the close callback (WSA@2e22a2e61:236): the
		// runner echoes the close, hibernate false, and untracks the socket.
		adapter.closeInner(code, msg.Reason, false)
		delete(t.actorWebSockets, rid)
		delete(t.requestToActor, rid)
		return
	}
	adapter.handleClose(rid, code, msg.Reason)
	delete(t.actorWebSockets, rid)
}

// reachable reports whether a message for the adapter's request can reach
// it. From 2e22a2e61 the TS runner keeps each socket on its actor instance
// (actor.webSockets) and finds it through the actor loaded now
// (getRequestActor then actor.webSockets.get, TUN@2e22a2e61:1017-1040,
// TUN@553683bfd:1022-1047): a hibernatable socket left alone when its
// actor stopped (closeActiveRequests, TUN@553683bfd:532-553) stays on the
// stopped instance, which #removeActor drops or the next start's
// #actors.set replaces (RUN@553683bfd:366-393), so nothing reaches it
// again: the message is dropped ("missing websocket for incoming websocket
// message"). Before 2e22a2e61 one #actorWebSockets map serves every actor
// (TUN:616-632), and the stop closed the socket anyway.
func (t *Tunnel) reachable(adapter *webSocketAdapter) bool {
	if t.r.cfg.Quirks.Has(model.RunnerClosesWebSocketsOnActorStop) {
		return true
	}
	return t.r.actors[adapter.actor.actorID] == adapter.actor
}

// wsOwner is the actor instance a WebSocket request id was last opened for
// on this runner: bookkeeping for WSEvents only, not upstream.
type wsOwner struct {
	actor model.ActorID
	gen   model.Generation
}
