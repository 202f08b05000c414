package sim

// RunDemo runs the kernel's demo scenario on w: a client dials a server and
// plays rounds of ping-pong over a jittery link, the server→client direction
// is held for a while and healed, and the client finally closes. It
// exercises timers, streams, connections and faults, and is the smallest
// world whose trace shows what the kernel records.
func RunDemo(w *World, rounds int) error {
	n := w.Net()
	n.SetLatency("client", "server", Latency{Base: 2 * Millisecond, Jitter: 3 * Millisecond})
	n.SetLatency("server", "client", Latency{Base: 2 * Millisecond, Jitter: 3 * Millisecond})
	n.Listen("server", func(e *End) {
		e.Handle(func(msg any) {
			e.Send(msg.(int) + 1)
		}, func(r CloseReason) {})
	})
	c := n.Dial("client", "server")
	think := w.Rand("client/think")
	got := 0
	c.Handle(func(msg any) {
		got++
		w.Trace("client", "pong", Any("n", msg))
		if got == rounds {
			c.Close()
			return
		}
		w.After(Time(think.Int64N(int64(10*Millisecond))), func() { c.Send(msg.(int) + 1) })
	}, func(r CloseReason) { w.Trace("client", "lost", Enum("why", r)) })
	c.Send(0)
	w.After(20*Millisecond, func() { n.Hold("server", "client") })
	w.After(70*Millisecond, func() { n.Heal("server", "client") })
	return w.RunUntilQuiet()
}
