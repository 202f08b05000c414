package guard

import (
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// The WebSocket Target path (PS:1239-1812, spec (i).15): a WebSocket for an
// actor of a peer datacenter is proxied to that datacenter's guard, frame
// by frame, over one upstream WebSocket per client socket.

// WSConnectTimeout bounds one upstream connect attempt (PS:1346-1348).
const WSConnectTimeout = 5 * sim.Second

// Messages of the upstream WebSocket, over a sim connection with the
// target node.
type (
	// UpstreamWSOpen is the upgrade request.
	UpstreamWSOpen struct{ Request *Request }
	// UpstreamWSAccepted is the upstream's 101.
	UpstreamWSAccepted struct{}
	// UpstreamWSFrame is one frame, either way: data, or a close frame
	// (Code nil for an empty one).
	UpstreamWSFrame struct {
		Data   string
		Binary bool
		Close  bool
		Code   *uint16
		Reason string
	}
)

func (m *UpstreamWSOpen) TraceTo(e *sim.Enc) {
	e.Lit("UpstreamWSOpen{")
	e.Str(m.Request.Path)
	e.Lit("}")
}

func (*UpstreamWSAccepted) TraceTo(e *sim.Enc) { e.Lit("UpstreamWSAccepted{}") }

func (m *UpstreamWSFrame) TraceTo(e *sim.Enc) {
	e.Lit("UpstreamWSFrame{")
	switch {
	case !m.Close:
		e.Str(m.Data)
	case m.Code == nil:
		e.Lit("close")
	default:
		e.Lit("close ")
		e.Uint(uint64(*m.Code))
		e.Lit(" ")
		e.Str(m.Reason)
	}
	e.Lit("}")
}

func (m *UpstreamWSOpen) String() string     { return sim.Render(m) }
func (m *UpstreamWSAccepted) String() string { return sim.Render(m) }
func (m *UpstreamWSFrame) String() string    { return sim.Render(m) }

// wsTargetLoop is the Target WebSocket task (PS:1239-1812). The client has
// its 101 already; the 30 s wait for the client's upgrade (PS:1254-1271)
// is immediate here. Guard's production middleware applies: the target
// carries an actor id (GMW:24-39), so 7 connect attempts at 150 ms.
func (g *Guard) wsTargetLoop(req *Request, h *WebSocketHandle, t *routeTarget) {
	log := h.log
	maxAttempts, initial := targetRetry(t)
	attempts := 0
	var attempt func()
	attempt = func() {
		attempts++
		log.Attempts = append(log.Attempts, Attempt{Target: t.Host, Start: g.w.Now()})
		n := len(log.Attempts) - 1
		g.connectUpstreamWS(req, t, func(c *sim.End, why string) {
			att := &log.Attempts[n]
			att.End = g.w.Now()
			if c != nil { // PS:1346-1388: connected
				att.Result, att.Opened = "connected", true
				g.trace("guard.ws_target_connected", sim.Str("ray", log.Ray), sim.Str("target", t.Host), sim.Int("n", attempts))
				g.forwardWS(h, c)
				return
			}
			att.Result, att.Retryable = why, true
			g.trace("guard.ws_target_attempt", sim.Str("ray", log.Ray), sim.Int("n", attempts), sim.Str("target", t.Host), sim.Str("result", why))
			if attempts >= maxAttempts { // PS:1391-1435
				f := errToCloseFrame(errRetryAttemptsExceeded(attempts), log.Ray)
				h.sendClose(&f)
				return
			}
			d := backoff(initial, attempts) // PS:1438-1444
			log.Backoffs = append(log.Backoffs, d)
			g.w.After(d, func() {
				g.resolveRoute(req, log, true, func(res resolved, err error) { // PS:1448-1487
					switch {
					case err != nil: // only logged: the old target is reused
						g.trace("guard.ws_target_routing_error", sim.Str("ray", log.Ray), sim.Str("err", err.Error()))
					case res.target != nil:
						t = res.target
					case res.response != nil:
						h.sendClose(&closeFrame{model.CloseError, res.response.Message})
						return
					default:
						f := errToCloseFrame(errTargetChanged(), log.Ray)
						h.sendClose(&f)
						return
					}
					attempt()
				})
			})
		})
	}
	attempt()
}

// connectUpstreamWS dials the target and sends the upgrade; done gets the
// connection once the upstream answered 101, or why it failed (refused,
// closed, or the 5 s timeout).
func (g *Guard) connectUpstreamWS(req *Request, t *routeTarget, done func(*sim.End, string)) {
	finished := false
	var timer sim.Timer
	c := g.w.Net().Dial(g.node, t.Host)
	fail := func(why string) {
		if finished {
			return
		}
		finished = true
		timer.Stop()
		if c.Open() {
			c.Close()
		}
		done(nil, why)
	}
	c.Handle(func(msg any) {
		if _, ok := msg.(*UpstreamWSAccepted); ok && !finished {
			finished = true
			timer.Stop()
			done(c, "") // forwardWS takes over the connection's handlers
		}
	}, func(why sim.CloseReason) { fail("connect " + why.String()) })
	fwd := *req
	fwd.Path = t.Path
	fwd.Headers = req.Headers.Clone() // every header but Host (errata E1)
	c.Send(&UpstreamWSOpen{Request: &fwd})
	timer = g.w.After(WSConnectTimeout, func() { fail("connect timeout") })
}

// forwardWS forwards frames both ways until either side ends (PS:1507-1808):
// a close frame passes through with its code and reason; an end without a
// close frame becomes an empty close (to_hyper_close(None) towards the
// client, 1000 "ws.closed" from aa4fc4cff). Send timeouts (5 s / 2 s) and
// tokio::select!'s random drop of frames read after a shutdown are not
// modelled.
func (g *Guard) forwardWS(h *WebSocketHandle, c *sim.End) {
	done := false
	end := func() {
		done = true
		h.detach()
		if c.Open() {
			c.Close()
		}
	}
	c.Handle(func(msg any) {
		m, ok := msg.(*UpstreamWSFrame)
		if !ok || done {
			return
		}
		if !m.Close {
			h.toClient(m.Data, m.Binary)
			return
		}
		var f *closeFrame
		if m.Code != nil {
			f = &closeFrame{*m.Code, m.Reason}
		}
		h.sendClose(f)
		end()
	}, func(sim.CloseReason) {
		if done {
			return
		}
		h.sendClose(nil)
		end()
	})
	h.attach(func(fr clientFrame) {
		if done {
			return
		}
		switch {
		case fr.end: // the client's stream ended: an empty close upstream
			c.Send(&UpstreamWSFrame{Close: true})
			h.sendClose(nil)
			end()
		case fr.close: // forwarded as is; tungstenite echoes it to the client
			c.Send(&UpstreamWSFrame{Close: true, Code: fr.code, Reason: fr.reason})
			h.sendClose(&closeFrame{derefCode(fr.code), fr.reason})
			end()
		default:
			c.Send(&UpstreamWSFrame{Data: fr.data, Binary: fr.binary})
		}
	})
}
