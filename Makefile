# guardsim: the two commands a user needs are `make sim` and `make test`.
GO ?= go
SHELL := /bin/bash

.PHONY: sim test bench race keep explore mutants fuzz-compare

# The main job: explore every profile against every property (about 65 s
# on 2 cores: one worker process per core), print the table and every
# distinct failure with its minimized scenario and replay command. Override
# with CHECKS=20000 or ARGS=... (-rapidseed=S, -profile=P,..., -property=X,...,
# -workers=N, -shard=i/n -out=F, -merge; go run ./cmd/guardsim -h).
CHECKS ?= 1500
sim:
	$(GO) run ./cmd/guardsim -checks=$(CHECKS) $(ARGS)

# The CI gate: vet, then every test (the properties at the newest profile at the
# gate's budget, the known findings, the kept failures, the scenarios).
test:
	$(GO) vet ./...
	$(GO) test ./...

# Benchmarks with custom metrics: events/s, msgs/s, scenarios/s,
# virtual-s/s, checks to find the parent's bug, and the synctest peer side
# by side with the full stack: the last line is "peer ratio: <x>", how many
# times cheaper one guardsim event is than one synctest hop.
bench:
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchtime 2s ./... | awk '{ print } \
		/peer-ratio/ { for (i = 2; i <= NF; i++) if ($$i == "peer-ratio") r = $$(i-1) } \
		END { if (r != "") print "peer ratio: " r; else { print "no peer ratio measured"; exit 1 } }'

# The swarm against coverage-guided fuzzing (go test -fuzz over FuzzExplore)
# on every registered finding: scenarios and seconds to find each, side by
# side, at most FUZZTIME each (about 2 x 24 x FUZZTIME in all).
FUZZTIME ?= 60s
fuzz-compare:
	$(GO) run ./cmd/guardsim -fuzzcompare=$(FUZZTIME) $(ARGS)

# Everything under the race detector (determinism must not depend on it).
race:
	$(GO) test -race ./...

# Regenerate the kept failures (testdata/kept/) and their rapid fail files
# after the generators or the model change.
keep:
	rm -rf testdata/rapid/Keep_*
	$(GO) run ./cmd/guardsim -keep

# The planted bugs (internal/plant): one exploration per bug with that bug
# compiled in and switched on; prints which property caught each, after how
# many scenarios, and the shrunk size. Not part of the gate (several minutes).
mutants:
	$(GO) vet -tags guardsim_plant ./...
	$(GO) test -tags guardsim_plant ./properties -run TestMutants -v -count=1 -timeout 60m | grep -v '^=== RUN'
