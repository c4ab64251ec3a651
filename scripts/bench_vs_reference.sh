#!/usr/bin/env bash
# avsl side by side with the reference SLAVC pipeline on the same files, in one run (docs/performance.md).
# Makes 640 Flickr-layout samples at the real files' size (avsl synth --preset bench: 480x360 JPEG q90, 10 s
# 16 kHz WAV), then times on them, with the same batch, workers and threads:
#   - the training data pipeline (decode + train transform + 3 s spectrogram): scripts/bench_reference.py data
#     (PIL, PyAV and scipy in DataLoader workers, written from ../shared/docs/reference_spec.md) vs avsl bench data;
#   - the full-size SLAVC training step (2 ResNet18s + momentum copies, 224 px, batch 16): bench_reference.py step
#     (fp32) vs avsl bench step in fp32, fp32 + channels_last and bf16 autocast + channels_last;
# and prints the ratio table. Scoring is timed by build/benchmarks/metrics_bench (no Python scorer here).
# Usage: scripts/bench_vs_reference.sh [BUILD_DIR]   (default build; DATA=DIR reuses/keeps the files there;
#   STEPS=N timed steps per step timing, default 10; REPEATS=N data timings per side, median taken, default 3)
# Needs /usr/bin/python3 with torch, torchvision, PIL, scipy and PyAV (AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
avsl=$build/bin/avsl
py=/usr/bin/python3
[ -x "$avsl" ] || { echo "bench_vs_reference: $avsl not found; build first (scripts/setup.sh)" >&2; exit 1; }
if ! "$py" -c 'import torch, torchvision, PIL, scipy, av' 2>/dev/null; then
  echo "bench_vs_reference: $py lacks torch/torchvision/PIL/scipy/PyAV; run AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh" >&2
  exit 1
fi
threads=${THREADS:-2}
steps=${STEPS:-10}
data=${DATA:-}
if [ -z "$data" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  data=$scratch/files
fi
[ -f "$data/metadata/flickr_train.txt" ] || "$avsl" synth --out "$data" --preset bench
list=$data/metadata/flickr_train.txt
recipe=recipes/bench/slavc_full_size.toml
root=(--set "data.train.root=\"$data\"" --set "threads=$threads")
last_number() { tail -n 1 | sed -E 's/^[a-z]+: ([0-9.]+) samples\/s$/\1/'; }

echo "files: $(wc -l <"$list") samples in $data; threads $threads; $(nproc) cores; $(date -u +%F)"
declare -A ref ours
# A data timing lasts about a second, and this VM's neighbours now and then take a fifth of it: each side runs
# REPEATS times (default 3), alternating, and the median counts (the lower middle value for an even count).
repeats=${REPEATS:-3}
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "bench_vs_reference: REPEATS must be a positive integer, got '$repeats'" >&2; exit 2; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for workers in 2 0; do
  echo "data pipeline, $workers workers, batch 32, median of $repeats ..." >&2
  ref_runs=() our_runs=()
  for ((r = 0; r < repeats; ++r)); do
    ref_runs+=("$("$py" scripts/bench_reference.py data --root "$data" --list "$list" --workers $workers --batch 32 \
      --batches 19 --threads "$threads" | last_number)")
    out=$("$avsl" bench data $recipe "${root[@]}" --set data.batch_size=32 --set data.workers=$workers --batches 19)
    our_runs+=("$(last_number <<<"$out")")
    allocator=$(sed -n 's/^allocator: //p' <<<"$out")
  done
  ref[data$workers]=$(median "${ref_runs[@]}")
  ours[data$workers]=$(median "${our_runs[@]}")
  echo "  reference ${ref_runs[*]} | avsl ${our_runs[*]}" >&2
done
echo "training step, batch 16, 2 workers ..." >&2
ref_step() {
  "$py" scripts/bench_reference.py step --root "$data" --list "$list" --workers 2 --batch 16 --steps "$steps" \
    --warmup 2 --threads "$threads" | last_number
}
ref[step]=$(ref_step)
# avsl links tcmalloc (docs/performance.md "Allocator"); a PyTorch user can preload it into the reference too.
tcmalloc=$(ldd "$avsl" | awk '/libtcmalloc/ {print $3}')
if [ -n "$tcmalloc" ]; then
  ref[step_tcmalloc]=$(LD_PRELOAD=$tcmalloc ref_step)
fi
for variant in fp32 channels_last bf16; do
  case $variant in
    fp32) extra=() ;;
    channels_last) extra=(--set channels_last=true) ;;
    bf16) extra=(--set 'amp="bf16"' --set channels_last=true) ;;
  esac
  ours[step_$variant]=$("$avsl" bench step $recipe "${root[@]}" "${extra[@]}" --steps "$steps" --warmup 2 | last_number)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }
echo
echo "| path | reference (spec re-derivation) | avsl | ratio |"
echo "|---|---|---|---|"
echo "| training data pipeline, 2 workers, batch 32 | ${ref[data2]} samples/s | ${ours[data2]} samples/s | $(ratio "${ours[data2]}" "${ref[data2]}") |"
echo "| same, 0 workers | ${ref[data0]} samples/s | ${ours[data0]} samples/s | $(ratio "${ours[data0]}" "${ref[data0]}") |"
echo "| full-size SLAVC step, batch 16, fp32 | ${ref[step]} samples/s | ${ours[step_fp32]} samples/s | $(ratio "${ours[step_fp32]}" "${ref[step]}") |"
echo "| same, fp32 + channels_last | | ${ours[step_channels_last]} samples/s | $(ratio "${ours[step_channels_last]}" "${ref[step]}") |"
echo "| same, bf16 autocast + channels_last | | ${ours[step_bf16]} samples/s | $(ratio "${ours[step_bf16]}" "${ref[step]}") |"
echo
echo "allocator: avsl $allocator; the reference glibc malloc"
if [ -n "$tcmalloc" ]; then
  echo "the reference step with LD_PRELOAD=$tcmalloc: ${ref[step_tcmalloc]} samples/s" \
    "(avsl fp32 $(ratio "${ours[step_fp32]}" "${ref[step_tcmalloc]}"), channels_last" \
    "$(ratio "${ours[step_channels_last]}" "${ref[step_tcmalloc]}"), bf16 $(ratio "${ours[step_bf16]}" "${ref[step_tcmalloc]}"))"
fi
