#!/usr/bin/env bash
# Prints meshdoctor's end-to-end numbers on generated meshes: objects, wall
# time, CPU time, peak RSS and findings (every rule on every kind; a known
# number of planted misconfigurations, checked). If istioctl is on PATH, it
# also times `istioctl analyze --use-kube=false` on the same files.
# Usage: hack/bench.sh [sizes...]   sizes are NAMESPACESxSERVICES (5 objects a service)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"4x48 20x100 100x100 100x200"}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/meshdoctor-bench}
mkdir -p "$work"
go build -o "$work/meshdoctor" ./cmd/meshdoctor
go build -o "$work/meshgen" ./cmd/meshgen
# ISTIOCTL names an istioctl binary to time side by side; else the one on PATH.
istioctl=${ISTIOCTL:-$(command -v istioctl || true)}
plants="-plant subset-not-found=3 -plant mtls-mode-conflict=3 -plant nginx-upstream-http10=3 -plant gateway-route-bypasses-mesh-rules=3"
TIMEFORMAT=%U+%S
printf '%-10s %9s %9s %9s %9s %9s %9s  %s\n' size objects wall_ms cpu_s load_ms rules_ms rss_mb findings
for s in $sizes; do
  ns=${s%x*}; svc=${s#*x}
  # Generated afresh each run (deterministic, a second at 100k objects), so
  # a changed generator never leaves a stale mesh behind.
  dir=$work/mesh-$s
  rm -rf "$dir"
  "$work/meshgen" -o "$dir" -namespaces "$ns" -services "$svc" $plants >/dev/null
  cpu=$( { time "$work/meshdoctor" analyze --stats -o json "$dir" >"$work/out.json" 2>"$work/stats.txt" || true; } 2>&1 )
  cpu=$(echo "$cpu" | tail -1 | awk -F+ '{printf "%.2f", $1+$2}')
  st=$(grep '^stats:' "$work/stats.txt")
  get() { echo "$st" | tr ' ' '\n' | sed -n "s/^$1=//p" | tr -d 'ms'; }
  findings=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(f["rule"] for f in d["findings"]); print(" ".join("%s=%d"%kv for kv in sorted(c.items())))' "$work/out.json" 2>/dev/null || get findings)
  printf '%-10s %9s %9s %9s %9s %9s %9s  %s\n' "$s" "$(get objects)" "$(get total)" "$cpu" "$(get load)" "$(get rules)" "$(get peak_rss_mb)" "$findings"
  if [ -n "$istioctl" ] && [ -x /usr/bin/time ]; then
    # Directories are read recursively by recent istioctl (the flag is gone).
    /usr/bin/time -f '%e %M' -o "$work/istioctl.time" "$istioctl" analyze --use-kube=false -A "$dir" >"$work/istioctl.out" 2>&1 || true
    read -r isec irss < <(tail -1 "$work/istioctl.time")
    ims=$(awk -v s="$isec" 'BEGIN{printf "%d", s*1000}')
    printf '%-10s %9s %9s %9s %9s %9s %9s  istioctl analyze --use-kube=false -A: %s messages; %s× meshdoctor wall time\n' \
      "" "" "$ims" "" "" "" "$((irss/1024))" "$(grep -c '^\(Error\|Warning\|Info\) \[IST' "$work/istioctl.out" || true)" \
      "$(awk -v a="$ims" -v b="$(get total)" 'BEGIN{printf "%.1f", a/b}')"
  fi
done
echo "(3 of each planted kind per size; expected: 3 findings per rule)"
