package planted

import t "time"

func wait() {
	t.Sleep(t.Millisecond)
	<-t.After(t.Second)
}
