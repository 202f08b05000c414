package model

import (
	"math/rand/v2"

	"github.com/guardsim/guardsim/sim"
)

// Engine constants (AWF, RWF).
const (
	// ActorStartThreshold: an allocated actor that does not report running
	// in time is lost (AWF:16).
	ActorStartThreshold = 30 * sim.Second
	// ActorStopThreshold: an actor told to stop that does not report
	// stopped in time is lost (AWF:18).
	ActorStopThreshold = 30 * sim.Second
	// ActorStopThreshold30m is its default from 4bec25189
	// (PCFG@4bec25189:175-177; wf_actor_stop_threshold_30s).
	ActorStopThreshold30m = 30 * sim.Minute
	// RunnerLostThreshold: a runner silent this long is lost (RWF:18), 2 min
	// through runner_lost_threshold_2m.
	RunnerLostThreshold = 2 * sim.Minute
	// RunnerLostThreshold15s is the threshold from 60fc116b7 (RWF@60fc116b7:20).
	RunnerLostThreshold15s = 15 * sim.Second
)

// CrashPolicy is what the workflow does when an actor stops without
// having asked to sleep (AWF:588-627).
type CrashPolicy uint8

const (
	// CrashRestart reschedules an actor that failed or was lost.
	CrashRestart CrashPolicy = iota
	// CrashSleep puts a failed or lost actor to sleep.
	CrashSleep
	// CrashDestroy completes (destroys) it.
	CrashDestroy
)

// EngineConfig sets up the engine.
type EngineConfig struct {
	// WorkflowDelay is how long the actor workflow takes to process each
	// signal or event: the window in which the engine lags the runners.
	WorkflowDelay sim.Time
	// RunnerLostThreshold overrides the profile's threshold when non-zero.
	RunnerLostThreshold sim.Time
	// Quirks are the profile's (runner_lost_threshold_2m).
	Quirks Quirks
}

// Placement is one change of the true placement of an actor, as the engine
// commits it: the oracle's view of history.
type Placement struct {
	At         sim.Time
	Actor      ActorID
	Generation Generation
	Runner     RunnerID
	Event      string // allocated, ready, not_connectable, sleeping, deallocated, destroyed
	// Asleep: SleepTsKey is set after this event, so Guard would wake it.
	Asleep bool
}

// Engine is the engine's actor workflows, runner workflows, UDB keys and
// pegboard-runner endpoint.
type Engine struct {
	w       *sim.World
	cfg     EngineConfig
	ups     *UPSClient
	actors  map[ActorID]*actorWF
	runners map[RunnerID]*runnerWF
	guards  map[string]*sim.End // guard node → engine's end of its connection
	history []Placement
	// pending actors waiting for a runner, in arrival order (AllocatePendingActors).
	pending []ActorID
	// msgID numbers engine-originated tunnel messages (offset 1<<48).
	msgID MessageID
	rng   *rand.Rand
	// hibernating is the hibernating_request table: per actor, the rows'
	// last write by request id (the gateway's id is left out of the key:
	// guardsim's request ids are unique per world's guard).
	hibernating map[ActorID]map[RequestID]sim.Time
}

// NewEngine starts the engine on EngineNode.
func NewEngine(w *sim.World, ups *UPS, cfg EngineConfig) *Engine {
	if cfg.RunnerLostThreshold == 0 {
		cfg.RunnerLostThreshold = RunnerLostThreshold15s
		if cfg.Quirks.Has(RunnerLostThreshold2m) {
			cfg.RunnerLostThreshold = RunnerLostThreshold
		}
	}
	e := &Engine{w: w, cfg: cfg, ups: ups.Client(EngineNode), rng: w.Rand("engine"), actors: map[ActorID]*actorWF{},
		runners: map[RunnerID]*runnerWF{}, guards: map[string]*sim.End{}, hibernating: map[ActorID]map[RequestID]sim.Time{}}
	w.Net().Listen(EngineNode, e.accept)
	return e
}

// SetWorkflowDelay changes the workflow's processing delay from now on.
func (e *Engine) SetWorkflowDelay(d sim.Time) { e.cfg.WorkflowDelay = d }

// History is the true placement history committed so far.
func (e *Engine) History() []Placement { return e.history }

func (e *Engine) record(a *actorWF, ev string) {
	e.history = append(e.history, Placement{e.w.Now(), a.id, a.gen, a.runner, ev, a.sleepTs})
	e.w.Trace(EngineNode, "wf."+ev, sim.Str("actor", a.id), sim.Uint("gen", a.gen), sim.Str("runner", a.runner))
}

// accept handles a new connection to the engine: a runner's WebSocket
// (pegboard-runner) or a guard's connection for reads and signals.
func (e *Engine) accept(c *sim.End) {
	var rw *runnerWF
	c.Handle(func(msg any) {
		switch m := msg.(type) {
		case *ToServerInit:
			rw = e.runnerConnected(m, c)
		case ToServer:
			if rw != nil {
				if pc := rw.conn(c); pc != nil {
					e.fromRunner(rw, pc, m)
				}
			}
		case *GetForGateway:
			c.Send(e.getForGateway(m))
		case *SignalWake:
			e.signal(m.Actor, func(a *actorWF) { e.wake(a) })
			c.Send(&SignalSent{ID: m.ID})
		case *HibernatingRequestUpsert:
			rows := e.hibernating[m.Actor]
			if rows == nil {
				rows = map[RequestID]sim.Time{}
				e.hibernating[m.Actor] = rows
			}
			rows[m.Request] = e.w.Now()
		case *HibernatingRequestDelete:
			delete(e.hibernating[m.Actor], m.Request)
		}
	}, func(why sim.CloseReason) {
		if rw != nil {
			if pc := rw.conn(c); pc != nil {
				e.runnerDisconnected(rw, pc, why)
			}
		}
	})
}

// HibernatingRequestEligible is hibernating_request_eligible_threshold:
// CommandStartActor lists rows written in the last 90 s (450d9e5c6).
const HibernatingRequestEligible = 90 * sim.Second

// hibernatingRequests lists the actor's eligible rows, sorted.
func (e *Engine) hibernatingRequests(a ActorID) []RequestID {
	var ids []RequestID
	rows := e.hibernating[a]
	for _, id := range sim.SortedKeys(rows) {
		if e.w.Now()-rows[id] <= HibernatingRequestEligible {
			ids = append(ids, id)
		}
	}
	return ids
}

// getForGateway reads the keys Guard sees (GFG:23-70).
func (e *Engine) getForGateway(m *GetForGateway) *ActorKeys {
	k := &ActorKeys{ID: m.ID}
	a := e.actors[m.Actor]
	if a == nil {
		return k
	}
	k.Found, k.Destroyed, k.Sleeping, k.Connectable, k.Runner = true, a.destroyTs, a.sleepTs, a.connectable, a.runnerKey
	return k
}
