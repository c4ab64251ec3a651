"""Writes a checkpoint in the layout of LVS's released weights, and the official test-time maps.

Usage: /usr/bin/python3 make_lvs_release.py OUT_DIR    (exit code 3 without torch: the test skips)
Run by lvs_test (ReleasedCheckpointParity), which loads the file through recipes/lvs/_released_weights.toml.

The network is AVENet re-derived from the reference spec (baselines_spec.md §0.1, §4.1): two "LVS ResNet18"s
(torchvision's names, three stems conv1 [64,3,7,7] / conv1_a [64,1,7,7] / conv1_flow [64,6,7,7] of which vision
uses conv1 and audio conv1_a, layer4 with stride 1, an unused fc Linear(512, 1000)), every Conv2d kaiming_normal
(fan_out) and BatchNorm weight N(1, 0.02) as AVENet.__init__, then randomised BatchNorm statistics, a fixed seed.
The layout is what test.py loads: {'model_state_dict': nn.DataParallel keys ('module.' prefixes)}, in the legacy
torch.save format of PyTorch 1.3 (_use_new_zipfile_serialization=False). The test-time map is test.py's: the
cosine map A (14x14 at 224) resized to 224x224 by cv2 INTER_LINEAR (half-pixel centres: torch's bilinear with
align_corners=False), then 1 - normalize_img(-A) = per-sample min-max.

OUT_DIR/lvs_flickr.pth.tar  the checkpoint
OUT_DIR/io.pt               image [2,3,224,224], audio [2,1,257,300], maps [2,224,224] (min-max normalized)
"""
import os
import sys

try:
    import torch
    from torch import nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


class LvsResNet18(torchvision.models.resnet.ResNet):
    """models/base_models.py::ResNet as the spec describes it: torchvision's names plus conv1_a and conv1_flow."""

    def __init__(self, modal):
        super().__init__(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2])
        self.modal = modal
        self.conv1_a = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.conv1_flow = nn.Conv2d(6, 64, kernel_size=7, stride=2, padding=3, bias=False)
        # layer4 with stride 1 and no dilation: the first block's conv1 and its downsample.
        self.layer4[0].conv1.stride = (1, 1)
        self.layer4[0].downsample[0].stride = (1, 1)

    def _forward_impl(self, x):
        x = self.conv1_a(x) if self.modal == 'audio' else self.conv1(x)
        x = self.maxpool(self.relu(self.bn1(x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class AVENet(nn.Module):
    def __init__(self):
        super().__init__()
        self.imgnet = LvsResNet18('vision')
        self.audnet = LvsResNet18('audio')
        self.avgpool = nn.AdaptiveMaxPool2d((1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, mean=1, std=0.02)
                nn.init.constant_(m.bias, 0)

    def forward(self, image, audio):
        img = F.normalize(self.imgnet(image), dim=1)
        aud = F.normalize(torch.flatten(self.avgpool(self.audnet(audio)), 1), dim=1)
        return torch.einsum('ncqa,nchw->nqa', img, aud.unsqueeze(2).unsqueeze(3))  # A [B,14,14]


def normalize_img(v):
    lo, hi = v.min(), v.max()
    return v if hi == lo else (v - lo) / (hi - lo)


def main(out_dir):
    torch.manual_seed(2026)
    model = AVENet()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.1)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    # test.py's model is nn.DataParallel(AVENet): 'module.' keys, with the _metadata such a dict carries.
    state = nn.DataParallel(model).state_dict()
    torch.save({'model_state_dict': state}, os.path.join(out_dir, 'lvs_flickr.pth.tar'),
               _use_new_zipfile_serialization=False)
    image = torch.randn(2, 3, 224, 224)
    audio = torch.randn(2, 1, 257, 300)
    model.eval()
    with torch.no_grad():
        heat = model(image, audio)
    heat = F.interpolate(heat.unsqueeze(1), size=(224, 224), mode='bilinear', align_corners=False)[:, 0]
    maps = torch.stack([1 - normalize_img(-heat[i]) for i in range(heat.shape[0])])
    torch.save({'image': image, 'audio': audio, 'maps': maps.contiguous()}, os.path.join(out_dir, 'io.pt'))


if __name__ == '__main__':
    main(sys.argv[1])
