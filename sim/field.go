package sim

import (
	"fmt"
	"reflect"
	"strconv"
)

// Field is one typed key/value of a trace line. Build one with Str, Int,
// Uint, Bool, Dur, ID, Enum or Val: the trace hashes its typed content
// directly and renders it as text only when lines are kept (TraceFull), so
// a world that keeps only the hash never formats anything.
type Field struct {
	key  string
	kind fieldKind
	s    string // kindStr; the prefix of kindID; the name of kindEnum
	n    uint64 // kindInt, kindUint, kindBool, kindDur, kindID, kindEnum
	v    Value  // kindVal
}

type fieldKind uint8

const (
	kindStr fieldKind = iota + 1
	kindInt
	kindUint
	kindBool
	kindDur
	kindID
	kindEnum
	kindVal
)

// Value is a structured trace value, such as a protocol message: it writes
// its typed parts to an Enc, which hashes them and, when the line is kept,
// renders them. Its String method, where it has one, should be Render(v),
// so the trace and the rest of the harness print it alike.
type Value interface {
	TraceTo(e *Enc)
}

// Prefixed is an integer identifier rendered with a fixed prefix (a
// request id rq12, a message id m7).
type Prefixed interface {
	~uint64
	TracePrefix() string
}

// Named is a small enumeration that names its values.
type Named interface {
	~uint8 | ~uint16 | ~uint32 | ~int | ~int8 | ~int32 | ~int64
	String() string
}

// Str is a string field. It renders quoted only when it is empty or holds
// a space, a quote or an '='.
func Str[T ~string](key string, v T) Field { return Field{key: key, kind: kindStr, s: string(v)} }

// Int is a signed integer field.
func Int[T ~int | ~int8 | ~int16 | ~int32 | ~int64](key string, v T) Field {
	return Field{key: key, kind: kindInt, n: uint64(int64(v))}
}

// Uint is an unsigned integer field.
func Uint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](key string, v T) Field {
	return Field{key: key, kind: kindUint, n: uint64(v)}
}

// Bool is a boolean field.
func Bool(key string, v bool) Field {
	f := Field{key: key, kind: kindBool}
	if v {
		f.n = 1
	}
	return f
}

// Dur is a virtual time or duration field, rendered like Time.String.
func Dur(key string, v Time) Field { return Field{key: key, kind: kindDur, n: uint64(v)} }

// ID is a prefixed identifier field.
func ID[T Prefixed](key string, v T) Field {
	return Field{key: key, kind: kindID, s: v.TracePrefix(), n: uint64(v)}
}

// Enum is an enumeration field: hashed by its number, rendered by its name.
func Enum[T Named](key string, v T) Field {
	return Field{key: key, kind: kindEnum, s: v.String(), n: uint64(int64(v))}
}

// Val is a structured field. A nil v renders as <nil>.
func Val(key string, v Value) Field { return Field{key: key, kind: kindVal, v: v} }

// Enc receives a Value's typed parts. It folds each into the trace hash
// and, when the line is kept, renders it.
type Enc struct {
	h    uint64
	text bool
	b    []byte
	tmp  []byte // a rendering being quoted in place
}

// Hash tags keep the typed parts apart: the string "12" and the integer 12
// hash differently, and a part's boundaries are part of its hash.
const (
	tagLit byte = iota + 1
	tagStr
	tagQuote
	tagInt
	tagUint
	tagBool
	tagDur
	tagID
	tagEnum
	tagNil
	tagKey
	tagLine
)

const fnvOffset64, fnvPrime64 = 14695981039346656037, 1099511628211

// tagMix spreads a part's tag over a whole word before it is folded in.
const tagMix = 0x9e3779b97f4a7c15

// word folds one tag and one 64-bit word into the hash: one multiply.
func (e *Enc) word(tag byte, v uint64) {
	h := (e.h ^ v ^ uint64(tag)*tagMix) * fnvPrime64
	e.h = h ^ h>>31
}

// bytes folds a tag, a length and the bytes of s into the hash, eight at a
// time, the last up to seven as one partial word.
func (e *Enc) bytes(tag byte, s string) {
	h := (e.h ^ uint64(len(s)) ^ uint64(tag)*tagMix) * fnvPrime64
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ v) * fnvPrime64
		s = s[8:]
	}
	if len(s) > 0 {
		var v uint64
		for i := 0; i < len(s); i++ {
			v |= uint64(s[i]) << (8 * i)
		}
		h = (h ^ v) * fnvPrime64
	}
	e.h = h ^ h>>31
}

// Lit is fixed text of a value's rendering, such as its type name and
// punctuation.
func (e *Enc) Lit(s string) {
	e.bytes(tagLit, s)
	if e.text {
		e.b = append(e.b, s...)
	}
}

// Str is a string part, rendered as it is.
func (e *Enc) Str(s string) {
	e.bytes(tagStr, s)
	if e.text {
		e.b = append(e.b, s...)
	}
}

// Quote is a string part, rendered as a Go string literal.
func (e *Enc) Quote(s string) {
	e.bytes(tagQuote, s)
	if e.text {
		e.b = strconv.AppendQuote(e.b, s)
	}
}

