package model

import (
	"fmt"
	"strings"
)

// Profiles are upstream commits (DESIGN, spec errata E19). The timeline is
// the list of upstream commits, oldest first, at which a modelled
// behaviour changes; a quirk is one such behaviour, live from the commit
// that introduced it up to (not including) the commit that removed it; a
// profile is the set of quirks live at its commit. Nothing is ever mixed:
// every profile the explorer, the gate and the kept cases use is one
// commit. Scenario files may switch single quirks for a what-if
// experiment; such a profile is marked as a mixture wherever it is shown.
//
// docs/timeline.md lists every commit of f3105c779..553683bfd that touches
// a modelled path, and why each did or did not become a profile.

// Commit is one upstream commit of rivet-dev/rivet.
type Commit struct {
	Hash  string // abbreviated to 9 hex digits
	Alias string // a short name, or ""
	Date  string // author date, YYYY-MM-DD
	PR    int
	Title string
}

// Name is the alias if the commit has one, else its hash.
func (c Commit) Name() string {
	if c.Alias != "" {
		return c.Alias
	}
	return c.Hash
}

func (c Commit) String() string {
	s := c.Hash
	if c.Alias != "" {
		s += " (" + c.Alias + ")"
	}
	return s
}

// Timeline is every upstream commit guardsim models, oldest first. Each
// one changes at least one quirk below (TestTimelineIsConsistent).
var Timeline = []Commit{
	{"716db379f", "parent", "2025-11-04", 3321, "fix(runner): dupe onActorStop call"},
	{"f3105c779", "seed", "2025-11-04", 3322, "fix(runner): fix http requests not returning 503 when actor removed"},
	{"53f4819a8", "", "2025-11-04", 3323, "fix(runner): close active requests after onActorStop has finished running"},
	{"03965b331", "", "2025-11-04", 3326, "fix(pegboard): fix tunnel ack from gateway"},
	{"60fc116b7", "", "2025-11-04", 3328, "chore(runner): decrease timeout to 15s"},
	{"c6161fd4a", "", "2025-11-04", 3339, "chore(guard): simplify gateway routing"},
	{"ecd4e0417", "", "2025-11-05", 3341, "chore(guard): handle cors on the gateway"},
	{"2f5666c05", "", "2025-11-06", 3377, "fix: boot dupe runners"},
	{"5111b8e76", "", "2025-11-06", 3378, "fix(gateway): fix gc logic"},
	{"aa4fc4cff", "", "2025-11-06", 3381, "fix(guard): fix 1006 when client closes ws connection"},
	{"3d4e089d6", "", "2025-11-06", 3387, "chore(runner): add safeguard against duplicate sockets"},
	{"4e60a30e9", "", "2025-11-13", 3400, "feat(gateway): websocket hibernation"},
	{"450d9e5c6", "", "2025-11-13", 3449, "fix(guard): dont send open msg for hibernating ws, hibernating ws keepalive"},
}

// Quirk is one upstream behaviour that changes inside the timeline.
type Quirk uint8

// The quirks. Each one's doc, upstream lines and range are in quirkInfos.
const (
	RunnerNotFound404 Quirk = iota
	RunnerUnregisterBeforeStop
	GatewayFreshAckID
	RunnerLostThreshold2m
	GuardActorsRoutePath
	GatewayCORS
	PBREvictsDuplicateRunner
	GatewayGCOnePhase
	GatewayGCInvertedAge
	GuardEmptyCloseFrame
	RunnerDuplicateOpenOrphans
	GuardWSRetryImmediate
	GatewayGCKillUndelivered
	GatewayOpenAfterHibernation
	GatewayResendAfterLastIndex
	numQuirks
)

// quirkInfo describes a quirk: its name in scenario files, what it does
// with the upstream lines, and the commits that introduced and removed it
// ("" for Since: before the timeline's first commit; "" for Until: still
// live at the timeline's last commit, with Note saying where upstream
// changed it later).
type quirkInfo struct {
	Name         string
	Since, Until string
	Doc          string
	Note         string
}

