// Package guard is Rivet's Guard ported to the sim kernel: the routing
// function, the route cache, the HTTP and WebSocket retry loops with their
// backoff, the retry predicates on 503 + x-rivet-error, the error-to-status
// mapping, and the pegboard gateway (tunnel forwarding, the 2 s tunnel ack
// timeout, in-flight state, acks, hibernation buffers and GC).
//
// It runs on the sim kernel and follows its determinism rules. It never
// imports the runner: the two meet only through model's protocol messages.
package guard
