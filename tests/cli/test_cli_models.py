"""``inpaint-studio models``: list, path, import, remove, download, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from inpaint_studio.cli.main import main
from inpaint_studio.runtime import catalogue, weights
from tests.runtime.weights_fakes import ENTRY, NAME, ckpt_bytes, http_server, lightning_ckpt, tiny, with_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("tiny")


def test_path_prints_the_weights_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(weights.models_dir())


def test_list_shows_missing_weights_licences_and_how_to_get_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0  # list is the default action
    out = capsys.readouterr().out
    assert "lama  -  LaMa (big-lama)  [missing]" in out
    assert "inpaint-studio models download lama" in out
    assert "(NON-COMMERCIAL)" in out and "(unknown, check before commercial use)" in out
    assert "drive.google.com" in out  # browser-only entries show the page


def test_import_then_list_shows_size_and_sha256(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "best.ckpt"
    torch.save(lightning_ckpt(), src)
    assert main(["models", "import", NAME, str(src)]) == 0
    out = capsys.readouterr().out
    sha = weights.file_sha256(src)
    assert f"sha256 {sha}" in out and str(weights.models_dir() / "tiny.ckpt") in out
    assert main(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    row = next(r for r in data["models"] if r["name"] == NAME)
    assert row["installed"] and row["files"][0]["sha256"] == sha and row["size"] == src.stat().st_size
    assert next(r for r in data["models"] if r["name"] == "csa")["non_commercial"] is True


def test_importing_a_wrong_file_fails_with_what_differs(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "other.pth"
    torch.save({"state_dict": {"generator.head.weight": torch.zeros(3)}}, src)
    assert main(["models", "import", NAME, str(src)]) == 1
    err = capsys.readouterr().err
    assert "error: other.pth (for Tiny test net) does not match the network" in err
    assert "missing key(s)" in err and "unexpected key(s): generator.head.weight" in err
    assert main(["models", "import", NAME, str(tmp_path / "nope.pth")]) == 2


def test_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "best.ckpt"
    torch.save(lightning_ckpt(), src)
    main(["models", "import", NAME, str(src)])
    capsys.readouterr()
    assert main(["models", "remove", NAME]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (weights.models_dir() / "tiny.ckpt").exists()
    assert main(["models", "remove", NAME]) == 0
    assert "nothing installed" in capsys.readouterr().err


def test_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    payload = ckpt_bytes(tmp_path, lightning_ckpt())
    with http_server({"/tiny.ckpt": payload}) as srv:
        monkeypatch.setitem(catalogue.CATALOGUE, NAME, with_url(ENTRY, srv.url + "/tiny.ckpt"))
        assert main(["models", "download", NAME, "-q"]) == 0
    assert (weights.models_dir() / "tiny.ckpt").read_bytes() == payload
    assert "sha256" in capsys.readouterr().out


def test_download_of_a_browser_only_model_says_where_to_go(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "download", "migan_512"]) == 1
    err = capsys.readouterr().err
    assert "drive.google.com" in err and "inpaint-studio models import migan_512 FILE" in err
    assert main(["models", "download", "nope"]) == 1
    assert "unknown weights 'nope'" in capsys.readouterr().err
