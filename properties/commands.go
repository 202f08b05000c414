package properties

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/sim"
)

// The scenario language's one registry of commands. The script runner
// checks every line against it before running it (unknown commands,
// unknown or repeated keys, missing or extra words, values of the wrong
// type and names of the wrong kind are errors naming the file and line);
// testdata/scenarios/README.md's command table and `guardsim -commands`
// are generated from it (TestCommandTableIsCurrent keeps them in step).

// Section groups commands in the reference.
type Section uint8

const (
	// SectionBuild commands describe the world.
	SectionBuild Section = iota + 1
	// SectionHappen commands are things that happen; each can follow `at T`.
	SectionHappen
	// SectionCheck commands run the world and judge it.
	SectionCheck
)

func (s Section) String() string {
	switch s {
	case SectionBuild:
		return "Building the world"
	case SectionHappen:
		return "Things that happen (prefix any with `at T`)"
	case SectionCheck:
		return "Running and checking"
	}
	return "?"
}

// ArgType is what an argument's value must be.
type ArgType uint8

const (
	// argWord is any word.
	argWord ArgType = iota + 1
	// argText is any text; put text with spaces in parentheses: key=(a b).
	argText
	// argDuration is a Go duration (100ms, 1.5s, 2m) or 0.
	argDuration
	// argInt is a decimal integer.
	argInt
	// argNewName is a request or socket name not used before.
	argNewName
	// argRequestName is an HTTP request named before.
	argRequestName
	// argSocketName is a WebSocket named before.
	argSocketName
	// argClientName is a request or socket named before.
	argClientName
	// argActorName is an actor id, or id@dc for a peer datacenter's actor.
	argActorName
	// argRunnerName is one of the world's runners.
	argRunnerName
	// argRunnerList is a comma-separated list of new runner names.
	argRunnerList
	// argLink is a network direction FROM->TO.
	argLink
	// argProfileName is a commit of the timeline or an alias.
	argProfileName
	// argPropertyName is one of the oracle's properties.
	argPropertyName
	// argPeerName is a peer datacenter declared by the world line.
	argPeerName
	// argChoice is one of the argument's listed values.
	argChoice
	// argHeader is name:value.
	argHeader
	// argHash is a trace fingerprint.
	argHash
	// argFlag is a bare word that switches something on.
	argFlag
)

// Arg is one argument of a command.
type Arg struct {
	Name string // the key, or for a positional argument its placeholder (NAME)
	Type ArgType
	// Positional arguments come first, in order, as bare words; the others
	// are key=value (a argFlag is a bare word).
	Positional bool
	Optional   bool
	Repeat     bool     // the key may be given several times
	Choices    []string // for argChoice
	Meta       string   // the value's placeholder in the usage line (default: by type)
	Doc        string
}

// Command is one command of the language.
type Command struct {
	Name    string
	Section Section
	Args    []Arg
	// Rest is a positional argument list the registry does not check (at
	// T <command>, check PROPERTY..., expect NAME key=value...): the
	// command checks it itself against Keys.
	Rest string
	Doc  string

	// Derived once from Args (init), so checking a line allocates
	// nothing: the positional arguments in order, and the others by name.
	positional []int
	keys       map[string]int
}

// commandIndex finds a command by name.
var commandIndex = map[string]*Command{}

func init() {
	for _, c := range Commands {
		commandIndex[c.Name] = c
		c.keys = map[string]int{}
		for i, a := range c.Args {
			if a.Positional {
				c.positional = append(c.positional, i)
			} else {
				c.keys[a.Name] = i
			}
		}
		if len(c.Args) > 64 {
			panic("command " + c.Name + ": more arguments than validate's bitmask holds")
		}
	}
}

// Usage is the command's synopsis, as the reference prints it.
func (c *Command) Usage() string {
	parts := []string{c.Name}
	for _, a := range c.Args {
		var p string
		switch {
		case a.Positional:
			p = a.Name
		case a.Type == argFlag:
			p = a.Name
		case a.Type == argChoice:
			p = a.Name + "=" + strings.Join(a.Choices, "|")
		case a.Meta != "":
			p = a.Name + "=" + a.Meta
		default:
			p = a.Name + "=" + placeholder(a.Type)
		}
		if a.Repeat {
			p += "..."
		}
		if a.Optional {
			p = "[" + p + "]"
		}
		parts = append(parts, p)
	}
	if c.Rest != "" {
		parts = append(parts, c.Rest)
	}
	return strings.Join(parts, " ")
}

