"""``inpaint-studio batch``: a folder in, a folder out; one bad file never stops the rest."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_studio.cli.main import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "in", tmp_path / "masks", tmp_path / "out"


def test_batch_per_image_masks_continues_past_a_bad_file(
        folders: tuple[Path, Path, Path], photo_pair: Callable, read_rgb: Callable,
        capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    a, a_mask = photo_pair("a.png", folder=src, mask_folder=masks, mask_name="a.png")
    photo_pair("b.jpg", folder=src, mask_folder=masks, mask_name="b_mask.png")
    broken, _ = photo_pair("c.png", folder=src, mask_folder=masks, mask_name="c.png")
    broken.write_bytes(b"not a picture at all")
    photo_pair("d.png", folder=src, mask_folder=masks, mask_name="d.tif")  # any supported mask extension
    photo_pair("e.png", folder=src, mask_folder=masks, mask_name="someone_else.png")  # no mask for e
    (src / "notes.txt").write_text("not an image, not counted")

    code = main(["batch", str(src), "-o", str(out), "--masks", str(masks)])

    assert code == 1
    captured = capsys.readouterr()
    summary = captured.out.splitlines()
    assert summary[0] == "3 filled, 2 failed"
    failures = {line.strip().split(":", 1)[0]: line for line in summary[1:]}
    assert set(failures) == {"c.png", "e.png"}
    assert "mask" in failures["e.png"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "d.png"]
    assert (out / "a.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "b.jpg").read_bytes()[:3] == JPEG_MAGIC
    hole = read_rgb(a_mask) > 0
    assert np.array_equal(read_rgb(out / "a.png")[~hole], read_rgb(a)[~hole])
    assert not np.array_equal(read_rgb(out / "a.png")[hole], read_rgb(a)[hole])
    assert "Traceback" not in captured.err


def test_batch_shared_mask_suffix_and_record(folders: tuple[Path, Path, Path], photo_pair: Callable,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("x.png", folder=src, mask_folder=masks, mask_name="shared.png")
    photo_pair("y.png", folder=src, mask_folder=masks, mask_name="unused.png")

    code = main(["batch", str(src), "-o", str(out), "--mask", str(mask), "--suffix", "_clean", "--record",
                 "--method", "ns", "--param", "radius=4"])

    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["2 filled, 0 failed"]
    assert sorted(p.name for p in out.iterdir()) == [
        "x_clean.png", "x_clean.png.json", "y_clean.png", "y_clean.png.json"]
    record = json.loads((out / "y_clean.png.json").read_text(encoding="utf-8"))
    assert (record["method"], record["params"], record["source_name"]) == ("ns", {"radius": 4.0}, "y.png")
    assert sorted(p.name for p in src.iterdir()) == ["x.png", "y.png"]  # input folder untouched


def test_batch_shared_mask_of_the_wrong_size_fails_that_file_only(
        folders: tuple[Path, Path, Path], photo_pair: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    small = cv2.resize(cv2.imread(str(src / "a.png")), (64, 48))
    assert cv2.imwrite(str(src / "b.png"), small)

    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask), "-q"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 filled, 1 failed" and lines[1].strip().startswith("b.png:")
    assert [p.name for p in out.iterdir()] == ["a.png"]


def test_batch_refuses_existing_outputs_without_overwrite(
        folders: tuple[Path, Path, Path], photo_pair: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    out.mkdir()
    (out / "a.png").write_bytes(b"older result")

    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask)]) == 1
    assert "--overwrite" in capsys.readouterr().out
    assert (out / "a.png").read_bytes() == b"older result"
    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask), "--overwrite"]) == 0
    assert (out / "a.png").read_bytes()[:8] == PNG_MAGIC


def test_batch_never_writes_into_the_input_folder_unless_asked(
        folders: tuple[Path, Path, Path], photo_pair: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, _ = folders
    photo, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    before = photo.read_bytes()

    assert main(["batch", str(src), "-o", str(src), "--mask", str(mask), "--suffix", "_f"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in src.iterdir()) == ["a.png"] and photo.read_bytes() == before

    assert main(["batch", str(src), "-o", str(src), "--mask", str(mask), "--suffix", "_f",
                 "--overwrite"]) == 0
    assert sorted(p.name for p in src.iterdir()) == ["a.png", "a_f.png"] and photo.read_bytes() == before
    # a second run does not take the first run's output for a new photo
    capsys.readouterr()
    assert main(["batch", str(src), "-o", str(src), "--mask", str(mask), "--suffix", "_f",
                 "--overwrite"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1 filled, 0 failed"]


def test_batch_masks_beside_the_photos(tmp_path: Path, photo_pair: Callable,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "shoot"
    photo_pair("a.png", folder=src)  # writes a_mask.png next to it
    photo_pair("b.jpg", folder=src)
    assert main(["batch", str(src), "-o", str(tmp_path / "out"), "--masks", str(src)]) == 0
    assert capsys.readouterr().out.splitlines() == ["2 filled, 0 failed"]  # the masks are not photos
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.jpg"]


def test_batch_recursive_mirrors_sub_folders(folders: tuple[Path, Path, Path], photo_pair: Callable) -> None:
    src, masks, out = folders
    photo_pair("a.png", folder=src, mask_folder=masks, mask_name="a.png")
    photo_pair("b.png", folder=src / "day2", mask_folder=masks / "day2", mask_name="b.png")

    assert main(["batch", str(src), "-o", str(out), "--masks", str(masks)]) == 0
    assert [p.name for p in out.iterdir()] == ["a.png"]  # not recursive by default
    assert main(["batch", str(src), "-o", str(out), "--masks", str(masks), "--recursive", "--overwrite"]) == 0
    assert (out / "day2" / "b.png").is_file()


def test_batch_with_nothing_to_do_exits_2(folders: tuple[Path, Path, Path], photo_pair: Callable,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    src.mkdir()
    masks.mkdir()
    (src / "readme.txt").write_text("no photos here")
    assert main(["batch", str(src), "-o", str(out), "--masks", str(masks)]) == 2
    assert "nothing to do" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("argv_tail", [
    ["--masks", "MISSING"],
    ["--mask", "MISSING"],
    ["--param", "radius=-3"],
    ["--method", "nope"],
])
def test_batch_bad_setup_fails_before_any_file(argv_tail: list[str], folders: tuple[Path, Path, Path],
                                               photo_pair: Callable, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    argv_tail = [str(tmp_path / "missing") if a == "MISSING" else a for a in argv_tail]
    if "--mask" not in argv_tail and "--masks" not in argv_tail:
        argv_tail += ["--mask", str(mask)]
    assert main(["batch", str(src), "-o", str(out), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inpaint-studio: error: ") and len(err.splitlines()) == 1
    assert not out.exists()


def test_batch_needs_a_mask_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "--mask" in capsys.readouterr().err


def test_batch_shared_mask_kept_among_the_photos_is_not_a_photo(
        tmp_path: Path, photo_pair: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    _, mask = photo_pair("a.png", folder=src, mask_name="the_mask.png")
    assert main(["batch", str(src), "-o", str(tmp_path / "out"), "--mask", str(mask)]) == 0
    assert capsys.readouterr().out.splitlines() == ["1 filled, 0 failed"]


def test_batch_suffix_cannot_move_files_elsewhere(folders: tuple[Path, Path, Path], photo_pair: Callable,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask), "--suffix", "/../../x"]) == 2
    assert "--suffix" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.usefixtures("fake_methods")
def test_batch_method_failures_are_per_file(folders: tuple[Path, Path, Path], photo_pair: Callable,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    photo_pair("b.png", folder=src, mask_folder=masks)
    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask), "--method", "test-broken"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "0 filled, 2 failed"
    assert all("the model exploded" in line for line in lines[1:]) and len(lines) == 3


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is not Ctrl+C on Windows")
@pytest.mark.usefixtures("fake_methods")
def test_batch_ctrl_c_stops_the_batch_with_130(folders: tuple[Path, Path, Path], photo_pair: Callable,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src, masks, out = folders
    _, mask = photo_pair("a.png", folder=src, mask_folder=masks)
    photo_pair("b.png", folder=src, mask_folder=masks)
    assert main(["batch", str(src), "-o", str(out), "--mask", str(mask), "--method", "test-ctrl-c"]) == 130
    assert capsys.readouterr().out.splitlines() == ["cancelled: 0 filled, 0 failed, 2 not done"]
    assert list(out.iterdir()) == []
