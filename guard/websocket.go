package guard

import (
	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/sim"
	"strconv"

	"github.com/guardsim/guardsim/model"
)

// CloseNoStatus is what a client sees for a close frame without a code.
const CloseNoStatus uint16 = 1005

// ClientWebSocket is the client's side of a WebSocket through Guard: what
// Guard sends to it.
type ClientWebSocket interface {
	// Upgraded is the 101 response.
	Upgraded(headers model.Headers)
	// Message is a frame from the actor.
	Message(data string, binary bool)
	// Closed is Guard's close frame (code CloseNoStatus when it has none).
	Closed(code uint16, reason string)
}

// clientFrame is one frame of the client→Guard stream.
type clientFrame struct {
	data   string
	binary bool
	close  bool
	code   *uint16
	reason string
	end    bool // the stream ended without a close frame
}

// WebSocketHandle is Guard's handle on a client WebSocket, shared by every
// attempt (PS:1826-1828). Frames the client sends while no attempt reads
// the stream wait in it, in order, for the next attempt's ws→tunnel task.
type WebSocketHandle struct {
	g      *Guard
	client ClientWebSocket
	log    *Log
	inbox  []clientFrame
	reader func(clientFrame)
	// closed: Guard sent its close; the client's stream is done for Guard.
	closed bool
	// clientDone: the client sent a close or dropped the stream.
	clientDone bool
	// onFrame, while set, hears of each frame queued with no reader: the
	// hibernation wait's peek (4e60a30e9).
	onFrame func()
}

// Send sends a text frame from the client.
func (h *WebSocketHandle) Send(data string) { h.push(clientFrame{data: data}) }

// Close sends the client's close frame.
func (h *WebSocketHandle) Close(code uint16, reason string) {
	h.push(clientFrame{close: true, code: model.Code(code), reason: reason})
}

func (h *WebSocketHandle) push(f clientFrame) {
	if h.clientDone || h.closed {
		return
	}
	if f.close || f.end {
		h.clientDone = true
	}
	h.g.trace("guard.ws_client_frame", sim.Str("ray", h.log.Ray), sim.Str("frame", f.String()))
	h.inbox = append(h.inbox, f)
	h.drain()
	if h.reader == nil && h.onFrame != nil {
		h.onFrame()
	}
}

func (f clientFrame) String() string {
	switch {
	case f.end:
		return "end"
	case f.close:
		return closeFrame{Code: derefCode(f.code), Reason: f.reason}.String()
	}
	return "text:" + f.data
}

func derefCode(c *uint16) uint16 {
	if c == nil {
		return CloseNoStatus
	}
	return *c
}

func (c closeFrame) String() string { return "close:" + strconv.Itoa(int(c.Code)) + ":" + c.Reason }

// drain hands queued frames to the attached reader until it detaches.
func (h *WebSocketHandle) drain() {
	for h.reader != nil && len(h.inbox) > 0 {
		f := h.inbox[0]
		h.inbox = h.inbox[1:]
		h.reader(f)
	}
}

func (h *WebSocketHandle) attach(fn func(clientFrame)) {
	h.reader = fn
	h.drain()
	if h.reader != nil && h.closed && len(h.inbox) == 0 {
		h.reader(clientFrame{end: true}) // Guard already closed: the stream is over
	}
}

func (h *WebSocketHandle) detach() { h.reader = nil }

// toClient forwards an actor frame to the client.
func (h *WebSocketHandle) toClient(data string, binary bool) {
	if h.closed {
		return
	}
	h.client.Message(data, binary)
}

// sendClose sends Guard's close frame; false when the socket is already
// closed, which ends the task silently upstream (ws_handle.send(...)?).
func (h *WebSocketHandle) sendClose(f *closeFrame) bool {
	if h.closed {
		return false
	}
	h.closed = true
	code, reason := CloseNoStatus, "" // an empty close frame (PS@f3105c779:2489-2499)
	switch {
	case f != nil:
		code, reason = f.Code, f.Reason
	case !h.g.quirks.Has(model.GuardEmptyCloseFrame):
		code, reason = model.CloseNormal, "ws.closed" // to_hyper_close(None), PS@aa4fc4cff:2566-2572
	}
	h.g.trace("guard.ws_close", sim.Str("ray", h.log.Ray), sim.Int("code", int(code)), sim.Str("reason", reason))
	h.log.Done = h.g.w.Now()
	h.client.Closed(code, reason)
	return true
}

// isRetryableWS is is_retryable_ws_error (PS:2463-2469).
func isRetryableWS(err error) bool { return Is(err, "guard", "websocket_service_unavailable") }

// isWSRetry is is_ws_retry (PS:2471-2477).
func isWSRetry(err error) bool {
	return Is(err, "guard", "websocket_service_retry") || Is(err, "guard", "websocket_service_hibernate")
}

