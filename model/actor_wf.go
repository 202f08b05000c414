package model

import (
	"github.com/guardsim/guardsim/internal/plant"
	"slices"

	"github.com/guardsim/guardsim/sim"
)

// actorWF is one actor's workflow (AWF:105-490) with the UDB keys it owns.
type actorWF struct {
	id     ActorID
	gen    Generation
	crash  CrashPolicy
	runner RunnerID // state.runner_id: "" when not allocated
	// workflow state
	sleeping bool
	willWake bool
	done     bool // the lifecycle loop ended (destroyed)
	gc       sim.Timer
	// UDB keys read by Guard (GFG:31-52)
	runnerKey   RunnerID // RunnerIdKey
	connectable bool     // ConnectableKey
	sleepTs     bool     // SleepTsKey
	destroyTs   bool     // DestroyTsKey
	// placement hint for the next allocation, set by a scenario
	preferred RunnerID
	// signals are processed in order, WorkflowDelay after they arrive
	lastAt sim.Time
	// reschedule_state (ART:612-700)
	retryCount int
	lastRetry  sim.Time // 0: never
	// blocked: the workflow waits (reschedule backoff, pending allocation)
	// and listens only for Destroy; other signals wait in deferred.
	blocked  bool
	deferred []func()
	backoff  sim.Timer
	// resume runs once a pending allocation is served.
	resume func()
	// lastEventIdx is the last mk2 event index taken per runner (from
	// 5fcb724b0, newActorEvent).
	lastEventIdx map[RunnerID]int64
	eventGen     Generation // the generation of the last event taken
	// pendingTimeout is the next spawn's AllocationOverride::PendingTimeout
	// (a crashed restart-policy actor from e08d064ea), pendingTimer its timer.
	pendingTimeout sim.Time
	pendingTimer   sim.Timer
}

// RestartPendingTimeout is RESTART_PENDING_TIMEOUT_MS (AWF@e08d064ea:18).
const RestartPendingTimeout = 60 * sim.Second

// CreateActor creates an actor workflow and allocates it, on preferred if
// that runner is connected, otherwise on the least loaded connected runner.
func (e *Engine) CreateActor(id ActorID, crash CrashPolicy, preferred RunnerID) {
	a := &actorWF{id: id, crash: crash, preferred: preferred}
	e.actors[id] = a
	e.w.Trace(EngineNode, "wf.create", sim.Str("actor", id), sim.Enum("crash", crash), sim.Str("prefer", preferred))
	e.spawn(a, func() {})
}

func (c CrashPolicy) String() string {
	switch c {
	case CrashSleep:
		return "sleep"
	case CrashDestroy:
		return "destroy"
	}
	return "restart"
}

// signal queues fn for the actor's workflow: it runs WorkflowDelay later, in
// arrival order, and never after the workflow ended.
func (e *Engine) signal(id ActorID, fn func(a *actorWF)) {
	a := e.actors[id]
	if a == nil {
		e.w.Trace(EngineNode, "wf.no_workflow", sim.Str("actor", id))
		return
	}
	at := e.w.Now() + e.cfg.WorkflowDelay
	if at < a.lastAt {
		at = a.lastAt
	}
	a.lastAt = at
	e.w.At(at, func() {
		switch {
		case a.done:
		case a.blocked:
			a.deferred = append(a.deferred, func() { fn(a) })
		default:
			fn(a)
		}
	})
}

// unblock resumes the workflow and runs the signals that waited, in order,
// until one blocks it again.
func (e *Engine) unblock(a *actorWF) {
	a.blocked = false
	for len(a.deferred) > 0 && !a.blocked && !a.done {
		fn := a.deferred[0]
		a.deferred = a.deferred[1:]
		fn()
	}
}

// Wake sends the Wake signal, as Guard does.
func (e *Engine) Wake(id ActorID) { e.signal(id, e.wake) }

// Destroy sends the Destroy signal. A workflow blocked in a reschedule
// backoff or a pending allocation is destroyed early (ART:651-659,
// 531-565); otherwise the lifecycle loop ends and the destroy workflow runs.
func (e *Engine) Destroy(id ActorID) {
	a := e.actors[id]
	if a == nil {
		e.w.Trace(EngineNode, "wf.no_workflow", sim.Str("actor", id))
		return
	}
	e.w.At(max(e.w.Now()+e.cfg.WorkflowDelay, a.lastAt), func() {
		if a.done {
			return
		}
		if a.blocked {
			e.w.Trace(EngineNode, "wf.destroy_early", sim.Str("actor", a.id))
			a.backoff.Stop()
			e.pending = slices.DeleteFunc(e.pending, func(x ActorID) bool { return x == a.id })
			a.deferred, a.resume = nil, nil
			e.destroy(a, false)
			return
		}
		e.destroy(a, true)
	})
}

