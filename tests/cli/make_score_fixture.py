"""Writes .npy maps and an index CSV for `avsl score` from a synthetic dataset, as another tool would.

Usage: make_score_fixture.py SYNTH_DIR OUT_DIR
Sounding rows get a map that is 1 inside the union of the GT boxes (224 grid) and 0 outside; silent rows get
a map of zeros. Confidence: 1 for sounding, 0 for silent. A perfect localizer and detector, so every metric
must come out 1 (see cli_test.sh).
"""
import csv
import json
import os
import sys

import numpy as np

synth, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "maps"), exist_ok=True)
entries = {e["file"]: e for e in json.load(open(os.path.join(synth, "metadata", "vggss.json")))}
rows = []
with open(os.path.join(synth, "metadata", "vggss_test.csv"), newline="") as f:
    for r in csv.reader(f):
        rows.append((r[0], r[0], 1))
with open(os.path.join(synth, "metadata", "vggss_test_plus_silent.csv"), newline="") as f:
    for r in list(csv.reader(f))[1:]:
        rows.append((r[0], r[1], 0))
with open(os.path.join(out, "index.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["key", "video", "audio", "sounding", "conf"])
    for i, (video, audio, sounding) in enumerate(rows):
        key = "s%05d" % i
        m = np.zeros((224, 224), np.float32)
        if sounding:
            for x1, y1, x2, y2 in entries[video]["bbox"]:
                c = lambda v: int(min(max(v, 0.0), 1.0) * 224)
                m[c(y1):c(y2), c(x1):c(x2)] = 1.0
        np.save(os.path.join(out, "maps", key + ".npy"), m)
        w.writerow([key, video, audio, sounding, float(sounding)])
