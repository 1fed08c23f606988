#!/usr/bin/env bash
# Runs the PyTorch twin's benchmark and ours on this machine with the same thread count and prints a table
# of both times (median ms) and the ratio ours/twin per workload, then "worst ratio: X.XX".
#   scripts/bench-vs-twin.sh [threads=2] [runs=5] [workloads=unet_forward,unet_train_step,sample_50,nabla_step] [rounds=2]
# The two are interleaved per workload (twin, then ours, then the next workload) and the whole sequence is
# repeated `rounds` times: a shared VM's speed drifts by tens of percent over minutes, and a ratio is only
# meaningful between runs made in the same minutes. The table gives, per workload, the median over rounds
# of each side's median and the median (and range) of the per-round ratios; "worst ratio" is the largest
# median ratio. Peak RSS: per workload (each runs in its own process on both sides; the unet_forward
# batches share one) and overall, the largest of each side's runs.
# Needs Debian's python3-torch for the twin (apt-get install -y python3-torch) and ../shared beside the
# repository (or NABLA_SHARED pointing at it). Raw JSON lines are kept in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
runs="${2:-5}"
only="${3:-unet_forward,unet_train_step,sample_50,nabla_step}"
rounds="${4:-2}"
shared="${NABLA_SHARED:-../shared}"
out=target/bench
mkdir -p "$out"
if [ ! -f examples/target/classpath.txt ] || [ ! -d examples/target/classes ]; then
  mvn -q -B -ntp install -DskipTests >&2
  mvn -q -B -ntp -pl examples dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2
fi
: > "$out/twin.jsonl"
: > "$out/nabla.jsonl"
for round in $(seq 1 "$rounds"); do
  for w in ${only//,/ }; do
    echo "round $round/$rounds, $w: twin, then nabla ($threads threads)..." >&2
    OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" /usr/bin/python3 "$shared/bench/torch-twin/twin.py" bench \
      --only "$w" --runs "$runs" | sed "s/^{/{\"round\": $round, /" >> "$out/twin.jsonl"
    OMP_NUM_THREADS="$threads" java --add-modules jdk.incubator.vector -XX:+UseSerialGC -Dnabla.threads="$threads" -Dbench.only="$w" \
      -cp "examples/target/classes:$(cat examples/target/classpath.txt)" \
      io.github.nablagfn.examples.bench.UNetBench "$runs" 3 2>/dev/null | grep '^{' \
      | sed "s/^{/{\"round\": $round, /" >> "$out/nabla.jsonl"
  done
done
/usr/bin/python3 - "$out/twin.jsonl" "$out/nabla.jsonl" <<'PY'
import json, statistics, sys
def load(path):
    # a process prints its workload lines, then its peak RSS: that RSS belongs to those workloads
    rows, rss, per, pending = {}, 0.0, {}, []
    for line in open(path):
        d = json.loads(line)
        if "workload" in d:
            rows.setdefault((d["workload"], d["batch"]), {})[d["round"]] = d["median_ms"]
            pending.append((d["workload"], d["batch"]))
        elif d.get("info") == "peak_rss_mb":
            rss = max(rss, float(d["value"]))
            for key in pending:
                per[key] = max(per.get(key, 0.0), float(d["value"]))
            pending = []
    return rows, rss, per
twin, twin_rss, twin_per = load(sys.argv[1])
ours, ours_rss, ours_per = load(sys.argv[2])
print("| workload | batch | twin median ms | nabla median ms | ratio (median over rounds) | ratio range "
      "| peak RSS MB twin / nabla (largest round) |")
print("|---|---|---|---|---|---|---|")
worst = 0.0
for key in twin:
    if key not in ours:
        continue
    both = sorted(set(twin[key]) & set(ours[key]))
    ratios = [ours[key][r] / twin[key][r] for r in both]
    ratio = statistics.median(ratios)
    worst = max(worst, ratio)
    t = statistics.median(twin[key][r] for r in both)
    o = statistics.median(ours[key][r] for r in both)
    print(f"| {key[0]} | {key[1]} | {t:.2f} | {o:.2f} | {ratio:.2f} | {min(ratios):.2f}–{max(ratios):.2f} "
          f"| {twin_per.get(key, 0):.0f} / {ours_per.get(key, 0):.0f} |")
print(f"peak RSS MB: twin {twin_rss:.0f}, nabla {ours_rss:.0f}")
print(f"worst ratio: {worst:.2f}")
PY
