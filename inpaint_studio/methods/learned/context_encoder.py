"""Context Encoders generator (Pathak et al., CVPR 2016), as in the common PyTorch port's ``_netG``.

Written from the paper and ``../shared/model_specs/context_encoder.json``. A DCGAN-style encoder squeezes
a 128x128 image whose centre (rows/cols 36:92) is filled with a mean colour into a 4000-channel 1x1
bottleneck; the decoder predicts the 64x64 centre square (rows/cols 32:96) with tanh. The port uses a
plain 4x4 conv bottleneck (not the paper's channel-wise FC), and keeps every layer in one ``main``
Sequential, so the indices below are the checkpoint's key names.
"""

from __future__ import annotations

import torch
from torch import nn


class ContextEncoderGenerator(nn.Module):
    """``forward(image [N, 3, 128, 128] in [-1, 1], centre pre-filled)`` -> centre patch [N, 3, 64, 64]."""

    def __init__(self, nc: int = 3, nef: int = 64, ngf: int = 64, bottleneck: int = 4000) -> None:
        super().__init__()

        def down(cin: int, cout: int, bn: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.LeakyReLU(0.2, inplace=True)]

        def up(cin: int, cout: int, stride: int = 2, padding: int = 1) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True)]

        self.main = nn.Sequential(
            *down(nc, nef, bn=False),  # 0-1: 128 -> 64
            *down(nef, nef),  # 2-4: 32
            *down(nef, nef * 2),  # 5-7: 16
            *down(nef * 2, nef * 4),  # 8-10: 8
            *down(nef * 4, nef * 8),  # 11-13: 4
            nn.Conv2d(nef * 8, bottleneck, 4, bias=False),  # 14: 4x4 -> 1x1
            nn.BatchNorm2d(bottleneck),
            nn.LeakyReLU(0.2, inplace=True),
            *up(bottleneck, ngf * 8, stride=1, padding=0),  # 17-19: 1 -> 4
            *up(ngf * 8, ngf * 4),  # 20-22: 8
            *up(ngf * 4, ngf * 2),  # 23-25: 16
            *up(ngf * 2, ngf),  # 26-28: 32
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # 29: 64
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


def build_context_encoder() -> ContextEncoderGenerator:
    """Untrained Context Encoders generator with the ``netG_streetview.pth`` layout."""
    return ContextEncoderGenerator()
