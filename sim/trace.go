package sim

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
)

// TraceMode selects how much of the trace a world keeps.
type TraceMode uint8

const (
	// TraceFull keeps every line and the hash.
	TraceFull TraceMode = iota
	// TraceHash keeps only the running hash (the determinism fingerprint).
	TraceHash
	// TraceOff renders nothing; for benchmarks of the kernel itself.
	TraceOff
)

type trace struct {
	mode  TraceMode
	lines []string
	hash  uint64
	buf   []byte
}

const fnvOffset64, fnvPrime64 = 14695981039346656037, 1099511628211

func (t *trace) init(m TraceMode) { t.mode, t.hash = m, fnvOffset64 }

// Tracing reports whether trace lines are rendered at all, so a caller can
// skip building expensive fields.
func (w *World) Tracing() bool { return w.trace.mode != TraceOff }

// Trace records one event: the step that produced it, the virtual time, the
// node, the event name and key/value fields, as one fixed-format line:
//
//	step   time         node       event                    k=v k=v
//
// Fields come in pairs (key string, value any). Values render with String
// when they have it, strings are quoted only when they contain spaces.
func (w *World) Trace(node, event string, kv ...any) {
	t := &w.trace
	if t.mode == TraceOff {
		return
	}
	b := t.buf[:0]
	b = fmt.Appendf(b, "%06d %13s %-10s %-22s", w.steps, w.now.String(), node, event)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, ' ')
		b = fmt.Append(b, kv[i])
		b = append(b, '=')
		b = appendValue(b, kv[i+1])
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	t.buf = b
	h := t.hash
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	h ^= '\n'
	h *= fnvPrime64
	t.hash = h
	if t.mode == TraceFull {
		t.lines = append(t.lines, string(b))
	}
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		if x == "" || strings.ContainsAny(x, " \t\n\"=") {
			return strconv.AppendQuote(b, x)
		}
		return append(b, x...)
	case fmt.Stringer:
		return appendValue(b, x.String())
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	default:
		// A pointer, map, channel or function without a String method would
		// render its address: name its type instead, deterministically.
		switch reflect.ValueOf(v).Kind() {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return fmt.Appendf(b, "<%T>", v)
		}
		return fmt.Append(b, v)
	}
}

// TraceLines returns the kept trace lines (nil unless TraceFull).
func (w *World) TraceLines() []string { return w.trace.lines }

// TraceText returns the kept trace as text, one line per event.
func (w *World) TraceText() string {
	if len(w.trace.lines) == 0 {
		return ""
	}
	return strings.Join(w.trace.lines, "\n") + "\n"
}

// TraceHash is the FNV-1a hash of every trace line rendered so far, as 16
// hex digits: the world's determinism fingerprint.
func (w *World) TraceHash() string { return fmt.Sprintf("%016x", w.trace.hash) }

// HashTrace computes the fingerprint TraceHash gives for the given lines.
func HashTrace(lines []string) string {
	h := fnv.New64a()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
