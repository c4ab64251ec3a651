#!/usr/bin/env python3
"""Reference SLAVC forward, loss and training steps for slavc_test's parity checks.

Builds stoneMo/SLAVC's model (heads, EMA, loss and confidence of model.py / test.py at 05b429c) with small
torchvision-style ResNet encoders (same parameter names as torchvision and as core.ResNet18Image/Audio, width 4,
one BasicBlock per stage) instead of the 11M-parameter ResNet18s, runs it in eval mode (online and momentum
maps, test.py's confidence) and for three training steps (the reference's forward with its in-forward EMA
update, Adam), and saves everything with torch.save as one flat dict:
  model.<name>        the initial state_dict (online, momentum, BN buffers)
  in.image, in.audio  the inputs
  out.*               maps, confidences, losses, final weights
Usage: make_slavc_parity.py OUT_DIR DROPOUT_IMG   (exit code 3 when torch is missing)
"""
import os
import sys

try:
    import numpy as np
    import torch
    from torch import nn
    import torch.nn.functional as F
except ImportError:
    sys.exit(3)


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class SmallResNet(nn.Module):
    """torchvision's ResNet layout (names included) with width w and one block per stage."""

    def __init__(self, in_channels, w, layer4_stride, pool):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(w, w, 1))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2))
        self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, layer4_stride))
        self.pool = pool
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):  # non-trivial affine BN, so a mis-loaded tensor shows
                nn.init.normal_(m.weight, 1.0, 0.2)
                nn.init.normal_(m.bias, 0.0, 0.2)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if self.pool:
            x = torch.flatten(F.adaptive_max_pool2d(x, 1), 1)  # AdaptiveMaxPool2d((1,1)) + fc = Identity
        return x


class SLAVC(nn.Module):
    """model.py's SLAVC, with build_imgnet / build_audnet returning SmallResNet."""

    def __init__(self, tau, dim, dropout_img, dropout_aud, momentum_img, momentum_aud, use_mom_eval, w):
        super().__init__()
        self.tau = tau
        self.w = w
        self.imgnet = self.build_imgnet()
        self.img_dropout = nn.Dropout(p=dropout_img)
        self.img_proj1 = nn.Conv2d(8 * w, dim, kernel_size=(1, 1))
        self.img_proj2 = nn.Conv2d(8 * w, dim, kernel_size=(1, 1))
        self.audnet = self.build_audnet()
        self.aud_proj1 = nn.Linear(8 * w, dim)
        self.aud_proj2 = nn.Linear(8 * w, dim)
        self.aud_dropout = nn.Dropout(p=dropout_aud)
        for net in [self.audnet, self.img_proj1, self.aud_proj1, self.img_proj2, self.aud_proj2]:
            for m in net.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01)
        self.momentum_imgnet = self.build_imgnet()
        self.momentum_img_proj1 = nn.Conv2d(8 * w, dim, kernel_size=(1, 1))
        self.momentum_img_proj2 = nn.Conv2d(8 * w, dim, kernel_size=(1, 1))
        self.momentum_audnet = self.build_audnet()
        self.momentum_aud_proj1 = nn.Linear(8 * w, dim)
        self.momentum_aud_proj2 = nn.Linear(8 * w, dim)
        self.m_img = momentum_img
        self.m_aud = momentum_aud
        self.use_mom_eval = use_mom_eval
        for b, m in self.pairs():
            self.initialize_momentum_encoder(b, m)

    def pairs(self):
        return [(self.imgnet, self.momentum_imgnet), (self.img_proj1, self.momentum_img_proj1),
                (self.img_proj2, self.momentum_img_proj2), (self.audnet, self.momentum_audnet),
                (self.aud_proj1, self.momentum_aud_proj1), (self.aud_proj2, self.momentum_aud_proj2)]

    @torch.no_grad()
    def initialize_momentum_encoder(self, base_encoder, momentum_encoder):
        for param_b, param_m in zip(base_encoder.parameters(), momentum_encoder.parameters()):
            param_m.data.copy_(param_b.data)
            param_m.requires_grad = False

    @torch.no_grad()
    def _update_momentum_encoder(self, m, base_encoder, momentum_encoder):
        for param_b, param_m in zip(base_encoder.parameters(), momentum_encoder.parameters()):
            param_m.data = param_m.data * m + param_b.data * (1. - m)

    def build_imgnet(self):
        return SmallResNet(3, self.w, layer4_stride=1, pool=False)

    def build_audnet(self):
        return SmallResNet(1, self.w, layer4_stride=2, pool=True)

    def forward_img_features(self, imgnet, improj1, improj2, image):
        img = imgnet(image)
        img = self.img_dropout(img)
        img1 = nn.functional.normalize(improj1(img), dim=1)
        img2 = nn.functional.normalize(improj2(img), dim=1)
        return img1, img2

    def forward_aud_features(self, audnet, audproj1, audproj2, audio):
        aud = audnet(audio)
        aud = self.aud_dropout(aud)
        aud1 = nn.functional.normalize(audproj1(aud), dim=1)
        aud2 = nn.functional.normalize(audproj2(aud), dim=1)
        return aud1, aud2

    def forward(self, image, audio, mode='train'):
        img1, img2 = self.forward_img_features(self.imgnet, self.img_proj1, self.img_proj2, image)
        aud1, aud2 = self.forward_aud_features(self.audnet, self.aud_proj1, self.aud_proj2, audio)
        with torch.no_grad():
            if mode == 'train':
                ms = [self.m_img] * 3 + [self.m_aud] * 3
                for m, (b, t) in zip(ms, self.pairs()):
                    self._update_momentum_encoder(m, b, t)
            img1_trg, img2_trg = self.forward_img_features(self.momentum_imgnet, self.momentum_img_proj1,
                                                           self.momentum_img_proj2, image)
            aud1_trg, aud2_trg = self.forward_aud_features(self.momentum_audnet, self.momentum_aud_proj1,
                                                           self.momentum_aud_proj2, audio)
        i2a_1 = F.softmax(torch.einsum('nchw,mc->nmhw', img1, aud1_trg).flatten(-2, -1) / self.tau, dim=1)
        i2a_2 = F.softmax(torch.einsum('nchw,mc->nmhw', img2, aud2_trg).flatten(-2, -1) / self.tau, dim=2)
        i2a = torch.log((i2a_1 * i2a_2).sum(2))
        a2i_1 = F.softmax(torch.einsum('nchw,mc->nmhw', img1_trg, aud1).flatten(-2, -1) / self.tau, dim=1)
        a2i_2 = F.softmax(torch.einsum('nchw,mc->nmhw', img2_trg, aud2).flatten(-2, -1) / self.tau, dim=2)
        a2i = torch.log((a2i_1 * a2i_2).sum(2))
        labels = torch.arange(img1.shape[0]).long()
        loss = F.cross_entropy(a2i, labels) + F.cross_entropy(i2a, labels)
        with torch.no_grad():
            if self.use_mom_eval:
                Savl1 = torch.einsum('nchw,nc->nhw', img1_trg, aud1_trg) / self.tau
                Savl2 = torch.einsum('nchw,nc->nhw', img2_trg, aud2_trg) / self.tau
            else:
                Savl1 = torch.einsum('nchw,nc->nhw', img1, aud1) / self.tau
                Savl2 = torch.einsum('nchw,nc->nhw', img2, aud2) / self.tau
            Savl = (Savl1 + Savl2) / 2
        return loss, Savl


