# meshdoctor: `make test` is what CI runs; `make demo` shows the seed incidents.
GO ?= go
FUZZTIME ?= 20s

.PHONY: all build test demo docs fmt vet fuzz bench

all: build test

build:
	$(GO) build -o bin/meshdoctor ./cmd/meshdoctor

# Every test: unit, rule testdata, golden outputs, examples, docs freshness.
test:
	$(GO) test ./...

demo:
	$(GO) run ./cmd/meshdoctor analyze ./examples

docs:
	$(GO) run ./cmd/meshdoctor rules --markdown > docs/rules.md

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

fuzz:
	$(GO) test ./internal/manifest -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
