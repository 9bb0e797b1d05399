"""``inpaint-studio restore`` and ``batch --restore``: damage found and filled, files kept faithful."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from inpaint_studio.cli.main import main
from tests.cli.conftest import read_rgb, write_rgb
from tests.cli.test_cli_detect import gradient, write_scan
from tests.cli.test_cli_fill import assert_one_error

#: plumbing tests use diffusion for both parts: no patch-based method to wait for
TELEA_BOTH = ["--large-method", "telea"]


def mask_of(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.dtype == np.uint8 and mask.ndim == 2
    return mask


@pytest.mark.parametrize("depth", [8, 16])
def test_restore_repairs_the_damage_and_nothing_else(depth: int, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    dtype = np.uint16 if depth == 16 else np.uint8
    scan, scratch, dust = write_scan(tmp_path / "scan.png", dtype)
    out, used = tmp_path / "out.png", tmp_path / "used.png"

    # the default large method (patchmatch) on the 8-bit one, so the real default path is covered
    extra = [] if depth == 8 else TELEA_BOTH
    assert main(["restore", str(scan), "-o", str(out), "--save-mask", str(used), *extra]) == 0

    before, after, mask = read_rgb(scan), read_rgb(out), mask_of(used)
    assert after.dtype == dtype and after.shape == before.shape
    truth = (scratch | dust) > 0
    assert (mask[truth] > 0).all()
    assert np.array_equal(after[mask == 0], before[mask == 0])  # bit-identical outside the mask
    clean = gradient(dtype).astype(np.int64)
    error = np.abs(after.astype(np.int64) - clean)[truth]
    level = 257 if depth == 16 else 1
    assert error.mean() < 3 * level and error.max() < 30 * level  # the damage was ~200 levels off
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_restore_with_a_given_mask_keeps_metadata_and_records_both_methods(
        tmp_path: Path, photo_pair: Callable[..., tuple[Path, Path]], kodak_rgb: np.ndarray) -> None:
    photo, mask_path = photo_pair()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = tmp_path / "tagged.png"
    Image.open(photo).save(tagged, icc_profile=icc)
    out = tmp_path / "out.png"

    assert main(["restore", str(tagged), "-o", str(out), "--mask", str(mask_path), "--record",
                 "--thin-param", "radius=4", *TELEA_BOTH]) == 0

    hole = mask_of(mask_path) > 0
    before, after = read_rgb(tagged), read_rgb(out)
    assert np.array_equal(after[~hole], before[~hole])
    real = kodak_rgb[hole].astype(np.float64)
    assert np.abs(after[hole] - real).mean() < 0.5 * real.mean()  # much nearer than the black hole
    assert Image.open(out).info.get("icc_profile") == icc
    record = json.loads(Path(f"{out}.json").read_text())
    assert record["method"] == "restore" and record["status"] == "done"
    assert record["params"]["thin"] == {"method": "telea", "params": {"radius": 4.0},
                                        "pixels": record["params"]["thin"]["pixels"]}
    assert record["params"]["large"]["method"] == "telea" and record["params"]["large"]["pixels"] > 0
    assert record["params"]["detect"] == "mask given"
    assert record["source_name"] == "tagged.png"


def test_restore_of_a_clean_photo_writes_an_unchanged_copy(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    clean = write_rgb(tmp_path / "clean.png", gradient())
    out = tmp_path / "out.png"
    assert main(["restore", str(clean), "-o", str(out)]) == 0
    assert np.array_equal(read_rgb(out), read_rgb(clean))
    assert "no damage found" in capsys.readouterr().err


def test_restore_never_overwrites_the_input_unless_asked(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    scan, scratch, _ = write_scan(tmp_path / "scan.png")
    original = scan.read_bytes()
    assert main(["restore", str(scan), "-o", str(scan), *TELEA_BOTH]) == 1
    assert_one_error(capsys.readouterr().err, "refusing to overwrite the input")
    assert scan.read_bytes() == original

    assert main(["restore", str(scan), "-o", str(scan), "--overwrite", "-q", *TELEA_BOTH]) == 0
    assert not np.array_equal(read_rgb(scan)[scratch > 0], cv2.imdecode(
        np.frombuffer(original, np.uint8), cv2.IMREAD_COLOR)[scratch > 0])


@pytest.mark.parametrize(("args", "words"), [
    (["--large-method", "nope"], ["nope"]),
    (["--thin-param", "radius=-3"], ["radius"]),
    (["--hairline-width", "0"], ["--hairline-width"]),
    (["--sensitivity", "2"], ["sensitivity"]),
    (["--save-mask", "m.jpg"], ["PNG"]),
    (["--seed", "-1"], ["--seed"]),
])
def test_bad_options_fail_fast_with_one_line(args: list[str], words: list[str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scan, _, _ = write_scan(tmp_path / "scan.png")
    assert main(["restore", str(scan), "-o", "out.png", *args]) == 2
    assert_one_error(capsys.readouterr().err, *words)
    assert not (tmp_path / "out.png").exists()


def test_bad_files_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n but then garbage")
    out = tmp_path / "out.png"
    assert main(["restore", str(junk), "-o", str(out)]) == 2
    assert_one_error(capsys.readouterr().err, "junk.png")

    scan, _, _ = write_scan(tmp_path / "scan.png")
    small = tmp_path / "small.png"
    assert cv2.imwrite(str(small), np.full((10, 10), 255, np.uint8))
    assert main(["restore", str(scan), "-o", str(out), "--mask", str(small)]) == 2
    assert_one_error(capsys.readouterr().err, "small.png")
    assert main(["restore", str(scan), "-o", str(out), "--mask", str(tmp_path / "none.png")]) == 2
    assert_one_error(capsys.readouterr().err, "not found")
    assert not out.exists()


def test_ctrl_c_leaves_nothing(tmp_path: Path, fake_methods: None,
                               capsys: pytest.CaptureFixture[str]) -> None:
    scan, _, _ = write_scan(tmp_path / "scan.png")
    out, used = tmp_path / "out.png", tmp_path / "used.png"
    code = main(["restore", str(scan), "-o", str(out), "--save-mask", str(used), "--record",
                 "--thin-method", "test-ctrl-c", "--large-method", "telea"])
    assert code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.png"]
    assert "cancelled" in capsys.readouterr().err


def test_a_failing_method_is_one_line_exit_1(tmp_path: Path, fake_methods: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    scan, _, _ = write_scan(tmp_path / "scan.png")
    out = tmp_path / "out.png"
    assert main(["restore", str(scan), "-o", str(out), "--large-method", "test-broken",
                 "--hairline-width", "1"]) == 1
    assert_one_error(capsys.readouterr().err, "exploded")
    assert not out.exists()


# ---------------------------------------------------------------- batch --restore

def test_batch_restore_processes_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    scans = [write_scan(src / "a.png")[0], write_scan(src / "b.png", np.uint16)[0]]
    (src / "broken.png").write_bytes(b"garbage")

    code = main(["batch", str(src), "-o", str(dst), "--restore", "--suffix", "_r", *TELEA_BOTH])

    assert code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 restored, 1 failed" and lines[1].strip().startswith("broken.png:")
    clean8 = gradient().astype(np.int64)
    for scan in scans:
        after, before = read_rgb(dst / f"{scan.stem}_r.png"), read_rgb(scan)
        assert after.dtype == before.dtype
        scale = 257 if after.dtype == np.uint16 else 1
        assert np.abs(after.astype(np.int64) // scale - clean8).mean() < 1  # repaired
        assert (after != before).any()


def test_batch_restore_is_cancelled_by_ctrl_c(tmp_path: Path, fake_methods: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    write_scan(src / "a.png")
    write_scan(src / "b.png")
    assert main(["batch", str(src), "-o", str(dst), "--restore", "--thin-method", "test-ctrl-c"]) == 130
    assert capsys.readouterr().out.splitlines() == ["cancelled: 0 restored, 0 failed, 2 not done"]
    assert not list(dst.iterdir())


def test_batch_restore_excludes_masks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o")
    assert main(["batch", str(tmp_path), "-o", out, "--restore", "--masks", str(tmp_path)]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_lists_the_new_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("detect", "restore", "batch scans/ -o restored/ --restore"):
        assert word in text


def test_rgbi_scan_infrared_dust_is_found_and_never_written(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import tifffile

    clean = gradient()
    rgb = clean.copy()
    ir = np.full(clean.shape[:2], 230, np.uint8)
    specks = np.zeros(clean.shape[:2], np.uint8)
    for x, y in ((30, 30), (100, 70)):
        cv2.circle(specks, (x, y), 2, 255, -1)
    ir[specks > 0] = 40     # dark in infrared...
    rgb[specks > 0] += 12   # ...and too faint in the picture for the detector alone
    scan = tmp_path / "scan.tif"
    tifffile.imwrite(scan, np.dstack([rgb, ir]), photometric="rgb", planarconfig="contig",
                     extrasamples=["unspecified"], metadata=None)
    out, used = tmp_path / "out.tif", tmp_path / "used.png"

    assert main(["restore", str(scan), "-o", str(out), "--save-mask", str(used), *TELEA_BOTH]) == 0
    assert main(["restore", str(scan), "-o", str(tmp_path / "plain.tif"), "--no-infrared", "-q"]) == 0

    mask = mask_of(used)
    assert (mask[specks > 0] == 255).all()
    with tifffile.TiffFile(out) as tif:
        assert tif.pages.first.samplesperpixel == 3  # the infrared channel is not saved
    after = read_rgb(out)
    assert np.array_equal(after[mask == 0], rgb[mask == 0])
    assert np.abs(after.astype(int) - clean.astype(int))[specks > 0].mean() < 3
    assert np.array_equal(read_rgb(tmp_path / "plain.tif"), rgb)  # without infrared nothing was found
    assert capsys.readouterr().err.count("no damage found") == 0


def test_detect_and_restore_commands_import_no_qt_or_torch() -> None:
    import subprocess
    import sys

    code = "\n".join([
        "import sys",
        "from inpaint_studio.cli import detect_cmd, restore_cmd",
        "from inpaint_studio.runtime import restore",
        "bad = [m for m in ('PySide6', 'torch', 'inpaint_studio.ui') if m in sys.modules]",
        "sys.exit(f'imported: {bad}' if bad else 0)",
    ])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
