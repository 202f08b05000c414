package planted

import "sync/atomic"

var hits atomic.Int64

func hit() { hits.Add(1) }
