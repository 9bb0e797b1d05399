"""Run a plain function off the GUI thread and get its result (or exception) back as a Qt signal.

For file I/O and whole-mask operations: a 96 MP TIFF takes seconds to decode, a 40 px grow on a
96 MP mask too, and the window must keep painting meanwhile. The function runs on a QThreadPool
thread and must not touch Qt widgets or the Document; it gets copies (or read-only data) and
returns a value. ``done``/``failed`` are emitted on the GUI thread (the relay signals are
queued onto this object, which lives there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal, Slot


class BackgroundTask(QObject):
    """One call of ``fn()`` on ``pool``; emit ``done(result)`` or ``failed(exception)``, then ``ended``."""

    done = Signal(object)
    failed = Signal(object)
    ended = Signal()

    _done_relay = Signal(object)
    _failed_relay = Signal(object)

    def __init__(self, fn: Callable[[], Any], pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._pool = pool
        self.running = False
        queued = Qt.ConnectionType.QueuedConnection
        self._done_relay.connect(self._on_done, queued)
        self._failed_relay.connect(self._on_failed, queued)

    def start(self) -> BackgroundTask:
        self.running = True
        self._pool.start(self._run)
        return self

    def _run(self) -> None:  # pool thread
        try:
            relay, value = "_done_relay", self._fn()
        except BaseException as exc:  # everything goes back to the GUI thread, nothing dies here
            relay, value = "_failed_relay", exc
        # the receiver may have been deleted meanwhile (window closed): then there is nobody to tell,
        # and even looking up its signal raises
        with contextlib.suppress(RuntimeError):
            getattr(self, relay).emit(value)

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        self.running = False
        self.done.emit(result)
        self.ended.emit()
        self.deleteLater()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.running = False
        self.failed.emit(exc)
        self.ended.emit()
        self.deleteLater()


def serial_pool(parent: QObject) -> QThreadPool:
    """A private pool of one thread: its jobs (file reads and writes, detector runs, tile
    conversions) run one at a time, in order, and never compete with each other for the cores
    the fill needs. Owned by ``parent``, so the window drains it on close."""
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    return pool
