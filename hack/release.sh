#!/usr/bin/env bash
# Cross-compiles meshdoctor for linux, darwin and windows on amd64 and arm64
# into dist/: one archive per platform (tar.gz; zip for windows) holding
# the binary and README.md, and checksums.txt (sha256) over the archives.
# The version comes from `git describe --tags` (VERSION=… overrides) and is
# stamped into internal/cli.Version, which `meshdoctor version` and the
# SARIF/JSON reports print.
#
# Builds are reproducible (-trimpath, no build id, archives with fixed
# owners and times): the same commit and Go version give the same bytes,
# so hack/krew-manifest.sh run on anyone's dist/ yields the published
# checksums.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty)}
VERSION=${VERSION#v} # tags are v1.2.3; meshdoctor prints 1.2.3
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
DIST=${DIST:-dist}
command -v zip >/dev/null || { echo "release: zip is needed for the windows archives (apt-get install zip)" >&2; exit 1; }

# Archive entries get the commit's time, not the build's.
mtime=$(git log -1 --format=%cI 2>/dev/null || echo 2000-01-01T00:00:00Z)
rm -rf "$DIST"
mkdir -p "$DIST"
ldflags="-s -w -buildid= -X github.com/meshdoctor/meshdoctor/internal/cli.Version=$VERSION"

for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/}
  name=meshdoctor_${VERSION}_${os}_${arch}
  bin=meshdoctor
  [ "$os" = windows ] && bin=meshdoctor.exe
  echo "release: $name" >&2
  stage=$DIST/.stage/$name
  mkdir -p "$stage"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch nice go build -trimpath -ldflags "$ldflags" -o "$stage/$bin" ./cmd/meshdoctor
  cp README.md "$stage/"
  touch -d "$mtime" "$stage"/*
  if [ "$os" = windows ]; then
    (cd "$stage" && zip -q -X "../../$name.zip" "$bin" README.md)
  else
    tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -cf - "$bin" README.md | gzip -n -9 >"$DIST/$name.tar.gz"
  fi
done
rm -rf "$DIST/.stage"
(cd "$DIST" && shopt -s nullglob && sha256sum -- *.tar.gz *.zip >checksums.txt)
echo "release: $VERSION in $DIST/" >&2
cat "$DIST/checksums.txt"
