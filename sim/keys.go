package sim

import (
	"cmp"
	"slices"
)

// SortedKeys returns the keys of m in ascending order. Simulated code ranges
// over maps only through it, so Go's random map order never reaches a
// message, a timer or the trace.
func SortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// AppendSortedKeys appends m's keys, sorted, to dst[:0] and returns it: a
// caller that lists one map's keys again and again reuses one slice.
func AppendSortedKeys[K cmp.Ordered, V any](dst []K, m map[K]V) []K {
	keys := dst[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
