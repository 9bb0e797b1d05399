"""CSA: coherent semantic attention inpainting (Liu et al., "Coherent Semantic Attention for Image
Inpainting", ICCV 2019), the whole two-stage test-time pipeline.

Written from the paper and ``../shared/model_specs/csa.json``. ``netP`` is a pix2pix U-Net (unet_256)
that makes a coarse fill; ``netG`` refines it with a U-Net whose 1/8-resolution level holds the CSA
layer: hole features are replaced, in raster order, by a mix of their best-matching known feature and
the previous hole's result, which keeps neighbouring hole features coherent. The official weights come
as two plain state_dict files (``<epoch>_net_P.pth``, ``<epoch>_net_G.pth``); here they are the children
``netP`` and ``netG`` (``probe.generator_state_from_checkpoint`` with the spec's ``checkpoint.parts``).

``forward(input_A, mask)``: ``input_A`` [1,3,256,256] in [-1, 1] with hole pixels set to the mean colour
R,G,B = 2*(123,104,117)/255-1; ``mask`` [1,1,256,256], 1 = hole. Returns ``(fake_P, fake_B)``; fake_B has
no output activation: clamp to [-1, 1] and paste into the hole. Trained at 256x256 only. Unlike the
official code (batch 1, ``fixed_mask`` caching the first mask's hole positions) the CSA layer here
recomputes its holes for every mask and uses each batch element's own mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.methods.learned.unet_blocks import SkipBlock, UnetGenerator, instance_norm

#: CSA.set_input's hole fill for the coarse stage, per channel, in [-1, 1].
HOLE_FILL_RGB = (2 * 123 / 255 - 1, 2 * 104 / 255 - 1, 2 * 117 / 255 - 1)


def csa_feature_mask(mask: torch.Tensor, levels: int = 3, threshold: float = 5 / 16) -> torch.Tensor:
    """Hole mask at 1/2**levels resolution: repeated 4x4/stride-2 box averages, hole where > threshold.

    A box average rather than nearest sampling: a feature position counts as a hole when enough of its
    receptive field is missing. Values are multiples of 1/16**levels, exact in float32 and float64.
    """
    m = (mask > 0.5).to(torch.float64)
    box = torch.full((1, 1, 4, 4), 1 / 16, dtype=torch.float64, device=mask.device)
    with torch.autocast(mask.device.type, enabled=False):  # keep the exact float64 sums under autocast
        for _ in range(levels):
            m = F.conv2d(m, box, stride=2, padding=1)
    return m > threshold


class CSALayer(nn.Module):
    """Coherent semantic attention on the raw 512-channel conv output at 32x32 (no parameters).

    Every position p gets its best known match q*(p) = argmax_q <x_p, x_q / (|x_q| + 1e-8)> (first
    maximum wins) with score v_p; known positions take x_q*(p). Hole positions h_0, h_1, ... in raster
    order over all holes: out(h_0) = x_q*(h_0); then with a = <out(h_t-1), x_h_t / (|x_h_t| + 1e-8)>,
    out(h_t) = a/(a+v) * out(h_t-1) + v/(a+v) * x_q*(h_t).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mask: torch.Tensor | None = None

    def set_mask(self, mask: torch.Tensor) -> None:
        """Full-resolution hole mask [N,1,H,W] (1 = hole); kept out of the state_dict."""
        self.mask = mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mask is None:
            raise RuntimeError("CSA layer needs set_mask(mask) before the forward pass")
        # Three halvings, as the official cal_feat_mask(mask, 3, 5/16): the layer sits at 1/8 resolution.
        holes = csa_feature_mask(self.mask, 3).reshape(self.mask.shape[0], -1).to(x.device)
        out = x.clone()
        # Scores and the a/(a+v) recurrence in at least float32: float16 (autocast) is too coarse for them.
        work = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):
            for b in range(x.shape[0]):
                hole = holes[b if holes.shape[0] > 1 else 0]
                if bool(hole.any()) and not bool(hole.all()):
                    out[b] = self._attend(x[b].to(work), hole).to(x.dtype)
        return out

    @staticmethod
    def _attend(x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """One batch element [C,h,w] with its flat hole flags -> attended features [C,h,w]."""
        c, h, w = x.shape
        feats = x.reshape(c, -1).t()  # [P, C], raster order
        known = feats[~hole]
        khat = known * (1.0 / (known.norm(dim=1, keepdim=True) + 1e-8))
        vmax, best = (feats @ khat.t()).max(dim=1)
        res = known[best]  # known positions: their best match (normally themselves)
        hole_idx = torch.nonzero(hole).flatten().tolist()
        prev = res[hole_idx[0]]
        for p in hole_idx[1:]:
            xp = feats[p]
            a = prev @ (xp * (1.0 / (xp.norm() + 1e-8)))
            v = vmax[p]
            prev = a / (a + v) * prev + v / (a + v) * known[best[p]]
            res[p] = prev
        return res.t().reshape(c, h, w)


def _csa_level(
    outer_nc: int,
    inner_nc: int,
    submodule: nn.Module | None = None,
    *,
    input_nc: int | None = None,
    outermost: bool = False,
    innermost: bool = False,
    csa: CSALayer | None = None,
) -> SkipBlock:
    """A ``UnetSkipConnectionBlock_3`` level: dilated k4 s2 conv then a 3x3 conv down, 3x3 + k4 s2 up.

    With ``csa`` the layer (and two identity guidance hooks) sit where the official Sequential has them.
    """
    cin = outer_nc if input_nc is None else input_nc
    if outermost:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, inner_nc, 3, 1, 1), submodule, nn.ReLU(),
            nn.ConvTranspose2d(2 * inner_nc, outer_nc, 3, 1, 1),  # no output activation
        ]  # fmt: skip
    elif innermost:
        layers = [
            nn.LeakyReLU(0.2), nn.Conv2d(cin, inner_nc, 4, 2, 3, dilation=2), nn.ReLU(),
            nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1), instance_norm(outer_nc),
        ]  # fmt: skip
    else:
        down: list[nn.Module] = [
            nn.LeakyReLU(0.2), nn.Conv2d(cin, cin, 4, 2, 3, dilation=2), instance_norm(cin),
            nn.LeakyReLU(0.2), nn.Conv2d(cin, inner_nc, 3, 1, 1),
        ]  # fmt: skip
        if csa is not None:
            down += [csa, nn.Identity()]  # CSA on the raw conv output, then InnerCos (identity)
        down.append(instance_norm(inner_nc))
        up: list[nn.Module] = [nn.Identity()] if csa is not None else []  # InnerCos2 (identity)
        up += [
            nn.ReLU(), nn.ConvTranspose2d(2 * inner_nc, outer_nc, 3, 1, 1), instance_norm(outer_nc),
            nn.ReLU(), nn.ConvTranspose2d(outer_nc, outer_nc, 4, 2, 1), instance_norm(outer_nc),
        ]  # fmt: skip
        layers = [*down, submodule, *up]
    return SkipBlock(layers, outermost=outermost, resize=True)


