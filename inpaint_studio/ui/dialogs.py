"""Message boxes and small dialogs, in one place so wording and behaviour stay consistent.

Errors a user can act on (bad file, empty mask) are one-line messages; unexpected exceptions get a
dialog with the traceback in a copyable box, so a bug report is one paste away.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import inpaint_studio

APP_NAME = "Inpaint Studio"


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    """A warning box with the user-facing message (and optional technical details)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_save_changes(parent: QWidget | None, name: str) -> QMessageBox.StandardButton:
    """Save / Discard / Cancel for a photo with unsaved changes."""
    box = QMessageBox(
        QMessageBox.Icon.Question, APP_NAME, f"“{name}” has changes that are not saved.",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("Save them before closing?")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return QMessageBox.StandardButton(box.exec())


def ask_overwrite_original(parent: QWidget | None, name: str, losses: list[str]) -> str:
    """Before the first Save over the file that was opened: "overwrite", "save_as" or "cancel".

    The original is a photographer's negative: replacing it is offered, never assumed, and the
    safer choice (a new file) is the default button.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, "Save", f"Replace the original “{name}”?",
                      QMessageBox.StandardButton.NoButton, parent)
    info = "The file you opened will be overwritten with the edited photo. This cannot be undone."
    if losses:
        info += "\n\n" + "\n".join(f"• {loss}" for loss in losses)
    box.setInformativeText(info)
    overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
    save_as = box.addButton("Save As…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save_as)
    box.exec()
    clicked = box.clickedButton()
    if clicked is overwrite:
        return "overwrite"
    if clicked is save_as:
        return "save_as"
    return "cancel"


def confirm_losses(parent: QWidget | None, name: str, losses: list[str]) -> bool:
    """"Saving as JPEG drops ..." — Save anyway / Cancel."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Save As", f"Saving as “{name}” cannot keep everything:",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("\n".join(f"• {loss}" for loss in losses) + "\n\nSave anyway?")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Save


class ExceptionDialog(QDialog):
    """Shown for an unexpected error: what happened, and the details to copy into a bug report."""

    def __init__(self, summary: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} — unexpected error")
        self.details = details
        message = QLabel(
            f"<b>Something went wrong.</b><br>{_escape(summary)}<br><br>"
            "Your photo is still open; saving under a new name is recommended. "
            "The details below help the developers fix this.", self)
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(details, self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMinimumSize(560, 220)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("Copy details", self)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def version_lines() -> list[tuple[str, str]]:
    """(library, version) pairs for the About box; torch only when something already imported it."""
    import cv2
    import numpy as np
    import PySide6

    lines = [
        (APP_NAME, inpaint_studio.__version__),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("NumPy", np.__version__),
        ("OpenCV", cv2.__version__),
    ]
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(("PyTorch", str(getattr(torch, "__version__", "?"))))
    else:  # importing torch costs seconds: read the installed version from its metadata instead
        try:
            lines.append(("PyTorch", f"{metadata.version('torch')} (not loaded yet)"))
        except metadata.PackageNotFoundError:
            lines.append(("PyTorch", "not installed (learned methods are unavailable)"))
    return lines


def show_about(parent: QWidget | None, device_text: str) -> None:
    rows = "".join(f"<tr><td>{_escape(name)}</td><td>&nbsp;&nbsp;{_escape(value)}</td></tr>"
                   for name, value in [*version_lines(), ("Device", device_text)])
    QMessageBox.about(
        parent, f"About {APP_NAME}",
        f"<h3>{APP_NAME}</h3><p>Remove things from photos: brush a mask, pick a method, "
        f"watch it fill.</p><table>{rows}</table>"
        "<p>Sample photo: “Coffee cup” by Rachel Michetti (CC0).</p>")


def show_weights_help(parent: QWidget | None, label: str, files: list[str]) -> None:
    """"Get weights…": what is missing and what to do, instead of a fill that fails."""
    listing = "".join(f"<li><code>{_escape(name)}</code></li>" for name in files)
    box = QMessageBox(QMessageBox.Icon.Information, "Get weights", f"{_escape(label)} needs trained weights",
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setInformativeText(
        f"<p>These files are not installed:</p><ul>{listing}</ul>"
        "<p>Downloading weights from inside the app is not available in this version. Install them "
        "as described in the README (section “Methods that need weights”), then restart "
        f"{APP_NAME}. Until then, choose a method without weights (e.g. Telea).</p>")
    box.exec()
