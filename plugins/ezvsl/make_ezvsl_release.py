"""Writes a checkpoint in the layout EZ-VSL's official train.py releases, and the official test-time maps.

Usage: /usr/bin/python3 make_ezvsl_release.py OUT_DIR    (exit code 3 without torch/torchvision: the test skips)
Run by ezvsl_test (ReleasedCheckpointParity), which loads the file through recipes/ezvsl/_released_weights.toml.

The network is make_ezvsl_parity.py's EZVSL (re-derived from the reference spec: torchvision ResNet18s, 512-d heads),
randomly initialised with a fixed seed and randomised BatchNorm statistics. The layout is what train.py writes under
DistributedDataParallel: {'model': state_dict with 'module.' prefixes, 'optimizer': Adam's state_dict, 'epoch',
'best_cIoU', 'best_Auc' (numpy float64)}. The test-time map is test.py's: the cosine map S[n,n] of 7x7 at 224,
bilinear with align_corners=True to 224x224, per-sample min-max (utils.normalize_img). EZ-VSL has no confidence.

OUT_DIR/best.pth  the checkpoint
OUT_DIR/io.pt     image [2,3,224,224], audio [2,1,257,300], maps [2,224,224] (min-max normalized)
"""
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_ezvsl_parity import EZVSL, randomise_bn
except ImportError as e:
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


def normalize_img(v):
    lo, hi = v.min(), v.max()
    return v if hi == lo else (v - lo) / (hi - lo)


def main(out_dir):
    torch.manual_seed(2024)
    model = EZVSL(tau=0.03, dim=512)
    randomise_bn(model)
    # A stepped optimizer, as in a file saved after training: its state tensors sit next to the model's. Zero
    # gradients leave Adam's update at 0, so the weights stay those of the maps below.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    # DataParallel's state_dict: 'module.' keys and the _metadata a wrapped model's dict carries, as DDP's.
    ckpt = {'model': torch.nn.DataParallel(model).state_dict(),
            'optimizer': optimizer.state_dict(), 'epoch': 21, 'best_cIoU': np.float64(0.3125),
            'best_Auc': np.float64(0.28)}
    torch.save(ckpt, os.path.join(out_dir, 'best.pth'))
    image = torch.randn(2, 3, 224, 224)
    audio = torch.randn(2, 1, 257, 300)
    model.eval()
    with torch.no_grad():
        _, savl, _ = model(image, audio)  # S[n,n] / tau: min-max removes the scale
    heat = F.interpolate(savl.unsqueeze(1), size=(224, 224), mode='bilinear', align_corners=True)[:, 0]
    maps = torch.stack([normalize_img(heat[i]) for i in range(heat.shape[0])])
    torch.save({'image': image, 'audio': audio, 'maps': maps.contiguous()}, os.path.join(out_dir, 'io.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
