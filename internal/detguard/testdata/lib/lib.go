// Package lib is imported by planted cases through the module path.
package lib

import (
	"cmp"
	"slices"
)

// Registry has a map-typed field.
type Registry struct {
	Actors map[string]int
}

// SortedKeys returns the keys of m in ascending order.
func SortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
