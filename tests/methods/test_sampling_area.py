"""The sampling area (issue 5): a patch-based fill copies only from where the user allows.

Driven through ``run_fill``, as the GUI and the CLI do, so the whole path is covered: request,
validation, crop planning (the crop grows to reach the area), the task's mask at working size,
``ctx.sampling_area`` and the method's own source selection. Images are tiny: the numba kernels
compile once per machine (cached on disk), the fills themselves take milliseconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.runtime.jobs import FillRequest, run_fill

RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 200, 30)
PATCH_METHODS = ["patchmatch", "criminisi"]


def _red_blue() -> tuple[np.ndarray, np.ndarray]:
    """Left half red, right half blue, a hole straddling the border between them."""
    image = np.zeros((40, 64, 3), np.uint8)
    image[:, :32] = RED
    image[:, 32:] = BLUE
    mask = np.zeros((40, 64), np.uint8)
    mask[14:26, 24:40] = 255
    return image, mask


def _is_colour(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return (np.abs(pixels.astype(int) - np.array(colour)) <= tolerance).all(axis=-1)


@pytest.mark.parametrize("method", PATCH_METHODS)
def test_without_a_sampling_area_both_sides_are_copied(method: str) -> None:
    # the control case: it is the sampling area, not the method, that keeps red out below
    image, mask = _red_blue()
    result = run_fill(FillRequest(image, mask, method))
    assert result.ok, result.message
    filled = result.pixels[mask > 0]
    assert _is_colour(filled, RED).any() and _is_colour(filled, BLUE).any()


@pytest.mark.parametrize("method", PATCH_METHODS)
@pytest.mark.parametrize(("side", "colour"), [("right", BLUE), ("left", RED)])
def test_the_fill_uses_only_pixels_from_the_sampling_area(method: str, side: str, colour: tuple) -> None:
    image, mask = _red_blue()
    sampling = np.zeros(mask.shape, np.uint8)
    if side == "right":
        sampling[:, 32:] = 255
    else:
        sampling[:, :32] = 255
    result = run_fill(FillRequest(image, mask, method, sampling=sampling))
    assert result.ok, result.message
    assert _is_colour(result.pixels[mask > 0], colour).all()
    assert np.array_equal(result.pixels[mask == 0], image[mask == 0])
    assert "sampling" not in result.message  # honoured, so no "ignored" note


@pytest.mark.parametrize("method", PATCH_METHODS)
def test_a_distant_sampling_area_is_reached(method: str) -> None:
    # grey around the hole, green only far beyond the method's usual context margin
    image = np.full((120, 520, 3), 110, np.uint8)
    image[:, 440:] = GREEN
    mask = np.zeros((120, 520), np.uint8)
    mask[50:66, 40:56] = 255
    sampling = np.zeros(mask.shape, np.uint8)
    sampling[:, 460:] = 255
    result = run_fill(FillRequest(image, mask, method, sampling=sampling))
    assert result.ok, result.message
    assert _is_colour(result.pixels[mask > 0], GREEN).all()
    assert np.array_equal(result.pixels[mask == 0], image[mask == 0])


def test_an_all_zero_sampling_area_means_none_painted() -> None:
    image, mask = _red_blue()
    plain = run_fill(FillRequest(image, mask, "criminisi", seed=3))
    empty = run_fill(FillRequest(image, mask, "criminisi", seed=3, sampling=np.zeros(mask.shape, np.uint8)))
    assert plain.ok and empty.ok
    assert np.array_equal(plain.pixels, empty.pixels)
