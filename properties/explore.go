package properties

import (
	"fmt"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// The exploration: rapid draws a scenario (swarm options, then a sequence
// of actions), which is written out as a scenario script, run, healed by
// the liveness phase and judged by the oracle. Because every scenario is a
// script, a failure shrinks to a script that replays on its own.

// ActionKinds are the kinds of action a scenario can contain.
var ActionKinds = []string{
	"advance", "http", "behavior", "ws_open", "ws_send", "ws_close",
	"sleep", "wake", "crash", "stop", "destroy", "reschedule",
	"disconnect", "reconnect", "lose", "hold", "heal", "drop",
	"latency", "stale_pin", "workflow_delay", "expire_cache", "peer_http", "peer_down",
}

// Options are a scenario's swarm options, drawn up front and printed first,
// as TigerBeetle's VOPR prints its options.
type Options struct {
	Profile       model.Profile
	Seed          uint64
	Runners       int
	Actors        []ActorOptions
	Peer          bool
	PinDelay      sim.Time // ups→engine latency: how long a resolved runner stays pinned before delivery
	WorkflowDelay sim.Time // how far the engine lags the runners
	LostThreshold sim.Time
	Weights       map[string]int // enabled action kinds and their weights
}

// ActorOptions describe one actor.
type ActorOptions struct {
	ID        model.ActorID
	On        model.RunnerID
	Crash     string
	Hibernate bool
	AckDelay  sim.Time
}

func (o Options) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile=%s seed=%d runners=%d actors=%d peer=%t pin_delay=%s workflow_delay=%s lost_threshold=%s\n",
		o.Profile.Name, o.Seed, o.Runners, len(o.Actors), o.Peer, o.PinDelay, o.WorkflowDelay, o.LostThreshold)
	for _, a := range o.Actors {
		fmt.Fprintf(&b, "  actor %s on=%s crash=%s hibernate=%t ack_delay=%s\n", a.ID, a.On, a.Crash, a.Hibernate, a.AckDelay)
	}
	b.WriteString("  actions:")
	for _, k := range ActionKinds {
		if w := o.Weights[k]; w > 0 {
			fmt.Fprintf(&b, " %s:%d", k, w)
		}
	}
	return b.String()
}

func runnerID(i int) model.RunnerID { return model.RunnerID(fmt.Sprintf("r%d", i+1)) }

var (
	smallDelays   = []sim.Time{0, sim.Millisecond, 5 * sim.Millisecond, 20 * sim.Millisecond, 50 * sim.Millisecond, 200 * sim.Millisecond}
	lostThreshold = []sim.Time{10 * sim.Second, 30 * sim.Second, 60 * sim.Second}
	advances      = []sim.Time{sim.Millisecond, 3 * sim.Millisecond, 10 * sim.Millisecond, 30 * sim.Millisecond,
		100 * sim.Millisecond, 300 * sim.Millisecond, sim.Second, 3 * sim.Second, 10 * sim.Second, 40 * sim.Second}
	handlerDelays = []sim.Time{0, 10 * sim.Millisecond, 500 * sim.Millisecond, 1900 * sim.Millisecond, 2500 * sim.Millisecond}
	statuses      = []int{200, 200, 500, 503, 404}
)

func dur(t sim.Time) string {
	if t == 0 {
		return "0"
	}
	if t%sim.Second == 0 {
		return fmt.Sprintf("%ds", t/sim.Second)
	}
	if t%sim.Millisecond == 0 {
		return fmt.Sprintf("%dms", t/sim.Millisecond)
	}
	return fmt.Sprintf("%dus", t/sim.Microsecond)
}

