"""Writes the PyTorch side of the ResNet18 parity tests (run by tests/models/encoder_parity_test.cc).

Usage: /usr/bin/python3 make_resnet_parity.py OUT_DIR
Exit code 3 when torch/torchvision are not importable (the C++ test then skips).

OUT_DIR/keys.txt      torchvision.models.resnet18().state_dict() keys, one per line, in order.
OUT_DIR/parity.pt     torch.save of a *plain* dict of tensors (LibTorch 1.13's pickle_load cannot read an
                      OrderedDict): 'img.<key>' = a torchvision resnet18 state_dict with randomised BN
                      affine/running stats (so eval-mode BN is not the identity and buffer loading is
                      exercised); 'aud.<key>' = the EZ-VSL/SLAVC audio net's state_dict; plus inputs and
                      reference outputs of the three variants, all in eval mode.
OUT_DIR/resnet18_state_dict.pth
                      torch.save(img.state_dict()) of the same image net: an OrderedDict with _metadata,
                      like torchvision's own weight files, read by avsl's checkpoint importer.
"""
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torchvision
except ImportError as e:  # the C++ test skips on exit code 3
    print("python torch/torchvision unavailable: %s" % e)
    sys.exit(3)


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.1)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)


def main(out_dir):
    torch.manual_seed(1234)
    with open(os.path.join(out_dir, "keys.txt"), "w") as f:
        f.write("\n".join(torchvision.models.resnet18().state_dict().keys()) + "\n")

    out = {}
    img = torchvision.models.resnet18()
    randomise_bn(img)
    img.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        out["img_logits"] = img(x)
        body = nn.Sequential(img.conv1, img.bn1, img.relu, img.maxpool, img.layer1, img.layer2, img.layer3,
                             img.layer4)
        out["img_map7"] = body(x)
        # LVS-family variant (LVS models/base_models.py::ResNet): layer4 stride 1, no dilation, same weights.
        img.layer4[0].conv1.stride = (1, 1)
        img.layer4[0].downsample[0].stride = (1, 1)
        out["img_map14"] = body(x)
    out["img_input"] = x
    torch.save(img.state_dict(), os.path.join(out_dir, "resnet18_state_dict.pth"))
    for k, v in img.state_dict().items():
        out["img." + k] = v

    # EZ-VSL model.py::EZVSL.__init__ / SLAVC build_audnet, including its weight init loop.
    aud = torchvision.models.resnet18()
    aud.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    aud.avgpool = nn.AdaptiveMaxPool2d((1, 1))
    aud.fc = nn.Identity()
    for m in aud.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, mean=1, std=0.02)
            nn.init.constant_(m.bias, 0)
    randomise_bn(aud)
    aud.eval()
    a = torch.randn(2, 1, 257, 200)
    with torch.no_grad():
        out["aud_vec"] = aud(a)
    out["aud_input"] = a
    for k, v in aud.state_dict().items():
        out["aud." + k] = v

    torch.save(out, os.path.join(out_dir, "parity.pt"))


if __name__ == "__main__":
    main(sys.argv[1])
