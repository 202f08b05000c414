package properties

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/guard"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/oracle"
	"github.com/guardsim/guardsim/runner"
	"github.com/guardsim/guardsim/sim"
)

func (r *scriptRun) expect(f []string) error {
	if len(f) < 2 {
		return r.errf("expect: expected 'expect NAME key=value ...'")
	}
	name := f[0]
	if ws := r.w.Socket(name); ws != nil {
		for _, a := range f[1:] {
			if err := r.checkWS(ws, a); err != nil {
				return err
			}
		}
		return nil
	}
	req := r.w.Request(name)
	if req == nil {
		return r.fail("expect: request %q was never issued", name)
	}
	for _, a := range f[1:] {
		if a == "pending" {
			if req.Response != nil {
				return r.fail("expect %s pending: it was answered %s", name, req.Response)
			}
			continue
		}
		if req.Response == nil {
			return r.fail("expect %s: no response yet (did you 'run'?)", name)
		}
		if err := r.check(req, a); err != nil {
			return err
		}
	}
	return nil
}

// expectation is one key=value (or <=, >=, ~=) of an expect line, with the
// comparisons every kind of subject shares.
type expectation struct {
	r             *scriptRun
	subject, arg  string
	key, op, want string
}

func (r *scriptRun) expectation(subject, a string) (*expectation, error) {
	for _, o := range []string{"<=", ">=", "~=", "="} {
		if k, v, found := strings.Cut(a, o); found {
			return &expectation{r, subject, a, k, o, v}, nil
		}
	}
	return nil, r.errf("expect: %q, expected key=value", a)
}

func (e *expectation) fail(got any) error {
	return e.r.fail("expect %s %s: got %v", e.subject, e.arg, got)
}

func (e *expectation) num(got int) error {
	n, err := strconv.Atoi(e.want)
	if err != nil {
		return e.r.errf("expect %s: %q is not a number", e.key, e.want)
	}
	if !cmpOp(e.op, int64(got), int64(n)) {
		return e.fail(got)
	}
	return nil
}

func (e *expectation) dur(got sim.Time) error {
	d, err := parseDur(e.want)
	if err != nil {
		return e.r.errf("expect %s: %v", e.key, err)
	}
	if !cmpOp(e.op, int64(got), int64(d)) {
		return e.fail(got)
	}
	return nil
}

func (e *expectation) str(got string) error {
	if (e.op == "~=" && !strings.Contains(got, e.want)) || (e.op == "=" && got != e.want) {
		return e.fail(fmt.Sprintf("%q", got))
	}
	return nil
}

func (e *expectation) boolean(got bool) error {
	if e.want != "true" && e.want != "false" {
		return e.r.errf("expect %s: %q, expected true or false", e.key, e.want)
	}
	if got != (e.want == "true") {
		return e.fail(got)
	}
	return nil
}

// gap checks gapN: from the end of attempt N-1 to the start of attempt N.
func (e *expectation) gap(attempts []guard.Attempt) error {
	n, err := strconv.Atoi(strings.TrimPrefix(e.key, "gap"))
	if err != nil || n < 2 {
		return e.r.errf("expect: %q, expected gapN with N >= 2", e.key)
	}
	if len(attempts) < n {
		return e.fail(fmt.Sprintf("only %d attempts", len(attempts)))
	}
	return e.dur(attempts[n-1].Start - attempts[n-2].End)
}

// check evaluates one expectation on an HTTP request.
func (r *scriptRun) check(req *HTTPRequest, a string) error {
	e, err := r.expectation(req.Name, a)
	if err != nil {
		return err
	}
	resp, log := req.Response, req.Log
	switch key := e.key; {
	case key == "status":
		return e.num(resp.Status)
	case key == "code":
		return e.str(oracle.ErrorCode(resp.Body))
	case key == "body":
		return e.str(resp.Body)
	case key == "header":
		h, v, _ := strings.Cut(e.want, ":")
		if got, ok := resp.Headers[h]; !ok || (v != "" && got != v) {
			return e.fail(fmt.Sprintf("%q (present %t)", got, ok))
		}
		return nil
	case key == "no_header":
		if got, ok := resp.Headers[e.want]; ok {
			return e.fail(fmt.Sprintf("present with %q", got))
		}
		return nil
	case key == "attempts":
		return e.num(len(log.Attempts))
	case key == "routing":
		return e.num(log.RoutingCalls)
	case key == "served_by":
		rn, _, _ := oracle.ServedBy(resp.Body)
		return e.str(rn)
	case key == "gen":
		_, g, _ := oracle.ServedBy(resp.Body)
		return e.num(g)
	case key == "latency":
		return e.dur(log.Done - req.Issued)
	case key == "backoffs":
		return e.str(durs(log.Backoffs))
	case strings.HasPrefix(key, "gap"):
		return e.gap(log.Attempts)
	}
	return r.errf("expect: unknown key %q (want status, code, body, header, no_header, attempts, routing, served_by, gen, latency, backoffs, gapN, pending)", e.key)
}

