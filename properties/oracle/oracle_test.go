package oracle

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties/record"
	"github.com/guardsim/guardsim/sim"
)

const ms = sim.Millisecond

// httpRecord is a record of one HTTP request c1 to a1 at the seed profile
// (2 s response wait, per-attempt request ids): reads and starts are the
// wire's routing reads and RequestStart publishes, answers the runner's
// ResponseStarts reaching Guard (status 503 with x-rivet-error when retry).
func httpRecord(reads []sim.Time, starts []sim.Time, answers map[int]sim.Time, retry map[int]bool, answered sim.Time, status int) *record.Record {
	rec := &record.Record{Profile: model.Seed, End: answered + sim.Minute, Wire: record.NewWire()}
	for i, t := range reads {
		rec.Wire.Reads["c1"] = append(rec.Wire.Reads["c1"], record.Read{Sent: t, ID: uint64(i + 1), Actor: "a1"})
	}
	for i, t := range starts {
		rid := model.RequestID(i + 1)
		rec.Wire.Starts["c1"] = append(rec.Wire.Starts["c1"], record.Start{Sent: t, Reached: t + ms, Request: rid, Runner: "r1"})
		if at, ok := answers[i]; ok {
			rs := model.ResponseStart{Status: 200, Body: "runner=r1 actor=a1 gen=1"}
			if retry[i] {
				rs = model.ResponseStart{Status: 503, Headers: model.Headers{model.XRivetError: model.RunnerActorNotFound}, Body: "Actor not found"}
			}
			rec.Wire.Responses[rid] = append(rec.Wire.Responses[rid], record.Answer{At: at, Kind: rs, Retry: retry[i]})
		}
	}
	rec.Requests = []*record.HTTP{{Name: "c1", Actor: "a1", Issued: 0, Answered: answered,
		Response: &record.Response{Status: status, Headers: model.Headers{}, Body: "runner=r1 actor=a1 gen=1"}}}
	rec.EngineActors = []model.ActorID{"a1"}
	return rec
}

