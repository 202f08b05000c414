// Package properties wires sim, model, guard and runner into a world for one
// scenario, generates interleavings with pgregory.net/rapid, and checks what
// clients observe against a reference oracle built from the true placement
// history. It also runs the scenario scripts under testdata/scenarios.
package properties
