// Package sim is guardsim's deterministic simulation kernel.
//
// A World owns a virtual clock (integer nanoseconds), an event queue (a typed
// binary heap keyed by (at, seq), so that events scheduled for the same
// instant fire in scheduling order), cancellable timers, seeded random
// streams split per component from the world seed, simulated connections
// between named nodes (ordered, reliable, with seeded per-direction latency,
// close and reset from either side, and hold/drop/heal faults), a trace with
// one fixed-format line per event and a hash of the whole trace as the
// determinism fingerprint, and watchdogs (an event budget and a virtual-time
// horizon) that turn a runaway scenario into a "no progress" error carrying
// its seed.
//
// Everything runs on the goroutine that calls Run: components are state
// machines that react to delivered messages and fired timers. The package
// knows nothing of Rivet.
package sim
