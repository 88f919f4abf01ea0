#!/usr/bin/env bash
# Builds istioctl from the Istio module version the conformance tests read
# (internal/conformance: istioModule) and prints its path, for
#   ISTIOCTL=$(hack/istioctl.sh) go test ./internal/conformance -run Istioctl -v
# which scores istioctl analyze on Istio's own analyzer test cases.
# Cached under ~/.cache/meshdoctor/istioctl. Cold: 10-20 minutes on 2 cores
# (started with nice); warm: instant. Not part of make test or CI.
set -euo pipefail

ISTIO_VERSION=${ISTIO_VERSION:-v0.0.0-20260827124520-eed52ebb66ad}
CACHE=${MESHDOCTOR_CACHE:-${HOME:-/tmp}/.cache/meshdoctor}
DEST=$CACHE/istioctl
BIN=$DEST/istioctl

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
log() { echo "istioctl: $*" >&2; }
if [ -e "$DEST/BUILDING" ]; then
  # Another build writes $BIN (two at once would only slow both down).
  log "a build is under way ($(cat "$DEST/BUILDING")); wait for $BIN, or remove $DEST/BUILDING if it died"
  exit 1
fi
mkdir -p "$DEST/src"
echo "building ($$) $(date -u)" > "$DEST/BUILDING"
trap 'rm -f "$DEST/BUILDING"' EXIT
cd "$DEST/src"
# A throwaway module that requires Istio: `go install pkg@version` refuses
# modules with replace directives. Istio's go.mod asks for go 1.26.0.
cat > go.mod <<MOD
module istioctlbuild

go 1.26.0

require istio.io/istio $ISTIO_VERSION
MOD
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
log "resolving istio.io/istio@$ISTIO_VERSION"
go get "istio.io/istio/istioctl/cmd/istioctl@$ISTIO_VERSION" >&2
log "building (10-20 minutes cold)"
nice -n 10 go build -trimpath -o "$BIN.tmp" istio.io/istio/istioctl/cmd/istioctl
mv "$BIN.tmp" "$BIN"
log "ready: $BIN"
echo "$BIN"
