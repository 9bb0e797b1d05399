"""Atomic writes: whatever happens mid-write, the old file survives byte for byte and no debris is left."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import EmptyImageError, OverwriteRefusedError, SaveError


def _listing(folder: Path) -> list[str]:
    """Every name in the folder, hidden temp files included."""
    return sorted(p.name for p in folder.iterdir())


def _writes(data: bytes) -> Callable[[BinaryIO], None]:
    def write(fh: BinaryIO) -> None:
        fh.write(data)

    return write


def _crashes_after_half(fh: BinaryIO) -> None:
    fh.write(b"half a fi")
    raise RuntimeError("disk on fire")


def test_writes_the_file_and_returns_its_path(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    assert atomic_write(str(target), _writes(b"new bytes"), overwrite=False) == target
    assert target.read_bytes() == b"new bytes"
    assert _listing(tmp_path) == ["out.bin"]


def test_a_crash_mid_write_leaves_the_old_file_byte_identical_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "photo.png"
    original = bytes(range(256)) * 3
    target.write_bytes(original)
    with pytest.raises(SaveError):
        atomic_write(target, _crashes_after_half, overwrite=True)
    assert target.read_bytes() == original
    assert _listing(tmp_path) == ["photo.png"]


def test_an_error_in_the_writer_is_a_save_error_naming_the_cause(tmp_path: Path) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"old")
    with pytest.raises(SaveError, match="disk on fire") as caught:
        atomic_write(target, _crashes_after_half, overwrite=True)
    assert "photo.png" in str(caught.value) and type(caught.value) is SaveError
    assert _listing(tmp_path) == ["photo.png"]


def test_a_crash_while_creating_a_new_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(SaveError):
        atomic_write(tmp_path / "new.png", _crashes_after_half, overwrite=False)
    assert _listing(tmp_path) == []


def test_our_own_errors_pass_through_unchanged(tmp_path: Path) -> None:
    def refuse(_fh: BinaryIO) -> None:
        raise EmptyImageError("nothing to write")

    with pytest.raises(EmptyImageError, match="nothing to write"):
        atomic_write(tmp_path / "x.png", refuse, overwrite=False)
    assert _listing(tmp_path) == []


def test_ctrl_c_mid_write_is_not_swallowed_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    target.write_bytes(b"old")

    def interrupted(fh: BinaryIO) -> None:
        fh.write(b"part")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted, overwrite=True)
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["x.png"]


def test_refuses_to_replace_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "photo.png"
    target.write_bytes(b"original")
    called = []
    with pytest.raises(OverwriteRefusedError, match="already exists"):
        atomic_write(target, called.append, overwrite=False)
    assert called == []  # refused before any work is done
    assert target.read_bytes() == b"original"
    assert _listing(tmp_path) == ["photo.png"]


def test_a_file_that_appears_during_the_write_is_not_replaced(tmp_path: Path) -> None:
    """Another program saving the same name while we encode wins; we refuse instead of clobbering it."""
    target = tmp_path / "photo.png"

    def slow_write(fh: BinaryIO) -> None:
        target.write_bytes(b"someone else's file")
        fh.write(b"ours")

    with pytest.raises(OverwriteRefusedError):
        atomic_write(target, slow_write, overwrite=False)
    assert target.read_bytes() == b"someone else's file"
    assert _listing(tmp_path) == ["photo.png"]


def test_without_hard_links_a_new_file_is_still_saved_and_an_existing_one_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # FAT, some network shares

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "a.png"
    atomic_write(target, _writes(b"first"), overwrite=False)
    assert target.read_bytes() == b"first"

    def racing(fh: BinaryIO) -> None:
        (tmp_path / "b.png").write_bytes(b"theirs")
        fh.write(b"ours")

    with pytest.raises(OverwriteRefusedError):
        atomic_write(tmp_path / "b.png", racing, overwrite=False)
    assert (tmp_path / "b.png").read_bytes() == b"theirs"
    assert _listing(tmp_path) == ["a.png", "b.png"]


def test_overwrite_replaces_the_content_and_keeps_the_permissions(tmp_path: Path) -> None:
    target = tmp_path / "shared.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write(target, _writes(b"new"), overwrite=True)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o7777 == 0o640
    assert _listing(tmp_path) == ["shared.png"]


def test_a_new_file_gets_ordinary_permissions_not_the_temp_files(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        written = atomic_write(tmp_path / "x.json", _writes(b"{}"), overwrite=False)
    finally:
        os.umask(old)
    assert written.stat().st_mode & 0o777 == 0o644  # mkstemp alone would leave 0o600


def test_a_missing_folder_or_a_folder_as_target_is_a_save_error(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match="does not exist"):
        atomic_write(tmp_path / "no" / "x.png", _writes(b"x"), overwrite=True)
    assert not (tmp_path / "no").exists()
    (tmp_path / "adir").mkdir()
    with pytest.raises(SaveError, match="is a folder"):
        atomic_write(tmp_path / "adir", _writes(b"x"), overwrite=True)
    assert _listing(tmp_path) == ["adir"] and _listing(tmp_path / "adir") == []


def test_an_os_error_while_replacing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.png"
    target.write_bytes(b"old")

    def full_disk(self: Path, other: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "replace", full_disk)
    with pytest.raises(SaveError, match="No space left on device"):
        atomic_write(target, _writes(b"new"), overwrite=True)
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["x.png"]
