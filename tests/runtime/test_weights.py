"""Weights files: the folder, import, verification on load, and the messages a wrong file gives."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from inpaint_studio.core.errors import UnknownMethodError, WeightsError, WeightsMissingError
from inpaint_studio.methods.learned import build
from inpaint_studio.runtime import catalogue, weights
from inpaint_studio.runtime.installer import import_files
from inpaint_studio.runtime.model_cache import ModelCache
from tests.runtime.weights_fakes import ENTRY, NAME, lightning_ckpt, state, tiny, with_part  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("tiny")


def _save(path: Path, obj: object) -> Path:
    torch.save(obj, path)
    return path


def test_the_folder_follows_inpaint_studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INPAINT_STUDIO_HOME", str(tmp_path / "home"))
    assert weights.models_dir() == tmp_path / "home" / "models"
    assert weights.models_dir().is_dir()


def test_without_the_env_var_the_folder_is_the_user_data_dir(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.delenv("INPAINT_STUDIO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = weights.models_dir(create=False)
    assert folder.name == "models" and "inpaint-studio" in folder.parts


def test_every_catalogue_entry_is_complete_and_flags_its_licence() -> None:
    for name, entry in catalogue.CATALOGUE.items():
        assert entry.name == name and entry.parts and entry.page_url.startswith("https://")
        assert entry.network in __import__("inpaint_studio.methods.learned", fromlist=["names"]).names()
        if entry.direct_url is None:
            assert "browser" in weights.missing_message(entry) or len(entry.parts) > 1
    assert catalogue.entry("csa").non_commercial is True
    assert catalogue.entry("csa").licence_flag == "NON-COMMERCIAL"
    assert catalogue.entry("deepfill_v2").non_commercial is True  # the TF original is CC BY-NC
    assert catalogue.entry("shiftnet").non_commercial is None
    assert catalogue.entry("shiftnet").licence_flag == "unknown, check before commercial use"
    assert catalogue.entry("lama").non_commercial is False
    # Google Drive pages are never passed off as downloads
    assert all(e.direct_url is None for e in catalogue.CATALOGUE.values() if "drive.google" in e.page_url)
    with pytest.raises(WeightsError, match="unknown weights"):
        catalogue.entry("nope")


def test_import_verifies_copies_and_records_the_hash(tmp_path: Path) -> None:
    src = _save(tmp_path / "best.ckpt", lightning_ckpt())
    before = src.read_bytes()
    [part] = import_files(NAME, [src])
    assert part.path == weights.models_dir() / "tiny.ckpt"
    assert part.path.read_bytes() == before and src.read_bytes() == before  # the user's file is untouched
    assert part.sha256 == weights.file_sha256(src)
    recorded = json.loads((weights.models_dir() / "hashes.json").read_text())
    assert recorded["tiny.ckpt"]["sha256"] == part.sha256
    assert sorted(p.name for p in weights.models_dir().iterdir()) == ["hashes.json", "tiny.ckpt"]  # no temp


def test_a_lightning_checkpoint_loads_without_running_its_objects(tmp_path: Path) -> None:
    """weights_only refuses Lightning's bookkeeping; the allow-list loader takes only the tensors."""
    marker = tmp_path / "pwned"
    ckpt = lightning_ckpt()
    ckpt["hyper_parameters"] = _Evil(str(marker))
    ckpt["callbacks"] = {"cb": _Plain(3)}
    ckpt["hparams"] = _AttrDict(lr=1e-3, gen={"kind": "ffc"})  # dict subclass: NEWOBJ + SETITEMS
    src = _save(tmp_path / "best.ckpt", ckpt)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(src, weights_only=True)  # what made the fallback necessary
    import_files(NAME, [src])
    sd, files = weights.load_state_dict(NAME)
    assert not marker.exists(), "code from the checkpoint ran"
    assert set(sd) == set(build("tiny_net").state_dict())
    assert torch.equal(sd["conv.weight"], state()["conv.weight"])
    assert files[0].sha256 == weights.file_sha256(src)


