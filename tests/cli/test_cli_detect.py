"""``inpaint-studio detect``: a scan in, an editable 8-bit damage mask out."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_studio.cli.main import main
from tests.cli.conftest import write_rgb
from tests.cli.test_cli_fill import assert_one_error

SHAPE = (96, 128)


def gradient(dtype: type = np.uint8) -> np.ndarray:
    h, w = SHAPE
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([40 + xx, 60 + yy, np.full_like(xx, 120)], axis=-1).astype(np.uint8)
    return rgb.astype(np.uint16) * 257 + 3 if dtype == np.uint16 else rgb


def scratch_and_dust() -> tuple[np.ndarray, np.ndarray]:
    """(2 px scratch, three dust specks), uint8 0/255."""
    scratch, dust = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    cv2.line(scratch, (10, 5), (108, 86), 255, 2)
    for x, y, r in ((20, 60, 1), (90, 20, 2), (60, 75, 3)):
        cv2.circle(dust, (x, y), r, 255, -1)
    return scratch, dust


def write_scan(path: Path, dtype: type = np.uint8) -> tuple[Path, np.ndarray, np.ndarray]:
    scratch, dust = scratch_and_dust()
    rgb = gradient(dtype)
    rgb[(scratch | dust) > 0] = int(np.iinfo(dtype).max * 0.9)
    return write_rgb(path, rgb), scratch, dust


def far_from(truth: np.ndarray, px: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate(truth, kernel) == 0


def read_mask(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.dtype == np.uint8 and mask.shape == SHAPE
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_detect_writes_a_png_mask_covering_the_damage(dtype: type, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    scan, scratch, dust = write_scan(tmp_path / "scan.png", dtype)
    out = tmp_path / "damage.png"

    assert main(["detect", str(scan), "-o", str(out)]) == 0

    mask = read_mask(out)
    truth = scratch | dust
    assert (mask[truth > 0] >= 128).all()
    assert (mask[far_from(truth, 4)] > 0).mean() < 0.01  # the clean sky is left alone
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith(f"{out}: ") and "defects" in captured.out


def test_kind_picks_scratches_or_dust(tmp_path: Path) -> None:
    scan, scratch, dust = write_scan(tmp_path / "scan.png")
    for kind in ("dust", "scratches"):
        assert main(["detect", str(scan), "-o", str(tmp_path / f"{kind}.png"), "--kind", kind, "-q"]) == 0
    only_dust, only_scratches = read_mask(tmp_path / "dust.png"), read_mask(tmp_path / "scratches.png")
    assert (only_dust[dust > 0] > 0).all() and (only_dust[scratch > 0] > 0).mean() < 0.2
    assert (only_scratches[scratch > 0] > 0).mean() > 0.9 and not (only_scratches[dust > 0] > 0).any()


def test_dust_finder_learned_finds_the_dust_and_leaves_the_sky(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_studio.core.damage import learned

    scan, _scratch, dust = write_scan(tmp_path / "scan.png")
    monkeypatch.setattr(learned, "_CACHE", type(learned._CACHE)())  # an earlier test fitted this scan
    fits: list[int] = []
    real_fit = learned.fit
    monkeypatch.setattr(learned, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    out = tmp_path / "dust.png"
    args = ["detect", str(scan), "-o", str(out), "--kind", "dust", "--dust-finder", "learned", "-q"]
    assert main(args) == 0
    mask = read_mask(out)
    assert fits == [1], "the learned finder fitted a classifier to this photo"
    assert (mask[dust > 0] > 0).mean() > 0.9
    assert (mask[far_from(dust, 4)] > 0).mean() < 0.01


def test_clean_photo_gives_an_empty_mask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan = write_rgb(tmp_path / "clean.png", gradient())
    assert main(["detect", str(scan), "-o", str(tmp_path / "m.png")]) == 0
    assert not read_mask(tmp_path / "m.png").any()
    assert "no damage found" in capsys.readouterr().out


def _with_infrared(monkeypatch: pytest.MonkeyPatch, infrared: np.ndarray) -> None:
    """Make every loaded photo an RGBI scan (what core.io gives for a 4-channel scanner TIFF)."""
    from inpaint_studio.core import io

    real = io.load_photo

    def load(path, **kwargs):
        photo = real(path, **kwargs)
        photo.infrared = infrared
        return photo

    monkeypatch.setattr(io, "load_photo", load)


def test_infrared_channel_is_used_automatically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    scan = write_rgb(tmp_path / "scan.png", gradient())  # the dust is invisible in the picture...
    ir = np.full(SHAPE, 220, np.uint8)
    cv2.circle(ir, (40, 30), 2, 30, -1)                  # ...but blocks the infrared light
    _with_infrared(monkeypatch, ir)

    assert main(["detect", str(scan), "-o", str(tmp_path / "ir.png")]) == 0
    assert main(["detect", str(scan), "-o", str(tmp_path / "no_ir.png"), "--no-infrared"]) == 0
    assert main(["detect", str(scan), "-o", str(tmp_path / "scratches.png"), "--kind", "scratches"]) == 0

    assert read_mask(tmp_path / "ir.png")[30, 40] == 255
    assert not read_mask(tmp_path / "no_ir.png").any()
    assert not read_mask(tmp_path / "scratches.png").any()
    assert "infrared channel is not used with --kind scratches" in capsys.readouterr().err


def test_ir_threshold_without_an_infrared_channel_is_a_note(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    scan, _, _ = write_scan(tmp_path / "scan.png")
    assert main(["detect", str(scan), "-o", str(tmp_path / "m.png"), "--ir-threshold", "0.7"]) == 0
    assert "has no infrared channel" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "words"), [
    (["--sensitivity", "1.5"], ["sensitivity"]),
    (["--min-size", "9", "--max-size", "4"], ["min size"]),
    (["--ir-threshold", "-1"], ["--ir-threshold"]),
])
def test_bad_options_fail_before_reading(args: list[str], words: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.png"
    assert main(["detect", str(tmp_path / "missing.png"), "-o", str(out), *args]) == 2
    assert_one_error(capsys.readouterr().err, *words)
    assert not out.exists()


def test_bad_files_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan, _, _ = write_scan(tmp_path / "scan.png")
    junk = tmp_path / "junk.png"
    junk.write_text("not a photo")

    assert main(["detect", str(junk), "-o", str(tmp_path / "m.png")]) == 2
    assert_one_error(capsys.readouterr().err, "junk.png")
    assert main(["detect", str(tmp_path / "nope.png"), "-o", str(tmp_path / "m.png")]) == 2
    assert_one_error(capsys.readouterr().err, "not found")
    assert main(["detect", str(scan), "-o", str(tmp_path / "m.jpg")]) == 2
    assert_one_error(capsys.readouterr().err, "PNG")
    assert main(["detect", str(scan), "-o", str(scan)]) == 1
    assert_one_error(capsys.readouterr().err, "refusing to overwrite the input")

    existing = tmp_path / "m.png"
    existing.write_bytes(b"keep")
    assert main(["detect", str(scan), "-o", str(existing)]) == 1
    assert_one_error(capsys.readouterr().err, "already exists")
    assert existing.read_bytes() == b"keep"
    assert main(["detect", str(scan), "-o", str(existing), "--overwrite", "-q"]) == 0
    assert read_mask(existing).any()


def test_ctrl_c_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from inpaint_studio.core import damage
    from inpaint_studio.core.errors import FillCancelled

    def interrupted(pixels, options, cancel=None):
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl+C while the detector runs
        assert cancel is not None and cancel()
        raise FillCancelled("damage detection cancelled")

    monkeypatch.setattr(damage, "detect_damage", interrupted)
    scan, _, _ = write_scan(tmp_path / "scan.png")
    out = tmp_path / "m.png"
    assert main(["detect", str(scan), "-o", str(out)]) == 130
    assert not out.exists()
    assert "cancelled" in capsys.readouterr().err
