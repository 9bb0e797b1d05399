"""Encoder-decoder generators for Deep Image Prior (torch; imported lazily by the method's run).

One builder covers the paper's inpainting networks and our lighter CPU net. The structure follows
the paper's "skip" architecture (supplementary material, Fig. 2): at each scale a stride-2 conv block
goes down, a recursion handles the coarser scales, the result is upsampled and concatenated with an
optional 1x1 "skip" branch of the same scale's input, then batch-normalised and convolved back up.
Every conv is followed by BatchNorm and LeakyReLU(0.2); padding is by reflection so borders do not
read as edges. The parameter counts of the three published configurations are part of the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class SkipConfig:
    """Shape of one skip network. Lists are per scale, finest first."""

    input_depth: int
    down: tuple[int, ...]
    up: tuple[int, ...]
    skip: tuple[int, ...]
    filter_down: int = 3
    filter_up: int = 3
    filter_skip: int = 1
    upsample: str = "nearest"
    #: an extra 1x1 conv block after each up conv (the builder's default; the "library" net drops it)
    need_1x1_up: bool = True
    #: what the network is fed: "noise" (uniform, scaled by 0.1) or "meshgrid" (2 channels of x, y in [0, 1])
    input_kind: str = "noise"
    output_depth: int = 3

    @property
    def scales(self) -> int:
        return len(self.down)


#: the three inpainting networks of the paper's notebook ("vase", "kate" / text, "library" skip_depth6)
PAPER_NETS: dict[str, SkipConfig] = {
    "vase": SkipConfig(input_depth=2, down=(128,) * 5, up=(128,) * 5, skip=(0,) * 5, input_kind="meshgrid"),
    "kate": SkipConfig(input_depth=32, down=(128,) * 5, up=(128,) * 5, skip=(128,) * 5),
    "library": SkipConfig(input_depth=1, down=(16, 32, 64, 128, 128, 128), up=(16, 32, 64, 128, 128, 128),
                          skip=(0,) * 6, filter_down=5, need_1x1_up=False),
}

#: published parameter counts (the tests check the builder against them)
PAPER_PARAM_COUNTS = {"vase": 2_157_955, "kate": 3_002_627, "library": 2_996_467}

#: the CPU net: thin at full resolution (where the reference spends 64 % of its FLOPs), wider deeper down
FAST_NET = SkipConfig(input_depth=8, down=(16, 32, 64, 64, 64), up=(16, 32, 64, 64, 64), skip=(4, 4, 4, 4, 4),
                      upsample="bilinear")


def _conv_block(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    pad = (kernel - 1) // 2
    layers: list[nn.Module] = []
    if pad:
        layers.append(nn.ReflectionPad2d(pad))
    layers += [nn.Conv2d(in_ch, out_ch, kernel, stride=stride, bias=True), nn.BatchNorm2d(out_ch),
               nn.LeakyReLU(0.2, inplace=True)]
    return layers


class _Upsample(nn.Module):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "nearest":
            return nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        return nn.functional.interpolate(x, scale_factor=2.0, mode=self.mode, align_corners=False)


class _Scale(nn.Module):
    """One scale: skip branch + (down, coarser scales, upsample), concatenated, then the up convs."""

    def __init__(self, cfg: SkipConfig, index: int, in_ch: int) -> None:
        super().__init__()
        down, up, skip = cfg.down[index], cfg.up[index], cfg.skip[index]
        last = index == cfg.scales - 1
        self.skip = nn.Sequential(*_conv_block(in_ch, skip, cfg.filter_skip)) if skip else None
        deeper: list[nn.Module] = [*_conv_block(in_ch, down, cfg.filter_down, stride=2),
                                   *_conv_block(down, down, cfg.filter_down)]
        if not last:
            deeper.append(_Scale(cfg, index + 1, down))
        deeper.append(_Upsample(cfg.upsample))
        self.deeper = nn.Sequential(*deeper)
        deeper_out = down if last else cfg.up[index + 1]
        merged = skip + deeper_out
        after: list[nn.Module] = [nn.BatchNorm2d(merged), *_conv_block(merged, up, cfg.filter_up)]
        if cfg.need_1x1_up:
            after += _conv_block(up, up, 1)
        self.after = nn.Sequential(*after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.deeper(x)
        if self.skip is not None:
            y = torch.cat([self.skip(x), y], dim=1)
        return self.after(y)


class SkipNet(nn.Module):
    """The generator: scales, then a 1x1 conv to RGB and a sigmoid. Input sides must divide by 2**scales."""

    def __init__(self, cfg: SkipConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.body = _Scale(cfg, 0, cfg.input_depth)
        self.head = nn.Conv2d(cfg.up[0], cfg.output_depth, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.body(x)))

    @property
    def multiple(self) -> int:
        return 2 ** self.cfg.scales


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def with_input_depth(cfg: SkipConfig, depth: int) -> SkipConfig:
    return replace(cfg, input_depth=depth)


def make_input(cfg: SkipConfig, height: int, width: int, generator: torch.Generator, extra: Any = None
               ) -> torch.Tensor:
    """The fixed network input z (1 x C x H x W, CPU float32): noise or a meshgrid, as the paper feeds it.

    Drawn on the CPU from ``generator`` so a seed means the same z on every device.
    """
    if cfg.input_kind == "meshgrid":
        ys = torch.linspace(0.0, 1.0, height).view(1, 1, height, 1).expand(1, 1, height, width)
        xs = torch.linspace(0.0, 1.0, width).view(1, 1, 1, width).expand(1, 1, height, width)
        z = torch.cat([xs, ys], dim=1)
        if cfg.input_depth > 2:
            noise = torch.rand(1, cfg.input_depth - 2, height, width, generator=generator) * 0.1
            z = torch.cat([z, noise], dim=1)
        return z.contiguous()
    return torch.rand(1, cfg.input_depth, height, width, generator=generator) * 0.1