// drawOptions draws the swarm options. Every draw is labelled.
func drawOptions(t *rapid.T, p model.Profile) Options {
	o := Options{Profile: p, Weights: map[string]int{}}
	o.Seed = rapid.Uint64Range(1, 1<<20).Draw(t, "world_seed")
	o.Runners = rapid.IntRange(1, 4).Draw(t, "runners")
	n := rapid.IntRange(1, 6).Draw(t, "actors")
	for i := range n {
		a := ActorOptions{ID: model.ActorID(fmt.Sprintf("a%d", i+1))}
		a.On = runnerID(rapid.IntRange(0, o.Runners-1).Draw(t, "actor_runner"))
		a.Crash = rapid.SampledFrom([]string{"restart", "sleep", "destroy"}).Draw(t, "actor_crash")
		a.Hibernate = rapid.Bool().Draw(t, "actor_hibernate")
		a.AckDelay = rapid.SampledFrom([]sim.Time{0, 100 * sim.Millisecond, 2 * sim.Second}).Draw(t, "actor_ack_delay")
		o.Actors = append(o.Actors, a)
	}
	o.Peer = rapid.Bool().Draw(t, "peer_dc")
	o.PinDelay = rapid.SampledFrom(smallDelays).Draw(t, "pin_delay")
	o.WorkflowDelay = rapid.SampledFrom(smallDelays).Draw(t, "workflow_delay")
	o.LostThreshold = rapid.SampledFrom(lostThreshold).Draw(t, "lost_threshold")
	// Swarm testing: each kind is off or on with a weight from 1 to 8, so
	// scenarios differ wildly in what they stress. advance and http are
	// always on.
	for _, k := range ActionKinds {
		w := rapid.IntRange(0, 8).Draw(t, "weight_"+k)
		if (k == "advance" || k == "http") && w == 0 {
			w = 1
		}
		if w > 0 {
			o.Weights[k] = w
		}
	}
	return o
}

// header is the script that builds the scenario's world.
func (o Options) header() []string {
	runners := make([]string, o.Runners)
	for i := range runners {
		runners[i] = string(runnerID(i))
	}
	world := fmt.Sprintf("world profile=%s seed=%d runners=%s workflow_delay=%s lost_threshold=%s",
		o.Profile.Name, o.Seed, strings.Join(runners, ","), dur(o.WorkflowDelay), dur(o.LostThreshold))
	if o.Peer {
		world += " peers=dc2"
	}
	lines := []string{world}
	if o.PinDelay > 0 {
		lines = append(lines, "latency ups->engine base="+dur(o.PinDelay))
	}
	for _, a := range o.Actors {
		lines = append(lines, fmt.Sprintf("actor %s on=%s crash=%s", a.ID, a.On, a.Crash))
		if a.Hibernate {
			lines = append(lines, fmt.Sprintf("behavior %s hibernate ack_delay=%s", a.ID, dur(a.AckDelay)))
		}
	}
	return append(lines, "run")
}

// scenarioGen draws the actions of one scenario as script lines.
type scenarioGen struct {
	o       Options
	kinds   []string // weighted: a kind appears once per unit of weight
	lines   []string
	http    int
	sockets []string
	held    []string
	actions int
}

func (g *scenarioGen) actor(t *rapid.T) ActorOptions {
	return g.o.Actors[rapid.IntRange(0, len(g.o.Actors)-1).Draw(t, "actor")]
}

func (g *scenarioGen) runner(t *rapid.T) string {
	return string(runnerID(rapid.IntRange(0, g.o.Runners-1).Draw(t, "runner")))
}

// links are the directions a partition can hit.
func (g *scenarioGen) link(t *rapid.T) string {
	r := g.runner(t)
	return rapid.SampledFrom([]string{
		"guard->ups", "ups->guard", "ups->engine", "engine->ups", r + "->engine", "engine->" + r,
	}).Draw(t, "link")
}

func (g *scenarioGen) emit(format string, args ...any) {
	g.lines = append(g.lines, fmt.Sprintf(format, args...))
}

