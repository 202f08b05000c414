package runner

import (
	"github.com/guardsim/guardsim/internal/plant"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// Content types. A Fetch Response built from a string body gets
// contentTypeText unless its headers name one; #sendResponseError sets
// plain text/plain (TUN:447).
const (
	contentTypeText  = "text/plain;charset=UTF-8"
	contentTypeError = "text/plain"
)

// response is what a fetch handler resolves to: a Fetch Response with a
// string body.
type response struct {
	status  int
	headers model.Headers
	body    string
}

// newResponse is `new Response(body, {status, headers})`: header names are
// lowercased and a string body implies content-type
// text/plain;charset=UTF-8 when none is given.
func newResponse(status int, body string, headers model.Headers) response {
	h := model.Headers{}
	for _, k := range sim.SortedKeys(headers) {
		h[strings.ToLower(k)] = headers[k]
	}
	if _, ok := h["content-type"]; !ok {
		h["content-type"] = contentTypeText
	}
	return response{status: status, headers: h, body: body}
}

// handleRequestStart (TUN:307-382). The request id joins actor.requests if
// the actor is found; #fetch answers; the id leaves the requests of
// whatever actor instance holds the id by then (finally, TUN:375-381).
// Stream is ignored: the gateway always sends stream:false (GW:109-122),
// so the non-streaming branch (TUN:367-371) is the only one ported.
//
// From 2e22a2e61 a request for an actor the runner does not host gets no
// answer at all: "request will leak" (TUN@2e22a2e61:689-697).
func (t *Tunnel) handleRequestStart(rid model.RequestID, req model.RequestStart) {
	actor := t.r.getActor(req.ActorID, nil)
	if actor != nil {
		actor.requests[rid] = struct{}{}
		if !t.r.cfg.Quirks.Has(model.RunnerSendsForUnmappedRequests) {
			t.requestToActor[rid] = actor.actorID
		}
	} else if !t.r.cfg.Quirks.Has(model.RunnerAnswersUnknownActor) {
		t.r.trace("runner.request_leak", sim.Str("actor", req.ActorID), sim.ID("rid", rid))
		return
	}
	t.fetch(req.ActorID, rid, func(res response, threw bool) {
		if threw { // catch, TUN:372-374
			t.sendResponseError(rid, req.ActorID, 500, "Internal Server Error")
		} else {
			t.sendResponse(rid, req.ActorID, res)
		}
		if actor := t.r.getActor(req.ActorID, nil); actor != nil { // finally
			delete(actor.requests, rid)
		}
	})
}

// fetch (#fetch, TUN:210-237). A missing actor gets the SDK's own answer
// and the user handler is not called: 503 + x-rivet-error:
// runner.actor_not_found (TUN:212-223), or 404 under the parent commit
// (TUN@716db379f:212-218). Otherwise the user handler runs per Behavior.
// done is called once, with the response or threw=true.
func (t *Tunnel) fetch(actorID model.ActorID, rid model.RequestID, done func(res response, threw bool)) {
	r := t.r
	actor := r.getActor(actorID, nil)
	r.trace("runner.fetch", sim.Str("actor", actorID), sim.ID("rid", rid), sim.Bool("found", actor != nil))
	if actor == nil {
		if r.cfg.Quirks.Has(model.RunnerNotFound404) {
			done(newResponse(404, "Actor not found", nil), false)
			return
		}
		h := model.Headers{model.XRivetError: model.RunnerActorNotFound}
		if plant.On(plant.RunnerOmitsRivetError) {
			h = nil
		}
		done(newResponse(503, "Actor not found", h), false)
		return
	}

	gen := actor.generation
	b := r.behavior(actorID)
	r.handlerRuns = append(r.handlerRuns, HandlerRun{Actor: actorID, Generation: gen, Request: rid, At: r.w.Now()})
	r.trace("runner.handler", sim.Str("actor", actorID), sim.Int("gen", int64(gen)), sim.ID("rid", rid), sim.Dur("delay", b.Delay))
	if b.NotImplemented { // TUN:232-234
		done(newResponse(501, "Not Implemented", nil), false)
		return
	}
	r.after(b.Delay, func() {
		if b.Throw {
			r.trace("runner.handler_throw", sim.Str("actor", actorID), sim.ID("rid", rid))
			done(response{}, true)
			return
		}
		status := b.Status
		if status == 0 {
			status = 200
		}
		body := b.Body
		if body == "" {
			body = "runner=" + string(r.cfg.ID) + " actor=" + string(actorID) + " gen=" + strconv.FormatInt(int64(gen), 10)
		}
		done(newResponse(status, body, b.Headers), false)
	})
}

// handleRequestAbort (TUN:399-406) only touches #actorPendingRequests,
// which is always empty here.
func (t *Tunnel) handleRequestAbort(rid model.RequestID) {
	t.r.trace("runner.request_abort", sim.ID("rid", rid))
}

// sendResponse (#sendResponse, TUN:408-439): copy the headers, add
// content-length when missing (a string body is never null, TUN:416,
// 425-427), send a non-streaming ResponseStart.
func (t *Tunnel) sendResponse(rid model.RequestID, actorID model.ActorID, res response) {
	h := res.headers.Clone()
	if h == nil {
		h = model.Headers{}
	}
	if _, ok := h["content-length"]; !ok {
		h["content-length"] = strconv.Itoa(len(res.body))
	}
	t.respond(rid, actorID, model.ResponseStart{Status: res.status, Headers: h, Body: res.body, Stream: false})
}

// sendResponseError (#sendResponseError, TUN:441-458): content-type
// text/plain and no content-length.
func (t *Tunnel) sendResponseError(rid model.RequestID, actorID model.ActorID, status int, message string) {
	h := model.Headers{"content-type": contentTypeError}
	t.respond(rid, actorID, model.ResponseStart{Status: status, Headers: h, Body: message, Stream: false})
}

// From 2e22a2e61 the response is sent only if the actor is still loaded;
// until c76f319fe that check is inverted, so no response is ever sent for a
// loaded actor (TUN@2e22a2e61:830, 879; TUN@c76f319fe:807, 857).
func (t *Tunnel) respond(rid model.RequestID, actorID model.ActorID, rs model.ResponseStart) {
	q := t.r.cfg.Quirks
	loaded := t.r.getActor(actorID, nil) != nil
	skip := ""
	switch {
	case q.Has(model.RunnerDropsHTTPResponses) && loaded:
		skip = "actor_loaded"
	case !q.Has(model.RunnerAnswersUnknownActor) && !q.Has(model.RunnerDropsHTTPResponses) && !loaded:
		skip = "actor_not_loaded"
	}
	if skip != "" {
		t.r.answers = append(t.r.answers, Answer{Request: rid, Actor: actorID, Status: rs.Status, At: t.r.w.Now(), Dropped: true})
		t.r.trace("runner.respond_skipped", sim.ID("rid", rid), sim.Str("actor", actorID), sim.Int("status", rs.Status), sim.Str("why", skip))
		delete(t.requestToActor, rid)
		return
	}
	defer delete(t.requestToActor, rid)
	sent := t.sendMessage(rid, rs)
	t.r.answers = append(t.r.answers, Answer{Request: rid, Actor: actorID, Status: rs.Status, At: t.r.w.Now(), Dropped: !sent})
	t.r.trace("runner.respond", sim.ID("rid", rid), sim.Str("actor", actorID), sim.Int("status", rs.Status), sim.Bool("sent", sent))
}
