"""The main window: builds the parts, the actions, menus, toolbar, docks and status bar, and wires them.

Reads like a table of contents (as Qt's own application example). No logic of its own: what an
action does lives in a controller (files: FileController, masks: MaskController, fills:
FillController, brushes: ToolController), state in the Document, the list of commands in
ui.actions. The few one-line handlers below only forward to the canvas or a controller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSize, Qt, QThreadPool, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.runtime import catalogue
from inpaint_studio.runtime.jobs import FillResult
from inpaint_studio.ui import actions as action_table
from inpaint_studio.ui import dialogs, warmup
from inpaint_studio.ui import weights_dialog as weights_ui
from inpaint_studio.ui.bridge import FillBridge
from inpaint_studio.ui.canvas import CanvasView
from inpaint_studio.ui.damage_panel import DamageController, DamagePanelView
from inpaint_studio.ui.defect_view import DefectViewController
from inpaint_studio.ui.document import Document
from inpaint_studio.ui.file_controller import FileController
from inpaint_studio.ui.fill_panel import FillController, FillPanelView
from inpaint_studio.ui.fit_scroll import FitScrollArea
from inpaint_studio.ui.history_panel import HistoryPanel
from inpaint_studio.ui.mask_controller import MaskController
from inpaint_studio.ui.method_panel import MethodPanel
from inpaint_studio.ui.sampling import SamplingController
from inpaint_studio.ui.seam_check import SeamCheckController
from inpaint_studio.ui.settings import Preferences, qsettings
from inpaint_studio.ui.status import StatusBarController
from inpaint_studio.ui.tool_options import ToolOptionsPanel
from inpaint_studio.ui.tools import ToolController
from inpaint_studio.ui.weights_dialog import WeightsDialog

FILL_SHORTCUT = "Ctrl+Return"



#: the first-start window size on a screen with room for it
PREFERRED_SIZE = QSize(1280, 820)
#: what a window manager's title bar and borders typically add around the window
_FRAME_ALLOWANCE = QSize(16, 48)


def first_start_geometry(available: QRect, preferred: QSize = PREFERRED_SIZE) -> QRect:
    """Size and frame position for the very first start: the preferred size, shrunk to fit the
    screen's free area with the window manager's frame, centred in it. A 1366 x 768 laptop has
    ~740 px free below its panel; a fixed 1280 x 820 put the brush settings and the status bar
    below the screen's edge."""
    width = max(1, min(preferred.width(), available.width() - _FRAME_ALLOWANCE.width()))
    height = max(1, min(preferred.height(), available.height() - _FRAME_ALLOWANCE.height()))
    left = available.left() + max(0, (available.width() - width - _FRAME_ALLOWANCE.width()) // 2)
    top = available.top() + max(0, (available.height() - height - _FRAME_ALLOWANCE.height()) // 2)
    return QRect(left, top, width, height)


class MainWindow(QMainWindow):
    """One window, one document."""

    def __init__(self, bridge: FillBridge | None = None, prefs: Preferences | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.prefs = prefs if prefs is not None else Preferences()
        self.document = Document(self)
        self.bridge = bridge if bridge is not None else FillBridge(self)
        self.canvas = self._make_canvas()
        self.setCentralWidget(self.canvas)
        self.tools = ToolController(self.document, self.canvas, self)
        self.method_panel = MethodPanel(prefs=self.prefs)
        self.fill_panel = FillPanelView()
        self.tool_options = ToolOptionsPanel(self.prefs)
        self.history_panel = HistoryPanel(self.document)
        self.files = FileController(self.document, self, self.prefs, self)
        self.masks = MaskController(self.document, self, self.prefs, self)
        self.fills = FillController(self.document, self.canvas, self.method_panel, self.fill_panel,
                                    self.bridge, self)
        # the restorer's tools (issue 7) and the sampling area (issue 5)
        self.damage_panel = DamagePanelView()
        self.damage = DamageController(self.document, self.canvas, self.damage_panel, self)
        self.defects = DefectViewController(self.document, self.canvas, self)
        self.seams = SeamCheckController(self.document, self.canvas, self)
        self.sampling = SamplingController(self.document, self.canvas, self)
        self.warmup_thread: Any = None
        self.weights_dialog: WeightsDialog | None = None
        self._closing_confirmed = False
        self._in_close_event = False
        self._close_resolved = False

        self._create_actions()
        self._create_menus()
        self._create_toolbar()
        self._create_docks()
        self._create_status_bar()
        self._connect()
        self._read_settings()
        self._update_title()
        self._update_actions()
        self.canvas.setFocus()

    # construction ---------------------------------------------------------------------------

    def _make_canvas(self) -> CanvasView:
        canvas = CanvasView(self)
        canvas.set_document(self.document)
        return canvas

    def _create_actions(self) -> None:
        self.actions = action_table.build_actions(self)
        a = self.actions
        # short names used by tests and older code
        self.open_action, self.save_action, self.save_as_action = a["open"], a["save"], a["save_as"]
        self.undo_action, self.redo_action = a["undo"], a["redo"]
        self.fill_action, self.cancel_action = a["fill"], a["cancel"]
        self.show_mask_action, self.about_action = a["show_mask"], a["about"]
        self.open_mask_action = a["import_mask"]
        a["compare"].setAutoRepeat(False)  # held key: one press, one release
        keys = a["fill"].shortcut().toString()
        self.fill_panel.fill_button.setToolTip(f"Fill the masked area with the chosen method ({keys})")
        self.fill_panel.cancel_button.setToolTip("Stop the running fill (Esc); the photo stays as it was")

    def _create_menus(self) -> None:
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("menu_recent")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        self._rebuild_recent_menu()
        self._docks_menu = QMenu("&Panels", self)
        self.menus = action_table.build_menus(self.menuBar(), self.actions, {
            "recent": lambda menu: menu.addMenu(self.recent_menu),
            "docks": lambda menu: menu.addMenu(self._docks_menu),
        })

    def _create_toolbar(self) -> None:
        self.toolbar = QToolBar("Toolbar", self)
        self.toolbar.setObjectName("main_toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        action_table.build_toolbar(self.toolbar, self.actions)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

    def _create_docks(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(10)
        # the settings scroll on a short screen; Fill, Cancel and the progress bar never leave it
        layout.addWidget(FitScrollArea(self.method_panel))
        layout.addWidget(self.fill_panel)
        layout.addStretch(1)
        panel.setMinimumWidth(300)
        self.fill_dock = self._dock("Fill", "fill_dock", panel)
        self.tool_dock = self._dock("Tool Options", "tool_options_dock", self.tool_options)
        self.history_dock = self._dock("History", "history_dock", self.history_panel)
        self.damage_dock = self._dock("Detect Damage", "damage_dock", self.damage_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.damage_dock)
        self.damage_dock.hide()  # shown by Restore ▸ Detect Damage…
        right = Qt.DockWidgetArea.RightDockWidgetArea
        # the fill controls first (the window's purpose), brush settings and history share a tab below
        self.addDockWidget(right, self.fill_dock)
        self.addDockWidget(right, self.tool_dock)
        self.addDockWidget(right, self.history_dock)
        self.tabifyDockWidget(self.tool_dock, self.history_dock)
        self.tool_dock.raise_()
        for dock in (self.tool_dock, self.fill_dock, self.history_dock, self.damage_dock):
            self._docks_menu.addAction(dock.toggleViewAction())
        self._docks_menu.addAction(self.toolbar.toggleViewAction())

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _create_status_bar(self) -> None:
        self.status = StatusBarController(self.statusBar(), self.document, self)
        self.busy_bar: QProgressBar = self.status.busy
        self.photo_info: QLabel = self.status.info
        self.statusBar().showMessage("Ready")

    def _connect(self) -> None:
        self.document.pixels_changed.connect(self._on_pixels_changed)
        self.document.mask_changed.connect(self._on_mask_changed)
        self.document.modified_changed.connect(self.setWindowModified)
        self.document.history_changed.connect(self._update_actions)
        for source in (self.files, self.fills, self.masks, self.damage, self.defects, self.seams,
                       self.sampling):
            source.status_message.connect(self._show_status)
        self.damage.busy_changed.connect(
            lambda busy: self.status.set_busy("damage", busy, "Looking for damage…"))
        self.damage.busy_changed.connect(self._update_actions)
        self.damage_dock.visibilityChanged.connect(self._on_damage_dock_visible)
        self.fills.fill_finished.connect(self.seams.fill_finished)
        self.sampling.changed.connect(self._update_actions)
        self.tools.paint_layer_changed.connect(self._on_paint_layer_changed)
        self.actions["seam_check"].setChecked(bool(self.prefs.get("view.seam_check", False)))
        self.files.busy_changed.connect(lambda busy: self.status.set_busy("files", busy, "Reading/writing…"))
        self.masks.busy_changed.connect(lambda busy: self.status.set_busy("masks", busy, "Mask…"))
        self.files.busy_changed.connect(self._update_actions)
        self.masks.busy_changed.connect(self._update_actions)
        self.fills.busy_changed.connect(self._update_actions)
        self.fills.fill_finished.connect(self._on_fill_finished)
        self.fills.weights_missing.connect(self._show_weights_help)
        self.method_panel.get_weights_requested.connect(self._show_weights_help)
        self.history_panel.jump_requested.connect(self.history_jump)
        self.files.opened.connect(lambda _path: self.canvas.setFocus())
        self.canvas.file_dropped.connect(self._open_dropped)
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.canvas.cursor_moved.connect(self.status.set_cursor)
        self.tools.tool_changed.connect(self._on_tool_changed)
        self.tool_options.bind(self.tools, self.canvas)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.prefs.flush)  # quit without closing the window (Ctrl+C)

    # settings -------------------------------------------------------------------------------

    def _read_settings(self) -> None:
        settings = qsettings()
        geometry = settings.value("window/geometry", QByteArray(), QByteArray)
        if geometry and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            place = first_start_geometry(self.screen().availableGeometry())
            self.resize(place.size())
            self.move(place.topLeft())
        state = settings.value("window/state", QByteArray(), QByteArray)
        if state and not state.isEmpty():
            self.restoreState(state)
        else:
            # first start: the brush settings need little height, the method's settings get the rest
            # (they scroll when the window is short); the user's own split is restored above
            QTimer.singleShot(0, self, self._split_right_docks)
        # detection runs while its panel is open: it opens when asked, not because it was open last time
        self.damage_dock.hide()

    def _split_right_docks(self) -> None:
        self.resizeDocks([self.fill_dock, self.tool_dock],
                         [self.height(), self.tool_dock.minimumSizeHint().height()], Qt.Orientation.Vertical)

    def _write_settings(self) -> None:
        settings = qsettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.sync()

    # handlers named in ui.actions -----------------------------------------------------------

    def open_photo(self) -> None:
        self.files.resolve_unsaved(then=lambda: (self.fills.cancel_fill(), self.files.open_photo_dialog()))

    def open_sample(self) -> None:
        self.files.resolve_unsaved(then=lambda: (self.fills.cancel_fill(), self.files.open_sample()))

    def open_path(self, path: str | Path) -> None:
        """Open ``path`` after asking about unsaved changes (drops, recent files)."""
        self.files.resolve_unsaved(then=lambda: (self.fills.cancel_fill(), self.files.open_photo(path)))

    def history_undo(self) -> None:
        self._move_in_history(self.document.undo)

    def history_redo(self) -> None:
        self._move_in_history(self.document.redo)

    def history_jump(self, index: int) -> None:
        self._move_in_history(lambda: self.document.jump_to(index))

    def _move_in_history(self, move: Callable[[], None]) -> None:
        """Undo, redo or a History click; going back over a fill shows its hole's mask again (trying
        another method is one click away), going forward over one shows the result, as the fill did."""
        labels, before = self.document.history_steps()
        move()
        after = self.document.history_steps()[1]
        crossed = labels[min(before, after):max(before, after)]
        if any(label.startswith("Fill") for label in crossed):
            self.show_mask_action.setChecked(after < before)
            self.fills.history_moved_over_fill(undone=after < before)

    def zoom_in(self) -> None:
        self.canvas.zoom_in()

    def zoom_out(self) -> None:
        self.canvas.zoom_out()

    def zoom_fit(self) -> None:
        self.canvas.fit()

    def zoom_100(self) -> None:
        self.canvas.actual_size()

    def set_mask_visible(self, visible: bool) -> None:
        self.canvas.set_mask_visible(bool(visible))

    def set_compare_hold(self, on: bool) -> None:
        # watch for the key's release only while holding (an app-wide filter sees every event)
        app = QApplication.instance()
        if app is not None:
            if on:
                app.installEventFilter(self)
            else:
                app.removeEventFilter(self)
        self._apply_compare_mode()

    def set_split_view(self, on: bool) -> None:
        self._apply_compare_mode()

    def set_tool_brush(self) -> None:
        self._set_tool("brush")

    def set_tool_eraser(self) -> None:
        self._set_tool("eraser")

    def set_tool_rect(self) -> None:
        self._set_tool("rect")

    def set_tool_lasso(self) -> None:
        self._set_tool("lasso")

    def set_tool_polygon(self) -> None:
        self._set_tool("polygon")

    def brush_smaller(self) -> None:
        self.tools.smaller()  # the Tool Options panel follows through brush_size_changed

    def brush_larger(self) -> None:
        self.tools.bigger()

    def show_damage_panel(self) -> None:
        """Restore ▸ Detect Damage…: the panel, with the proposal over the photo."""
        self.damage_dock.show()
        self.damage_dock.raise_()
        self.damage.set_active(True)

    def set_defect_view(self, on: bool) -> None:
        self.defects.set_enabled(bool(on))

    def set_seam_check(self, on: bool) -> None:
        self.seams.set_enabled(bool(on))
        self.prefs.set("view.seam_check", bool(on))

    def set_paint_sampling(self, on: bool) -> None:
        self.tools.set_paint_layer("sampling" if on else "mask")

    def show_about(self) -> None:
        choice = self.bridge.device_choice
        device = (f"{choice.device} ({choice.reason})" if choice
                  else "CPU for OpenCV methods; chosen when a PyTorch method first runs")
        dialogs.show_about(self, device)

    # slots ----------------------------------------------------------------------------------

    def _apply_compare_mode(self) -> None:
        mode = ("hold" if self.actions["compare"].isChecked()
                else "split" if self.actions["split"].isChecked() else "off")
        self.canvas.set_compare_mode(mode)
        if mode == "hold":
            self.statusBar().showMessage("Showing the original — release \\ to return.")

    def _set_tool(self, name: str) -> None:
        self.tools.set_tool(name)
        self._on_tool_changed(name)

    def _on_tool_changed(self, name: str) -> None:
        action = self.actions.get(f"tool_{name}")
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def _on_damage_dock_visible(self, visible: bool) -> None:
        # a dock tabbed behind another also reports "hidden": only a closed panel stops detecting
        self.damage.set_active(bool(visible) or not self.damage_dock.isHidden())
        self._update_actions()

    def _on_paint_layer_changed(self, layer: str) -> None:
        sampling = layer == "sampling"
        if self.actions["paint_sampling"].isChecked() != sampling:
            self.actions["paint_sampling"].setChecked(sampling)
        if sampling:
            self.show_mask_action.setChecked(True)  # the green layer hides with the mask
            self._show_status("Painting the sampling area (green): fills copy only from there. "
                              "S returns to the mask.")
        else:
            self._show_status("Painting the mask.")

    def _rebuild_recent_menu(self) -> None:
        self.files.fill_recent_menu(self.recent_menu, self.open_path)

    def _on_pixels_changed(self, *_args: Any) -> None:
        # the canvas follows the document itself (set_document); the window keeps title and status
        self.status.update_info()
        self._update_title()
        self._update_actions()

    def _on_mask_changed(self, *_args: Any) -> None:
        if not self.show_mask_action.isChecked():
            self.show_mask_action.setChecked(True)
        if not getattr(self.document, "in_stroke", False):  # per mouse move: no full-mask scans
            self._update_actions()

    def _on_fill_finished(self, result: FillResult) -> None:
        if result.status == "done":
            # show the result itself; the mask stays (M shows it again, Undo restores the photo)
            self.show_mask_action.setChecked(False)

    def _open_dropped(self, path: str) -> None:
        if weights_ui.is_weights_file(path):  # a model file, not a photo: offer to install it
            self._import_dropped_weights(path)
        else:
            self.open_path(path)

    def _import_dropped_weights(self, path: str) -> None:
        info = self.method_panel.current_info()
        preferred = info.weights[0] if info is not None and info.weights else None
        candidates = weights_ui.weights_candidates(path, preferred)
        name = (candidates[0] if len(candidates) == 1
                else weights_ui.ask_weights_name(self, Path(path), candidates))
        if name is not None:
            self.show_weights_dialog(name).import_files([path])

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def _show_weights_help(self, name: str) -> None:
        info = self.method_panel.current_info()
        if info is None or info.name != name:
            return
        if not all(w in catalogue.CATALOGUE for w in info.weights):  # a plug-in's weights we do not know
            dialogs.show_weights_help(self, info.label, list(info.weights))
            return
        self.show_weights_dialog(name)

    def show_weights_dialog(self, name: str) -> WeightsDialog:
        """The "Get weights" dialog for method (or catalogue name) ``name``; one at a time, not modal."""
        dialog = self.weights_dialog
        if dialog is not None and dialog.method_name != name and not dialog.busy:
            dialog.close()
            dialog.deleteLater()
            dialog = None
        if dialog is None:
            dialog = WeightsDialog(name, self)
            dialog.installed.connect(lambda _name: self.method_panel.refresh())
            self.weights_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _update_title(self) -> None:
        path = self.document.path
        name = path.name if path is not None else "Untitled"
        self.setWindowTitle(f"{name}[*] — {dialogs.APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    def _update_actions(self, *_args: Any) -> None:
        fill_busy = self.fills.busy
        file_busy = self.files.busy
        has_photo = self.document.photo is not None
        has_mask = has_photo and bool(self.document.has_hole)
        undo, redo = self.document.undo_text(), self.document.redo_text()
        a = self.actions
        for name, label, verb in (("undo", undo, "Undo"), ("redo", redo, "Redo")):
            action = a[name]
            action.setEnabled(label is not None)
            action.setText(f"&{verb} {label}" if label else f"&{verb}")
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{verb} {label} ({keys})" if label else f"Nothing to {verb.lower()}")
        a["fill"].setEnabled(has_photo and not fill_busy)
        a["cancel"].setEnabled(fill_busy)
        for name in ("save", "save_as", "export"):
            a[name].setEnabled(has_photo and not file_busy)
        a["open"].setEnabled(not file_busy)
        a["import_mask"].setEnabled(has_photo and not file_busy)
        a["export_mask"].setEnabled(has_mask and not file_busy)
        for name in ("grow", "shrink", "feather", "clear_mask"):
            a[name].setEnabled(has_mask and not self.masks.busy)
        a["invert"].setEnabled(has_photo and not self.masks.busy)
        for name in ("detect_damage", "defect_view", "paint_sampling"):
            a[name].setEnabled(has_photo)
        a["apply_damage"].setEnabled(has_photo and self.damage.active)
        a["clear_sampling"].setEnabled(has_photo and self.sampling.has_area)

    # events ---------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Releasing \\ ends "compare with original" (the action only sees the press)."""
        if (event.type() == QEvent.Type.KeyRelease and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat()
                and self.actions["compare"].isChecked()):
            self.actions["compare"].setChecked(False)
        return False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.warmup_thread is None and not warmup.disabled():
            # after the first paint: compile PatchMatch's kernels while the user looks at the photo
            self.warmup_thread = False
            QTimer.singleShot(1500, self, self._start_warmup)

    def _start_warmup(self) -> None:
        self.warmup_thread = warmup.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_confirmed and self.document.is_modified:
            self._in_close_event, self._close_resolved = True, False
            try:
                self.files.resolve_unsaved(then=self._on_close_resolved)
            finally:
                self._in_close_event = False
            if not self._close_resolved:  # Cancel, or a Save still being written (it closes us after)
                event.ignore()
                return
        if self.weights_dialog is not None:
            self.weights_dialog.shutdown()
        for part in (self.damage, self.defects, self.seams):
            part.shutdown()
        self.fills.shutdown()
        self.bridge.shutdown()
        self.files.wait_idle()
        self.masks.shutdown()
        # a pool thread still finishing a task at exit would be killed inside Python's shutdown
        # (a crash on quit): every pool, the canvas's display builds included, ends here
        for pool in self.findChildren(QThreadPool):
            pool.clear()
            pool.waitForDone(10_000)
        self._write_settings()
        self.prefs.flush()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        event.accept()

    def _on_close_resolved(self) -> None:
        if self._in_close_event:
            self._close_resolved = True
        else:  # the save the user asked for has been written: close now
            self._closing_confirmed = True
            QTimer.singleShot(0, self, self.close)
