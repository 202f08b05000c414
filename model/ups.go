package model

import (
	"slices"

	"github.com/guardsim/guardsim/sim"
)

// UPSNode is the node name of universal pub/sub.
const UPSNode = "ups"

// Publish travels from a UPS client to UPS.
type Publish struct {
	Subject string
	Msg     any
	// first is the Delivery to the first subscriber, allocated with the
	// publish (almost every subject has one subscriber).
	first Delivery
	// keep is the ping or pong this publish is part of, to be reused once
	// its only delivery was handled (nil for any other message).
	keep *keepalivePub
}

// Delivery travels from UPS to a subscribed client.
type Delivery struct {
	Subject string
	Msg     any
	// handlers is the receiving client's handler list for Subject.
	handlers *handlers
	// done, when set, goes back to UPS's free list once the receiving
	// client's handlers returned: the publish had this one delivery.
	done *keepalivePub
}

// Subjects used by the gateway, pegboard-runner and the actor workflow.
func RunnerReceiverSubject(r RunnerID) string   { return "runner." + string(r) } // GW:98-99
func GatewayReceiverSubject(node string) string { return "gateway." + node }     // GSS:62-84
func ActorSubject(a ActorID) string             { return "actor." + string(a) }  // PGR:142-154

// UPS is universal pub/sub: fire-and-forget, and a publish to a subject with
// no subscriber at the moment it reaches UPS is silently lost. Subscribing
// is immediate (upstream awaits the subscription); publishes and deliveries
// travel over sim connections and take their latency.
type UPS struct {
	w *sim.World
	// topics holds every subject ever subscribed to. A topic stays when its
	// last subscriber leaves: deliveries in flight point at its subscribers'
	// handler lists.
	topics map[string]*topic
	nodes  map[string]*upsNode // client node → its connection to UPS
	// publishers are taps on every client's Publish call (ObservePublish).
	publishers []func(node string, p *Publish)
	// free holds handled pings and pongs for reuse (keepalivePub).
	free []*keepalivePub
}

// topic is one subject at UPS: its subscribers, in subscription order.
type topic struct {
	subscribers []subscriber
}

// subscriber is one client node subscribed to a topic. It carries the
// client's handler list for the subject, which a delivery takes along, so
// the client finds its handlers without looking the subject up (a fast
// path: the list is the client's own, for as long as the client lives).
type subscriber struct {
	node     *upsNode
	handlers *handlers
}

// upsNode is a client node as UPS knows it: UPS's end of the node's
// current connection, nil while it has none.
type upsNode struct{ conn *sim.End }

// ObservePublish calls fn whenever a node hands a message to its pub/sub
// client, at that instant, whether the client sends it at once or buffers
// it while its connection is down: a tap for oracles, which must not change
// the world.
func (u *UPS) ObservePublish(fn func(node string, p *Publish)) {
	u.publishers = append(u.publishers, fn)
}

// NewUPS starts UPS on its node.
func NewUPS(w *sim.World) *UPS {
	u := &UPS{w: w, topics: map[string]*topic{}, nodes: map[string]*upsNode{}}
	w.Net().Listen(UPSNode, func(e *sim.End) {
		n := u.node(e.Peer())
		n.conn = e
		e.Send(&upsHello{})
		e.Handle(func(msg any) { u.route(msg.(*Publish)) }, func(sim.CloseReason) {
			if n.conn == e {
				n.conn = nil
			}
		})
	})
	return u
}

// node returns the client node named name, known from now on.
func (u *UPS) node(name string) *upsNode {
	n := u.nodes[name]
	if n == nil {
		n = &upsNode{}
		u.nodes[name] = n
	}
	return n
}

