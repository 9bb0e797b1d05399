"""``inpaint-studio fill``: what a user (and the benchmark harness) sees: files, exit codes, error lines."""

from __future__ import annotations

import hashlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from inpaint_studio.cli.main import main


def assert_one_error(err: str, *words: str) -> str:
    """Exactly one non-empty stderr line, in our format, naming ``words``; never a traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("inpaint-studio: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def closer_than_blank(out: np.ndarray, original: np.ndarray, hole: np.ndarray) -> bool:
    """The filled hole is much nearer the real content than the black hole the method was given."""
    real = original[hole].astype(np.float64)
    return np.abs(out[hole] - real).mean() < 0.5 * np.abs(real).mean()


# ---------------------------------------------------------------- success

@pytest.mark.parametrize("depth", [8, 16])
def test_fill_png_changes_only_the_hole_and_keeps_depth(
        depth: int, tmp_path: Path, photo_pair: Callable[..., tuple[Path, Path]], read_rgb: Callable,
        kodak_rgb: np.ndarray, capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair(depth=depth)
    out = tmp_path / "out.png"

    assert main(["fill", str(photo), str(mask), "-o", str(out)]) == 0

    before, after = read_rgb(photo), read_rgb(out)
    hole = read_rgb(mask) > 0
    assert after.dtype == (np.uint16 if depth == 16 else np.uint8)
    assert after.shape == before.shape
    assert np.array_equal(after[~hole], before[~hole])
    original = kodak_rgb.astype(np.uint16) * 257 + 3 if depth == 16 else kodak_rgb
    assert closer_than_blank(after, original, hole)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # not a terminal: no progress bar noise


def test_fill_output_format_follows_the_extension(tmp_path: Path, photo_pair: Callable) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.jpg"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--jpeg-quality", "90", "-q"]) == 0
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_fill_ns_with_param(tmp_path: Path, photo_pair: Callable, read_rgb: Callable) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--method", "ns", "--param", "radius=5"]) == 0
    hole = read_rgb(mask) > 0
    assert np.array_equal(read_rgb(out)[~hole], read_rgb(photo)[~hole])


def test_record_writes_a_sidecar_naming_method_params_seed_and_input_hashes(
        tmp_path: Path, photo_pair: Callable, read_rgb: Callable) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"

    code = main(["fill", str(photo), str(mask), "-o", str(out), "--record", "--seed", "7",
                 "--param", "radius=5", "--method", "telea"])

    assert code == 0 and out.is_file()
    record = json.loads((tmp_path / "out.png.json").read_text(encoding="utf-8"))
    assert record["method"] == "telea"
    assert record["params"] == {"radius": 5.0}
    assert record["seed"] == 7
    assert record["status"] == "done"
    assert record["source_name"] == "photo.png"
    pixels = np.ascontiguousarray(read_rgb(photo))
    assert record["input"]["image"]["sha256"] == hashlib.sha256(pixels.data).hexdigest()
    assert record["input"]["image"]["shape"] == list(pixels.shape)
    mask_u8 = np.ascontiguousarray(cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE))
    assert record["input"]["mask"]["sha256"] == hashlib.sha256(mask_u8.data).hexdigest()


def test_without_record_no_sidecar(tmp_path: Path, photo_pair: Callable) -> None:
    photo, mask = photo_pair()
    assert main(["fill", str(photo), str(mask), "-o", str(tmp_path / "out.png")]) == 0
    assert not (tmp_path / "out.png.json").exists()


def test_default_method_is_content_aware_fill_as_in_the_editor(tmp_path: Path, read_rgb: Callable) -> None:
    """Without --method the CLI fills like the editor's default: stripes continue across the hole
    instead of the smear a diffusion fill leaves, and the record names the method used."""
    x = np.arange(96)
    row = np.where((x // 4) % 2 == 0, 200, 60).astype(np.uint8)
    pixels = np.repeat(np.repeat(row[None, :, None], 64, axis=0), 3, axis=2)
    hole = np.zeros((64, 96), np.uint8)
    hole[20:44, 36:60] = 255
    photo, mask = tmp_path / "stripes.png", tmp_path / "mask.png"
    assert cv2.imwrite(str(photo), pixels) and cv2.imwrite(str(mask), hole)
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--record", "-q"]) == 0
    assert json.loads((tmp_path / "out.png.json").read_text(encoding="utf-8"))["method"] == "patchmatch"
    filled = read_rgb(out)[24:40, 40:56, 1].astype(np.float32)
    assert filled.std() > 0.85 * pixels[..., 1].astype(np.float32).std()  # Telea 0.65, NS 0.51, ours 1.0


# ---------------------------------------------------------------- parameters

@pytest.mark.parametrize(("param", "named"), [
    ("radius=abc", "radius"),
    ("radius=0", "radius"),
    ("radius=1000", "radius"),
    ("radius=", "radius"),
    ("radius", "--param"),
    ("=5", "--param"),
    ("nosuch=1", "nosuch"),
])
def test_bad_param_fails_fast_with_one_line(param: str, named: str, tmp_path: Path, photo_pair: Callable,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--param", param]) == 2
    assert_one_error(capsys.readouterr().err, named)
    assert not out.exists()


def test_params_are_checked_before_any_file_is_read(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nowhere.png")
    assert main(["fill", missing, missing, "-o", str(tmp_path / "o.png"), "--param", "radius=x"]) == 2
    assert_one_error(capsys.readouterr().err, "radius")


def test_dashes_in_param_keys_read_as_underscores() -> None:
    from inpaint_studio.cli.common import parse_param_args

    assert parse_param_args(["radius=5", "context-margin = 8", "radius=6", "expr=a=b"]) == {
        "radius": "6", "context_margin": "8", "expr": "a=b"}


@pytest.mark.parametrize("option", [["--seed", "-1"], ["--jpeg-quality", "0"], ["--max-pixels", "0"],
                                    ["--device", "gpu"]])
def test_bad_option_values_exit_2(option: list[str], tmp_path: Path, photo_pair: Callable,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), *option]) == 2
    assert_one_error(capsys.readouterr().err, option[0].lstrip("-").split("-")[0])
    assert not out.exists()


# ---------------------------------------------------------------- bad input

def _corrupt(photo: Path, mask: Path) -> tuple[Path, Path]:
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return photo, mask


def _truncated(photo: Path, mask: Path) -> tuple[Path, Path]:
    data = photo.read_bytes()
    photo.write_bytes(data[: len(data) // 3])
    return photo, mask


def _missing_image(photo: Path, mask: Path) -> tuple[Path, Path]:
    photo.unlink()
    return photo, mask


def _missing_mask(photo: Path, mask: Path) -> tuple[Path, Path]:
    mask.unlink()
    return photo, mask


def _mask_of_size(shape: tuple[int, int]) -> Callable[[Path, Path], tuple[Path, Path]]:
    def change(photo: Path, mask: Path) -> tuple[Path, Path]:
        m = np.zeros(shape, np.uint8)
        m[10:20, 10:20] = 255
        assert cv2.imwrite(str(mask), m)
        return photo, mask
    return change


def _mask_filled_with(value: int) -> Callable[[Path, Path], tuple[Path, Path]]:
    def change(photo: Path, mask: Path) -> tuple[Path, Path]:
        m = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE)
        assert cv2.imwrite(str(mask), np.full_like(m, value))
        return photo, mask
    return change


@pytest.mark.parametrize("damage", [
    _missing_image, _missing_mask, _corrupt, _truncated, _mask_of_size((50, 60)),
    _mask_filled_with(0), _mask_filled_with(255),
], ids=["missing-image", "missing-mask", "corrupt", "truncated", "mask-mismatch", "empty-mask", "full-mask"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
        damage: Callable[[Path, Path], tuple[Path, Path]], tmp_path: Path, photo_pair: Callable,
        capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = damage(*photo_pair())
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--record"]) == 2
    assert_one_error(capsys.readouterr().err)
    assert not out.exists() and not (tmp_path / "out.png.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n in ("photo.png", "photo_mask.png") if (tmp_path / n).exists())  # no temp files left


def test_error_lines_say_what_is_wrong(tmp_path: Path, photo_pair: Callable,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = str(tmp_path / "out.png")
    main(["fill", str(tmp_path / "gone.png"), str(mask), "-o", out])
    assert_one_error(capsys.readouterr().err, "gone.png")
    _mask_of_size((50, 60))(photo, mask)
    main(["fill", str(photo), str(mask), "-o", out])
    line = assert_one_error(capsys.readouterr().err)
    assert "60" in line and "50" in line  # the sizes that disagree


def test_unknown_method_lists_the_available_ones(tmp_path: Path, photo_pair: Callable,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--method", "lamma"]) == 2
    assert_one_error(capsys.readouterr().err, "lamma", "telea", "ns")
    assert not out.exists()


def test_unsupported_output_extension_exits_2(tmp_path: Path, photo_pair: Callable,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    assert main(["fill", str(photo), str(mask), "-o", str(tmp_path / "out.xyz")]) == 2
    assert_one_error(capsys.readouterr().err)
    assert not (tmp_path / "out.xyz").exists()


def test_missing_output_folder_exits_2(tmp_path: Path, photo_pair: Callable,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    assert main(["fill", str(photo), str(mask), "-o", str(tmp_path / "no" / "out.png")]) == 2
    assert_one_error(capsys.readouterr().err, "does not exist")


# ---------------------------------------------------------------- never overwrite unless asked

def test_refuses_to_overwrite_the_input_photo(tmp_path: Path, photo_pair: Callable,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    before = photo.read_bytes()
    assert main(["fill", str(photo), str(mask), "-o", str(photo)]) == 1
    assert_one_error(capsys.readouterr().err, "--overwrite")
    assert photo.read_bytes() == before


def test_refuses_an_existing_output_and_its_sidecar(tmp_path: Path, photo_pair: Callable,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    assert main(["fill", str(photo), str(mask), "-o", str(out)]) == 1
    assert_one_error(capsys.readouterr().err, "already exists", "--overwrite")
    assert out.read_bytes() == b"keep me"

    out.unlink()
    (tmp_path / "out.png.json").write_text("{}")
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--record"]) == 1
    assert_one_error(capsys.readouterr().err, "out.png.json")
    assert not out.exists()


def test_overwrite_replaces_the_input_when_asked(tmp_path: Path, photo_pair: Callable,
                                                 read_rgb: Callable) -> None:
    photo, mask = photo_pair()
    before = read_rgb(photo)
    assert main(["fill", str(photo), str(mask), "-o", str(photo), "--overwrite"]) == 0
    hole = read_rgb(mask) > 0
    after = read_rgb(photo)
    assert np.array_equal(after[~hole], before[~hole]) and not np.array_equal(after[hole], before[hole])


# ---------------------------------------------------------------- failures, cancel, debug

@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is not Ctrl+C on Windows")
@pytest.mark.usefixtures("fake_methods")
def test_ctrl_c_cancels_exit_130_and_nothing_written(tmp_path: Path, photo_pair: Callable,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--method", "test-ctrl-c", "--record"]) == 130
    err = capsys.readouterr().err
    assert "cancelled" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.png.json").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


@pytest.mark.usefixtures("fake_methods")
def test_method_failure_exits_1_with_the_reason(tmp_path: Path, photo_pair: Callable,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask = photo_pair()
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--method", "test-broken"]) == 1
    assert_one_error(capsys.readouterr().err, "the model exploded")
    assert not out.exists()


def test_unexpected_errors_are_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     photo_pair: Callable,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from inpaint_studio.cli import fill

    def explode(args: Any) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(fill, "run", explode)
    photo, mask = photo_pair()
    argv = ["fill", str(photo), str(mask), "-o", str(tmp_path / "out.png")]
    assert main(argv) == 1
    assert_one_error(capsys.readouterr().err, "a bug", "--debug")
    assert main([*argv, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err


# ---------------------------------------------------------------- --sampling-mask (issue 5)

def _red_blue_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Left red, right blue, a hole across the border, a sampling mask of the right half."""
    image = np.zeros((40, 64, 3), np.uint8)
    image[:, :32] = (220, 30, 30)
    image[:, 32:] = (30, 30, 220)
    mask = np.zeros((40, 64), np.uint8)
    mask[14:26, 24:40] = 255
    sampling = np.zeros((40, 64), np.uint8)
    sampling[:, 32:] = 255
    photo = tmp_path / "photo.png"
    assert cv2.imwrite(str(photo), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(tmp_path / "mask.png"), mask)
    assert cv2.imwrite(str(tmp_path / "sampling.png"), sampling)
    return photo, tmp_path / "mask.png", tmp_path / "sampling.png"


