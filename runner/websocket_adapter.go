package runner

import (
	"errors"
	"strconv"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// readyState values of WebSocketTunnelAdapter (WSA:515-519).
const (
	wsConnecting = 0 // CONNECTING, WSA:516
	wsOpen       = 1 // OPEN, WSA:517
	wsClosing    = 2 // CLOSING, WSA:518
	wsClosed     = 3 // CLOSED, WSA:519
)

// Event types of the adapter (WSA:259-339).
const (
	wsEventOpen    = "open"
	wsEventMessage = "message"
	wsEventClose   = "close"
	wsEventError   = "error"
)

// errWebSocketNotOpen is what send throws unless the adapter is OPEN
// (WSA:120-124).
var errWebSocketNotOpen = errors.New("WebSocket is not open")

// wsEvent is the event object the adapter hands to its listeners
// (WSA:212-218, 429-433, 472-478, 493-500, 506-510, 543-549).
type wsEvent struct {
	typ string
	// rivetRequestId (open, message, and a close from the gateway).
	requestID model.RequestID
	// message: data, binary, rivetMessageIndex.
	data   string
	binary bool
	index  uint16
	// close: code (`code || 1000`), reason (`reason || ""`), wasClean.
	code     uint16
	reason   string
	wasClean bool
}

// webSocketAdapter is WebSocketTunnelAdapter (WSA:6-553): the WebSocket-like
// object the actor's websocket handler gets. It sends through the tunnel by
// its two callbacks, which the tunnel builds per socket (TUN:509-546).
//
// Ported: readyState, send, close, __closeWithRetry, closeInner, terminate,
// addEventListener with the buffering of events fired before any listener
// (WSA:22-26, 335-338, 341-418), _handleOpen, _handleMessage and
// _handleClose. Not ported: the onX properties (the handler here uses
// addEventListener, as the SDK's test runner does), removeEventListener
// (Go funcs are not comparable; upstream's listener Set also dedups
// identical functions), binaryType conversions (data stays a string; the
// binary flag is kept), ping/pong, dispatchEvent and _handleError (which
// the tunnel never calls).
type webSocketAdapter struct {
	// #webSocketId (WSA:7): the tunnel request id.
	webSocketID model.RequestID
	readyState  int // #readyState, WSA:8

	// #eventListeners (WSA:9), read by key only. Listeners of one type run
	// in the order they were added, as a JS Set iterates.
	eventListeners map[string][]func(wsEvent)
	// #bufferedEvents (WSA:23-26): fired while no listener of the type was
	// registered.
	bufferedEvents []wsEvent

	sendCallback  func(data string, isBinary bool)              // WSA:19
	closeCallback func(code *uint16, reason string, retry bool) // WSA:20

	// hibernatable: opened with canHibernate (HIBERNATABLE_SYMBOL,
	// TUN@2e22a2e61); lastIndex is the last message index it took
	// (serverMessageIndex), checked through runner_validates_ws_index.
	hibernatable bool
	lastIndex    uint16

	// Simulation bookkeeping, not upstream: the actor instance the tunnel
	// opened the socket for (the close callback captures it, TUN:542-544)
	// and the owning runner, for the trace.
	actor *actorInstance
	r     *Runner
}

func newWebSocketAdapter(r *Runner, id model.RequestID, actor *actorInstance,
	sendCallback func(data string, isBinary bool),
	closeCallback func(code *uint16, reason string, retry bool)) *webSocketAdapter {
	return &webSocketAdapter{
		webSocketID:    id,
		readyState:     wsConnecting,
		eventListeners: map[string][]func(wsEvent){},
		sendCallback:   sendCallback,
		closeCallback:  closeCallback,
		actor:          actor,
		r:              r,
	}
}

// send (WSA:120-186): throws unless OPEN, then hands the data to the send
// callback.
func (a *webSocketAdapter) send(data string, isBinary bool) error {
	if a.readyState != wsOpen {
		return errWebSocketNotOpen
	}
	a.sendCallback(data, isBinary)
	return nil
}

// close (WSA:188-190): a close with retry=false.
func (a *webSocketAdapter) close(code *uint16, reason string) {
	a.closeInner(code, reason, false)
}

// closeWithRetry is __closeWithRetry (WSA:192-194): a close with retry=true.
func (a *webSocketAdapter) closeWithRetry(code *uint16, reason string) {
	a.closeInner(code, reason, true)
}

// closeWithoutCallback is __closeWithoutCallback (WSA@3d4e089d6:200-202):
// the local close only, nothing sent through the tunnel.
func (a *webSocketAdapter) closeWithoutCallback(code *uint16, reason string) {
	a.closeInnerCb(code, reason, false, false)
}

// closeInner (WSA:196-221): nothing unless CONNECTING or OPEN; otherwise
// CLOSING, the close callback (which sends ToServerWebSocketClose and
// untracks the socket), CLOSED, then the close event.
func (a *webSocketAdapter) closeInner(code *uint16, reason string, retry bool) {
	a.closeInnerCb(code, reason, retry, true)
}

func (a *webSocketAdapter) closeInnerCb(code *uint16, reason string, retry, callback bool) {
	if a.readyState == wsClosing || a.readyState == wsClosed { // WSA:197-202
		a.r.trace("runner.ws_close_noop", sim.ID("rid", a.webSocketID), sim.Int("state", a.readyState), sim.Str("reason", reason))
		return
	}
	a.readyState = wsClosing
	if callback {
		a.closeCallback(code, reason, retry)
	}
	a.readyState = wsClosed
	a.fireEvent(wsEvent{typ: wsEventClose, code: codeOr1000(code), reason: reason, wasClean: true})
}

// terminate (WSA:538-552): CLOSED at once and a 1006 "Abnormal Closure"
// close through the callback, retry left at its default false. Unlike
// closeInner it has no state guard: terminating a closed adapter sends a
// second close (WSA:540-541).
func (a *webSocketAdapter) terminate() {
	a.r.trace("runner.ws_terminate", sim.ID("rid", a.webSocketID), sim.Int("state", a.readyState))
	a.readyState = wsClosed
	a.closeCallback(model.Code(model.CloseAbnormal), "Abnormal Closure", false)
	a.fireEvent(wsEvent{typ: wsEventClose, code: model.CloseAbnormal, reason: "Abnormal Closure", wasClean: false})
}

// addEventListener (WSA:223-239): register, then flush the events of that
// type buffered while nobody listened.
func (a *webSocketAdapter) addEventListener(typ string, listener func(wsEvent)) {
	a.eventListeners[typ] = append(a.eventListeners[typ], listener)
	a.flushBufferedEvents(typ)
}

// fireEvent (#fireEvent, WSA:259-339): call the listeners of the type; with
// none, buffer the event. Listener exceptions are caught and logged
// upstream; the listeners here do not throw.
func (a *webSocketAdapter) fireEvent(ev wsEvent) {
	listeners := a.eventListeners[ev.typ]
	if len(listeners) == 0 { // WSA:335-338
		a.bufferedEvents = append(a.bufferedEvents, ev)
		a.r.trace("runner.ws_event_buffered", sim.ID("rid", a.webSocketID), sim.Str("type", ev.typ), sim.Int("buffered", len(a.bufferedEvents)))
		return
	}
	for _, l := range listeners {
		l(ev)
	}
}

// flushBufferedEvents (#flushBufferedEvents, WSA:341-418).
func (a *webSocketAdapter) flushBufferedEvents(typ string) {
	var flush, keep []wsEvent
	for _, ev := range a.bufferedEvents {
		if ev.typ == typ {
			flush = append(flush, ev)
		} else {
			keep = append(keep, ev)
		}
	}
	a.bufferedEvents = keep
	for _, ev := range flush {
		a.r.trace("runner.ws_event_flushed", sim.ID("rid", a.webSocketID), sim.Str("type", ev.typ))
		for _, l := range a.eventListeners[typ] {
			l(ev)
		}
	}
}

// handleOpen is _handleOpen (WSA:421-436): CONNECTING → OPEN, open event.
func (a *webSocketAdapter) handleOpen(requestID model.RequestID) {
	if a.readyState != wsConnecting {
		return
	}
	a.readyState = wsOpen
	a.fireEvent(wsEvent{typ: wsEventOpen, requestID: requestID})
}

// handleMessage is _handleMessage (WSA:438-483). It drops the message unless
// OPEN and returns true then ("not sent off"). The index is NOT checked
// against anything: no duplicate or out-of-order filtering happens here;
// it is only passed on to the listeners as rivetMessageIndex (WSA:476).
func (a *webSocketAdapter) handleMessage(requestID model.RequestID, data string, index uint16, isBinary bool) bool {
	if a.readyState != wsOpen { // WSA:440-443
		a.r.trace("runner.ws_message_dropped", sim.ID("rid", requestID), sim.Int("idx", int(index)), sim.Int("state", a.readyState))
		return true
	}
	a.fireEvent(wsEvent{typ: wsEventMessage, requestID: requestID, data: data, binary: isBinary, index: index})
	return false
}

// handleClose is _handleClose (WSA:485-503): unless already CLOSED, CLOSED
// and a close event. Nothing is sent through the tunnel: the close callback
// is not called, so the socket id stays in actor.webSockets (errata E18).
func (a *webSocketAdapter) handleClose(requestID model.RequestID, code *uint16, reason string) {
	if a.readyState == wsClosed {
		return
	}
	a.readyState = wsClosed
	a.fireEvent(wsEvent{typ: wsEventClose, requestID: requestID, code: codeOr1000(code), reason: reason, wasClean: true})
}

// codeOr1000 is the close event's `code || 1000` (WSA:214, 496).
func codeOr1000(code *uint16) uint16 {
	if code == nil || *code == 0 {
		return model.CloseNormal
	}
	return *code
}

// codeString renders an optional close code for the trace.
func codeString(code *uint16) string {
	if code == nil {
		return "none"
	}
	return strconv.Itoa(int(*code))
}
