# Calore: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
STACK := scripts/stack
# every recipe that talks to the servers loads the running stack's CALORE_* variables
WITH_STACK = eval "$$($(STACK) env)" &&

.PHONY: demo test bench build vet stack-up stack-down stack-status migrate rehearsal

build:
	$(GO) build -o bin/calore ./cmd/calore

stack-up:
	$(STACK) up

stack-down:
	scripts/demo stop
	$(STACK) down

stack-status:
	$(STACK) status

migrate: build stack-up
	$(WITH_STACK) bin/calore migrate

vet:
	$(GO) vet ./...

# The main job: the stack up and migrated, the demo university loaded (a
# no-op when it is already there) and scored as of its "today" (2026-01-01),
# then relay, sink and serve running in the background (scripts/demo) with
# the dashboard URL and a login printed.
# The migration rehearsal (docs/import.md): a small university's export from
# its old systems imported end to end into databases of its own, then scored.
rehearsal: build stack-up
	scripts/rehearsal

DEMO_AS_OF := 2026-01-01
demo: migrate
	$(WITH_STACK) bin/calore seed --scale demo --seed 1
	$(WITH_STACK) bin/calore score --as-of $(DEMO_AS_OF)
	scripts/demo start

# All tests, unit and integration, against the real PostgreSQL, Kafka and
# ClickHouse started by scripts/stack. CI=true makes a missing server a failure.
test: migrate vet
	$(WITH_STACK) $(GO) test -count=1 -timeout 30m ./...

# Benchmarks (Go testing.B) against the real stack, each with its limit
# measured in the same run; bench/REPORT.md and bench/report.json are
# generated from the results (scripts/benchreport). -p 1: one package at a time, so
# benchmarks do not compete with each other for the two cores. The full synthetic
# university is loaded once into databases of its own (calore_full).
BENCH_COUNT ?= 3
bench: migrate
	mkdir -p bench
	$(WITH_STACK) $(GO) test -p 1 -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 60m -json ./... > bench/raw.json
	$(GO) run ./scripts/benchreport -in bench/raw.json -out bench
	@echo "bench: wrote bench/REPORT.md"
