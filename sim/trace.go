package sim

import (
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
	mode   TraceMode
	lines  []string
	hashes []uint64 // per kept line: the hash of its node, event and fields
	hash   uint64   // the fingerprint: every event's step, time and content hash
	enc    Enc
}

func (t *trace) init(m TraceMode) { t.mode, t.hash, t.enc.text = m, fnvOffset64, m == TraceFull }

// Tracing reports whether trace lines are rendered at all, so a caller can
// skip building expensive fields.
func (w *World) Tracing() bool { return w.trace.mode != TraceOff }

// Trace records one event: the step that produced it, the virtual time, the
// node, the event name and typed fields, as one fixed-format line:
//
//	step   time         node       event                    k=v k=v
//
// The determinism fingerprint folds in the typed parts themselves; the line
// is rendered only when the world keeps lines (TraceFull). Both come from
// the same parts in one pass, so a kept line and its hashed form cannot
// disagree.
func (w *World) Trace(node, event string, fs ...Field) {
	t := &w.trace
	if t.mode == TraceOff {
		return
	}
	e := &t.enc
	e.h = fnvOffset64
	e.bytes(tagStr, node)
	e.bytes(tagStr, event)
	if e.text {
		e.b = appendHeader(e.b[:0], w.steps, w.now, node, event)
	}
	for i := range fs {
		e.field(&fs[i])
	}
	content := e.h
	e.h = t.hash
	e.word(tagLine, uint64(w.steps))
	e.word(tagDur, uint64(w.now))
	e.word(tagLine, content)
	t.hash = e.h
	if e.text {
		b := e.b
		for len(b) > 0 && b[len(b)-1] == ' ' {
			b = b[:len(b)-1]
		}
		t.lines = append(t.lines, string(b))
		t.hashes = append(t.hashes, content)
	}
}

// TraceContentHashes returns, for each kept line (TraceFull), the hash of
// its node, event and fields: what the fingerprint folds in besides the
// step and the time. A line's text after its time column is a function of
// it, and it of the text; TestTraceTextAndHashAgree checks both ways on
// every scenario file.
func (w *World) TraceContentHashes() []uint64 { return w.trace.hashes }

// TraceHeaderWidth is the width of a trace line's step and time columns.
const TraceHeaderWidth = 6 + 1 + 13 + 1

// appendHeader renders "%06d %13s %-10s %-22s" without fmt.
func appendHeader(b []byte, step int64, now Time, node, event string) []byte {
	var nb [20]byte
	ds := strconv.AppendInt(nb[:0], step, 10)
	for i := len(ds); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, ds...)
	b = append(b, ' ')
	var tb [32]byte
	ts := appendTime(tb[:0], now)
	b = pad(b, 13-len(ts))
	b = append(b, ts...)
	b = append(b, ' ')
	b = append(b, node...)
	b = pad(b, 10-len(node))
	b = append(b, ' ')
	b = append(b, event...)
	return pad(b, 22-len(event))
}

func pad(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
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

// TraceHash is the hash of every trace event so far, folded from their
// typed parts, as 16 hex digits: the world's determinism fingerprint. It is
// the same whether the world keeps its lines or only the hash.
func (w *World) TraceHash() string {
	var b [16]byte
	const hex = "0123456789abcdef"
	h := w.trace.hash
	for i := 15; i >= 0; i-- {
		b[i] = hex[h&15]
		h >>= 4
	}
	return string(b[:])
}
