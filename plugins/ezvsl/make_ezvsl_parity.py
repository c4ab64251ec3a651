"""Writes the PyTorch side of the EZ-VSL parity test (run by plugins/ezvsl/ezvsl_test.cc).

Usage: /usr/bin/python3 make_ezvsl_parity.py OUT_DIR
Exit code 3 when torch/torchvision are not importable (the C++ test then skips).

The model below is rebuilt from EZ-VSL's model.py (encoders, head, max_xmil_loss; see README.md), with
the reference repository's module names (imgnet, audnet, img_proj, aud_proj) so the C++ side also exercises the
key map that imports a released EZ-VSL checkpoint. Full-size ResNet18 encoders (width 64, dim 512) at small
inputs keep it fast: a 96x128 image gives a 3x4 layer4 map, a 1x65x40 spectrogram a pooled 512-d vector.

OUT_DIR/weights.pt  torch.save(dict(model.state_dict())) with randomised BN affine parameters and running
                    statistics (so eval-mode BN is not close to the identity and buffer loading matters).
OUT_DIR/io.pt       torch.save of a plain dict: image [4,3,96,128], audio [4,1,65,40], maps_eval [4,3,4]
                    (S[n,n] in eval mode), then in train mode (batch statistics): loss_train [1]
                    (max_xmil_loss) and maps_train [4,3,4].
"""
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # the C++ test skips on exit code 3
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


class EZVSL(nn.Module):
    def __init__(self, tau, dim):
        super().__init__()
        self.tau = tau
        # Image: torchvision resnet18 with avgpool = fc = Identity; forward flattens, the head unflattens.
        self.imgnet = torchvision.models.resnet18()
        self.imgnet.avgpool = nn.Identity()
        self.imgnet.fc = nn.Identity()
        self.img_proj = nn.Conv2d(512, dim, kernel_size=(1, 1))
        # Audio: resnet18 with a 1-channel stem and a global max pool.
        self.audnet = torchvision.models.resnet18()
        self.audnet.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.audnet.avgpool = nn.AdaptiveMaxPool2d((1, 1))
        self.audnet.fc = nn.Identity()
        self.aud_proj = nn.Linear(512, dim)
        # Reference init of the audio net and the heads (model.py; the image backbone keeps its weights).
        for net in [self.audnet, self.img_proj, self.aud_proj]:
            for m in net.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01)
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.normal_(m.weight, mean=1, std=0.02)
                    nn.init.constant_(m.bias, 0)

    def max_xmil_loss(self, img, aud):
        B = img.shape[0]
        Slogits = torch.einsum('nchw,mc->nmhw', img, aud) / self.tau
        logits = Slogits.flatten(-2, -1).max(dim=-1)[0]
        labels = torch.arange(B).long().to(img.device)
        loss = F.cross_entropy(logits, labels) + F.cross_entropy(logits.permute(1, 0), labels)
        return loss, Slogits, logits

    def forward(self, image, audio):
        feat = self.imgnet(image)
        h, w = image.shape[2] // 32, image.shape[3] // 32
        img = self.img_proj(feat.unflatten(1, (512, h, w)))
        img = F.normalize(img, dim=1)
        aud = self.aud_proj(self.audnet(audio))
        aud = F.normalize(aud, dim=1)
        loss, Slogits, logits = self.max_xmil_loss(img, aud)
        B = img.shape[0]
        Savl = Slogits[torch.arange(B), torch.arange(B)]
        return loss, Savl, logits


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.1)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)


def main(out_dir):
    torch.manual_seed(4321)
    model = EZVSL(tau=0.03, dim=512)
    randomise_bn(model)
    torch.save(dict(model.state_dict()), os.path.join(out_dir, "weights.pt"))
    image = torch.randn(4, 3, 96, 128)
    audio = torch.randn(4, 1, 65, 40)
    model.eval()
    with torch.no_grad():
        _, maps_eval, _ = model(image, audio)
    model.train()
    with torch.no_grad():
        loss_train, maps_train, _ = model(image, audio)
    torch.save({"image": image, "audio": audio, "maps_eval": maps_eval.contiguous(),
                "loss_train": loss_train.reshape(1), "maps_train": maps_train.contiguous()},
               os.path.join(out_dir, "io.pt"))


if __name__ == "__main__":
    main(sys.argv[1])
