"""pix2pix-style nested U-Net used by Shift-Net (``shiftnet.py``) and CSA's coarse stage (``csa.py``).

Both official checkpoints store the U-Net as nested skip blocks whose layers sit in an
``nn.Sequential`` called ``model`` (keys ``model.model.1.model.3....``), so the module tree here is
built the same way: a level is ``Sequential(down..., inner level, up...)`` and every level but the
outermost returns ``cat([level(x), x])``. Parameter-free layers (the guidance-loss hooks the
official code places in the Sequential, identities at inference) are kept as ``nn.Identity`` so the
Sequential indices, hence the checkpoint keys, match.

The official blocks apply their first LeakyReLU in place, so the skip tensor is LeakyReLU(x) rather
than x; every consumer of a skip applies ReLU first and ReLU(LeakyReLU(x)) == ReLU(x), so the
out-of-place version here computes the same function.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """Affine instance norm without running statistics (the checkpoints store gains and biases only)."""
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)


class SkipBlock(nn.Module):
    """One U-Net level; ``resize`` bilinearly matches the inner output to the skip if sizes differ."""

    def __init__(self, layers: Sequence[nn.Module], *, outermost: bool = False, resize: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        self.resize = resize
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(x)
        if self.outermost:
            return y
        if self.resize and y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([y, x], dim=1)


def _down(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1)


def _up(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1)


def pix2pix_level(
    outer_nc: int,
    inner_nc: int,
    submodule: nn.Module | None = None,
    *,
    input_nc: int | None = None,
    outermost: bool = False,
    innermost: bool = False,
    up_extra: Sequence[nn.Module] = (),
    up_in_factor: int = 2,
    resize: bool = False,
) -> SkipBlock:
    """A pix2pix ``UnetSkipConnectionBlock`` (conv k4 s2 p1 down, transposed conv k4 s2 p1 up).

    ``up_extra`` are inserted after the up-ReLU (Shift-Net's InnerCos + shift layer) and
    ``up_in_factor`` * inner_nc is the transposed conv's input width (3 with the shift layer's triple).
    """
    cin = outer_nc if input_nc is None else input_nc
    if outermost:
        layers: list[nn.Module] = [
            _down(cin, inner_nc), submodule, nn.ReLU(), _up(2 * inner_nc, outer_nc), nn.Tanh()
        ]  # fmt: skip
    elif innermost:
        layers = [
            nn.LeakyReLU(0.2), _down(cin, inner_nc), nn.ReLU(), _up(inner_nc, outer_nc),
            instance_norm(outer_nc),
        ]  # fmt: skip
    else:
        layers = [
            nn.LeakyReLU(0.2), _down(cin, inner_nc), instance_norm(inner_nc), submodule, nn.ReLU(),
            *up_extra, _up(up_in_factor * inner_nc, outer_nc), instance_norm(outer_nc),
        ]  # fmt: skip
    return SkipBlock(layers, outermost=outermost, resize=resize)


class UnetGenerator(nn.Module):
    """pix2pix ``UnetGenerator`` (unet_256 with num_downs 8), instance norm, tanh output.

    ``special_level`` optionally replaces the (ngf*2 -> ngf*4) level, the one at 1/8 resolution
    (Shift-Net puts its shift layer there); it receives that level's submodule.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        num_downs: int = 8,
        ngf: int = 64,
        *,
        special_level=None,
        resize: bool = False,
    ) -> None:
        super().__init__()
        block = pix2pix_level(ngf * 8, ngf * 8, innermost=True, resize=resize)
        for _ in range(num_downs - 5):
            block = pix2pix_level(ngf * 8, ngf * 8, block, resize=resize)
        block = pix2pix_level(ngf * 4, ngf * 8, block, resize=resize)
        if special_level is None:
            block = pix2pix_level(ngf * 2, ngf * 4, block, resize=resize)
        else:
            block = special_level(block)
        block = pix2pix_level(ngf, ngf * 2, block, resize=resize)
        self.model = pix2pix_level(output_nc, ngf, block, input_nc=input_nc, outermost=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
