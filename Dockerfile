# meshdoctor's container image: `meshdoctor serve` in a cluster (see
# deploy/helm/meshdoctor), or `docker run … analyze` on mounted manifests.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t meshdoctor .
#
# The build runs on the builder's platform and cross-compiles for the
# target one (buildx --platform linux/amd64,linux/arm64): no emulation.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/meshdoctor/meshdoctor/internal/cli.Version=${VERSION}" \
      -o /out/meshdoctor ./cmd/meshdoctor

# Static binary, no shell, no package manager; runs as 65532 (nonroot),
# which the chart's runAsUser matches.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/meshdoctor /usr/local/bin/meshdoctor
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/meshdoctor"]
