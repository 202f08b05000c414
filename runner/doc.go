// Package runner is Rivet's TypeScript runner SDK ported to the sim kernel:
// the actors map with generations, the tunnel (acks, pending messages, GC),
// HTTP and WebSocket handling, actor start and stop, and the runner's
// connection to the engine with its lost threshold and reconnect backoff.
//
// It runs on the sim kernel and follows its determinism rules. It never
// imports guard: the two meet only through model's protocol messages.
package runner
