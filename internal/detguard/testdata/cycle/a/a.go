package a

import "github.com/guardsim/guardsim/internal/detguard/testdata/cycle/b"

var A = b.B
