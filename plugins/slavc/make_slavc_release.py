"""Writes a checkpoint in the layout SLAVC's official train.py releases, and the official test-time maps.

Usage: /usr/bin/python3 make_slavc_release.py OUT_DIR    (exit code 3 without torch/torchvision: the test skips)
Run by slavc_parity_test (ReleasedCheckpointParity), which loads the file through recipes/slavc/_released_weights.toml.

The network is make_slavc_parity.py's SLAVC (re-derived from the reference spec) with the released encoders:
torchvision ResNet18s (image: avgpool = fc = Identity, the 7x7 layer4 map; audio: a 1-channel conv1, a global max
pool, fc = Identity), dim 512, online and momentum branches with their own BatchNorm statistics (randomised here),
a fixed seed. The layout is what train.py writes under DistributedDataParallel: {'model': state_dict with 'module.'
prefixes, 'optimizer', 'epoch', 'best_Precision', 'best_AP', 'best_F1'}. The test-time map is test.py's without
--use_mom_eval (the README's command): the online branch's Savl, bicubic with align_corners=True to 224x224, mapped
from [-1/tau, 1/tau] to [0, 1]; the confidence is the mean of its top quarter; the prediction is its min-max.

OUT_DIR/latest.pth  the checkpoint
OUT_DIR/io.pt       image [2,3,224,224], audio [2,1,257,300], maps [2,224,224] (min-max), confidence [2]
"""
import os
import sys

try:
    import numpy as np
    import torch
    from torch import nn
    import torch.nn.functional as F
    import torchvision
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_slavc_parity import SLAVC, confidence
except ImportError as e:
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


class ReleasedResNet18(torchvision.models.resnet.ResNet):
    """torchvision's resnet18 as build_imgnet / build_audnet configure it (same parameter names)."""

    def __init__(self, audio):
        super().__init__(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2])
        self.audio = audio
        if audio:
            self.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.fc = nn.Identity()

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        # image: avgpool = Identity, flattened then unflattened to (512, 7, 7) = the layer4 map; audio: max pool.
        return torch.flatten(F.adaptive_max_pool2d(x, 1), 1) if self.audio else x


class ReleasedSLAVC(SLAVC):
    def build_imgnet(self):
        return ReleasedResNet18(audio=False)

    def build_audnet(self):
        return ReleasedResNet18(audio=True)


def normalize_img(v):
    lo, hi = v.min(), v.max()
    return v if hi == lo else (v - lo) / (hi - lo)


def main(out_dir):
    torch.manual_seed(2025)
    tau = 0.03
    # w = 64: 8 * w = 512 channels into the heads, as the released model.
    model = ReleasedSLAVC(tau, 512, 0.9, 0.0, 0.999, 0.999, False, w=64)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.1)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    # A stepped optimizer (zero gradients: Adam's update is 0, the weights stay those of the maps below) and
    # DataParallel's state_dict ('module.' keys with _metadata), as in a file DDP training saved.
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-4)
    for p in trainable:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    ckpt = {'model': nn.DataParallel(model).state_dict(),
            'optimizer': optimizer.state_dict(), 'epoch': 20, 'best_Precision': np.float64(0.39),
            'best_AP': np.float64(0.51), 'best_F1': np.float64(0.58)}
    torch.save(ckpt, os.path.join(out_dir, 'latest.pth'))
    image = torch.randn(2, 3, 224, 224)
    audio = torch.randn(2, 1, 257, 300)
    model.eval()
    with torch.no_grad():
        _, savl = model(image, audio, mode='test')
    heat = F.interpolate(savl.unsqueeze(1), size=(224, 224), mode='bicubic', align_corners=True)[:, 0]
    scores = (heat - (-1. / tau)) / (1. / tau - (-1. / tau))
    maps = torch.stack([normalize_img(scores[i]) for i in range(scores.shape[0])])
    torch.save({'image': image, 'audio': audio, 'maps': maps.contiguous(), 'confidence': confidence(savl, tau)},
               os.path.join(out_dir, 'io.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
