"""DeepFill v2 generator (Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019).

Written from the paper and ``../shared/model_specs/deepfill_v2.json``. The layout follows the converted
official TensorFlow release (``networks_tf.Generator``, cnum 48) so ``ckpt["G"]`` of the converted
weights loads strictly. Two details decide whether the TF weights compute the same function here:
TensorFlow's 'SAME' padding (asymmetric for stride 2: the extra row/column goes bottom/right) and TF's
nearest-neighbour downsampling inside contextual attention.

Input: ``x`` = cat(image in [-1, 1] with holes 0, ones, mask) (5 channels) and ``mask`` [N,1,H,W]
(1 = hole), H and W multiples of 8. Output ``(x_stage1, x_stage2)``, both tanh in [-1, 1], not
composited. Contextual attention takes the mask of batch element 0 only: run per-image masks one by one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def tf_same_pad(x: torch.Tensor, ksize: int, stride: int, rate: int = 1) -> torch.Tensor:
    """Zero-pad ``x`` like TensorFlow's 'SAME' (the odd extra pixel goes to the bottom/right)."""
    h, w = x.shape[-2:]
    eff = (ksize - 1) * rate + 1
    pad_h = max((-(-h // stride) - 1) * stride + eff - h, 0)
    pad_w = max((-(-w // stride) - 1) * stride + eff - w, 0)
    top, left = pad_h // 2, pad_w // 2
    return F.pad(x, (left, pad_w - left, top, pad_h - top))


def tf_nearest_down(x: torch.Tensor, factor: int) -> torch.Tensor:
    """TF1 ``resize_nearest_neighbor(align_corners=True)`` to size // factor, as the TF model trained.

    The sampled rows are ``floor(linspace(0, H-1, H//factor) + 0.5)``; computed in float32 like the
    original so a tie at .5 would round the same way.
    """
    h, w = x.shape[-2:]
    rows = torch.linspace(0, h - 1, h // factor, dtype=torch.float32).add(0.5).floor().long()
    cols = torch.linspace(0, w - 1, w // factor, dtype=torch.float32).add(0.5).floor().long()
    return x[:, :, rows.to(x.device)][..., cols.to(x.device)]


class GatedConv(nn.Module):
    """Gated convolution: conv with 2x outputs, features * sigmoid(gate); TF 'SAME' zero padding.

    Layers with 3 outputs (the last of each stage) or no activation are plain convs.
    """

    def __init__(
        self, cin: int, cout: int, ksize: int, stride: int = 1, rate: int = 1, activation: str | None = "elu"
    ) -> None:
        super().__init__()
        self.gated = not (cout == 3 or activation is None)
        self.cout = cout
        self.ksize, self.stride, self.rate = ksize, stride, rate
        self.activation = activation
        self.conv = nn.Conv2d(cin, 2 * cout if self.gated else cout, ksize, stride, padding=0, dilation=rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(tf_same_pad(x, self.ksize, self.stride, self.rate))
        if not self.gated:
            return x
        feat, gate = x[:, : self.cout], x[:, self.cout :]
        feat = F.relu(feat) if self.activation == "relu" else F.elu(feat)
        return feat * torch.sigmoid(gate)


class GatedDeconv(nn.Module):
    """x2 nearest upsampling then a 3x3 gated conv (the TF model's 'gen_deconv')."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = GatedConv(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ContextualAttention(nn.Module):
    """Contextual attention (Yu et al. 2018) as configured in DeepFill v2: no fuse step, rate 2.

    Matching runs on features downsampled x``rate``: every 3x3 patch of the foreground is compared by
    cosine (patch norms clamped at 1e-4) with every 3x3 background patch that has no hole pixel
    (mask downsampled x``mask_down``); a softmax (scale 10) over those patches weights the full-resolution
    ``2*rate`` background patches that are pasted back with a strided transposed conv.
    """

    def __init__(self, ksize: int = 3, rate: int = 2, softmax_scale: float = 10.0, n_down: int = 2) -> None:
        super().__init__()
        self.ksize, self.rate, self.softmax_scale = ksize, rate, softmax_scale
        self.mask_down = (2**n_down) * rate

    def forward(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, c = b.shape[:2]
        k_raw = 2 * self.rate
        # Full-resolution background patches (k_raw x k_raw, stride rate) used for pasting.
        raw = F.unfold(tf_same_pad(b, k_raw, self.rate), k_raw, stride=self.rate)  # [N, C*k*k, L]
        raw = raw.view(n, c, k_raw, k_raw, -1).permute(0, 4, 1, 2, 3)  # [N, L, C, k, k]
        f_small = tf_nearest_down(f, self.rate)
        b_small = tf_nearest_down(b, self.rate)
        ks = self.ksize
        pat = F.unfold(tf_same_pad(b_small, ks, 1), ks)  # [N, C*ks*ks, L]
        pat = pat.view(n, c, ks, ks, -1).permute(0, 4, 1, 2, 3)  # [N, L, C, ks, ks]
        # Background patches touching the hole are excluded; the official port uses batch element 0's mask.
        m = tf_nearest_down(mask[:1], self.mask_down)
        m_pat = F.unfold(tf_same_pad(m, ks, 1), ks)  # [1, ks*ks, L]
        valid = (m_pat.mean(dim=1) == 0).to(f.dtype).view(1, -1, 1, 1)  # [1, L, 1, 1]
        out = []
        for i in range(n):
            w = pat[i]
            w_norm = w / w.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-4)
            scores = F.conv2d(tf_same_pad(f_small[i : i + 1], ks, 1), w_norm)  # [1, L, h, w]
            attn = F.softmax(scores * valid * self.softmax_scale, dim=1) * valid
            out.append(F.conv_transpose2d(attn, raw[i], stride=self.rate, padding=1) / 4.0)
        return torch.cat(out, dim=0)


class DeepFillV2Generator(nn.Module):
    """Two-stage coarse-to-fine generator; attribute names are the checkpoint's key names."""

    def __init__(self, cnum_in: int = 5, cnum: int = 48) -> None:
        super().__init__()
        c = cnum
        # Stage 1: coarse network.
        self.conv1 = GatedConv(cnum_in, c // 2, 5)
        self.conv2_downsample = GatedConv(c // 2, c, 3, 2)
        self.conv3 = GatedConv(c, c, 3)
        self.conv4_downsample = GatedConv(c, 2 * c, 3, 2)
        self.conv5 = GatedConv(2 * c, 2 * c, 3)
        self.conv6 = GatedConv(2 * c, 2 * c, 3)
        self.conv7_atrous = GatedConv(2 * c, 2 * c, 3, rate=2)
        self.conv8_atrous = GatedConv(2 * c, 2 * c, 3, rate=4)
        self.conv9_atrous = GatedConv(2 * c, 2 * c, 3, rate=8)
        self.conv10_atrous = GatedConv(2 * c, 2 * c, 3, rate=16)
        self.conv11 = GatedConv(2 * c, 2 * c, 3)
        self.conv12 = GatedConv(2 * c, 2 * c, 3)
        self.conv13_upsample = GatedDeconv(2 * c, c)
        self.conv14 = GatedConv(c, c, 3)
        self.conv15_upsample = GatedDeconv(c, c // 2)
        self.conv16 = GatedConv(c // 2, c // 4, 3)
        self.conv17 = GatedConv(c // 4, 3, 3, activation=None)
        # Stage 2, dilated-conv ("hallucination") branch.
        self.xconv1 = GatedConv(3, c // 2, 5)
        self.xconv2_downsample = GatedConv(c // 2, c // 2, 3, 2)
        self.xconv3 = GatedConv(c // 2, c, 3)
        self.xconv4_downsample = GatedConv(c, c, 3, 2)
        self.xconv5 = GatedConv(c, 2 * c, 3)
        self.xconv6 = GatedConv(2 * c, 2 * c, 3)
        self.xconv7_atrous = GatedConv(2 * c, 2 * c, 3, rate=2)
        self.xconv8_atrous = GatedConv(2 * c, 2 * c, 3, rate=4)
        self.xconv9_atrous = GatedConv(2 * c, 2 * c, 3, rate=8)
        self.xconv10_atrous = GatedConv(2 * c, 2 * c, 3, rate=16)
        # Stage 2, contextual-attention branch.
        self.pmconv1 = GatedConv(3, c // 2, 5)
        self.pmconv2_downsample = GatedConv(c // 2, c // 2, 3, 2)
        self.pmconv3 = GatedConv(c // 2, c, 3)
        self.pmconv4_downsample = GatedConv(c, 2 * c, 3, 2)
        self.pmconv5 = GatedConv(2 * c, 2 * c, 3)
        self.pmconv6 = GatedConv(2 * c, 2 * c, 3, activation="relu")
        self.contextual_attention = ContextualAttention(ksize=3, rate=2, softmax_scale=10.0, n_down=2)
        self.pmconv9 = GatedConv(2 * c, 2 * c, 3)
        self.pmconv10 = GatedConv(2 * c, 2 * c, 3)
        # Stage 2, merged decoder.
        self.allconv11 = GatedConv(4 * c, 2 * c, 3)
        self.allconv12 = GatedConv(2 * c, 2 * c, 3)
        self.allconv13_upsample = GatedDeconv(2 * c, c)
        self.allconv14 = GatedConv(c, c, 3)
        self.allconv15_upsample = GatedDeconv(c, c // 2)
        self.allconv16 = GatedConv(c // 2, c // 4, 3)
        self.allconv17 = GatedConv(c // 4, 3, 3, activation=None)

    def _run(self, x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
        for name in names:
            x = getattr(self, name)(x)
        return x

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stage1_layers = (
            "conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6", "conv7_atrous",
            "conv8_atrous", "conv9_atrous", "conv10_atrous", "conv11", "conv12", "conv13_upsample",
            "conv14", "conv15_upsample", "conv16", "conv17",
        )  # fmt: skip
        x_stage1 = torch.tanh(self._run(x, stage1_layers))
        # Stage 2 sees the coarse result pasted into the hole of the (hole = 0) input image.
        xnow = x_stage1 * mask + x[:, :3] * (1.0 - mask)
        hallu = self._run(xnow, (
            "xconv1", "xconv2_downsample", "xconv3", "xconv4_downsample", "xconv5", "xconv6",
            "xconv7_atrous", "xconv8_atrous", "xconv9_atrous", "xconv10_atrous",
        ))  # fmt: skip
        pm = self._run(xnow, (
            "pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5", "pmconv6",
        ))  # fmt: skip
        pm = self.contextual_attention(pm, pm, mask)
        pm = self._run(pm, ("pmconv9", "pmconv10"))
        y = self._run(torch.cat([hallu, pm], dim=1), (
            "allconv11", "allconv12", "allconv13_upsample", "allconv14", "allconv15_upsample",
            "allconv16", "allconv17",
        ))  # fmt: skip
        return x_stage1, torch.tanh(y)


def build_deepfill_v2() -> DeepFillV2Generator:
    """Untrained DeepFill v2 with the converted official checkpoint's layout (``ckpt["G"]``)."""
    return DeepFillV2Generator(cnum_in=5, cnum=48)
