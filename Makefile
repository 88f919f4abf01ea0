# meshdoctor: `make test` is what CI runs; `make demo` shows the seed incidents.
GO ?= go
FUZZTIME ?= 20s

.PHONY: all build test race demo docs manifests release krew fmt vet lint fuzz bench gobench

all: build test

build:
	$(GO) build -o bin/meshdoctor ./cmd/meshdoctor

# Every test: unit, rule testdata, golden outputs, examples, docs freshness.
# The internal/cluster tests run a real etcd + kube-apiserver: built from
# source once by hack/kube-assets.sh (cached; 7-25 min cold).
test:
	@assets=$$(hack/kube-assets.sh) || { echo "make test: hack/kube-assets.sh failed to build etcd/kube-apiserver" >&2; exit 1; }; \
	KUBEBUILDER_ASSETS="$$assets" $(GO) test ./...

# The concurrent parts (parallel decoding, model precomputation, rules
# side by side) under the race detector.
race:
	$(GO) test -race ./internal/manifest ./internal/mesh ./internal/rules/... ./internal/catalog ./internal/analysis

demo:
	$(GO) run ./cmd/meshdoctor analyze ./examples

docs:
	$(GO) run ./cmd/meshdoctor rules --markdown > docs/rules.md

# deploy/manifests/meshdoctor.yaml from the Helm chart (a test checks it is
# fresh).
manifests:
	$(GO) test ./deploy -run TestManifestsFresh -update

# Release archives for linux/darwin/windows x amd64/arm64 and their sha256
# in dist/ (VERSION defaults to git describe --tags).
release:
	bash hack/release.sh

# The krew plugin manifest from dist/checksums.txt (after make release, for
# a tag whose archives are published).
krew:
	@mkdir -p deploy/krew
	bash hack/krew-manifest.sh dist/checksums.txt > deploy/krew/meshdoctor.yaml.tmp
	mv deploy/krew/meshdoctor.yaml.tmp deploy/krew/meshdoctor.yaml

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

# staticcheck at a pinned version, fetched through the module proxy.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) run $(STATICCHECK) ./...

# A bounded fuzz run can end with "context deadline exceeded" when the
# time is up while a worker is still busy (the Go fuzzer's shutdown, no
# crasher written); a real failure writes its input to testdata/fuzz and
# fails the second run too, while it replays the corpus.
fuzzrun = $(GO) test $(1) -run '^$$' -fuzz $(2) -fuzztime $(FUZZTIME) || $(GO) test $(1) -run '^$$' -fuzz $(2) -fuzztime $(FUZZTIME)

fuzz:
	$(call fuzzrun,./internal/manifest,FuzzLoad)
	$(call fuzzrun,./internal/manifest,FuzzFastYAML)
	$(call fuzzrun,./internal/manifest,FuzzFastDecode)
	$(call fuzzrun,./internal/manifest,FuzzGoTree)
	$(call fuzzrun,./internal/manifest,FuzzWholeFile)
	$(call fuzzrun,./internal/manifest,FuzzAliasExpansion)
	$(call fuzzrun,./internal/trace,FuzzParse)

# End-to-end numbers on generated meshes, clean and findings-heavy (objects,
# wall, CPU, peak RSS, findings per second, bytes per object; REPEAT=n runs
# each n times and shows the spread).
bench:
	bash hack/bench.sh

# Go benchmarks: load, model, per-rule, analysis and report at 1k/10k/100k
# objects; one trace on ~50k objects beyond the load; 1,000 admission
# reviews against a 20k-object watch cache (p50/p95/p99).
gobench:
	$(GO) test ./internal/analysis -run '^$$' -bench . -benchmem -benchtime 3x
	$(GO) test ./internal/trace -run '^$$' -bench Trace50k -benchmem -benchtime 20x
	$(GO) test ./internal/admission -run '^$$' -bench Review20k -benchtime 1x
