package guard

import (
	"encoding/json"
	"testing"
)

// TestErrorBodyIsJSON checks errorBody's fast path against json.Marshal.
func TestErrorBodyIsJSON(t *testing.T) {
	for _, re := range []*RivetError{
		errRetryAttemptsExceeded(3),
		rivetErr("core", "internal_error", "An internal error occurred."),
		rivetErr("g", "c", `a "quoted" <b> & c\d`),
		rivetErr("g", "c", "tab\there \u2028 \xff"),
		rivetErr("", "", ""),
	} {
		want, _ := json.Marshal(struct {
			Group   string `json:"group"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{re.Group, re.Code, re.Message})
		if got := errorBody(re); got != string(want) {
			t.Errorf("errorBody(%#v) = %s, json.Marshal gives %s", re, got, want)
		}
	}
}

// TestParseGatewayPathFastReject pins parseGatewayPath on the paths its fast reject
// of paths that are not /gateway/... must not change: the expected results
// are the split-everything parser's, before that reject.
func TestParseGatewayPathFastReject(t *testing.T) {
	for _, tt := range []struct {
		path, actor, rest string
		ok                bool
	}{
		{"", "", "", false},
		{"/", "", "", false},
		{"//", "", "", false},
		{"/probe", "", "", false},
		{"probe", "", "", false},
		{"gateway", "", "", false},
		{"/gateway", "", "", false},
		{"/gateway/", "", "", false},
		{"gateway/a1", "a1", "/", true},
		{"/gateway/a1", "a1", "/", true},
		{"/gateway/a1/x?y#z", "a1", "/x?y", true},
		{"/gateway/a1@tok/p", "a1", "/p", true},
		{"/gateway/@t", "", "", false},
		{"/gateways/a1", "", "", false},
		{"/x/gateway/a1", "", "", false},
		{"/gateway//a1", "", "", false},
		{"?/gateway/a1", "", "", false},
		{"/gateway/a1/", "a1", "/", true},
		{"/gateway/a1#frag", "a1", "/", true},
		{"/gatewayx", "", "", false},
	} {
		a, r, ok := parseGatewayPath(tt.path)
		if string(a) != tt.actor || r != tt.rest || ok != tt.ok {
			t.Errorf("parseGatewayPath(%q) = %q %q %v, want %q %q %v", tt.path, a, r, ok, tt.actor, tt.rest, tt.ok)
		}
	}
}