class _Evil:
    """Unpickling this would create a file: a stand-in for arbitrary code in a pickle."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.path),))


class _AttrDict(dict):
    """Like Lightning's AttributeDict."""

    def __getattr__(self, key: str) -> object:
        return self[key]


class _Plain:
    def __init__(self, value: int) -> None:
        self.value = value


def test_a_bare_state_dict_without_prefix_is_accepted_too(tmp_path: Path) -> None:
    import_files(NAME, [_save(tmp_path / "g.pth", state())])
    sd, _ = weights.load_state_dict(NAME)
    assert torch.equal(sd["norm.weight"], state()["norm.weight"])


def test_missing_and_unexpected_keys_are_named(tmp_path: Path) -> None:
    ckpt = lightning_ckpt()
    del ckpt["state_dict"]["generator.conv.bias"]
    ckpt["state_dict"]["generator.extra.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError) as err:
        import_files(NAME, [_save(tmp_path / "bad.ckpt", ckpt)])
    text = str(err.value)
    assert "1 missing key(s): generator.conv.bias" in text
    assert "1 unexpected key(s): generator.extra.weight" in text
    assert not (weights.models_dir() / "tiny.ckpt").exists(), "a wrong file must not be installed"
    assert [p.name for p in weights.models_dir().iterdir() if p.name != "hashes.json"] == []


def test_shape_mismatches_are_named(tmp_path: Path) -> None:
    ckpt = lightning_ckpt()
    ckpt["state_dict"]["generator.conv.weight"] = torch.zeros(3, 3, 3, 3)
    with pytest.raises(WeightsError, match=r"conv.weight is \[3, 3, 3, 3\] in the file, \[3, 4, 3, 3\]"):
        import_files(NAME, [_save(tmp_path / "bad.ckpt", ckpt)])


def test_the_wrong_container_is_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="expected a dict with 'state_dict', found epoch"):
        import_files(NAME, [_save(tmp_path / "bad.ckpt", {"epoch": 1, "model": state()})])


def test_a_truncated_file_says_so(tmp_path: Path) -> None:
    good = _save(tmp_path / "good.ckpt", lightning_ckpt())
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="truncated or damaged"):
        import_files(NAME, [cut])
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match="empty"):
        import_files(NAME, [empty])


def test_a_file_damaged_after_install_is_caught_on_load(tmp_path: Path) -> None:
    [part] = import_files(NAME, [_save(tmp_path / "g.ckpt", lightning_ckpt())])
    data = part.path.read_bytes()
    part.path.write_bytes(data[: len(data) - 200])
    with pytest.raises(WeightsError, match="truncated or damaged"):
        weights.load_state_dict(NAME)


def test_a_published_hash_rejects_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(catalogue.CATALOGUE, NAME, with_part(ENTRY, sha256="0" * 64))
    with pytest.raises(WeightsError, match="not the published file: its SHA-256 is"):
        import_files(NAME, [_save(tmp_path / "g.ckpt", lightning_ckpt())])


def test_missing_weights_say_how_to_get_them() -> None:
    with pytest.raises(WeightsMissingError) as err:
        weights.load_state_dict(NAME)
    assert "Tiny test net needs its weights" in str(err.value)
    assert "inpaint-studio models import tiny FILE" in str(err.value)
    assert weights.missing_message(catalogue.entry("lama")) == (
        "LaMa (big-lama) needs its weights: inpaint-studio models download lama (or import FILE)")


def test_lama_zip_is_unpacked_on_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """big-lama.zip holds big-lama/models/best.ckpt; importing the zip installs that member."""
    zipped = with_part(ENTRY, archive_member="big-lama/models/best.ckpt")
    monkeypatch.setitem(catalogue.CATALOGUE, NAME, zipped)
    ckpt = _save(tmp_path / "best.ckpt", lightning_ckpt())
    archive = tmp_path / "big-lama.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("big-lama/config.yaml", "generator: {}\n")
        zf.write(ckpt, "big-lama/models/best.ckpt")
    [part] = import_files(NAME, [archive])
    assert part.path.read_bytes() == ckpt.read_bytes()


