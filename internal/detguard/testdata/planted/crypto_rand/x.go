package planted

import "crypto/rand"

func token() string { return rand.Text() }
