"""Photo and mask file I/O: a photographer's file must round-trip without losing anything."""

from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin
from PIL.TiffImagePlugin import IFDRational

from inpaint_studio.core.errors import (
    CorruptFileError,
    EmptyImageError,
    ImageTooLargeError,
    InvalidInputError,
    InvalidParameterError,
    MaskMismatchError,
    MissingFileError,
    OverwriteRefusedError,
    SaveError,
    UnsupportedFormatError,
)
from inpaint_studio.core.io import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    _pillow,
    _png,
    _tiff,
    can_hold_bit_depth,
    format_from_path,
    load_mask,
    load_photo,
    metadata_losses,
    save_mask,
    save_photo,
)
from inpaint_studio.core.photo import Photo, convert_depth

# ---------------------------------------------------------------------------------------------
# helpers (kept in this file: tests/core/conftest.py belongs to no one helper)


def _rgb(dtype: type = np.uint8, h: int = 12, w: int = 17, seed: int = 0) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top, (h, w, 3), dtype=dtype, endpoint=True)


def _plane(dtype: type = np.uint8, h: int = 12, w: int = 17, seed: int = 1) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top, (h, w), dtype=dtype, endpoint=True)


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[271] = "Canon"
    exif[272] = "EOS R5"
    exif[306] = "2024:05:06 07:08:09"
    exif[33432] = "(c) A. Photographer"
    exif[274] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = IFDRational(1, 250)  # ExposureTime
    sub[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 30.0, 15.0)
    return exif


def _exif_of_file(path: Path) -> dict[int, object]:
    """EXIF as an independent reader (Pillow) sees it: IFD0 tags, with the Exif/GPS IFDs as dicts."""
    with Image.open(path) as image:
        exif = image.getexif()
        tags: dict[int, object] = dict(exif)
        tags[0x8769] = dict(exif.get_ifd(0x8769))
        tags[0x8825] = dict(exif.get_ifd(0x8825))
    return tags


