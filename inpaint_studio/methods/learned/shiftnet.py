"""Shift-Net generator (Yan et al., "Shift-Net: Image Inpainting via Deep Feature Rearrangement", ECCV 2018).

Written from the paper and ``../shared/model_specs/shiftnet.json`` (official ``UnetGeneratorShiftTriple``,
ngf 64, instance norm, 4-channel input). A pix2pix U-Net whose 1/8-resolution decoder level gets a
"shift connection": each hole position of the decoder feature is matched (cosine) against every known
position of the encoder skip feature, and the best encoder vector is copied in as a third block of
channels. The layout matches the released plain state_dict (no prefix), so it loads strictly.

Usage: ``net.set_mask(hole_bool_N1HW)`` first (the mask is not a forward argument, as in the original),
then ``net(cat(image_in_[-1,1]_with_holes_0, 1 - hole))``. Output: raw tanh [-1, 1], not composited.
Trained and tested at 256x256 only; use batch 1 for per-image masks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.methods.learned.unet_blocks import UnetGenerator, pix2pix_level


class InnerShiftTriple(nn.Module):
    """The shift connection (patch 1x1): output cat(decoder, encoder, shifted encoder), 3x the half width.

    Cosine without epsilon, first maximum wins (known positions in raster order), as the original;
    ``shifted`` is zero at known positions.
    """

    def __init__(self) -> None:
        super().__init__()
        self.mask: torch.Tensor | None = None

    def set_mask(self, mask: torch.Tensor) -> None:
        """Full-resolution hole mask [N,1,H,W] (True/1 = hole); kept out of the state_dict."""
        self.mask = mask

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if self.mask is None:
            raise RuntimeError("Shift-Net needs set_mask(mask) before the forward pass")
        n, c, h, w = u.shape
        half = c // 2
        former, latter = u[:, :half], u[:, half:]
        # Nearest downsampling picks full-resolution pixel [8i, 8j] (patch 1, mask threshold 1).
        small = F.interpolate(self.mask.to(torch.float32), size=(h, w), mode="nearest")
        holes = small.reshape(small.shape[0], -1) > 0.5
        shifted = torch.zeros_like(former)
        # The match runs in at least float32: |f|^2*|l|^2 overflows float16 (autocast).
        work = torch.promote_types(u.dtype, torch.float32)
        with torch.autocast(u.device.type, enabled=False):
            for b in range(n):
                hole = holes[b if holes.shape[0] > 1 else 0].to(u.device)
                if not bool(hole.any()) or bool(hole.all()):
                    continue
                f = former[b].reshape(half, -1)[:, hole].t().to(work)  # [holes, C]
                known = latter[b].reshape(half, -1)[:, ~hole].t()  # [known, C], raster order
                kw = known.to(work)
                cos = (f @ kw.t()) / (f.pow(2).sum(1, keepdim=True) * kw.pow(2).sum(1).unsqueeze(0)).sqrt()
                out = shifted[b].reshape(half, -1)
                out[:, hole] = known[torch.argmax(cos, dim=1)].t()
        return torch.cat([former, latter, shifted], dim=1)


class ShiftNetGenerator(UnetGenerator):
    """``UnetGeneratorShiftTriple``: 4 input channels (image + known-mask), shift layer at 1/8 resolution."""

    def __init__(self, input_nc: int = 4, output_nc: int = 3, num_downs: int = 8, ngf: int = 64) -> None:
        shift = InnerShiftTriple()

        def shift_level(sub: nn.Module):
            # [LReLU, Conv, IN, sub, ReLU, InnerCos (identity at inference), shift, ConvT(3*inner), IN]
            return pix2pix_level(
                ngf * 2, ngf * 4, sub, up_extra=(nn.Identity(), shift), up_in_factor=3, resize=True
            )

        super().__init__(input_nc, output_nc, num_downs, ngf, special_level=shift_level, resize=True)
        self.shift = shift

    def set_mask(self, mask: torch.Tensor) -> None:
        """Hand the hole mask (bool [N,1,H,W], True = hole) to the shift layer before ``forward``."""
        self.shift.set_mask(mask)


def build_shiftnet() -> ShiftNetGenerator:
    """Untrained Shift-Net with the released checkpoint's layout (plain state_dict, no prefix)."""
    return ShiftNetGenerator()
