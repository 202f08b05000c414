package planted

import "math/rand/v2"

func roll() int {
	return rand.IntN(6) + int(rand.N[int64](3))
}
