package b

import "github.com/guardsim/guardsim/internal/detguard/testdata/cycle/a"

var B = a.A
