package model

import "github.com/guardsim/guardsim/sim"

// AppEventKind is what an actor's own code saw happen.
type AppEventKind uint8

// App event kinds: the runner SDK calling the actor's hooks (onActorStart,
// onActorStop, RUN:748-801) and its WebSocket handler (config.websocket and
// the listeners it registers, TUN:587-594).
const (
	// AppStart: onActorStart was called for the generation.
	AppStart AppEventKind = iota + 1
	// AppStop: onActorStop was called for the generation.
	AppStop
	// AppWSOpen: the WebSocket handler ran for a socket (an open or a
	// restore) and registered its listeners.
	AppWSOpen
	// AppWSMessage: the handler's message listener got Data.
	AppWSMessage
	// AppWSClose: the handler's close listener fired (Code, Reason).
	AppWSClose
)

var appEventNames = [...]string{AppStart: "start", AppStop: "stop", AppWSOpen: "ws_open",
	AppWSMessage: "ws_message", AppWSClose: "ws_close"}

func (k AppEventKind) String() string {
	if int(k) < len(appEventNames) && appEventNames[k] != "" {
		return appEventNames[k]
	}
	return "app_event?"
}

// AppEvent is one thing an actor's code observed, recorded by the world the
// way it records what a client observed. The actor's code is the world's
// (the application), not the system under test, so the oracle may judge
// from it; it never judges from the runner SDK's own bookkeeping.
type AppEvent struct {
	At         sim.Time
	Runner     RunnerID
	Actor      ActorID
	Generation Generation
	Kind       AppEventKind
	Request    RequestID // WebSocket events
	Data       string    // AppWSMessage
	Code       uint16    // AppWSClose
	Reason     string    // AppWSClose
}
