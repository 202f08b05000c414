package planted

func spawn(f func()) {
	go f()
}
