package oracle

import (
	"encoding/json"
	"testing"
)

// TestErrorCodeAgreesWithDecoder checks ErrorCode's fast paths against
// encoding/json on bodies of every shape.
func TestErrorCodeAgreesWithDecoder(t *testing.T) {
	bodies := []string{
		"", " ", "runner=r1 actor=a1 gen=1", "null", "[]", "12", `"x"`,
		`{"group":"guard","code":"retry_attempts_exceeded","message":"Retry attempts exceeded (3)."}`,
		` {"group":"guard","code":"x","message":"m"}`,
		`{"group":"","code":"x","message":"m"}`,
		`{"group":"g","code":"c","message":"m"} `,
		`{"group":"g","code":"c","message":"m"}x`,
		`{"group":"g\u0041","code":"c","message":"m"}`,
		`{"Group":"g","code":"c","message":"m"}`,
		`{"group":"g","code":"c"}`,
		`{"group":"g","code":"c","message":"m","group":"h"}`,
		"{\"group\":\"g\xff\",\"code\":\"c\",\"message\":\"m\"}",
		`{"group":"g","code":"c","message":"a<b&c"}`,
		`{`,
	}
	for _, b := range bodies {
		var e struct{ Group, Code string }
		want := ""
		if json.Unmarshal([]byte(b), &e) == nil && e.Group != "" {
			want = e.Group + "." + e.Code
		}
		if got := ErrorCode(b); got != want {
			t.Errorf("ErrorCode(%q) = %q, the decoder gives %q", b, got, want)
		}
	}
}
