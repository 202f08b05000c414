package model

import (
	"maps"
)

// RequestID identifies one tunnel request (upstream a UUIDv4, RequestId in
// PROTO:192-320). The gateway draws a fresh one per HTTP attempt (GW:102) and
// reuses one per client WebSocket across attempts (PS:1823, GW:204).
type RequestID uint64

// MessageID identifies one tunnel message (upstream a UUIDv4); TunnelAck
// matches messages by it.
type MessageID uint64

// ActorID names an actor.
type ActorID string

// RunnerID names a runner. In the simulation a runner's id is its node name.
type RunnerID string

// Generation counts an actor's allocations: each start gets a new one.
type Generation uint32

// Headers is an HTTP header map with lowercase keys. A header with several
// values keeps only its last, as Guard does (errata E1).
type Headers map[string]string

// Clone copies h.
func (h Headers) Clone() Headers {
	return maps.Clone(h)
}

// Header names and values that the protocol depends on.
const (
	// XRivetError marks a retryable 503 (PS:42, PS:2457-2460).
	XRivetError = "x-rivet-error"
	// XRivetRayID is on every Guard response (PS:2217-2233).
	XRivetRayID = "x-rivet-ray-id"
	// SecWebSocketProtocol is set to "rivet" on every 101 (PS:1982-1995).
	SecWebSocketProtocol = "sec-websocket-protocol"
	// RunnerActorNotFound is the runner's x-rivet-error value for an
	// unknown actor after #3322 (TUN:212-223).
	RunnerActorNotFound = "runner.actor_not_found"
	// TraceHeader is the harness's trace context (not upstream): each
	// simulated client names its request or socket in it. Guard copies the
	// request's headers into RequestStart and WebSocketOpen as upstream
	// does, and puts the value on the engine operations it runs for the
	// request (GetForGateway, SignalWake), where upstream carries the ray
	// id in the operation's tracing context. The oracle attributes what it
	// sees on the wire to client operations by it.
	TraceHeader = "x-sim-client"
)

// TunnelKind is the kind of one tunnel message (PROTO:192-320).
type TunnelKind interface{ tunnelKind() string }

// ToClientTunnelMessage goes from the gateway to the runner
// (PROTO:192-320). GatewayReplyTo is set only on the first message of a
// request (GSS:127-131); pegboard-runner strips and records it (P2C:46-79).
//
// Gateway is the gateway's id (its receiver subject here), carried by every
// message from a89ca2b17 on (in the message id from 6b7ebbb0d): the runner
// sends its answers with it and pegboard-runner routes them by it.
type ToClientTunnelMessage struct {
	RequestID      RequestID
	MessageID      MessageID
	GatewayReplyTo string
	Gateway        string
	Kind           TunnelKind
}

// ToServerTunnelMessage goes from the runner to the gateway.
type ToServerTunnelMessage struct {
	RequestID RequestID
	MessageID MessageID
	Gateway   string // from a89ca2b17, see ToClientTunnelMessage
	Kind      TunnelKind
}

// Gateway → runner kinds.
type (
	// RequestStart starts an HTTP request; the gateway always sends
	// Stream=false (GW:109-122).
	RequestStart struct {
		ActorID ActorID
		Method  string
		Path    string
		Headers Headers
		Body    string
		Stream  bool
	}
	// RequestAbort is not sent by the gateway at f3105c779; kept for
	// completeness of the protocol.
	RequestAbort struct{}
	// WebSocketOpen opens a tunnelled WebSocket (GW:211-221).
	WebSocketOpen struct {
		ActorID ActorID
		Path    string
		Headers Headers
	}
	// WebSocketMessage carries a client message; Index is assigned when
	// hibernation is on (GSS:133-143).
	WebSocketMessage struct {
		Index  uint16
		Data   string
		Binary bool
	}
	// WebSocketClose is Guard's close to the runner (GW:452-457).
	WebSocketClose struct {
		Code   *uint16
		Reason string
	}
	// TunnelAck acks another message, matched by MessageID; it flows both
	// ways.
	TunnelAck struct{}
)

// Runner → gateway kinds.
type (
	// ResponseStart is the whole response when Stream=false (TUN:430-438).
	ResponseStart struct {
		Status  int
		Headers Headers
		Body    string
		Stream  bool
	}
	// ResponseAbort is sent only by pegboard-runner on disconnect
	// (PBR:164-166).
	ResponseAbort struct{}
	// ServerWebSocketOpen answers an open (TUN:574-580); LastMsgIndex -1
	// means none.
	ServerWebSocketOpen struct {
		CanHibernate bool
		LastMsgIndex int64
	}
	// ServerWebSocketMessage is an actor → client message.
	ServerWebSocketMessage struct {
		Data   string
		Binary bool
	}
	// ServerWebSocketMessageAck acks client messages up to Index.
	ServerWebSocketMessageAck struct{ Index uint16 }
	// ServerWebSocketClose closes from the runner side, with the retry
	// flag (PROTO:264-268).
	ServerWebSocketClose struct {
		Code   *uint16
		Reason string
		Retry  bool
	}
)

func (RequestStart) tunnelKind() string              { return "RequestStart" }
func (RequestAbort) tunnelKind() string              { return "RequestAbort" }
func (WebSocketOpen) tunnelKind() string             { return "WebSocketOpen" }
func (WebSocketMessage) tunnelKind() string          { return "WebSocketMessage" }
func (WebSocketClose) tunnelKind() string            { return "WebSocketClose" }
func (TunnelAck) tunnelKind() string                 { return "TunnelAck" }
func (ResponseStart) tunnelKind() string             { return "ResponseStart" }
func (ResponseAbort) tunnelKind() string             { return "ResponseAbort" }
func (ServerWebSocketOpen) tunnelKind() string       { return "ServerWebSocketOpen" }
func (ServerWebSocketMessage) tunnelKind() string    { return "ServerWebSocketMessage" }
func (ServerWebSocketMessageAck) tunnelKind() string { return "ServerWebSocketMessageAck" }
func (ServerWebSocketClose) tunnelKind() string      { return "ServerWebSocketClose" }

// Code returns a pointer to c, for the optional close codes.
func Code(c uint16) *uint16 { return &c }

// Close codes (PS:2484, 2496-2499).
const (
	CloseNormal   uint16 = 1000
	CloseAbnormal uint16 = 1006
	ClosePolicy   uint16 = 1008 // policy violation: ws.message_index_skip (2e22a2e61)
	CloseError    uint16 = 1011
)

// ToRunnerPing is the gateway's ping for an open socket, published to the
// runner's subject every 3 s from c76f319fe (GW@c76f319fe:41, 416,
// ping_task.rs). pegboard-runner answers it itself with ToGatewayPong to
// the gateway named in it; the runner never sees it.
type ToRunnerPing struct {
	Gateway   string
	RequestID RequestID
	TS        int64 // ms
}

// ToGatewayPong answers a ToRunnerPing (PBR tunnel_to_ws_task.rs@c76f319fe:57-79).
type ToGatewayPong struct {
	RequestID RequestID
	TS        int64
}
