"""Film scanners' RGBI TIFFs: the 4th channel is infrared (a dust map), not transparency, and never saved."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from inpaint_studio.core.errors import InvalidParameterError
from inpaint_studio.core.io import load_mask, load_photo, save_photo
from inpaint_studio.core.photo import Photo

DTYPES = [np.uint8, np.uint16]


def _rgbi(dtype: type, h: int = 10, w: int = 13, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max + 1, size=(h, w, 4), dtype=np.uint64).astype(dtype)


def _write(path: Path, data: np.ndarray, extrasamples, **options) -> Path:
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="contig", extrasamples=extrasamples,
                     metadata=None, **options)
    return path


def _drop_extrasamples_tag(path: Path) -> None:
    """Remove tag 338 from the first IFD, as some scanner software writes RGBI (4 samples, no tag)."""
    buf = bytearray(path.read_bytes())
    assert buf[:2] == b"II"
    (offset,) = struct.unpack("<I", buf[4:8])
    (count,) = struct.unpack("<H", buf[offset:offset + 2])
    rows = [bytes(buf[offset + 2 + 12 * i:offset + 14 + 12 * i]) for i in range(count)]
    kept = [row for row in rows if struct.unpack("<H", row[:2])[0] != 338]
    assert len(kept) == count - 1
    next_ifd = bytes(buf[offset + 2 + 12 * count:offset + 6 + 12 * count])
    table = struct.pack("<H", len(kept)) + b"".join(kept) + next_ifd + b"\0" * 12
    buf[offset:offset + len(table)] = table
    path.write_bytes(bytes(buf))
    with tifffile.TiffFile(path) as tif:
        assert tif.pages.first.extrasamples == ()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tagged", [True, False], ids=["unspecified", "no-tag"])
def test_rgbi_tiff_loads_as_rgb_plus_infrared(tmp_path, dtype, tagged):
    data = _rgbi(dtype)
    path = _write(tmp_path / "scan.tif", data, ["unspecified"])
    if not tagged:
        _drop_extrasamples_tag(path)
    photo = load_photo(path)
    assert photo.pixels.dtype == dtype and photo.pixels.shape == (10, 13, 3)
    np.testing.assert_array_equal(photo.pixels, data[..., :3])
    assert photo.alpha is None
    assert photo.infrared is not None and photo.infrared.dtype == dtype
    np.testing.assert_array_equal(photo.infrared, data[..., 3])


@pytest.mark.parametrize("kind", ["assocalpha", "unassalpha"])
def test_alpha_extra_sample_stays_alpha(tmp_path, kind):
    data = _rgbi(np.uint16)
    data[..., 3] = 65535  # opaque: premultiplied or not, the colour is the same
    photo = load_photo(_write(tmp_path / "a.tif", data, [kind]))
    assert photo.infrared is None
    np.testing.assert_array_equal(photo.alpha, data[..., 3])
    np.testing.assert_array_equal(photo.pixels, data[..., :3])


def test_alpha_and_infrared_together(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=(6, 7, 5), dtype=np.uint8)
    photo = load_photo(_write(tmp_path / "ai.tif", data, ["unassalpha", "unspecified"]))
    np.testing.assert_array_equal(photo.alpha, data[..., 3])
    np.testing.assert_array_equal(photo.infrared, data[..., 4])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_infrared_is_never_written(tmp_path, dtype, suffix):
    data = _rgbi(dtype)
    photo = load_photo(_write(tmp_path / "scan.tif", data, ["unspecified"]))
    out = save_photo(photo, tmp_path / f"out{suffix}")
    if suffix == ".tif":
        with tifffile.TiffFile(out) as tif:
            page = tif.pages.first
            assert page.samplesperpixel == 3 and page.extrasamples == ()
            stored = page.asarray()
    else:
        stored = cv2.cvtColor(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    assert stored.shape == (10, 13, 3) and stored.dtype == dtype
    np.testing.assert_array_equal(stored, data[..., :3])
    again = load_photo(out)
    assert again.infrared is None and again.alpha is None


def test_saving_alpha_and_infrared_writes_alpha_only(tmp_path):
    data = _rgbi(np.uint8, seed=5)
    data = np.dstack([data, data[..., :1] // 2])  # RGB + alpha + IR
    photo = load_photo(_write(tmp_path / "ai.tif", data, ["unassalpha", "unspecified"]))
    with tifffile.TiffFile(save_photo(photo, tmp_path / "out.tif")) as tif:
        page = tif.pages.first
        assert page.samplesperpixel == 4 and tuple(int(k) for k in page.extrasamples) == (2,)
        np.testing.assert_array_equal(page.asarray()[..., 3], data[..., 3])


def test_orientation_turns_infrared_with_the_pixels(tmp_path):
    data = _rgbi(np.uint8, h=4, w=6)
    path = _write(tmp_path / "o.tif", data, ["unspecified"], extratags=[(274, "H", 1, 6, True)])
    photo = load_photo(path)
    assert photo.pixels.shape == (6, 4, 3) and photo.infrared.shape == (6, 4)
    np.testing.assert_array_equal(photo.infrared, np.rot90(data[..., 3], k=-1))


def test_mask_from_an_rgbi_file_ignores_the_infrared(tmp_path):
    data = _rgbi(np.uint8)
    data[..., :3] = 255
    data[..., 3] = 0
    mask = load_mask(_write(tmp_path / "m.tif", data, ["unspecified"]))
    assert (mask == 255).all()


def test_with_pixels_keeps_infrared_in_the_new_depth(tmp_path):
    data = _rgbi(np.uint16)
    photo = load_photo(_write(tmp_path / "scan.tif", data, ["unspecified"]))
    same = photo.with_pixels(photo.pixels.copy())
    np.testing.assert_array_equal(same.infrared, data[..., 3])
    eight = photo.with_pixels((photo.pixels // 257).astype(np.uint8))
    assert eight.infrared.dtype == np.uint8
    np.testing.assert_array_equal(eight.infrared, ((data[..., 3].astype(np.uint32) + 128) // 257))


def test_photo_rejects_infrared_of_another_size():
    with pytest.raises(InvalidParameterError, match="infrared"):
        Photo(np.zeros((4, 5, 3), np.uint8), infrared=np.zeros((5, 4), np.uint8))
