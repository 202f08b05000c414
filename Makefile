# guardsim: the two commands a user needs are `make sim` and `make test`.
GO ?= go

.PHONY: sim test bench race keep explore mutants

# The main job: explore every profile against every property (about 20
# minutes on 2 cores), print the table and every distinct failure with its
# shrunk scenario and replay command. Override with CHECKS=20000 or ARGS=...
CHECKS ?= 5000
sim:
	$(GO) run ./cmd/guardsim -checks=$(CHECKS) $(ARGS)

# The CI gate: vet, then every test (the properties at the newest profile at the
# gate's budget, the known findings, the kept failures, the scenarios).
test:
	$(GO) vet ./...
	$(GO) test ./...

# Benchmarks with custom metrics: events/s, msgs/s, scenarios/s,
# virtual-s/s, checks to find the parent's bug.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

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
