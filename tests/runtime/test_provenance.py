"""Provenance: enough to explain and reproduce a fill; the sidecar is written atomically."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from inpaint_studio.core.errors import SaveError
from inpaint_studio.runtime.device import CPU_ONLY_REASON
from inpaint_studio.runtime.jobs import FillRequest, run_fill
from inpaint_studio.runtime.provenance import Provenance, sidecar_path_for
from tests.runtime.runtime_fakes import make_mask, make_photo


@pytest.fixture
def provenance() -> Provenance:
    pixels, mask = make_photo(np.uint16), make_mask() > 0
    result = run_fill(FillRequest(pixels, mask, "telea", {"radius": "5"}, seed=3, source_name="beach.tif"))
    assert result.ok and result.provenance is not None
    return result.provenance


def test_provenance_records_what_produced_the_fill(provenance: Provenance) -> None:
    record = json.loads(json.dumps(provenance.to_json()))  # plain JSON all the way down
    assert record["status"] == "done"
    assert record["method"] == "telea" and record["method_label"] == "Telea (fast marching)"
    assert record["params"] == {"radius": 5.0}
    assert record["seed"] == 3
    assert record["device"] == "cpu" and record["device_reason"] == CPU_ONLY_REASON
    assert record["source_name"] == "beach.tif"
    for key in ("inpaint_studio", "python", "numpy", "opencv", "Pillow", "platform"):
        assert record["versions"][key], key
    pixels = make_photo(np.uint16)
    image = record["input"]["image"]
    assert image == {"sha256": hashlib.sha256(pixels.tobytes()).hexdigest(), "shape": [64, 80, 3],
                     "dtype": "uint16"}
    coverage = make_mask()  # the bool mask is recorded as its 0/255 coverage
    assert record["input"]["mask"]["sha256"] == hashlib.sha256(coverage.tobytes()).hexdigest()
    [region] = record["regions"]
    assert region["scale"] == 1.0
    assert region["top"] <= 20 and region["bottom"] >= 30 and region["left"] <= 30 and region["right"] >= 45
    durations = record["durations"]
    assert len(durations["regions_s"]) == 1
    assert durations["total_s"] >= durations["regions_s"][0] >= 0
    started = datetime.fromisoformat(record["started_at"])
    assert started.utcoffset() == timedelta(0)


def test_failed_fills_have_provenance_too() -> None:
    result = run_fill(FillRequest(make_photo(), make_mask(), "telea", {"radius": 99}))
    assert result.provenance is not None
    record = result.provenance.to_json()
    assert record["status"] == "failed" and "radius" in record["message"]
    assert record["params"] == {"radius": 99}  # the raw request, since it never validated


def test_sidecar_is_indented_json_and_replaces_an_old_one(provenance: Provenance, tmp_path: Path) -> None:
    target = sidecar_path_for(tmp_path / "beach.tif")
    assert target.name == "beach.tif.json"
    target.write_text("old")
    assert provenance.write_sidecar(target) == target
    text = target.read_text()
    assert json.loads(text) == provenance.to_json()
    assert text.startswith('{\n  "')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beach.tif.json"]  # no temp file left


def test_a_failed_sidecar_write_leaves_the_old_file_and_no_debris(
    provenance: Provenance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "beach.tif.json"
    target.write_text("old")

    def refuse(self: Path, other: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(SaveError, match="No space left"):
        provenance.write_sidecar(target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["beach.tif.json"]


def test_a_sidecar_in_a_missing_folder_is_a_save_error(provenance: Provenance, tmp_path: Path) -> None:
    with pytest.raises(SaveError):
        provenance.write_sidecar(tmp_path / "missing" / "x.json")
    assert not (tmp_path / "missing").exists()


def test_a_new_sidecar_gets_ordinary_file_permissions(provenance: Provenance, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        written = provenance.write_sidecar(tmp_path / "x.json")
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == 0o644
