#!/usr/bin/python3
"""Speed stand-in for the official SLAVC training pipeline (data loader and training step).

This is a re-derivation from ../shared/docs/reference_spec.md (section numbers below refer to it). It is
NOT the reference repositories' code, and no code was copied from them. scripts/bench_vs_reference.sh uses it
to time the reference's work side by side with avsl on the same files. It therefore does the same work the
reference does: PIL/torchvision image transforms, PyAV audio decoding, the scipy spectrogram, a torch DataLoader
with worker processes, and the fp32 SLAVC step with two torchvision ResNet18s and their EMA copies.

  python3 scripts/bench_reference.py data --root DIR --list FILE [--workers 2] [--batch 32] [--batches 20]
  python3 scripts/bench_reference.py step --root DIR --list FILE [--workers 2] [--batch 16] [--steps 10] [--warmup 2]

The last line printed is `data: <X> samples/s` or `step: <X> samples/s`.
"""
import argparse
import copy
import os
import sys
import time
from fractions import Fraction

import numpy as np
import scipy.io.wavfile
import scipy.signal
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms

try:
    import av  # PyAV: the reference decodes audio with it (§5.1.1)
except ImportError:  # only so that the script still runs; the timings are then not the reference's
    av = None

CLIP_SECONDS = 3.0  # load_spectrogram is always called with dur=3 (§5.1.2)


