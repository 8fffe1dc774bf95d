# airctl — build, test and demo. `make demo` and `make test` are the two entry points.
SHELL      := /bin/bash
GO         ?= go
BIN        := bin
PKGS       := ./...
STATICCHECK_VERSION := v0.8.2
# Debian packages the tests need (real servers, browser). Checked by command so reruns are cheap.
DEB_PKGS   := postgresql redis-server openssh-server openssh-client chromium chromium-driver systemd rsync
# The Debian 12 VM of the end-to-end test: built by ../shared/vm/make-vm.sh
# (about 2.5 min once, as root; cached in VM_DIR), booted per test by its
# boot-vm.sh through internal/testenv.VM. Only `make vm` builds it.
VM_SCRIPTS ?= $(abspath $(CURDIR)/../shared/vm)
VM_DIR     ?= /var/cache/airctl-vm
# cloud.google.com/go/storage's documented opt-out of its gRPC transport
# (xDS, RLS, OpenTelemetry exporters): aird and airctl use the JSON API, and
# the tag takes ~13 MB off aird and 8 MB off each role's idle memory.
# Exported so tests that build aird in a subprocess get the same binary.
export GOFLAGS := -tags=disable_grpc_modules
LDFLAGS    := -s -w -X github.com/airctl/airctl/internal/version.Version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build deps demo test fuzz bench soak lint clean vm e2e

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/airctl ./cmd/airctl
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/aird ./cmd/aird
	@mkdir -p $(BIN)/linux-amd64
	@# The deploy target's binary: on a linux/amd64 build machine it is the one just built.
	@if [ "$$($(GO) env GOOS)/$$($(GO) env GOARCH)" = linux/amd64 ]; then cp $(BIN)/aird $(BIN)/linux-amd64/aird; \
	else CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-amd64/aird ./cmd/aird; fi

# Idempotent: installs only what is missing; apt-get update runs first as Debian requires.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	else echo "make deps: Debian packages present"; fi
	@if [ "$$(id -u)" = 0 ] && ! id airctl-test >/dev/null 2>&1; then useradd --create-home --shell /bin/bash --password '*' airctl-test; fi

demo: build
	@bash examples/quickstart/demo.sh $(BIN)/aird

test: deps
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Short fuzzing of the configuration loader (CI runs it after the tests).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 20s ./provision/config/

# The Debian 12 VM image (idempotent: cached runs take a moment).
vm:
	$(SUDO) env VM_DIR=$(VM_DIR) $(VM_SCRIPTS)/make-vm.sh

# End to end on the real VM: apply examples/gcp against gcpfake, deploy to
# systemd, run a DAG, redeploy, roll back, reboot, destroy (e2e/README.md).
e2e: vm build
	AIRCTL_VM_DIR=$(VM_DIR) AIRCTL_VM_SCRIPTS=$(VM_SCRIPTS) AIRCTL_E2E_REQUIRED=1 \
	  $(GO) test -tags e2e -count=1 -timeout 15m -v ./e2e/...

# TMPDIR: on this project's CI machine a file created under /tmp at times
# costs ~1 ms of CPU against ~50 µs under /var/tmp on the same disk, which
# swamps per-task figures (docs/benchmarks.md).
bench: build
	TMPDIR=/var/tmp $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 $(PKGS)

# Long soaks: 10,000 tasks over 2 schedulers + 3 workers with random worker
# SIGKILLs, and applies SIGKILLed at random points then re-run.
soak:
	AIRD_SOAK_TASKS=10000 $(GO) test -count=1 -timeout 30m -v -run '^TestSoakWorkerKills$$' ./cmd/aird/
	AIRCTL_CRASH_ROUNDS=5 AIRCTL_CRASH_KILLS=6 $(GO) test -race -count=1 -timeout 20m -v -run '^TestGCPExampleKilledApply$$' ./internal/command/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

clean:
	rm -rf $(BIN)
