# tokenlab — see README.md. Every target works on a fresh clone with only Go.
SHELL     := /bin/bash
GO        ?= go
BIN       ?= bin/tokenlab
FUZZTIME  ?= 10s
FUZZMINIMIZE ?= 50x
BENCHTIME ?= 1s
# -race needs cgo and a C compiler (gcc); `make test RACE=` runs without it.
RACE      ?= -race

.PHONY: build run test lint cross fmt-check vet e2e fuzz bench bench-http golden clean

build:
	$(GO) build -o $(BIN) ./cmd/tokenlab

run:
	$(GO) run ./cmd/tokenlab

# The README's test command: formatting, vet, the dependency rule, and every
# test under the race detector. Tests that cannot run a real part here (the
# keyring, tmux, Chromium, node) add a line to $TOKENLAB_SKIPS
# (internal/testskip); the last line printed lists them, or says none was.
test: lint
	@skips=$$(mktemp); \
	TOKENLAB_SKIPS=$$skips $(GO) test $(RACE) -count=1 -timeout 20m ./...; status=$$?; \
	if [ -s $$skips ]; then echo "make test: real parts skipped: $$(sort -u $$skips | awk 'NR > 1 { printf "; " } { printf "%s", $$0 }')"; \
	else echo "make test: no real part was skipped"; fi; \
	rm -f $$skips; exit $$status

# tokenlab runs on Linux, macOS and Windows: every package must build for
# each (the keyring and file locks are platform-specific).
cross:
	GOOS=darwin $(GO) build ./... && GOOS=windows $(GO) build ./...

lint: fmt-check vet cross
	@mod=$$($(GO) list -m); \
	if $(GO) list -deps ./client/... 2>/dev/null | grep -q "^$$mod/mockserver"; then echo "client/ must not import mockserver/"; exit 1; fi; \
	if $(GO) list -deps ./mockserver/... 2>/dev/null | grep -q "^$$mod/client"; then echo "mockserver/ must not import client/"; exit 1; fi; \
	if $(GO) list -deps -test ./tokenlabtest/... 2>/dev/null | grep -q "^$$mod/client"; then echo "tokenlabtest/ must not import client/"; exit 1; fi; \
	if $(GO) list -deps ./probe/ 2>/dev/null | grep -q "^$$mod/mockserver"; then echo "probe/ must not import mockserver/: it measures any provider"; exit 1; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# End-to-end tests through the real binary (also part of `make test`).
e2e:
	$(GO) test -count=1 -run 'E2E' ./...

# Runs every Fuzz* target of every package for FUZZTIME each. A crash
# fails the run and leaves its input in testdata/fuzz. Minimising each new
# interesting input is capped (FUZZMINIMIZE): with the coverage-instrumented
# SQLite an exec of FuzzLoginPages is slow, Go's default minimisation (60 s
# an input) stalled the workers for seconds, and a short run that ended
# mid-minimisation failed with a bare "context deadline exceeded". Should
# that still happen, the target is run once more and fails only if it fails
# again; a failing input fails at once.
fuzz:
	@set -e; out=$$(mktemp); for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			for try in 1 2; do \
				echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
				if $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg 2>&1 | tee $$out; test $${PIPESTATUS[0]} -eq 0; then break; fi; \
				if [ $$try = 2 ] || grep -q 'Failing input' $$out || ! grep -q 'context deadline exceeded' $$out; then rm -f $$out; exit 1; fi; \
				echo "fuzz $$f: the engine timed out without a finding; once more"; \
			done; \
		done; \
	done; rm -f $$out

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# tokenlab serve against a bare net/http server, loaded by `tokenlab load` in
# one run (32 clients, protected and refresh). BENCH_DURATION is each load's
# length; the targets name 60s: make bench-http BENCH_DURATION=60s
BENCH_DURATION ?= 10s
bench-http: build
	$(GO) build -o bin/barehttp ./testdata/barehttp
	$(GO) run ./testdata/benchhttp -tokenlab $(BIN) -bare bin/barehttp -duration $(BENCH_DURATION)

golden:
	$(GO) test ./tui/... -update

clean:
	rm -rf bin