def window(n, sr):
    """First sample and length of the 3 s window centred on the clip middle (§5.1.2).

    start = max(dur/2 - 1.5, 0) in seconds; in samples we use the exact integer rule of §9.17
    ((n - 3 sr) // 2), which equals the reference whenever n - 3 sr is even."""
    win = int(sr * CLIP_SECONDS)
    start = max((n - win) // 2, 0)
    return start, min(win, n - start)


def load_audio_av(path):
    """PyAV decode of the centre window, resampled to s16p mono at the native rate (§5.1.1-3)."""
    with av.open(path) as container:
        stream = container.streams.audio[0]
        sr = stream.rate
        if stream.duration is not None:
            n = int(Fraction(stream.duration) * stream.time_base * sr)
        else:  # some containers only know the container duration (in av.time_base units)
            n = int(Fraction(container.duration, av.time_base) * sr)
        start, length = window(n, sr)
        # Seek to the window start like the reference, in the stream's own time base so it is exact.
        container.seek(int(Fraction(start, sr) / stream.time_base), stream=stream)
        # The reference keeps the native rate (rate=None): only the s16p/mono conversion runs (mono = channel average).
        resampler = av.AudioResampler(format='s16p', layout='mono', rate=sr)
        chunks, first, decoded = [], None, 0
        for frame in container.decode(stream):
            if first is None:  # where decoding resumed after the seek, in samples
                first = int(frame.pts * frame.time_base * sr) if frame.pts is not None else 0
                if first > start:
                    raise RuntimeError(f'{path}: seek landed at sample {first}, after the window start {start}')
            decoded += frame.samples
            chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
            if first + decoded >= start + length:
                break  # the window is complete: stop decoding, as the reference does
        chunks.extend(f.to_ndarray() for f in resampler.resample(None))  # flush anything buffered
    pcm = np.concatenate(chunks, axis=1) if chunks else np.zeros((1, 0), np.int16)
    offset = start - (first or 0)
    return pcm[:, offset:offset + length], sr


def load_audio_wavfile(path):
    """Fallback without PyAV (WAV only): same window and int16 values for int16 files."""
    sr, x = scipy.io.wavfile.read(path)
    x = x.reshape(len(x), -1)
    start, length = window(len(x), sr)
    # s16 mono downmix: channel average rounded half up, as libswresample does (checked), see §5.1.3.
    mono = np.floor(x[start:start + length].astype(np.float64).mean(1) + 0.5).astype(np.int16)
    return mono[None, :], sr


def spectrogram(path):
    """Log power spectrogram [257, T] as float64, before ToTensor/Normalize (§5.1.3-7)."""
    pcm, sr = (load_audio_av if av is not None else load_audio_wavfile)(path)
    audio = np.clip(pcm / np.iinfo(np.int16).max, -1, 1).mean(0)  # /32767, clip, mono (§5.1.3-4)
    win = int(sr * CLIP_SECONDS)
    if audio.shape[0] < win:  # short clips are tiled, then truncated (§5.1.5)
        audio = np.tile(audio, int(win / max(audio.shape[0], 1)) + 1)
    audio = audio[:win]
    _, _, power = scipy.signal.spectrogram(audio, fs=sr, nperseg=512, noverlap=274)  # other args default (§5.1.6)
    return np.log(power + 1e-7)  # §5.1.7


def read_ids(root, list_file):
    """Training ids (§5.3): wav/jpg basenames present in the folder, intersected with the list, sorted.

    The list may hold bare ids, ids with .wav/.jpg, CSV rows (first column) and CRLF endings (§5.4)."""
    wavs = {f[:-4] for f in os.listdir(os.path.join(root, 'audio')) if f.endswith('.wav')}
    jpgs = {f[:-4] for f in os.listdir(os.path.join(root, 'frames')) if f.endswith('.jpg')}
    wanted = set()
    with open(list_file, encoding='utf-8') as fh:
        for line in fh:
            ident = line.strip().split(',')[0].strip()
            for ext in ('.wav', '.jpg'):
                if ident.endswith(ext):
                    ident = ident[:-len(ext)]
            if ident:
                wanted.add(ident)
    return sorted(wavs & jpgs & wanted)


class FlickrTrain(torch.utils.data.Dataset):
    """Train-mode dataset (§5.1, §5.2). Unlike the reference (§9.13) it does not swallow errors:
    a benchmark must not silently substitute samples."""

    def __init__(self, root, ids):
        self.root, self.ids = root, ids
        self.image_tf = transforms.Compose([  # §5.2 train transforms, in order
            transforms.Resize(int(224 * 1.1), transforms.InterpolationMode.BICUBIC),
            transforms.RandomCrop((224, 224)),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
        # ToTensor on the 2-D float64 array gives [1, 257, T] float64 without /255; Normalize divides by 12 (§5.1.8).
        self.audio_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=[0.0], std=[12.0])])

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        ident = self.ids[i]
        image = Image.open(os.path.join(self.root, 'frames', ident + '.jpg')).convert('RGB')
        spec = spectrogram(os.path.join(self.root, 'audio', ident + '.wav'))
        return self.image_tf(image), self.audio_tf(spec), i


def make_loader(args):
    ids = read_ids(args.root, args.list)
    if len(ids) < args.batch:
        sys.exit(f'error: {len(ids)} usable ids under {args.root} (list {args.list}); '
                 f'need at least --batch {args.batch}')
    # §6: shuffle, drop_last. pin_memory off (CPU). Persistent workers (our choice) keep worker start-up out of the
    # timed epoch wrap-around.
    loader = torch.utils.data.DataLoader(FlickrTrain(args.root, ids), batch_size=args.batch, shuffle=True,
                                         num_workers=args.workers, pin_memory=False, drop_last=True,
                                         persistent_workers=args.workers > 0)
    return loader, len(ids)


def endless(loader):
    """Batches forever, starting a new epoch when one runs out."""
    while True:
        yield from loader


# ---------------------------------------------------------------------------------------------------------------
# SLAVC model (§1.1, §1.3) and loss (§2.2)

