"""MI-GAN generator (Sargsyan et al., ICCV 2023): a small mobile inpainting GAN, 256 and 512 variants.

Written from the paper and ``../shared/model_specs/migan_{256,512}.json``. An encoder of depthwise-
separable convolutions feeds skip features into a StyleGAN2-like skip-RGB synthesis network. The
resolution is fixed: the upsampling masks (``filter_const``) and the per-layer noise maps
(``noise_const``) are stored buffers of the block's size, and the noise must come from the checkpoint
(regenerating it changes the output), so both are registered as buffers here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_CH_BASE = 32768
_CH_MAX = 512


def _migan_act(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU with StyleGAN's gain sqrt(2) and clamp at 256, as the released weights expect."""
    return (F.leaky_relu(x, 0.2) * math.sqrt(2.0)).clamp(-256.0, 256.0)


def _migan_blur_kernel(gain: float) -> torch.Tensor:
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(taps, taps)
    return k / k.sum() * gain


class MiganDownsample(nn.Module):
    """Blur + stride-2 depthwise 4x4 conv (the blur taps are trainable and stored)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.filter = nn.Conv2d(channels, channels, 4, stride=2, padding=1, groups=channels, bias=False)
        with torch.no_grad():
            self.filter.weight.copy_(_migan_blur_kernel(1.0).expand_as(self.filter.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.filter(x)


class MiganUpsample(nn.Module):
    """Zero-insertion x2 upsampling followed by a depthwise 4x4 blur.

    Zero insertion is written as nearest x2 times the stored ``filter_const`` pattern (1 at even
    row/col, else 0), exactly as the checkpoint's buffer implies; the pad (2, 1, 2, 1) centres the blur.
    """

    def __init__(self, channels: int, resolution: int) -> None:
        super().__init__()
        pattern = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).repeat(resolution // 2, resolution // 2)
        self.register_buffer("filter_const", pattern.view(1, 1, resolution, resolution))
        self.filter = nn.Conv2d(channels, channels, 4, groups=channels, bias=False)
        with torch.no_grad():
            self.filter.weight.copy_(_migan_blur_kernel(4.0).expand_as(self.filter.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest") * self.filter_const
        return self.filter(F.pad(x, (2, 1, 2, 1)))


class MiganSeparableConv(nn.Module):
    """Depthwise kxk -> act -> [down] -> pointwise 1x1 -> [up] -> [+ fixed noise] -> act."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, *, down: bool = False, up: bool = False,
                 resolution: int | None = None, noise: bool = False) -> None:
        super().__init__()
        if noise:
            assert resolution is not None
            self.noise_strength = nn.Parameter(torch.zeros([]))
            gen = torch.Generator().manual_seed(resolution)
            self.register_buffer("noise_const", torch.randn(resolution, resolution, generator=gen))
        self.conv1 = nn.Conv2d(cin, cin, kernel, padding=kernel // 2, groups=cin, bias=True)
        self.conv2 = nn.Conv2d(cin, cout, 1, bias=False)
        if down:
            self.downsample = MiganDownsample(cin)
        if up:
            assert resolution is not None
            self.upsample = MiganUpsample(cout, resolution)
        self.use_noise = noise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _migan_act(self.conv1(x))
        if hasattr(self, "downsample"):
            x = self.downsample(x)
        x = self.conv2(x)
        if hasattr(self, "upsample"):
            x = self.upsample(x)
        if self.use_noise:
            x = x + self.noise_const * self.noise_strength
        return _migan_act(x)


class MiganEncoderBlock(nn.Module):
    """conv1 (kept as the skip feature) then a stride-2 conv2; the first block maps RGB+mask in."""

    def __init__(self, cin: int, tmp: int, cout: int, *, first: bool, down: bool) -> None:
        super().__init__()
        if first:
            self.fromrgb = nn.Conv2d(cin, tmp, 1, bias=True)
        self.conv1 = MiganSeparableConv(tmp, tmp)
        self.conv2 = MiganSeparableConv(tmp, cout, down=down)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if hasattr(self, "fromrgb"):
            x = _migan_act(self.fromrgb(x))
        feat = self.conv1(x)
        return self.conv2(feat), feat


def _migan_channels(res: int) -> int:
    return min(_CH_BASE // res, _CH_MAX)


class MiganEncoder(nn.Module):
    """Blocks b{R} .. b8 (each halves the size) then b4 at 4x4; returns skip features per resolution."""

    def __init__(self, resolution: int, in_channels: int = 4) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(int(math.log2(resolution)), 2, -1)]
        for res in self.resolutions:
            block = MiganEncoderBlock(in_channels, _migan_channels(res), _migan_channels(res // 2),
                                      first=res == resolution, down=True)
            self.add_module(f"b{res}", block)
        self.b4 = MiganEncoderBlock(_migan_channels(4), _migan_channels(4), _migan_channels(4),
                                    first=False, down=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        feats: dict[int, torch.Tensor] = {}
        for res in [*self.resolutions, 4]:
            x, feats[res] = getattr(self, f"b{res}")(x)
        return x, feats


class MiganSynthesisFirst(nn.Module):
    """4x4 block: conv, add the encoder's 4x4 feature, conv, to RGB."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = MiganSeparableConv(cin, cin)
        self.conv2 = MiganSeparableConv(cin, cout)
        self.torgb = nn.Conv2d(cout, 3, 1, bias=True)

    def forward(self, x: torch.Tensor, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv2(self.conv1(x) + feat)
        return x, self.torgb(x)


class MiganSynthesisBlock(nn.Module):
    """Upsampling block: features x2 with noise, skip-add, and the RGB image accumulated at each scale."""

    def __init__(self, cin: int, cout: int, resolution: int) -> None:
        super().__init__()
        self.conv1 = MiganSeparableConv(cin, cout, up=True, resolution=resolution, noise=True)
        self.conv2 = MiganSeparableConv(cout, cout, resolution=resolution, noise=True)
        self.torgb = nn.Conv2d(cout, 3, 1, bias=True)
        self.upsample = MiganUpsample(3, resolution)

    def forward(self, x: torch.Tensor, feat: torch.Tensor,
                img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv2(self.conv1(x) + feat)
        return x, self.upsample(img) + self.torgb(x)


class MiganSynthesis(nn.Module):
    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(3, int(math.log2(resolution)) + 1)]
        self.b4 = MiganSynthesisFirst(_migan_channels(4), _migan_channels(4))
        for res in self.resolutions:
            block = MiganSynthesisBlock(_migan_channels(res // 2), _migan_channels(res), res)
            self.add_module(f"b{res}", block)

    def forward(self, x: torch.Tensor, feats: dict[int, torch.Tensor]) -> torch.Tensor:
        x, img = self.b4(x, feats[4])
        for res in self.resolutions:
            x, img = getattr(self, f"b{res}")(x, feats[res], img)
        return img


class MiganGenerator(nn.Module):
    """Input ``cat([known - 0.5, image * known])`` (N, 4, R, R), image in [-1, 1], known = 1 outside the
    hole (inverted polarity). Output RGB in [-1, 1] without activation, not composited."""

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        # synthesis first: the checkpoint lists its keys first
        self.synthesis = MiganSynthesis(resolution)
        self.encoder = MiganEncoder(resolution)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, feats = self.encoder(x)
        return self.synthesis(x, feats)


def build_migan_256() -> MiganGenerator:
    """Untrained MI-GAN 256 with the released ``migan_256_*.pt`` layout."""
    return MiganGenerator(256)


def build_migan_512() -> MiganGenerator:
    """Untrained MI-GAN 512 with the released ``migan_512_places2.pt`` layout."""
    return MiganGenerator(512)
