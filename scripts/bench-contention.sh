#!/usr/bin/env bash
# Two processes sharing the cores: the nabla_step workload of `bin/nabla bench` alone, then two copies side
# by side, under the OpenMP wait setting of the environment (bin/nabla sets GOMP_SPINCOUNT=1000 unless
# OMP_WAIT_POLICY or GOMP_SPINCOUNT is given). Prints one JSON line: median ms per iteration alone and of
# each copy in the pair, and the worse pair/alone ratio (fair sharing of the cores gives about 2).
#   scripts/bench-contention.sh                          # bin/nabla's setting
#   OMP_WAIT_POLICY=PASSIVE scripts/bench-contention.sh
#   GOMP_SPINCOUNT=300000 scripts/bench-contention.sh    # libgomp's own default
# RUNS (default 6) timed iterations after WARMUP (default 2) per process.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-6}"
warmup="${WARMUP:-2}"
median() { grep '"workload": "nabla_step"' "$1" | sed 's/.*"median_ms": \([0-9.]*\).*/\1/'; }
run() { JAVA_OPTS="${JAVA_OPTS:-} -Dbench.only=nabla_step" "$root/bin/nabla" bench --runs "$runs" --warmup "$warmup" \
  > "$1" 2>/dev/null; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
run "$tmp/alone"
run "$tmp/a" &
run "$tmp/b"
wait
alone="$(median "$tmp/alone")"
a="$(median "$tmp/a")"
b="$(median "$tmp/b")"
ratio="$(awk -v a="$a" -v b="$b" -v s="$alone" 'BEGIN { m = a > b ? a : b; printf "%.2f", m / s }')"
printf '{"workload": "contention", "omp_wait_policy": "%s", "gomp_spincount": "%s", "alone_ms": %s, "pair_ms": [%s, %s], "worst_ratio": %s}\n' \
  "${OMP_WAIT_POLICY:-}" "${GOMP_SPINCOUNT:-bin/nabla: 1000}" "$alone" "$a" "$b" "$ratio"