func cmpOp(op string, got, want int64) bool {
	switch op {
	case "<=":
		return got <= want
	case ">=":
		return got >= want
	}
	return got == want
}

func (r *scriptRun) expectRunner(f []string) error {
	pos, kv := args(f)
	if len(pos) != 1 || kv.last("actor") == "" {
		return r.errf("expect_runner: expected 'expect_runner RUNNER actor=ACTOR key=N ...'")
	}
	rn, err := r.runner(pos[0])
	if err != nil {
		return err
	}
	a := model.ActorID(kv.last("actor"))
	counts := map[string]int{}
	var received []string
	for _, h := range rn.HandlerRuns() {
		if h.Actor == a {
			counts["handler_runs"]++
		}
	}
	for _, s := range rn.StopCalls() {
		if s.Actor == a {
			counts["stop_calls"]++
		}
	}
	for _, x := range rn.Answers() {
		if x.Actor == a {
			counts["answers"]++
		}
	}
	for _, e := range rn.WebSocketEvents() {
		if e.Actor != a {
			continue
		}
		switch e.Kind {
		case runner.WSOpen:
			counts["ws_opens"]++
		case runner.WSMessage:
			received = append(received, e.Data)
		case runner.WSCloseSent:
			counts["ws_closes_sent"]++
		case runner.WSCloseReceived:
			counts["ws_closes_received"]++
		case runner.WSAck:
			counts["ws_acks"]++
		}
	}
	checked := false
	for _, k := range []string{"handler_runs", "stop_calls", "answers", "ws_opens", "ws_closes_sent", "ws_closes_received", "ws_acks"} {
		v := kv.last(k)
		if v == "" {
			continue
		}
		checked = true
		n, err := strconv.Atoi(v)
		if err != nil {
			return r.errf("expect_runner: %s=%q is not a number", k, v)
		}
		if counts[k] != n {
			return r.fail("expect_runner %s actor=%s %s=%d: got %d", pos[0], a, k, n, counts[k])
		}
	}
	if kv.has("ws_received") {
		checked = true
		if v := kv.last("ws_received"); strings.Join(received, ",") != v {
			return r.fail("expect_runner %s actor=%s ws_received=%s: got %q", pos[0], a, v, strings.Join(received, ","))
		}
	}
	if !checked {
		return r.errf("expect_runner: expected one of handler_runs, stop_calls, answers, ws_opens, ws_received, ws_closes_sent, ws_closes_received, ws_acks")
	}
	return nil
}

// checkWS evaluates one expectation on a client WebSocket.
func (r *scriptRun) checkWS(c *WSClient, a string) error {
	e, err := r.expectation(c.Name, a)
	if err != nil {
		return err
	}
	log := c.Log
	switch key := e.key; {
	case key == "upgraded":
		return e.boolean(c.Upgraded)
	case key == "protocol":
		return e.str(c.Protocol)
	case key == "opened":
		return e.boolean(c.Opened())
	case key == "opens":
		return e.num(len(log.Attempts))
	case key == "reconnects":
		return e.num(log.Reconnects)
	case key == "routing":
		return e.num(log.RoutingCalls)
	case key == "request_ids":
		return e.num(wsRequestIDs(r.w, c))
	case key == "closed":
		return e.boolean(c.Closed)
	case key == "close_code":
		return e.num(int(c.CloseCode))
	case key == "close_reason":
		return e.str(c.CloseReason)
	case key == "closed_at":
		if !c.Closed {
			return e.fail("still open")
		}
		return e.dur(c.ClosedAt)
	case key == "received":
		return e.str(strings.Join(c.Received, ","))
	case key == "backoffs":
		return e.str(durs(log.Backoffs))
	case strings.HasPrefix(key, "open_at"):
		// open_atN: when attempt N started, relative to the client's open.
		n, err := strconv.Atoi(strings.TrimPrefix(key, "open_at"))
		if err != nil || n < 1 {
			return r.errf("expect: %q, expected open_atN with N >= 1", key)
		}
		if len(log.Attempts) < n {
			return e.fail(fmt.Sprintf("only %d opens", len(log.Attempts)))
		}
		return e.dur(log.Attempts[n-1].Start - c.Issued)
	}
	return r.errf("expect: unknown WebSocket key %q (want upgraded, protocol, opened, opens, reconnects, routing, request_ids, closed, close_code, close_reason, closed_at, received, backoffs, open_atN)", e.key)
}

// wsRequestIDs counts the distinct request ids of the socket's opens on the
// wire.
func wsRequestIDs(w *World, c *WSClient) int {
	var ids []model.RequestID
	for _, s := range w.rec.Wire.Starts[c.Name] {
		if s.WS && !slices.Contains(ids, s.Request) {
			ids = append(ids, s.Request)
		}
	}
	return len(ids)
}

func durs(ds []sim.Time) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprint(d.Millis(), "ms")
	}
	return strings.Join(parts, ",")
}
