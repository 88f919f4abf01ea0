#!/usr/bin/env bash
# Prints meshdoctor's end-to-end numbers on generated meshes of two shapes:
#   clean     fully wired, 3 planted misconfigurations of 4 kinds (12 findings)
#   findings  a neglected mesh where most objects have a real finding
#             (meshgen -shape findings; a third of the objects, e.g. 16,201
#             findings in 50,103 objects)
# per size: objects, findings, wall time (median and spread of REPEAT runs),
# CPU time, phases, peak RSS, findings per second, bytes allocated per object,
# and the findings mesh's wall time over the clean mesh's of the same size.
# The findings of every run are checked against what the generator planted.
# ISTIOCTL=path (or istioctl on PATH) times `istioctl analyze --use-kube=false`
# on the same files.
# Usage: [REPEAT=n] hack/bench.sh [sizes...]   sizes are NAMESPACESxSERVICES of
# the clean mesh (5 objects a service); the findings mesh of the same size has
# 5/4 as many services (4 objects a service).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"4x48 20x100 100x100 100x200"}
repeat=${REPEAT:-1}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/meshdoctor-bench}
mkdir -p "$work"
go build -o "$work/meshdoctor" ./cmd/meshdoctor
go build -o "$work/meshgen" ./cmd/meshgen
# ISTIOCTL names an istioctl binary to time side by side; else the one on PATH.
istioctl=${ISTIOCTL:-$(command -v istioctl || true)}
plants="-plant subset-not-found=3 -plant mtls-mode-conflict=3 -plant nginx-upstream-http10=3 -plant gateway-route-bypasses-mesh-rules=3"
TIMEFORMAT='%R %U+%S'
fmt='%-8s %-9s %8s %7s %16s %6s %7s %7s %7s %7s %11s %10s %6s  %s\n'
printf "$fmt" shape size objects finds "wall_ms med(min-max)" cpu_s load_ms model_ms rules_ms rss_mb findings/s alloc_B/obj ratio check
declare -A clean_wall
for s in $sizes; do
  ns=${s%x*}; svc=${s#*x}
  for shape in clean findings; do
    if [ "$shape" = clean ]; then
      args="-namespaces $ns -services $svc $plants"
    else
      args="-shape findings -namespaces $ns -services $((svc * 5 / 4))"
    fi
    # Generated afresh each run (deterministic, a second at 100k objects), so
    # a changed generator never leaves a stale mesh behind.
    dir=$work/mesh-$shape-$s
    rm -rf "$dir"
    # shellcheck disable=SC2086
    "$work/meshgen" -o "$dir" $args >/dev/null
    # shellcheck disable=SC2086
    want=$("$work/meshgen" -expect $args)
    walls=() cpus=() procs=()
    for ((r = 0; r < repeat; r++)); do
      t=$( { time "$work/meshdoctor" analyze --stats -o json "$dir" >"$work/out.json" 2>"$work/stats.txt" || true; } 2>&1 )
      read -r real cpu < <(echo "$t" | tail -1)
      cpus+=("$(echo "$cpu" | awk -F+ '{printf "%.2f", $1+$2}')")
      # The process's own wall time (start-up and exit included), for the
      # comparison with istioctl's, which is timed the same way.
      procs+=("$(awk -v s="$real" 'BEGIN{printf "%d", s*1000}')")
      st=$(grep '^stats:' "$work/stats.txt")
      get() { echo "$st" | tr ' ' '\n' | sed -n "s/^$1=//p" | sed 's/ms$//'; }
      walls+=("$(get total)")
    done
    # Median and spread of the runs; the other columns are the last run's.
    read -r med lo hi < <(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)], a[1], a[NR]}')
    wall="$med"
    [ "$repeat" -gt 1 ] && wall="$med($lo-$hi)"
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    proc=$(printf '%s\n' "${procs[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    got=$(python3 -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); c=collections.Counter(f["rule"] for f in d["findings"]); print(" ".join(sorted("%s=%d"%kv for kv in c.items())))' "$work/out.json" 2>/dev/null || echo "?")
    check=ok
    [ "$got" = "$want" ] || check="MISMATCH: got $got; want $want"
    ratio=""
    if [ "$shape" = clean ]; then
      clean_wall[$s]=$med
    else
      ratio=$(awk -v a="$med" -v b="${clean_wall[$s]}" 'BEGIN{if (b > 0) printf "%.2f", a/b}')
    fi
    printf "$fmt" "$shape" "$s" "$(get objects)" "$(get findings)" "$wall" "$cpu" "$(get load)" "$(get model)" "$(get rules)" "$(get peak_rss_mb)" "$(get findings_per_s)" "$(get alloc_bytes_per_object)" "$ratio" "$check"
    if [ -n "$istioctl" ] && [ -x /usr/bin/time ]; then
      # Directories are read recursively by recent istioctl (the flag is gone).
      /usr/bin/time -f '%e %M' -o "$work/istioctl.time" "$istioctl" analyze --use-kube=false -A "$dir" >"$work/istioctl.out" 2>&1 || true
      read -r isec irss < <(tail -1 "$work/istioctl.time")
      ims=$(awk -v s="$isec" 'BEGIN{printf "%d", s*1000}')
      printf '%-8s %-9s istioctl analyze --use-kube=false -A: %s ms, %s MB, %s messages; %s× meshdoctor process wall time (%s ms)\n' \
        "" "" "$ims" "$((irss / 1024))" "$(grep -c '^\(Error\|Warning\|Info\) \[IST' "$work/istioctl.out" || true)" \
        "$(awk -v a="$ims" -v b="$proc" 'BEGIN{printf "%.1f", a/b}')" "$proc"
    fi
  done
done
echo "(ratio: findings mesh wall time / clean mesh wall time of the same size; check: findings per rule equal what meshgen planted)"
