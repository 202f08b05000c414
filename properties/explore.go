package properties

import (
	"fmt"
	"slices"
	"strconv"
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
	"latency", "stale_pin", "stale_race", "stale_ws_race", "ws_open_race", "workflow_delay", "expire_cache", "peer_http", "peer_down", "peer_ws",
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
	fmt.Fprintf(&b, "profile=%s%s seed=%d runners=%d actors=%d peer=%t pin_delay=%s workflow_delay=%s lost_threshold=%s\n",
		o.Profile.Commit.Name(), o.Profile.QuirkArgs(), o.Seed, o.Runners, len(o.Actors), o.Peer, dur(o.PinDelay), dur(o.WorkflowDelay), dur(o.LostThreshold))
	for _, a := range o.Actors {
		fmt.Fprintf(&b, "  actor %s on=%s crash=%s hibernate=%t ack_delay=%s\n", a.ID, a.On, a.Crash, a.Hibernate, dur(a.AckDelay))
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
	// advances favour short steps, where races live; long ones let timers
	// (2 s ack, 10 s ready, 15 s GC, lost thresholds) fire.
	advances = []sim.Time{sim.Millisecond, sim.Millisecond, 3 * sim.Millisecond, 3 * sim.Millisecond,
		10 * sim.Millisecond, 10 * sim.Millisecond, 30 * sim.Millisecond, 30 * sim.Millisecond,
		100 * sim.Millisecond, 300 * sim.Millisecond, sim.Second, 3 * sim.Second, 10 * sim.Second, 40 * sim.Second}
	raceGaps      = []sim.Time{sim.Millisecond, 2 * sim.Millisecond, 3 * sim.Millisecond, 5 * sim.Millisecond, 20 * sim.Millisecond}
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
func drawOptions(t *rapid.T, p model.Profile, focus []string) Options {
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
	// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): each kind
	// is on or off, and on with a weight from 1 to 8, so scenarios differ
	// wildly in what they stress and a bug that needs a few kinds without
	// the noise of the others is met often. Half the scenarios are sparse
	// (each kind on with odds 1/2), half dense (7/8): sparse ones meet the
	// bugs that noise hides, dense ones those that need many kinds at once.
	// advance and http are always on.
	on := 4
	if rapid.Bool().Draw(t, "swarm_dense") {
		on = 7
	}
	for _, k := range ActionKinds {
		w := 0
		if rapid.IntRange(1, 8).Draw(t, "on_"+k) <= on {
			w = rapid.IntRange(1, maxWeight).Draw(t, "weight_"+k)
		}
		if (k == "advance" || k == "http" || slices.Contains(focus, k)) && w == 0 {
			w = 1
		}
		if len(focus) > 0 && !slices.Contains(focus, k) && k != "advance" && k != "http" {
			w = 0 // a focused search leaves the other kinds out
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
		o.Profile.Commit.Name(), o.Seed, strings.Join(runners, ","), dur(o.WorkflowDelay), dur(o.LostThreshold))
	if o.Peer {
		world += " peers=dc2"
	}
	world += o.Profile.QuirkArgs()
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

// action is one drawn action. Actions are drawn as the steps of a rapid
// state machine (t.Repeat), so that rapid can delete them while shrinking,
// and rendered into script lines afterwards, when names are known.
type action struct {
	kind    string
	actor   int
	runner  int
	link    int
	pick    int // which socket or held link
	dur     sim.Time
	status  int
	xRivet  bool
	upState bool
}

// drawAction draws the parameters of one action of the given kind.
func drawAction(t *rapid.T, o Options, kind string) action {
	{
		a := action{kind: kind}
		actor := func() { a.actor = rapid.IntRange(0, len(o.Actors)-1).Draw(t, "actor") }
		runner := func() { a.runner = rapid.IntRange(0, o.Runners-1).Draw(t, "runner") }
		switch a.kind {
		case "advance":
			a.dur = rapid.SampledFrom(advances).Draw(t, "advance")
		case "http", "ws_open", "sleep", "wake", "crash", "stop", "destroy", "peer_http", "peer_ws":
			actor()
		case "behavior":
			actor()
			a.dur = rapid.SampledFrom(handlerDelays).Draw(t, "handler_delay")
			a.status = rapid.SampledFrom(statuses).Draw(t, "handler_status")
			a.xRivet = a.status == 503 && rapid.Bool().Draw(t, "handler_x_rivet_error")
		case "ws_send", "ws_close", "heal":
			a.pick = rapid.IntRange(0, 7).Draw(t, "pick")
		case "reschedule":
			actor()
			runner()
		case "disconnect", "reconnect", "lose":
			runner()
		case "hold", "drop":
			runner()
			a.link = rapid.IntRange(0, 7).Draw(t, "link")
		case "latency":
			runner()
			a.link = rapid.IntRange(0, 7).Draw(t, "link")
			a.dur = rapid.SampledFrom(smallDelays).Draw(t, "latency")
		case "stale_pin", "workflow_delay":
			a.dur = rapid.SampledFrom(smallDelays).Draw(t, "delay")
		case "stale_race", "stale_ws_race", "ws_open_race":
			actor()
			runner()
			a.dur = rapid.SampledFrom(raceGaps).Draw(t, "race_gap")
			a.pick = rapid.IntRange(0, 2).Draw(t, "race_removal")
			if kind == "stale_ws_race" {
				a.link = rapid.IntRange(0, 7).Draw(t, "socket")
			}
		case "peer_down":
			a.upState = rapid.Bool().Draw(t, "peer_up")
		}
		return a
	}
}

// render writes actions as script lines, naming requests and sockets in
// order; an action that cannot apply (a send with no socket yet) is dropped.
func render(o Options, acts []action) []string {
	var lines, sockets, held []string
	socketActor := map[string]int{}
	http := 0
	link := func(a action) string {
		r := string(runnerID(a.runner))
		links := []string{"guard->ups", "ups->guard", "ups->engine", "engine->ups", "guard->engine", "engine->guard", r + "->engine", "engine->" + r}
		return links[a.link%len(links)]
	}
	emit := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	for i, a := range acts {
		actor := o.Actors[a.actor%len(o.Actors)]
		runner := runnerID(a.runner % o.Runners)
		switch a.kind {
		case "advance":
			emit("run for=%s", dur(a.dur))
		case "http":
			http++
			emit("http c%d actor=%s", http, actor.ID)
		case "peer_http":
			if o.Peer {
				http++
				emit("http c%d actor=%s@dc2", http, actor.ID)
			}
		case "behavior":
			line := fmt.Sprintf("behavior %s delay=%s status=%d", actor.ID, dur(a.dur), a.status)
			if a.xRivet {
				line += " header=x-rivet-error:user.busy"
			}
			if actor.Hibernate {
				line += fmt.Sprintf(" hibernate ack_delay=%s", dur(actor.AckDelay))
			}
			emit("%s", line)
		case "ws_open":
			name := fmt.Sprintf("w%d", len(sockets)+1)
			sockets = append(sockets, name)
			socketActor[name] = a.actor
			emit("ws %s actor=%s", name, actor.ID)
		case "peer_ws": // a socket through the Target path (spec (i).15)
			if o.Peer {
				name := fmt.Sprintf("w%d", len(sockets)+1)
				sockets = append(sockets, name)
				socketActor[name] = a.actor
				emit("ws %s actor=%s@dc2", name, actor.ID)
			}
		case "ws_send":
			if len(sockets) > 0 {
				emit("send %s m%d", sockets[a.pick%len(sockets)], i+1)
			}
		case "ws_close":
			if len(sockets) > 0 {
				emit("close %s", sockets[a.pick%len(sockets)])
			}
		case "sleep", "wake", "crash", "stop", "destroy":
			emit("%s %s", a.kind, actor.ID)
		case "reschedule":
			emit("reschedule %s to=%s", actor.ID, runner)
		case "disconnect", "reconnect":
			emit("%s %s", a.kind, runner)
		case "lose": // a runner that stays away: the engine will declare it lost
			emit("autoreconnect %s off", runner)
			emit("disconnect %s", runner)
		case "hold", "drop":
			l := link(a)
			held = append(held, l)
			emit("%s %s", a.kind, l)
		case "heal":
			if len(held) > 0 {
				emit("heal %s", held[a.pick%len(held)])
			}
		case "latency":
			emit("latency %s base=%s", link(a), dur(a.dur))
		case "stale_pin":
			emit("latency ups->engine base=%s", dur(a.dur))
		case "stale_race", "stale_ws_race", "ws_open_race":
			// a request (or a message on an open socket, or a socket's
			// open), then its actor leaves while the route is pinned or the
			// message or the open is in flight
			switch a.kind {
			case "stale_race":
				http++
				emit("http c%d actor=%s", http, actor.ID)
			case "ws_open_race":
				name := fmt.Sprintf("w%d", len(sockets)+1)
				sockets = append(sockets, name)
				socketActor[name] = a.actor
				emit("ws %s actor=%s", name, actor.ID)
			default:
				if len(sockets) == 0 {
					continue
				}
				name := sockets[a.link%len(sockets)]
				emit("send %s m%d", name, i+1)
				actor = o.Actors[socketActor[name]%len(o.Actors)]
			}
			emit("run for=%s", dur(a.dur))
			switch a.pick {
			case 0:
				emit("sleep %s", actor.ID)
			case 1:
				emit("reschedule %s to=%s", actor.ID, runner)
			default:
				emit("crash %s", actor.ID)
			}
		case "workflow_delay":
			emit("workflow_delay %s", dur(a.dur))
		case "expire_cache":
			emit("expire_route_cache")
		case "peer_down":
			if o.Peer {
				if a.upState {
					emit("peer_up dc2")
				} else {
					emit("peer_down dc2")
				}
			}
		}
	}
	return lines
}

// MaxActions bounds the actions of one scenario.
const MaxActions = 40

// maxWeight is the largest swarm weight of an action kind.
const maxWeight = 8

// drawScenario draws options, then actions as a rapid state machine, and
// returns the whole script. Swarm testing on top of rapid's state machine:
// each step draws its kind from the kinds this scenario has on, each as
// likely as its weight, so a kind's share follows its weight. No step is
// ever skipped: a search focused on a few kinds of low weight draws as
// fast as any, and a fuzzer's fixed input (FuzzExplore) never runs out of
// valid steps. Scenarios have about -rapid.steps (default 30) actions on
// average.
func drawScenario(t *rapid.T, p model.Profile, focus ...string) (Options, []string) {
	o := drawOptions(t, p, focus)
	var weighted []string // each kind that is on, once per unit of its weight
	for _, k := range ActionKinds {
		for range o.Weights[k] {
			weighted = append(weighted, k)
		}
	}
	kind := rapid.SampledFrom(weighted)
	var acts []action
	t.Repeat(map[string]func(*rapid.T){
		"action": func(t *rapid.T) {
			acts = append(acts, drawAction(t, o, kind.Draw(t, "kind")))
		},
	})
	lines := append(o.header(), render(o, acts)...)
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

// shrunkTo returns the options a minimized script still uses: its runners,
// actors, peer, pin and workflow delays, as its header declares them (the
// action weights stay as drawn).
func (o Options) shrunkTo(script []string) Options {
	start, _ := span(script)
	var actors []ActorOptions
	o.PinDelay = 0
	for _, l := range script[:start] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "world":
			o.Peer = false
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "seed":
					if n, err := strconv.ParseUint(v, 10, 64); err == nil {
						o.Seed = n
					}
				case "runners":
					o.Runners = len(strings.Split(v, ","))
				case "peers":
					o.Peer = true
				case "workflow_delay":
					if d, err := parseDur(v); err == nil {
						o.WorkflowDelay = d
					}
				case "lost_threshold":
					if d, err := parseDur(v); err == nil {
						o.LostThreshold = d
					}
				}
			}
		case f[0] == "actor" && len(f) > 1:
			// The drawn actor, or one of a kept case the minimizer
			// started from (keptStart), as its line declares it.
			a := ActorOptions{ID: model.ActorID(f[1])}
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "on":
					a.On = model.RunnerID(v)
				case "crash":
					a.Crash = v
				}
			}
			actors = append(actors, a)
		case f[0] == "behavior" && len(f) > 2 && f[2] == "hibernate":
			for i := range actors {
				if string(actors[i].ID) == f[1] {
					actors[i].Hibernate = true
					for _, kv := range f[3:] {
						if v, ok := strings.CutPrefix(kv, "ack_delay="); ok {
							if d, err := parseDur(v); err == nil {
								actors[i].AckDelay = d
							}
						}
					}
				}
			}
		case f[0] == "latency" && len(f) > 2 && f[1] == "ups->engine":
			if d, err := parseDur(strings.TrimPrefix(f[2], "base=")); err == nil {
				o.PinDelay = d
			}
		}
	}
	o.Actors = actors
	// The weights of the action kinds the script no longer uses go too.
	used := map[string]bool{}
	for _, l := range script[start:] {
		if f := strings.Fields(l); len(f) > 0 {
			for _, k := range verbKinds[f[0]] {
				used[k] = true
			}
		}
	}
	weights := map[string]int{}
	for _, k := range sim.SortedKeys(o.Weights) {
		if used[k] {
			weights[k] = o.Weights[k]
		}
	}
	o.Weights = weights
	return o
}

// verbKinds maps a script verb to the action kinds that write it (render).
var verbKinds = map[string][]string{
	"run": {"advance", "stale_race", "stale_ws_race", "ws_open_race"}, "http": {"http", "peer_http", "stale_race"}, "behavior": {"behavior"},
	"ws": {"ws_open", "peer_ws", "ws_open_race"}, "send": {"ws_send", "stale_ws_race"}, "close": {"ws_close"},
	"sleep": {"sleep", "stale_race", "stale_ws_race", "ws_open_race"}, "wake": {"wake"}, "crash": {"crash", "stale_race", "stale_ws_race", "ws_open_race"},
	"stop": {"stop"}, "destroy": {"destroy"}, "reschedule": {"reschedule", "stale_race", "stale_ws_race", "ws_open_race"},
	"disconnect": {"disconnect", "lose"}, "reconnect": {"reconnect"}, "autoreconnect": {"lose"},
	"hold": {"hold"}, "heal": {"heal"}, "drop": {"drop"}, "latency": {"latency", "stale_pin"},
	"workflow_delay": {"workflow_delay"}, "expire_route_cache": {"expire_cache"}, "peer_up": {"peer_down"}, "peer_down": {"peer_down"},
}
