"""The History dock: every step since the photo was opened, the current one highlighted; click to go there.

Row 0 is the photo as opened; row i the state after step i. Steps after the current one (undone,
still redoable) are shown dimmed, as in Photoshop's History panel. The list is rebuilt from the
document on ``history_changed`` — a few hundred labels at most, so no model class is needed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

OPENED_LABEL = "Opened"


def history_steps(document: Any) -> tuple[list[str], int]:
    """(labels oldest first, number applied) from whichever document API is present."""
    for owner in (document, getattr(document, "core", None)):
        if owner is None:
            continue
        getter = getattr(owner, "history_steps", None)
        if callable(getter):
            labels, current = getter()
            return list(labels), int(current)
        history = getattr(owner, "history", None)
        if history is not None and callable(getattr(history, "steps", None)):
            labels, current = history.steps()
            return list(labels), int(current)
    # a document with one-level undo only
    labels: list[str] = []
    undo = document.undo_text() if hasattr(document, "undo_text") else None
    redo = document.redo_text() if hasattr(document, "redo_text") else None
    if undo:
        labels.append(undo)
    current = len(labels)
    if redo:
        labels.append(redo)
    return labels, current


class HistoryPanel(QWidget):
    """A list of steps; ``jump_requested(index)`` when the user clicks one."""

    jump_requested = Signal(int)

    def __init__(self, document: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.list = QListWidget(self)
        self.list.setObjectName("history_list")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setToolTip("Click a step to go back (or forward) to it; nothing is lost until you "
                             "make a new change after going back")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        document.history_changed.connect(self.refresh)
        self.refresh()

    def labels(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def current_row(self) -> int:
        return self.list.currentRow()

    def refresh(self, *_args: Any) -> None:
        labels, current = history_steps(self.document)
        self.list.blockSignals(True)
        self.list.clear()
        dim = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for row, label in enumerate([OPENED_LABEL, *labels]):
            item = QListWidgetItem(label)
            if row == 0:
                font = QFont(item.font())
                font.setItalic(True)
                item.setFont(font)
            if row > current:
                item.setForeground(QBrush(dim))
            item.setData(Qt.ItemDataRole.UserRole, row)
            self.list.addItem(item)
        self.list.setCurrentRow(current)
        self.list.scrollToItem(self.list.item(current))
        self.list.blockSignals(False)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        row = int(item.data(Qt.ItemDataRole.UserRole))
        self.jump_requested.emit(row)
