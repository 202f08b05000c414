package properties

import (
	"github.com/guardsim/guardsim/guard"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

// WSClient is one client WebSocket through Guard and everything the client
// saw: the 101, the actor's frames in order, and Guard's close.
type WSClient struct {
	*record.WS // what the client saw, which the oracle reads
	Handle     *guard.WebSocketHandle
	Log        *guard.Log // Guard's log: for scenario expectations and reports only
	w          *World
}

// wsSink adapts a WSClient to guard.ClientWebSocket.
type wsSink struct{ c *WSClient }

func (s wsSink) Upgraded(h model.Headers) {
	s.c.Upgraded, s.c.Protocol = true, h[model.SecWebSocketProtocol]
	s.c.w.Sim.Trace("client", "client.ws_upgraded", sim.Str("name", s.c.Name), sim.Str("protocol", s.c.Protocol))
}

func (s wsSink) Message(data string, binary bool) {
	s.c.Received = append(s.c.Received, data)
	s.c.w.Sim.Trace("client", "client.ws_message", sim.Str("name", s.c.Name), sim.Str("data", data))
}

func (s wsSink) Closed(code uint16, reason string) {
	s.c.Closed, s.c.CloseCode, s.c.CloseReason, s.c.ClosedAt = true, code, reason, s.c.w.Sim.Now()
	s.c.w.Sim.Trace("client", "client.ws_closed", sim.Str("name", s.c.Name), sim.Int("code", int(code)), sim.Str("reason", reason))
}

// WebSocket opens a client WebSocket to the actor now, routed by the
// rivet_target.actor and rivet_actor.<id> subprotocols.
func (w *World) WebSocket(name string, a model.ActorID, path string) *WSClient {
	c := &WSClient{WS: &record.WS{Name: name, Actor: a, Issued: w.Sim.Now()}, w: w}
	w.Sockets = append(w.Sockets, c)
	w.rec.Sockets = append(w.rec.Sockets, c.WS)
	req := &guard.Request{Method: "GET", Host: "guard.rivet", Path: path, Headers: model.Headers{
		"upgrade": "websocket", model.SecWebSocketProtocol: "rivet, rivet_target.actor, rivet_actor." + string(a), ClientTag: name}}
	w.Sim.Trace("client", "client.ws_open", sim.Str("name", name), sim.Str("actor", a), sim.Str("path", path))
	c.Handle, c.Log = w.Guard.HandleWebSocket(req, wsSink{c})
	return c
}

// Send sends a text frame from the client.
func (c *WSClient) Send(data string) {
	c.w.Sim.Trace("client", "client.ws_send", sim.Str("name", c.Name), sim.Str("data", data))
	if !c.Closed && !c.ClientClosed {
		c.Sent = append(c.Sent, data)
	}
	c.Handle.Send(data)
}

// Close sends the client's close frame.
func (c *WSClient) Close(code uint16, reason string) {
	c.w.Sim.Trace("client", "client.ws_close", sim.Str("name", c.Name), sim.Int("code", int(code)), sim.Str("reason", reason))
	if !c.Closed && !c.ClientClosed {
		c.ClientClosed, c.ClientClosedAt = true, c.w.Sim.Now()
	}
	c.Handle.Close(code, reason)
}

// Opened reports whether any attempt of the socket reached the actor.
func (c *WSClient) Opened() bool {
	for _, a := range c.Log.Attempts {
		if a.Opened {
			return true
		}
	}
	return false
}

// Socket returns the named client WebSocket, or nil.
func (w *World) Socket(name string) *WSClient {
	for _, c := range w.Sockets {
		if c.Name == name {
			return c
		}
	}
	return nil
}