// Reschedule moves the actor to runner as the runner workflow's Lost
// signal with force_reschedule does (RWF:243-268): the old generation is
// deallocated and killed, and a new one is allocated on runner.
//
// Upstream this signal follows a start command that met a draining runner,
// so the actor is allocated and not sleeping; the lever is ignored
// otherwise, so that it never builds states upstream cannot reach.
//
// The signal names the generation of that start command, the one allocated
// when the lever is pulled, and the workflow ignores it once a later
// generation exists (AWF:432-435): a second lever pulled before the first
// was handled is stale, as a second Lost for one start command is upstream.
// It carries reset_rescheduling: true (RWF:256-262), so the reschedule
// never backs off (ART:637-641; from 3891bf8b6 the workflow resets its
// reschedule_state before handle_stopped, AWF@3891bf8b6:453-455).
func (e *Engine) Reschedule(id ActorID, runner RunnerID) {
	var gen Generation
	if a := e.actors[id]; a != nil {
		gen = a.gen
	}
	e.signal(id, func(a *actorWF) {
		if gen != a.gen {
			e.w.Trace(EngineNode, "wf.stale_lost", sim.Str("actor", a.id), sim.Uint("gen", gen), sim.Uint("current", a.gen))
			return
		}
		if a.runner == "" || a.sleeping {
			e.w.Trace(EngineNode, "wf.reschedule_ignored", sim.Str("actor", a.id), sim.Str("runner", a.runner), sim.Bool("sleeping", a.sleeping))
			return
		}
		a.preferred = runner
		a.retryCount, a.lastRetry = 0, 0 // reset_rescheduling
		e.handleStopped(a, true, true)
	})
}

// Prefer sets the runner the actor's next allocation goes to.
func (e *Engine) Prefer(id ActorID, runner RunnerID) {
	if a := e.actors[id]; a != nil {
		a.preferred = runner
	}
}

// ActorRunner is the engine's current allocation of the actor ("" if none)
// and its generation.
func (e *Engine) ActorRunner(id ActorID) (RunnerID, Generation) {
	if a := e.actors[id]; a != nil {
		return a.runner, a.gen
	}
	return "", 0
}

func (e *Engine) publish(a *actorWF, msg any) {
	e.w.Trace(EngineNode, "wf.publish", sim.Str("actor", a.id), sim.Any("msg", msg))
	e.ups.Publish(ActorSubject(a.id), msg)
}

// event handles a runner event for the actor (AWF:292-386).
func (e *Engine) event(a *actorWF, gen Generation, fn func()) {
	if gen != a.gen {
		e.w.Trace(EngineNode, "wf.stale_event", sim.Str("actor", a.id), sim.Uint("gen", gen), sim.Uint("current", a.gen))
		return
	}
	if a.runner == "" {
		e.w.Trace(EngineNode, "wf.not_allocated", sim.Str("actor", a.id))
		return
	}
	fn()
}

// stopThreshold is actor_stop_threshold at the profile.
func (e *Engine) stopThreshold() sim.Time {
	if e.cfg.Quirks.Has(WFActorStopThreshold30s) {
		return ActorStopThreshold
	}
	return ActorStopThreshold30m
}

func (e *Engine) intent(a *actorWF, i ActorIntent) {
	switch i {
	case IntentSleep: // AWF:309-331
		if a.sleeping {
			return
		}
		e.gcTimeout(a, e.stopThreshold())
		a.sleeping = true
		a.connectable, a.sleepTs = false, true // SetSleeping (ART:768-793)
		e.record(a, "sleeping")
		e.command(a.runner, &CommandStopActor{ActorID: a.id, Generation: a.gen})
	case IntentStop: // AWF:332-350
		e.gcTimeout(a, e.stopThreshold())
		a.connectable = false // SetNotConnectable (ART:397-413)
		e.record(a, "not_connectable")
		e.command(a.runner, &CommandStopActor{ActorID: a.id, Generation: a.gen})
	}
}

func (e *Engine) running(a *actorWF) { // AWF:357-371
	a.gc.Stop()
	a.connectable = true // SetStarted (ART:740-763)
	e.record(a, "ready")
	e.publish(a, &Ready{Runner: a.runner})
}

func (e *Engine) wake(a *actorWF) { // AWF:387-430
	switch {
	case !a.sleeping:
		e.w.Trace(EngineNode, "wf.wake_ignored", sim.Str("actor", a.id), sim.Str("why", "not sleeping"))
	case a.runner == "":
		a.sleeping, a.willWake = false, false
		e.reschedule(a, false, func() {})
	case !a.willWake:
		a.willWake = true
		e.w.Trace(EngineNode, "wf.will_wake", sim.Str("actor", a.id))
	}
}

