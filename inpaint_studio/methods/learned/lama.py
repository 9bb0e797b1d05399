"""LaMa big-lama generator: a ResNet of fast Fourier convolutions (Suvorov et al., WACV 2022).

Written from the paper and ``../shared/model_specs/lama_big.json``. Module names mirror the released
checkpoint (``model.<i>.ffc.convl2l.weight``...) so ``best.ckpt`` loads after stripping ``generator.``.
An FFC keeps two streams: a *local* one (ordinary 3x3 convs) and a *global* one whose spectral
transform mixes every position at once through the 2-D real FFT; that global receptive field is what
lets LaMa fill large holes with coherent periodic structure.
"""

from __future__ import annotations

import torch
from torch import nn

#: channels of the global stream inside the residual blocks (ratio 0.75 of 512)
_RATIO_G = 0.75


class LamaFourierUnit(nn.Module):
    """1x1 conv + BN + ReLU applied to the real-FFT spectrum of its input.

    Real and imaginary parts are interleaved per channel (``c0.re, c0.im, c1.re, ...``): the released
    weights were trained with that channel order, so any other layout computes a different function.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(channels * 2, channels * 2, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(channels * 2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        # half-precision FFTs (CUDA autocast) only take power-of-two sizes: transform in float32 then
        work = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
        spec = torch.fft.rfftn(x.to(work), dim=(-2, -1), norm="ortho")  # N, C, H, W//2+1 complex
        wf = spec.shape[-1]
        # N, C, 2, H, Wf -> N, 2C, H, Wf: re/im of channel k land at 2k and 2k+1
        stacked = torch.stack((spec.real, spec.imag), dim=2).reshape(n, 2 * c, h, wf)
        stacked = self.relu(self.bn(self.conv_layer(stacked)))
        pairs = stacked.reshape(n, c, 2, h, wf).to(work)
        spec = torch.complex(pairs[:, :, 0], pairs[:, :, 1])
        # s=(H, W) restores odd widths that rfft's W//2+1 bins cannot encode on their own
        return torch.fft.irfftn(spec, s=(h, w), dim=(-2, -1), norm="ortho")


class LamaSpectralTransform(nn.Module):
    """Global-to-global path: halve the channels, add the Fourier unit's output, project back."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        half = out_channels // 2
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, half, kernel_size=1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
        )
        self.fu = LamaFourierUnit(half)
        self.conv2 = nn.Conv2d(half, out_channels, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(x + self.fu(x))


def _lama_conv(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    # the official convs pad by reflection (not zeros): border statistics depend on it
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False, padding_mode="reflect")


class LamaFFC(nn.Module):
    """Fast Fourier convolution: four paths between the local and global channel groups.

    Paths whose source or target group is empty do not exist (no parameters), like the official
    ``nn.Identity`` placeholders; a missing input group is the scalar 0.
    """

    def __init__(self, cin: int, cout: int, kernel: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        in_g = int(cin * ratio_gin)
        in_l = cin - in_g
        out_g = int(cout * ratio_gout)
        out_l = cout - out_g
        self.out_l, self.out_g = out_l, out_g
        if in_l and out_l:
            self.convl2l = _lama_conv(in_l, out_l, kernel, stride, padding)
        if in_l and out_g:
            self.convl2g = _lama_conv(in_l, out_g, kernel, stride, padding)
        if in_g and out_l:
            self.convg2l = _lama_conv(in_g, out_l, kernel, stride, padding)
        if in_g and out_g:
            self.convg2g = LamaSpectralTransform(in_g, out_g)

    def _path(self, name: str, x: torch.Tensor | int) -> torch.Tensor | int:
        conv = getattr(self, name, None)
        if conv is None or not isinstance(x, torch.Tensor):
            return 0
        return conv(x)

    def forward(self, x: tuple[torch.Tensor | int, torch.Tensor | int]) -> tuple[torch.Tensor | int, ...]:
        x_l, x_g = x
        out_l: torch.Tensor | int = 0
        out_g: torch.Tensor | int = 0
        if self.out_l:
            out_l = self._path("convl2l", x_l) + self._path("convg2l", x_g)
        if self.out_g:
            out_g = self._path("convl2g", x_l) + self._path("convg2g", x_g)
        return out_l, out_g


class LamaFFCBnAct(nn.Module):
    """FFC followed by BatchNorm + ReLU on each non-empty output group."""

    def __init__(self, cin: int, cout: int, kernel: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.ffc = LamaFFC(cin, cout, kernel, ratio_gin, ratio_gout, stride, padding)
        if self.ffc.out_l:
            self.bn_l = nn.BatchNorm2d(self.ffc.out_l)
        if self.ffc.out_g:
            self.bn_g = nn.BatchNorm2d(self.ffc.out_g)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: tuple[torch.Tensor | int, torch.Tensor | int]) -> tuple[torch.Tensor | int, ...]:
        x_l, x_g = self.ffc(x)
        if isinstance(x_l, torch.Tensor):
            x_l = self.act(self.bn_l(x_l))
        if isinstance(x_g, torch.Tensor):
            x_g = self.act(self.bn_g(x_g))
        return x_l, x_g


class LamaFFCResBlock(nn.Module):
    """Two 3x3 FFC layers with identity shortcuts kept separate for the local and global groups."""

    def __init__(self, channels: int, ratio: float) -> None:
        super().__init__()
        self.conv1 = LamaFFCBnAct(channels, channels, 3, ratio, ratio, padding=1)
        self.conv2 = LamaFFCBnAct(channels, channels, 3, ratio, ratio, padding=1)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        id_l, id_g = x
        y_l, y_g = self.conv2(self.conv1(x))
        return id_l + y_l, id_g + y_g


class LamaInputSplit(nn.Module):
    """Wrap the 4-channel input as (local, no global) for the first FFC layer."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        return nn.functional.pad(x, (3, 3, 3, 3), mode="reflect"), 0


class LamaConcat(nn.Module):
    """Join the local and global groups (local first) for the plain decoder."""

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return torch.cat(x, dim=1)


class LamaGenerator(nn.Module):
    """``FFCResNetGenerator`` as configured for big-lama (ngf 64, 3 downsamplings, 18 blocks).

    Input: ``cat([image * (1 - hole), hole])`` (N, 4, H, W), image in [0, 1], H and W multiples of 8.
    Output: sigmoid RGB in [0, 1], not yet composited with the known pixels.
    """

    def __init__(self, ngf: int = 64, n_blocks: int = 18) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            LamaInputSplit(),  # model.0: the official ReflectionPad2d(3) (no parameters)
            LamaFFCBnAct(4, ngf, 7, 0.0, 0.0),
        ]
        ch = ngf
        for i in range(3):
            ratio_out = _RATIO_G if i == 2 else 0.0  # the last downsampling already splits the groups
            layers.append(LamaFFCBnAct(ch, ch * 2, 3, 0.0, ratio_out, stride=2, padding=1))
            ch *= 2
        layers += [LamaFFCResBlock(ch, _RATIO_G) for _ in range(n_blocks)]
        layers.append(LamaConcat())
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(inplace=True),
            ]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, 3, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def build_lama_big() -> LamaGenerator:
    """Untrained big-lama generator with the released checkpoint's layout (prefix ``generator.`` removed)."""
    return LamaGenerator()
