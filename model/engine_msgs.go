package model

// EngineNode is the node of the engine: the actor and runner workflows,
// UDB and the pegboard-runner endpoint that runners connect to.
const EngineNode = "engine"

// GetForGateway is Guard's read of an actor's keys (GFG:23-70): one
// serializable transaction, no caching.
type GetForGateway struct {
	ID    uint64
	Actor ActorID
	Trace string // the request's TraceHeader (harness trace context)
}

// ActorKeys is the answer to GetForGateway: the UDB keys Guard reads
// (GFG:31-52).
type ActorKeys struct {
	ID          uint64
	Found       bool // NamespaceIdKey and WorkflowIdKey exist
	Destroyed   bool // DestroyTsKey
	Sleeping    bool // SleepTsKey
	Connectable bool // ConnectableKey
	Runner      RunnerID
}

// SignalWake is the Wake signal Guard sends to the actor workflow
// (PGR:169-176). Guard awaits it (`.send().await?`): the engine answers
// SignalSent once the signal is written (errata E22).
type SignalWake struct {
	ID    uint64
	Actor ActorID
	Trace string // the request's TraceHeader (harness trace context)
}

// SignalSent answers SignalWake: the signal is committed. A signal to a
// workflow that has finished is committed too, and ignored.
type SignalSent struct{ ID uint64 }

// Messages the actor workflow publishes on ActorSubject (AWF:664-675,
// 705-706, ADS:25).
type (
	// Ready: the actor is connectable on Runner.
	Ready struct{ Runner RunnerID }
	// Stopped: the actor stopped (published last by handle_stopped).
	Stopped struct{}
	// Failed: the actor failed with an actor error.
	Failed struct{ Error string }
	// DestroyStarted: the destroy workflow began.
	DestroyStarted struct{}
)

// HibernatingRequestUpsert is the gateway's UDB write of a hibernating
// request row (hibernating_request::upsert, GW@450d9e5c6 keepalive,
// GW@553683bfd:576-633): written when a socket starts hibernating and on
// every keepalive. Guard does not await it here (a fire-and-forget write
// over its engine connection; upstream awaits the transaction).
type HibernatingRequestUpsert struct {
	Actor   ActorID
	Gateway string // the gateway's receiver subject: its gateway id
	Request RequestID
}

// HibernatingRequestDelete removes the row when a hibernation ends with the
// client's close (hibernating_request::delete, GW@553683bfd:626-630).
type HibernatingRequestDelete struct {
	Actor   ActorID
	Gateway string
	Request RequestID
}
