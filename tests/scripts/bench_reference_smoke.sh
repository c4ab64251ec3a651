#!/usr/bin/env bash
# Smoke test for scripts/bench_reference.py (the spec-derived SLAVC reference pipeline timed by
# scripts/bench_vs_reference.sh). It builds a 16-sample Flickr-layout folder, runs both modes once with tiny
# settings and checks that each run ends with the documented `data:` / `step:` line.
# Exit: 0 pass, 1 fail, 77 skip (the Python lacks torch, torchvision, PIL, scipy or PyAV).
# Usage: tests/scripts/bench_reference_smoke.sh   (PYTHON=... overrides /usr/bin/python3)
set -u
PY="${PYTHON:-/usr/bin/python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$HERE/../../scripts/bench_reference.py"

if ! "$PY" -c 'import torch, torchvision, PIL, scipy, av' >/dev/null 2>&1; then
  echo "SKIP: $PY lacks torch/torchvision/PIL/scipy/av (apt-get install python3-torch python3-torchvision python3-av)"
  exit 77
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 16 samples: 4 s mono clips (centre window), 1 s clips (tiled) and one stereo clip (downmix); non-square
# frames (short-side resize). The list uses CRLF and one id with an extension, as real metadata files may.
"$PY" - "$TMP" <<'PYEOF' || { echo "FAIL: could not write the test dataset"; exit 1; }
import os, sys
import numpy as np, scipy.io.wavfile
from PIL import Image
root = sys.argv[1]
os.makedirs(os.path.join(root, 'frames')); os.makedirs(os.path.join(root, 'audio'))
rng = np.random.default_rng(0)
ids = [f'clip_{i:02d}' for i in range(16)]
for i, ident in enumerate(ids):
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(os.path.join(root, 'frames', ident + '.jpg'))
    n, ch = (64000 if i % 2 == 0 else 16000), (2 if i == 3 else 1)
    pcm = (rng.standard_normal((n, ch)) * 5000).clip(-32768, 32767).astype(np.int16)
    scipy.io.wavfile.write(os.path.join(root, 'audio', ident + '.wav'), 16000, pcm if ch == 2 else pcm[:, 0])
with open(os.path.join(root, 'list.txt'), 'w', newline='') as fh:
    fh.write('\r\n'.join(ident + ('.wav' if i == 5 else '') for i, ident in enumerate(ids)))
PYEOF

status=0
check() {  # check MODE REGEX ARGS...: run one mode and test its last line
  local mode="$1" regex="$2"; shift 2
  local out
  if ! out="$("$PY" "$SCRIPT" "$mode" --root "$TMP" --list "$TMP/list.txt" --batch 4 --threads 1 "$@" 2>"$TMP/$mode.err")"; then
    echo "FAIL: $mode mode exited non-zero"; cat "$TMP/$mode.err"; status=1; return
  fi
  echo "$out"
  local last; last="$(printf '%s\n' "$out" | tail -n 1)"
  if [[ "$last" =~ $regex ]]; then
    echo "ok: $mode: last line '$last'"
  else
    echo "FAIL: $mode: last line '$last' does not match $regex"; status=1
  fi
  if ! printf '%s\n' "$out" | grep -q '^samples: 16 '; then
    echo "FAIL: $mode: expected 16 usable samples"; status=1
  fi
}
check data '^data: [0-9]+\.[0-9] samples/s$' --workers 2 --batches 1
check step '^step: [0-9]+\.[0-9] samples/s$' --workers 1 --steps 1 --warmup 1

if [ "$status" -eq 0 ]; then echo "bench_reference_smoke: 2 passed, 0 failed"; else echo "bench_reference_smoke: FAILED"; fi
exit "$status"
