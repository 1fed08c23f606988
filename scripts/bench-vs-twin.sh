#!/usr/bin/env bash
# Runs the PyTorch twin's benchmark and ours back to back on this machine with the same thread count and
# prints a table of both times (median ms) and the ratio ours/twin per workload, then "worst ratio: X.XX".
#   scripts/bench-vs-twin.sh [threads=2] [runs=5] [workloads=unet_forward,unet_train_step,sample_50,nabla_step]
# Needs Debian's python3-torch for the twin (apt-get install -y python3-torch) and ../shared beside the
# repository (or NABLA_SHARED pointing at it). Raw JSON lines are kept in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
runs="${2:-5}"
only="${3:-unet_forward,unet_train_step,sample_50,nabla_step}"
shared="${NABLA_SHARED:-../shared}"
out=target/bench
mkdir -p "$out"
if [ ! -f examples/target/classpath.txt ] || [ ! -d examples/target/classes ]; then
  mvn -q -B -ntp install -DskipTests >&2
  mvn -q -B -ntp -pl examples dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2
fi
echo "twin ($threads threads)..." >&2
OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" /usr/bin/python3 "$shared/bench/torch-twin/twin.py" bench \
  --only "$only" --runs "$runs" > "$out/twin.jsonl"
echo "nabla ($threads threads)..." >&2
OMP_NUM_THREADS="$threads" java -Dnabla.threads="$threads" -Dbench.only="$only" \
  -cp "examples/target/classes:$(cat examples/target/classpath.txt)" \
  io.github.nablagfn.examples.bench.UNetBench "$runs" 3 2>/dev/null | grep '^{' > "$out/nabla.jsonl"
/usr/bin/python3 - "$out/twin.jsonl" "$out/nabla.jsonl" <<'PY'
import json, sys
def load(path):
    rows, rss = {}, None
    for line in open(path):
        d = json.loads(line)
        if "workload" in d:
            rows[(d["workload"], d["batch"])] = d
        elif d.get("info") == "peak_rss_mb":
            rss = d["value"]
    return rows, rss
twin, twin_rss = load(sys.argv[1])
ours, ours_rss = load(sys.argv[2])
print(f"| workload | batch | twin median ms | nabla median ms | ratio |")
print(f"|---|---|---|---|---|")
worst = 0.0
for key in twin:
    if key not in ours:
        continue
    t, o = twin[key]["median_ms"], ours[key]["median_ms"]
    worst = max(worst, o / t)
    print(f"| {key[0]} | {key[1]} | {t:.2f} | {o:.2f} | {o / t:.2f} |")
print(f"peak RSS MB: twin {twin_rss}, nabla {ours_rss}")
print(f"worst ratio: {worst:.2f}")
PY
