"""A tiny Qt-free event emitter, so the core document can tell views what changed without knowing them.

Why not Qt signals: ``core`` must run (and be tested) with no Qt at all. Why weak references: a
view that subscribes with a bound method must be able to die without first disconnecting, or the
document would keep every closed canvas alive (napari's ``EventedModel`` does the same).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import MethodType
from typing import Any

__all__ = ["Event"]


class Event:
    """One kind of event: ``connect(callback)``, ``disconnect(callback)``, ``emit(*args)``.

    Bound methods are held weakly (the subscriber's lifetime is its own); plain functions and
    lambdas strongly (nothing else would keep them alive). Callbacks run synchronously, in
    connection order, on the emitting thread.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Callable[[], Callable[..., Any] | None]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Subscribe; returns ``callback`` so it can be used as a decorator. Connecting twice is a no-op."""
        if self._find(callback) is None:
            if isinstance(callback, MethodType):
                self._slots.append(weakref.WeakMethod(callback, self._drop_dead))
            else:
                self._slots.append(lambda cb=callback: cb)
        return callback

    def disconnect(self, callback: Callable[..., Any] | None = None) -> None:
        """Unsubscribe ``callback`` (all callbacks if None); unknown callbacks are ignored."""
        if callback is None:
            self._slots.clear()
            return
        ref = self._find(callback)
        if ref is not None:
            self._slots.remove(ref)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        for ref in list(self._slots):
            callback = ref()
            if callback is not None:
                callback(*args)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Emit nothing inside the block (for batched changes announced once afterwards)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        return sum(1 for ref in self._slots if ref() is not None)

    def _find(self, callback: Callable[..., Any]) -> Callable[[], Any] | None:
        for ref in self._slots:
            if ref() == callback:  # bound methods compare equal when self and function match
                return ref
        return None

    def _drop_dead(self, ref: Any) -> None:
        if ref in self._slots:
            self._slots.remove(ref)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self)} connected)"
