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


_NEIGHBOURS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32)


def _neighbour_sum(x: np.ndarray) -> np.ndarray:
    """Sum of the 4 neighbours; beyond the crop's edge a pixel is its own neighbour (a free edge)."""
    return cv2.filter2D(x, -1, _NEIGHBOURS, borderType=cv2.BORDER_REPLICATE).reshape(x.shape)


def _solve_laplace(start: np.ndarray, free: np.ndarray, tolerance: float, max_steps: int) -> np.ndarray:
    """``start`` with its ``free`` pixels replaced by the solution of Laplace's equation (conjugate
    gradients per channel, matrix-free; the other pixels are the boundary values)."""
    mask = free[..., None].astype(np.float32)
    fixed = start * (1.0 - mask)
    rhs = _neighbour_sum(fixed) * mask

    def apply(v: np.ndarray) -> np.ndarray:
        return (4.0 * v - _neighbour_sum(v)) * mask

    x = start * mask
    r = rhs - apply(x)
    p = r.copy()
    rr = (r * r).sum((0, 1))
    stop = (tolerance ** 2) * np.maximum((rhs * rhs).sum((0, 1)), 1e-12)
    for _ in range(max_steps):
        if np.all(rr <= stop):
            break
        ap = apply(p)
        alpha = rr / np.maximum((p * ap).sum((0, 1)), 1e-30)
        x += alpha * p
        r -= alpha * ap
        rr_new = (r * r).sum((0, 1))
        p = r + (rr_new / np.maximum(rr, 1e-30)) * p
        rr = rr_new
    return fixed + x


def harmonic_fill(image: np.ndarray, hole: np.ndarray, tolerance: float = 1e-4,
                  max_steps: int = 400) -> np.ndarray:
    """The smoothest fill (Laplace's equation: each hole pixel the mean of its 4 neighbours; known
    pixels fixed, the crop's border free), solved coarse to fine.

    Why not NS: on large holes Navier-Stokes leaves radial streaks from the boundary; as DIP's
    diffusion share this fill scored +0.08 to +0.22 dB hole-PSNR over NS on the Kodak object and
    medium masks (docs/benchmarks.md). Each pyramid level starts from the coarser one's solution.
    :func:`harmonic_exact` solves the same equation exactly, for a bounded number of unknowns.
    """
    planes = (image[..., None] if image.ndim == 2 else image).astype(np.float32)
    known = (~hole).astype(np.float32)
    pyramid = [(planes * known[..., None], known)]
    while min(pyramid[-1][1].shape) > 16:
        values, weight = pyramid[-1]
        size = ((weight.shape[1] + 1) // 2, (weight.shape[0] + 1) // 2)
        down = cv2.resize(values, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        pyramid.append((down, cv2.resize(weight, size, interpolation=cv2.INTER_AREA)))
    values, weight = pyramid[-1]
    solution = np.broadcast_to(values.sum((0, 1)) / max(float(weight.sum()), 1e-6), values.shape)
    for level, (values, weight) in reversed(list(enumerate(pyramid))):
        h, w = weight.shape
        # coarse levels only give the next one its start: a loose solve is enough there
        level_tolerance = tolerance if level == 0 else max(tolerance, 1e-3)
        start = cv2.resize(np.ascontiguousarray(solution), (w, h), interpolation=cv2.INTER_LINEAR)
        fixed = weight > 0.999  # cells wholly known keep their value; the rest is solved
        target = values / np.maximum(weight, 1e-6)[..., None]
        start = np.where(fixed[..., None], target, start.reshape(values.shape)).astype(np.float32)
        solution = _solve_laplace(start, ~fixed, level_tolerance, max_steps) if (~fixed).any() else start
    out = np.where(hole[..., None], solution, planes)
    return out.reshape(image.shape).astype(np.float32)


def harmonic_exact(image: np.ndarray, unknown: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """Exact harmonic (Laplace) fill of the ``unknown`` pixels: each the mean of its in-image 4
    neighbours (the image's border free), known neighbours fixed. One sparse LU factorisation on
    the unknown pixels only, every channel a right-hand side. An unknown region that touches no
    known pixel (its system is singular; on a 4-connected grid only when nothing is known) gets
    ``fallback`` (default: the known pixels' mean, 0 if none is known).

    The same equation as :func:`harmonic_fill`, solved exactly instead of iteratively: the
    PatchMatch structure blend uses it (measured +0.1-0.2 dB over a coarse iterative solve there);
    its cost grows faster with the unknowns, so callers cap them (``structure.solve_scale``)."""
    planes = (image[..., None] if image.ndim == 2 else image).astype(np.float64)
    out = planes.copy()
    unknown = np.asarray(unknown, bool)
    height, width = unknown.shape
    if not unknown.any():
        return out.reshape(image.shape).astype(np.float32)
    known = ~unknown
    if fallback is None:
        fallback = planes[known].mean(0) if known.any() else np.zeros(planes.shape[2])
    # regions with no known 4-neighbour anywhere: fixed at the fallback, not solved
    count, labels = cv2.connectedComponents(unknown.astype(np.uint8), connectivity=4)
    touching = cv2.dilate(known.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))) > 0
    anchored = np.zeros(count, bool)
    anchored[np.unique(labels[unknown & touching])] = True
    floating = unknown & ~anchored[labels]
    if floating.any():
        out[floating] = fallback
        unknown = unknown & ~floating
        if not unknown.any():
            return out.reshape(image.shape).astype(np.float32)
    import scipy.sparse as sparse
    from scipy.sparse.linalg import splu

    ys, xs = np.nonzero(unknown)
    n = len(ys)
    index = np.full((height, width), -1, np.int64)
    index[ys, xs] = np.arange(n)
    diagonal = np.zeros(n)
    rhs = np.zeros((n, planes.shape[2]))
    rows, cols = [np.arange(n)], [np.arange(n)]
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        diagonal += inside
        src = np.nonzero(inside)[0]
        ny, nx = ny[inside], nx[inside]
        neighbour = index[ny, nx]
        free = neighbour >= 0
        rows.append(src[free])
        cols.append(neighbour[free])
        np.add.at(rhs, src[~free], out[ny[~free], nx[~free]])
    data = np.concatenate([diagonal, -np.ones(sum(len(r) for r in rows[1:]))])
    matrix = sparse.csc_matrix((data, (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    out[ys, xs] = splu(matrix).solve(rhs)
    return out.reshape(image.shape).astype(np.float32)


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
