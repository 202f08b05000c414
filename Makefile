# guardsim: the two commands a user needs are `make sim` and `make test`.
GO ?= go

.PHONY: sim test bench race

# The main job.
sim:
	$(GO) run ./cmd/guardsim

# The CI gate: vet, then every test.
test:
	$(GO) vet ./...
	$(GO) test ./...

# Benchmarks with custom metrics (events/s, msgs/s, ...).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

# The kernel under the race detector.
race:
	$(GO) test -race ./sim/...
