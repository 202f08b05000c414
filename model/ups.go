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
}

// Delivery travels from UPS to a subscribed client.
type Delivery struct {
	Subject string
	Msg     any
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
	w     *sim.World
	subs  map[string][]string // subject → subscribed client nodes, in subscription order
	conns map[string]*sim.End // client node → UPS's end of its connection
	// publishers are taps on every client's Publish call (ObservePublish).
	publishers []func(node string, p *Publish)
}

// ObservePublish calls fn whenever a node hands a message to its pub/sub
// client, at that instant, whether the client sends it at once or buffers
// it while its connection is down: a tap for oracles, which must not change
// the world.
func (u *UPS) ObservePublish(fn func(node string, p *Publish)) {
	u.publishers = append(u.publishers, fn)
}

// NewUPS starts UPS on its node.
func NewUPS(w *sim.World) *UPS {
	u := &UPS{w: w, subs: map[string][]string{}, conns: map[string]*sim.End{}}
	w.Net().Listen(UPSNode, func(e *sim.End) {
		node := e.Peer()
		u.conns[node] = e
		e.Send(&upsHello{})
		e.Handle(func(msg any) { u.route(msg.(*Publish)) }, func(sim.CloseReason) {
			if u.conns[node] == e {
				delete(u.conns, node)
			}
		})
	})
	return u
}

func (u *UPS) route(p *Publish) {
	nodes := u.subs[p.Subject]
	if len(nodes) == 0 {
		u.w.Trace(UPSNode, "ups.drop", sim.Str("subject", p.Subject), sim.Any("msg", p.Msg))
		return
	}
	first := true
	for _, n := range nodes {
		if c := u.conns[n]; c != nil {
			var d *Delivery
			if first {
				d, first = &p.first, false
			} else {
				d = &Delivery{}
			}
			*d = Delivery{Subject: p.Subject, Msg: p.Msg}
			c.Send(d)
		}
	}
}

func (u *UPS) subscribe(subject, node string) {
	if !slices.Contains(u.subs[subject], node) {
		u.subs[subject] = append(u.subs[subject], node)
	}
}

func (u *UPS) unsubscribe(subject, node string) {
	s := slices.DeleteFunc(u.subs[subject], func(n string) bool { return n == node })
	if len(s) == 0 {
		delete(u.subs, subject)
	} else {
		u.subs[subject] = s
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

// UPSClient is one node's connection to UPS.
type UPSClient struct {
	ups      *UPS
	node     string
	conn     *sim.End
	handlers map[string][]handler
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
// before the client noticed are lost.
func (u *UPS) Client(node string) *UPSClient {
	c := &UPSClient{ups: u, node: node, handlers: map[string][]handler{}}
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
		// Copy: a handler may unsubscribe while we iterate. A few
		// handlers are copied on the stack.
		// The first is active by construction: nothing ran since the copy.
		var buf [4]handler
		for i, h := range append(buf[:0], c.handlers[d.Subject]...) {
			if i == 0 || c.active(d.Subject, h.id) {
				h.fn(d.Msg)
			}
		}
	}, func(why sim.CloseReason) {
		c.up = false
		c.ups.w.Trace(c.node, "ups.client_lost", sim.Enum("why", why))
		c.ups.w.After(UPSReconnectWait, c.dial)
	})
}

func (c *UPSClient) active(subject string, id uint64) bool {
	return slices.ContainsFunc(c.handlers[subject], func(h handler) bool { return h.id == id })
}

// Subscribe calls fn with every message published to subject from now on.
func (c *UPSClient) Subscribe(subject string, fn func(msg any)) Subscription {
	c.nextID++
	c.handlers[subject] = append(c.handlers[subject], handler{c.nextID, fn})
	c.ups.subscribe(subject, c.node)
	return Subscription{c, subject, c.nextID}
}

// Unsubscribe ends the subscription; it is a no-op when already ended.
func (s Subscription) Unsubscribe() {
	if s.c == nil {
		return
	}
	hs := slices.DeleteFunc(s.c.handlers[s.subject], func(h handler) bool { return h.id == s.id })
	if len(hs) == 0 {
		delete(s.c.handlers, s.subject)
		s.c.ups.unsubscribe(s.subject, s.c.node)
	} else {
		s.c.handlers[s.subject] = hs
	}
}

// Publish sends msg to subject, fire-and-forget.
func (c *UPSClient) Publish(subject string, msg any) {
	c.publish(&Publish{Subject: subject, Msg: msg})
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
func (u *UPS) Subjects() []string { return sim.SortedKeys(u.subs) }

// Buffered returns the publishes waiting for the connection, for tests.
func (c *UPSClient) Buffered() []*Publish { return c.buffered }
