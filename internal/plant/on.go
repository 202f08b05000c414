//go:build guardsim_plant

package plant

// Enabled reports whether planted bugs are compiled in.
const Enabled = true

var active Bug

// On reports whether the bug is switched on.
func On(b Bug) bool { return b != None && active == b }

// Set switches one bug on (None: all off). It is set before a world is
// built and never while one runs.
func Set(b Bug) { active = b }
