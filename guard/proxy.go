package guard

import (
	"slices"
	"strings"

	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// retryableGuardCodes are the guard.<code> errors Guard retries from
// 82f5c9d06 (utils.rs@82f5c9d06:221-256).
var retryableGuardCodes = []string{"service_unavailable", "actor_ready_timeout", "actor_stopped_while_waiting",
	"tunnel_request_aborted", "tunnel_message_timeout", "tunnel_response_closed", "gateway_response_start_timeout"}

// shouldRetryInner is true iff the status is exactly 503 and x-rivet-error
// is present, whatever its value (PS:2457-2460); from 82f5c9d06 iff the
// status is 503 or 504 and x-rivet-error is guard.<retryable>.
func shouldRetryInner(q model.Quirks, status int, h model.Headers) bool {
	v, ok := h[model.XRivetError]
	if plant.On(plant.GuardNoRetryRivetError) {
		ok = false
	}
	if plant.On(plant.GuardRetriesPlain503) {
		ok = true
	}
	if !q.Has(model.GuardRetriesAnyXRivetError) && !plant.On(plant.GuardRetriesPlain503) {
		group, code, _ := strings.Cut(v, ".")
		return (status == 503 || status == 504) && ok && group == "guard" && slices.Contains(retryableGuardCodes, code)
	}
	return status == 503 && ok
}

// shouldRetry is should_retry_request (PS:2444-2455): for an error, only
// guard.service_unavailable; from 82f5c9d06 any guard.<retryable>.
func shouldRetry(q model.Quirks, r *Response, err error) bool {
	if err != nil {
		if plant.On(plant.GuardGiveUpUnavailable) {
			return false
		}
		if !q.Has(model.GuardRetriesAnyXRivetError) {
			re, ok := err.(*RivetError)
			return ok && re.Group == "guard" && slices.Contains(retryableGuardCodes, re.Code)
		}
		return Is(err, "guard", "service_unavailable")
	}
	return shouldRetryInner(q, r.Status, r.Headers)
}

// HandleHTTP serves one client HTTP request (process → handle_request →
// handle_http_request, PS:678-1086). done is called once with the response
// the client receives; log is filled as the request runs.
func (g *Guard) HandleHTTP(req *Request, done func(*Response)) *Log {
	log := &Log{Ray: g.newRay()}
	g.trace("guard.http", sim.Str("ray", log.Ray), sim.Str("method", req.Method), sim.Str("path", req.Path))
	reply := func(r *Response) {
		if r.Headers == nil {
			r.Headers = model.Headers{}
		}
		r.Headers[model.XRivetRayID] = log.Ray // PS:2217-2233
		log.Done = g.w.Now()
		g.trace("guard.respond", sim.Str("ray", log.Ray), sim.Int("status", r.Status), sim.Val("resp", r))
		done(r)
	}
	g.resolveRoute(req, log, false, func(res resolved, err error) {
		switch {
		case err != nil: // PS:713: no retry for routing errors
			reply(errIntoResponse(err, log.Ray))
		case res.response != nil: // PS:714-717
			reply(jsonMessage(res.response))
		case res.gateway != nil:
			g.customServeLoop(req, log, res.gateway, reply)
		default:
			g.targetLoop(req, log, res.target, reply)
		}
	})
	return log
}

func jsonMessage(r *staticResponse) *Response {
	return &Response{Status: r.Status, Headers: model.Headers{"content-type": "application/json"},
		Body: `{"message":"` + r.Message + `"}`}
}

// customServeLoop is the CustomServe retry loop (PS:1020-1083): the
// defaults, 3 attempts at 100 ms, and from 8ce69e139 the middleware's 7 at
// 150 ms (retryConfig); no request timeout of its own.
//
// From 6b7ebbb0d one request id serves every attempt (PS@6b7ebbb0d:667-694,
// 1102, 1137); before, the gateway draws one per attempt.
func (g *Guard) customServeLoop(req *Request, log *Log, h *PegboardGateway, reply func(*Response)) {
	attempts := 0
	var sharedID model.RequestID
	if !g.quirks.Has(model.GuardRequestIDPerAttempt) {
		sharedID = g.gw.newRequestID()
	}
	var attempt func()
	attempt = func() {
		configured, _ := g.retryConfig(false)
		maxAttempts := configured
		if plant.On(plant.GuardFourAttempts) {
			maxAttempts++
		}
		if attempts >= maxAttempts { // PS:1079-1083
			reply(errIntoResponse(errRetryAttemptsExceeded(configured), log.Ray))
			return
		}
		attempts++
		log.Attempts = append(log.Attempts, Attempt{Runner: h.runner, Start: g.w.Now()})
		att := &log.Attempts[len(log.Attempts)-1]
		h.handleRequest(req, att, sharedID, func(r *Response, err error) {
			att = &log.Attempts[attempts-1] // log.Attempts may have grown
			att.End = g.w.Now()
			att.Retryable = shouldRetry(g.quirks, r, err)
			att.Result = resultString(r, err)
			g.trace("guard.attempt", sim.Str("ray", log.Ray), sim.Int("n", attempts), sim.ID("rid", att.Request), sim.Str("runner", h.runner), sim.Str("result", att.Result), sim.Bool("retry", att.Retryable))
			if !att.Retryable { // PS:1076
				if err != nil {
					reply(errIntoResponse(err, log.Ray))
				} else {
					reply(r)
				}
				return
			}
			// Sleep and re-resolve, even after the last attempt (spec (i).2).
			_, initial := g.retryConfig(false)
			d := backoff(initial, attempts)
			if plant.On(plant.GuardBackoffConstant) {
				d = initial
			}
			log.Backoffs = append(log.Backoffs, d)
			g.w.After(d, func() {
				if plant.On(plant.GuardRouteTwice) {
					g.resolveRoute(req, log, true, func(resolved, error) {})
				}
				g.resolveRoute(req, log, true, func(res resolved, err error) {
					switch {
					case err != nil: // propagated with ? (PS:1058-1071)
						reply(errIntoResponse(err, log.Ray))
					case res.gateway == nil:
						reply(errIntoResponse(&internalError{"invalid route"}, log.Ray))
					default:
						h = res.gateway
						attempt()
					}
				})
			})
		})
	}
	attempt()
}

func resultString(r *Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return r.String()
}

// Upstream messages for the Target path: a plain HTTP exchange over a sim
// connection with the target node (a peer DC's guard in guardsim).
type (
	// UpstreamRequest is the proxied request.
	UpstreamRequest struct{ Request *Request }
	// UpstreamResponse is the upstream's answer.
	UpstreamResponse struct{ Response *Response }
)

func (m *UpstreamRequest) TraceTo(e *sim.Enc) {
	e.Lit("UpstreamRequest{")
	e.Str(m.Request.Method)
	e.Lit(" ")
	e.Str(m.Request.Path)
	e.Lit("}")
}

func (m *UpstreamResponse) TraceTo(e *sim.Enc) {
	e.Lit("UpstreamResponse{")
	e.Val(m.Response)
	e.Lit("}")
}

func (m *UpstreamRequest) String() string  { return sim.Render(m) }
func (m *UpstreamResponse) String() string { return sim.Render(m) }

// targetRetry is the retry config of a Target route: Guard's production
// middleware when the target carries an actor id (GMW:24-39, PS:1169-1188),
// else the defaults.
func targetRetry(t *routeTarget) (maxAttempts int, initial sim.Time) {
	if t.Actor != "" {
		return MiddlewareMaxAttempts, MiddlewareInitialInterval
	}
	return DefaultMaxAttempts, DefaultInitialInterval
}

// targetLoop is the Target retry loop (PS:807-1019). Guard's production
// middleware applies because the target carries an actor id (GMW:24-39).
func (g *Guard) targetLoop(req *Request, log *Log, t *routeTarget, reply func(*Response)) {
	maxAttempts, initial := targetRetry(t)
	attempts := 0
	var attempt func()
	attempt = func() {
		if attempts >= maxAttempts { // PS:1015-1019
			reply(errIntoResponse(errRetryAttemptsExceeded(maxAttempts), log.Ray))
			return
		}
		attempts++
		log.Attempts = append(log.Attempts, Attempt{Target: t.Host, Start: g.w.Now()})
		n := len(log.Attempts) - 1
		g.sendUpstream(req, t, func(r *Response, connectErr bool, err error) {
			att := &log.Attempts[n]
			att.End = g.w.Now()
			reresolve := func() {
				d := backoff(initial, attempts)
				log.Backoffs = append(log.Backoffs, d)
				g.w.After(d, func() {
					g.resolveRoute(req, log, true, func(res resolved, err error) {
						switch {
						case err != nil:
							reply(errIntoResponse(err, log.Ray))
						case res.target == nil: // PS:931
							reply(errIntoResponse(&internalError{"invalid route"}, log.Ray))
						default:
							t = res.target
							attempt()
						}
					})
				})
			}
			switch {
			case err != nil && Is(err, "guard", "request_timeout"): // PS:896-903
				att.Result = err.Error()
				reply(errIntoResponse(err, log.Ray))
			case err != nil && (!connectErr || attempts >= maxAttempts): // PS:971-983
				att.Result = err.Error()
				reply(errIntoResponse(errUpstreamError(), log.Ray))
			case err != nil:
				att.Result, att.Retryable = "connect error", true
				reresolve()
			case shouldRetryInner(g.quirks, r.Status, r.Headers): // PS:908-935, no last-attempt check
				att.Result, att.Retryable = r.String(), true
				reresolve()
			default:
				att.Result = r.String()
				reply(r)
			}
			g.trace("guard.attempt", sim.Str("ray", log.Ray), sim.Int("n", attempts), sim.Str("target", t.Host), sim.Str("result", att.Result), sim.Bool("retry", att.Retryable))
		})
	}
	attempt()
}

// sendUpstream sends req to the target under the request timeout. A dial
// that is refused is a connect error; a connection lost mid-request is
// another transport error.
func (g *Guard) sendUpstream(req *Request, t *routeTarget, done func(r *Response, connectErr bool, err error)) {
	finished := false
	var timer sim.Timer
	var c *sim.End
	finish := func(r *Response, connectErr bool, err error) {
		if finished {
			return
		}
		finished = true
		timer.Stop()
		if c.Open() {
			c.Close()
		}
		done(r, connectErr, err)
	}
	fwd := *req
	fwd.Path = t.Path
	fwd.Headers = req.Headers.Clone() // every header but Host is copied (errata E1)
	c = g.w.Net().Dial(g.node, t.Host)
	c.Handle(func(msg any) {
		if m, ok := msg.(*UpstreamResponse); ok {
			finish(m.Response, false, nil)
		}
	}, func(why sim.CloseReason) {
		finish(nil, why == sim.Refused, &internalError{"upstream " + why.String()})
	})
	c.Send(&UpstreamRequest{Request: &fwd})
	timer = g.w.After(DefaultRequestTimeout, func() { finish(nil, false, errRequestTimeout()) })
}