func placeholder(t ArgType) string {
	switch t {
	case argDuration:
		return "D"
	case argInt:
		return "N"
	case argText:
		return "TEXT"
	case argRunnerName:
		return "R"
	case argRunnerList:
		return "r1,r2"
	case argActorName:
		return "A"
	case argProfileName:
		return "P"
	case argHeader:
		return "k:v"
	case argPeerName:
		return "DC"
	}
	return "X"
}

// Commands is the registry.
var Commands = []*Command{
	{Name: "world", Section: SectionBuild, Doc: "must come first. `P` is a commit of the timeline (`go run ./cmd/guardsim -h` lists them) or an alias (`parent`, `seed`). `quirk=` switches one modelled behaviour on (`quirk=NAME`) or off (`quirk=-NAME`) for a what-if experiment; the profile is then a mixture, never an upstream state, and says so in its name. The world boots (runners connect) before the next line.",
		Args: []Arg{{Name: "profile", Type: argProfileName, Optional: true}, {Name: "seed", Type: argInt, Optional: true, Doc: "the world's seed"},
			{Name: "runners", Type: argRunnerList}, {Name: "peers", Type: argWord, Optional: true, Meta: "dc2[,dc3]"},
			{Name: "workflow_delay", Type: argDuration, Optional: true}, {Name: "lost_threshold", Type: argDuration, Optional: true},
			{Name: "start_delay", Type: argDuration, Optional: true}, {Name: "stop_delay", Type: argDuration, Optional: true},
			{Name: "quirk", Type: argWord, Optional: true, Repeat: true, Meta: "[-]NAME"}}},
	{Name: "actor", Section: SectionBuild, Doc: "create actor A, allocated on R if R is connected (R need not be one of the world's runners: then the engine picks one, as for a runner that is away)",
		Args: []Arg{{Name: "A", Type: argWord, Positional: true}, {Name: "on", Type: argWord, Meta: "R"},
			{Name: "crash", Type: argChoice, Optional: true, Choices: []string{"restart", "sleep", "destroy"}}}},
	{Name: "behavior", Section: SectionBuild, Doc: "what A's handlers do from now on (default: 200 `runner=R actor=A gen=G`); `hibernate` makes its WebSockets hibernatable, acked after `ack_delay`",
		Args: []Arg{{Name: "A", Type: argWord, Positional: true}, {Name: "delay", Type: argDuration, Optional: true},
			{Name: "status", Type: argInt, Optional: true}, {Name: "header", Type: argHeader, Optional: true, Repeat: true},
			{Name: "body", Type: argText, Optional: true}, {Name: "throw", Type: argFlag, Optional: true},
			{Name: "hibernate", Type: argFlag, Optional: true}, {Name: "ack_delay", Type: argDuration, Optional: true},
			{Name: "ws_throw", Type: argFlag, Optional: true}, {Name: "ws_handler_throw", Type: argFlag, Optional: true},
			{Name: "not_implemented", Type: argFlag, Optional: true}}},
	{Name: "latency", Section: SectionBuild, Doc: "one direction's latency (default 1 ms + up to 0.5 ms). Nodes: `guard`, `ups`, `engine`, each runner by its id, and `guard-DC` for a peer datacenter.",
		Args: []Arg{{Name: "FROM->TO", Type: argLink, Positional: true}, {Name: "base", Type: argDuration}, {Name: "jitter", Type: argDuration, Optional: true}}},

	{Name: "http", Section: SectionHappen, Doc: "a client GET through Guard, routed by `x-rivet-target: actor` / `x-rivet-actor: A`; `A@dc2` goes to peer dc2",
		Args: []Arg{{Name: "NAME", Type: argNewName, Positional: true}, {Name: "actor", Type: argActorName}, {Name: "path", Type: argWord, Optional: true, Meta: "/p"}}},
	{Name: "ws", Section: SectionHappen, Doc: "a client WebSocket through Guard (routed by subprotocol); `A@dc2` goes to peer dc2",
		Args: []Arg{{Name: "NAME", Type: argNewName, Positional: true}, {Name: "actor", Type: argActorName}, {Name: "path", Type: argWord, Optional: true, Meta: "/p"}}},
	{Name: "send", Section: SectionHappen, Doc: "the client sends a text message on its WebSocket",
		Args: []Arg{{Name: "NAME", Type: argSocketName, Positional: true}, {Name: "DATA", Type: argWord, Positional: true}}},
	{Name: "close", Section: SectionHappen, Doc: "the client closes its WebSocket (default code 1000)",
		Args: []Arg{{Name: "NAME", Type: argSocketName, Positional: true}, {Name: "code", Type: argInt, Optional: true}, {Name: "reason", Type: argText, Optional: true}}},
	{Name: "sleep", Section: SectionHappen, Doc: "the runner hosting A sends its intent to sleep", Args: []Arg{{Name: "A", Type: argWord, Positional: true}}},
	{Name: "stop", Section: SectionHappen, Doc: "the runner hosting A sends its intent to stop", Args: []Arg{{Name: "A", Type: argWord, Positional: true}}},
	{Name: "crash", Section: SectionHappen, Doc: "A's process dies on its runner", Args: []Arg{{Name: "A", Type: argWord, Positional: true}}},
	{Name: "wake", Section: SectionHappen, Doc: "the engine's wake signal", Args: []Arg{{Name: "A", Type: argWord, Positional: true}}},
	{Name: "destroy", Section: SectionHappen, Doc: "the engine's destroy signal", Args: []Arg{{Name: "A", Type: argWord, Positional: true}}},
	{Name: "reschedule", Section: SectionHappen, Doc: "the engine moves A to R (a Lost signal with force_reschedule)",
		Args: []Arg{{Name: "A", Type: argWord, Positional: true}, {Name: "to", Type: argRunnerName}}},
	{Name: "disconnect", Section: SectionHappen, Doc: "the runner drops its connection to the engine", Args: []Arg{{Name: "R", Type: argRunnerName, Positional: true}}},
	{Name: "reconnect", Section: SectionHappen, Doc: "the runner re-dials the engine", Args: []Arg{{Name: "R", Type: argRunnerName, Positional: true}}},
	{Name: "autoreconnect", Section: SectionHappen, Doc: "whether the runner re-dials by itself after a disconnect",
		Args: []Arg{{Name: "R", Type: argRunnerName, Positional: true}, {Name: "on|off", Type: argChoice, Positional: true, Choices: []string{"on", "off"}}}},
	{Name: "hold", Section: SectionHappen, Doc: "the direction holds messages (in order) until healed", Args: []Arg{{Name: "FROM->TO", Type: argLink, Positional: true}}},
	{Name: "drop", Section: SectionHappen, Doc: "the direction's connections break, and new ones are refused until healed", Args: []Arg{{Name: "FROM->TO", Type: argLink, Positional: true}}},
	{Name: "heal", Section: SectionHappen, Doc: "lift hold and drop; held messages are delivered", Args: []Arg{{Name: "FROM->TO", Type: argLink, Positional: true}}},
	{Name: "workflow_delay", Section: SectionHappen, Doc: "the engine's processing delay per signal from now on", Args: []Arg{{Name: "D", Type: argDuration, Positional: true}}},
	{Name: "expire_route_cache", Section: SectionHappen, Doc: "drop Guard's cached routes"},
	{Name: "peer_down", Section: SectionHappen, Doc: "a peer datacenter's guard refuses connections", Args: []Arg{{Name: "DC", Type: argPeerName, Positional: true}}},
	{Name: "peer_up", Section: SectionHappen, Doc: "a peer datacenter's guard accepts connections again", Args: []Arg{{Name: "DC", Type: argPeerName, Positional: true}}},

	{Name: "at", Section: SectionCheck, Rest: "T COMMAND ...", Doc: "run a command of the section above at absolute virtual time T instead of now"},
	{Name: "run", Section: SectionCheck, Doc: "run until quiet (only periodic GC ticks left), until a time, or for a while (one of the two keys at most)",
		Args: []Arg{{Name: "until", Type: argDuration, Optional: true, Meta: "T"}, {Name: "for", Type: argDuration, Optional: true}}},
	{Name: "liveness", Section: SectionCheck, Doc: "heal every fault, settle, probe every live actor with a request and a socket, go quiet"},
	{Name: "expect", Section: SectionCheck, Rest: "NAME key=value...", Doc: "check a request or a socket; the keys are listed below. Numbers and durations take `=`, `<=`, `>=`; text takes `=` or `~=` (contains)."},
	{Name: "expect_runner", Section: SectionCheck, Doc: "what runner R saw for A",
		Args: []Arg{{Name: "R", Type: argRunnerName, Positional: true}, {Name: "actor", Type: argWord, Meta: "A"},
			{Name: "handler_runs", Type: argInt, Optional: true}, {Name: "stop_calls", Type: argInt, Optional: true},
			{Name: "answers", Type: argInt, Optional: true}, {Name: "ws_opens", Type: argInt, Optional: true},
			{Name: "ws_received", Type: argText, Optional: true}, {Name: "ws_closes_sent", Type: argInt, Optional: true},
			{Name: "ws_closes_received", Type: argInt, Optional: true}, {Name: "ws_acks", Type: argInt, Optional: true}}},
	{Name: "check", Section: SectionCheck, Rest: "[PROPERTY...]", Doc: "the oracle: fail on any violation (of the properties named, or of all)"},
	{Name: "expect_violation", Section: SectionCheck, Doc: "the oracle finds the property violated in the world so far",
		Args: []Arg{{Name: "PROPERTY", Type: argPropertyName, Positional: true}}},
	{Name: "expect_hash", Section: SectionCheck, Doc: "the trace so far has this fingerprint",
		Args: []Arg{{Name: "HASH", Type: argHash, Positional: true}}},
	{Name: "hash", Section: SectionCheck, Doc: "print the trace's fingerprint so far: in a scenario file its output pins the whole trace (`-rewrite` updates it)"},
}

