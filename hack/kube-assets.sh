#!/usr/bin/env bash
# Builds etcd and kube-apiserver from source through the Go module proxy (no
# prebuilt binary downloads work here) and prints the directory to use as
# KUBEBUILDER_ASSETS. Cached by version under ~/.cache/meshdoctor/kube-assets.
#
# Cold: ~4 min for etcd, 12-20 min for kube-apiserver on 2 cores, ~3 GB of
# throwaway build cache (removed afterwards). Warm: instant.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
STAGING_VERSION=v0${K8S_VERSION#v1}          # v1.37.2 -> v0.37.2
CACHE=${MESHDOCTOR_CACHE:-${HOME:-/tmp}/.cache/meshdoctor}
DEST=$CACHE/kube-assets/k8s-$K8S_VERSION-etcd-$ETCD_VERSION

if [ -x "$DEST/kube-apiserver" ] && [ -x "$DEST/etcd" ]; then
  echo "$DEST"
  exit 0
fi

log() { echo "kube-assets: $*" >&2; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOCACHE=$work/gocache GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$work/out"

if [ ! -x "$DEST/etcd" ]; then
  log "building etcd $ETCD_VERSION (a few minutes)"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init assets/etcd >/dev/null 2>&1
  # `go install pkg@version` refuses modules with replace directives; a
  # throwaway module that requires it builds fine.
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go build -trimpath -o "$work/out/etcd" go.etcd.io/etcd/server/v3
fi

if [ ! -x "$DEST/kube-apiserver" ]; then
  log "building kube-apiserver $K8S_VERSION (12-20 minutes cold)"
  mkdir -p "$work/apiserver" && cd "$work/apiserver"
  go mod init assets/apiserver >/dev/null 2>&1
  modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces
  # them with local paths; point each at its published version instead.
  for m in $(awk '$2 == "v0.0.0" && $1 ~ /^k8s.io\// {print $1}' "$modfile" | sort -u); do
    go mod edit -replace "$m=$m@$STAGING_VERSION"
  done
  go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
  go mod download >&2 || true
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" >&2
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  nice -n 10 go build -trimpath -ldflags "-s -w $ld" -o "$work/out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
fi

mkdir -p "$DEST"
for b in etcd kube-apiserver; do
  [ -x "$work/out/$b" ] && mv "$work/out/$b" "$DEST/$b.tmp" && mv "$DEST/$b.tmp" "$DEST/$b"
done
log "ready: $DEST"
echo "$DEST"
