#!/usr/bin/env python3
"""Reference sslalign objective on fixed tensors, for sslalign_test's parity check.

Re-derives in PyTorch, independently of the C++ code, the objective README.md specifies: the LVS localization loss
(the logits kaistmm/SSLalignment model_lvs.py AVENet.forward computes: soft tri-map means, in-batch negatives masked by
1 - 100 I, the own-image hard negative, / 0.07, cross-entropy with target 0) averaged over the (image view, audio
view) pairs plus the neighbour pair; the alignment loss, half the symmetric InfoNCE of global image against audio
embeddings / tau_a, averaged over the same pairs plus the neighbour-image pair; total = loc + weight * align.
Saves with torch.save one flat dict:
  in.map0, in.map1 [B,C,h,w]; in.g0, in.g1, in.a0, in.a1 [B,C]; in.nn_image, in.nn_audio [B,C];
  opt.weight, opt.tau_a; out.total, out.localization, out.alignment; out.grad_<input> for map0 map1 g0 g1 a0 a1
Usage: make_sslalign_parity.py OUT_DIR   (exit code 3 when torch is missing)
"""
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)

EPS, EPS2, SHARP, TEMP = 0.65, 0.4, 0.03, 0.07


def masked_mean(x, w):
    return (w * x).flatten(-2).sum(-1) / w.flatten(-2).sum(-1)


def lvs_loss(maps, aud):
    n = maps.shape[0]
    a0 = torch.einsum("bchw,kc->bkhw", maps, aud)
    own = a0[torch.arange(n), torch.arange(n)]
    positive = masked_mean(own, torch.sigmoid((own - EPS) / SHARP))
    hard = masked_mean(own, 1 - torch.sigmoid((own - EPS2) / SHARP))
    others = masked_mean(a0, torch.sigmoid((a0 - EPS) / SHARP)) * (1 - 100 * torch.eye(n, dtype=maps.dtype))
    logits = torch.cat([positive[:, None], others, hard[:, None]], dim=1) / TEMP
    return F.cross_entropy(logits, torch.zeros(n, dtype=torch.long))


def align_loss(g, a, tau):
    s = g @ a.t() / tau
    target = torch.arange(g.shape[0])
    return 0.5 * (F.cross_entropy(s, target) + F.cross_entropy(s.t(), target))


def main():
    torch.manual_seed(20231002)
    b, c, h, w = 6, 8, 3, 3
    weight, tau_a = 0.5, 0.1

    def unit(*shape):
        return F.normalize(torch.rand(*shape, dtype=torch.float64) + 0.05, dim=1).requires_grad_(True)

    inputs = {"map0": unit(b, c, h, w), "map1": unit(b, c, h, w), "g0": unit(b, c), "g1": unit(b, c),
              "a0": unit(b, c), "a1": unit(b, c)}
    nn_image = F.normalize(torch.rand(b, c, dtype=torch.float64), dim=1)
    nn_audio = F.normalize(torch.rand(b, c, dtype=torch.float64), dim=1)
    maps, gs, auds = [inputs["map0"], inputs["map1"]], [inputs["g0"], inputs["g1"]], [inputs["a0"], inputs["a1"]]
    loc = [lvs_loss(maps[p], auds[q]) for p in range(2) for q in range(2)]
    align = [align_loss(gs[p], auds[q], tau_a) for p in range(2) for q in range(2)]
    loc.append(lvs_loss(maps[0], nn_audio))
    align.append(align_loss(gs[0], nn_audio, tau_a))
    align.append(align_loss(nn_image, auds[0], tau_a))
    localization = sum(loc) / len(loc)
    alignment = sum(align) / len(align)
    total = localization + weight * alignment
    total.backward()
    out = {"in." + k: v.detach() for k, v in inputs.items()}
    out.update({"out.grad_" + k: v.grad.detach() for k, v in inputs.items()})
    out.update({"in.nn_image": nn_image, "in.nn_audio": nn_audio,
                "opt.weight": torch.tensor(weight, dtype=torch.float64),
                "opt.tau_a": torch.tensor(tau_a, dtype=torch.float64),
                "out.total": total.detach(), "out.localization": localization.detach(),
                "out.alignment": alignment.detach()})
    torch.save(out, os.path.join(sys.argv[1], "sslalign_parity.pt"))


if __name__ == "__main__":
    main()
