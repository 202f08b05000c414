//go:build !guardsim_plant

package plant

// Enabled reports whether planted bugs are compiled in.
const Enabled = false

// On reports whether the bug is switched on: never, in this build.
func On(Bug) bool { return false }

// Set switches one bug on (None: all off). Without the guardsim_plant
// build tag it does nothing.
func Set(Bug) {}
