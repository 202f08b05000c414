package runner

import (
	"github.com/guardsim/guardsim/internal/plant"
	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// actorInstance is ActorInstance (RUN:17-23): one generation of an actor
// hosted by this runner, with the tunnel requests and WebSockets it serves.
type actorInstance struct {
	actorID    model.ActorID
	generation model.Generation
	requests   map[model.RequestID]struct{} // active request ids
	webSockets map[model.RequestID]struct{} // active WebSocket ids
	// started: onActorStart finished (actorStartPromise, RUN@b3313f9f0:354);
	// held are the tunnel messages that wait for it from b3313f9f0.
	started bool
	held    []*model.ToClientTunnelMessage
	// stopping: forceStopActor runs onActorStop while the actor stays
	// registered (from b3313f9f0); a second stop is a no-op here.
	stopping bool
	// hibernating are the requests CommandStartActor listed (2e22a2e61).
	hibernating []model.RequestID
	// From 5fcb724b0 (protocol mk2) the instance numbers its own events and
	// keeps their history (RunnerActor.nextEventIdx, eventHistory,
	// ACT@5fcb724b0:30-32, 202-208), and the last command index it took
	// (lastCommandIdx, RUN@5fcb724b0:927-928), which the acks report.
	nextEventIdx   int64
	eventHistory   []recordedEvent
	lastCommandIdx int64
}

func newActorInstance(id model.ActorID, gen model.Generation) *actorInstance {
	return &actorInstance{
		actorID:    id,
		generation: gen,
		requests:   map[model.RequestID]struct{}{},
		webSockets: map[model.RequestID]struct{}{},
	}
}

// HasActor reports whether the runner hosts the actor, any generation
// (hasActor, RUN:211-218).
func (r *Runner) HasActor(id model.ActorID) bool { return r.getActor(id, nil) != nil }

// Actors lists the hosted actors in sorted order.
func (r *Runner) Actors() []model.ActorID { return sim.SortedKeys(r.actors) }

// Generation returns the hosted generation of the actor, if any.
func (r *Runner) Generation(id model.ActorID) (model.Generation, bool) {
	a := r.actors[id]
	if a == nil {
		return 0, false
	}
	return a.generation, true
}

// SleepActor sends a sleep intent for the actor (sleepActor, RUN:141-150).
// The actor stays registered until CommandStopActor arrives.
func (r *Runner) SleepActor(id model.ActorID) { r.sendIntentFor(id, model.IntentSleep) }

// StopActor sends a stop intent for the actor (stopActor, RUN:152-160).
// The actor stays registered until CommandStopActor arrives.
func (r *Runner) StopActor(id model.ActorID) { r.sendIntentFor(id, model.IntentStop) }

func (r *Runner) sendIntentFor(id model.ActorID, intent model.ActorIntent) {
	actor := r.getActor(id, nil)
	if actor == nil {
		r.trace("runner.intent_noop", sim.Str("actor", id), sim.Enum("intent", intent))
		return
	}
	r.sendEvent(id, actor.generation, &model.EventActorIntent{ActorID: id, Generation: actor.generation, Intent: intent})
}

// CrashActor models the actor's process dying: forceStopActor for the
// hosted generation, without any intent. Unknown actors are a no-op.
func (r *Runner) CrashActor(id model.ActorID) {
	r.trace("runner.crash", sim.Str("actor", id))
	r.forceStopActor(id, nil)
}

// getActor returns the actor, or nil when it is missing or gen is given and
// does not match (getActor, RUN:188-209; upstream only logs).
func (r *Runner) getActor(id model.ActorID, gen *model.Generation) *actorInstance {
	a := r.actors[id]
	if a == nil || (gen != nil && a.generation != *gen) {
		return nil
	}
	return a
}

// handleCommandStartActor (RUN:748-791): insert, so hasActor is true from
// here on; report running BEFORE onActorStart finishes; then onActorStart
// takes StartDelay. An existing instance is overwritten, as upstream's
// Map.set does. onActorStart never fails in this model (upstream would
// forceStopActor on a rejection, RUN:779-789).
func (r *Runner) handleCommandStartActor(cmd *model.CommandStartActor) {
	id, gen := cmd.ActorID, cmd.Generation
	if old := r.actors[id]; old != nil {
		r.trace("runner.actor_replace", sim.Str("actor", id), sim.Int("old_gen", int64(old.generation)), sim.Int("gen", int64(gen)))
		r.hosting = append(r.hosting, HostingEvent{r.w.Now(), id, old.generation, false})
	}
	actor := newActorInstance(id, gen)
	actor.hibernating = cmd.HibernatingRequests
	r.actors[id] = actor
	r.hosting = append(r.hosting, HostingEvent{r.w.Now(), id, gen, true})
	if len(cmd.HibernatingRequests) > 0 {
		r.trace("runner.actor_start", sim.Str("actor", id), sim.Int("gen", int64(gen)), sim.Int("hibernating", len(cmd.HibernatingRequests)))
	} else {
		r.trace("runner.actor_start", sim.Str("actor", id), sim.Int("gen", int64(gen)))
	}
	if !r.cfg.Quirks.Has(model.RunnerDispatchesBeforeStart) { // addRequestToActor before any await (RUN@b3313f9f0:961)
		for _, rid := range actor.hibernating {
			r.tunnel.requestToActor[rid] = id
		}
	}

	r.sendActorStateUpdate(id, gen, model.ActorRunning)

	r.trace("runner.on_actor_start", sim.Str("actor", id), sim.Int("gen", int64(gen)))
	r.app(model.AppEvent{Actor: id, Generation: gen, Kind: model.AppStart})
	r.after(r.cfg.StartDelay, func() {
		r.trace("runner.actor_started", sim.Str("actor", id), sim.Int("gen", int64(gen)))
		if r.actors[id] != actor {
			return
		}
		actor.started = true
		if r.cfg.Quirks.Has(model.RunnerRestoresHibernating) {
			r.tunnel.restoreHibernatingRequests(actor)
		}
		held := actor.held
		actor.held = nil
		for _, m := range held {
			r.tunnel.dispatch(m)
		}
	})
}

// handleCommandStopActor (RUN:793-801).
func (r *Runner) handleCommandStopActor(cmd *model.CommandStopActor) {
	gen := cmd.Generation
	r.forceStopActor(cmd.ActorID, &gen)
}

// forceStopActor (RUN:162-174): remove the actor at once (a missing actor or
// a generation mismatch is a no-op, so duplicate and stale stops do
// nothing), await onActorStop, then report stopped. gen nil means any
// generation.
//
// From b3313f9f0 the actor stays registered while onActorStop runs, and is
// removed after closeActiveRequests, just before stopped (RUN@b3313f9f0:290-314).
func (r *Runner) forceStopActor(id model.ActorID, gen *model.Generation) {
	if !r.cfg.Quirks.Has(model.RunnerRemovesActorBeforeOnStop) {
		r.forceStopActorLate(id, gen)
		return
	}
	actor := r.removeActor(id, gen)
	if actor == nil {
		fs := []sim.Field{sim.Str("actor", id)}
		if gen != nil {
			fs = append(fs, sim.Int("gen", int64(*gen)))
		}
		if cur := r.actors[id]; cur != nil {
			fs = append(fs, sim.Int("hosted_gen", int64(cur.generation)))
		}
		r.trace("runner.stop_noop", fs...)
		return
	}
	g := actor.generation
	r.onActorStop(id, g)
	if plant.On(plant.RunnerDoubleStop) { // #3321's bug: onActorStop called twice
		r.onActorStop(id, g)
	}
	r.trace("runner.on_actor_stop", sim.Str("actor", id), sim.Int("gen", int64(g)))
	r.after(r.cfg.StopDelay, func() {
		r.trace("runner.actor_stopped", sim.Str("actor", id), sim.Int("gen", int64(g)))
		if !r.cfg.Quirks.Has(model.RunnerUnregisterBeforeStop) {
			// From 53f4819a8: close the actor's requests and sockets after
			// onActorStop, just before reporting stopped (RUN@53f4819a8:177-180).
			r.tunnel.unregisterActor(actor)
		}
		r.sendActorStateUpdate(id, g, model.ActorStopped)
	})
}

// onActorStop is the call of config.onActorStop (RUN:167-171): recorded,
// and seen by the actor's code.
func (r *Runner) onActorStop(id model.ActorID, g model.Generation) {
	r.stopCalls = append(r.stopCalls, StopCall{Actor: id, Generation: g, At: r.w.Now()})
	r.app(model.AppEvent{Actor: id, Generation: g, Kind: model.AppStop})
}

func (r *Runner) forceStopActorLate(id model.ActorID, gen *model.Generation) {
	actor := r.getActor(id, gen)
	if actor == nil || actor.stopping {
		r.trace("runner.stop_noop", sim.Str("actor", id))
		return
	}
	actor.stopping = true
	g := actor.generation
	r.onActorStop(id, g)
	r.trace("runner.on_actor_stop", sim.Str("actor", id), sim.Int("gen", int64(g)))
	r.after(r.cfg.StopDelay, func() {
		r.trace("runner.actor_stopped", sim.Str("actor", id), sim.Int("gen", int64(g)))
		r.tunnel.unregisterActor(actor)
		q := r.cfg.Quirks
		if !q.Has(model.RunnerGlobalEventHistory) && !q.Has(model.RunnerNeverReportsStopped) {
			// From bb46e0a16: stopped is sent while the actor is still there
			// (RUN@bb46e0a16:316, 320); its history goes with it.
			r.sendActorStateUpdate(id, g, model.ActorStopped)
			if r.actors[id] == actor {
				r.removeActor(id, &g)
			}
			return
		}
		if r.actors[id] == actor {
			r.removeActor(id, &g)
		}
		// Until bb46e0a16 (from 5fcb724b0) the send finds no actor and
		// drops the event (runner_never_reports_stopped).
		r.sendActorStateUpdate(id, g, model.ActorStopped)
	})
}

// removeActor (#removeActor, RUN:220-249): delete from #actors and, through
// runner_unregister_before_stop, unregister the actor from the tunnel
// (closeActiveRequests after onActorStop from 53f4819a8).
func (r *Runner) removeActor(id model.ActorID, gen *model.Generation) *actorInstance {
	actor := r.getActor(id, gen)
	if actor == nil {
		return nil
	}
	delete(r.actors, id)
	r.hosting = append(r.hosting, HostingEvent{r.w.Now(), id, actor.generation, false})
	r.trace("runner.actor_stop", sim.Str("actor", id), sim.Int("gen", int64(actor.generation)),
		sim.Int("requests", len(actor.requests)), sim.Int("websockets", len(actor.webSockets)))
	if r.cfg.Quirks.Has(model.RunnerUnregisterBeforeStop) { // RUN@f3105c779:240-246
		r.tunnel.unregisterActor(actor)
	}
	return actor
}

// stopAllActors (#stopAllActors, RUN:176-186): forceStopActor, any
// generation, for every hosted actor in sorted order.
func (r *Runner) stopAllActors() {
	r.trace("runner.stop_all", sim.Int("actors", len(r.actors)))
	for _, id := range sim.SortedKeys(r.actors) {
		r.forceStopActor(id, nil)
	}
}
