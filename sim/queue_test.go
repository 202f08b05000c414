package sim

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestQueueAgainstModel drives the world's event queue with random schedule,
// cancel and step actions, beside a trivially correct model: a slice of
// pending events sorted by (at, scheduling order).
func TestQueueAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := New(Config{Seed: 1, Trace: TraceOff})
		type pending struct {
			at  Time
			id  int
			tmr Timer
		}
		var model []pending // in (at, id) order; ids increase with scheduling order
		var fired []int
		nextID := 0
		t.Repeat(map[string]func(*rapid.T){
			"schedule": func(t *rapid.T) {
				d := Time(rapid.IntRange(0, 5).Draw(t, "delay")) * Millisecond
				id := nextID
				nextID++
				tmr := w.After(d, func() { fired = append(fired, id) })
				p := pending{w.Now() + d, id, tmr}
				i, _ := slices.BinarySearchFunc(model, p, func(a, b pending) int {
					if a.at != b.at {
						return int(a.at - b.at)
					}
					return a.id - b.id
				})
				model = slices.Insert(model, i, p)
			},
			"cancel": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("nothing pending")
				}
				i := rapid.IntRange(0, len(model)-1).Draw(t, "victim")
				if !model[i].tmr.Stop() {
					t.Fatalf("pending timer %d could not be stopped", model[i].id)
				}
				model = slices.Delete(model, i, i+1)
			},
			"step": func(t *rapid.T) {
				if len(model) == 0 {
					if w.Step() {
						t.Fatal("stepped an empty queue")
					}
					return
				}
				want := model[0]
				model = model[1:]
				if !w.Step() {
					t.Fatal("queue empty but model is not")
				}
				if got := fired[len(fired)-1]; got != want.id || w.Now() != want.at {
					t.Fatalf("fired event %d at %s, want %d at %s", got, w.Now(), want.id, want.at)
				}
			},
			"": func(t *rapid.T) {
				if w.Pending() != len(model) {
					t.Fatalf("queue holds %d events, model %d", w.Pending(), len(model))
				}
			},
		})
	})
}
