package guard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/guardsim/guardsim/model"
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

// parseGatewayPathSplit is parseGatewayPath as it was before its fast
// reject of paths that are not /gateway/...: the reference it must match.
func parseGatewayPathSplit(p string) (model.ActorID, string, bool) {
	base, query := p, ""
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		base = p[:i]
		if p[i] == '?' {
			query = p[i:]
			if j := strings.IndexByte(query, '#'); j >= 0 {
				query = query[:j]
			}
		}
	}
	if strings.Contains(base, "//") {
		return "", "", false
	}
	var segs []string
	for _, s := range strings.Split(base, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) < 2 || segs[0] != "gateway" {
		return "", "", false
	}
	actor := segs[1]
	if at := strings.IndexByte(actor, '@'); at >= 0 {
		if at == 0 || at == len(actor)-1 {
			return "", "", false
		}
		actor = actor[:at]
	}
	prefix := len("/gateway/") + len(segs[1])
	rest := "/"
	if prefix < len(base) {
		rest = base[prefix:]
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return model.ActorID(actor), rest + query, true
}

func TestParseGatewayPathFastReject(t *testing.T) {
	for _, p := range []string{"", "/", "//", "/probe", "probe", "gateway", "/gateway", "/gateway/", "gateway/a1",
		"/gateway/a1", "/gateway/a1/x?y#z", "/gateway/a1@tok/p", "/gateway/@t", "/gateways/a1", "/x/gateway/a1",
		"/gateway//a1", "?/gateway/a1", "/gateway/a1/", "/gateway/a1#frag", "/gatewayx"} {
		a1, r1, ok1 := parseGatewayPath(p)
		a2, r2, ok2 := parseGatewayPathSplit(p)
		if a1 != a2 || r1 != r2 || ok1 != ok2 {
			t.Errorf("parseGatewayPath(%q) = %q %q %v, reference %q %q %v", p, a1, r1, ok1, a2, r2, ok2)
		}
	}
}
