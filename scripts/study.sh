#!/usr/bin/env bash
# The study of docs/results.md, resumable (run it again to continue where it stopped):
#   stage 1, "sweep": every method over a small grid of its settings, seed 0, SWEEP_ITERATIONS iterations;
#            compare --select picks each method's best setting (highest final reward keeping >= 0.8x the
#            base model's diversity) into runs/<prefix>-sweep/selected.txt
#   stage 2, "final": the selected settings, 3 seeds, the settings file's 200 iterations.
#   "keep":  copies the records of every finished run (config.json, eval.jsonl, metrics.jsonl, seconds, DONE)
#            and selected.txt to docs/study-runs/, the data behind docs/results.md; committed, they let the
#            study continue on a fresh clone: every stage first copies back the finished runs that RUNS lacks,
#            which compare then skips (their records are all its summary and plots read).
# Usage: scripts/study.sh [sweep|final|all|keep]   (default all). Environment: RUNS (runs), PREFIX (study),
# SWEEP_ITERATIONS (40).
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-all}
runs=${RUNS:-runs}
prefix=${PREFIX:-study}
sweep_iterations=${SWEEP_ITERATIONS:-40}
kept=docs/study-runs
records="config.json eval.jsonl metrics.jsonl seconds DONE"

# copy_finished FROM TO: the records of the runs finished under FROM/<prefix>-*/ that TO lacks, and selected.txt
copy_finished() {
  local from=$1 to=$2 d rel f
  for d in "$from/$prefix"-*/*/; do
    [[ -f $d/DONE ]] || continue
    rel=${d#"$from"/}
    [[ -f $to/$rel/DONE ]] && continue
    mkdir -p "$to/$rel"
    for f in $records; do
      [[ -f $d/$f ]] && cp "$d/$f" "$to/$rel/$f"
    done
    echo "study: $rel -> $to"
  done
  for f in "$from/$prefix"-*/selected.txt; do
    [[ -f $f ]] || continue
    rel=${f#"$from"/}
    [[ -f $to/$rel ]] && continue
    mkdir -p "$(dirname "$to/$rel")" && cp "$f" "$to/$rel"
  done
}

case $stage in
  sweep|final|all) copy_finished "$kept" "$runs" ;;
  keep) copy_finished "$runs" "$kept"; exit 0 ;;
  *) echo "study.sh: unknown stage '$stage'; expected sweep, final, all or keep" >&2; exit 2 ;;
esac

# Learning rates spanning 10x around the common 2e-3; β around the common 30 for the GFlowNet methods;
# DDPO's rate lower (its steps carry less information) and two updates per batch with two clip ranges.
grid=""
for m in residual-nabla-db nabla-db forward-only dag-db residual-db; do
  grid+="$m@lr=6e-4,$m,$m@lr=6e-3,$m@beta=10,$m@beta=100,"
done
for m in refl draft-k draft-lv alignprop; do
  grid+="$m@lr=6e-4,$m,$m@lr=6e-3,"
done
grid+="ddpo@lr=2e-4,ddpo@lr=6e-4,ddpo,ddpo@lr=6e-4@inner-epochs=2@ddpo-clip=1e-4,ddpo@lr=6e-4@inner-epochs=2@ddpo-clip=1e-3"

if [[ $stage == sweep || $stage == all ]]; then
  bin/nabla compare --config docs/study.yaml --runs-dir "$runs" --name "$prefix-sweep" --seeds 1 \
    --iterations "$sweep_iterations" --methods "$grid" --select
fi
if [[ $stage == final || $stage == all ]]; then
  selected=$(cat "$runs/$prefix-sweep/selected.txt")
  bin/nabla compare --config docs/study.yaml --runs-dir "$runs" --name "$prefix-final" --seeds 3 \
    --methods "$selected"
fi
