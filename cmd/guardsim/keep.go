package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/guardsim/guardsim/model"
	"github.com/guardsim/guardsim/properties"
)

// finding is a known finding to keep: the exploration that finds it.
type finding struct {
	slug, title string
	profile     model.Profile
	property    string
	checks      int
	seed        uint64 // rapid seed of the search
}

func knownFindings() []finding {
	freshAckOnly := model.Seed
	freshAckOnly.GatewayInvertedGC = false
	invertedGCOnly := model.Seed
	invertedGCOnly.GatewayFreshAckID = false
	return []finding{
		{"parent_404_seed_property", "Known finding (a): under parent (716db379f) the runner's 404 reaches the client although a retry would have found the actor (H6).", model.Parent, "seed", 300, 1},
		{"seed_fresh_ack_closes_socket", "Known finding (b): under seed the gateway acks with a fresh message id (GSS:253, fixed in #3326); the runner GC closes a healthy socket.", freshAckOnly, "ws_quiet", 300, 1},
		{"seed_inverted_gc_disturbs_socket", "Known finding: under seed the inverted gateway GC (GSS:420-432, fixed in #3492) reconnects a healthy socket and drops a reply.", invertedGCOnly, "ws_quiet", 1000, 4},
		{"stale_preopen_close_reaches_client", "Known finding (c), never fixed upstream: every WebSocket attempt reuses one request id (PS:1823), so a delayed pre-open close of an earlier attempt reaches the reopened socket and closes the client with the runner's 1011 \"Actor not found\" (GW:306-318).", model.Fixed, "ws_close", 400, 4},
		{"gc_between_attempts_loses_message", "Known finding (c), never fixed upstream (errata E5): a gateway GC tick between two attempts of a hibernatable socket removes the in-flight entry and its buffer (GSS:414-416), so an un-acked client message never reaches the actor while the socket stays open.", model.Fixed, "ws_delivery", 1500, 3},
	}
}

// keepFindings reruns the known-finding explorations, writing rapid fail
// files, and writes each shrunk case as a scenario file in testdata/kept/.
func keepFindings() error {
	if err := os.MkdirAll("testdata/kept", 0o755); err != nil {
		return err
	}
	for _, k := range knownFindings() {
		res := properties.Explore(properties.ExploreConfig{Profile: k.profile, Properties: []string{k.property},
			Checks: k.checks, Seed: k.seed, Name: "Keep_" + k.slug})
		if res.Err != nil {
			return res.Err
		}
		if res.Failure == nil {
			return fmt.Errorf("%s: not found within %d scenarios", k.slug, k.checks)
		}
		path := filepath.Join("testdata/kept", k.slug+".txt")
		if err := os.WriteFile(path, []byte(properties.KeptText(res.Failure, k.title)), 0o644); err != nil {
			return err
		}
		fmt.Printf("kept %s (%d actions, fail file %s)\n", path, res.Failure.Actions, res.Failure.FailFile)
	}
	return nil
}
