package properties

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/runner"
	"github.com/guardsim/guardsim/sim"
)

// servedBy parses the default body of the runner's user handler.
func servedBy(body string) (runner string, gen int, ok bool) {
	for _, f := range strings.Fields(body) {
		if v, found := strings.CutPrefix(f, "runner="); found {
			runner, ok = v, true
		}
		if v, found := strings.CutPrefix(f, "gen="); found {
			gen, _ = strconv.Atoi(v)
		}
	}
	return runner, gen, ok
}

// errorCode parses Guard's JSON error body: "group.code".
func errorCode(body string) string {
	var e struct{ Group, Code string }
	if json.Unmarshal([]byte(body), &e) != nil || e.Group == "" {
		return ""
	}
	return e.Group + "." + e.Code
}

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

// splitOp splits key=value, key<=value, key>=value and key~=value.
func splitOp(a string) (key, op, want string, ok bool) {
	for _, o := range []string{"<=", ">=", "~=", "="} {
		if k, v, found := strings.Cut(a, o); found {
			return k, o, v, true
		}
	}
	return "", "", "", false
}

// check evaluates one key=value (or key<=value, key>=value) against req.
func (r *scriptRun) check(req *HTTPRequest, a string) error {
	key, op, want, ok := splitOp(a)
	if !ok {
		return r.errf("expect: %q, expected key=value", a)
	}
	resp, log := req.Response, req.Log
	num := func(got int) error {
		n, err := strconv.Atoi(want)
		if err != nil {
			return r.errf("expect %s: %q is not a number", key, want)
		}
		if !cmpOp(op, int64(got), int64(n)) {
			return r.fail("expect %s %s: %s %s %d, got %d", req.Name, a, key, op, n, got)
		}
		return nil
	}
	dur := func(got sim.Time) error {
		d, err := parseDur(want)
		if err != nil {
			return r.errf("expect %s: %v", key, err)
		}
		if !cmpOp(op, int64(got), int64(d)) {
			return r.fail("expect %s %s: got %s", req.Name, a, got)
		}
		return nil
	}
	str := func(got string) error {
		if (op == "~=" && !strings.Contains(got, want)) || (op == "=" && got != want) {
			return r.fail("expect %s %s: got %q", req.Name, a, got)
		}
		return nil
	}
	switch {
	case key == "status":
		return num(resp.Status)
	case key == "code":
		return str(errorCode(resp.Body))
	case key == "body":
		return str(resp.Body)
	case key == "header":
		h, v, _ := strings.Cut(want, ":")
		if got, ok := resp.Headers[h]; !ok || (v != "" && got != v) {
			return r.fail("expect %s header %s: got %q (present %t)", req.Name, want, got, ok)
		}
		return nil
	case key == "no_header":
		if got, ok := resp.Headers[want]; ok {
			return r.fail("expect %s no_header=%s: present with %q", req.Name, want, got)
		}
		return nil
	case key == "attempts":
		return num(len(log.Attempts))
	case key == "routing":
		return num(log.RoutingCalls)
	case key == "served_by":
		rn, _, _ := servedBy(resp.Body)
		return str(rn)
	case key == "gen":
		_, g, _ := servedBy(resp.Body)
		return num(g)
	case key == "latency":
		return dur(log.Done - req.Issued)
	case key == "backoffs":
		parts := make([]string, len(log.Backoffs))
		for i, b := range log.Backoffs {
			parts[i] = fmt.Sprint(b.Millis()) + "ms"
		}
		return str(strings.Join(parts, ","))
	case strings.HasPrefix(key, "gap"):
		// gapN: from the end of attempt N-1 to the start of attempt N.
		n, err := strconv.Atoi(strings.TrimPrefix(key, "gap"))
		if err != nil || n < 2 {
			return r.errf("expect: %q, expected gapN with N >= 2", key)
		}
		if len(log.Attempts) < n {
			return r.fail("expect %s %s: only %d attempts", req.Name, a, len(log.Attempts))
		}
		return dur(log.Attempts[n-1].Start - log.Attempts[n-2].End)
	}
	return r.errf("expect: unknown key %q (want status, code, body, header, no_header, attempts, routing, served_by, gen, latency, backoffs, gapN, pending)", key)
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
	if len(pos) != 1 || last(kv["actor"]) == "" {
		return r.errf("expect_runner: expected 'expect_runner RUNNER actor=ACTOR key=N ...'")
	}
	rn, err := r.runner(pos[0])
	if err != nil {
		return err
	}
	a := model.ActorID(last(kv["actor"]))
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
		v := last(kv[k])
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
	if v, ok := kv["ws_received"]; ok {
		checked = true
		if got := strings.Join(received, ","); got != last(v) {
			return r.fail("expect_runner %s actor=%s ws_received=%s: got %q", pos[0], a, last(v), got)
		}
	}
	if !checked {
		return r.errf("expect_runner: expected one of handler_runs, stop_calls, answers, ws_opens, ws_received, ws_closes_sent, ws_closes_received, ws_acks")
	}
	return nil
}

