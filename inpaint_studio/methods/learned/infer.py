"""Running a learned network on one region, with each network's own conventions.

Every released network expects its input built its own way (value range, mask polarity, what the
hole holds, padding multiple or fixed resolution) and returns its own range; get one wrong and the
fill is plausible-looking garbage. Each :class:`Recipe` states them once, from the spec's
``source.input_convention``, so the methods in :mod:`inpaint_studio.methods.learned.methods` are one
line each. Imported only inside ``Method.run`` (this module imports torch).

Weights come from the run context (``ctx.load_model``): methods may not import the runtime. A GPU
out-of-memory error is retried on overlapping tiles at the working resolution (2x2, then 3x3; only
tiles that hold hole pixels run, overlaps blended with a linear ramp so there is no seam), then on
the CPU. Networks with a fixed resolution (MI-GAN, Shift-Net, CSA) go straight to the CPU: a tile
would be resized to the same input size and need the same memory. Each fallback is told to the
context (``ctx.note``) so the result message says so, and the device that finally ran is reported
(``ctx.report_device``) so the provenance record names it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from inpaint_studio.core.errors import MethodFailedError
from inpaint_studio.methods.base import RunContext

log = logging.getLogger(__name__)

Forward = Callable[[Any, torch.Tensor, torch.Tensor], torch.Tensor]


def _lama(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    # [0,1] image with holes 0, then the hole mask (1 = fill); sigmoid output in [0,1]
    return model(torch.cat([img * (1.0 - hole), hole], dim=1))


def _deepfill(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    # 5 channels in [-1,1]: masked image (holes 0), a constant-1 channel, the mask; stage-2 tanh output
    x = img * 2.0 - 1.0
    ones = torch.ones_like(hole)
    _, stage2 = model(torch.cat([x * (1.0 - hole), ones, ones * hole], dim=1), hole)
    return (stage2 + 1.0) * 0.5


def _migan(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    # inverted polarity, mask first: cat([known - 0.5, image * known]) in [-1,1]; raw [-1,1] output
    known = 1.0 - hole
    x = img * 2.0 - 1.0
    return (model(torch.cat([known - 0.5, x * known], dim=1)) + 1.0) * 0.5


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _pconv(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    # ImageNet-normalised image times a 3-channel mask with 1 = VALID; output in normalised space
    mean = torch.tensor(_IMAGENET_MEAN, dtype=img.dtype, device=img.device).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD, dtype=img.dtype, device=img.device).view(1, 3, 1, 1)
    valid = (1.0 - hole).expand(-1, 3, -1, -1).contiguous()
    out, _ = model((img - mean) / std * valid, valid)
    return out * std + mean


def _shiftnet(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    # cat(image in [-1,1] with holes 0, known mask); the shift layer gets the hole mask beforehand
    x = img * 2.0 - 1.0
    model.set_mask(hole > 0.5)
    return (model(torch.cat([x * (1.0 - hole), 1.0 - hole], dim=1)) + 1.0) * 0.5


#: CSA's coarse stage sees holes filled with the ImageNet mean colour, R/G/B = 123/104/117
_CSA_FILL = tuple(2.0 * v / 255.0 - 1.0 for v in (123.0, 104.0, 117.0))


def _csa(model: Any, img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    x = img * 2.0 - 1.0
    fill = torch.tensor(_CSA_FILL, dtype=img.dtype, device=img.device).view(1, 3, 1, 1)
    _, fake_b = model(x * (1.0 - hole) + fill * hole, hole)
    return (fake_b.clamp(-1.0, 1.0) + 1.0) * 0.5  # netG has no output activation


@dataclass(frozen=True)
class Recipe:
    """One network's conventions."""

    weights: str
    forward: Forward
    #: the only resolution it runs at (square), or None for a fully convolutional network
    fixed_size: int | None = None
    #: H and W are padded (mirrored) up to a multiple of this
    multiple: int = 8
    #: fp16 autocast on CUDA (LaMa: no, its FFT needs power-of-two sizes in half precision)
    fp16: bool = True


RECIPES: dict[str, Recipe] = {
    "lama": Recipe("lama", _lama, multiple=8, fp16=False),
    "deepfill_v2": Recipe("deepfill_v2", _deepfill, multiple=8),
    "migan_256": Recipe("migan_256", _migan, fixed_size=256),
    "migan_512": Recipe("migan_512", _migan, fixed_size=512),
    "pconv": Recipe("pconv", _pconv, multiple=128),
    "shiftnet": Recipe("shiftnet", _shiftnet, fixed_size=256),
    "csa": Recipe("csa", _csa, fixed_size=256),
}