// ExpectKey is one key of an expect line.
type ExpectKey struct {
	Name string // gapN and open_atN take a number after the name
	Type ArgType
	Doc  string
}

// RequestKeys are the keys of `expect NAME` for an HTTP request.
var RequestKeys = []ExpectKey{
	{"status", argInt, "the response's status"}, {"code", argText, "Guard's JSON error `group.code`"}, {"body", argText, "the body"},
	{"header", argText, "a header is present (`header=k` or `header=k:v`)"}, {"no_header", argText, "a header is absent"},
	{"attempts", argInt, "Guard's attempts"}, {"routing", argInt, "routing function calls"}, {"served_by", argText, "the runner named in the body"},
	{"gen", argInt, "the actor generation named in the body"}, {"latency", argDuration, "from the request to its response"},
	{"backoffs", argText, "Guard's waits between attempts, e.g. `100ms,200ms`"},
	{"gapN", argDuration, "from the end of attempt N-1 to the start of attempt N"}, {"pending", argFlag, "no response yet"},
}

// SocketKeys are the keys of `expect NAME` for a WebSocket.
var SocketKeys = []ExpectKey{
	{"upgraded", argChoice, "`true` or `false`: the client got its 101"}, {"protocol", argText, "the subprotocol agreed"},
	{"opened", argChoice, "an open reached the actor"}, {"opens", argInt, "Guard's opens"}, {"reconnects", argInt, "Guard's reconnects"},
	{"routing", argInt, "routing function calls"}, {"request_ids", argInt, "distinct request ids of the opens on the wire"},
	{"closed", argChoice, "the client's socket is closed"}, {"close_code", argInt, "the close code the client got"},
	{"close_reason", argText, "the close reason"}, {"closed_at", argDuration, "when it closed"},
	{"received", argText, "the messages the client got, comma-separated"}, {"backoffs", argText, "Guard's waits between opens"},
	{"open_atN", argDuration, "when open N started, from the client's open"},
}