// step draws one action.
func (g *scenarioGen) step(t *rapid.T) {
	g.actions++
	switch kind := rapid.SampledFrom(g.kinds).Draw(t, "action"); kind {
	case "advance":
		g.emit("run for=%s", dur(rapid.SampledFrom(advances).Draw(t, "advance")))
	case "http":
		g.http++
		g.emit("http c%d actor=%s", g.http, g.actor(t).ID)
	case "behavior":
		a := g.actor(t)
		d := rapid.SampledFrom(handlerDelays).Draw(t, "handler_delay")
		st := rapid.SampledFrom(statuses).Draw(t, "handler_status")
		line := fmt.Sprintf("behavior %s delay=%s status=%d", a.ID, dur(d), st)
		if st == 503 && rapid.Bool().Draw(t, "handler_x_rivet_error") {
			line += " header=x-rivet-error:user.busy"
		}
		if a.Hibernate {
			line += fmt.Sprintf(" hibernate ack_delay=%s", dur(a.AckDelay))
		}
		g.emit("%s", line)
	case "ws_open":
		name := fmt.Sprintf("w%d", len(g.sockets)+1)
		g.sockets = append(g.sockets, name)
		g.emit("ws %s actor=%s", name, g.actor(t).ID)
	case "ws_send", "ws_close":
		if len(g.sockets) == 0 {
			g.actions--
			return
		}
		s := rapid.SampledFrom(g.sockets).Draw(t, "socket")
		if kind == "ws_send" {
			g.emit("send %s m%d", s, g.actions)
		} else {
			g.emit("close %s", s)
		}
	case "sleep", "wake", "crash", "stop", "destroy":
		g.emit("%s %s", kind, g.actor(t).ID)
	case "reschedule":
		g.emit("reschedule %s to=%s", g.actor(t).ID, g.runner(t))
	case "disconnect", "reconnect":
		g.emit("%s %s", kind, g.runner(t))
	case "lose": // a runner that stays away: the engine will declare it lost
		r := g.runner(t)
		g.emit("autoreconnect %s off", r)
		g.emit("disconnect %s", r)
	case "hold", "drop":
		l := g.link(t)
		g.held = append(g.held, l)
		g.emit("%s %s", kind, l)
	case "heal":
		if len(g.held) == 0 {
			g.actions--
			return
		}
		g.emit("heal %s", rapid.SampledFrom(g.held).Draw(t, "healed"))
	case "latency":
		g.emit("latency %s base=%s", g.link(t), dur(rapid.SampledFrom(smallDelays).Draw(t, "latency")))
	case "stale_pin":
		g.emit("latency ups->engine base=%s", dur(rapid.SampledFrom(smallDelays).Draw(t, "pin_delay")))
	case "workflow_delay":
		g.emit("workflow_delay %s", dur(rapid.SampledFrom(smallDelays).Draw(t, "workflow_delay")))
	case "expire_cache":
		g.emit("expire_route_cache")
	case "peer_http":
		if !g.o.Peer {
			g.actions--
			return
		}
		g.http++
		g.emit("http c%d actor=%s@dc2", g.http, g.actor(t).ID)
	case "peer_down":
		if !g.o.Peer {
			g.actions--
			return
		}
		if rapid.Bool().Draw(t, "peer_state") {
			g.emit("peer_down dc2")
		} else {
			g.emit("peer_up dc2")
		}
	}
}

// MaxActions bounds the actions of one scenario.
const MaxActions = 40

// drawScenario draws options and actions and returns the whole script.
func drawScenario(t *rapid.T, p model.Profile) (Options, []string) {
	o := drawOptions(t, p)
	g := &scenarioGen{o: o}
	for _, k := range ActionKinds {
		for range o.Weights[k] {
			g.kinds = append(g.kinds, k)
		}
	}
	n := rapid.IntRange(1, MaxActions).Draw(t, "actions")
	for range n {
		g.step(t)
	}
	lines := append(o.header(), g.lines...)
	return o, append(lines, "liveness")
}

// actionCount counts a script's actions: the lines after the world is built
// and before the liveness phase.
func actionCount(script []string) int {
	i := slices.Index(script, "run")
	n := 0
	for _, l := range script[i+1:] {
		if l != "liveness" {
			n++
		}
	}
	return n
}