func (u *UPS) route(p *Publish) {
	var subs []subscriber
	if t := u.topics[p.Subject]; t != nil {
		subs = t.subscribers
	}
	if len(subs) == 0 {
		u.w.Trace(UPSNode, "ups.drop", sim.Str("subject", p.Subject), sim.Any("msg", p.Msg))
		return
	}
	first := true
	for _, s := range subs {
		if c := s.node.conn; c != nil {
			var d *Delivery
			if first {
				d, first = &p.first, false
			} else {
				d = &Delivery{}
				p.keep = nil // two deliveries share the message
				p.first.done = nil
			}
			*d = Delivery{Subject: p.Subject, Msg: p.Msg, handlers: s.handlers, done: p.keep}
			c.Send(d)
		}
	}
}

// subscribe adds the client node n, whose handlers for the subject are hs,
// to the subject's subscribers.
func (u *UPS) subscribe(subject string, n *upsNode, hs *handlers) {
	t := u.topics[subject]
	if t == nil {
		t = &topic{}
		u.topics[subject] = t
	}
	if !slices.ContainsFunc(t.subscribers, func(s subscriber) bool { return s.node == n }) {
		t.subscribers = append(t.subscribers, subscriber{n, hs})
	}
}

func (u *UPS) unsubscribe(subject string, n *upsNode) {
	if t := u.topics[subject]; t != nil {
		t.subscribers = slices.DeleteFunc(t.subscribers, func(s subscriber) bool { return s.node == n })
	}
}

// Subscription is a handle on one subscription of a client.
type Subscription struct {
	c       *UPSClient
	subject string
	id      uint64
}

type handler struct {
	id uint64
	fn func(msg any)
}

// handlers is a client's handler list for one subject, in subscription
// order. A client keeps one per subject for its whole life, even while it
// is empty.
type handlers struct{ list []handler }

// UPSClient is one node's connection to UPS.
type UPSClient struct {
	ups      *UPS
	node     string
	at       *upsNode // the node as UPS knows it
	conn     *sim.End
	handlers map[string]*handlers
	nextID   uint64
	up       bool       // connected: UPS said hello on the current connection
	buffered []*Publish // publishes waiting for the connection
}

// upsHello tells a client its connection is up.
type upsHello struct{}

// UPSReconnectWait is how long a client waits before redialling UPS after
// losing its connection (the NATS client's default ReconnectWait).
const UPSReconnectWait = 2 * sim.Second

// Client connects node to UPS. Like a NATS client, it redials after losing
// the connection and buffers publishes while it is down, flushing them once
// it is connected again; its subscriptions stay registered (UPS delivers to
// the new connection). Publishes written into a connection that broke
// before the client noticed are lost. A node has at most one client.
func (u *UPS) Client(node string) *UPSClient {
	c := &UPSClient{ups: u, node: node, at: u.node(node), handlers: map[string]*handlers{}}
	c.dial()
	return c
}

func (c *UPSClient) dial() {
	conn := c.ups.w.Net().Dial(c.node, UPSNode)
	c.conn = conn
	conn.Handle(func(msg any) {
		if _, ok := msg.(*upsHello); ok {
			c.up = true
			for _, p := range c.buffered {
				conn.Send(p)
			}
			c.buffered = nil
			return
		}
		d := msg.(*Delivery)
		hs := d.handlers // this client's list for d.Subject, as c.handlers holds it
		// Copy: a handler may unsubscribe while we iterate. A few
		// handlers are copied on the stack.
		// The first is active by construction: nothing ran since the copy.
		var buf [4]handler
		for i, h := range append(buf[:0], hs.list...) {
			if i == 0 || hs.active(h.id) {
				h.fn(d.Msg)
			}
		}
		if d.done != nil {
			c.ups.free = append(c.ups.free, d.done)
		}
	}, func(why sim.CloseReason) {
		c.up = false
		c.ups.w.Trace(c.node, "ups.client_lost", sim.Enum("why", why))
		c.ups.w.After(UPSReconnectWait, c.dial)
	})
}

func (hs *handlers) active(id uint64) bool {
	return slices.ContainsFunc(hs.list, func(h handler) bool { return h.id == id })
}

