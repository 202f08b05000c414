//go:build ignore

// genfixture builds fixture.json, the Diagram the browser test draws, from
// sample_trace.txt (a real failing scenario's trace) with a few additions a
// builder would take from the network record: a lost message, the faults
// on the link to the peer datacenter, Guard's attempts and backoffs and the
// violation. Run from the repository root:
//
//	go run ./picture/testdata/genfixture.go
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/guardsim/guardsim/picture"
	"github.com/guardsim/guardsim/sim"
)

type line struct {
	text, node, event string
	at                sim.Time
	kv                map[string]string
}

func main() {
	f, err := os.Open("picture/testdata/sample_trace.txt")
	if err != nil {
		log.Fatal(err)
	}
	var lines []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		t := sc.Text()
		fs := strings.Fields(t)
		if len(fs) < 4 || !strings.HasSuffix(fs[1], "s") {
			continue
		}
		if _, err := strconv.Atoi(fs[0]); err != nil {
			continue
		}
		lines = append(lines, line{text: t, at: parseTime(fs[1]), node: fs[2], event: fs[3], kv: pairs(t)})
	}
	d := &picture.Diagram{
		Title: "ws_close at profile seed: Guard closes a client's socket with 1011 guard.target_changed",
		Subtitle: []string{
			"ws_close: w2: the client saw a close Guard should not send: 1011 guard.target_changed#ray2",
			"rapid seed 3 · world seed 3 · profile seed · 9 scenario(s) · trace hash b4054620e16c72d5",
			"replay: go run ./cmd/guardsim -profile=seed -property=ws_close -seed=3 -checks=9",
		},
		Script: []string{
			"world profile=seed seed=3 runners=r1",
			"actor a2 on=r1 crash=destroy",
			"peer dc2 down for=30ms",
			"ws w1 actor=a2@dc2",
			"ws w2 actor=a2",
			"run",
			"liveness",
			"expect_hash b4054620e16c72d5",
			"expect_violation ws_close",
		},
		Lanes: []string{"client", "guard", "guard-dc2", "ups", "engine", "r1"},
	}
	last := func(node string, before int) int {
		for j := before - 1; j >= 0; j-- {
			if lines[j].node == node {
				return j
			}
		}
		return max(before-1, 0)
	}
	find := func(from int, node, event string, kv ...string) int {
	next:
		for i := from; i < len(lines); i++ {
			if lines[i].node != node || lines[i].event != event {
				continue
			}
			for k := 0; k < len(kv); k += 2 {
				if lines[i].kv[kv[k]] != kv[k+1] {
					continue next
				}
			}
			return i
		}
		log.Fatalf("no %s %s %v", node, event, kv)
		return 0
	}
	for i, l := range lines {
		d.Rows = append(d.Rows, picture.Row{Step: i, At: l.at, Line: l.text})
		switch {
		case l.event == "recv":
			from := l.kv["from"]
			s := last(from, i)
			conn, _ := strconv.ParseUint(l.kv["conn"], 10, 64)
			d.Messages = append(d.Messages, picture.Message{
				From: from, To: l.node, Conn: conn, SentStep: s, Sent: lines[s].at,
				RecvStep: i, Recv: l.at, Label: l.kv["msg"], Line: l.text,
			})
		case l.node == "client" && l.event != "client.ws_closed" || l.event == "guard.ws_close" || l.event == "guard.respond" ||
			l.event == "runner.actor_start" || l.event == "runner.respond" || l.event == "runner.ws_opened":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Note, Node: l.node, Step: i, EndStep: i, At: l.at,
				Text: note(l), Line: l.text})
		case l.event == "guard.ws_target_attempt":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Attempt, Node: "guard", Step: i, EndStep: i, At: l.at,
				Text: fmt.Sprintf("%s attempt %s → %s, retry", l.kv["ray"], l.kv["n"], l.kv["result"]), Line: l.text})
			next := find(i, "guard", "guard.route", "ray", l.kv["ray"])
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Backoff, Node: "guard", Step: i, EndStep: next, At: l.at,
				Text: "backoff " + (lines[next].at - l.at).String(), Line: l.text})
		case l.event == "guard.ws_target_connected":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Attempt, Node: "guard", Step: i, EndStep: i, At: l.at,
				Text: fmt.Sprintf("%s attempt %s → connected", l.kv["ray"], l.kv["n"]), Line: l.text})
		case l.event == "guard.attempt":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Attempt, Node: "guard", Step: i, EndStep: i, At: l.at,
				Text: fmt.Sprintf("%s attempt %s → 200", l.kv["ray"], l.kv["n"]), Line: l.text})
		case l.event == "peer.down":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Fault, Node: "guard", To: "guard-dc2", Step: i, EndStep: i, At: l.at,
				Text: "drop guard↔guard-dc2", Line: l.text})
		case l.event == "peer.up" && l.at > 0:
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Fault, Node: "guard", To: "guard-dc2", Step: i, EndStep: i, At: l.at,
				Text: "heal guard↔guard-dc2", Line: l.text})
		case l.event == "client.ws_closed" && l.kv["name"] == "w2":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Note, Node: "client", Step: i, EndStep: i, At: l.at,
				Text: note(l), Line: l.text})
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Violation, Node: "client", Step: i, EndStep: i, At: l.at,
				Text: "ws_close: w2: the client saw a close Guard should not send: 1011 guard.target_changed#ray2", Line: l.text})
		case l.event == "client.ws_closed":
			d.Marks = append(d.Marks, picture.Mark{Kind: picture.Note, Node: "client", Step: i, EndStep: i, At: l.at,
				Text: note(l), Line: l.text})
		}
	}
	// The open w1's first attempt sent on conn 5 before the peer refused it:
	// the drop fault lost it.
	dial := find(0, "guard", "net.dial", "conn", "5")
	refuse := find(0, "guard-dc2", "net.refuse", "conn", "5")
	lost := picture.Message{From: "guard", To: "guard-dc2", Conn: 5, SentStep: dial, Sent: lines[dial].at,
		RecvStep: refuse, Recv: lines[refuse].at, Label: "UpstreamWSOpen{/}", Line: lines[refuse].text, Lost: true}
	k := 0
	for k < len(d.Messages) && d.Messages[k].RecvStep < refuse {
		k++
	}
	d.Messages = append(d.Messages[:k], append([]picture.Message{lost}, d.Messages[k:]...)...)

	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("picture/testdata/fixture.json", append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d rows, %d messages, %d marks\n", len(d.Rows), len(d.Messages), len(d.Marks))
}

func note(l line) string {
	ev := l.event[strings.IndexByte(l.event, '.')+1:]
	var b strings.Builder
	b.WriteString(ev)
	for _, k := range []string{"name", "ray", "actor", "status", "code", "reason", "data", "rid"} {
		if v, ok := l.kv[k]; ok {
			b.WriteString(" " + v)
		}
	}
	return b.String()
}

func parseTime(s string) sim.Time {
	s = strings.TrimSuffix(s, "s")
	sec, frac, _ := strings.Cut(s, ".")
	a, _ := strconv.ParseInt(sec, 10, 64)
	b, _ := strconv.ParseInt(frac, 10, 64)
	return sim.Time(a)*sim.Second + sim.Time(b)*sim.Microsecond
}

// pairs reads the key=value pairs after the event, unquoting quoted values.
func pairs(t string) map[string]string {
	fs := strings.Fields(t)
	rest := strings.TrimSpace(t[strings.Index(t, fs[3])+len(fs[3]):])
	kv := make(map[string]string)
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				log.Fatalf("%q: %v", t, err)
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				sp = len(rest)
			}
			val, rest = rest[:sp], rest[sp:]
		}
		kv[key] = val
		rest = strings.TrimSpace(rest)
	}
	return kv
}
