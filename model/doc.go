// Package model holds the modelled parts of Rivet that are not under test but
// shape every race: the tunnel protocol messages shared by the pegboard
// gateway and the runner, the engine's actor workflow as Guard observes it
// (the UDB keys Guard reads and the Ready/Stopped/Failed/DestroyStarted
// messages), universal pub/sub (UPS) that silently drops a publish with no
// subscriber, and the engine's pegboard-runner endpoint that tracks active
// tunnel requests and aborts them when its runner disconnects.
//
// It runs on the sim kernel and follows its determinism rules.
package model