// Subscribe calls fn with every message published to subject from now on.
func (c *UPSClient) Subscribe(subject string, fn func(msg any)) Subscription {
	c.nextID++
	hs := c.handlers[subject]
	if hs == nil {
		hs = &handlers{}
		c.handlers[subject] = hs
	}
	hs.list = append(hs.list, handler{c.nextID, fn})
	c.ups.subscribe(subject, c.at, hs)
	return Subscription{c, subject, c.nextID}
}

// Unsubscribe ends the subscription; it is a no-op when already ended.
func (s Subscription) Unsubscribe() {
	if s.c == nil {
		return
	}
	hs := s.c.handlers[s.subject]
	hs.list = slices.DeleteFunc(hs.list, func(h handler) bool { return h.id == s.id })
	if len(hs.list) == 0 {
		s.c.ups.unsubscribe(s.subject, s.c.at)
	}
}

// Publish sends msg to subject, fire-and-forget.
func (c *UPSClient) Publish(subject string, msg any) {
	c.publish(&Publish{Subject: subject, Msg: msg})
}

// keepalivePub is a gateway's ping to a runner's subject or
// pegboard-runner's pong to the gateway, with its publish. An open socket
// is pinged every 3 s from c76f319fe, so in a long scenario these are most
// of the messages; their handlers copy what they need, so once the one
// delivery of such a publish was handled it is reused (issue 10: they were
// a sixth of the harness's allocations). Nothing keeps them: the oracle's
// taps never look at them, and a world that records its messages for a
// picture never reuses any (Network.Recording).
type keepalivePub struct {
	p    Publish
	ping ToRunnerPing
	pong ToGatewayPong
}

// keepalive returns a free keepalivePub, or a new one.
func (u *UPS) keepalive() *keepalivePub {
	if n := len(u.free); n > 0 {
		x := u.free[n-1]
		u.free = u.free[:n-1]
		return x
	}
	return &keepalivePub{}
}

// publishKeepalive publishes x's message, which the caller has set.
func (c *UPSClient) publishKeepalive(x *keepalivePub, subject string, msg any) {
	x.p = Publish{Subject: subject, Msg: msg}
	if !c.ups.w.Net().Recording() {
		x.p.keep = x
	}
	c.publish(&x.p)
}

// PublishPing publishes a gateway's ping (ping_task.rs@c76f319fe).
func PublishPing(c *UPSClient, subject string, m ToRunnerPing) {
	x := c.ups.keepalive()
	x.ping = m
	c.publishKeepalive(x, subject, &x.ping)
}

// PublishPong publishes pegboard-runner's pong to a ping
// (tunnel_to_ws_task.rs@c76f319fe:57-79).
func PublishPong(c *UPSClient, subject string, m ToGatewayPong) {
	x := c.ups.keepalive()
	x.pong = m
	c.publishKeepalive(x, subject, &x.pong)
}

// publishOf is a publish allocated together with its message.
type publishOf[M any] struct {
	p Publish
	m M
}

// PublishNew is c.Publish(subject, &m) for a message made for this
// publish: the message and its publish are one allocation.
func PublishNew[M any](c *UPSClient, subject string, m M) {
	x := &publishOf[M]{m: m}
	x.p = Publish{Subject: subject, Msg: &x.m}
	c.publish(&x.p)
}

func (c *UPSClient) publish(p *Publish) {
	for _, o := range c.ups.publishers {
		o(c.node, p)
	}
	if !c.up {
		c.buffered = append(c.buffered, p)
		return
	}
	c.conn.Send(p)
}

// Subjects lists the subjects that have a subscriber, sorted: what is still
// subscribed once a world is quiet.
func (u *UPS) Subjects() []string {
	return slices.DeleteFunc(sim.SortedKeys(u.topics), func(s string) bool { return len(u.topics[s].subscribers) == 0 })
}

// Buffered returns the publishes waiting for the connection, for tests.
func (c *UPSClient) Buffered() []*Publish { return c.buffered }
