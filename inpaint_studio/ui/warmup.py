"""Compile the patch-based methods' numba kernels in the background once the window is up.

Why: numba compiles PatchMatch's loops on first use (``cache=True`` keeps them on disk later, but
a fresh install or a new numba version starts cold), which stalled the first content-aware fill
by about 46 s. Running one tiny fill of each such method on a low-priority thread right after
the window shows moves that wait to where nobody is waiting. It never blocks startup, and tests
(or users on battery) turn it off with ``INPAINT_STUDIO_NO_WARMUP=1``.

It also imports torch (about 2 s here), so the first Deep Image Prior or SIREN fill of a session
shows its first preview in a fraction of a second instead of after the import.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

#: set (to anything but "" or "0") to skip the warm-up
OPT_OUT = "INPAINT_STUDIO_NO_WARMUP"
#: the methods whose first run compiles numba kernels
METHODS: tuple[str, ...] = ("patchmatch", "criminisi")


#: the method the warm-up is running right now (None when idle): a fill of it that starts meanwhile
#: waits for numba's compiler, and the fill panel says so instead of looking stuck
_running: str | None = None


def compiling(name: str) -> bool:
    """True while the warm-up is still preparing ``name`` (only long on a cold numba cache)."""
    return _running == name


def disabled(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(OPT_OUT, "")
    return value not in ("", "0")


def warm_up(names: Sequence[str] = METHODS) -> dict[str, float]:
    """Import torch, then one 40x40 CPU fill of each installed method in ``names``; seconds per step."""
    from inpaint_studio.methods import registry
    from inpaint_studio.runtime.jobs import FillRequest, run_fill

    rng = np.random.default_rng(0)
    pixels = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[16:24, 14:26] = 255
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with contextlib.suppress(ImportError):  # the torch methods are optional extras of a sort
        import torch  # noqa: F401

        seconds["torch"] = time.perf_counter() - start
    global _running
    installed = set(registry.names())
    for name in names:
        if name not in installed:
            continue
        start = time.perf_counter()
        _running = name
        try:
            run_fill(FillRequest(pixels=pixels, mask=mask, method=name, device="cpu"))  # never raises
        finally:
            _running = None
        seconds[name] = time.perf_counter() - start
    return seconds


def start(job: Callable[[], object] = warm_up, environ: Mapping[str, str] | None = None
          ) -> threading.Thread | None:
    """Run ``job`` on a low-priority daemon thread (None when opted out)."""
    if disabled(environ):
        return None

    def run() -> None:
        with contextlib.suppress(Exception):  # Linux: a thread has its own nice value
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
        with contextlib.suppress(Exception):  # a warm-up that fails changes nothing: the fill compiles
            job()

    thread = threading.Thread(target=run, name="inpaint-studio-warmup", daemon=True)
    thread.start()
    return thread
