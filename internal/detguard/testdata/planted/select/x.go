package planted

func poll(c chan int) int {
	select {
	case v := <-c:
		return v
	default:
		return 0
	}
}
