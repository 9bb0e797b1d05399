"""Undo/redo as a list of steps, each a group of small "atoms" holding only the pixels that changed.

Why atoms and not snapshots: a 100 MP photo is 300 MB (600 MB at 16 bit); storing it per stroke
would exhaust memory after a handful of steps. An :class:`Edit` keeps the old and new values of one
box of one layer; a brush stroke is the few tiles it crossed, a fill the hole's box. Grouping
atoms into a :class:`Step` makes "one stroke" or "one fill" one Ctrl+Z (napari's labels layer does
the same). Memory is bounded: past ``limit_bytes`` the oldest steps are forgotten.

History is pure bookkeeping: it never touches a document. The owner applies ``step.edits``
(``before`` in reverse order to undo, ``after`` in order to redo) — see core.document.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from inpaint_studio.core.types import BBox

__all__ = ["DEFAULT_LIMIT_BYTES", "Edit", "History", "Layer", "Step"]

Layer = Literal["pixels", "mask", "sampling"]

#: 512 MiB: dozens of fills on a 100 MP photo, thousands of strokes
DEFAULT_LIMIT_BYTES = 512 * 1024 * 1024

_ids = itertools.count(1)


@dataclass(frozen=True, eq=False)
class Edit:
    """One atom: ``layer[bbox]`` went from ``before`` to ``after`` (arrays owned by the history)."""

    layer: Layer
    bbox: BBox
    before: np.ndarray
    after: np.ndarray

    def __post_init__(self) -> None:
        if self.layer not in ("pixels", "mask", "sampling"):
            raise ValueError(f"an edit's layer is 'pixels', 'mask' or 'sampling', got {self.layer!r}")
        expected = (self.bbox.height, self.bbox.width)
        if self.before.shape[:2] != expected or self.after.shape != self.before.shape:
            raise ValueError(f"edit arrays {self.before.shape} / {self.after.shape} do not match the box "
                             f"{expected}")

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)


@dataclass(eq=False)
class Step:
    """What one Ctrl+Z undoes: a label for menus and the History panel, and its edits in order."""

    label: str
    edits: list[Edit] = field(default_factory=list)
    #: unique for the session; lets the document tell "the saved state" apart from equal-looking ones
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def nbytes(self) -> int:
        return sum(edit.nbytes for edit in self.edits)

    def touches(self, layer: Layer) -> bool:
        return any(edit.layer == layer for edit in self.edits)

    def bbox(self, layer: Layer) -> BBox | None:
        """Union of this step's boxes on ``layer`` (None if it does not touch it)."""
        boxes = [edit.bbox for edit in self.edits if edit.layer == layer]
        if not boxes:
            return None
        union = boxes[0]
        for box in boxes[1:]:
            union = union.union(box)
        return union


class History:
    """Linear undo/redo: ``steps[:current]`` are applied, the rest can be redone.

    Pushing a new step drops the redo branch (as every editor does). At most one step is *open*
    (begin_step .. commit_step/abort_step) at a time; push_step may still add finished steps while
    one is open (a fill landing in the middle of a brush stroke), and the open step lands after them.
    """

    def __init__(self, limit_bytes: int = DEFAULT_LIMIT_BYTES,
                 on_drop: Callable[[Step], None] | None = None) -> None:
        """``on_drop(step)`` is told about each oldest step forgotten to stay under ``limit_bytes``."""
        if limit_bytes <= 0:
            raise ValueError("the history limit must be a positive number of bytes")
        self.limit_bytes = int(limit_bytes)
        self._steps: list[Step] = []
        self._current = 0
        self._open: Step | None = None
        self._nbytes = 0
        self._on_drop = on_drop

    # building ---------------------------------------------------------------------------------

    def begin_step(self, label: str) -> None:
        if self._open is not None:
            raise RuntimeError(f"step {self._open.label!r} is still open; commit or abort it first")
        self._open = Step(label)

    def add(self, edit: Edit) -> None:
        if self._open is None:
            raise RuntimeError("begin_step() before add()")
        self._open.edits.append(edit)

    @property
    def is_open(self) -> bool:
        return self._open is not None

    def commit_step(self) -> Step | None:
        """Close the open step and make it the newest; an empty step is dropped (returns None)."""
        step, self._open = self._open, None
        if step is None or not step.edits:
            return None
        self._append(step)
        return step

    def abort_step(self) -> list[Edit]:
        """Forget the open step; returns its edits so the owner can put the old values back."""
        step, self._open = self._open, None
        return [] if step is None else step.edits

    def push_step(self, label: str, edits: Iterable[Edit]) -> Step | None:
        """Add a finished step in one call; an empty one is dropped (returns None)."""
        step = Step(label, list(edits))
        if not step.edits:
            return None
        self._append(step)
        return step

    def _append(self, step: Step) -> None:
        for undone in self._steps[self._current:]:
            self._nbytes -= undone.nbytes
        del self._steps[self._current:]
        self._steps.append(step)
        self._nbytes += step.nbytes
        self._current = len(self._steps)
        self._trim()

    def _trim(self) -> None:
        # The newest step always stays, however large: the user must be able to undo what they just did.
        while self._nbytes > self.limit_bytes and len(self._steps) > 1:
            oldest = self._steps.pop(0)
            self._nbytes -= oldest.nbytes
            self._current = max(0, self._current - 1)
            if self._on_drop is not None:
                self._on_drop(oldest)

    # moving -----------------------------------------------------------------------------------

    def undo(self) -> Step | None:
        """The step to revert (apply ``before`` of its edits in reverse), or None at the start."""
        if self._current == 0:
            return None
        self._current -= 1
        return self._steps[self._current]

    def redo(self) -> Step | None:
        """The step to re-apply (``after`` of its edits in order), or None at the end."""
        if self._current >= len(self._steps):
            return None
        step = self._steps[self._current]
        self._current += 1
        return step

    def jump_to(self, index: int) -> tuple[list[Step], list[Step]]:
        """Apply exactly ``index`` steps; returns (steps to undo, newest first; steps to redo, in order)."""
        if not 0 <= index <= len(self._steps):
            raise IndexError(f"history index {index} is outside 0..{len(self._steps)}")
        undone = self._steps[index:self._current][::-1]
        redone = self._steps[self._current:index]
        self._current = index
        return undone, redone

    def clear(self) -> None:
        self._steps.clear()
        self._current = 0
        self._open = None
        self._nbytes = 0

    # reading ----------------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        return self._current > 0

    @property
    def can_redo(self) -> bool:
        return self._current < len(self._steps)

    @property
    def undo_label(self) -> str | None:
        return self._steps[self._current - 1].label if self.can_undo else None

    @property
    def redo_label(self) -> str | None:
        return self._steps[self._current].label if self.can_redo else None

    @property
    def current_index(self) -> int:
        """How many steps are applied (0: the state as opened, or as far back as memory allows)."""
        return self._current

    def steps(self) -> tuple[list[str], int]:
        """(labels oldest first, current index) for a History panel: row 0 is the opened state,
        row i the state after step i; ``current`` rows below the opened state are applied."""
        return [step.label for step in self._steps], self._current

    @property
    def applied(self) -> Sequence[Step]:
        return tuple(self._steps[:self._current])

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return len(self._steps)
