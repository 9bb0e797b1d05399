"""History: steps group atoms, undo/redo walk them, memory stays under the limit."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.events import Event
from inpaint_studio.core.history import Edit, History
from inpaint_studio.core.types import BBox


def _edit(size: int = 10, value: int = 1) -> Edit:
    box = BBox(0, 0, size, size)
    return Edit("mask", box, np.zeros((size, size), np.uint8), np.full((size, size), value, np.uint8))


def test_steps_group_edits_and_undo_redo_walk_them_in_order():
    history = History()
    history.begin_step("stroke")
    history.add(_edit())
    history.add(_edit(value=2))
    assert history.commit_step() is not None
    history.push_step("fill", [_edit(value=3)])

    assert history.steps() == (["stroke", "fill"], 2)
    assert history.undo_label == "fill" and history.redo_label is None
    step = history.undo()
    assert step is not None and step.label == "fill"
    assert history.undo_label == "stroke" and history.redo_label == "fill"
    assert history.undo().label == "stroke"
    assert history.undo() is None
    assert not history.can_undo and history.can_redo
    assert history.redo().label == "stroke"
    assert history.current_index == 1


def test_a_new_step_drops_the_redo_branch():
    history = History()
    history.push_step("a", [_edit()])
    history.push_step("b", [_edit()])
    history.undo()
    history.push_step("c", [_edit()])
    assert history.steps() == (["a", "c"], 2)
    assert not history.can_redo


def test_abort_step_leaves_nothing_and_empty_steps_are_not_recorded():
    history = History()
    history.begin_step("stroke")
    history.add(_edit())
    aborted = history.abort_step()
    assert len(aborted) == 1
    history.begin_step("click outside the photo")
    assert history.commit_step() is None
    assert history.push_step("nothing", []) is None
    assert len(history) == 0 and not history.can_undo and not history.is_open


def test_jump_to_returns_what_to_undo_and_redo():
    history = History()
    for label in "abcd":
        history.push_step(label, [_edit()])
    undone, redone = history.jump_to(1)
    assert [s.label for s in undone] == ["d", "c", "b"] and redone == []
    undone, redone = history.jump_to(3)
    assert undone == [] and [s.label for s in redone] == ["b", "c"]
    with pytest.raises(IndexError):
        history.jump_to(5)


def test_memory_is_bounded_by_dropping_the_oldest_steps_but_never_the_newest():
    dropped: list[str] = []
    history = History(limit_bytes=1000, on_drop=lambda step: dropped.append(step.label))
    for i in range(10):
        history.push_step(f"s{i}", [_edit(size=10)])  # 200 bytes each
    assert history.nbytes <= 1000
    labels, current = history.steps()
    assert labels == ["s5", "s6", "s7", "s8", "s9"] and current == 5
    assert dropped == ["s0", "s1", "s2", "s3", "s4"]
    history.push_step("huge", [_edit(size=100)])  # 20 kB, more than the limit on its own
    assert history.steps() == (["huge"], 1)


def test_events_hold_bound_methods_weakly():
    event = Event("x")
    calls: list[int] = []

    class View:
        def on(self, value: int) -> None:
            calls.append(value)

    view = View()
    event.connect(view.on)
    event.connect(view.on)
    event.emit(1)
    assert calls == [1]
    del view
    event.emit(2)
    assert calls == [1] and len(event) == 0
    with event.blocked():
        event.emit(3)
