package planted

func drain(c <-chan int) (n int) {
	for v := range c {
		n += v
	}
	return n
}
