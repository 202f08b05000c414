package planted

import "math/rand"

func roll() int { return rand.Intn(6) }