// gcTimeout marks the actor lost if the runner does not answer in time
// (the lifecycle loop's gc_timeout_ts).
func (e *Engine) gcTimeout(a *actorWF, d sim.Time) {
	a.gc.Stop()
	gen := a.gen
	a.gc = e.w.After(d, func() {
		e.w.Trace(EngineNode, "wf.gc_timeout", sim.Str("actor", a.id), sim.Uint("gen", gen))
		e.signal(a.id, func(a *actorWF) { e.lost(a, gen, false) })
	})
}

func (e *Engine) lost(a *actorWF, gen Generation, force bool) { // AWF:432-444
	if gen != a.gen {
		return
	}
	e.handleStopped(a, true, force)
}

// handleStopped is AWF:492-656 for a stop with code Ok (lost=false) or a
// Lost signal (lost=true, code None).
func (e *Engine) handleStopped(a *actorWF, lost, force bool) {
	e.handleStoppedCode(a, lost, force, false)
}

// handleStoppedCode is handle_stopped with the stop's code: stopErr for a
// StopCode Error, which the runner sends from d319a6210 for every stop it
// was not asked for (AWF@d319a6210:960-982, 1134-1192).
func (e *Engine) handleStoppedCode(a *actorWF, lost, force, stopErr bool) {
	if !lost && !stopErr { // reset the retry count on a successful exit
		a.retryCount, a.lastRetry = 0, 0
	}
	a.gc.Stop()
	old := a.runner
	a.runner = ""
	if !e.cfg.Quirks.Has(WFEventIndexPerRunner) { // reset per allocation (AWF@640d27e36:819)
		delete(a.lastEventIdx, old)
	}
	// Deallocate: ConnectableKey and, via clear_slot, RunnerIdKey (ART:426-465).
	a.connectable, a.runnerKey = false, ""
	e.record(a, "deallocated")
	if lost && old != "" { // kill the old actor in case it ended up allocating
		e.command(old, &CommandStopActor{ActorID: a.id, Generation: a.gen})
	}
	finish := func() {
		a.willWake = false
		e.publish(a, &Stopped{})
	}
	switch {
	case force:
		e.reschedule(a, false, finish)
		return
	case !a.sleeping:
		failed := lost || stopErr // until d319a6210 the runner always reports code Ok (RUN:876-882, errata E12)
		switch {
		case a.crash == CrashRestart && failed:
			if !e.cfg.Quirks.Has(WFRestartPendsForever) { // AWF@e08d064ea:1058-1069
				a.pendingTimeout = RestartPendingTimeout
			}
			e.reschedule(a, false, finish)
			return
		case a.crash == CrashSleep && failed:
			a.sleeping, a.sleepTs = true, true
			e.record(a, "sleeping")
		default: // SetComplete, then destroy: DestroyStarted, not Stopped
			e.destroy(a, lost)
			return
		}
	case a.willWake:
		a.sleeping = false
		e.reschedule(a, false, finish)
		return
	}
	finish()
}

// Reschedule backoff (ART:612-700, util backoff.rs): the n-th consecutive
// retry within RETRY_RESET_DURATION waits 2 s·2^min(n, 8) + U[0, 500) ms.
const (
	BaseRetryTimeout     = 2 * sim.Second  // AWF:14
	RetryResetDuration   = 10 * sim.Minute // AWF:21
	retryBackoffMaxExp   = 8
	retryBackoffJitterMs = 500
)

// reschedule is reschedule_actor: count the retry, back off (listening only
// for Destroy), then spawn a new generation; then runs once it is allocated.
func (e *Engine) reschedule(a *actorWF, resetRescheduling bool, then func()) {
	now := e.w.Now()
	reset := a.lastRetry == 0 || now-a.lastRetry > RetryResetDuration
	if reset || resetRescheduling {
		a.retryCount = 0
	} else {
		a.retryCount++
	}
	a.lastRetry = max(now, 1)
	if a.retryCount == 0 {
		e.spawn(a, then)
		return
	}
	d := BaseRetryTimeout<<min(a.retryCount, retryBackoffMaxExp) + sim.Time(e.rng.IntN(retryBackoffJitterMs))*sim.Millisecond
	e.w.Trace(EngineNode, "wf.reschedule_backoff", sim.Str("actor", a.id), sim.Int("retry", a.retryCount), sim.Dur("delay", d))
	a.blocked = true
	a.backoff = e.w.After(d, func() { e.spawn(a, then) })
}