// Int is a signed integer part, rendered in decimal.
func (e *Enc) Int(v int64) {
	e.word(tagInt, uint64(v))
	if e.text {
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

// Uint is an unsigned integer part, rendered in decimal.
func (e *Enc) Uint(v uint64) {
	e.word(tagUint, v)
	if e.text {
		e.b = strconv.AppendUint(e.b, v, 10)
	}
}

// Bool is a boolean part, rendered true or false.
func (e *Enc) Bool(v bool) {
	var n uint64
	if v {
		n = 1
	}
	e.word(tagBool, n)
	if e.text {
		e.b = strconv.AppendBool(e.b, v)
	}
}

// Dur is a time part, rendered like Time.String.
func (e *Enc) Dur(t Time) {
	e.word(tagDur, uint64(t))
	if e.text {
		e.b = appendTime(e.b, t)
	}
}

// ID is a prefixed identifier part.
func (e *Enc) ID(prefix string, n uint64) {
	e.bytes(tagID, prefix)
	e.word(tagID, n)
	if e.text {
		e.b = strconv.AppendUint(append(e.b, prefix...), n, 10)
	}
}

// Val is a nested value; nil renders as <nil>.
func (e *Enc) Val(v Value) {
	if v == nil {
		e.word(tagNil, 0)
		if e.text {
			e.b = append(e.b, "<nil>"...)
		}
		return
	}
	v.TraceTo(e)
}

// Render renders v as text, the way a kept trace line shows it.
func Render(v Value) string {
	e := Enc{text: true}
	e.Val(v)
	return string(e.b)
}

// field folds one field into the hash and, when rendering, appends
// " key=value". A structured value is rendered first and then quoted like
// a string field when its text needs it.
func (e *Enc) field(f *Field) {
	e.bytes(tagKey, f.key)
	if e.text {
		e.b = append(e.b, ' ')
		e.b = append(e.b, f.key...)
		e.b = append(e.b, '=')
	}
	e.value(f)
}

// value folds one field's value into the hash and renders it.
func (e *Enc) value(f *Field) {
	switch f.kind {
	case kindStr:
		e.bytes(tagStr, f.s)
		if e.text {
			e.b = appendMaybeQuoted(e.b, f.s)
		}
	case kindInt:
		e.Int(int64(f.n))
	case kindUint:
		e.Uint(f.n)
	case kindBool:
		e.Bool(f.n == 1)
	case kindDur:
		e.Dur(Time(f.n))
	case kindID:
		e.ID(f.s, f.n)
	case kindEnum:
		e.word(tagEnum, f.n)
		if e.text {
			e.b = appendMaybeQuoted(e.b, f.s)
		}
	case kindVal:
		if !e.text {
			e.Val(f.v)
			return
		}
		start := len(e.b)
		e.Val(f.v)
		if needsQuote(e.b[start:]) {
			// Quote the rendering in place: copy it out, then append it
			// quoted where it was.
			e.tmp = append(e.tmp[:0], e.b[start:]...)
			e.b = appendQuote(e.b[:start], e.tmp)
		}
	default:
		panic("sim: a trace field made without a constructor (key " + strconv.Quote(f.key) + ")")
	}
}

func needsQuote[T string | []byte](s T) bool {
	if len(s) == 0 {
		return true
	}
	for i := range len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '"', '=':
			return true
		}
	}
	return false
}

func appendMaybeQuoted(b []byte, s string) []byte {
	if needsQuote(s) {
		return appendQuote(b, s)
	}
	return append(b, s...)
}

// appendQuote appends s quoted as strconv.Quote quotes it. Nearly every
// quoted trace value is printable ASCII, which needs only its quotes and
// backslashes escaped; anything else goes to strconv (a rendered trace
// quotes a value on most lines, and strconv decodes every rune).
func appendQuote[T string | []byte](b []byte, s T) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return strconv.AppendQuote(b, string(s))
		}
	}
	b = append(b, '"')
	for i := range len(s) {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\', c)
		} else {
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendTime renders t as Time.String does: seconds with microsecond
// precision.
func appendTime(b []byte, t Time) []byte {
	if t < 0 {
		b, t = append(b, '-'), -t
	}
	b = strconv.AppendInt(b, int64(t/Second), 10)
	b = append(b, '.')
	us := int64((t % Second) / Microsecond)
	for d := int64(100000); d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	return append(strconv.AppendInt(b, us, 10), 's')
}

// Any is a field for a value of a type the trace does not know, such as a
// message a test sends over the network: a Value, a string or an integer
// is traced as such; anything else is rendered with fmt (the slow path, for
// tests and demos only) or, for a pointer without a String method, by its
// type name.
func Any(key string, v any) Field {
	switch x := v.(type) {
	case Value:
		return Val(key, x)
	case string:
		return Str(key, x)
	case int:
		return Int(key, x)
	case int64:
		return Int(key, x)
	case uint64:
		return Uint(key, x)
	case bool:
		return Bool(key, x)
	case fmt.Stringer:
		return Str(key, x.String())
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return Str(key, fmt.Sprintf("<%T>", v))
	}
	return Str(key, fmt.Sprint(v))
}

// Any is a nested part of a type the trace may not know (a pub/sub
// payload): a Value is traced as one, anything else goes through Any's
// slow path.
func (e *Enc) Any(v any) {
	if x, ok := v.(Value); ok || v == nil {
		e.Val(x)
		return
	}
	f := Any("", v)
	e.value(&f)
}
