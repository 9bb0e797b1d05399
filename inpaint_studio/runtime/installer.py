"""Getting weights into the folder: download (resumable, cancellable) or import a file the user has.

Both end the same way: the candidate file is hashed, unpickled safely and key/shape-matched against
the network *before* it takes the final name, and it takes that name in one atomic rename, so the
folder never holds a half-written or unverified file under a real name. A download writes
``<file>.part`` and resumes it with an HTTP Range request after a dropped connection (automatically a
few times, and again on the next call); cancel keeps the ``.part`` for later. stdlib urllib only: one
GET with a Range header needs no extra dependency.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inpaint_studio.core.errors import DownloadCancelled, InvalidInputError, MissingFileError, WeightsError
from inpaint_studio.runtime.catalogue import WeightsPart, entry
from inpaint_studio.runtime.context import CancelToken
from inpaint_studio.runtime.weights import (
    InstalledPart,
    expected_layout,
    part_path,
    record_hash,
    verify_file,
)

log = logging.getLogger(__name__)

__all__ = ["DownloadProgress", "download", "import_files"]

#: (bytes done, total bytes or None when the server does not say)
DownloadProgress = Callable[[int, "int | None"], None]

_CHUNK = 1 << 16
_TIMEOUT_S = 30.0
_USER_AGENT = "inpaint-studio (weights download)"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _open(url: str, start: int) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(request, timeout=_TIMEOUT_S)


def _total_from(response: Any, start: int) -> int | None:
    content_range = response.headers.get("Content-Range") or ""
    if "/" in content_range:
        tail = content_range.rsplit("/", 1)[1].strip()
        if tail.isdigit():
            return int(tail)
    length = response.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (start if response.status == 206 else 0)
    return None


def _fetch(url: str, part_file: Path, progress: DownloadProgress | None, cancel: CancelToken) -> None:
    """One attempt: continue ``part_file`` from its current size until the server's end."""
    start = part_file.stat().st_size if part_file.exists() else 0
    try:
        response = _open(url, start)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing left to send: the .part is already whole
            return
        raise
    with response:
        if start and response.status != 206:  # the server ignored the Range: start over
            start = 0
        total = _total_from(response, start)
        done = start
        with open(part_file, "ab" if start else "wb") as out:
            if progress is not None:
                progress(done, total)
            while True:
                if cancel.cancelled:
                    raise DownloadCancelled(f"download cancelled after {_mb(done)}; the partial file is kept "
                                            "and the next download resumes it")
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)


def download(name: str, *, progress: DownloadProgress | None = None, cancel: CancelToken | None = None,
             retries: int = 3, url: str | None = None) -> list[InstalledPart]:
    """Download weights ``name`` into the folder, verify them and install them atomically.

    ``url`` overrides the catalogue's direct URL (mirrors, tests). A dropped connection is resumed up to
    ``retries`` times; after that the ``.part`` stays and calling again resumes it. Raises
    DownloadCancelled, or WeightsError for a page-only entry, a network error, or a file that fails
    its checksum or does not match the network (that partial file is deleted: resuming it is useless).
    """
    weights = entry(name)
    source = url or weights.direct_url
    if source is None:
        raise WeightsError(f"{weights.label} cannot be downloaded by the app ({weights.note}): open "
                           f"{weights.page_url} in your browser, then: "
                           f"inpaint-studio models import {name} FILE")
    if len(weights.parts) != 1:
        raise WeightsError(f"{weights.label} comes in {len(weights.parts)} files; import them instead")
    part = weights.parts[0]
    dest = part_path(part)
    part_file = dest.with_name(dest.name + ".part")
    cancel = cancel or CancelToken()
    attempt = 0
    while True:
        try:
            _fetch(source, part_file, progress, cancel)
            break
        except DownloadCancelled:
            raise
        except urllib.error.HTTPError as exc:
            raise WeightsError(f"downloading {weights.label} failed: the server answered {exc.code} "
                               f"{exc.reason} for {source}") from None
        except (OSError, http.client.HTTPException) as exc:
            have = part_file.stat().st_size if part_file.exists() else 0
            if attempt < retries and not cancel.cancelled:
                attempt += 1
                log.info("download of %s interrupted at %s (%s); resuming (%d/%d)", name, _mb(have), exc,
                         attempt, retries)
                time.sleep(min(2.0, 0.2 * attempt))
                continue
            reason = getattr(exc, "reason", None) or exc
            raise WeightsError(f"downloading {weights.label} was interrupted after {_mb(have)} ({reason}); "
                               f"run the download again to resume it") from None
    try:
        return [_install_verified(name, part, part_file, dest, move=True)]
    except WeightsError:
        with contextlib.suppress(OSError):
            part_file.unlink()
        raise


