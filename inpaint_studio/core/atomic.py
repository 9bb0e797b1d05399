"""Atomic file writes: a reader sees the old file or the whole new one, never half of either.

Every file the app writes (photos, masks, provenance sidecars) goes through :func:`atomic_write`, so
a crash, a full disk or an encoder error mid-save can never destroy the user's previous file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from inpaint_studio.core.errors import InpaintStudioError, OverwriteRefusedError, SaveError

__all__ = ["atomic_write"]


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], None], *, overwrite: bool
) -> Path:
    """Write through a temp file in the same folder, then rename over the target in one step.

    ``write`` gets the temp file opened "w+b" (a real, named file: tifffile needs one). A crash or
    error mid-save leaves the old file untouched and no temp file behind. An existing file is replaced
    only with overwrite=True (else OverwriteRefusedError, also when it appears during the write) and
    keeps its permissions; a new file gets the usual ones (0o666 minus the umask).
    Raises SaveError (with a one-line message) for every other failure.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise SaveError(f"{path} is a folder; choose a file name to save to")
    if not folder.is_dir():
        raise SaveError(f"cannot save {path.name}: folder {folder} does not exist; create it first")
    if path.exists() and not overwrite:
        raise _refuse_overwrite(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".inpaint-tmp", dir=folder)
    except OSError as exc:
        detail = f"cannot save {path.name} in {folder} ({exc.strerror})"
        raise SaveError(f"{detail}; check the folder's permissions") from None
    os.close(fd)  # reopened by name: tifffile wants a file object with a real name
    tmp = Path(tmp_name)
    try:
        with open(tmp, "w+b") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        mode = (path.stat().st_mode & 0o7777) if path.exists() else _new_file_mode()
        tmp.chmod(mode)
        if overwrite:
            tmp.replace(path)
        else:
            _link_no_clobber(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, InpaintStudioError):
            raise
        if isinstance(exc, Exception):
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise SaveError(f"could not save {path.name} ({detail}); any previous file is unchanged") from exc
        raise
    return path


def _new_file_mode() -> int:
    """What a plain ``open(path, "w")`` would give (mkstemp's 0o600 would hide the file from others)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _refuse_overwrite(path: Path) -> OverwriteRefusedError:
    return OverwriteRefusedError(f"{path} already exists; choose another name or allow overwriting it")


def _link_no_clobber(tmp: Path, path: Path) -> None:
    """Move tmp to path only if path does not exist (closes the race between check and rename)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _refuse_overwrite(path) from None
    except OSError:
        # file systems without hard links (FAT, some network shares): best effort
        if path.exists():
            raise _refuse_overwrite(path) from None
        tmp.replace(path)
        return
    tmp.unlink()
