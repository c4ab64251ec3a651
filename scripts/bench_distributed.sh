#!/usr/bin/env bash
# Data-parallel overhead on this machine: samples/s of SLAVC training steps in 1 process and in 2 processes
# (`avsl train --nproc-per-node 2`) at the same global batch, with the share of a step spent waiting for the
# gradient all-reduce after backward (what the bucketed overlap did not hide). Two settings: the quickstart recipe
# (synthetic, 113 px, ResNet10 width 16, global batch 128) and a full-size step (224 px, ResNet18 width 64, global
# batch 16), each also in 2 processes with train.global_negatives and train.sync_bn (the all-gather of the
# embeddings and the per-layer BatchNorm all-reduces, in forward and backward). On a 2-core machine the figure is
# about overhead, not speed-up (docs/distributed.md).
#   scripts/bench_distributed.sh [--steps N] [--warmup W] [--only synthetic|full-size]
#   (needs build/bin/avsl and /usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
AVSL=${AVSL_BUILD_DIR:-build}/bin/avsl
steps=20
warmup=4
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--steps N] [--warmup W] [--only synthetic|full-size]" >&2; exit 2 ;;
  esac
done
cores=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

common=(--set train.log_every=1 --set train.test_at_end=false --set train.val_every=1000 --set eval.visualize=0
  --set data.val.size=10 --max-steps "$steps")
full=(--set data.train.input_size=224 --set data.train.resize=224 --set data.val.input_size=224
  --set model.image_encoder.width=64 --set 'model.image_encoder.blocks=[2,2,2,2]' --set model.image_encoder.layer4_stride=2
  --set model.audio_encoder.width=64 --set 'model.audio_encoder.blocks=[2,2,2,2]' --set model.dim=512)

coupled=(--set train.global_negatives=true --set train.sync_bn=true)

# run NAME NPROC GLOBAL_BATCH [extra args]: trains, then prints one table row from metrics.jsonl.
run() {
  local name=$1 nproc=$2 global=$3
  shift 3
  local batch=$((global / nproc)) threads=$((cores / nproc))
  ((threads >= 1)) || threads=1
  local dir="$out/$name-$nproc"
  "$AVSL" train recipes/quickstart.toml --nproc-per-node "$nproc" --output-dir "$dir" "${common[@]}" \
    --set data.batch_size="$batch" --set threads="$threads" "$@" >"$dir.log" 2>&1 ||
    { echo "bench_distributed: $name with $nproc processes failed:" >&2; tail -5 "$dir.log" >&2; exit 1; }
  /usr/bin/python3 - "$(ls "$dir"/*/*/metrics.jsonl)" "$name" "$nproc" "$batch" "$threads" "$global" "$warmup" <<'PY'
import json, sys
path, name, nproc, batch, threads, global_batch, warmup = sys.argv[1:]
recs = [r for r in map(json.loads, open(path)) if r.get("split") == "train"]
recs = recs[int(warmup):]  # after the warm-up steps (first allocations, oneDNN kernel selection)
span = recs[-1]["wall_time"] - recs[0]["wall_time"]
rate = int(global_batch) * (len(recs) - 1) / span
share = "-"
if "dist_step_s" in recs[0]:
    wait = sum(r["dist_allreduce_wait_s"] for r in recs[1:])
    step = sum(r["dist_step_s"] for r in recs[1:])
    share = f"{100 * wait / step:.1f} %"
print(f"| {name} | {nproc} | {batch} | {threads} | {rate:.1f} | {share} |")
PY
}

echo "avsl $("$AVSL" --version | awk '{print $2}'), $cores cores, $steps steps ($warmup warm-up)"
echo
echo "| setting | processes | batch per process | threads per process | samples/s | all-reduce wait / step |"
echo "|---|---|---|---|---|---|"
if [ "$only" != full-size ]; then
  run synthetic 1 128
  run synthetic 2 128
  run synthetic+global_negatives+sync_bn 2 128 "${coupled[@]}"
  [ -z "${BENCH_SPLIT:-}" ] || run synthetic+global_negatives 2 128 --set train.global_negatives=true
  [ -z "${BENCH_SPLIT:-}" ] || run synthetic+sync_bn 2 128 --set train.sync_bn=true
fi
if [ "$only" != synthetic ]; then
  run full-size 1 16 "${full[@]}"
  run full-size 2 16 "${full[@]}"
  run full-size+global_negatives+sync_bn 2 16 "${full[@]}" "${coupled[@]}"
fi
