package sim

// The message record is what a picture of a run needs and the trace does
// not say: when and after which trace line each delivered message was
// sent, and which messages the network lost. It is off unless a caller
// asks for it (RecordMessages), costs one nil check per send and delivery
// when off, and never changes the world: nothing it keeps is read back by
// the simulation, and it neither traces nor draws randomness.

// MessageRecord is one message a node put on a connection.
type MessageRecord struct {
	From, To string
	Conn     uint64
	Msg      any
	Sent     Time
	SentLine int // the number of trace lines before the send (the next line's index)
	// Recv and RecvLine are when it was delivered and the index of its
	// recv trace line; for a lost message, when it was lost and the number
	// of trace lines by then.
	Recv     Time
	RecvLine int
	State    RecordState
}

// RecordState is what became of a recorded message.
type RecordState uint8

const (
	// InFlight: not delivered when the record was read (still on the wire,
	// or held by a fault).
	InFlight RecordState = iota
	// Delivered to the other end's handler.
	Delivered
	// Lost: its connection broke or was reset before delivery, or the
	// receiving end had closed.
	Lost
)

func (s RecordState) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Lost:
		return "lost"
	}
	return "in flight"
}

// msgRecorder keeps the record and, per direction, the indices of its frames'
// records in send order (frames are delivered in that order).
type msgRecorder struct {
	msgs    []MessageRecord
	pending map[*direction][]int
}

// RecordMessages starts recording every message sent from now on.
func (n *Network) RecordMessages() {
	if n.rec == nil {
		n.rec = &msgRecorder{pending: map[*direction][]int{}}
	}
}

// Recording reports whether the network records its messages: a node
// that reuses a message once handled must not while it does.
func (n *Network) Recording() bool { return n.rec != nil }

// MessageRecords returns the record, in send order.
func (n *Network) MessageRecords() []MessageRecord {
	if n.rec == nil {
		return nil
	}
	return n.rec.msgs
}

// sent records msg, put on e's connection: pending delivery, or lost at
// once when e can no longer send.
func (r *msgRecorder) sent(w *World, e *End, msg any) {
	m := MessageRecord{From: e.node, To: e.Peer(), Conn: e.conn.ID, Msg: msg, Sent: w.now, SentLine: len(w.trace.lines)}
	if e.done {
		m.Recv, m.RecvLine, m.State = w.now, len(w.trace.lines), Lost
		r.msgs = append(r.msgs, m)
		return
	}
	r.msgs = append(r.msgs, m)
	r.pending[e.out] = append(r.pending[e.out], len(r.msgs)-1)
}

// settle marks the oldest pending message of d delivered or lost.
func (r *msgRecorder) settle(w *World, d *direction, s RecordState) {
	q := r.pending[d]
	if len(q) == 0 {
		return
	}
	m := &r.msgs[q[0]]
	m.Recv, m.RecvLine, m.State = w.now, len(w.trace.lines), s
	if len(q) == 1 {
		delete(r.pending, d)
	} else {
		r.pending[d] = q[1:]
	}
}

// lose marks every pending message of d lost.
func (r *msgRecorder) lose(w *World, d *direction) {
	for _, i := range r.pending[d] {
		m := &r.msgs[i]
		m.Recv, m.RecvLine, m.State = w.now, len(w.trace.lines), Lost
	}
	delete(r.pending, d)
}
