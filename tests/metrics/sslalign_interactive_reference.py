#!/usr/bin/env python3
"""avsl's independent numpy re-derivation of the IS3 / interactive metrics (cIoU with the top-50 % rank rule,
adaptive cIoU, iIoU, adaptive iIoU, AUC, adaptive AUC, iAUC, adaptive iAUC, per-sample mean IoU) as defined by
kaistmm/SSLalignment @ e7ae3c5 (utils.py Evaluator_iiou + test.py's threshold selection), written from reading that
code, not copied from it. tests/metrics/interactive_test.cc compares avsl::metrics::InteractiveEvaluator with it;
docs/evaluation.md, "Interactive localization", gives the definitions.

Usage:  python3 sslalign_interactive_reference.py IN.json [--dtype float32|float64]

IN.json: {"items": [{"id": str,
                     "maps": [HxW floats (query A), HxW floats (query B), ...],
                     "gts":  [HxW 0/1 (object A),   HxW 0/1 (object B), ...]}, ...]}
Each item is one image; each (map, gt) pair is one query (one IS3 annotation
entry).  Two queries per item is the IS3 case; any count >= 1 is accepted
(the reference groups however many entries share an image stem).

Output (stdout, JSON): per_item + summary.  All values are fractions in [0,1]
(the reference prints them x100).  NaN (0/0 cases) is written as null.
"""
import json
import math
import sys

import numpy as np

# Success-rate grid of the reference: Python floats 0.05*i, i = 0..20.
# NOTE: these are NOT the decimal values: 0.05*3 == 0.15000000000000002,
# 0.05*14 == 0.7000000000000001, ... (a score of exactly 0.7 fails t_14).
GRID = [0.05 * i for i in range(21)]


def minmax(x):
    """Per-map min-max normalisation; a constant map is returned unchanged."""
    lo = x.min()
    hi = x.max()
    rng = hi - lo
    if rng != 0:
        return (x - lo) / rng
    return x


def rank_threshold(pred, k):
    """Value of the k-th smallest element (0-based) of the flattened map."""
    return np.sort(pred, axis=None)[k]


def ciou_of(binary, gt):
    """LVS cIoU: sum(P*G) / (sum(G) + sum(P*[G==0])); equals |P&G|/|P|G| for
    binary G.  0/0 -> NaN, like numpy float division in the reference."""
    inter = float(np.sum(binary * gt))
    denom = float(np.sum(gt) + np.sum(binary * (gt == 0)))
    if denom == 0.0:
        return math.nan
    return inter / denom


def query_scores(raw_map, gt, dtype):
    pred = minmax(np.asarray(raw_map, dtype=dtype))
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 2:
        raise ValueError("map and gt must be equal-shaped 2-D arrays")
    n = pred.size

    # Non-adaptive ("top 50%"): threshold = sorted[int(N*0.5)], keep pred > thr
    # (strict), i.e. N/2 - 1 pixels when values are distinct.
    thr = rank_threshold(pred, int(n * 0.5))
    c = ciou_of((pred > thr).astype(np.float64), gt)

    # Adaptive: threshold = sorted[N - |G|], keep pred > thr (strict), i.e.
    # |G| - 1 pixels when values are distinct.  Empty GT falls back to N//2.
    g = int(np.count_nonzero(gt))
    if g == 0:
        g = n // 2
    thr_a = rank_threshold(pred, n - g)
    c_a = ciou_of((pred > thr_a).astype(np.float64), gt)
    return c, c_a


def all_pass(values, t):
    """min over the queries of 1[v >= t]; NaN propagates (as in reference)."""
    out = 1.0
    for v in values:
        if math.isnan(v):
            return math.nan
        if not v >= t:
            out = 0.0
    return out


def success_rate(values, t):
    """#(v >= t) / len(values); NaN counts as a failure but stays in len."""
    return sum(1 for v in values if v >= t) / len(values)


def trapezoid(xs, ys):
    """Trapezoidal rule on the given (increasing) abscissae, like np.trapz /
    sklearn.metrics.auc."""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    return float((np.diff(x) * (y[1:] + y[:-1]) / 2.0).sum())


def nan_mean(values):
    """Plain mean (NaN-propagating, like np.mean)."""
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def jnum(v):
    return None if (isinstance(v, float) and math.isnan(v)) else v


def evaluate(items, dtype=np.float64):
    per_item = []
    flat, flat_a = [], []          # every query, in input order
    groups, groups_a = [], []      # per image
    for it in items:
        maps, gts = it["maps"], it["gts"]
        if len(maps) != len(gts) or len(maps) == 0:
            raise ValueError("item %r: need as many maps as gts (>=1)" % it.get("id"))
        cs, cas = [], []
        for m, g in zip(maps, gts):
            c, ca = query_scores(m, g, dtype)
            cs.append(c)
            cas.append(ca)
        flat += cs
        flat_a += cas
        groups.append(cs)
        groups_a.append(cas)
        per_item.append({
            "id": it["id"],
            "ciou": [jnum(v) for v in cs],
            "ciou_adaptive": [jnum(v) for v in cas],
            "iiou": jnum(all_pass(cs, 0.5)),
            "iiou_adaptive": jnum(all_pass(cas, 0.5)),
        })

    def curve(vals):
        return [success_rate(vals, t) for t in GRID]

    def icurve(grps):
        return [nan_mean([all_pass(g, t) for g in grps]) for t in GRID]

    s_c, s_ca = curve(flat), curve(flat_a)
    s_i, s_ia = icurve(groups), icurve(groups_a)
    summary = {
        "n_items": len(groups),
        "n_queries": len(flat),
        "miou": nan_mean(flat),                      # 'mIoU(persample)'
        "ciou": success_rate(flat, 0.5),             # 'CIoU'  (cIoU@0.5)
        "ciou_adaptive": success_rate(flat_a, 0.5),  # 'CIoU_adap'
        "auc": trapezoid(GRID, s_c),                 # 'AUC'
        "auc_adaptive": trapezoid(GRID, s_ca),       # 'AUC_adap'
        "iiou": nan_mean([all_pass(g, 0.5) for g in groups]),        # 'iIoU'
        "iiou_adaptive": nan_mean([all_pass(g, 0.5) for g in groups_a]),
        "iauc": trapezoid(GRID, s_i),                # 'iAUC'
        "iauc_adaptive": trapezoid(GRID, s_ia),      # 'iAUC_adap'
        "grid": GRID,
        "curve_ciou": s_c,
        "curve_ciou_adaptive": s_ca,
        "curve_iiou": s_i,
        "curve_iiou_adaptive": s_ia,
    }
    summary = {k: ([jnum(x) for x in v] if isinstance(v, list) else jnum(v))
               for k, v in summary.items()}
    return {"per_item": per_item, "summary": summary}


def main(argv):
    args = argv[1:]
    dtype = np.float64
    if "--dtype" in args:
        i = args.index("--dtype")
        dtype = {"float32": np.float32, "float64": np.float64}[args[i + 1]]
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write("usage: sslalign_interactive_reference.py IN.json [--dtype float32|float64]\n")
        return 2
    with open(args[0]) as f:
        data = json.load(f)
    json.dump(evaluate(data["items"], dtype), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