def _extract_member(archive: Path, part: WeightsPart, folder: Path) -> Path | None:
    """If ``archive`` is a .zip holding ``part.archive_member``, extract it next to ``folder``; else None.

    (torch.save files are zip files too: only an archive that has the member counts.)
    """
    if part.archive_member is None or not zipfile.is_zipfile(archive):
        return None
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        member = part.archive_member if part.archive_member in names else next(
            (n for n in names if n.endswith("/" + part.archive_member.rsplit("/", 1)[-1])), None)
        if member is None:
            return None
        fd, tmp_name = tempfile.mkstemp(prefix=f".{part.file_name}.", suffix=".extract", dir=folder)
        with os.fdopen(fd, "wb") as out, zf.open(member) as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
    return Path(tmp_name)


def _install_verified(name: str, part: WeightsPart, candidate: Path, dest: Path, *, move: bool,
                      layout: Any = None) -> InstalledPart:
    """Verify ``candidate`` (or the member it archives) and give it its final name in one rename.

    ``move``: the candidate is our own ``.part`` file (renamed into place); otherwise it is the user's
    file, copied into a temp file in the folder first, and that copy is what gets verified.
    """
    staged = _extract_member(candidate, part, dest.parent)
    display = candidate.name if staged is None else f"{candidate.name} ({part.archive_member})"
    if move:
        display = f"the download of {part.file_name}"
    if staged is None and not move:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{part.file_name}.", suffix=".import", dir=dest.parent)
        with os.fdopen(fd, "wb") as out, open(candidate, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        staged = Path(tmp_name)
    source = staged or candidate
    try:
        _, sha256 = verify_file(name, part, source, layout, display)
        source.chmod(_new_file_mode())
        source.replace(dest)
        if move and staged is not None:
            candidate.unlink()
    finally:
        if staged is not None and staged.exists():
            staged.unlink()
    record_hash(part, dest, sha256)
    return InstalledPart(part.file_name, dest, sha256, dest.stat().st_size)


def _new_file_mode() -> int:
    """What a plain ``open(path, "w")`` gives (mkstemp's 0o600 would hide the file from other users)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def import_files(name: str, files: Sequence[str | os.PathLike[str]]) -> list[InstalledPart]:
    """Install weights the user already has (drag-and-drop, ``models import``): verify, then copy in.

    One file per part (CSA: the net_P and net_G files, in any order: each goes where its keys fit).
    The user's files are never moved or changed. Raises WeightsError naming what differs.
    """
    weights = entry(name)
    paths = [Path(f).expanduser() for f in files]
    for path in paths:
        if not path.is_file():
            raise MissingFileError(f"{path} does not exist or is not a file")
    if len(paths) != len(weights.parts):
        wanted = " and ".join(p.file_name for p in weights.parts)
        raise InvalidInputError(
            f"{weights.label} needs {len(weights.parts)} file(s) ({wanted}), got {len(paths)}")
    if len(paths) == 1:
        part = weights.parts[0]
        return [_install_verified(name, part, paths[0], part_path(part), move=False)]
    layout = expected_layout(weights.network)
    remaining = list(weights.parts)
    plan: list[tuple[WeightsPart, Path]] = []
    for path in paths:
        errors = []
        for part in remaining:
            try:
                verify_file(name, part, path, layout, path.name)
            except WeightsError as exc:
                errors.append(str(exc))
                continue
            plan.append((part, path))
            remaining.remove(part)
            break
        else:
            raise WeightsError(f"{path.name} fits no remaining part of {weights.label}: {' / '.join(errors)}")
    return [_install_verified(name, part, path, part_path(part), move=False, layout=layout)
            for part, path in plan]
