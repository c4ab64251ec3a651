#!/usr/bin/env bash
# Fault drills for long runs (docs/robustness.md): what a run survives that a unit test cannot stage.
#   fault_drills.sh AVSL_BINARY SOURCE_DIR [kill] [write] [disk]      (default: all three)
#   kill   kill -9 of `avsl train` at 10 random steps; each `--resume` must end with weights, optimizer state and
#          metrics.jsonl records identical to the uninterrupted run's
#   write  kill -9 while checkpoints/last.pt is being written (3 times): last.pt stays the previous whole file (every
#          zip CRC-32 checked) and the resume goes on
#   disk   a full file system (a tmpfs the drill mounts; skipped without the right to mount): a checkpoint write and
#          an evaluation's metrics.json write fail with the file and the cause named, the previous files unchanged,
#          and the run resumes once there is room
# AVSL_DRILL_SEED fixes the random kill steps (default 1); the steps drawn are printed.
set -u
AVSL=$1
SRC=$2
shift 2
drills=("$@")
[ ${#drills[@]} -gt 0 ] || drills=(kill write disk)
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
[ -n "$PY" ] || { echo "SKIP: the fault drills need python3 (zip CRC checks)"; exit 77; }
RANDOM=${AVSL_DRILL_SEED:-1}
tmp=$(mktemp -d)
mnt=""
cleanup() {
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failures=$((failures + 1)); echo "FAIL: $*"; }

# A small EZ-VSL: 6 steps per epoch, 3 epochs, a checkpoint every 4 steps as well as at each epoch end.
small=(--set train.epochs=3 --set data.train.size=48 --set data.batch_size=8 --set data.val.size=10
  --set data.test.size=10 --set data.eval_batch_size=5 --set threads=1 --set eval.visualize=0 --set train.log_every=1
  --set train.save_every_steps=4 --set train.test_at_end=false)
total_steps=18
recipe="$SRC/recipes/ezvsl/synthetic.toml"

run_dir_in() { ls -d "$1"/*/*/ 2>/dev/null | head -1 | sed 's:/$::'; }

# zip_check FILE: every record's CRC-32 (Python's zipfile reads each one whole).
zip_check() {
  "$PY" - "$1" <<'EOF'
import sys, zipfile
try:
    bad = zipfile.ZipFile(sys.argv[1]).testzip()
except Exception as e:
    sys.exit(f"{sys.argv[1]}: {e}")
sys.exit(f"{sys.argv[1]}: bad CRC in {bad}" if bad else 0)
EOF
}

# same_tensors A B: the two checkpoints hold the same tensor records, byte for byte (weights, buffers, optimizer
# state, RNG), compared as multisets: LibTorch numbers the optimizer's state records in the order of a hash map keyed
# by memory address, which differs from process to process (two uninterrupted runs differ in that order only).
same_tensors() {
  "$PY" - "$1" "$2" <<'EOF'
import collections, hashlib, sys, zipfile
def digests(path):
    z = zipfile.ZipFile(path)
    return collections.Counter(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if "/data/" in n)
a, b = digests(sys.argv[1]), digests(sys.argv[2])
if a != b:
    sys.exit(f"{sum((a - b).values())} of {sum(a.values())} tensor records differ")
EOF
}

# records RUN: the (split, epoch, step) of every metrics.jsonl line, in order.
records() {
  "$PY" - "$1/metrics.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    print(j.get("split"), j.get("epoch"), j.get("step"))
EOF
}

# count_train_records RUN: training-step records logged so far (one per step, train.log_every = 1).
count_train_records() { grep -c '"split":"train"' "$1/metrics.jsonl" 2>/dev/null || echo 0; }

drill_kill() {
  echo "== kill -9 at random steps, then --resume"
  "$AVSL" train "$recipe" --output-dir "$tmp/kill_ref" "${small[@]}" >"$tmp/kill_ref.log" 2>&1 ||
    { fail "the uninterrupted reference run failed"; tail -5 "$tmp/kill_ref.log"; return; }
  local ref
  ref=$(run_dir_in "$tmp/kill_ref")
  records "$ref" >"$tmp/ref_records"
  local steps_drawn=()
  for i in $(seq 1 10); do
    # After the first checkpoint (step 4), up to the step before the last (a kill after the last step's record may
    # come after the run's end).
    local k=$((5 + RANDOM % (total_steps - 5)))
    steps_drawn+=("$k")
    local out="$tmp/kill_$i"
    "$AVSL" train "$recipe" --output-dir "$out" "${small[@]}" >"$out.log" 2>&1 &
    local pid=$! dir=""
    while kill -0 "$pid" 2>/dev/null; do
      dir=$(run_dir_in "$out")
      if [ -n "$dir" ] && [ "$(count_train_records "$dir")" -ge "$k" ]; then
        kill -9 "$pid"
        break
      fi
      sleep 0.01
    done
    wait "$pid" 2>/dev/null
    local rc=$?
    dir=$(run_dir_in "$out")
    if [ "$rc" -ne 137 ]; then
      fail "kill $i: the run was not killed at step $k (exit $rc)"
      continue
    fi
    local seen
    seen=$(count_train_records "$dir")
    if ! "$AVSL" train --resume "$dir" >"$out.resume.log" 2>&1; then
      fail "kill $i (step $k, $seen records): --resume failed"
      tail -3 "$out.resume.log"
      continue
    fi
    if ! why=$(same_tensors "$ref/checkpoints/last.pt" "$dir/checkpoints/last.pt" 2>&1); then
      fail "kill $i (step $k): the resumed weights differ from the uninterrupted run's: $why"
    elif ! records "$dir" | cmp -s - "$tmp/ref_records"; then
      fail "kill $i (step $k): metrics.jsonl differs from the uninterrupted run's records"
      records "$dir" | diff - "$tmp/ref_records" | head -5
    else
      ok "kill $i at step $k ($seen step records written): resumed bit-identical, same metrics.jsonl records"
    fi
  done
  echo "steps drawn (AVSL_DRILL_SEED=${AVSL_DRILL_SEED:-1}): ${steps_drawn[*]}"
}

drill_write() {
  echo "== kill -9 during a write of checkpoints/last.pt"
  # Full-width ResNet18 encoders make last.pt ~270 MB (weights and Adam moments), long enough to write that the
  # drill sees its temporary file and kills the writer in the middle of it.
  local big=(--set train.epochs=1 --set data.train.size=16 --set data.batch_size=2 --set data.val.size=4
    --set data.test.size=4 --set data.eval_batch_size=4 --set threads=2 --set eval.visualize=0
    --set train.save_every_steps=1 --set train.test_at_end=false
    --set model.image_encoder.width=64 --set 'model.image_encoder.blocks=[2,2,2,2]'
    --set model.audio_encoder.width=64 --set 'model.audio_encoder.blocks=[2,2,2,2]')
  local out="$tmp/write" dir="" n
  for n in 2 3 5; do
    # Kill at the n-th write of this invocation: writes 1..n-1 completed (one of them the previous run's, resumed).
    if [ -z "$dir" ]; then
      "$AVSL" train "$recipe" --output-dir "$out" "${big[@]}" >"$out.$n.log" 2>&1 &
    else
      "$AVSL" train --resume "$dir" >"$out.$n.log" 2>&1 &
    fi
    local pid=$! seen=0 was_writing=0 killed=0
    while kill -0 "$pid" 2>/dev/null; do
      [ -n "$dir" ] || dir=$(run_dir_in "$out")
      if [ -n "$dir" ] && compgen -G "$dir/checkpoints/last.pt.tmp-*" >/dev/null; then
        [ "$was_writing" = 1 ] || seen=$((seen + 1))
        was_writing=1
        if [ "$seen" -ge "$n" ]; then
          kill -9 "$pid"
          killed=1
          break
        fi
      else
        was_writing=0
      fi
      sleep 0.005
    done
    wait "$pid" 2>/dev/null
    if [ "$killed" != 1 ]; then
      fail "write drill $n: never saw the write of last.pt number $n (the run ended first)"
      return
    fi
    local left
    left=$(compgen -G "$dir/checkpoints/last.pt.tmp-*" | wc -l)
    if [ ! -f "$dir/checkpoints/last.pt" ]; then
      fail "write drill $n: no last.pt after the kill during write $n"
    elif ! why=$(zip_check "$dir/checkpoints/last.pt" 2>&1); then
      fail "write drill $n: last.pt is corrupt after a kill during its write: $why"
    else
      ok "killed during write $n of last.pt ($left partial temporary file left): last.pt is the previous whole file"
    fi
  done
  if "$AVSL" train --resume "$dir" >"$out.final.log" 2>&1 && grep -q "removed .*last.pt.tmp-.*left by an interrupted write" "$out.final.log" &&
    [ -z "$(compgen -G "$dir/checkpoints/last.pt.tmp-*")" ] && zip_check "$dir/checkpoints/last.pt"; then
    ok "the resume after the write drills finished the run and removed the partial files"
  else
    fail "the resume after the write drills failed or left partial files"
    tail -5 "$out.final.log"
  fi
}

drill_disk() {
  echo "== a full file system"
  mnt="$tmp/full"
  mkdir -p "$mnt"
  # Room for one checkpoint of the small model and a half: the first save fits, the second (a whole temporary copy
  # beside the previous file) does not.
  local probe="$tmp/disk_probe"
  "$AVSL" train "$recipe" --output-dir "$probe" "${small[@]}" --set train.epochs=1 >/dev/null 2>&1
  local ckpt_bytes
  ckpt_bytes=$(stat -c %s "$(run_dir_in "$probe")/checkpoints/last.pt" 2>/dev/null || echo 0)
  [ "$ckpt_bytes" -gt 0 ] || { fail "disk drill: the sizing run wrote no checkpoint"; return; }
  local size_kb=$(((ckpt_bytes * 3 / 2 + 262144) / 1024))
  if ! mount -t tmpfs -o size=${size_kb}k avsl_drill "$mnt" 2>/dev/null; then
    echo "SKIP: disk drill: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
    mnt=""
    return
  fi
  "$AVSL" train "$recipe" --output-dir "$mnt/runs" "${small[@]}" --set train.save_every_steps=1 \
    --set train.test_at_end=true >"$tmp/disk.log" 2>&1
  local rc=$?
  local dir
  dir=$(run_dir_in "$mnt/runs")
  if [ "$rc" -eq 1 ] && grep -Eq "avsl train: error: .*cannot save checkpoint $dir/checkpoints/last.pt: .*\([0-9]+ bytes free on its file system\); the previous file is unchanged" "$tmp/disk.log" &&
    zip_check "$dir/checkpoints/last.pt" && [ -z "$(compgen -G "$dir/checkpoints/*.tmp-*")" ]; then
    ok "checkpoint write on a full disk: exit 1, '$(grep -o 'cannot save checkpoint.*' "$tmp/disk.log" | cut -c1-60)...', previous last.pt whole, no partial file"
  else
    fail "checkpoint write on a full disk (exit $rc)"
    tail -3 "$tmp/disk.log"
  fi
  # last.pt and best_ap.pt, each with room for its temporary copy.
  mount -o remount,size=$((size_kb * 6))k "$mnt"
  if "$AVSL" train --resume "$dir" >"$tmp/disk_resume.log" 2>&1 &&
    [ -f "$dir/eval/test_last/metrics.json" ]; then
    ok "with room again, --resume finished the run"
  else
    fail "--resume after the disk was freed"
    tail -3 "$tmp/disk_resume.log"
    return
  fi
  local metrics="$dir/eval/test_last/metrics.json"
  cp "$metrics" "$tmp/metrics_before.json"
  dd if=/dev/zero of="$mnt/filler" bs=64k >/dev/null 2>&1
  "$AVSL" eval "$dir" --checkpoint last >"$tmp/disk_eval.log" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ] && grep -Eq "avsl eval: error: .*$dir/eval/test_last/.*No space left on device" "$tmp/disk_eval.log" &&
    cmp -s "$metrics" "$tmp/metrics_before.json"; then
    ok "evaluation on a full disk: exit 1, '$(grep -o 'error: .*' "$tmp/disk_eval.log" | cut -c1-80)...', metrics.json unchanged"
  else
    fail "evaluation on a full disk (exit $rc)"
    tail -3 "$tmp/disk_eval.log"
  fi
  umount "$mnt" && mnt=""
}

for d in "${drills[@]}"; do
  case $d in
    kill) drill_kill ;;
    write) drill_write ;;
    disk) drill_disk ;;
    *) echo "unknown drill '$d' (kill, write, disk)"; exit 2 ;;
  esac
done
echo "fault drills: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
