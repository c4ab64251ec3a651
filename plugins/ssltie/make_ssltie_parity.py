#!/usr/bin/env python3
"""Reference SSL-TIE loss and view transform on fixed tensors, for ssltie_test's parity check.

Re-derives, in PyTorch and independently of the C++ code, what jinxiang-liu/SSL-TIE @c49e6a9 computes in one step
(main.py train_one_epoch, models/model.py AVENet.forward, utils/tf_equivariance_loss.py on kornia 0.5.6; see
README.md): kornia's rotation matrix as shift . rotate-scale . unshift, warp_affine's normalized inverse with
align_corners=True, the resizes with align_corners=False, the flip; the LVS logits of each view; the total
0.5 (L1 + L2) + w MSE(A2, T(A1)). Two cases: scale 0.5 with a flip, scale 1 without. Saves with torch.save one flat
dict per case, keys prefixed "s05." and "s10.":
  in.image1 [B,C,h,w], in.image2 [B,C,h2,w2], in.audio [B,C], in.angles [B], in.scale, in.flip, in.canvas,
  in.frames [B,3,H,W]           inputs (embeddings L2-normalized over C; frames for the transform check)
  out.frames2                   T(frames)
  out.total, out.view1, out.view2, out.equivariance, out.target (T(A1))
  out.grad_image1, out.grad_image2, out.grad_audio
Usage: make_ssltie_parity.py OUT_DIR   (exit code 3 when torch is missing)
"""
import math
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)


def rotation_matrix(cx, cy, deg, scale):
    # kornia get_rotation_matrix2d: T(c) . (scale . [[cos, sin], [-sin, cos]]) . T(-c), angle in degrees.
    rad = math.radians(deg)
    shift = torch.tensor([[1.0, 0, cx], [0, 1.0, cy], [0, 0, 1.0]], dtype=torch.float64)
    unshift = torch.tensor([[1.0, 0, -cx], [0, 1.0, -cy], [0, 0, 1.0]], dtype=torch.float64)
    rot = torch.tensor([[math.cos(rad), math.sin(rad), 0], [-math.sin(rad), math.cos(rad), 0], [0, 0, 1.0]],
                       dtype=torch.float64)
    rot[:2, :2] *= scale
    return shift @ rot @ unshift


def normal_transform_pixel(h, w):
    return torch.tensor([[2.0 / (w - 1), 0, -1], [0, 2.0 / (h - 1), -1], [0, 0, 1]], dtype=torch.float64)


def transform(x, angles, scale, flip, canvas):
    """tf_equivariance_loss.py transform(): dsize from x's own size, resize to the canvas, warp, resize, flip."""
    h0, w0 = x.shape[-2:]
    dsize = (int(h0 * scale), int(w0 * scale))
    if (h0, w0) != (canvas, canvas):
        x = F.interpolate(x, size=(canvas, canvas), mode="bilinear", align_corners=False)
    n = normal_transform_pixel(canvas, canvas)
    thetas = []
    for deg in angles.tolist():
        m = rotation_matrix(canvas / 2, canvas / 2, deg, scale)
        dst_norm_trans_src_norm = n @ m @ torch.inverse(n)
        thetas.append(torch.inverse(dst_norm_trans_src_norm)[:2])
    theta = torch.stack(thetas).to(x.dtype)
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], canvas, canvas], align_corners=True)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    if tuple(y.shape[-2:]) != dsize:
        y = F.interpolate(y, size=dsize, mode="bilinear", align_corners=False)
    return y.flip(-1) if flip else y


def lvs_logits(img, aud):
    """models/model.py AVENet.forward: the LVS 'hard way' logits, released-code variant."""
    b = img.shape[0]
    a0 = torch.einsum("nchw,kc->nkhw", img, aud)
    a = torch.einsum("nchw,nc->nhw", img, aud).unsqueeze(1)
    pos = torch.sigmoid((a - 0.65) / 0.03)
    neg = 1 - torch.sigmoid((a - 0.4) / 0.03)
    pos_all = torch.sigmoid((a0 - 0.65) / 0.03)
    sim = (pos_all * a0).sum(dim=(2, 3)) / pos_all.sum(dim=(2, 3))
    sim = sim * (1 - 100 * torch.eye(b, dtype=img.dtype))
    sim1 = (pos * a).sum(dim=(2, 3)) / pos.sum(dim=(2, 3))
    sim2 = (neg * a).sum(dim=(2, 3)) / neg.sum(dim=(2, 3))
    return torch.cat([sim1, sim, sim2], dim=1) / 0.07, a


def case(prefix, scale, flip, seed, out):
    torch.manual_seed(seed)
    b, c, canvas = 5, 6, 32
    h = w = 4
    h2 = int(h * scale)
    # ReLU-like features (>= 0) as the reference's, so cosines sit in the masks' working range.
    img1 = F.normalize(torch.rand(b, c, h, w, dtype=torch.float64) + 0.05, dim=1).requires_grad_(True)
    img2 = F.normalize(torch.rand(b, c, h2, h2, dtype=torch.float64) + 0.05, dim=1).requires_grad_(True)
    aud = F.normalize(torch.rand(b, c, dtype=torch.float64) + 0.05, dim=1).requires_grad_(True)
    angles = torch.randint(-30, 31, (b,)).to(torch.float64)
    frames = torch.randn(b, 3, canvas, canvas, dtype=torch.float64)
    frames2 = transform(frames, angles, scale, flip, canvas)
    target0 = torch.zeros(b, dtype=torch.long)
    logits1, a1 = lvs_logits(img1, aud)
    logits2, a2 = lvs_logits(img2, aud)
    l1 = F.cross_entropy(logits1, target0)
    l2 = F.cross_entropy(logits2, target0)
    t_a1 = transform(a1, angles, scale, flip, canvas)
    eq = F.mse_loss(a2, t_a1)
    total = 0.5 * (l1 + l2) + 1.0 * eq
    total.backward()
    vals = {
        "in.image1": img1.detach(), "in.image2": img2.detach(), "in.audio": aud.detach(), "in.angles": angles,
        "in.scale": torch.tensor(scale, dtype=torch.float64), "in.flip": torch.tensor(float(flip), dtype=torch.float64),
        "in.canvas": torch.tensor(float(canvas), dtype=torch.float64), "in.frames": frames,
        "out.frames2": frames2, "out.total": total.detach(), "out.view1": l1.detach(), "out.view2": l2.detach(),
        "out.equivariance": eq.detach(), "out.target": t_a1.detach(),
        "out.grad_image1": img1.grad.detach(), "out.grad_image2": img2.grad.detach(),
        "out.grad_audio": aud.grad.detach(),
    }
    for k, v in vals.items():
        out[prefix + k] = v


def main():
    out = {}
    case("s05.", 0.5, True, 20220714, out)
    case("s10.", 1.0, False, 20220715, out)
    torch.save(out, os.path.join(sys.argv[1], "ssltie_parity.pt"))


if __name__ == "__main__":
    main()
