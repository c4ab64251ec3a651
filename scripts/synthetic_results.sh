#!/usr/bin/env bash
# Trains and tests method recipes on the synthetic benchmark for several seeds, evaluates each recipe's untrained
# model (the control: avsl eval RUN --untrained), then prints the results tables (avsl report) that docs/results.md
# records. Every seed changes the model initialization and all generated data (training scenes, val and the
# extended test split), so the rows of one seed share one test split.
#   scripts/synthetic_results.sh [--seeds "0 1"] [--out runs/results] [RECIPE...]
# Default recipes: every recipes/*/synthetic.toml and recipes/*/*_synthetic.toml (recipes/lvs/hardpos_synthetic.toml);
# variants such as recipes/ezvsl/synthetic_semi.toml are named on the command line (docs/results.md lists them all).
# A run directory with a finished test evaluation for that recipe and seed is reused: an interrupted sweep resumes.
# A reused run is not compared with the recipe: after changing a recipe, give another --out or delete its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="0 1"
out=runs/results
recipes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    -*) echo "synthetic_results.sh: unknown option '$1'" >&2; exit 2 ;;
    *) recipes+=("$1"); shift ;;
  esac
done
[ ${#recipes[@]} -gt 0 ] || mapfile -t recipes < <(ls recipes/*/synthetic.toml recipes/*/*_synthetic.toml | grep -v '^recipes/grids/')
AVSL=${AVSL_BUILD_DIR:-build}/bin/avsl
[ -x "$AVSL" ] || scripts/setup.sh

runs=()
for recipe in "${recipes[@]}"; do
  for seed in $seeds; do
    dir="$out/seed$seed/$(basename "$(dirname "$recipe")")_$(basename "$recipe" .toml)"
    run=$(ls -d "$dir"/*/*/ 2>/dev/null | tail -n 1 || true)
    if [ -z "$run" ] || [ ! -f "$run/eval/test_last/metrics.json" ]; then
      mkdir -p "$dir"
      start=$(date +%s)
      # Every dataset the recipe has takes the seed (reference methods have no train/val split).
      seed_args=(--set seed="$seed")
      resolved=$("$AVSL" recipe dump "$recipe")
      for split in train val test; do
        if grep -q "\[data.$split\]" <<<"$resolved"; then seed_args+=(--set data.$split.seed="$seed"); fi
      done
      "$AVSL" train "$recipe" --output-dir "$dir" "${seed_args[@]}" >"$dir.log" 2>&1 || { tail -n 20 "$dir.log"; echo "synthetic_results.sh: $recipe seed $seed failed" >&2; exit 1; }
      run=$(ls -d "$dir"/*/*/ | tail -n 1)
      echo "$recipe seed $seed: $(($(date +%s) - start)) s -> $run"
    fi
    if [ ! -f "$run/eval/test_untrained/metrics.json" ]; then
      "$AVSL" eval "$run" --untrained >"$dir.untrained.log" 2>&1 || { tail -n 5 "$dir.untrained.log"; echo "synthetic_results.sh: untrained evaluation of $run failed" >&2; exit 1; }
    fi
    runs+=("$run")
  done
done
"$AVSL" report "${runs[@]}" --out "$out/table.md"
"$AVSL" report "${runs[@]}" --columns pointing,auc,audio_dependence --out "$out/table_extra.md"
"$AVSL" report "${runs[@]}" --columns ap_ref,max_f1_ref --no-untrained --out "$out/table_ref.md"
