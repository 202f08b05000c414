package planted

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

const base = 50 * time.Millisecond

type world struct {
	rng    *rand.Rand
	src    rand.Source
	actors map[string]time.Duration
}

func newWorld(seed uint64) *world {
	return &world{
		rng:    rand.New(rand.NewPCG(seed, 2)),
		src:    rand.NewChaCha8([32]byte{}),
		actors: map[string]time.Duration{"a": time.Second},
	}
}

func (w *world) backoff(attempt int) time.Duration {
	jitter := time.Duration(w.rng.Int64N(int64(base)))
	w.rng.Shuffle(attempt, func(i, j int) {})
	return base<<attempt + jitter
}

func (w *world) total() time.Duration {
	var sum time.Duration
	for _, k := range SortedKeys(w.actors) {
		sum += w.actors[k]
	}
	for i := range 3 {
		sum += time.Duration(i) * time.Second
	}
	for _, d := range []time.Duration{time.Minute, time.Hour} {
		sum += d
	}
	return sum
}

func (w *world) snapshot() map[string]time.Duration { return maps.Clone(w.actors) }

func later(a, b time.Time) bool { return a.After(b) }

// SortedKeys returns the keys of m in ascending order.
func SortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
