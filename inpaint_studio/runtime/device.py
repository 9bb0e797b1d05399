"""Which compute device a fill runs on, and why, in words a user can read.

Every GPU path must fall back to the CPU instead of failing: most machines that run the app have
no CUDA or MPS device, and a preference saved on one machine may be read on another. torch is
imported only inside functions, and only when a torch method actually needs a device, so a
classical fill from the CLI never pays torch's import time.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from inpaint_studio.core.errors import InvalidParameterError

#: what the CLI and the settings accept, for help texts
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")

CPU_ONLY_REASON = "this method runs on the CPU (OpenCV)"

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(?::(\d+))?)$")


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device string and the human reason it was chosen (shown in the GUI and provenance)."""

    device: str
    reason: str


def normalize_preference(preference: str | None) -> str:
    """Check a device preference without importing torch; returns it lower-cased and stripped.

    Raises InvalidParameterError for anything that is not auto, cpu, cuda, cuda:N or mps.
    """
    text = "auto" if preference is None else str(preference).strip().lower()
    if not _PATTERN.match(text):
        raise InvalidParameterError(
            f"unknown device {preference!r} (use one of: {', '.join(DEVICE_CHOICES)})")
    return text


def _torch() -> Any | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _cuda_available(torch: Any) -> bool:
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver is the same as no GPU to us
        return False


def _cuda_count(torch: Any) -> int:
    try:
        return int(torch.cuda.device_count())
    except Exception:
        return 0


def _cuda_name(torch: Any, index: int) -> str:
    try:
        return str(torch.cuda.get_device_name(index))
    except Exception:
        return f"device {index}"


def _mps_available(torch: Any) -> bool:
    try:
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())
    except Exception:
        return False


def choose_device(preference: str | None = "auto") -> DeviceChoice:
    """The device to run torch methods on: auto = CUDA, then Apple MPS, then the CPU.

    An explicit GPU that this machine does not have falls back to the CPU, with a reason saying so
    (never an error: settings travel between machines). Junk raises InvalidParameterError.
    """
    wanted = normalize_preference(preference)
    if wanted == "cpu":
        return DeviceChoice("cpu", "the CPU was requested")
    torch = _torch()
    if torch is None:
        return DeviceChoice("cpu", "PyTorch is not installed: using the CPU")
    if wanted == "auto":
        if _cuda_available(torch):
            return DeviceChoice("cuda", f"CUDA GPU: {_cuda_name(torch, 0)}")
        if _mps_available(torch):
            return DeviceChoice("mps", "Apple GPU (MPS)")
        return DeviceChoice("cpu", "no CUDA or MPS device found: using the CPU")
    if wanted == "mps":
        if _mps_available(torch):
            return DeviceChoice("mps", "Apple GPU (MPS), as requested")
        return DeviceChoice("cpu", "mps was requested but an Apple GPU (MPS) is not available: using the CPU")
    # cuda or cuda:N
    if not _cuda_available(torch):
        return DeviceChoice("cpu", f"{wanted} was requested but CUDA is not available: using the CPU")
    index = int(wanted.partition(":")[2] or 0)
    if ":" in wanted:
        count = _cuda_count(torch)
        if index >= count:
            return DeviceChoice(
                "cpu", f"{wanted} was requested but only {count} CUDA device(s) are available: using the CPU")
    return DeviceChoice(wanted, f"CUDA GPU: {_cuda_name(torch, index)}, as requested")


def device_for_method(uses_torch: bool, preference: str | None = "auto") -> DeviceChoice:
    """Like :func:`choose_device`, but never touches torch for a method that does not use it.

    The preference is still validated, so a typo is reported whichever method is chosen.
    """
    normalize_preference(preference)
    if not uses_torch:
        return DeviceChoice("cpu", CPU_ONLY_REASON)
    return choose_device(preference)


_threads_lock = threading.Lock()
_threads_configured: int | None = None


def configure_torch_threads() -> int:
    """Let torch use all cores but one, so the GUI stays responsive during a CPU fill.

    Runs once per process (later calls return the first answer); imports torch.
    """
    global _threads_configured
    with _threads_lock:
        if _threads_configured is None:
            count = max(1, (os.cpu_count() or 1) - 1)
            torch = _torch()
            if torch is not None:
                torch.set_num_threads(count)
            _threads_configured = count
        return _threads_configured