var quirkInfos = [numQuirks]quirkInfo{
	RunnerNotFound404: {Name: "runner_not_found_404", Until: "f3105c779",
		Doc: "the runner answers a request for an unknown actor with 404 \"Actor not found\" (TUN@716db379f:212-218) instead of 503 + x-rivet-error: runner.actor_not_found (TUN@f3105c779:212-223)"},
	RunnerUnregisterBeforeStop: {Name: "runner_unregister_before_stop", Until: "53f4819a8",
		Doc: "forceStopActor closes the actor's WebSockets (1000 \"Actor stopped\", retry) before awaiting onActorStop (RUN@f3105c779:162-174, 240-246); from 53f4819a8 they close after onActorStop resolves, just before ActorStateStopped (RUN@53f4819a8:162-181)"},
	GatewayFreshAckID: {Name: "gateway_fresh_ack_id", Until: "03965b331",
		Doc: "the gateway acks a runner message with a fresh random message id (GSS@f3105c779:253), so the runner's pending tunnel messages never clear and its GC closes every WebSocket with \"Message acknowledgment timeout\"; 03965b331 echoes the original id"},
	RunnerLostThreshold2m: {Name: "runner_lost_threshold_2m", Until: "60fc116b7",
		Doc: "RUNNER_LOST_THRESHOLD_MS is 2 min (RWF@f3105c779:18); 60fc116b7 lowers it to 15 s (RWF@60fc116b7:20), also sent to the runner in ToClientInit"},
	GuardActorsRoutePath: {Name: "guard_actors_route_path", Until: "c6161fd4a",
		Doc: "path routing parses /gateway/actors/{id}[/tokens/{t}]/route/{rest} (RMOD@f3105c779:147-237); c6161fd4a parses /gateway/{id}[@{token}]/{rest} (RMOD@c6161fd4a:187-210)"},
	GatewayCORS: {Name: "gateway_cors", Since: "ecd4e0417",
		Doc: "the gateway answers OPTIONS itself with 204 and CORS headers and adds CORS headers to every tunnelled response (GW@ecd4e0417:105-133, 217-226)"},
	PBREvictsDuplicateRunner: {Name: "pbr_evicts_duplicate_runner", Since: "2f5666c05",
		Doc: "a runner connection evicts every older connection of the same runner: Guard closes the older socket with 1000 \"ws.eviction#ray\" and its active requests get the error close (PBR@2f5666c05:92-132); the TS runner answers an eviction close by shutting down for good (RUN:638-645). Before it both connections live, each subscribed to the runner's subject"},
	GatewayGCOnePhase: {Name: "gateway_gc_one_phase", Until: "5111b8e76",
		Doc: "the gateway GC removes an entry in one pass: a closed channel whatever it still buffers, or an entry flagged by the age checks while its handler runs, which closes that handler's channel (GSS@f3105c779:403-442); 5111b8e76 purges a closed entry only with empty buffers, and removes a flagged entry only after its handler returned (GSS@5111b8e76:455-549)"},
	GatewayGCInvertedAge: {Name: "gateway_gc_inverted_age", Note: "upstream flips the WebSocket-buffer check and deletes the tunnel-ack check at 6b7ebbb0d (#3492), not yet in the timeline",
		Doc: "the GC's age checks are inverted: an entry whose oldest un-acked tunnel message, or else oldest buffered hibernation message, is at most 30 s old is flagged (GSS@f3105c779:418-432, GSS@5111b8e76:494, 504)"},
	GuardEmptyCloseFrame: {Name: "guard_empty_close_frame", Until: "aa4fc4cff",
		Doc: "a handler ending without a close frame makes Guard send an empty close frame, which the client sees as 1005 (PS@f3105c779:2489-2499); aa4fc4cff sends 1000 \"ws.closed\" (PS@aa4fc4cff:2566-2572)"},
	GuardWSRetryImmediate: {Name: "guard_ws_retry_immediate", Until: "4e60a30e9",
		Doc: "a hibernatable socket whose attempt ends with websocket_service_retry is re-resolved and reopened at once (PS@f3105c779:1862-1863, 1892); from 4e60a30e9 the error is websocket_service_hibernate and Guard first waits for the actor's Ready or the client's next frame (handle_websocket_hibernation, PS@4e60a30e9:1898-1935, GW@4e60a30e9:554-612)"},
	GatewayGCKillUndelivered: {Name: "gateway_gc_kill_undelivered", Until: "450d9e5c6",
		Doc: "the GC's Timeout to a flagged entry's handler is an async send never awaited (GSS@f3105c779:434-436, GSS@5111b8e76:520); from 450d9e5c6 the two-phase GC's flag reaches a live handler through drop_tx (GSS@450d9e5c6:475): HTTP gives service_unavailable, a socket not yet open websocket_service_unavailable, an open socket 1011 websocket_service_timeout (GW@450d9e5c6:215, 342, 418)"},
	GatewayOpenAfterHibernation: {Name: "gateway_open_after_hibernation", Until: "450d9e5c6",
		Doc: "a socket reconnecting after hibernation opens like any other; from 450d9e5c6 Guard passes after_hibernation (set once, never reset, PS@450d9e5c6:1848-1937) and the gateway sends no ToClientWebSocketOpen, takes the socket as open and hibernatable, and resends its buffer (GW@450d9e5c6:296); the TS runner restores nothing until 2e22a2e61, so it ignores what follows"},
	GatewayResendAfterLastIndex: {Name: "gateway_resend_after_last_index", Until: "450d9e5c6",
		Doc: "on open the gateway resends the buffered messages after the runner's lastMsgIndex and drops the acked ones (GSS@f3105c779:312-369); protocol v3 (450d9e5c6) drops lastMsgIndex and the gateway resends the whole buffer (GSS@450d9e5c6:325-343)"},
	RunnerDuplicateOpenOrphans: {Name: "runner_duplicate_open_orphans", Until: "3d4e089d6",
		Doc: "a second ToClientWebSocketOpen with the same request id overwrites the adapter and orphans the old one, still open (TUN@f3105c779:549, spec (i).20); 3d4e089d6 first closes the old adapter locally with 1000 \"ws.duplicate_open\", sending nothing (TUN@3d4e089d6:583-592)"},
}