# ---------------------------------------------------------------------------------------------
# geometry: what the network sees and how its answer comes back


def _resize_hole(hole: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a bool hole; a working pixel touched by the hole is a hole (the hole never shrinks)."""
    if hole.shape == (height, width):
        return hole.copy()
    return cv2.resize(hole.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) > 0


def _resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image.copy()
    shrink = width < image.shape[1] or height < image.shape[0]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _pad(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Mirror-pad bottom/right to (height, width), as LaMa's own predict does (numpy 'symmetric')."""
    pad_h, pad_w = height - array.shape[0], width - array.shape[1]
    if pad_h == 0 and pad_w == 0:
        return array
    spec = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    # 'symmetric' needs the pad to fit in the array; repeat for tiny crops
    while pad_h > array.shape[0] or pad_w > array.shape[1]:
        step_h, step_w = min(pad_h, array.shape[0]), min(pad_w, array.shape[1])
        array = np.pad(array, [(0, step_h), (0, step_w)] + [(0, 0)] * (array.ndim - 2), mode="symmetric")
        pad_h, pad_w = pad_h - step_h, pad_w - step_w
        spec = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, spec, mode="symmetric")


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _to_tensor(image: np.ndarray, hole: np.ndarray, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    img = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(device)
    msk = torch.from_numpy(hole.astype(np.float32))[None, None].to(device)
    return img, msk


def _infer(recipe: Recipe, model: Any, image: np.ndarray, hole: np.ndarray, device: str) -> np.ndarray:
    """Network output (float32 HxWx3 in [0,1]) for an image already at its final size."""
    img, msk = _to_tensor(image, hole, device)
    img = img * (1.0 - msk)  # nothing of what is being removed reaches the network
    use_fp16 = recipe.fp16 and device.startswith("cuda")
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16, enabled=use_fp16):
        out = recipe.forward(model, img, msk)
    out = out.float().clamp(0.0, 1.0)[0].permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(out, dtype=np.float32)


def attempt(recipe: Recipe, model: Any, image: np.ndarray, hole: np.ndarray, device: str) -> np.ndarray:
    """One try on the whole crop at the working size: fit to the network, infer, map back to HxW."""
    height, width = hole.shape
    if recipe.fixed_size is not None:
        side = max(height, width)  # pad to a square first, so the network sees undistorted shapes
        sq_img, sq_hole = _pad(image, side, side), _pad(hole, side, side)
        size = recipe.fixed_size
        fitted_img, fitted_hole = _resize_image(sq_img, size, size), _resize_hole(sq_hole, size, size)
        out = _infer(recipe, model, fitted_img, fitted_hole, device)
        out = _resize_image(out, side, side)[:height, :width]
    else:
        ph, pw = _round_up(height, recipe.multiple), _round_up(width, recipe.multiple)
        out = _infer(recipe, model, _pad(image, ph, pw), _pad(hole, ph, pw), device)[:height, :width]
    return np.clip(out, 0.0, 1.0)


#: each tile overlaps its neighbour by this fraction of its own size
TILE_OVERLAP = 0.25


def tile_spans(length: int, count: int) -> list[tuple[int, int]]:
    """``count`` half-open spans covering ``[0, length)``, neighbours overlapping by ~TILE_OVERLAP."""
    if count <= 1 or length <= count:
        return [(0, length)]
    size = min(length, int(np.ceil(length / (count - (count - 1) * TILE_OVERLAP))))
    step = (length - size) / (count - 1)
    return [(round(i * step), round(i * step) + size) for i in range(count)]


def _ramp(span: tuple[int, int], prev_end: int | None, next_start: int | None) -> np.ndarray:
    """1-D blend weight of a tile: rises linearly over the overlap with each neighbour, 1 elsewhere."""
    start, end = span
    weight = np.ones(end - start, np.float32)
    if prev_end is not None and prev_end > start:
        n = prev_end - start
        weight[:n] = np.minimum(weight[:n], np.arange(1, n + 1, dtype=np.float32) / (n + 1))
    if next_start is not None and next_start < end:
        n = end - next_start
        weight[-n:] = np.minimum(weight[-n:], np.arange(n, 0, -1, dtype=np.float32) / (n + 1))
    return weight