// HandleWebSocket serves a client WebSocket upgrade (PS:1133-1996,
// 2119-2187). The client always gets a 101 once initial routing returns;
// every later failure reaches it as a close frame. The returned handle is
// the client's way to send frames.
func (g *Guard) HandleWebSocket(req *Request, client ClientWebSocket) (*WebSocketHandle, *Log) {
	log := &Log{Ray: g.newRay()}
	h := &WebSocketHandle{g: g, client: client, log: log}
	g.trace("guard.ws", sim.Str("ray", log.Ray), sim.Str("path", req.Path))
	upgrade := func() {
		g.trace("guard.ws_upgraded", sim.Str("ray", log.Ray))
		h := model.Headers{model.SecWebSocketProtocol: "rivet", model.XRivetRayID: log.Ray}
		if plant.On(plant.GuardNoSubprotocol) {
			delete(h, model.SecWebSocketProtocol)
		}
		client.Upgraded(h)
	}
	g.resolveRoute(req, log, false, func(res resolved, err error) {
		switch {
		case err != nil: // 101, then one close frame, no linger (PS:2119-2187)
			upgrade()
			f := errToCloseFrame(err, log.Ray)
			h.sendClose(&f)
		case res.gateway != nil:
			upgrade()
			g.wsLoop(req, h, res.gateway)
		case res.response != nil:
			upgrade()
			h.sendClose(&closeFrame{model.CloseError, res.response.Message})
		default: // the peer-DC Target path (PS:1239-1812)
			upgrade()
			g.wsTargetLoop(req, h, res.target)
		}
	})
	return h, log
}

// wsLoop is the CustomServe WebSocket retry loop (PS:1814-1974).
func (g *Guard) wsLoop(req *Request, h *WebSocketHandle, handler *PegboardGateway) {
	log := h.log
	id := g.gw.newRequestID() // one request id for every attempt (PS:1823)
	attempts := 0
	hibernationClosed := false // ws_hibernation_close (PS@4e60a30e9:1916-1924)
	afterHibernation := false  // after_hibernation (PS@450d9e5c6:1848-1937)
	linger := func() { g.w.After(g.closeLinger(), func() { g.trace("guard.ws_done", sim.Str("ray", log.Ray)) }) }
	var run func()
	run = func() {
		log.Attempts = append(log.Attempts, Attempt{Runner: handler.runner, Start: g.w.Now()})
		n := len(log.Attempts) - 1
		if plant.On(plant.GuardFreshWSRequestID) {
			id = g.gw.newRequestID()
		}
		handler.handleWebSocket(h, req, id, afterHibernation, &log.Attempts[n], func(frame *closeFrame, err error) {
			att := &log.Attempts[n]
			att.End = g.w.Now()
			if err == nil { // PS:1841-1854
				att.Result = "closed"
				// From aa4fc4cff a failed send of the close is only logged and
				// Guard lingers anyway (PS@aa4fc4cff:1864-1894).
				if h.sendClose(frame) || !g.quirks.Has(model.GuardEmptyCloseFrame) {
					linger()
				}
				return
			}
			att.Result = err.Error()
			wsRetry := isWSRetry(err)
			if wsRetry {
				attempts = 0
				log.Reconnects++
				g.trace("guard.ws_reconnect", sim.Str("ray", log.Ray), sim.ID("rid", id))
			} else {
				attempts++
			}
			att.Retryable = wsRetry || isRetryableWS(err)
			g.trace("guard.ws_attempt", sim.Str("ray", log.Ray), sim.Int("n", n+1), sim.ID("rid", id), sim.Str("result", att.Result), sim.Int("attempts", attempts))
			maxAttempts, initial := g.retryConfig(true)
			if (attempts > maxAttempts && !plant.On(plant.GuardWSNoAttemptCap)) || !att.Retryable { // PS:1868-1890
				f := errToCloseFrame(err, log.Ray)
				if h.sendClose(&f) {
					linger()
				}
				return
			}
			next := func() {
				g.resolveRoute(req, log, true, func(res resolved, err error) {
					switch {
					case err != nil:
						f := errToCloseFrame(err, log.Ray)
						if h.sendClose(&f) {
							linger()
						}
					case res.gateway != nil:
						handler = res.gateway
						run()
					case res.response != nil:
						// No break upstream: the loop runs the old handler again on a
						// closed socket (PS:1920-1932, spec (i).8).
						h.sendClose(&closeFrame{model.CloseError, res.response.Message})
						g.w.After(g.closeLinger(), run)
					default:
						f := errToCloseFrame(errTargetChanged(), log.Ray)
						if h.sendClose(&f) {
							linger()
						}
					}
				})
			}
			if wsRetry {
				if g.quirks.Has(model.GuardWSRetryImmediate) { // reconnect at once (PS:1892)
					next()
					return
				}
				if hibernationClosed { // ensure! (PS@4e60a30e9:1910-1915): an error, the task ends
					g.trace("guard.ws_hibernate_again", sim.Str("ray", log.Ray))
					f := errToCloseFrame(&internalError{"should not be hibernating again after receiving a close frame during hibernation"}, log.Ray)
					if h.sendClose(&f) {
						linger()
					}
					return
				}
				handler.hibernate(h, id, func(close bool, err error) {
					if err != nil { // propagated with ? (PS@3891bf8b6)
						f := errToCloseFrame(err, log.Ray)
						if h.sendClose(&f) {
							linger()
						}
						return
					}
					hibernationClosed = close
					afterHibernation = true // never reset (PS@450d9e5c6:1848, 1937)
					next()
				})
				return
			}
			d := backoff(initial, attempts)
			log.Backoffs = append(log.Backoffs, d)
			g.w.After(d, next)
		})
	}
	run()
}
