"""The main window: builds the widgets, the actions and the menus, and wires them. No logic of its own.

Reads like a table of contents (as Qt's own application example): create the parts, create the
actions, the menus, the docks, the status bar, read the settings. What an action *does* lives in a
controller (files: FileController, fills: FillController); state lives in the Document.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from inpaint_studio.runtime.jobs import FillResult
from inpaint_studio.ui import dialogs
from inpaint_studio.ui.bridge import FillBridge
from inpaint_studio.ui.canvas import MASK_COLOR, CanvasView
from inpaint_studio.ui.document import Document
from inpaint_studio.ui.file_controller import FileController
from inpaint_studio.ui.fill_panel import FillController, FillPanelView
from inpaint_studio.ui.method_panel import MethodPanel
from inpaint_studio.ui.qimage import mask_to_qimage, rgb_to_qimage
from inpaint_studio.ui.settings import qsettings

FILL_SHORTCUT = "Ctrl+Return"


class MainWindow(QMainWindow):
    """One window, one document."""

    def __init__(self, bridge: FillBridge | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.document = Document(self)
        self.bridge = bridge if bridge is not None else FillBridge(self)
        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.method_panel = MethodPanel()
        self.fill_panel = FillPanelView()
        self.files = FileController(self.document, self, self)
        self.fills = FillController(self.document, self.canvas, self.method_panel, self.fill_panel,
                                    self.bridge, self)

        self._create_actions()
        self._create_menus()
        self._create_docks()
        self._create_status_bar()
        self._connect()
        self._read_settings()
        self._update_title()
        self._update_actions()

    # construction ---------------------------------------------------------------------------

    def _action(self, text: str, slot: object, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _create_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.open_action = self._action("&Open Photo…", self._open_photo, std.Open,
                                        "Open a photo")
        self.open_mask_action = self._action("Open &Mask…", self.files.open_mask_dialog, "Ctrl+M",
                                             "Open a mask image: white = remove, black = keep")
        self.open_sample_action = self._action("Open &Sample", self._open_sample, None,
                                               "Open the bundled sample photo with a mask already drawn")
        self.save_as_action = self._action("Save &As…", self.files.save_as_dialog, std.SaveAs,
                                           "Save the photo under a new name")
        self.quit_action = self._action("&Quit", self.close, std.Quit, "Quit Inpaint Studio")
        self.undo_action = self._action("&Undo", self.document.undo, std.Undo)
        self.redo_action = self._action("&Redo", self.document.redo, std.Redo)
        self.fill_action = self._action("&Fill", self.fills.start_fill, FILL_SHORTCUT,
                                        "Fill the masked area with the chosen method")
        self.cancel_action = self._action("&Cancel Fill", self.fills.cancel_fill, "Escape",
                                          "Stop the running fill; the photo stays as it was")
        self.show_mask_action = self._action("Show &Mask", self._on_show_mask_toggled, "M",
                                             "Show or hide the mask overlay")
        self.show_mask_action.setCheckable(True)
        self.show_mask_action.setChecked(True)
        self.about_action = self._action("&About Inpaint Studio", self._show_about, None)
        self.fill_panel.fill_button.setToolTip(
            f"Fill the masked area with the chosen method ({self.fill_action.shortcut().toString()})")
        self.fill_panel.cancel_button.setToolTip("Stop the running fill (Esc); the photo stays as it was")

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_action, self.open_mask_action, self.open_sample_action])
        file_menu.addSeparator()
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.fill_action, self.cancel_action])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.show_mask_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _create_docks(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(10)
        layout.addWidget(self.method_panel)
        layout.addWidget(self.fill_panel)
        layout.addStretch(1)
        self.fill_dock = QDockWidget("Fill", self)
        self.fill_dock.setObjectName("fill_dock")
        self.fill_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                   | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.fill_dock.setWidget(panel)
        panel.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.fill_dock)

    def _create_status_bar(self) -> None:
        self.photo_info = QLabel(self)
        self.statusBar().addPermanentWidget(self.photo_info)
        self.statusBar().showMessage("Ready")

    def _connect(self) -> None:
        self.document.pixels_changed.connect(self._on_pixels_changed)
        self.document.mask_changed.connect(self._on_mask_changed)
        self.document.modified_changed.connect(self.setWindowModified)
        self.document.history_changed.connect(self._update_actions)
        self.files.status_message.connect(self._show_status)
        self.fills.status_message.connect(self._show_status)
        self.fills.busy_changed.connect(self._update_actions)
        self.fills.fill_finished.connect(self._on_fill_finished)
        self.canvas.file_dropped.connect(self._open_dropped)

    # settings -------------------------------------------------------------------------------

    def _read_settings(self) -> None:
        settings = qsettings()
        geometry = settings.value("window/geometry", QByteArray(), QByteArray)
        if geometry and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.value("window/state", QByteArray(), QByteArray)
        if state and not state.isEmpty():
            self.restoreState(state)

    def _write_settings(self) -> None:
        settings = qsettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())

    # slots ----------------------------------------------------------------------------------

    def _on_pixels_changed(self) -> None:
        pixels = self.document.pixels
        self.canvas.set_image(None if pixels is None else rgb_to_qimage(pixels))
        photo = self.document.photo
        if photo is not None:
            fmt = photo.source_format or "new"
            self.photo_info.setText(f"{photo.width} × {photo.height}  ·  {photo.bit_depth}-bit  ·  {fmt}")
        self._update_title()

    def _on_mask_changed(self) -> None:
        mask = self.document.mask
        self.canvas.set_mask(None if mask is None else mask_to_qimage(mask, MASK_COLOR))
        self.show_mask_action.setChecked(True)
        self.canvas.set_mask_visible(True)
        self._update_actions()

    def _on_show_mask_toggled(self, checked: bool) -> None:
        self.canvas.set_mask_visible(checked)

    def _on_fill_finished(self, result: FillResult) -> None:
        if result.status == "done":
            # show the result itself; the mask stays (M shows it again, Undo restores the photo)
            self.show_mask_action.setChecked(False)
            self.canvas.set_mask_visible(False)

    def _open_photo(self) -> None:
        if self._may_discard_changes():
            self.fills.cancel_fill()
            self.files.open_photo_dialog()

    def _open_sample(self) -> None:
        if self._may_discard_changes():
            self.fills.cancel_fill()
            self.files.open_sample()

    def _open_dropped(self, path: str) -> None:
        if self._may_discard_changes():
            self.fills.cancel_fill()
            self.files.open_photo(path)

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def _show_about(self) -> None:
        choice = self.bridge.device_choice
        device = (f"{choice.device} ({choice.reason})" if choice
                  else "CPU for OpenCV methods; chosen when a PyTorch method first runs")
        dialogs.show_about(self, device)

    def _update_title(self) -> None:
        path = self.document.path
        name = path.name if path is not None else "Untitled"
        self.setWindowTitle(f"{name}[*] — {dialogs.APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    def _update_actions(self, *_args: object) -> None:
        busy = self.fills.busy
        has_photo = self.document.photo is not None
        undo, redo = self.document.undo_text(), self.document.redo_text()
        self.undo_action.setEnabled(undo is not None and not busy)
        self.undo_action.setText(f"&Undo {undo}" if undo else "&Undo")
        self.redo_action.setEnabled(redo is not None and not busy)
        self.redo_action.setText(f"&Redo {redo}" if redo else "&Redo")
        self.fill_action.setEnabled(has_photo and not busy)
        self.cancel_action.setEnabled(busy)
        self.save_as_action.setEnabled(has_photo and not busy)
        self.open_mask_action.setEnabled(has_photo and not busy)

    # closing --------------------------------------------------------------------------------

    def _may_discard_changes(self) -> bool:
        """True if there are no unsaved changes, or the user saved or discarded them."""
        if not self.document.is_modified:
            return True
        path = self.document.path
        answer = dialogs.ask_save_changes(self, path.name if path else "Untitled")
        if answer == QMessageBox.StandardButton.Save:
            return self.files.save_as_dialog()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_discard_changes():
            event.ignore()
            return
        self.fills.cancel_fill()
        self.bridge.shutdown()
        self._write_settings()
        event.accept()
