# ballcast developer targets. `make test` is the whole test suite (what CI runs).
GO ?= go
PROTOC_GEN_GO_VERSION ?= v1.36.12
PROTOC_GEN_GO_GRPC_VERSION ?= v1.6.2
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-short lint proto bench run peers chromium

all: build

build:
	$(GO) build ./...

# Real peers the tests talk to, installed from committed lock files; each
# step is a no-op when already done:
#   - the official Socket.IO servers from npm (core/socketio);
#   - soketi, a Pusher-protocol server from npm (core/pusher);
#   - playwright-core from npm, which drives the live page in the browser
#     test (broadcast/browser_test.go); it never downloads a browser;
#   - Chromium from Debian (apt-get, as root or through sudo), the browser
#     that test runs. BALLCAST_CHROMIUM names another binary instead.
NODE_PEERS := core/socketio/testdata/node
BROWSER_PEERS := broadcast/testdata/browser
PUSHER_PEERS := core/pusher/testdata/node
peers: $(NODE_PEERS)/node_modules/.package-lock.json $(BROWSER_PEERS)/node_modules/.package-lock.json $(PUSHER_PEERS)/node_modules/.package-lock.json chromium
$(NODE_PEERS)/node_modules/.package-lock.json: $(NODE_PEERS)/package-lock.json
	npm ci --prefix $(NODE_PEERS) --no-audit --no-fund
$(BROWSER_PEERS)/node_modules/.package-lock.json: $(BROWSER_PEERS)/package-lock.json
	npm ci --prefix $(BROWSER_PEERS) --no-audit --no-fund
$(PUSHER_PEERS)/node_modules/.package-lock.json: $(PUSHER_PEERS)/package-lock.json
	npm ci --prefix $(PUSHER_PEERS) --no-audit --no-fund

chromium:
	@if [ -n "$$BALLCAST_CHROMIUM" ]; then test -x "$$BALLCAST_CHROMIUM" || { echo "BALLCAST_CHROMIUM=$$BALLCAST_CHROMIUM is not executable" >&2; exit 1; }; \
	elif ! command -v chromium >/dev/null 2>&1; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing Debian chromium for the browser test"; \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium; \
	fi

# The whole suite, race detector on.
test: peers
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: peers
	$(GO) test -short -count=1 ./...

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

# Regenerates plugins/sdk/proto from stage.proto. Needs protoc (Debian: protobuf-compiler).
proto:
	GOBIN=$(GOBIN_DIR) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(GOBIN_DIR) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(GOBIN_DIR):$$PATH protoc -I plugins/sdk/proto \
		--go_out=plugins/sdk/proto --go_opt=paths=source_relative \
		--go-grpc_out=plugins/sdk/proto --go-grpc_opt=paths=source_relative \
		plugins/sdk/proto/stage.proto

bench:
	$(GO) run ./cmd/ballcast-bench

run:
	$(GO) run ./cmd/ballcast run