def _ramps(spans: list[tuple[int, int]]) -> list[np.ndarray]:
    return [_ramp(span, spans[i - 1][1] if i else None, spans[i + 1][0] if i + 1 < len(spans) else None)
            for i, span in enumerate(spans)]


def attempt_tiled(recipe: Recipe, model: Any, image: np.ndarray, hole: np.ndarray, device: str,
                  grid: int, check_cancelled: Callable[[], None] | None = None) -> np.ndarray:
    """Fill on a ``grid`` x ``grid`` set of overlapping tiles, each run as its own crop and feathered.

    Tiles without hole pixels are skipped (their pixels are known). Weights never reach 0, and every
    tile covering a hole pixel runs, so each hole pixel gets a full weighted average of its tiles.
    """
    if grid <= 1:
        return attempt(recipe, model, image, hole, device)
    height, width = hole.shape
    rows, cols = tile_spans(height, grid), tile_spans(width, grid)
    row_w, col_w = _ramps(rows), _ramps(cols)
    total = np.zeros(image.shape, np.float32)
    weight = np.zeros(hole.shape, np.float32)
    for (top, bottom), wr in zip(rows, row_w, strict=True):
        for (left, right), wc in zip(cols, col_w, strict=True):
            tile_hole = hole[top:bottom, left:right]
            if not tile_hole.any():
                continue
            if check_cancelled is not None:
                check_cancelled()
            out = attempt(recipe, model, image[top:bottom, left:right], tile_hole, device)
            w = wr[:, None] * wc[None, :]
            total[top:bottom, left:right] += out * w[..., None]
            weight[top:bottom, left:right] += w
    result = image.astype(np.float32, copy=True)
    covered = weight > 0
    result[covered] = total[covered] / weight[covered][:, None]
    return result


def is_out_of_memory(exc: BaseException) -> bool:
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_device_memory() -> None:
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        log.debug("could not empty the CUDA cache", exc_info=True)


#: tile grids tried on the same device after an out-of-memory error (networks of any input size)
TILE_GRIDS = (2, 3)


def plan_attempts(recipe: Recipe, device: str) -> list[tuple[str, int]]:
    """(device, grid) tries: whole crop as asked; on a GPU then tiles (free-size networks), then the CPU.

    A fixed-size network resizes any tile to its one resolution, so tiling saves it no memory: it goes
    straight to the CPU.
    """
    attempts = [(device, 1)]
    if device != "cpu":
        if recipe.fixed_size is None:
            attempts.extend((device, grid) for grid in TILE_GRIDS)
        attempts.append(("cpu", 1))
    return attempts


def run_network(recipe_name: str, image: np.ndarray, hole: np.ndarray, ctx: RunContext,
                label: str) -> np.ndarray:
    """Fill ``hole`` of the float32 crop ``image`` with the network; known pixels are kept."""
    recipe = RECIPES[recipe_name]
    load_model = getattr(ctx, "load_model", None)
    if load_model is None:
        raise MethodFailedError(f"{label} needs a runtime that loads network weights (ctx.load_model)")
    hole = np.asarray(hole, dtype=bool)
    image = np.asarray(image, dtype=np.float32)
    attempts = plan_attempts(recipe, ctx.device)
    ctx.progress(0.0, f"loading {label}")
    for index, (device, grid) in enumerate(attempts):
        try:
            model = load_model(recipe.weights, device)  # moving a network to a full GPU can fail too
            ctx.check_cancelled()
            ctx.progress(0.1, f"running {label}" + ("" if device == ctx.device else f" on {device}"))
            out = attempt_tiled(recipe, model, image, hole, device, grid, ctx.check_cancelled)
            break
        except Exception as exc:
            if not is_out_of_memory(exc) or index + 1 == len(attempts):
                raise
            model = None
            _free_device_memory()
            next_device, next_grid = attempts[index + 1]
            if next_device == device:
                text = f"the GPU ran out of memory: {label} retried on {next_grid}x{next_grid} tiles"
            else:
                text = f"the GPU ran out of memory: {label} ran on the CPU"
            log.warning("%s (%s)", text, exc)
            note = getattr(ctx, "note", None)
            if note is not None:
                note(text)
            ctx.progress(0.1, text)
    report_device = getattr(ctx, "report_device", None)
    if report_device is not None:
        report_device(device)
    result = image.copy()
    result[hole] = out[hole]
    return result
