package planted

type registry struct {
	actors map[string]int
}

func (r *registry) total() int {
	n := 0
	for _, v := range r.actors {
		n += v
	}
	return n
}