// Name is the quirk's name in scenario files.
func (q Quirk) Name() string { return quirkInfos[q].Name }

// Doc says what the quirk does, with upstream lines.
func (q Quirk) Doc() string { return quirkInfos[q].Doc }

// Range is the commits that introduced and removed the quirk ("" as above).
func (q Quirk) Range() (since, until string) { return quirkInfos[q].Since, quirkInfos[q].Until }

// Note is where upstream changed the quirk after the timeline, if anywhere.
func (q Quirk) Note() string { return quirkInfos[q].Note }

// AllQuirks lists every quirk in registry order.
func AllQuirks() []Quirk {
	qs := make([]Quirk, numQuirks)
	for i := range qs {
		qs[i] = Quirk(i)
	}
	return qs
}

// QuirkByName finds a quirk by its scenario-file name.
func QuirkByName(name string) (Quirk, error) {
	for _, q := range AllQuirks() {
		if q.Name() == strings.ToLower(name) {
			return q, nil
		}
	}
	return 0, fmt.Errorf("unknown quirk %q (want one of %s)", name, strings.Join(QuirkNames(), ", "))
}

// QuirkNames lists the quirks' names in registry order.
func QuirkNames() []string {
	var names []string
	for _, q := range AllQuirks() {
		names = append(names, q.Name())
	}
	return names
}

// Quirks is a set of quirks.
type Quirks uint32

// Has reports whether q is in the set.
func (s Quirks) Has(q Quirk) bool { return s&(1<<q) != 0 }

// With returns the set with q switched on or off.
func (s Quirks) With(q Quirk, on bool) Quirks {
	if on {
		return s | 1<<q
	}
	return s &^ (1 << q)
}

// Profile is the upstream code at one commit: the quirks live there. A
// profile whose quirks were switched by hand is a mixture, never an
// upstream state; it says so in its name.
type Profile struct {
	Commit Commit
	Quirks Quirks
}

// Name is the commit's alias or hash, followed by the switched quirks for
// a mixture ("seed+quirk=-gateway_fresh_ack_id").
func (p Profile) Name() string {
	if args := strings.TrimSpace(p.QuirkArgs()); args != "" {
		return p.Commit.Name() + "+" + strings.ReplaceAll(args, " ", "+")
	}
	return p.Commit.Name()
}

// Mixed reports whether the profile's quirks differ from its commit's.
func (p Profile) Mixed() bool { return p.Quirks != quirksAt(p.Commit.Hash) }

// QuirkArgs renders the quirks where p differs from its commit, as
// world-line arguments (" quirk=name quirk=-name"), or "".
func (p Profile) QuirkArgs() string {
	base := quirksAt(p.Commit.Hash)
	var b strings.Builder
	for _, q := range AllQuirks() {
		switch {
		case p.Quirks.Has(q) && !base.Has(q):
			b.WriteString(" quirk=" + q.Name())
		case !p.Quirks.Has(q) && base.Has(q):
			b.WriteString(" quirk=-" + q.Name())
		}
	}
	return b.String()
}