// CommandByName returns the registered command.
func CommandByName(name string) (*Command, bool) {
	c, ok := commandIndex[name]
	return c, ok
}

func commandNames() []string {
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = c.Name
	}
	return names
}

// validate checks a line's words against its command: the words, keys and
// values it has, and the names it uses. It runs before the line does, so a
// mistake is reported even where the command would not look at it.
func (r *scriptRun) validate(f []string) error {
	c, ok := CommandByName(f[0])
	if !ok {
		return r.errf("unknown command %q%s (want one of %s)", f[0], suggest(f[0], commandNames()), strings.Join(commandNames(), ", "))
	}
	if c.Rest != "" {
		return nil // at, expect and check check their own words
	}
	var seen uint64 // by argument index
	npos := 0
	for _, w := range f[1:] {
		k, v, isKV := strings.Cut(w, "=")
		if !isKV {
			if i, ok := c.keys[w]; ok && c.Args[i].Type == argFlag {
				if seen&(1<<i) != 0 {
					return r.errf("%s: %s given twice", c.Name, w)
				}
				seen |= 1 << i
				continue
			}
			if npos >= len(c.positional) {
				return r.errf("%s: unexpected word %q%s (usage: %s)", c.Name, w, suggestFlag(w, c), c.Usage())
			}
			if err := r.checkValue(c, c.Args[c.positional[npos]], w); err != nil {
				return err
			}
			npos++
			continue
		}
		i, ok := c.keys[k]
		if !ok || c.Args[i].Type == argFlag {
			return r.errf("%s: unknown key %q%s (usage: %s)", c.Name, k, suggest(k, sim.SortedKeys(c.keys)), c.Usage())
		}
		if seen&(1<<i) != 0 && !c.Args[i].Repeat {
			return r.errf("%s: %s= given twice", c.Name, k)
		}
		seen |= 1 << i
		if err := r.checkValue(c, c.Args[i], v); err != nil {
			return err
		}
	}
	for _, i := range c.positional[npos:] {
		if !c.Args[i].Optional {
			return r.errf("%s: missing %s (usage: %s)", c.Name, c.Args[i].Name, c.Usage())
		}
	}
	for i, a := range c.Args {
		if !a.Positional && !a.Optional && seen&(1<<i) == 0 {
			return r.errf("%s: missing %s= (usage: %s)", c.Name, a.Name, c.Usage())
		}
	}
	return nil
}