def confidence(savl, tau):
    """test.py: bicubic (align_corners=True) to 224, fixed range [-1/tau, 1/tau] -> [0,1], top quarter mean."""
    heat = F.interpolate(savl.unsqueeze(1), size=(224, 224), mode='bicubic', align_corners=True).numpy()
    out = []
    for i in range(heat.shape[0]):
        n = heat[i, 0].size
        scores = (heat[i, 0] - (-1. / tau)) / (1. / tau - (-1. / tau))
        out.append(np.sort(scores.flatten())[-n // 4:].mean())
    return torch.tensor(np.array(out, dtype=np.float64))


def maps(model, image, audio, momentum):
    model.eval()
    model.use_mom_eval = momentum
    with torch.no_grad():
        loss, savl = model(image, audio, mode='test')
    model.use_mom_eval = False
    return loss, savl


def main():
    out_dir, dropout_img = sys.argv[1], float(sys.argv[2])
    torch.manual_seed(0)
    tau = 0.03
    model = SLAVC(tau, 16, dropout_img, 0.0, 0.9, 0.8, False, w=4)
    image = torch.randn(4, 3, 64, 64)
    audio = torch.randn(4, 1, 32, 24)
    out = {'model.' + k: v.clone() for k, v in model.state_dict().items()}
    out['in.image'] = image
    out['in.audio'] = audio

    loss, savl = maps(model, image, audio, False)
    out['out.eval_loss'] = loss
    out['out.map_online'] = savl
    out['out.conf_online'] = confidence(savl, tau)
    _, savl = maps(model, image, audio, True)
    out['out.map_momentum'] = savl

    model.train()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for step in range(3):
        torch.manual_seed(100 + step)  # the C++ side seeds identically: same dropout masks
        loss, _ = model(image, audio, mode='train')
        opt.zero_grad()
        loss.backward()
        opt.step()
        out['out.train_loss%d' % step] = loss.detach()
    # The reference folds the last optimizer step into the EMA only at the next forward; avsl does it right
    # after the step (AfterOptimizerStep). One more update makes the two states comparable.
    with torch.no_grad():
        ms = [model.m_img] * 3 + [model.m_aud] * 3
        for m, (b, t) in zip(ms, model.pairs()):
            model._update_momentum_encoder(m, b, t)
    for k, v in model.state_dict().items():
        out['out.final.' + k] = v.clone()
    _, savl = maps(model, image, audio, False)
    out['out.map_online_after'] = savl
    _, savl = maps(model, image, audio, True)
    out['out.map_momentum_after'] = savl
    torch.save(out, os.path.join(out_dir, 'slavc_parity.pt'))


if __name__ == '__main__':
    main()
