"""A one-line terminal progress bar on stderr, redrawn in place with ``\\r``.

Self-written (about fifty lines) rather than tqdm/rich: the CLI needs one bar and a message
slot, and another dependency would cost start-up time that the benchmark harness measures.
It draws nothing when stderr is not a terminal, so logs and pipes never fill with ``\\r`` junk.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

_BAR_WIDTH = 24


def _format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressLine:
    """Progress bar plus ``message()`` for lines that must stay visible above it."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 min_interval: float = 0.1) -> None:
        self._stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._min_interval = min_interval
        self._last_draw = 0.0
        self._shown = False
        self._prefix = ""
        self._lock = threading.Lock()  # the runtime may report from another thread

    def set_prefix(self, prefix: str) -> None:
        """Text shown before the bar (batch: ``[3/10] name.jpg``)."""
        self._prefix = prefix

    def update(self, fraction: float, text: str = "", *, eta_s: float | None = None,
               force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        fraction = min(1.0, max(0.0, float(fraction)))
        if not force and fraction < 1.0 and now - self._last_draw < self._min_interval:
            return
        filled = round(fraction * _BAR_WIDTH)
        parts = [self._prefix] if self._prefix else []
        parts.append(f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {fraction * 100:3.0f}%")
        if eta_s is not None and 0.0 < fraction < 1.0:
            parts.append(f"ETA {_format_seconds(eta_s)}")
        if text:
            parts.append(text)
        self._draw("  ".join(parts))
        self._last_draw = now

    def message(self, line: str) -> None:
        """Print a whole line (a failure, a note) without leaving a half-drawn bar behind it."""
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[K")
                self._shown = False
            self._stream.write(line + "\n")
            self._stream.flush()

    def clear(self) -> None:
        """Remove the bar so the next output starts on a clean line."""
        if not self.enabled:
            return
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[K")
                self._stream.flush()
                self._shown = False

    def _draw(self, line: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        line = line[: max(10, width - 1)]  # a wrapped line cannot be redrawn with \r
        with self._lock:
            self._stream.write("\r\x1b[K" + line)
            self._stream.flush()
            self._shown = True
