"""Partial-convolution U-Net (Liu et al., ECCV 2018), in the layout of naoto0804's released checkpoint.

Written from the paper and ``../shared/model_specs/pconv_unet.json``. A partial convolution sees only
valid pixels: it convolves ``x * mask``, rescales by how many valid inputs the window had and marks the
output valid wherever the window had any, so the hole shrinks layer by layer. This port's rescaling
divides by the raw window sum (no ``sum(1)/sum(M)`` factor, unlike NVIDIA's code), and its all-ones
``mask_conv`` kernel is a stored parameter, so both are kept here to load and match the release.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PConvLayer(nn.Module):
    """One partial convolution; returns the features and the updated validity mask."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, padding: int, bias: bool) -> None:
        super().__init__()
        self.input_conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=bias)
        self.mask_conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
        nn.init.constant_(self.mask_conv.weight, 1.0)
        self.mask_conv.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.input_conv(x * mask)
        with torch.no_grad():
            window = self.mask_conv(mask)
        holes = window == 0
        window = window.masked_fill(holes, 1.0)
        bias = self.input_conv.bias
        if bias is not None:
            b = bias.view(1, -1, 1, 1)
            out = (out - b) / window + b
        else:
            out = out / window
        out = out.masked_fill(holes, 0.0)
        new_mask = torch.ones_like(out).masked_fill(holes, 0.0)
        return out, new_mask


class PConvBlock(nn.Module):
    """Partial conv -> optional BatchNorm -> ReLU (encoder), LeakyReLU 0.2 (decoder) or nothing."""

    def __init__(self, cin: int, cout: int, *, kernel: int = 3, stride: int = 1, bn: bool = True,
                 act: str | None = "relu", bias: bool = False) -> None:
        super().__init__()
        self.conv = PConvLayer(cin, cout, kernel, stride, kernel // 2, bias)
        if bn:
            self.bn = nn.BatchNorm2d(cout)
        self.act: nn.Module | None = None
        if act == "relu":
            self.act = nn.ReLU()
        elif act == "leaky":
            self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, m = self.conv(x, mask)
        if hasattr(self, "bn"):
            h = self.bn(h)
        if self.act is not None:
            h = self.act(h)
        return h, m


class PConvUNet(nn.Module):
    """U-Net of partial convs: ``layer_size`` stride-2 encoders, nearest-x2 decoders with skips.

    ``forward(image, mask)``: image ImageNet-normalised with holes 0, mask (N, 3, H, W) with 1 = valid;
    H and W multiples of ``2**layer_size``. Returns ``(h, h_mask)``; h is in normalised space.
    """

    def __init__(self, layer_size: int = 7, in_channels: int = 3) -> None:
        super().__init__()
        self.layer_size = layer_size
        self.enc_1 = PConvBlock(in_channels, 64, kernel=7, stride=2, bn=False)
        self.enc_2 = PConvBlock(64, 128, kernel=5, stride=2)
        self.enc_3 = PConvBlock(128, 256, kernel=5, stride=2)
        self.enc_4 = PConvBlock(256, 512, kernel=3, stride=2)
        for i in range(5, layer_size + 1):
            self.add_module(f"enc_{i}", PConvBlock(512, 512, kernel=3, stride=2))
        for i in range(5, layer_size + 1):
            self.add_module(f"dec_{i}", PConvBlock(1024, 512, act="leaky"))
        self.dec_4 = PConvBlock(512 + 256, 256, act="leaky")
        self.dec_3 = PConvBlock(256 + 128, 128, act="leaky")
        self.dec_2 = PConvBlock(128 + 64, 64, act="leaky")
        self.dec_1 = PConvBlock(64 + in_channels, in_channels, bn=False, act=None, bias=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = [x]
        masks = [mask]
        for i in range(1, self.layer_size + 1):
            x, mask = getattr(self, f"enc_{i}")(x, mask)
            feats.append(x)
            masks.append(mask)
        for i in range(self.layer_size, 0, -1):
            x = torch.cat([F.interpolate(x, scale_factor=2.0, mode="nearest"), feats[i - 1]], dim=1)
            mask = torch.cat([F.interpolate(mask, scale_factor=2.0, mode="nearest"), masks[i - 1]], dim=1)
            x, mask = getattr(self, f"dec_{i}")(x, mask)
        return x, mask


def build_pconv_unet() -> PConvUNet:
    """Untrained partial-conv U-Net (layer_size 7) with the released checkpoint's layout."""
    return PConvUNet(layer_size=7)
