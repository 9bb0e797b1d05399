"""The command as installed: console script, ``python -m``, ``--version``, ``methods``, ``gui`` dispatch."""

from __future__ import annotations

import enum
import json
import shutil
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import inpaint_studio
from inpaint_studio.cli.main import main
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, param


def _console_script() -> str:
    beside = Path(sys.executable).with_name("inpaint-studio")
    found = str(beside) if beside.exists() else shutil.which("inpaint-studio")
    if not found:
        pytest.fail("the inpaint-studio console script is not installed (pip install -e .)")
    return found


def test_console_script_fills_a_kodak_crop(tmp_path: Path, photo_pair: Callable) -> None:
    """The exact command line the benchmark harness runs, through the real installed script."""
    photo, mask = photo_pair("input.png")
    out = tmp_path / "result.png"

    argv = [_console_script(), "fill", str(photo), str(mask), "-o", str(out), "--method", "telea"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)

    assert proc.returncode == 0, proc.stderr
    before = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    after = cv2.imread(str(out), cv2.IMREAD_COLOR)
    hole = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE) > 127
    assert after is not None and after.shape == before.shape and after.dtype == np.uint8
    assert np.array_equal(after[~hole], before[~hole])
    assert np.abs(after[hole].astype(int) - before[hole].astype(int)).mean() > 20  # the black hole is filled


def test_python_dash_m_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "inpaint_studio", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"inpaint-studio {inpaint_studio.__version__}"


def test_help_and_usage_errors_return_codes_instead_of_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "fill" in capsys.readouterr().out
    assert main(["fill"]) == 2
    assert "required" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_methods_lists_every_method_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for text in ("telea", "ns", "Navier-Stokes", "--param radius=FLOAT", "default 3.0", "range 1 to 50",
                 "no torch", "no weights"):
        assert text in out


def test_methods_json_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {m["name"]: m for m in data}
    assert {"telea", "ns"} <= set(by_name)
    for name in ("telea", "ns"):
        entry = by_name[name]
        assert entry["label"] and entry["description"]
        assert entry["iterative"] is False and entry["uses_torch"] is False and entry["weights"] == []
        (radius,) = entry["params"]
        assert radius["name"] == "radius" and radius["type"] == "float"
        assert (radius["default"], radius["min"], radius["max"]) == (3.0, 1.0, 50.0)
        assert radius["help"]


@pytest.fixture()
def fake_gui(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Stands in for ui.app so the dispatch is tested without opening a window."""
    calls: list[str | None] = []

    def run_app(path: str | None) -> int:
        calls.append(path)
        return 7

    module = types.ModuleType("inpaint_studio.ui.app")
    module.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "inpaint_studio.ui.app", module)
    return calls


def test_gui_dispatch(fake_gui: list[str | None], tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    photo.write_bytes(b"")
    assert main([]) == 7
    assert main(["gui"]) == 7
    assert main(["gui", str(photo)]) == 7
    assert main([str(photo)]) == 7  # what a file manager's "Open with" runs
    assert fake_gui == [None, None, str(photo), str(photo)]


def test_cli_modules_do_not_import_qt_or_torch() -> None:
    code = "\n".join([
        "import sys",
        "from inpaint_studio.cli import main, fill, batch, methods_cmd, progress, gui_launch",
        "main.main(['methods', '--json'])",
        "bad = [m for m in ('PySide6', 'torch', 'inpaint_studio.ui') if m in sys.modules]",
        "sys.exit(f'imported: {bad}' if bad else 0)",
    ])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


class _Mode(enum.Enum):
    FAST = "fast"
    GOOD = "good"


@dataclass(frozen=True)
class _RichParams:
    steps: int = param(100, min=1, help="iterations")
    mode: _Mode = param(_Mode.FAST, help="speed or quality")
    sharpen: bool = param(False, help="sharpen the result")
    note: str = param("x", help="free text")
    scale: float | None = param(None, max=4.0, help="optional scale")


class _RichMethod(Method):
    name = "test-rich"
    label = "Rich"
    description = "a plug-in with every kind of parameter"
    Params = _RichParams
    iterative = True
    uses_torch = True
    weights = ("rich.pth",)

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: Any) -> np.ndarray:
        return image


@pytest.fixture()
def rich_method() -> Iterator[None]:
    registry.register(_RichMethod)
    yield
    registry.unregister(_RichMethod.name)


@pytest.mark.usefixtures("rich_method")
def test_methods_lists_a_plugin_with_every_kind_of_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for text in ("test-rich", "iterative (live preview); torch; weights: rich.pth", "--param steps=INT",
                 "at least 1", "--param mode=fast|good", "--param sharpen=true|false  (default false)",
                 "--param note=STR", "default none, at most 4"):
        assert text in out
    assert main(["methods", "--json"]) == 0
    (entry,) = [m for m in json.loads(capsys.readouterr().out) if m["name"] == "test-rich"]
    assert (entry["iterative"], entry["uses_torch"], entry["weights"]) == (True, True, ["rich.pth"])
    by_name = {p["name"]: p for p in entry["params"]}
    assert by_name["mode"]["default"] == "fast" and by_name["mode"]["choices"] == ["fast", "good"]
    assert by_name["scale"]["default"] is None and by_name["scale"]["max"] == 4.0
