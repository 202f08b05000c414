package guard

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

func TestShouldRetry(t *testing.T) {
	tests := []struct {
		name string
		resp *Response
		err  error
		want bool
	}{
		{"503 with x-rivet-error", &Response{Status: 503, Headers: model.Headers{model.XRivetError: "runner.actor_not_found"}}, nil, true},
		{"503 with any x-rivet-error value", &Response{Status: 503, Headers: model.Headers{model.XRivetError: ""}}, nil, true},
		{"503 without the header", &Response{Status: 503, Headers: model.Headers{}}, nil, false},
		{"404 Actor not found (parent)", &Response{Status: 404, Headers: model.Headers{}, Body: "Actor not found"}, nil, false},
		{"502 with the header", &Response{Status: 502, Headers: model.Headers{model.XRivetError: "x"}}, nil, false},
		{"200", &Response{Status: 200}, nil, false},
		{"service_unavailable error", nil, errServiceUnavailable(), true},
		{"other rivet error", nil, errActorReadyTimeout(), false},
		{"non-rivet error", nil, &internalError{"request not in flight"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, shouldRetry(model.Seed.Quirks, tt.resp, tt.err))
		})
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{rivetErr("guard", "rate_limit", ""), 429},
		{errUpstreamError(), 502},
		{rivetErr("guard", "routing_error", ""), 502},
		{errRetryAttemptsExceeded(3), 502},
		{errRequestTimeout(), 504},
		{errActorNotFound(), 404},
		{errActorDestroyed(), 404},
		{errNoRoute(), 404},
		{rivetErr("api", "not_found", ""), 404},
		{errServiceUnavailable(), 503},
		{errActorReadyTimeout(), 503},
		{rivetErr("api", "unauthorized", ""), 401},
		{rivetErr("api", "forbidden", ""), 403},
		{errDestroyedWhileWaiting(), 400},
		{rivetErr("ups", "publish_failed", ""), 400},
		{errWebSocketServiceUnavailable(), 400},
		{&internalError{"boom"}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			r := errIntoResponse(tt.err, "ray1")
			assert.Equal(t, tt.want, r.Status)
			assert.Equal(t, "application/json", r.Headers["content-type"])
			assert.NotContains(t, r.Headers, model.XRivetError, "Guard never sets x-rivet-error")
		})
	}
	assert.JSONEq(t, `{"group":"guard","code":"retry_attempts_exceeded","message":"Retry attempts exceeded (3)."}`,
		errIntoResponse(errRetryAttemptsExceeded(3), "r").Body)
	assert.JSONEq(t, `{"group":"core","code":"internal_error","message":"An internal error occurred."}`,
		errIntoResponse(&internalError{"x"}, "r").Body)
}

func TestBackoff(t *testing.T) {
	var got []sim.Time
	for k := 1; k <= 4; k++ {
		got = append(got, backoff(DefaultInitialInterval, k))
	}
	assert.Equal(t, []sim.Time{100 * sim.Millisecond, 200 * sim.Millisecond, 400 * sim.Millisecond, 800 * sim.Millisecond}, got)
	assert.Equal(t, 150*sim.Millisecond, backoff(MiddlewareInitialInterval, 1))
}

func TestErrToCloseFrame(t *testing.T) {
	tests := []struct {
		err        error
		wantCode   uint16
		wantReason string
	}{
		{errWebSocketServiceUnavailable(), 1011, "guard.websocket_service_unavailable#ray7"},
		{rivetErr("ws", "connection_closed", ""), 1000, "ws.connection_closed#ray7"},
		{rivetErr("ws", "eviction", ""), 1000, "ws.eviction#ray7"},
		{&internalError{"x"}, 1011, "core.internal_error#ray7"},
	}
	for _, tt := range tests {
		f := errToCloseFrame(tt.err, "ray7")
		assert.Equal(t, tt.wantCode, f.Code)
		assert.Equal(t, tt.wantReason, f.Reason)
	}
	long := errToCloseFrame(rivetErr("guard", string(make([]byte, 200)), ""), "r")
	assert.Len(t, long.Reason, closeReasonMax)
}

func TestParseGatewayPath(t *testing.T) {
	tests := []struct {
		path      string
		wantActor model.ActorID
		wantPath  string
		ok        bool
	}{
		{"/gateway/a1/hello", "a1", "/hello", true},
		{"/gateway/a1", "a1", "/", true},
		{"/gateway/a1/", "a1", "/", true},
		{"/gateway/a1@tok/x/y?q=1#f", "a1", "/x/y?q=1", true},
		{"/gateway/a1?q=1", "a1", "/?q=1", true},
		{"/gateway/@tok/x", "", "", false},
		{"/gateway/a1@/x", "", "", false},
		{"/gateway//a1/x", "", "", false},
		{"/gateway", "", "", false},
		{"/api/a1/x", "", "", false},
		// the old format's URLs now name an actor "actors" (c6161fd4a)
		{"/gateway/actors/a1/route/x", "actors", "/a1/route/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a, p, ok := parseGatewayPath(tt.path)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.wantActor, a)
			assert.Equal(t, tt.wantPath, p)
		})
	}
}

func TestParseActorsRoutePath(t *testing.T) {
	tests := []struct {
		path      string
		wantActor model.ActorID
		wantPath  string
		ok        bool
	}{
		{"/gateway/actors/a1/route/hello", "a1", "/hello", true},
		{"/gateway/actors/a1/route/", "a1", "/", true},
		{"/gateway/actors/a1/route", "a1", "/", true},
		{"/gateway/actors/a1/tokens/t0k/route/x/y", "a1", "/x/y", true},
		{"/gateway/actors/a1/hello", "", "", false},
		{"/gateway/actors//route/x", "", "", false},
		{"/gateway/actors/a1", "", "", false},
		{"/api/actors/a1/route/x", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a, p, ok := parseActorsRoutePath(tt.path)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.wantActor, a)
			assert.Equal(t, tt.wantPath, p)
		})
	}
}

func TestRouteCache(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	c := newRouteCache(w)
	cfg := routeConfig{Targets: []routeTarget{{Actor: "a1@dc2", Host: "guard-dc2", Path: "/"}}}
	c.insert("k", cfg)
	got, ok := c.get("k")
	assert.True(t, ok)
	assert.Equal(t, cfg, got)
	_ = w.RunUntil(RouteCacheTTL - 1)
	_, ok = c.get("k")
	assert.True(t, ok, "still fresh just before the TTL")
	_ = w.RunUntil(RouteCacheTTL)
	_, ok = c.get("k")
	assert.False(t, ok, "expired after 10 min")
}

func TestCacheKey(t *testing.T) {
	a := &Request{Host: "h:8080", Path: "/p", Headers: model.Headers{"x-rivet-target": "actor", "x-rivet-actor": "a1"}}
	b := &Request{Host: "h", Path: "/p", Headers: model.Headers{}}
	c := &Request{Host: "h:443", Path: "/p", Headers: model.Headers{}}
	assert.Equal(t, "actor|a1|/p", cacheKey(a))
	assert.Equal(t, cacheKey(b), cacheKey(c), "the port is stripped")
}