// Has reports whether the quirk is live in the profile.
func (p Profile) Has(q Quirk) bool { return p.Quirks.Has(q) }

// Set switches one quirk by name, making the profile a mixture.
func (p *Profile) Set(name string, on bool) error {
	q, err := QuirkByName(name)
	if err != nil {
		return err
	}
	p.Quirks = p.Quirks.With(q, on)
	return nil
}

// Index is the profile's commit's position in the timeline.
func (p Profile) Index() int { return commitIndex(p.Commit.Hash) }

func commitIndex(hash string) int {
	for i, c := range Timeline {
		if c.Hash == hash {
			return i
		}
	}
	return -1
}

// quirksAt is the set of quirks live at the commit.
func quirksAt(hash string) Quirks {
	at := commitIndex(hash)
	var s Quirks
	for _, q := range AllQuirks() {
		since, until := q.Range()
		if (since == "" || commitIndex(since) <= at) && (until == "" || at < commitIndex(until)) {
			s = s.With(q, true)
		}
	}
	return s
}

// Profiles lists the profile of every commit of the timeline, oldest first.
func Profiles() []Profile {
	ps := make([]Profile, len(Timeline))
	for i, c := range Timeline {
		ps[i] = Profile{Commit: c, Quirks: quirksAt(c.Hash)}
	}
	return ps
}

// Newest is the profile of the timeline's last commit: the one the gate runs.
func Newest() Profile { return Profiles()[len(Timeline)-1] }

// The profiles with aliases.
var (
	// Parent is 716db379f, the parent of the fix: 404 for an unknown actor.
	Parent = mustProfile("parent")
	// Seed is f3105c779, the fix (#3322).
	Seed = mustProfile("seed")
)

func mustProfile(name string) Profile {
	p, err := ProfileByName(name)
	if err != nil {
		panic(err)
	}
	return p
}

// ProfileByName returns the profile of a commit, named by alias, by its
// abbreviated hash or any prefix of at least 7 hex digits of it.
func ProfileByName(name string) (Profile, error) {
	name = strings.TrimSpace(name)
	for _, p := range Profiles() {
		c := p.Commit
		if (name != "" && name == c.Alias) || (len(name) >= 7 && (strings.HasPrefix(c.Hash, name) || strings.HasPrefix(name, c.Hash))) {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want a commit of the timeline or an alias: %s; see guardsim -h)", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames lists the profiles' names, oldest first.
func ProfileNames() []string {
	var names []string
	for _, c := range Timeline {
		names = append(names, c.Name())
	}
	return names
}

// ParseProfiles parses a comma-separated list of commits or aliases, or
// "all" for the whole timeline, and returns them in timeline order.
func ParseProfiles(list string) ([]Profile, error) {
	if strings.TrimSpace(list) == "all" {
		return Profiles(), nil
	}
	seen := map[int]bool{}
	for _, name := range strings.Split(list, ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		p, err := ProfileByName(name)
		if err != nil {
			return nil, err
		}
		seen[p.Index()] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no profile named in %q", list)
	}
	var ps []Profile
	for i, p := range Profiles() {
		if seen[i] {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// TimelineText renders the timeline for -h and the README: one line per
// profile with its commit, date, PR and title, and the quirks it changes.
func TimelineText() string {
	var b strings.Builder
	prev := Quirks(0)
	for i, p := range Profiles() {
		c := p.Commit
		alias := ""
		if c.Alias != "" {
			alias = " (" + c.Alias + ")"
		}
		fmt.Fprintf(&b, "  %s%-9s %s #%d %s\n", c.Hash, alias, c.Date, c.PR, c.Title)
		if i == 0 {
			prev = p.Quirks
			continue
		}
		for _, q := range AllQuirks() {
			switch {
			case p.Has(q) && !prev.Has(q):
				fmt.Fprintf(&b, "      + %s\n", q.Name())
			case !p.Has(q) && prev.Has(q):
				fmt.Fprintf(&b, "      - %s\n", q.Name())
			}
		}
		prev = p.Quirks
	}
	for _, q := range AllQuirks() {
		if n := q.Note(); n != "" && prev.Has(q) {
			fmt.Fprintf(&b, "  still live at the last profile: %s (%s)\n", q.Name(), n)
		}
	}
	return b.String()
}