// checkValue checks one argument's value against its type.
func (r *scriptRun) checkValue(c *Command, a Arg, v string) error {
	bad := func(want string) error { return r.errf("%s: %s=%q, expected %s", c.Name, a.Name, v, want) }
	if a.Positional {
		bad = func(want string) error { return r.errf("%s: %s %q, expected %s", c.Name, a.Name, v, want) }
	}
	switch a.Type {
	case argDuration:
		if _, err := parseDur(v); err != nil {
			return bad("a duration such as 100ms or 1.5s")
		}
	case argInt:
		if _, err := strconv.Atoi(v); err != nil {
			return bad("a whole number")
		}
	case argWord, argNewName, argActorName, argPeerName, argRunnerList, argHeader, argHash:
		if v == "" {
			return bad("a value")
		}
		switch a.Type {
		case argNewName:
			if _, used := r.kinds[v]; used {
				return r.errf("%s: the name %q is already used by %s", c.Name, v, r.kinds[v])
			}
		case argPeerName:
			if r.w != nil && !slices.Contains(r.w.Cfg.Peers, v) {
				return r.errf("%s: unknown peer %q (declare it with world peers=...)", c.Name, v)
			}
		case argHeader:
			if !strings.Contains(v, ":") {
				return bad("name:value")
			}
		}
	case argRunnerName:
		if r.w != nil && r.w.Runners[model.RunnerID(v)] == nil {
			return r.errf("%s: unknown runner %q (the world has %s)", c.Name, v, strings.Join(runnerNames(r.w), ", "))
		}
	case argLink:
		from, to, ok := strings.Cut(v, "->")
		if !ok || from == "" || to == "" {
			return bad("FROM->TO")
		}
	case argChoice:
		if !slices.Contains(a.Choices, v) {
			return bad(strings.Join(a.Choices, " or "))
		}
	case argProfileName:
		if _, err := model.ProfileByName(v); err != nil {
			return r.errf("%s: %v", c.Name, err)
		}
	case argPropertyName:
		if !slices.Contains(PropertyNames(), v) {
			return r.errf("%s: unknown property %q%s (want one of %s)", c.Name, v, suggest(v, PropertyNames()), strings.Join(PropertyNames(), ", "))
		}
	case argSocketName, argRequestName, argClientName:
		return r.checkClientName(c.Name, v, a.Type)
	}
	return nil
}

// clientKind is what a client name was declared as.
type clientKind uint8

const (
	httpClient clientKind = iota + 1
	wsClient
)

func (k clientKind) String() string {
	if k == wsClient {
		return "a WebSocket (ws)"
	}
	return "an HTTP request (http)"
}

// checkClientName checks that name was declared, as the kind want needs.
func (r *scriptRun) checkClientName(cmd, name string, want ArgType) error {
	k, ok := r.kinds[name]
	switch {
	case !ok:
		return r.errf("%s: no request or socket is named %q", cmd, name)
	case want == argSocketName && k != wsClient:
		return r.errf("%s: %q is %s; %s needs a WebSocket (ws %s ...)", cmd, name, k, cmd, name)
	case want == argRequestName && k != httpClient:
		return r.errf("%s: %q is %s; %s needs an HTTP request", cmd, name, k, cmd)
	}
	return nil
}

func runnerNames(w *World) []string {
	var names []string
	for _, id := range w.Cfg.Runners {
		names = append(names, string(id))
	}
	return names
}

