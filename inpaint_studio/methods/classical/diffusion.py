"""OpenCV's diffusion inpainting (Telea 2004, Navier-Stokes / Bertalmio 2001).

Best for thin damage — scratches, dust, hairs — where a smooth continuation is what the eye
expects. OpenCV's colour path is 8-bit only, so every channel is filled on its own as float32:
16-bit photos keep their full depth. OpenCV's float Telea misbehaves on values in [0, 1] (its
internal steps assume 8-bit-like magnitudes), so channels are scaled to the 16-bit range first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.methods.base import Method, RunContext, param


@dataclass(frozen=True)
class DiffusionParams:
    radius: float = param(
        3.0, min=1.0, max=50.0, step=1.0,
        help="Neighbourhood (pixels) each filled pixel is estimated from. Small keeps lines crisp; "
             "larger smooths wider holes.",
    )


_WORKING_RANGE = np.float32(65535.0)


def _as_8bit_levels(image: np.ndarray) -> np.ndarray | None:
    """The image as uint8 when every value is an exact 8-bit level (an 8-bit photo), else None."""
    scaled = image * np.float32(255.0)
    levels = np.rint(scaled)
    scaled -= levels
    np.abs(scaled, out=scaled)
    return levels.astype(np.uint8) if scaled.max(initial=0.0) < 1e-3 else None


def diffusion_fill(image: np.ndarray, hole: np.ndarray, radius: float, flags: int) -> np.ndarray:
    """Fill a float32 [0, 1] image: 8-bit data in one colour pass, deeper data channel by channel.

    OpenCV's colour path marches the hole once for all channels (about twice as fast as three
    single-channel passes) but only takes 8-bit input; for 16-bit photos the per-channel float
    path keeps their full depth.
    """
    hole_u8 = np.ascontiguousarray(hole, dtype=np.uint8) * np.uint8(255)
    levels = _as_8bit_levels(image) if image.ndim == 3 and image.shape[2] == 3 else None
    if levels is not None:
        return cv2.inpaint(levels, hole_u8, float(radius), flags).astype(np.float32) * np.float32(1 / 255)
    planes = image[..., None] if image.ndim == 2 else image
    out = np.empty_like(planes, dtype=np.float32)
    for c in range(planes.shape[2]):
        channel = np.ascontiguousarray(planes[..., c], dtype=np.float32) * _WORKING_RANGE
        out[..., c] = cv2.inpaint(channel, hole_u8, float(radius), flags) / _WORKING_RANGE
    return out.reshape(image.shape)


class _DiffusionMethod(Method):
    Params: ClassVar[type] = DiffusionParams
    _flags: ClassVar[int]

    def context_margin(self, params: Any) -> int:
        # diffusion only looks `radius` pixels out; a little more keeps the estimate stable
        return int(np.ceil(params.radius)) + 8

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        ctx.check_cancelled()
        ctx.progress(0.0, self.label)
        out = diffusion_fill(image, hole, params.radius, self._flags)
        ctx.progress(1.0, self.label)
        return out


class TeleaMethod(_DiffusionMethod):
    name = "telea"
    label = "Telea (fast marching)"
    description = "Smooth fill marching in from the hole's edge; fast, for scratches, dust and small spots."
    _flags = cv2.INPAINT_TELEA


class NavierStokesMethod(_DiffusionMethod):
    name = "ns"
    label = "Navier-Stokes"
    description = "Fluid-dynamics fill that carries edges into the hole; for thin scratches across lines."
    _flags = cv2.INPAINT_NS