def init_weights(module):
    """§1.1 init for the audio net and the heads (not the image backbone); biases keep PyTorch's default."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, mean=1.0, std=0.02)
            nn.init.zeros_(m.bias)


class SLAVC(nn.Module):
    def __init__(self, tau=0.03, dim=512, dropout_img=0.9, dropout_aud=0.0, m_img=0.999, m_aud=0.999):
        super().__init__()
        self.tau, self.m_img, self.m_aud = tau, m_img, m_aud
        # Image encoder: ResNet18 up to layer4 (avgpool/fc = Identity). The reference loads ImageNet weights;
        # weights=None does the same work, and nothing here downloads.
        self.imgnet = torchvision.models.resnet18(weights=None)
        self.imgnet.avgpool, self.imgnet.fc = nn.Identity(), nn.Identity()
        # Audio encoder: ResNet18 with a 1-channel conv1 and a global max pool (§1.1).
        self.audnet = torchvision.models.resnet18(weights=None)
        self.audnet.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.audnet.avgpool, self.audnet.fc = nn.AdaptiveMaxPool2d((1, 1)), nn.Identity()
        self.img_proj1, self.img_proj2 = nn.Conv2d(512, dim, 1), nn.Conv2d(512, dim, 1)
        self.aud_proj1, self.aud_proj2 = nn.Linear(512, dim), nn.Linear(512, dim)
        self.img_dropout, self.aud_dropout = nn.Dropout(dropout_img), nn.Dropout(dropout_aud)
        for m in (self.audnet, self.img_proj1, self.img_proj2, self.aud_proj1, self.aud_proj2):
            init_weights(m)
        # Momentum copies (§1.3): parameters copied, no gradients. The reference copies parameters only; at
        # construction the buffers are still the defaults here, so a deep copy gives the same state.
        self.pairs_img, self.pairs_aud = [], []
        for name in ('imgnet', 'img_proj1', 'img_proj2', 'audnet', 'aud_proj1', 'aud_proj2'):
            target = copy.deepcopy(getattr(self, name))
            for p in target.parameters():
                p.requires_grad_(False)
            setattr(self, 'momentum_' + name, target)
            (self.pairs_img if name.startswith('img') else self.pairs_aud).append((getattr(self, name), target))

    @torch.no_grad()
    def update_momentum(self):
        """θ_m ← m θ_m + (1 - m) θ on parameters only, never buffers (§1.3, §9.6)."""
        for pairs, m in ((self.pairs_img, self.m_img), (self.pairs_aud, self.m_aud)):
            for online, target in pairs:
                for p, q in zip(online.parameters(), target.parameters()):
                    q.mul_(m).add_(p.detach(), alpha=1 - m)

    def image_features(self, net, proj1, proj2, image):
        x = self.img_dropout(net(image).unflatten(1, (512, 7, 7)))  # dropout on the 512x7x7 map, before both heads
        return F.normalize(proj1(x), dim=1), F.normalize(proj2(x), dim=1)

    def audio_features(self, net, proj1, proj2, spec):
        x = self.aud_dropout(net(spec))
        return F.normalize(proj1(x), dim=1), F.normalize(proj2(x), dim=1)

    def pair_logits(self, v1, v2, a1, a2):
        """log Σ_k softmax_m(s1) softmax_k(s2), computed stably in log space (§2.2)."""
        s1 = torch.einsum('nck,mc->nmk', v1.flatten(2), a1) / self.tau
        s2 = torch.einsum('nck,mc->nmk', v2.flatten(2), a2) / self.tau
        return torch.logsumexp(F.log_softmax(s1, dim=1) + F.log_softmax(s2, dim=2), dim=2)

    def forward(self, image, spec):
        self.update_momentum()  # inside forward, before the targets are computed (§1.3, §9.6)
        v1, v2 = self.image_features(self.imgnet, self.img_proj1, self.img_proj2, image)
        a1, a2 = self.audio_features(self.audnet, self.aud_proj1, self.aud_proj2, spec)
        with torch.no_grad():  # targets: train-mode BN and an independent dropout mask (§1.3)
            v1t, v2t = self.image_features(self.momentum_imgnet, self.momentum_img_proj1,
                                           self.momentum_img_proj2, image)
            a1t, a2t = self.audio_features(self.momentum_audnet, self.momentum_aud_proj1,
                                           self.momentum_aud_proj2, spec)
        i2a = self.pair_logits(v1, v2, a1t, a2t)  # gradient into the image side
        a2i = self.pair_logits(v1t, v2t, a1, a2)  # gradient into the audio side
        labels = torch.arange(image.shape[0])
        loss = F.cross_entropy(a2i, labels) + F.cross_entropy(i2a, labels)  # weights 1 and 1, no transposed term
        with torch.no_grad():  # the map the reference also returns: (Savl1 + Savl2) / 2 (§1.3)
            savl = (torch.einsum('nchw,nc->nhw', v1, a1) + torch.einsum('nchw,nc->nhw', v2, a2)) / (2 * self.tau)
        return loss, savl


# ---------------------------------------------------------------------------------------------------------------

def header(args, mode, n_ids):
    print(f'reference: SLAVC pipeline re-derived from reference_spec.md (not the reference code), mode {mode}')
    print(f'workers: {args.workers}')
    print(f'batch size: {args.batch}')
    print(f'threads: {args.threads}')
    print(f'torch: {torch.__version__}, torchvision: {torchvision.__version__}, '
          f'av: {av.__version__ if av is not None else "missing (scipy.io.wavfile fallback)"}')
    print(f'samples: {n_ids} ({args.list})', flush=True)


def run_data(args):
    loader, n_ids = make_loader(args)
    header(args, 'data', n_ids)
    batches = endless(loader)
    image, spec, _ = next(batches)  # warm-up batch: worker start-up, not timed
    assert image.shape == (args.batch, 3, 224, 224), image.shape
    assert spec.dim() == 4 and spec.shape[:2] == (args.batch, 1), spec.shape
    # Timed from the arrival of the warm-up batch. The workers have then already queued up to
    # 2 x workers batches (DataLoader prefetch), so use --batches well above that for a steady-state rate.
    t0 = time.perf_counter()
    for _ in range(args.batches):
        next(batches)
    elapsed = time.perf_counter() - t0
    print(f'data: {args.batches * args.batch / elapsed:.1f} samples/s', flush=True)


def run_step(args):
    loader, n_ids = make_loader(args)
    header(args, 'step', n_ids)
    print('model: SLAVC, 2x ResNet18 + EMA copies, tau 0.03, dropout img 0.9 aud 0, m 0.999, Adam lr 1e-4 wd 0, fp32')
    model = SLAVC()
    model.train()
    # Adam over the trainable parameters only; the momentum nets are excluded (§6). Constant lr, no clipping.
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    batches = endless(loader)

    def step():
        image, spec, _ = next(batches)
        loss, _ = model(image.float(), spec.float())  # the spectrogram is float64 until the model call (§5.1.8)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()  # the reference logs the loss every step, which also synchronizes

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    elapsed = time.perf_counter() - t0
    print(f'last loss: {loss:.4f}')
    print(f'step: {args.steps * args.batch / elapsed:.1f} samples/s', flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='mode', required=True)
    for mode, batch in (('data', 32), ('step', 16)):
        p = sub.add_parser(mode)
        p.add_argument('--root', required=True, help='folder with frames/<id>.jpg and audio/<id>.wav')
        p.add_argument('--list', required=True, help='text file with one id per line')
        p.add_argument('--workers', type=int, default=2)
        p.add_argument('--batch', type=int, default=batch)
        p.add_argument('--threads', type=int, default=2)
        if mode == 'data':
            p.add_argument('--batches', type=int, default=20, help='timed batches, after one warm-up batch')
        else:
            p.add_argument('--steps', type=int, default=10, help='timed training steps')
            p.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    args = parser.parse_args()
    if av is None:
        print('warning: PyAV (python3-av) is missing; decoding WAV with scipy.io.wavfile instead, '
              'so the audio timings are not the reference\'s', file=sys.stderr)
    torch.set_num_threads(args.threads)
    (run_data if args.mode == 'data' else run_step)(args)


if __name__ == '__main__':
    main()