def _assert_camera_fields(exif: dict[int, object]) -> None:
    assert exif.get(271) == "Canon"
    assert exif.get(272) == "EOS R5"
    assert exif.get(306) == "2024:05:06 07:08:09"
    assert exif.get(33432) == "(c) A. Photographer"
    assert exif.get(274, 1) == 1
    sub, gps = exif[0x8769], exif[0x8825]
    assert isinstance(sub, dict) and isinstance(gps, dict)
    assert float(sub[0x829A]) == pytest.approx(1 / 250)
    assert sub[0x9003] == "2024:05:06 07:08:09"
    assert gps[1] == "N"


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _png_with_ihdr(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


LAYOUTS = ["rgb", "rgba", "grey", "grey_alpha"]


def _photo(layout: str, dtype: type) -> Photo:
    alpha = _plane(dtype, seed=7) if layout in ("rgba", "grey_alpha") else None
    if layout.startswith("grey"):
        grey = _plane(dtype, seed=3)
        return Photo(np.repeat(grey[..., None], 3, axis=2), alpha=alpha, greyscale=True)
    return Photo(_rgb(dtype), alpha=alpha)


def _stored_channels(path: Path) -> int:
    """Channels as written in the file (independent readers: tifffile, OpenCV)."""
    if path.suffix == ".tif":
        return tifffile.TiffFile(path).pages.first.samplesperpixel
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if path.suffix == ".png":
        return {0: 1, 2: 3, 4: 2, 6: 4}[path.read_bytes()[25]]  # IHDR colour type
    return 1 if decoded.ndim == 2 else decoded.shape[2]


# ---------------------------------------------------------------------------------------------
# lossless round-trips


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_lossless_roundtrip_is_bit_exact(tmp_path: Path, ext: str, dtype: type, layout: str) -> None:
    photo = _photo(layout, dtype)
    out = save_photo(photo, tmp_path / f"photo{ext}")
    back = load_photo(out)
    assert back.pixels.dtype == dtype
    np.testing.assert_array_equal(back.pixels, photo.pixels)
    assert back.greyscale == photo.greyscale
    if photo.alpha is None:
        assert back.alpha is None
    else:
        np.testing.assert_array_equal(back.alpha, photo.alpha)
    expected_channels = {"rgb": 3, "rgba": 4, "grey": 1, "grey_alpha": 2}[layout]
    assert _stored_channels(out) == expected_channels
    assert back.source_format == ("PNG" if ext == ".png" else "TIFF")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    image=arrays(np.uint16, st.tuples(st.integers(1, 9), st.integers(1, 9), st.just(3))),
    ext=st.sampled_from([".png", ".tif"]),
)
def test_random_16bit_images_roundtrip_exactly(image: np.ndarray, ext: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = save_photo(Photo(image), Path(folder) / f"p{ext}")
        np.testing.assert_array_equal(load_photo(out).pixels, image)


def test_kodak_crop_roundtrips_at_16_bit(tmp_path: Path, kodak_dir: Path) -> None:
    source = load_photo(kodak_dir / "images" / "kodim23.png")
    crop = source.pixels[100:164, 200:296]
    pixels16 = convert_depth(crop, np.uint16) + np.uint16(3)  # low bits set: a real 16-bit image
    photo16 = Photo(pixels16, icc_profile=_srgb_icc(), dpi=(300.0, 300.0))
    for ext in (".png", ".tif"):
        back = load_photo(save_photo(photo16, tmp_path / f"kodak{ext}"))
        np.testing.assert_array_equal(back.pixels, photo16.pixels)
        assert back.icc_profile == photo16.icc_profile
        assert back.dpi == (300.0, 300.0)


def test_webp_lossless_keeps_pixels_and_alpha_exactly(tmp_path: Path) -> None:
    photo = Photo(_rgb(), alpha=_plane(seed=9), icc_profile=_srgb_icc())
    back = load_photo(save_photo(photo, tmp_path / "p.webp"))
    np.testing.assert_array_equal(back.pixels, photo.pixels)
    np.testing.assert_array_equal(back.alpha, photo.alpha)
    assert back.icc_profile == photo.icc_profile
    assert back.extra["webp_lossless"] is True


def test_lossy_webp_source_stays_lossy(tmp_path: Path) -> None:
    Image.fromarray(_rgb(h=32, w=32)).save(tmp_path / "lossy.webp", quality=80)
    photo = load_photo(tmp_path / "lossy.webp")
    assert photo.extra["webp_lossless"] is False
    save_photo(photo, tmp_path / "again.webp")
    assert b"VP8 " in (tmp_path / "again.webp").read_bytes()[:64]


def test_bmp_roundtrip_is_exact_and_greyscale_stays_grey(tmp_path: Path) -> None:
    rgb = Photo(_rgb(), dpi=(300.0, 300.0))
    back = load_photo(save_photo(rgb, tmp_path / "p.bmp"))
    np.testing.assert_array_equal(back.pixels, rgb.pixels)
    assert back.dpi == (300.0, 300.0)
    grey = _photo("grey", np.uint8)
    back = load_photo(save_photo(grey, tmp_path / "g.bmp"))
    assert back.greyscale
    np.testing.assert_array_equal(back.pixels, grey.pixels)


# ---------------------------------------------------------------------------------------------
# JPEG


def test_jpeg_roundtrip_is_close_and_keeps_icc_exif(tmp_path: Path, kodak_dir: Path) -> None:
    pixels = load_photo(kodak_dir / "images" / "kodim23.png").pixels[100:196, 200:328]
    source = tmp_path / "camera.jpg"
    Image.fromarray(pixels).save(source, quality=95, icc_profile=_srgb_icc(), exif=_camera_exif())
    photo = load_photo(source)
    out = save_photo(photo, tmp_path / "edited.jpg")
    back = load_photo(out)
    assert np.abs(back.pixels.astype(int) - photo.pixels.astype(int)).mean() < 1.5  # one generation
    assert back.icc_profile == photo.icc_profile == _srgb_icc()
    _assert_camera_fields(_exif_of_file(out))
    with Image.open(out) as image:
        assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4 at quality >= 90


def test_jpeg_quality_is_honoured(tmp_path: Path) -> None:
    photo = Photo(_rgb(h=64, w=64))
    small = save_photo(photo, tmp_path / "q30.jpg", jpeg_quality=30).stat().st_size
    large = save_photo(photo, tmp_path / "q98.jpg", jpeg_quality=98).stat().st_size
    assert small < large
    with pytest.raises(InvalidParameterError):
        save_photo(photo, tmp_path / "bad.jpg", jpeg_quality=0)
    assert not (tmp_path / "bad.jpg").exists()


def test_greyscale_jpeg_stays_single_channel(tmp_path: Path) -> None:
    Image.fromarray(_plane(h=16, w=16), "L").save(tmp_path / "grey.jpg")
    photo = load_photo(tmp_path / "grey.jpg")
    assert photo.greyscale
    out = save_photo(photo, tmp_path / "out.jpg")
    with Image.open(out) as image:
        assert image.mode == "L"


# ---------------------------------------------------------------------------------------------
# metadata


@pytest.mark.parametrize(
    ("ext", "dtype"),
    [(".png", np.uint8), (".png", np.uint16), (".tif", np.uint8), (".tif", np.uint16), (".jpg", np.uint8),
     (".webp", np.uint8)],
)
def test_icc_profile_is_kept_byte_for_byte(tmp_path: Path, ext: str, dtype: type) -> None:
    icc = _srgb_icc()
    back = load_photo(save_photo(Photo(_rgb(dtype), icc_profile=icc), tmp_path / f"p{ext}"))
    assert back.icc_profile == icc


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg", ".webp"])
def test_exif_fields_survive_a_save(tmp_path: Path, ext: str) -> None:
    source = tmp_path / "camera.jpg"
    Image.fromarray(_rgb(h=16, w=16)).save(source, quality=95, exif=_camera_exif())
    photo = load_photo(source)
    out = save_photo(photo, tmp_path / f"edited{ext}")
    if ext == ".tif":
        # independent check with tifffile: Exif and GPS sub-IFDs are real sub-IFDs in the TIFF
        tags = tifffile.TiffFile(out).pages.first.tags
        assert tags["Make"].value == "Canon"
        assert tags["ExifTag"].value["DateTimeOriginal"] == "2024:05:06 07:08:09"
        assert tags["GPSTag"].value["GPSLatitudeRef"] == "N"
    _assert_camera_fields(_exif_of_file(out))
    # and our own reader gives the same EXIF back, so a second save keeps it too
    _assert_camera_fields(_exif_of_file(save_photo(load_photo(out), tmp_path / f"again{ext}")))


def test_tiff_to_tiff_keeps_metadata_byte_identical(tmp_path: Path) -> None:
    source = tmp_path / "camera.jpg"
    Image.fromarray(_rgb(h=16, w=16)).save(source, exif=_camera_exif())
    first = save_photo(load_photo(source), tmp_path / "a.tif")
    second = save_photo(load_photo(first), tmp_path / "b.tif")
    assert first.read_bytes() == second.read_bytes()


def test_png_text_xmp_and_dpi_are_kept(tmp_path: Path) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    photo = Photo(
        _rgb(np.uint16),
        dpi=(240.0, 240.0),
        extra={"xmp": xmp, "png_text": {"Author": "Ann", "Comment": "caf\u00e9 \u263a"}},
    )
    back = load_photo(save_photo(photo, tmp_path / "p.png"))
    assert back.extra["xmp"] == xmp
    assert back.extra["png_text"] == {"Author": "Ann", "Comment": "caf\u00e9 \u263a"}
    assert back.dpi == (240.0, 240.0)
    with Image.open(tmp_path / "p.png") as image:  # a reader other than ours sees the same
        assert image.info["Author"] == "Ann"


def test_jpeg_xmp_and_dpi_are_kept(tmp_path: Path) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.fromarray(_rgb()).save(tmp_path / "a.jpg", xmp=xmp, dpi=(300, 300))
    back = load_photo(save_photo(load_photo(tmp_path / "a.jpg"), tmp_path / "b.jpg"))
    assert back.extra["xmp"] == xmp
    assert back.dpi == (300.0, 300.0)


# ---------------------------------------------------------------------------------------------
# orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_every_viewer(tmp_path: Path, orientation: int) -> None:
    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[0, 0], pixels[0, 5], pixels[3, 0] = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    source = tmp_path / "o.png"  # lossless, so the oracle comparison is exact
    Image.fromarray(pixels).save(source, exif=_camera_exif(orientation))
    with Image.open(source) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    photo = load_photo(source)
    np.testing.assert_array_equal(photo.pixels, expected)
    exif = Image.Exif()
    exif.load(photo.exif)
    assert exif.get(274) == 1


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_is_reset_to_1_on_save(tmp_path: Path, orientation: int) -> None:
    source = tmp_path / "o.jpg"
    Image.fromarray(_rgb(h=8, w=16)).save(source, exif=_camera_exif(orientation))
    photo = load_photo(source)
    assert photo.pixels.shape[:2] == ((8, 16) if orientation == 3 else (16, 8))
    for ext in (".jpg", ".png", ".tif", ".webp"):
        out = save_photo(photo, tmp_path / f"out{ext}")
        assert _exif_of_file(out).get(274, 1) == 1
        assert load_photo(out).pixels.shape == photo.pixels.shape  # no second rotation


def test_tiff_orientation_tag_is_applied(tmp_path: Path) -> None:
    pixels = _rgb(np.uint16, h=4, w=6)
    tifffile.imwrite(tmp_path / "o.tif", pixels, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    photo = load_photo(tmp_path / "o.tif")
    np.testing.assert_array_equal(photo.pixels, np.rot90(pixels, k=-1))
    out = save_photo(photo, tmp_path / "out.tif")
    tags = tifffile.TiffFile(out).pages.first.tags
    assert 274 not in tags or tags[274].value == 1
    np.testing.assert_array_equal(load_photo(out).pixels, photo.pixels)


# ---------------------------------------------------------------------------------------------
# depth conversion and format rules


def test_bit_depth_conversion_is_exact(tmp_path: Path) -> None:
    photo8 = Photo(_rgb(np.uint8))
    up = load_photo(save_photo(photo8, tmp_path / "up.png", bit_depth=16))
    np.testing.assert_array_equal(up.pixels, photo8.pixels.astype(np.uint16) * 257)
    down = load_photo(save_photo(up, tmp_path / "down.tif", bit_depth=8))
    np.testing.assert_array_equal(down.pixels, photo8.pixels)


def test_16_bit_into_8_bit_format(tmp_path: Path) -> None:
    photo = Photo(_rgb(np.uint16))
    back = load_photo(save_photo(photo, tmp_path / "p.bmp"))
    np.testing.assert_array_equal(back.pixels, convert_depth(photo.pixels, np.uint8))
    with pytest.raises(UnsupportedFormatError, match="16"):
        save_photo(photo, tmp_path / "q.jpg", bit_depth=16)
    assert not (tmp_path / "q.jpg").exists()
    assert any("8 bit" in loss for loss in metadata_losses(photo, "JPEG"))


def test_format_comes_from_extension_then_source(tmp_path: Path) -> None:
    photo = Photo(_rgb(), source_format="TIFF")
    assert load_photo(save_photo(photo, tmp_path / "a.png")).source_format == "PNG"
    assert load_photo(save_photo(photo, tmp_path / "noext")).source_format == "TIFF"
    with pytest.raises(InvalidParameterError):
        save_photo(photo, tmp_path / "b.png", format="JPEG")
    with pytest.raises(UnsupportedFormatError):
        save_photo(Photo(_rgb()), tmp_path / "c.gif")
    assert _listing(tmp_path) == ["a.png", "noext"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP", "BMP"])
def test_can_hold_bit_depth_agrees_with_save_photo(tmp_path: Path, fmt: str) -> None:
    """The CLI refuses --bit-depth 16 early with this; it must say exactly what save_photo does."""
    photo = Photo(_rgb(np.uint16))
    target = tmp_path / f"p.{fmt.lower()}"
    assert can_hold_bit_depth(fmt, 8) and can_hold_bit_depth(fmt.lower(), 8)
    if can_hold_bit_depth(fmt, 16):
        assert load_photo(save_photo(photo, target, bit_depth=16)).bit_depth == 16
    else:
        with pytest.raises(UnsupportedFormatError):
            save_photo(photo, target, bit_depth=16)
    assert can_hold_bit_depth(fmt, 16) == (fmt in ("PNG", "TIFF"))
    assert not can_hold_bit_depth(fmt, 32) and not can_hold_bit_depth("GIF", 8)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.png", "PNG"), ("a.JPG", "JPEG"), ("a.jpeg", "JPEG"), ("a.tif", "TIFF"), ("a.TIFF", "TIFF"),
     ("a.webp", "WEBP"), ("a.bmp", "BMP")],
)
def test_format_from_path(name: str, fmt: str) -> None:
    assert format_from_path(name) == fmt


@pytest.mark.parametrize("name", ["a.gif", "a.svg", "a", "a.png.txt"])
def test_format_from_path_refuses_unknown(name: str) -> None:
    with pytest.raises(UnsupportedFormatError):
        format_from_path(name)


def test_content_decides_not_extension(tmp_path: Path) -> None:
    Image.fromarray(_rgb()).save(tmp_path / "really_a_jpeg.png", format="JPEG")
    assert load_photo(tmp_path / "really_a_jpeg.png").source_format == "JPEG"


# ---------------------------------------------------------------------------------------------
# other source layouts


def test_palette_png_becomes_rgb_and_keeps_transparency(tmp_path: Path) -> None:
    indices = np.random.default_rng(0).integers(0, 3, (8, 8), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    image.save(tmp_path / "p.png", transparency=2)
    photo = load_photo(tmp_path / "p.png")
    assert not photo.greyscale
    np.testing.assert_array_equal(photo.pixels[indices == 0], np.tile([255, 0, 0], ((indices == 0).sum(), 1)))
    np.testing.assert_array_equal(photo.alpha, np.where(indices == 2, 0, 255))


def test_one_bit_image_loads_as_8_bit_grey(tmp_path: Path) -> None:
    bits = np.random.default_rng(0).integers(0, 2, (8, 8)).astype(bool)
    Image.fromarray(bits).save(tmp_path / "b.png")
    tifffile.imwrite(tmp_path / "b.tif", bits, photometric="minisblack")
    for name in ("b.png", "b.tif"):
        photo = load_photo(tmp_path / name)
        assert photo.greyscale and photo.dtype == np.uint8
        np.testing.assert_array_equal(photo.pixels[..., 0], np.where(bits, 255, 0))


def test_tiff_planar_lzw_and_premultiplied_alpha(tmp_path: Path) -> None:
    pixels = _rgb(np.uint16)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(pixels, -1, 0), photometric="rgb",
                     planarconfig="separate", compression="lzw")
    np.testing.assert_array_equal(load_photo(tmp_path / "planar.tif").pixels, pixels)
    assert load_photo(tmp_path / "planar.tif").extra["tiff_compression"] == 5
    colour = np.full((2, 2, 3), 100, np.uint8)
    alpha = np.full((2, 2), 128, np.uint8)
    premultiplied = np.dstack([(colour.astype(int) * 128 // 255).astype(np.uint8), alpha])
    tifffile.imwrite(tmp_path / "assoc.tif", premultiplied, photometric="rgb", extrasamples=["assocalpha"])
    photo = load_photo(tmp_path / "assoc.tif")
    assert np.abs(photo.pixels.astype(int) - 100).max() <= 1
    np.testing.assert_array_equal(photo.alpha, alpha)


# ---------------------------------------------------------------------------------------------
# bad inputs: a specific error, the file named, nothing written


def _bad_inputs(folder: Path) -> dict[str, tuple[Path, type[Exception]]]:
    png = io.BytesIO()
    Image.fromarray(_rgb(h=64, w=64)).save(png, "PNG")
    jpeg = io.BytesIO()
    Image.fromarray(_rgb(h=64, w=64)).save(jpeg, "JPEG")
    tiff = io.BytesIO()
    tifffile.imwrite(tiff, _rgb(np.uint16, h=64, w=64), photometric="rgb", compression="zlib")
    files = {
        "missing": (folder / "nope.png", MissingFileError),
        "directory": (folder / "adir.png", MissingFileError),
        "gif": (folder / "anim.gif", UnsupportedFormatError),
        "text_renamed": (folder / "notes.png", UnsupportedFormatError),
        "svg": (folder / "logo.svg", UnsupportedFormatError),
        "empty_file": (folder / "empty.jpg", UnsupportedFormatError),
        "truncated_png": (folder / "half.png", CorruptFileError),
        "truncated_jpeg": (folder / "half.jpg", CorruptFileError),
        "truncated_tiff": (folder / "half.tif", CorruptFileError),
        "zero_size": (folder / "zero.png", EmptyImageError),
        "cmyk_jpeg": (folder / "print.jpg", UnsupportedFormatError),
        "cmyk_tiff": (folder / "print.tif", UnsupportedFormatError),
        "float_tiff": (folder / "hdr.tif", UnsupportedFormatError),
    }
    (folder / "adir.png").mkdir()
    Image.new("P", (4, 4)).save(folder / "anim.gif")
    (folder / "notes.png").write_text("shopping list: milk, eggs\n")
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "half.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (folder / "half.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    (folder / "half.tif").write_bytes(tiff.getvalue()[: len(tiff.getvalue()) // 2])
    (folder / "zero.png").write_bytes(_png_with_ihdr(0, 5))
    Image.new("CMYK", (8, 8), (0, 50, 100, 0)).save(folder / "print.jpg")
    tifffile.imwrite(folder / "print.tif", np.zeros((8, 8, 4), np.uint8), photometric="separated")
    tifffile.imwrite(folder / "hdr.tif", np.zeros((8, 8, 3), np.float32), photometric="rgb")
    return files


@pytest.mark.parametrize(
    "case",
    ["missing", "directory", "gif", "text_renamed", "svg", "empty_file", "truncated_png", "truncated_jpeg",
     "truncated_tiff", "zero_size", "cmyk_jpeg", "cmyk_tiff", "float_tiff"],
)
def test_bad_input_gives_specific_error(tmp_path: Path, case: str) -> None:
    path, error = _bad_inputs(tmp_path)[case]
    before = _listing(tmp_path)
    with pytest.raises(error) as caught:
        load_photo(path)
    assert type(caught.value) is error  # the specific class, not a broader one
    assert path.name in str(caught.value)
    with pytest.raises(error):
        load_mask(path)
    assert _listing(tmp_path) == before


def test_a_missing_file_is_still_an_invalid_input(tmp_path: Path) -> None:
    """Callers that catch InvalidInputError (exit code 2) keep working with the narrower class."""
    with pytest.raises(InvalidInputError) as caught:
        load_photo(tmp_path / "nope.png")
    assert isinstance(caught.value, MissingFileError) and caught.value.exit_code == 2


def test_cmyk_message_says_convert_to_rgb(tmp_path: Path) -> None:
    path, _ = _bad_inputs(tmp_path)["cmyk_jpeg"]
    with pytest.raises(UnsupportedFormatError, match="convert it to RGB"):
        load_photo(path)


def test_truncated_png_is_not_returned_half_grey(tmp_path: Path) -> None:
    """OpenCV returns None for an incomplete PNG; make sure that stays an error, not an image."""
    path, _ = _bad_inputs(tmp_path)["truncated_png"]
    with pytest.raises(CorruptFileError, match="truncated"):
        load_photo(path)


# ---------------------------------------------------------------------------------------------
# pixel limit


def test_pixel_limit_from_argument_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(_rgb(h=20, w=30)).save(tmp_path / "p.jpg")
    with pytest.raises(ImageTooLargeError) as caught:
        load_photo(tmp_path / "p.jpg", max_pixels=599)
    assert "30x20" in str(caught.value) and "599" in str(caught.value)
    assert load_photo(tmp_path / "p.jpg", max_pixels=600).width == 30
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    with pytest.raises(ImageTooLargeError):
        load_photo(tmp_path / "p.jpg")
    with pytest.raises(ImageTooLargeError):
        load_mask(tmp_path / "p.jpg")
    assert load_photo(tmp_path / "p.jpg", max_pixels=10_000).height == 20  # argument beats env
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(InvalidParameterError, match=MAX_PIXELS_ENV):
        load_photo(tmp_path / "p.jpg")
    assert DEFAULT_MAX_PIXELS == 300_000_000


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_pixel_limit_checked_before_decoding(
    tmp_path: Path, ext: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_photo(Photo(_rgb(h=20, w=30)), tmp_path / f"p{ext}")

    def no_decode(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("decoded despite the limit")

    monkeypatch.setattr(cv2, "imdecode", no_decode)
    monkeypatch.setattr(tifffile.TiffPage, "asarray", no_decode)
    monkeypatch.setattr(Image.Image, "load", no_decode)
    with pytest.raises(ImageTooLargeError):
        load_photo(tmp_path / f"p{ext}", max_pixels=100)


def test_our_limit_not_pillows_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow would warn at 50 and refuse at 100
    Image.fromarray(_rgb(h=20, w=30)).save(tmp_path / "p.webp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_photo(tmp_path / "p.webp").width == 30
    assert Image.MAX_IMAGE_PIXELS == 50  # restored


# ---------------------------------------------------------------------------------------------
# saving safely


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"precious")
    with pytest.raises(OverwriteRefusedError):
        save_photo(Photo(_rgb()), target)
    assert target.read_bytes() == b"precious"
    assert _listing(tmp_path) == ["photo.png"]
    save_photo(Photo(_rgb()), target, overwrite=True)
    np.testing.assert_array_equal(load_photo(target).pixels, _rgb())


def test_new_file_gets_normal_permissions(tmp_path: Path) -> None:
    out = save_photo(Photo(_rgb()), tmp_path / "p.png")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_failing_save_leaves_old_file_and_no_temp(
    tmp_path: Path, ext: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"photo{ext}"
    save_photo(Photo(_rgb(seed=1)), target)
    original = target.read_bytes()

    def half_then_crash(fh: io.BufferedWriter, *_args: object) -> None:
        fh.write(b"half a file")
        raise RuntimeError("disk on fire")

    writers = {".png": (_png, "write_png"), ".tif": (_tiff, "write_tiff"), ".jpg": (_pillow, "write_jpeg")}
    module, writer = writers[ext]
    monkeypatch.setattr(module, writer, half_then_crash)
    with pytest.raises(SaveError, match="disk on fire"):
        save_photo(Photo(_rgb(seed=2)), target, overwrite=True)
    assert target.read_bytes() == original
    assert _listing(tmp_path) == [target.name]


def test_encoder_failure_inside_library_is_a_save_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("encoder exploded")

    monkeypatch.setattr(tifffile, "imwrite", broken)
    with pytest.raises(SaveError):
        save_photo(Photo(_rgb()), tmp_path / "p.tif")
    assert _listing(tmp_path) == []


def test_save_into_missing_folder_is_a_save_error(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match="does not exist"):
        save_photo(Photo(_rgb()), tmp_path / "no" / "such" / "p.png")


# ---------------------------------------------------------------------------------------------
# masks


def test_mask_from_white_on_black(tmp_path: Path) -> None:
    mask = np.zeros((10, 12), np.uint8)
    mask[2:5, 3:9] = 255
    mask[6, 6] = 128
    Image.fromarray(mask).save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png", shape=(10, 12, 3)), mask)


def test_mask_from_colour_image_uses_luminance(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[0, 0] = (255, 255, 255)
    rgb[1, 1] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "m.png")
    coverage = load_mask(tmp_path / "m.png")
    assert coverage[0, 0] == 255 and coverage[1, 1] == round(0.299 * 255) and coverage[3, 3] == 0


def test_mask_from_alpha_strokes(tmp_path: Path) -> None:
    rgba = np.zeros((6, 6, 4), np.uint8)  # black paint on a transparent layer
    rgba[1:3, 1:4, 3] = 255
    rgba[4, 4, 3] = 100
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png"), rgba[..., 3])


def test_opaque_alpha_falls_back_to_luminance(tmp_path: Path) -> None:
    rgba = np.full((6, 6, 4), 255, np.uint8)
    rgba[..., :3] = 0
    rgba[2, 2, :3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    coverage = load_mask(tmp_path / "m.png")
    assert coverage[2, 2] == 255 and coverage.sum() == 255


def test_16_bit_mask_is_scaled_to_8_bit(tmp_path: Path) -> None:
    mask16 = np.array([[0, 65535], [32896, 257]], np.uint16)
    save_photo(Photo(np.repeat(mask16[..., None], 3, 2), greyscale=True), tmp_path / "m.tif")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.tif"), [[0, 255], [128, 1]])


def test_mask_size_mismatch_names_both_sizes(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(MaskMismatchError) as caught:
        load_mask(tmp_path / "m.png", shape=(20, 30))
    assert "12x10" in str(caught.value) and "30x20" in str(caught.value) and "m.png" in str(caught.value)


def test_mask_orientation_matches_photo(tmp_path: Path) -> None:
    """A mask carrying the photo's raw grid + orientation tag must line up with the loaded photo."""
    raw = np.zeros((4, 6, 3), np.uint8)
    raw[0, 0] = 255
    exif = _camera_exif(6)
    Image.fromarray(raw).save(tmp_path / "photo.png", exif=exif)
    Image.fromarray(raw).save(tmp_path / "mask.png", exif=exif)
    photo = load_photo(tmp_path / "photo.png")
    mask = load_mask(tmp_path / "mask.png", shape=photo.pixels.shape)
    np.testing.assert_array_equal(mask > 0, photo.pixels[..., 0] > 0)


def test_save_mask_roundtrip_and_rules(tmp_path: Path) -> None:
    soft = np.random.default_rng(0).integers(0, 256, (9, 7), dtype=np.uint8)
    out = save_mask(soft, tmp_path / "soft.png")
    np.testing.assert_array_equal(load_mask(out), soft)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).ndim == 2  # single channel on disk
    hard = soft > 128
    np.testing.assert_array_equal(load_mask(save_mask(hard, tmp_path / "hard.png")), np.where(hard, 255, 0))
    with pytest.raises(OverwriteRefusedError):
        save_mask(soft, out)
    save_mask(np.zeros_like(soft), out, overwrite=True)
    assert load_mask(out).max() == 0
    with pytest.raises(UnsupportedFormatError):
        save_mask(soft, tmp_path / "m.jpg")
    with pytest.raises(InvalidParameterError):
        save_mask(soft.astype(np.float32), tmp_path / "f.png")
    assert _listing(tmp_path) == ["hard.png", "soft.png"]


# ---------------------------------------------------------------------------------------------
# Photo


def test_with_pixels_keeps_metadata_and_checks_size() -> None:
    photo = Photo(_rgb(), alpha=_plane(), icc_profile=b"icc", exif=b"Exif\x00\x00", dpi=(72.0, 72.0),
                  extra={"xmp": b"x"}, source_format="PNG")
    edited = photo.with_pixels(_rgb(seed=5))
    assert edited.icc_profile == b"icc" and edited.dpi == (72.0, 72.0) and edited.source_format == "PNG"
    np.testing.assert_array_equal(edited.alpha, photo.alpha)
    edited.extra["xmp"] = b"changed"
    assert photo.extra["xmp"] == b"x"
    deeper = photo.with_pixels(_rgb(np.uint16))
    assert deeper.alpha.dtype == np.uint16 and deeper.bit_depth == 16
    with pytest.raises(InvalidParameterError):
        photo.with_pixels(_rgb(h=3, w=3))


def test_photo_rejects_wrong_layouts() -> None:
    with pytest.raises(InvalidParameterError):
        Photo(np.zeros((4, 4), np.uint8))
    with pytest.raises(UnsupportedFormatError):
        Photo(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(InvalidParameterError):
        Photo(np.zeros((4, 4, 3), np.uint8), alpha=np.zeros((4, 4), np.uint16))
