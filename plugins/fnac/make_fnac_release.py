#!/usr/bin/env python3
"""Writes a checkpoint in the layout FNAC's official train.py releases, and the official test-time maps.

Usage: /usr/bin/python3 make_fnac_release.py OUT_DIR    (exit code 3 without torch/torchvision: the test skips)
Run by fnac_test (ReleasedCheckpointParity), which loads the file through recipes/fnac/_released_weights.toml.

The network is FNAC's model.py (OpenNLPLab/FNAC_AVL @0a0ca78), re-derived from its description: torchvision
ResNet18s (image: avgpool = fc = Identity, the 512x7x7 map; audio: a 1-channel stem and a global max pool), image and
audio dropout modules, a 1x1 conv and a linear head into 512-d, L2-normalized; randomly initialised with a fixed seed
and randomised BatchNorm statistics. The layout is what train.py writes under DistributedDataParallel: {'model':
state_dict with 'module.' prefixes, 'optimizer': Adam's state_dict, 'epoch', 'best_cIoU', 'best_Auc'}. The test-time
map is test.py's: the diagonal S[n,n] of the cosine / tau maps, bilinear with align_corners=True to 224x224,
per-sample min-max. FNAC has no confidence.

OUT_DIR/best.pth  the checkpoint
OUT_DIR/io.pt     image [2,3,224,224], audio [2,1,257,300], maps [2,224,224] (min-max normalized)
"""
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchvision
    from torch import nn
except ImportError as e:
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


class FNAC(nn.Module):
    def __init__(self, tau, dim, dropout_img, dropout_aud):
        super().__init__()
        self.tau = tau
        self.imgnet = torchvision.models.resnet18()
        self.imgnet.avgpool = nn.Identity()
        self.imgnet.fc = nn.Identity()
        self.img_proj = nn.Conv2d(512, dim, kernel_size=(1, 1))
        self.img_dropout = nn.Dropout(p=dropout_img)
        self.audnet = torchvision.models.resnet18()
        self.audnet.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.audnet.avgpool = nn.AdaptiveMaxPool2d((1, 1))
        self.audnet.fc = nn.Identity()
        self.aud_proj = nn.Linear(512, dim)
        self.aud_dropout = nn.Dropout(p=dropout_aud)

    def forward(self, image, audio):
        h, w = image.shape[2] // 32, image.shape[3] // 32
        img = self.img_proj(self.img_dropout(self.imgnet(image).unflatten(1, (512, h, w))))
        img = F.normalize(img, dim=1)
        aud = self.aud_proj(self.aud_dropout(self.audnet(audio)))
        aud = F.normalize(aud, dim=1)
        b = img.shape[0]
        maps = torch.einsum('nchw,mc->nmhw', img, aud) / self.tau
        return maps[torch.arange(b), torch.arange(b)]


def randomise(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.1)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)


def normalize_img(v):
    lo, hi = v.min(), v.max()
    return v if hi == lo else (v - lo) / (hi - lo)


def main(out_dir):
    torch.manual_seed(2023)
    model = FNAC(tau=0.03, dim=512, dropout_img=0.9, dropout_aud=0.0)
    randomise(model)
    # A stepped optimizer, as in a file saved after training; zero gradients leave the weights as they are.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    ckpt = {'model': torch.nn.DataParallel(model).state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': 30,
            'best_cIoU': np.float64(0.395), 'best_Auc': np.float64(0.3966)}
    torch.save(ckpt, os.path.join(out_dir, 'best.pth'))
    image = torch.randn(2, 3, 224, 224)
    audio = torch.randn(2, 1, 257, 300)
    model.eval()
    with torch.no_grad():
        savl = model(image, audio)
    heat = F.interpolate(savl.unsqueeze(1), size=(224, 224), mode='bilinear', align_corners=True)[:, 0]
    maps = torch.stack([normalize_img(heat[i]) for i in range(heat.shape[0])])
    torch.save({'image': image, 'audio': audio, 'maps': maps.contiguous()}, os.path.join(out_dir, 'io.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
