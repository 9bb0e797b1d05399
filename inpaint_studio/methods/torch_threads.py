"""Torch threads for a fit (DIP, SIREN) on a busy machine; torch is imported only to set them.

On an oversubscribed CPU, torch's OpenMP threads spin waiting for each other: measured on a 2-core
machine under load, 0.37 CPU s per DIP iteration at 2 threads against 0.09 s at 1 thread. So a fit
uses only the cores other programs leave free.

"Other programs" must not include this process: the 1-minute load average counts our own previous
fill, so a rule on it would drop a 4-core CLI batch to one thread after its first photo. On Linux
the kernel's count of runnable tasks right now, minus this process's own runnable threads, is what
the rest of the machine is doing; elsewhere the thread count is left as it is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: samples of the runnable-task count, this far apart; their mean smooths a momentary blip
_SAMPLES = 5
_SAMPLE_GAP_S = 0.01


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _running_system() -> int:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("procs_running"):
            return int(line.split()[1])
    raise OSError("no procs_running in /proc/stat")


def _running_own() -> int:
    running = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the thread ended meanwhile
            continue
        # "pid (comm) S ...": the state follows the last ')' (comm may contain spaces or brackets)
        if text[text.rindex(")") + 2:].startswith("R"):
            running += 1
    return running


def others_running() -> float:
    """How many tasks of other processes want a CPU now (mean of a few samples over ~50 ms).

    Raises OSError where the kernel does not say (no ``/proc``).
    """
    total = 0
    for i in range(_SAMPLES):
        if i:
            time.sleep(_SAMPLE_GAP_S)
        total += max(0, _running_system() - _running_own())
    return total / _SAMPLES


def fit_threads(current: int, others: Callable[[], float] = others_running,
                cores: Callable[[], int] = _cores) -> int:
    """``current`` threads, fewer when other programs keep cores busy: the cores they leave free,
    at least one. Unknown load (not Linux) leaves ``current`` as it is."""
    try:
        busy = others()
    except OSError:
        return current
    free = cores() - int(busy + 0.5)
    return max(1, min(current, free))


@contextmanager
def on_free_cores() -> Iterator[int]:
    """Run a fit on :func:`fit_threads` torch threads; the caller's count is restored after."""
    import torch

    before = torch.get_num_threads()
    threads = fit_threads(before)
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if threads != before:
            torch.set_num_threads(before)
