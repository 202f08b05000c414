// Command guardsim runs guardsim's main job. Until the property exploration
// lands it runs the kernel's demo scenario and prints its trace and
// fingerprint.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/guardsim/guardsim/sim"
)

func main() {
	seed := flag.Uint64("seed", 1, "world seed")
	rounds := flag.Int("rounds", 8, "ping-pong rounds of the demo")
	flag.Parse()
	w := sim.New(sim.Config{Seed: *seed})
	err := sim.RunDemo(w, *rounds)
	fmt.Print(w.TraceText())
	fmt.Printf("seed=%d events=%d virtual=%s trace=%s\n", *seed, w.Steps(), w.Now(), w.TraceHash())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