// suggest is `, did you mean "x"?` when a candidate is one or two edits
// away from s.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// suggestFlag suggests a flag of the command for a stray word.
func suggestFlag(w string, c *Command) string {
	var flags []string
	for _, a := range c.Args {
		if a.Type == argFlag {
			flags = append(flags, a.Name)
		}
	}
	return suggest(w, flags)
}

// editDistance is the Levenshtein distance, with a transposition counted
// as one edit (stauts, status).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// expectKey finds the expect key an argument names: "latency<=2s" is
// latency; "gap2>=1s" is gapN.
func expectKey(keys []ExpectKey, key string) (ExpectKey, bool) {
	for _, k := range keys {
		if base, ok := strings.CutSuffix(k.Name, "N"); ok && strings.HasPrefix(key, base) {
			if n, err := strconv.Atoi(key[len(base):]); err == nil && n >= 1 {
				return k, true
			}
			continue
		}
		if k.Name == key {
			return k, true
		}
	}
	return ExpectKey{}, false
}

func expectKeyNames(keys []ExpectKey) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// validateExpect checks an expect line's keys, operators and values
// against the kind of client it names.
func (r *scriptRun) validateExpect(f []string) error {
	if len(f) < 3 {
		return r.errf("expect: expected 'expect NAME key=value ...'")
	}
	name := f[1]
	k, ok := r.kinds[name]
	if !ok {
		return r.errf("expect: request %q was never issued", name)
	}
	keys := RequestKeys
	if k == wsClient {
		keys = SocketKeys
	}
	for _, a := range f[2:] {
		key, op, val := a, "", ""
		for _, o := range []string{"<=", ">=", "~=", "="} {
			if kk, v, found := strings.Cut(a, o); found {
				key, op, val = kk, o, v
				break
			}
		}
		ek, ok := expectKey(keys, key)
		if !ok {
			other := "a WebSocket"
			if k == wsClient {
				other = "an HTTP request"
			}
			if _, theirs := expectKey(map[bool][]ExpectKey{true: RequestKeys, false: SocketKeys}[k == wsClient], key); theirs {
				return r.errf("expect: %s is a key of %s, and %q is %s", key, other, name, k)
			}
			return r.errf("expect: unknown key %q%s for %s (want %s)", key, suggest(key, expectKeyNames(keys)), k, strings.Join(expectKeyNames(keys), ", "))
		}
		switch ek.Type {
		case argFlag:
			if op != "" {
				return r.errf("expect: %s takes no value", key)
			}
			continue
		case argInt, argDuration:
			if op == "~=" || op == "" {
				return r.errf("expect: %s takes =, <= or >=, got %q", key, a)
			}
		case argText:
			if op != "=" && op != "~=" {
				return r.errf("expect: %s takes = or ~=, got %q", key, a)
			}
		case argChoice:
			if op != "=" || (val != "true" && val != "false") {
				return r.errf("expect: %s takes =true or =false, got %q", key, a)
			}
		}
		switch ek.Type {
		case argInt:
			if _, err := strconv.Atoi(val); err != nil {
				return r.errf("expect %s: %q is not a number", key, val)
			}
		case argDuration:
			if _, err := parseDur(val); err != nil {
				return r.errf("expect %s: %v", key, err)
			}
		}
	}
	return nil
}

// CommandTable renders the registry as the reference's markdown tables.
func CommandTable() string {
	var b strings.Builder
	for _, s := range []Section{SectionBuild, SectionHappen, SectionCheck} {
		fmt.Fprintf(&b, "### %s\n\n| command | meaning |\n|---|---|\n", s)
		for _, c := range Commands {
			if c.Section == s {
				fmt.Fprintf(&b, "| `%s` | %s |\n", strings.ReplaceAll(c.Usage(), "|", `\|`), c.Doc)
			}
		}
		b.WriteString("\n")
	}
	for _, ks := range []struct {
		what string
		keys []ExpectKey
	}{{"an HTTP request", RequestKeys}, {"a WebSocket", SocketKeys}} {
		fmt.Fprintf(&b, "### `expect` keys for %s\n\n| key | meaning |\n|---|---|\n", ks.what)
		for _, k := range ks.keys {
			fmt.Fprintf(&b, "| `%s` | %s |\n", k.Name, k.Doc)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mustCommand returns a registered command by name.
func mustCommand(name string) *Command {
	c, ok := CommandByName(name)
	if !ok {
		panic("no command " + name)
	}
	return c
}
