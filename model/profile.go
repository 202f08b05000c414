package model

import (
	"fmt"
	"strings"
)

// Quirks are upstream behaviours that differ between the commits guardsim
// models. Each is switchable on its own; a Profile is a named set of them.
// A quirk that upstream never fixed is not listed here: it is simply ported
// and stays in every profile.
type Quirks struct {
	// RunnerNotFound404: the runner answers a request for an unknown actor
	// with 404 "Actor not found" (TUN@716db379f:212-218) instead of 503 +
	// x-rivet-error: runner.actor_not_found (TUN:212-223, #3322).
	RunnerNotFound404 bool
	// GatewayFreshAckID: the gateway acks a runner message with a fresh
	// random message id instead of the original (GSS:253), so the runner's
	// pending tunnel messages never clear; fixed in 03965b331 (#3326).
	GatewayFreshAckID bool
	// GatewayInvertedGC: the gateway GC removes in-flight entries whose
	// oldest un-acked message is younger than 30 s, and never delivers the
	// timeout (GSS:403-442); corrected in 6b7ebbb0d (#3492), spec (i).6.
	GatewayInvertedGC bool
}

// Profile is a named set of quirks.
type Profile struct {
	Name string
	Quirks
}

// The three profiles of the design.
var (
	// Parent is 716db379f, the parent of the fix: 404 for an unknown actor.
	Parent = Profile{"parent", Quirks{RunnerNotFound404: true, GatewayFreshAckID: true, GatewayInvertedGC: true}}
	// Seed is f3105c779, the fix (#3322), everything else as at that commit.
	Seed = Profile{"seed", Quirks{GatewayFreshAckID: true, GatewayInvertedGC: true}}
	// Fixed is Seed plus the later upstream fixes of the quirks above.
	Fixed = Profile{"fixed", Quirks{}}
)

// Profiles lists the profiles in a stable order.
func Profiles() []Profile { return []Profile{Parent, Seed, Fixed} }

// ProfileByName returns the named profile.
func ProfileByName(name string) (Profile, error) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want parent, seed or fixed)", name)
}

// QuirkNames lists the switchable quirks by the names scenarios use.
func QuirkNames() []string {
	return []string{"runner_not_found_404", "gateway_fresh_ack_id", "gateway_inverted_gc"}
}

// Set switches one quirk by name.
func (q *Quirks) Set(name string, on bool) error {
	switch strings.ToLower(name) {
	case "runner_not_found_404":
		q.RunnerNotFound404 = on
	case "gateway_fresh_ack_id":
		q.GatewayFreshAckID = on
	case "gateway_inverted_gc":
		q.GatewayInvertedGC = on
	default:
		return fmt.Errorf("unknown quirk %q (want one of %s)", name, strings.Join(QuirkNames(), ", "))
	}
	return nil
}