// TestHTTPAttemptProperties judges hand-made wire histories: each row is
// a small story of one request, and the violations the oracle must find.
func TestHTTPAttemptProperties(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  *record.Record
		want []string // property names, in report order
	}{
		{"a retry 100 ms after a 503 holds",
			httpRecord([]sim.Time{0, 110 * ms}, []sim.Time{2 * ms, 112 * ms}, map[int]sim.Time{0: 10 * ms, 1: 120 * ms}, map[int]bool{0: true}, 120*ms, 200), nil},
		{"a retry 100 ms after the 2 s wait holds",
			httpRecord([]sim.Time{0, 2102 * ms}, []sim.Time{2 * ms, 2104 * ms}, map[int]sim.Time{1: 2110 * ms}, nil, 2110*ms, 200), nil},
		{"a retry 50 ms after a 503 breaks backoff",
			httpRecord([]sim.Time{0, 60 * ms}, []sim.Time{2 * ms, 62 * ms}, map[int]sim.Time{0: 10 * ms, 1: 70 * ms}, map[int]bool{0: true}, 70*ms, 200), []string{"backoff"}},
		{"a retry before the wait ran out breaks attempt_end",
			httpRecord([]sim.Time{0, 1102 * ms}, []sim.Time{2 * ms, 1104 * ms}, map[int]sim.Time{1: 1110 * ms}, nil, 1110*ms, 200), []string{"attempt_end"}},
		{"a retry after a 200 breaks exhausted",
			httpRecord([]sim.Time{0, 110 * ms}, []sim.Time{2 * ms, 112 * ms}, map[int]sim.Time{0: 10 * ms, 1: 120 * ms}, nil, 120*ms, 200), []string{"exhausted"}},
		{"an answer held back past the outcome breaks attempt_end",
			httpRecord([]sim.Time{0}, []sim.Time{2 * ms}, map[int]sim.Time{0: 10 * ms}, nil, 500*ms, 200), []string{"attempt_end"}},
		{"five routing reads break routing",
			httpRecord([]sim.Time{0, 1, 2, 3, 4}, nil, nil, nil, 10*ms, 200), []string{"routing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(tc.rec, "routing", "backoff", "exhausted", "attempt_end") {
				got = append(got, v.Property)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestWebSocketCloses judges hand-made socket histories for the close
// properties and the buffer bound of errata E4.
func TestWebSocketCloses(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	socket := func(sent []string, closed bool, reason string) *record.Record {
		rec := &record.Record{Profile: model.Newest(), End: sim.Minute, Wire: record.NewWire(),
			Actors: map[model.ActorID]record.ActorFacts{"a1": {CanHibernate: true}}, EngineActors: []model.ActorID{"a1"}}
		rec.Wire.Starts["w1"] = []record.Start{{Sent: ms, Reached: 2 * ms, Request: 1, Runner: "r1", WS: true}}
		rec.Wire.Reads["w1"] = []record.Read{{Sent: 0, ID: 1, Actor: "a1"}}
		rec.Wire.Responses[1] = []record.Answer{{At: 5 * ms, Kind: model.ServerWebSocketOpen{CanHibernate: true}}}
		c := &record.WS{Name: "w1", Actor: "a1", Upgraded: true, Protocol: "rivet", Sent: sent, Received: echoes(sent)}
		if closed {
			c.Closed, c.CloseCode, c.CloseReason, c.ClosedAt = true, model.CloseError, reason, 30*sim.Second
		}
		rec.Sockets = []*record.WS{c}
		return rec
	}
	many := make([]string, 20)
	for i := range many {
		many[i] = big
	}
	for _, tc := range []struct {
		name string
		rec  *record.Record
		want []string
	}{
		{"a quiet open socket holds", socket([]string{"m1"}, false, ""), nil},
		{"the E4 bound after 1.25 MiB is earned and quiet", socket(many, true, "guard.websocket_pending_limit_reached#ray1"), nil},
		{"the E4 bound after one message is neither", socket([]string{"m1"}, true, "guard.websocket_pending_limit_reached#ray1"), []string{"earned", "ws_quiet"}},
		{"a close without a ray breaks ws_close", socket(nil, true, "guard.websocket_service_unavailable"), []string{"ws_close", "ws_quiet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(tc.rec, "earned", "ws_close", "ws_quiet") {
				got = append(got, v.Property)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestActorCloseReachesClient: a runner's final close that reaches Guard
// must reach the client; a retry close of a hibernatable socket must not.
func TestActorCloseReachesClient(t *testing.T) {
	code := model.CloseNormal
	for _, tc := range []struct {
		name     string
		retry    bool
		hib      bool
		closedAt sim.Time // 0: the client's socket stays open
		want     int
	}{
		{"passed through", false, false, 20 * ms, 0},
		{"never passed", false, false, 0, 1},
		{"a retry close of a hibernatable socket is a hibernation", true, true, 0, 0},
		{"a retry close of a socket that cannot hibernate is passed", true, false, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &record.Record{Profile: model.Seed, End: sim.Minute, Wire: record.NewWire(),
				Actors: map[model.ActorID]record.ActorFacts{"a1": {CanHibernate: tc.hib}}}
			rec.Wire.Starts["w1"] = []record.Start{{Sent: ms, Reached: 2 * ms, Request: 1, Runner: "r1", WS: true}}
			rec.Wire.Responses[1] = []record.Answer{
				{At: 5 * ms, Kind: model.ServerWebSocketOpen{CanHibernate: tc.hib}},
				{At: 20 * ms, Kind: model.ServerWebSocketClose{Code: &code, Reason: "Actor stopped", Retry: tc.retry}},
			}
			c := &record.WS{Name: "w1", Actor: "a1"}
			if tc.closedAt > 0 {
				c.Closed, c.CloseCode, c.CloseReason, c.ClosedAt = true, code, "Actor stopped", tc.closedAt
			}
			rec.Sockets = []*record.WS{c}
			assert.Len(t, Check(rec, "ws_actor_close"), tc.want)
		})
	}
}
