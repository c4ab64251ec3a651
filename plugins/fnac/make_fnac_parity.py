#!/usr/bin/env python3
"""Reference FNAC loss on fixed tensors, for fnac_test's parity check.

Re-derives FNAC's objective (OpenNLPLab/FNAC_AVL model.py FNAC.calculate_loss at 0a0ca78, as described in
../shared/docs/field_survey.md section 1.2) in PyTorch on seeded, L2-normalized embeddings: image v [B,D,h,w],
audio a [B,D]. Saves with torch.save one flat dict of tensors:
  in.image, in.audio                       the embeddings
  opt.tau, opt.w1, opt.w2, opt.w3, opt.thr the options used
  out.total, out.infonce, out.fns1, out.tns, out.fns2, out.logits
  out.grad_image, out.grad_audio           d total / d inputs
Usage: make_fnac_parity.py OUT_DIR   (exit code 3 when torch is missing)
"""
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)


def fnac_terms(v, a, tau, thr):
    b = v.shape[0]
    aud_sim = a @ a.t() / tau
    pooled = v.mean(dim=(2, 3))
    img_sim = pooled @ pooled.t() / tau
    all_maps = torch.einsum("nchw,mc->nmhw", v, a) / tau
    own = all_maps[torch.arange(b), torch.arange(b)]
    lo = own.flatten(1).min(dim=1)[0].view(b, 1, 1)
    hi = own.flatten(1).max(dim=1)[0].view(b, 1, 1)
    normalized = (own - lo) / (hi - lo + 1e-5)
    fg = (v * (normalized > thr).unsqueeze(1).to(v.dtype)).flatten(2).mean(dim=2)
    fg_sim = fg @ fg.t() / tau
    logits = all_maps.flatten(2).max(dim=2)[0]
    target = torch.arange(b)
    infonce = F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)
    p_logits = logits.softmax(dim=1)
    p_aud = aud_sim.softmax(dim=1)
    fns1 = (p_aud - p_logits).abs().mean()
    tns = (p_aud - fg_sim.softmax(dim=1)).abs().mean()
    fns2 = (img_sim.softmax(dim=1) - p_logits).abs().mean()
    return logits, infonce, fns1, tns, fns2


def main():
    out_dir = sys.argv[1]
    torch.manual_seed(20230618)
    b, d, h, w = 6, 8, 3, 4
    tau, w1, w2, w3, thr = 0.07, 100.0, 50.0, 25.0, 0.6
    v = F.normalize(torch.randn(b, d, h, w, dtype=torch.float64), dim=1).requires_grad_(True)
    a = F.normalize(torch.randn(b, d, dtype=torch.float64), dim=1).requires_grad_(True)
    logits, infonce, fns1, tns, fns2 = fnac_terms(v, a, tau, thr)
    total = infonce + w1 * fns1 + w2 * tns + w3 * fns2
    total.backward()
    out = {
        "in.image": v.detach(), "in.audio": a.detach(),
        "opt.tau": torch.tensor(tau, dtype=torch.float64), "opt.w1": torch.tensor(w1, dtype=torch.float64),
        "opt.w2": torch.tensor(w2, dtype=torch.float64),
        "opt.w3": torch.tensor(w3, dtype=torch.float64), "opt.thr": torch.tensor(thr, dtype=torch.float64),
        "out.total": total.detach(), "out.infonce": infonce.detach(), "out.fns1": fns1.detach(),
        "out.tns": tns.detach(), "out.fns2": fns2.detach(), "out.logits": logits.detach(),
        "out.grad_image": v.grad.detach(), "out.grad_audio": a.grad.detach(),
    }
    torch.save(out, os.path.join(out_dir, "fnac_parity.pt"))


if __name__ == "__main__":
    main()