// spawn is spawn_actor: allocate the next generation on a runner, or wait
// in the pending queue (blocked) until a runner connects.
func (e *Engine) spawn(a *actorWF, then func()) {
	a.blocked = true
	a.resume = then
	timeout := a.pendingTimeout
	a.pendingTimeout = 0
	r := e.pickRunner(a)
	if r == "" {
		e.pending = append(e.pending, a.id)
		e.w.Trace(EngineNode, "wf.pending", sim.Str("actor", a.id), sim.Uint("gen", a.gen+1))
		if timeout > 0 {
			a.pendingTimer = e.w.After(timeout, func() { e.pendingTimedOut(a) })
		}
		return
	}
	e.allocate(a, r)
}

// pendingTimedOut ends a pending allocation with a timeout (from
// e08d064ea): the allocation gives up with Sleep (ART, PendingTimeout).
// Until 4943580fd the workflow ignores that result, leaving the actor
// neither allocated, pending nor sleeping (AWF@e08d064ea:1066); from
// 4943580fd it sleeps and writes SleepTsKey (AWF@4943580fd:1156-1166).
// Either way handle_stopped then goes on (Stopped).
func (e *Engine) pendingTimedOut(a *actorWF) {
	if a.done || a.runner != "" || !slices.Contains(e.pending, a.id) {
		return
	}
	e.pending = slices.DeleteFunc(e.pending, func(x ActorID) bool { return x == a.id })
	e.w.Trace(EngineNode, "wf.pending_timeout", sim.Str("actor", a.id), sim.Uint("gen", a.gen+1))
	if !e.cfg.Quirks.Has(WFRestartPendingSleepIgnored) {
		a.sleeping, a.sleepTs = true, true
		e.record(a, "sleeping")
	}
	then := a.resume
	a.resume = nil
	if then != nil {
		then()
	}
	e.unblock(a)
}

func (e *Engine) allocate(a *actorWF, r RunnerID) {
	a.pendingTimer.Stop()
	a.gen++
	a.runner, a.runnerKey, a.sleepTs = r, r, false // ART:290-306
	e.record(a, "allocated")
	e.gcTimeout(a, ActorStartThreshold)
	cmd := &CommandStartActor{ActorID: a.id, Generation: a.gen}
	if e.cfg.Quirks.Has(RunnerRestoresHibernating) {
		cmd.HibernatingRequests = e.hibernatingRequests(a.id)
	}
	e.command(r, cmd)
	then := a.resume
	a.resume = nil
	if then != nil {
		then()
	}
	e.unblock(a)
}

// pickRunner chooses the preferred runner if it is eligible, otherwise the
// eligible runner with the fewest actors, ties broken by id.
func (e *Engine) pickRunner(a *actorWF) RunnerID {
	if p := a.preferred; p != "" {
		if rw := e.runners[p]; rw != nil && rw.eligible() {
			a.preferred = ""
			return p
		}
	}
	load := map[RunnerID]int{}
	for _, id := range sim.SortedKeys(e.actors) {
		if r := e.actors[id].runner; r != "" {
			load[r]++
		}
	}
	var best RunnerID
	for _, id := range sim.SortedKeys(e.runners) {
		if e.runners[id].eligible() && (best == "" || load[id] < load[best]) {
			best = id
		}
	}
	return best
}

// destroy is the destroy workflow (ADS:25-108): DestroyStarted is published
// before DestroyTsKey is written, and ConnectableKey is never cleared
// (errata E13).
func (e *Engine) destroy(a *actorWF, kill bool) {
	a.done = true
	a.gc.Stop()
	e.publish(a, &DestroyStarted{})
	if plant.On(plant.EngineDestroyKeepsRunner) {
		e.record(a, "destroyed")
		return // DestroyTsKey never written, the actor never deallocated nor stopped
	}
	a.destroyTs = true
	old := a.runner
	a.runner, a.runnerKey = "", ""
	e.record(a, "destroyed")
	if kill && old != "" {
		e.command(old, &CommandStopActor{ActorID: a.id, Generation: a.gen})
	}
}

// Actors lists every actor the engine knows, sorted.
func (e *Engine) Actors() []ActorID { return sim.SortedKeys(e.actors) }

// Busy reports whether some actor workflow is still working through
// earlier signals: blocked in a reschedule backoff or a pending allocation,
// or with signals waiting behind one.
func (e *Engine) Busy() bool {
	for _, id := range sim.SortedKeys(e.actors) {
		if a := e.actors[id]; !a.done && (a.blocked || len(a.deferred) > 0) {
			return true
		}
	}
	return false
}
