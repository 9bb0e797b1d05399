"""Suite-wide isolation: no test touches the developer's settings, caches or display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = Path(__file__).resolve().parents[2] / "shared"
KODAK = SHARED / "datasets" / "kodak"
OLD_PHOTOS = SHARED / "datasets" / "old_photos"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point config, cache and data folders at a fresh temp dir for every test."""
    root = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(root / var.lower()))
    monkeypatch.setenv("INPAINT_STUDIO_HOME", str(root / "inpaint_studio"))


@pytest.fixture(scope="session")
def kodak_dir() -> Path:
    """The shared Kodak set (present on every developer machine and in CI)."""
    if not (KODAK / "images").is_dir():
        pytest.fail(f"shared Kodak dataset not found at {KODAK}")
    return KODAK


@pytest.fixture(scope="session")
def old_photos_dir() -> Path:
    """The shared scans of damaged old prints (present on every developer machine and in CI)."""
    if not OLD_PHOTOS.is_dir():
        pytest.fail(f"shared old-photos dataset not found at {OLD_PHOTOS}")
    return OLD_PHOTOS