def test_sampling_mask_limits_where_the_fill_copies_from(tmp_path: Path, read_rgb: Callable) -> None:
    photo, mask, sampling = _red_blue_files(tmp_path)
    out = tmp_path / "out.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "-m", "criminisi",
                 "--sampling-mask", str(sampling), "-q"]) == 0
    filled = read_rgb(out)[read_rgb(mask) > 0].astype(int)
    assert (np.abs(filled - (30, 30, 220)) <= 40).all(), "only blue may be copied"


def test_sampling_mask_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo, mask, _sampling = _red_blue_files(tmp_path)
    out = tmp_path / "out.png"
    missing = tmp_path / "no.png"
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--sampling-mask", str(missing)]) == 2
    assert_one_error(capsys.readouterr().err, "sampling mask not found", "no.png")
    black = tmp_path / "black.png"
    assert cv2.imwrite(str(black), np.zeros((40, 64), np.uint8))
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--sampling-mask", str(black)]) == 2
    assert_one_error(capsys.readouterr().err, "black.png", "all black")
    small = tmp_path / "small.png"
    assert cv2.imwrite(str(small), np.full((10, 10), 255, np.uint8))
    assert main(["fill", str(photo), str(mask), "-o", str(out), "--sampling-mask", str(small)]) == 2
    assert_one_error(capsys.readouterr().err, "small.png", "10x10")
    assert not out.exists()