// checkWS evaluates one expectation on a client WebSocket.
func (r *scriptRun) checkWS(c *WSClient, a string) error {
	key, op, want, ok := splitOp(a)
	if !ok {
		return r.errf("expect: %q, expected key=value", a)
	}
	fail := func(got any) error { return r.fail("expect %s %s: got %v", c.Name, a, got) }
	num := func(got int) error {
		n, err := strconv.Atoi(want)
		if err != nil {
			return r.errf("expect %s: %q is not a number", key, want)
		}
		if !cmpOp(op, int64(got), int64(n)) {
			return fail(got)
		}
		return nil
	}
	boolean := func(got bool) error {
		if want != "true" && want != "false" {
			return r.errf("expect %s: %q, expected true or false", key, want)
		}
		if got != (want == "true") {
			return fail(got)
		}
		return nil
	}
	str := func(got string) error {
		if (op == "~=" && !strings.Contains(got, want)) || (op == "=" && got != want) {
			return fail(fmt.Sprintf("%q", got))
		}
		return nil
	}
	dur := func(got sim.Time) error {
		d, err := parseDur(want)
		if err != nil {
			return r.errf("expect %s: %v", key, err)
		}
		if !cmpOp(op, int64(got), int64(d)) {
			return fail(got)
		}
		return nil
	}
	log := c.Log
	switch {
	case key == "upgraded":
		return boolean(c.Upgraded)
	case key == "protocol":
		return str(c.Protocol)
	case key == "opened":
		return boolean(c.Opened())
	case key == "opens":
		return num(len(log.Attempts))
	case key == "reconnects":
		return num(log.Reconnects)
	case key == "routing":
		return num(log.RoutingCalls)
	case key == "request_ids":
		ids := map[model.RequestID]bool{}
		for _, at := range log.Attempts {
			ids[at.Request] = true
		}
		return num(len(ids))
	case key == "closed":
		return boolean(c.Closed)
	case key == "close_code":
		return num(int(c.CloseCode))
	case key == "close_reason":
		return str(c.CloseReason)
	case key == "closed_at":
		if !c.Closed {
			return fail("still open")
		}
		return dur(c.ClosedAt)
	case key == "received":
		return str(strings.Join(c.Received, ","))
	case key == "backoffs":
		parts := make([]string, len(log.Backoffs))
		for i, b := range log.Backoffs {
			parts[i] = fmt.Sprint(b.Millis()) + "ms"
		}
		return str(strings.Join(parts, ","))
	case strings.HasPrefix(key, "open_at"):
		// open_atN: when attempt N started, relative to the client's open.
		n, err := strconv.Atoi(strings.TrimPrefix(key, "open_at"))
		if err != nil || n < 1 {
			return r.errf("expect: %q, expected open_atN with N >= 1", key)
		}
		if len(log.Attempts) < n {
			return fail(fmt.Sprintf("only %d opens", len(log.Attempts)))
		}
		return dur(log.Attempts[n-1].Start - c.Issued)
	}
	return r.errf("expect: unknown WebSocket key %q (want upgraded, protocol, opened, opens, reconnects, routing, request_ids, closed, close_code, close_reason, closed_at, received, backoffs, open_atN)", key)
}
