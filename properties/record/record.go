// Package record is what one simulated world observed, as data: what its
// clients and its actors' own code saw, what crossed the wire, the faults and
// lifecycle actions the scenario injected, and the engine's history. The
// world (package properties) fills it in; the oracle (package
// properties/oracle) judges it. It imports neither Guard nor the runner, so
// nothing that reads a Record can ask them what they did.
package record

import (
	"fmt"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// A Record is everything the oracle may look at.
type Record struct {
	// Profile is the upstream commit the world ran.
	Profile model.Profile
	// End is the virtual time the world stopped at.
	End sim.Time
	// Settled: the liveness phase ran to the end, so the world was quiet.
	Settled bool

	// What the clients saw.
	Requests []*HTTP
	Sockets  []*WS
	Probes   []Probe // the liveness phase's requests and sockets

	// What the actors' code saw: its hooks and WebSocket listeners being
	// called (model.AppEvent), in order.
	App []model.AppEvent

	// What crossed the wire.
	Wire Wire

	// The world's true history: what the scenario did, what each actor was
	// configured to do, and the engine's placement history.
	Notes        []Note
	Actors       map[model.ActorID]ActorFacts
	History      []model.Placement
	EngineActors []model.ActorID

	// Gauges are measured once the world is quiet, the way an operator
	// reads a metric; they are sizes, never a component's account of what
	// it did.
	Gauges Gauges
}

// HTTP is one client HTTP request and what the client saw.
type HTTP struct {
	Name     string
	Actor    model.ActorID
	Issued   sim.Time
	Answered sim.Time  // when the client got its response
	Response *Response // nil: never answered
}

// Response is the HTTP response a client got.
type Response struct {
	Status  int
	Headers model.Headers
	Body    string
}

func (r *Response) String() string {
	s := fmt.Sprintf("%d", r.Status)
	if v, ok := r.Headers[model.XRivetError]; ok {
		s += " x-rivet-error=" + v
	}
	return s + fmt.Sprintf(" %q", r.Body)
}

// WS is one client WebSocket and what the client saw: the 101, the actor's
// frames in order, and the close.
type WS struct {
	Name     string
	Actor    model.ActorID
	Issued   sim.Time
	Upgraded bool
	Protocol string // sec-websocket-protocol of the 101
	Received []string
	Sent     []string
	// ClientClosed: the client sent its close first, at ClientClosedAt.
	ClientClosed   bool
	ClientClosedAt sim.Time
	Closed         bool
	CloseCode      uint16
	CloseReason    string
	ClosedAt       sim.Time
}

// Probe is a request or socket the liveness phase issued.
type Probe struct {
	HTTP *HTTP
	WS   *WS
}

// Note is something the scenario did that properties condition on: a
// network or runner fault, or a lifecycle action on an actor.
type Note struct {
	At    sim.Time
	Fault bool
	Actor model.ActorID // for lifecycle actions
	What  string
}

// ActorFacts is how the scenario configured an actor's code (at the end).
type ActorFacts struct {
	CanHibernate   bool
	WSHandlerThrow bool
}

// Gauges are sizes of state measured when the world is quiet.
type Gauges struct {
	// InFlight is the number of entries in the gateway's in-flight map.
	InFlight int
	// Subjects are the pub/sub subjects with a subscriber, sorted.
	Subjects []string
}

// Wire is what the taps on the network saw. Every entry is attributed to a
// client operation by the trace header the client set (model.TraceHeader)
// or to a request id that such an entry carried.
type Wire struct {
	// Starts are RequestStart and WebSocketOpen publishes, by client.
	Starts map[string][]Start
	// Reads are get_for_gateway operations Guard sent for a client.
	Reads map[string][]Read
	// Replies are the engine's answers to reads reaching Guard, by read id.
	Replies map[uint64]sim.Time
	// Arrivals are RequestStart and WebSocketOpen reaching a runner.
	Arrivals map[model.RequestID][]Arrival
	// Responses are runner tunnel messages (acks aside) reaching Guard.
	Responses map[model.RequestID][]Answer
	// RunnerCloses are Guard's WebSocketClose reaching a runner.
	RunnerCloses map[model.RequestID][]Arrival
	// Stopped are an actor's Stopped reaching Guard.
	Stopped map[model.ActorID][]sim.Time
	// Wakes are Guard's Wake signals reaching the engine.
	Wakes map[model.ActorID][]sim.Time
	// Acks are the runner's TunnelAcks reaching Guard.
	Acks map[model.RequestID][]sim.Time
	// Commands are the engine's start and stop commands reaching a runner.
	Commands []Command
	// Peers are Guard's connections to a peer datacenter, by client.
	Peers map[string][]PeerConnect
}

// Command is a CommandStartActor or CommandStopActor reaching a runner.
type Command struct {
	At         sim.Time
	Runner     model.RunnerID
	Actor      model.ActorID
	Generation model.Generation
	Stop       bool
}

// NewWire returns an empty Wire.
func NewWire() Wire {
	return Wire{Starts: map[string][]Start{}, Reads: map[string][]Read{}, Replies: map[uint64]sim.Time{},
		Arrivals: map[model.RequestID][]Arrival{}, Responses: map[model.RequestID][]Answer{},
		RunnerCloses: map[model.RequestID][]Arrival{}, Stopped: map[model.ActorID][]sim.Time{},
		Wakes: map[model.ActorID][]sim.Time{}, Acks: map[model.RequestID][]sim.Time{}, Peers: map[string][]PeerConnect{}}
}

// Start is one RequestStart or WebSocketOpen publish: Sent when Guard put it
// on the wire, Reached when pub/sub got it (-1: never).
type Start struct {
	Sent    sim.Time
	Seq     int64 // order among the wire's Starts, Answers and Reads, for those of one instant
	Reached sim.Time
	Request model.RequestID
	Runner  model.RunnerID
	WS      bool
}

// Read is one get_for_gateway Guard sent.
type Read struct {
	Sent  sim.Time
	Seq   int64 // order among the wire's Starts, Answers and Reads, for those of one instant
	ID    uint64
	Actor model.ActorID
}

// Arrival is a message reaching a runner.
type Arrival struct {
	At     sim.Time
	Runner model.RunnerID
}

// Answer is a runner's tunnel message reaching Guard.
type Answer struct {
	At    sim.Time
	Seq   int64 // order among the wire's Starts, Answers and Reads, for those of one instant
	Kind  model.TunnelKind
	Retry bool // a 503 carrying x-rivet-error
}

// PeerConnect is one connection Guard opened to a peer datacenter's guard
// for a client WebSocket: Accepted is set by the peer (part of the world).
type PeerConnect struct {
	Sent     sim.Time
	Accepted bool
}