class CSAGenerator(nn.Module):
    """``UnetGeneratorCSA``: the refinement U-Net (6 input channels, no output activation)."""

    def __init__(self, input_nc: int = 6, output_nc: int = 3, num_downs: int = 8, ngf: int = 64) -> None:
        super().__init__()
        self.csa = CSALayer()
        block = _csa_level(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 4):
            block = _csa_level(ngf * 8, ngf * 8, block)
        block = _csa_level(ngf * 4, ngf * 8, block, csa=self.csa)
        block = _csa_level(ngf * 2, ngf * 4, block)
        block = _csa_level(ngf, ngf * 2, block)
        self.model = _csa_level(output_nc, ngf, block, input_nc=input_nc, outermost=True)

    def set_mask(self, mask: torch.Tensor) -> None:
        self.csa.set_mask(mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class CSAPipeline(nn.Module):
    """Coarse ``netP`` then refinement ``netG``, exactly as the official test step chains them."""

    def __init__(self) -> None:
        super().__init__()
        self.netP = UnetGenerator(3, 3, 8, 64, resize=True)
        self.netG = CSAGenerator(6, 3, 8, 64)

    def forward(self, input_a: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hole = (mask > 0.5).to(input_a.dtype)
        keep = 1.0 - hole
        fake_p = self.netP(input_a)
        # The official code zeroes input_A's holes in place before building netG's input, so the
        # second half has ZERO holes, not the mean colour netP saw.
        known = input_a * keep
        syn = fake_p * hole + known
        self.netG.set_mask(hole)
        fake_b = self.netG(torch.cat([syn, known], dim=1))
        return fake_p, fake_b


def build_csa() -> CSAPipeline:
    """Untrained CSA pipeline; its state_dict keys are ``netP.<P-file key>`` and ``netG.<G-file key>``."""
    return CSAPipeline()
