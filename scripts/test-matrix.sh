#!/usr/bin/env bash
# Runs the whole test suite (the README's test command) under several CPU-dispatch and thread settings,
# each several times in a row, so that no test passes only because of one CPU's float rounding.
#
#   scripts/test-matrix.sh                       # every default setting, 3 runs each
#   REPEATS=1 CONFIGS="avx2 sse41" scripts/test-matrix.sh
#   CONFIGS="onednn-avx2 openblas-haswell" ...   # which library's dispatch moved a number
#   APPEND=1 CONFIGS=sse41 scripts/test-matrix.sh  # more runs, added to the previous results
#
# Settings (ND4J's onednn build dispatches convolutions and matrix products through oneDNN, BLAS calls
# through OpenBLAS; libnd4j's own loops are compiled for baseline x86-64 and do not dispatch):
#   default           the machine as it is
#   avx2              oneDNN limited to AVX2 (what a CPU without AVX-512 runs), OpenBLAS's Haswell kernels and
#                     the JVM's vectors to 256 bits (-XX:UseAVX=2: the Java kernels' lane count on such a CPU)
#   sse41             oneDNN limited to SSE4.1, OpenBLAS's Core2/Penryn kernels, 128-bit JVM vectors
#   threads1          one native thread (-Dnabla.test.threads=1: ND4J's OpenMP loops and reductions)
#   onednn-avx2       only oneDNN limited to AVX2 (diagnosis)
#   openblas-haswell  only OpenBLAS on Haswell kernels (diagnosis)
# A machine that already sets OPENBLAS_CORETYPE (some do, for OpenBLAS builds that misdetect its CPU)
# keeps it: the script never overrides it.
#
# Writes target/test-matrix/<setting>-<run>.log and .measured (the [measured] lines that tests print
# for each float comparison with a bound) and, at the end, a Markdown summary to
# target/test-matrix/summary.md (copy it to docs/test-matrix.md to publish it). Exit status 0 only when
# every run of every setting passed.
set -uo pipefail
cd "$(dirname "$0")/.."

repeats="${REPEATS:-3}"
configs="${CONFIGS:-default avx2 sse41 threads1}"
out=target/test-matrix
mkdir -p "$out"
summary="$out/summary.md"
results="$out/results.tsv"
if [[ "${APPEND:-0}" != 1 ]]; then
  : > "$results"
  rm -f "$out"/*.measured "$out"/*.log
fi
touch "$results"

blas_env() { # OpenBLAS core type, unless the machine sets one
  if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then echo ""; else echo "OPENBLAS_CORETYPE=$1"; fi
}

settings_of() {
  case "$1" in
    default) echo "" ;;
    avx2) echo "ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2 $(blas_env Haswell) JAVA_TOOL_OPTIONS=-XX:UseAVX=2" ;;
    sse41) echo "ONEDNN_MAX_CPU_ISA=SSE41 DNNL_MAX_CPU_ISA=SSE41 $(blas_env Penryn) JAVA_TOOL_OPTIONS=-XX:UseAVX=0" ;;
    threads1) echo "" ;;
    onednn-avx2) echo "ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2" ;;
    openblas-haswell) echo "$(blas_env Haswell)" ;;
    *) echo "unknown setting '$1' (expected default, avx2, sse41, threads1, onednn-avx2, openblas-haswell)" >&2
       exit 2 ;;
  esac
}

mvn_args_of() {
  case "$1" in
    threads1) echo "-Dnabla.test.threads=1" ;;
    *) echo "" ;;
  esac
}

failed=0
for config in $configs; do
  env_settings="$(settings_of "$config")" || exit 2
  done_before=$(awk -F'\t' -v c="$config" '$1 == c' "$results" | wc -l)
  for run in $(seq $((done_before + 1)) $((done_before + repeats))); do
    log="$out/$config-$run.log"
    echo "== $config run $run: ${env_settings:-no environment changes} $(mvn_args_of "$config")"
    rm -rf */target/surefire-reports
    started=$(date +%s)
    # shellcheck disable=SC2086
    env $env_settings mvn -B -ntp verify -Dmaven.test.failure.ignore=false $(mvn_args_of "$config") > "$log" 2>&1
    code=$?
    seconds=$(( $(date +%s) - started ))
    cat */target/surefire-reports/*-output.txt 2>/dev/null | grep -h '^\[measured\]' > "$out/$config-$run.measured"
    tests=$(grep -E '^\[(INFO|ERROR|WARNING)\] Tests run: [0-9]+, Failures' "$log" | grep -v ' -- in ' \
      | awk -F'[ ,]+' '{t += $4; f += $6 + $8} END {print t "\t" f}')
    verdict=$([[ $code -eq 0 ]] && echo pass || echo FAIL)
    [[ $code -eq 0 ]] || failed=1
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$run" "$verdict" "$seconds" "$tests" "$commit" >> "$results"
    echo "   $verdict in ${seconds}s (tests, failures+errors: $tests)"
    if [[ $code -ne 0 ]]; then
      grep -E '<<< (FAILURE|ERROR)!' "$log" | sed 's/^/   /' | head -20
    fi
  done
done

{
  echo "# Test matrix"
  echo
  echo "\`scripts/test-matrix.sh\` on $(date -u +%Y-%m-%d)," \
    "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')."
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  isa=""
  for f in sse4_1 sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni; do
    [[ " $flags " == *" $f "* ]] && isa="$isa $f"
  done
  echo "Vector instructions of this CPU:$isa. OPENBLAS_CORETYPE preset: ${OPENBLAS_CORETYPE:-none}."
  echo
  echo "| setting | run | result | seconds | tests | failures + errors | commit |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$results"
  echo
  echo "## Float comparisons with a bound"
  echo
  echo "Per probe (a comparison a test reports with \`Measured\`), the largest difference seen in each setting"
  echo "over its runs, and the largest share of the test's bound that any run used."
  echo
  python3 - "$out" <<'PY'
import collections, glob, os, sys
out = sys.argv[1]
configs = []
for line in open(os.path.join(out, "results.tsv")):
    c = line.split("\t")[0]
    if c and c not in configs:
        configs.append(c)
diff = collections.defaultdict(dict)
used = collections.defaultdict(float)
for c in configs:
    for f in glob.glob(os.path.join(out, c + "-*.measured")):
        for line in open(f):
            parts = line.split()
            if len(parts) != 5:
                continue
            probe = parts[1]
            d = float(parts[2].split("=")[1])
            u = float(parts[4].split("=")[1])
            diff[probe][c] = max(diff[probe].get(c, 0.0), d)
            used[probe] = max(used[probe], u)
print("| probe | " + " | ".join(configs) + " | largest share of bound |")
print("|---|" + "---|" * len(configs) + "---|")
for p in sorted(diff):
    cells = ["%.2e" % diff[p][c] if c in diff[p] else "–" for c in configs]
    print("| `%s` | %s | %.3f |" % (p, " | ".join(cells), used[p]))
PY
} > "$summary"
echo "summary: $summary"
exit $failed
