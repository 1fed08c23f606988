#!/usr/bin/env bash
# The Java kernels against ND4J's ops (KernelBench) and PyTorch's (bench-kernels.py) on the same sizes and
# threads, back to back: JSON lines on stdout. Usage: scripts/bench-kernels.sh [threads] [runs] [warmup]
# (defaults: nproc, 200, 20); BENCH_ONLY=conv2d_bp,deconv2d limits both sides to some ops (KernelBench lists them;
# JAVA_OPTS passes other JVM options). Needs python3
# with torch for the PyTorch lines.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads=${1:-$(nproc)}
runs=${2:-200}
warmup=${3:-20}
cd "$root"
[ -f examples/target/classpath.txt ] || bin/nabla --version >/dev/null
OMP_NUM_THREADS="$threads" GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-1000}" java --add-modules jdk.incubator.vector -XX:+UseSerialGC ${JAVA_OPTS:-} \
  ${BENCH_ONLY:+-Dbench.only=$BENCH_ONLY} \
  -Dnabla.threads="$threads" -cp "examples/target/classes:$(cat examples/target/classpath.txt)" \
  io.github.nablagfn.examples.bench.KernelBench "$runs" "$warmup" 2>/dev/null | grep '^{'
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  OMP_NUM_THREADS="$threads" /usr/bin/python3 "$root/scripts/bench-kernels.py" "$runs" "$warmup"
else
  echo '{"info": "python3 with torch not found: no PyTorch lines"}'
fi
