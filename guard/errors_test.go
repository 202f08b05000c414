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
