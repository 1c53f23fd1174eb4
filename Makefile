# ballcast developer targets. `make test` is the whole test suite (what CI runs).
GO ?= go
PROTOC_GEN_GO_VERSION ?= v1.36.12
PROTOC_GEN_GO_GRPC_VERSION ?= v1.6.2
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-short lint proto bench run peers

all: build

build:
	$(GO) build ./...

# Real protocol peers the tests talk to (the official Socket.IO servers from
# npm). Installed from the committed lock file; no-op when present.
NODE_PEERS := core/socketio/testdata/node
peers: $(NODE_PEERS)/node_modules/.package-lock.json
$(NODE_PEERS)/node_modules/.package-lock.json: $(NODE_PEERS)/package-lock.json
	npm ci --prefix $(NODE_PEERS) --no-audit --no-fund

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
