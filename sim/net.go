package sim

import (
	"fmt"
	"math/rand/v2"
)

// Latency is the one-way delay of a link direction: Base plus a uniform
// draw in [0, Jitter) from the link's own random stream. Jitter never
// reorders a connection: a message is never delivered before one sent
// earlier on the same connection.
type Latency struct {
	Base, Jitter Time
}

// DefaultLatency is used for links that were never configured.
var DefaultLatency = Latency{Base: 1 * Millisecond, Jitter: 500 * Microsecond}

// CloseReason says how a connection ended, as its peer learns it.
type CloseReason uint8

const (
	// Closed: the peer closed gracefully, after every message it sent.
	Closed CloseReason = iota + 1
	// Reset: the peer reset the connection; messages in flight are lost.
	Reset
	// Broken: a drop fault on the link broke the connection.
	Broken
	// Refused: nobody listens at the dialled node, or the link is dropped.
	Refused
)

func (r CloseReason) String() string {
	switch r {
	case Closed:
		return "closed"
	case Reset:
		return "reset"
	case Broken:
		return "broken"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("CloseReason(%d)", uint8(r))
}

type linkKey struct{ from, to string }

// link is one direction between two nodes. Its faults and latency apply to
// every connection that sends over it.
type link struct {
	key     linkKey
	world   *World
	lat     Latency
	rng     *rand.Rand
	held    bool
	dropped bool
	dirs    []*direction // open directions over this link, in creation order
	// stream backs rng and inline the first dirs, allocated with the link.
	stream stream
	inline [2]*direction
}

type frameKind uint8

const (
	frameData frameKind = iota
	frameSyn
	frameFin
)

type frame struct {
	kind frameKind
	msg  any
}

// direction is one half of a connection: the frames one end has sent and
// the other has not yet received, in order.
type direction struct {
	link    *link
	to      *End
	frames  []frame
	head    int
	lastAt  Time
	dead    bool
	stalled int      // delivery events that fired while the link was held
	inline  [2]frame // the first frames' storage, allocated with the connection
}

// Network carries connections between named nodes of one world.
type Network struct {
	w         *World
	links     map[linkKey]*link
	order     []*link // links in creation order
	listeners map[string]func(*End)
	nextID    uint64
	observers []func(from, to string, msg any)
	senders   []func(from, to string, msg any)
	rec       *msgRecorder // nil unless RecordMessages
	// TraceMessages traces every delivered message (default true).
	TraceMessages bool
}

// Net returns the world's network, creating it on first use.
func (w *World) Net() *Network {
	if w.net == nil {
		w.net = &Network{w: w, links: make(map[linkKey]*link, 24), listeners: map[string]func(*End){}, TraceMessages: true}
	}
	return w.net
}

func (n *Network) link(from, to string) *link {
	k := linkKey{from, to}
	l, ok := n.links[k]
	if !ok {
		l = &link{key: k, world: n.w, lat: DefaultLatency}
		l.dirs = l.inline[:0]
		if name := "net/" + from + "->" + to; n.w.streams[name] != nil {
			l.rng = n.w.streams[name] // the same stream as Rand(name)
		} else {
			l.rng = n.w.newStream(name, &l.stream)
		}
		n.links[k] = l
		n.order = append(n.order, l)
	}
	return l
}

// Observe calls fn with every message delivered, before its handler runs:
// a tap on the wire for oracles, which must not change the world.
func (n *Network) Observe(fn func(from, to string, msg any)) { n.observers = append(n.observers, fn) }

// ObserveSend calls fn with every message a node puts on a connection, at
// the instant it is sent (even on a connection that is already gone, and
// whether or not a fault later loses it): the
// sender's side of the tap, for oracles that judge when a node acted rather
// than when the network delivered.
func (n *Network) ObserveSend(fn func(from, to string, msg any)) { n.senders = append(n.senders, fn) }

// SetLatency sets the latency of the direction from → to.
func (n *Network) SetLatency(from, to string, lat Latency) {
	n.link(from, to).lat = lat
	n.w.Trace(from, "net.latency", Str("to", to), Dur("base", lat.Base), Dur("jitter", lat.Jitter))
}

// Listen makes node accept connections: accept is called with the node's end
// of each new connection, and must set its handlers.
func (n *Network) Listen(node string, accept func(*End)) { n.listeners[node] = accept }

// Unlisten stops node accepting; later dials are refused.
func (n *Network) Unlisten(node string) { delete(n.listeners, node) }

// Conn is a connection between two nodes: ordered, reliable delivery in
// each direction until it is closed, reset or broken.
type Conn struct {
	ID   uint64
	ends [2]End
	dirs [2]direction // ends[i].out, allocated with the connection
}

// End is one side of a connection.
type End struct {
	conn      *Conn
	side      int
	node      string
	out       *direction
	onMessage func(any)
	onClose   func(CloseReason)
	done      bool // closed locally, or the peer's close was delivered
}

// Dial opens a connection from node from to node to and returns from's end,
// ready to send: messages queue behind the connection's opening. If nobody
// listens at to when the opening arrives, or the link is dropped, the dialler
// learns Refused.
func (n *Network) Dial(from, to string) *End {
	n.nextID++
	c := &Conn{ID: n.nextID}
	c.ends[0] = End{conn: c, side: 0, node: from}
	c.ends[1] = End{conn: c, side: 1, node: to}
	c.ends[0].out = n.newDirection(&c.dirs[0], n.link(from, to), &c.ends[1])
	c.ends[1].out = n.newDirection(&c.dirs[1], n.link(to, from), &c.ends[0])
	n.w.Trace(from, "net.dial", Uint("conn", c.ID), Str("to", to))
	if c.ends[0].out.link.dropped {
		n.breakConn(c, Refused)
		return &c.ends[0]
	}
	c.ends[0].out.push(frame{kind: frameSyn})
	return &c.ends[0]
}

func (n *Network) newDirection(d *direction, l *link, to *End) *direction {
	*d = direction{link: l, to: to}
	d.frames = d.inline[:0]
	l.dirs = append(l.dirs, d)
	return d
}

// Node is the name of this end's node.
func (e *End) Node() string { return e.node }

// Peer is the name of the other end's node.
func (e *End) Peer() string { return e.conn.ends[1-e.side].node }

// ID is the connection's id.
func (e *End) ID() uint64 { return e.conn.ID }

// Open reports whether this end can still send.
func (e *End) Open() bool { return !e.done }

// Handle sets what happens when a message arrives at this end and when the
// peer closes, resets or the connection breaks (called at most once).
func (e *End) Handle(onMessage func(msg any), onClose func(CloseReason)) {
	e.onMessage, e.onClose = onMessage, onClose
}

// Send queues msg for ordered delivery to the peer. It reports false, and
// drops msg, when this end is no longer open.
func (e *End) Send(msg any) bool {
	n := e.world().net
	for _, o := range n.senders {
		o(e.node, e.Peer(), msg)
	}
	if n.rec != nil {
		n.rec.sent(n.w, e, msg)
	}
	if e.done {
		return false
	}
	e.out.push(frame{kind: frameData, msg: msg})
	return true
}

// Close closes the connection gracefully: the peer receives every message
// sent so far, then learns Closed. This end gets no callback.
func (e *End) Close() {
	if e.done {
		return
	}
	e.done = true
	e.world().Trace(e.node, "net.close", Uint("conn", e.conn.ID), Str("peer", e.Peer()))
	e.out.push(frame{kind: frameFin})
}

// Reset aborts the connection: frames in flight either way are lost and the
// peer learns Reset after one link latency. This end gets no callback.
func (e *End) Reset() {
	if e.done {
		return
	}
	e.done = true
	w := e.world()
	w.Trace(e.node, "net.reset", Uint("conn", e.conn.ID), Str("peer", e.Peer()))
	peer := &e.conn.ends[1-e.side]
	e.out.kill()
	peer.out.kill()
	w.After(e.out.link.delay(), func() { peer.notify(Reset) })
}

func (e *End) world() *World { return e.out.link.world }

func (e *End) notify(r CloseReason) {
	if e.done {
		return
	}
	e.done = true
	e.out.kill()
	e.world().Trace(e.node, "net.closed", Uint("conn", e.conn.ID), Str("peer", e.Peer()), Enum("why", r))
	if e.onClose != nil {
		e.onClose(r)
	}
}

func (l *link) delay() Time {
	d := l.lat.Base
	if l.lat.Jitter > 0 {
		d += Time(l.rng.Int64N(int64(l.lat.Jitter)))
	}
	return d
}

func (d *direction) push(f frame) {
	if d.dead {
		return
	}
	w := d.link.world
	at := w.now + d.link.delay()
	if at < d.lastAt {
		at = d.lastAt
	}
	d.lastAt = at
	d.frames = append(d.frames, f)
	w.atDeliver(at, d)
}

// kill discards the direction's frames; later delivery events do nothing.
func (d *direction) kill() {
	if d.dead {
		return
	}
	d.dead = true
	if r := d.link.world.net.rec; r != nil {
		r.lose(d.link.world, d)
	}
	clear(d.frames)
	d.frames, d.head = nil, 0
	l := d.link
	for i, x := range l.dirs {
		if x == d {
			l.dirs = append(l.dirs[:i], l.dirs[i+1:]...)
			break
		}
	}
}

func (n *Network) deliverNext(d *direction) {
	if d.dead || d.head >= len(d.frames) {
		return
	}
	if d.link.held {
		d.stalled++
		return
	}
	f := d.frames[d.head]
	d.frames[d.head] = frame{}
	d.head++
	if d.head == len(d.frames) {
		d.frames, d.head = d.frames[:0], 0
	}
	to := d.to
	switch f.kind {
	case frameSyn:
		accept := n.listeners[to.node]
		if accept == nil {
			n.w.Trace(to.node, "net.refuse", Uint("conn", to.conn.ID), Str("from", to.Peer()))
			n.breakConn(to.conn, Refused)
			return
		}
		n.w.Trace(to.node, "net.accept", Uint("conn", to.conn.ID), Str("from", to.Peer()))
		accept(to)
	case frameFin:
		to.notify(Closed)
	case frameData:
		if n.rec != nil {
			state := Delivered
			if to.done {
				state = Lost
			}
			n.rec.settle(n.w, d, state)
		}
		if to.done {
			return
		}
		if n.TraceMessages && n.w.Tracing() {
			n.w.Trace(to.node, "recv", Uint("conn", to.conn.ID), Str("from", to.Peer()), Any("msg", f.msg))
		}
		for _, o := range n.observers {
			o(to.Peer(), to.node, f.msg)
		}
		if to.onMessage != nil {
			to.onMessage(f.msg)
		}
	}
}

// breakConn ends both sides of c now with reason r.
func (n *Network) breakConn(c *Conn, r CloseReason) {
	a, b := &c.ends[0], &c.ends[1]
	a.out.kill()
	b.out.kill()
	if r == Refused {
		// The listener never saw the connection: only the dialler learns.
		b.done = true
	}
	n.w.After(0, func() { a.notify(r) })
	n.w.After(0, func() { b.notify(r) })
}

// Hold makes the direction from → to hold messages: they wait, in order,
// until Heal. Resets still get through.
func (n *Network) Hold(from, to string) {
	n.link(from, to).held = true
	n.w.Trace(from, "fault.hold", Str("to", to))
}

// Drop breaks every connection over the direction from → to (both sides
// learn Broken) and refuses new ones over it until Heal.
func (n *Network) Drop(from, to string) {
	l := n.link(from, to)
	l.dropped = true
	n.w.Trace(from, "fault.drop", Str("to", to))
	dirs := append([]*direction(nil), l.dirs...)
	for _, d := range dirs {
		if !d.dead {
			n.breakConn(d.to.conn, Broken)
		}
	}
}

// HealAll heals every direction that is held or dropped, in the order the
// links were first used.
func (n *Network) HealAll() {
	for _, l := range n.order {
		n.Heal(l.key.from, l.key.to)
	}
}

// Heal lifts hold and drop on the direction from → to; held messages are
// delivered in order.
func (n *Network) Heal(from, to string) {
	l := n.link(from, to)
	if !l.held && !l.dropped {
		return
	}
	l.held, l.dropped = false, false
	n.w.Trace(from, "fault.heal", Str("to", to))
	for _, d := range l.dirs {
		for ; d.stalled > 0; d.stalled-- {
			at := n.w.now + l.delay()
			if at < d.lastAt {
				at = d.lastAt
			}
			d.lastAt = at
			n.w.atDeliver(at, d)
		}
	}
}