def test_deepfill_checkpoint_in_the_official_layout_imports(tmp_path: Path) -> None:
    """The converted DeepFill v2 file is ``{"G": state_dict}`` without prefix."""
    sd = build("deepfill_v2").state_dict()
    [part] = import_files("deepfill_v2", [_save(tmp_path / "states_tf_places2.pth", {"G": sd, "D": {}})])
    assert part.path.name == "states_tf_places2.pth"
    loaded, _ = weights.load_state_dict("deepfill_v2")
    assert set(loaded) == set(sd)


def test_a_two_file_model_takes_its_files_in_any_order(tmp_path: Path) -> None:
    """CSA ships netP and netG as two files; each goes where its keys and shapes fit."""
    sd = build("tiny_pair").state_dict()
    p_file = _save(tmp_path / "30_net_P.pth", {k[5:]: v for k, v in sd.items() if k.startswith("netP.")})
    g_file = _save(tmp_path / "30_net_G.pth", {k[5:]: v for k, v in sd.items() if k.startswith("netG.")})
    parts = import_files("tiny_pair", [g_file, p_file])
    assert sorted(p.file_name for p in parts) == ["pair_G.pth", "pair_P.pth"]
    loaded, files = weights.load_state_dict("tiny_pair")
    assert set(loaded) == set(sd) and len(files) == 2
    with pytest.raises(Exception, match="needs 2 file"):
        import_files("tiny_pair", [g_file])
    with pytest.raises(WeightsError, match="fits no remaining part"):
        import_files("tiny_pair", [g_file, g_file])


def test_csa_parts_cover_the_whole_network() -> None:
    layout = weights.expected_layout("csa")
    prefixes = tuple(p.module_prefix for p in catalogue.entry("csa").parts)
    assert layout and all(key.startswith(prefixes) for key in layout)


def test_weights_status_for_the_gui(tmp_path: Path) -> None:
    status = weights.weights_status("tiny_learned")
    assert not status.installed and status.weights == NAME and status.non_commercial is False
    assert status.page_url == "https://example.invalid/tiny" and status.direct_url is None
    import_files(NAME, [_save(tmp_path / "g.ckpt", lightning_ckpt())])
    status = weights.weights_status("tiny_learned")
    assert status.installed and status.path == weights.models_dir() / "tiny.ckpt"
    assert weights.weights_status("telea").installed  # no weights needed
    assert weights.weights_status("csa").non_commercial is True  # catalogue name works too
    with pytest.raises(UnknownMethodError):
        weights.weights_status("no-such-method")


def test_remove_deletes_the_files_and_partial_downloads(tmp_path: Path) -> None:
    [part] = import_files(NAME, [_save(tmp_path / "g.ckpt", lightning_ckpt())])
    partial = part.path.with_name(part.path.name + ".part")
    partial.write_bytes(b"half")
    assert set(weights.remove(NAME)) == {part.path, partial}
    assert not part.path.exists() and not partial.exists()
    assert weights.remove(NAME) == []


def test_the_cache_keeps_one_model_and_unloads_on_switch(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import_files(NAME, [_save(tmp_path / "g.ckpt", lightning_ckpt())])
    second = with_part(ENTRY, file_name="tiny2.ckpt")
    monkeypatch.setitem(catalogue.CATALOGUE, "tiny2", dataclasses.replace(second, name="tiny2"))
    import_files("tiny2", [_save(tmp_path / "g2.ckpt", lightning_ckpt(state(seed=1)))])
    cache = ModelCache()
    first = cache.get(NAME).module
    assert cache.get(NAME).module is first  # resident: no reload
    assert not first.training and not any(p.requires_grad for p in first.parameters())
    cache.get("tiny2")
    assert cache.current is not None and cache.current.name == "tiny2"
    cache.unload()
    assert cache.current is None
    assert os.environ["INPAINT_STUDIO_HOME"]  # the suite's isolation is in force
