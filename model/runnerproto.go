package model

import "fmt"

// The runner protocol between a runner and its pegboard-runner endpoint in
// the engine (PROTO, RUN). Engine → runner messages implement ToClient,
// runner → engine messages implement ToServer. Both travel over the runner's
// one WebSocket to the engine, a sim connection.

// ToClient is an engine → runner message.
type ToClient interface{ toClient() }

// ToServer is a runner → engine message.
type ToServer interface{ toServer() }

// ToServerInit opens a runner session (RUN:478-501). LastCommandIdx is the
// last command the runner processed in Incarnation, so the engine resends
// only the commands after it (RUN:483, RWF:95-128).
//
// Indices are 1-based here, so that the zero value means "none" (upstream
// uses -1).
type ToServerInit struct {
	Runner         RunnerID
	Incarnation    uint32
	LastCommandIdx int64
}

// ToClientInit answers it with the runner lost threshold that the runner uses
// to stop all its actors after losing the engine (RWF:117, RUN:567-569).
//
// LastEventIdx is the last runner event the engine processed: the runner
// resends the later ones (RUN:574-579, 1429-1445). Incarnation names the
// runner workflow: a runner that was declared lost gets a new one, with a
// fresh command log (upstream, a new runner workflow and runner id).
type ToClientInit struct {
	Runner              RunnerID
	Incarnation         uint32
	RunnerLostThreshold int64 // virtual nanoseconds; 0 means none
	LastEventIdx        int64
}

// CommandStartActor allocates an actor generation to the runner. Index is
// the command's place in the runner workflow's log (CommandWrapper).
type CommandStartActor struct {
	ActorID    ActorID
	Generation Generation
	Index      int64
	// HibernatingRequests are the actor's hibernating_request rows younger
	// than hibernating_request_eligible_threshold (90 s), read when the
	// command is built (protocol v3, RWF@450d9e5c6; {gatewayId, requestId}
	// from 6b7ebbb0d). Filled only where a runner reads them
	// (runner_restores_hibernating).
	HibernatingRequests []RequestID
}

// CommandStopActor stops an actor generation (RUN:793-801).
type CommandStopActor struct {
	ActorID    ActorID
	Generation Generation
	Index      int64
}

// ToClientClose tells the runner to shut down its tunnel and close
// (RUN:592-594).
type ToClientClose struct{}

// ActorState is what an EventActorStateUpdate reports.
type ActorState uint8

const (
	// ActorRunning is sent before onActorStart finishes (RUN:771-790).
	ActorRunning ActorState = iota + 1
	// ActorStopped is always sent with code Ok (RUN:876-882).
	ActorStopped
)

func (s ActorState) String() string {
	switch s {
	case ActorRunning:
		return "running"
	case ActorStopped:
		return "stopped"
	}
	return fmt.Sprintf("ActorState(%d)", uint8(s))
}

// EventActorStateUpdate reports an actor's state to its workflow.
type EventActorStateUpdate struct {
	ActorID    ActorID
	Generation Generation
	State      ActorState
	Index      int64 // EventWrapper index, 1-based
	// StopError is a stopped state's StopCode Error (from d319a6210, a stop
	// the actor did not ask for with destroyActor); Ok otherwise.
	StopError bool
}

// ActorIntent is what an EventActorIntent asks for (RUN:141-160).
type ActorIntent uint8

const (
	IntentSleep ActorIntent = iota + 1
	IntentStop
)

func (i ActorIntent) String() string {
	if i == IntentSleep {
		return "sleep"
	}
	return "stop"
}

// EventActorIntent asks the workflow to sleep or stop the actor; the actor
// stays registered until CommandStopActor arrives.
type EventActorIntent struct {
	ActorID    ActorID
	Generation Generation
	Intent     ActorIntent
	Index      int64 // EventWrapper index, 1-based
}

func (*ToClientInit) toClient()          {}
func (*CommandStartActor) toClient()     {}
func (*CommandStopActor) toClient()      {}
func (*ToClientClose) toClient()         {}
func (*ToClientTunnelMessage) toClient() {}

// ToServerAckCommands acks, per loaded actor, the commands up to an index
// (#sendCommandAcknowledgment, RUN@5fcb724b0:1170-1193): protocol mk2 only.
type ToServerAckCommands struct{ Acks []CommandAck }

// CommandAck is one actor's entry of ToServerAckCommands.
type CommandAck struct {
	ActorID    ActorID
	Generation Generation
	Index      int64
}

// ToClientPing is pegboard-runner's ping of the runner, ToServerPong the
// runner's answer (protocol mk2; modelled from 36c3771fd, whose ping task
// times a silent connection out, ping_task.rs@36c3771fd:36-44).
type ToClientPing struct{ TS int64 }

// ToServerPong answers a ToClientPing with its timestamp.
type ToServerPong struct{ TS int64 }

func (*ToClientPing) toClient()          {}
func (*ToServerPong) toServer()          {}
func (*ToServerAckCommands) toServer()   {}
func (*ToServerInit) toServer()          {}
func (*EventActorStateUpdate) toServer() {}
func (*EventActorIntent) toServer()      {}
func (*ToServerTunnelMessage) toServer() {}

// CloseFrame is the close frame Guard sends on a runner's WebSocket before
// closing it, e.g. 1000 "ws.eviction#ray" when pegboard-runner evicts a
// connection (PBR@2f5666c05:92-132, PS:2489-2511).
type CloseFrame struct {
	Code   uint16
	Reason string
}
