package runner

import (
	"errors"
	"slices"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// The actor side of tunnelled WebSockets: what the runner's user config
// supplies (config.websocket, RUN:54-60; config.getActorHibernationConfig,
// RUN:67-74) and the actor's persisted hibernation state.
//
// The modelled actor is the SDK's own test runner
// (engine/sdks/typescript/test-runner/src/index.ts:210-252 at f3105c779):
// its websocket handler records every message, echoes it, remembers the
// message index as the socket's lastMsgIndex and acks it with
// runner.sendWebsocketMessageAck; its getActorHibernationConfig returns
// {enabled, lastMsgIndex: the remembered index}. Differences, chosen by the
// scenario through Behavior: enabled is Behavior.CanHibernate (the test
// runner always says true; rivetkit decides by path, actor-driver.ts:147-270);
// only hibernatable actors ack and persist, AckDelay after the message; only
// text messages are echoed, as "echo:<data>" (the test runner sends
// "Echo: <data>" for every message); and the remembered indices live in a
// Store shared by all runners, standing in for rivetkit's persisted
// hibernatableWebSocket entries (rivetkit/src/actor/instance.ts:1572-1619),
// so they survive the actor moving to another runner. Entries are never
// deleted, as in the test runner's map.

// WSEvent kinds.
const (
	// WSOpen: the runner sent ToServerWebSocketOpen and opened the adapter.
	// Index is the lastMsgIndex sent (-1: none); CanHibernate is set.
	WSOpen = "open"
	// WSMessage: the actor's handler received a client message: Data,
	// Binary and Index (rivetMessageIndex).
	WSMessage = "message"
	// WSAck: the actor persisted Index as its lastMsgIndex and acked it
	// (ToServerWebSocketMessageAck).
	WSAck = "ack"
	// WSCloseSent: the runner sent ToServerWebSocketClose{Code, Reason,
	// Retry}. Code 0 means none. Actor not found and Not Implemented closes
	// are included (Generation 0 for an unknown actor).
	WSCloseSent = "close_sent"
	// WSCloseReceived: the gateway's ToClientWebSocketClose arrived (Code
	// 0: none). NoAdapter: no adapter was registered for the id any more
	// (the runner had closed it, or it never opened), so nothing fired;
	// Actor and Generation are then those the id was last opened for on
	// this runner, if any.
	WSCloseReceived = "close_received"
	// WSOrphaned: an open with the same request id replaced the adapter in
	// #actorWebSockets (TUN:549, spec (i).20). Actor and Generation are the
	// old adapter's; it stays open and is never closed by the runner.
	WSOrphaned = "orphaned"
	// WSRestored: the runner restored a hibernating socket as the actor
	// started (runner_restores_hibernating); Index is the persisted index.
	WSRestored = "restored"
)

// WSEvent records one WebSocket event at the runner, for tests and the
// oracle. Dropped means the message was not sent because the engine
// connection was not ready (TUN:70-75); NoAdapter is for close_received.
type WSEvent struct {
	At           sim.Time
	Actor        model.ActorID
	Generation   model.Generation
	Request      model.RequestID
	Kind         string
	Data         string
	Binary       bool
	Index        int
	CanHibernate bool
	Code         uint16
	Reason       string
	Retry        bool
	Dropped      bool
	NoAdapter    bool
}

// WebSocketEvents lists the runner's WebSocket events, in order.
func (r *Runner) WebSocketEvents() []WSEvent { return slices.Clone(r.wsEvents) }

func (r *Runner) recordWS(ev WSEvent) {
	ev.At = r.w.Now()
	r.wsEvents = append(r.wsEvents, ev)
}

// Store is the actors' persisted hibernation state: lastMsgIndex per actor
// and WebSocket request id. One Store is shared by every runner of a world,
// as actor storage outlives the runner that hosts the actor.
type Store struct {
	lastMsgIndex map[model.ActorID]map[model.RequestID]int64
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{lastMsgIndex: map[model.ActorID]map[model.RequestID]int64{}}
}

// LastMsgIndex returns the persisted lastMsgIndex of the actor's socket.
func (s *Store) LastMsgIndex(actor model.ActorID, rid model.RequestID) (int64, bool) {
	idx, ok := s.lastMsgIndex[actor][rid]
	return idx, ok
}

func (s *Store) setLastMsgIndex(actor model.ActorID, rid model.RequestID, idx int64) {
	m := s.lastMsgIndex[actor]
	if m == nil {
		m = map[model.RequestID]int64{}
		s.lastMsgIndex[actor] = m
	}
	m[rid] = idx
}

// Requests lists the actor's persisted sockets, sorted.
func (s *Store) Requests(actor model.ActorID) []model.RequestID {
	return sim.SortedKeys(s.lastMsgIndex[actor])
}

func (s *Store) forget(actor model.ActorID, rid model.RequestID) { delete(s.lastMsgIndex[actor], rid) }

// Store returns the store the runner persists hibernation state in.
func (r *Runner) Store() *Store { return r.store }

// hibernationConfig is HibernationConfig (RUN:71-74); lastMsgIndex nil is
// undefined.
type hibernationConfig struct {
	enabled      bool
	lastMsgIndex *int64
}

var (
	errHibernationConfig = errors.New("getActorHibernationConfig threw")
	errWebSocketHandler  = errors.New("websocket handler threw")
)

// getActorHibernationConfig is config.getActorHibernationConfig (RUN:67):
// {enabled: CanHibernate, lastMsgIndex: the persisted index or undefined}.
// WSThrow makes it throw (errata E16).
func (r *Runner) getActorHibernationConfig(actorID model.ActorID, rid model.RequestID, b Behavior) (hibernationConfig, error) {
	if b.WSThrow {
		r.trace("runner.ws_hibernation_config_throw", sim.Str("actor", actorID), sim.ID("rid", rid))
		return hibernationConfig{}, errHibernationConfig
	}
	cfg := hibernationConfig{enabled: b.CanHibernate}
	if idx, ok := r.store.LastMsgIndex(actorID, rid); ok {
		cfg.lastMsgIndex = &idx
	}
	return cfg, nil
}

// websocketHandler is config.websocket (RUN:54-60), called after the adapter
// opened (TUN:587-594). WSHandlerThrow makes it throw before it registers
// any listener. Otherwise it registers a message listener (record, echo a
// text message, and for a hibernatable actor persist and ack the index
// AckDelay later) and a close listener, then resolves.
func (r *Runner) websocketHandler(actorID model.ActorID, ws *webSocketAdapter, rid model.RequestID, b Behavior) error {
	gen := ws.actor.generation
	if b.WSHandlerThrow {
		r.trace("runner.ws_handler_throw", sim.Str("actor", actorID), sim.Int("gen", int64(gen)), sim.ID("rid", rid))
		return errWebSocketHandler
	}
	ws.addEventListener(wsEventMessage, func(ev wsEvent) {
		r.recordWS(WSEvent{Actor: actorID, Generation: gen, Request: rid, Kind: WSMessage,
			Data: ev.data, Binary: ev.binary, Index: int(ev.index)})
		r.app(model.AppEvent{Actor: actorID, Generation: gen, Kind: model.AppWSMessage, Request: rid, Data: ev.data})
		r.trace("runner.ws_message", sim.Str("actor", actorID), sim.Int("gen", int64(gen)), sim.ID("rid", rid),
			sim.Int("idx", int(ev.index)), sim.Str("data", ev.data), sim.Bool("binary", ev.binary))
		if !ev.binary {
			if err := ws.send("echo:"+ev.data, false); err != nil {
				r.trace("runner.ws_send_error", sim.ID("rid", rid), sim.Str("err", err.Error()))
			}
		}
		if !b.CanHibernate {
			return // non-hibernatable actors never ack
		}
		idx := ev.index
		r.after(b.AckDelay, func() {
			// A plain timer of the actor's process: it fires even if the
			// socket or the actor instance is gone by then.
			r.store.setLastMsgIndex(actorID, rid, int64(idx))
			r.trace("runner.ws_persist", sim.Str("actor", actorID), sim.Int("gen", int64(gen)), sim.ID("rid", rid), sim.Int("idx", int(idx)))
			sent := r.sendWebsocketMessageAck(rid, idx)
			r.recordWS(WSEvent{Actor: actorID, Generation: gen, Request: rid, Kind: WSAck,
				Index: int(idx), Dropped: !sent})
		})
	})
	ws.addEventListener(wsEventClose, func(ev wsEvent) {
		r.trace("runner.ws_actor_close", sim.Str("actor", actorID), sim.Int("gen", int64(gen)), sim.ID("rid", rid),
			sim.Int("code", int(ev.code)), sim.Str("reason", ev.reason), sim.Bool("clean", ev.wasClean))
		r.app(model.AppEvent{Actor: actorID, Generation: gen, Kind: model.AppWSClose, Request: rid, Code: ev.code, Reason: ev.reason})
	})
	r.app(model.AppEvent{Actor: actorID, Generation: gen, Kind: model.AppWSOpen, Request: rid})
	return nil
}

// sendWebsocketMessageAck (RUN:1374-1376).
func (r *Runner) sendWebsocketMessageAck(rid model.RequestID, index uint16) bool {
	return r.tunnel.ackWebsocketMessage(rid, index)
}
