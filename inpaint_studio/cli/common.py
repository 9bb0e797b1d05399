"""Pieces every CLI command shares: error lines, ``--param`` parsing, path safety, Ctrl+C.

Kept free of numpy/cv2 imports at module level so ``inpaint-studio --version`` and argument
errors answer instantly; the heavy layers are imported inside the functions that need them.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inpaint_studio.core.errors import (
    InvalidInputError,
    InvalidParameterError,
    OverwriteRefusedError,
)

PROG = "inpaint-studio"
#: exit code of a run the user interrupted (128 + SIGINT, what shells report for Ctrl+C)
EXIT_CANCELLED = 130


def one_line(text: str) -> str:
    """Collapse a message to one line: scripts grep our stderr line by line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip()) or "unknown error"


def print_error(message: str) -> None:
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr, flush=True)


def print_note(message: str) -> None:
    print(f"{PROG}: {one_line(message)}", file=sys.stderr, flush=True)


def parse_param_args(items: Sequence[str] | None) -> dict[str, str]:
    """``["radius=5", "mode=fast"]`` -> ``{"radius": "5", "mode": "fast"}`` (values stay strings).

    Types and ranges are checked by :func:`inpaint_studio.methods.base.make_params`, which knows
    each method's declaration; here only the ``key=value`` shape is checked. ``-`` in a key is
    read as ``_`` so ``context-margin=8`` works like ``context_margin=8``. A repeated key: last wins.
    """
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InvalidParameterError(f"--param expects KEY=VALUE, got {item!r}")
        out[key] = value.strip()
    return out


def resolve_method(name: str, raw_params: Mapping[str, Any]) -> tuple[type, Any]:
    """The method class and its validated params; raises before any file is read."""
    from inpaint_studio.methods import registry
    from inpaint_studio.methods.base import make_params

    method_cls = registry.method_class(name)
    return method_cls, make_params(method_cls.Params, raw_params)


def sidecar_path(output: Path) -> Path:
    """Where ``--record`` writes the provenance record: ``out.png`` -> ``out.png.json`` (runtime's rule)."""
    from inpaint_studio.runtime.provenance import sidecar_path_for

    return sidecar_path_for(output)


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name one file (symlinks, ``./x`` vs ``x``, case-insensitive disks)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def require_file(path: Path, what: str) -> None:
    """Fail fast, with a clear message, before any expensive work starts."""
    if not path.exists():
        raise InvalidInputError(f"{what} not found: {path}")
    if path.is_dir():
        raise InvalidInputError(f"{what} is a folder, not a file: {path}")


def check_output_file(output: Path, *, overwrite: bool, record: bool,
                      inputs: Sequence[tuple[Path, str]] = ()) -> None:
    """Refuse, before filling, what saving would refuse afterwards (never overwrite unless asked)."""
    if output.is_dir():
        raise InvalidInputError(f"output is a folder, not a file: {output}")
    parent = output.parent
    if not parent.is_dir():
        raise InvalidInputError(f"output folder does not exist: {parent}")
    if overwrite:
        return
    for path, what in inputs:
        if same_file(output, path):
            raise OverwriteRefusedError(
                f"refusing to overwrite the input {what} {path}; choose another output or pass --overwrite")
    targets = [output, sidecar_path(output)] if record else [output]
    for target in targets:
        if target.exists():
            raise OverwriteRefusedError(f"{target} already exists; pass --overwrite to replace it")


@contextmanager
def ctrl_c_cancels(cancel: Any) -> Iterator[None]:
    """While a fill runs, the first Ctrl+C asks it to stop at its next check; a second one stops at once.

    The graceful path lets the runtime unwind (release the device, report "cancelled") instead of
    dying mid-step. Signal handlers can only be set from the main thread; elsewhere (tests driving
    ``main`` from a thread) Ctrl+C keeps Python's default behaviour.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = 0

    def _handler(signum: int, frame: object) -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            raise KeyboardInterrupt
        cancel.cancel()  # no printing here: the main thread may be mid-write to stderr

    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
