"""Every command of the window in ONE table; menus, the toolbar and shortcuts are built from it.

A row says what the user sees (text with its ``&`` mnemonic, shortcut, icon, status tip) and which
handler runs: a dotted path from the main window (``"files.save"``), resolved when the action fires
so the table can name controllers created later. Platform-standard keys use
``QKeySequence.StandardKey`` (Open, Save, Undo...) so macOS and Linux users get the keys they
know; a literal key is used only where no standard exists. Icons come from the desktop's icon
theme, falling back to Qt's bundled standard icons.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMenuBar, QStyle, QToolBar, QWidget

Std = QKeySequence.StandardKey
SP = QStyle.StandardPixmap
Shortcut = Std | str | tuple[str | Std, ...] | None


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    handler: str
    shortcut: Shortcut = None
    icon: str | None = None
    fallback: SP | None = None
    tip: str = ""
    checkable: bool = False
    checked: bool = False
    #: actions of one group are exclusive (the tools)
    group: str | None = None
    #: short label for the toolbar (default: the menu text without "&" and "…")
    short: str | None = None


A = ActionSpec
ACTIONS: tuple[ActionSpec, ...] = (
    # File
    A("open", "&Open Photo…", "open_photo", Std.Open, "document-open", SP.SP_DialogOpenButton,
      "Open a photo (PNG, JPEG, TIFF, WebP, BMP)", short="Open"),
    A("open_sample", "Open &Sample", "open_sample", None, None, None,
      "Open the bundled sample photo with a mask already drawn"),
    A("save", "&Save", "files.save", Std.Save, "document-save", SP.SP_DialogSaveButton,
      "Save the photo (asks once before replacing the original file)", short="Save"),
    A("save_as", "Save &As…", "files.save_as", Std.SaveAs, "document-save-as", None,
      "Save the photo under a new name; later saves go there"),
    A("export", "&Export a Copy…", "files.export", "Ctrl+E", "document-export", None,
      "Write a copy in another format or depth; the open file stays as it is"),
    A("import_mask", "&Import Mask…", "files.import_mask_dialog", "Ctrl+M", "document-import", None,
      "Load a mask image: white = remove, black = keep"),
    A("export_mask", "Export Mas&k…", "files.export_mask_dialog", "Ctrl+Shift+M", None, None,
      "Save the mask as a greyscale PNG"),
    A("quit", "&Quit", "close", Std.Quit, "application-exit", None, "Quit Inpaint Studio"),
    # Edit
    A("undo", "&Undo", "history_undo", Std.Undo, "edit-undo", SP.SP_ArrowBack, "Undo the last step",
      short="Undo"),
    A("redo", "&Redo", "history_redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "edit-redo", SP.SP_ArrowForward,
      "Redo the step you undid", short="Redo"),
    A("fill", "&Fill", "fills.start_fill", ("Ctrl+Return", "Ctrl+Enter"), "system-run", SP.SP_MediaPlay,
      "Fill the masked area with the chosen method", short="Fill"),
    A("cancel", "&Cancel Fill", "fills.cancel_fill", "Escape", "process-stop", SP.SP_BrowserStop,
      "Stop the running fill; the photo stays exactly as it was", short="Cancel"),
    # Mask
    A("grow", "&Grow…", "masks.grow_dialog", "Ctrl+Alt+G", None, None,
      "Grow the mask outwards by a number of pixels"),
    A("shrink", "&Shrink…", "masks.shrink_dialog", "Ctrl+Alt+S", None, None,
      "Shrink the mask inwards by a number of pixels"),
    A("feather", "&Feather…", "masks.feather_dialog", "Shift+F6", None, None,
      "Soften the mask's edge"),
    A("invert", "&Invert", "masks.invert", "Ctrl+Shift+I", None, None,
      "Swap what is removed and what is kept"),
    A("clear_mask", "&Clear", "masks.clear", "Ctrl+D", "edit-clear", None, "Remove the whole mask"),
    A("paint_sampling", "Paint &Sampling Area", "set_paint_sampling", "S", "color-picker", None,
      "Brush where content-aware fills may copy from (green); S again paints the mask",
      checkable=True, short="Sampling Area"),
    A("clear_sampling", "Clear Sampling &Area", "sampling.clear", None, None, None,
      "Forget the sampling area: fills copy from anywhere around the hole again"),
    # Restore
    A("detect_damage", "&Detect Damage…", "show_damage_panel", "Ctrl+Shift+D", "edit-find",
      SP.SP_FileDialogContentsView, "Find scratches and dust automatically; tune, then apply to the mask",
      short="Detect Damage"),
    A("apply_damage", "&Apply Detected Damage to Mask", "damage.apply", "Ctrl+Shift+Return", None, None,
      "Put the detected damage into the mask (one undo step)"),
    # View
    A("zoom_in", "Zoom &In", "zoom_in", (Std.ZoomIn, "Ctrl+="), "zoom-in", None, "Magnify"),
    A("zoom_out", "Zoom &Out", "zoom_out", Std.ZoomOut, "zoom-out", None, "Zoom out"),
    A("zoom_fit", "&Fit in Window", "zoom_fit", "Ctrl+0", "zoom-fit-best", None,
      "Show the whole photo", short="Fit"),
    A("zoom_100", "&Actual Pixels (100 %)", "zoom_100", "Ctrl+1", "zoom-original", None,
      "One photo pixel per screen pixel", short="100 %"),
    A("show_mask", "Show &Mask", "set_mask_visible", "M", None, None, "Show or hide the mask overlay",
      checkable=True, checked=True),
    A("compare", "Compare with &Original (hold \\)", "set_compare_hold", "\\", None, None,
      "Hold \\ to see the photo as it was opened", checkable=True),
    A("split", "S&plit View", "set_split_view", "Y", "view-split-left-right", None,
      "Before | after side by side, with a draggable divider", checkable=True, short="Split"),
    A("defect_view", "Visualise &Defects", "set_defect_view", "D", None, None,
      "Show a high-contrast view in which faint dust and scratches stand out (brushing still works)",
      checkable=True, short="Defects"),
    A("seam_check", "Seam &Check After Fill", "set_seam_check", None, None, None,
      "After each fill, mark the edges that may show a seam", checkable=True),
    # Tools
    A("tool_brush", "&Brush", "set_tool_brush", "B", "draw-brush", None,
      "Paint what to remove ([ and ] change the size)", checkable=True, checked=True, group="tool"),
    A("tool_eraser", "&Eraser", "set_tool_eraser", "E", "draw-eraser", None,
      "Take parts out of the mask", checkable=True, group="tool"),
    A("tool_rect", "&Rectangle", "set_tool_rect", "R", "draw-rectangle", None,
      "Drag a rectangle into the mask", checkable=True, group="tool", short="Rectangle"),
    A("tool_lasso", "&Lasso", "set_tool_lasso", "L", "draw-freehand", None,
      "Draw a free outline around what to remove", checkable=True, group="tool"),
    A("tool_polygon", "&Polygon", "set_tool_polygon", "P", "draw-polygon", None,
      "Click corners; double-click or Enter closes the outline", checkable=True, group="tool"),
    A("brush_smaller", "Brush &Smaller", "brush_smaller", "[", None, None, "Make the brush smaller"),
    A("brush_larger", "Brush &Larger", "brush_larger", "]", None, None, "Make the brush larger"),
    # Help
    A("about", "&About Inpaint Studio", "show_about", None, "help-about", SP.SP_MessageBoxInformation,
      "Versions of Inpaint Studio, Qt, PyTorch, OpenCV and the compute device"),
)
del A

#: (menu title, entries); "-" is a separator, "@recent" the recent-files submenu
MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "@recent", "open_sample", "-", "save", "save_as", "export", "-", "import_mask",
               "export_mask", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "fill", "cancel")),
    ("&Mask", ("grow", "shrink", "feather", "-", "invert", "clear_mask", "-", "paint_sampling",
               "clear_sampling", "-", "import_mask", "export_mask")),
    ("&Restore", ("detect_damage", "apply_damage", "-", "defect_view", "seam_check")),
    ("&View", ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", "-", "show_mask", "compare", "split",
               "-", "defect_view", "seam_check", "-", "@docks")),
    ("&Tools", ("tool_brush", "tool_eraser", "tool_rect", "tool_lasso", "tool_polygon", "-",
                "paint_sampling", "-", "brush_smaller", "brush_larger")),
    ("&Help", ("about",)),
)

TOOLBAR: tuple[str, ...] = ("open", "save", "-", "undo", "redo", "-", "tool_brush", "tool_eraser",
                            "tool_rect", "tool_lasso", "tool_polygon", "paint_sampling", "-", "zoom_fit",
                            "zoom_100", "-", "split", "-", "detect_damage", "-", "fill", "cancel")


def spec(action_id: str) -> ActionSpec:
    for row in ACTIONS:
        if row.id == action_id:
            return row
    raise KeyError(action_id)


def make_icon(row: ActionSpec, widget: QWidget | None = None) -> QIcon:
    icon = QIcon.fromTheme(row.icon) if row.icon else QIcon()
    if icon.isNull() and row.fallback is not None:
        style = widget.style() if widget is not None else QApplication.style()
        icon = style.standardIcon(row.fallback)
    return icon


def _key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    if shortcut is None:
        return []
    items = shortcut if isinstance(shortcut, tuple) else (shortcut,)
    sequences: list[QKeySequence] = []
    for item in items:
        if isinstance(item, Std):
            sequences.extend(QKeySequence.keyBindings(item))
        else:
            sequences.append(QKeySequence(item))
    return sequences


def _resolver(owner: object, path: str) -> Callable[..., Any]:
    get = operator.attrgetter(path)

    def run(*args: Any) -> Any:
        handler = get(owner)
        return handler(*args) if args else handler()

    return run


def build_actions(owner: QWidget, rows: Sequence[ActionSpec] = ACTIONS) -> dict[str, QAction]:
    """One QAction per row, owned by ``owner``; handlers are resolved on ``owner`` when triggered."""
    actions: dict[str, QAction] = {}
    groups: dict[str, QActionGroup] = {}
    for row in rows:
        action = QAction(make_icon(row, owner), row.text, owner)
        action.setObjectName(f"action_{row.id}")
        action.setIconText(row.short or row.text.replace("&", "").replace("…", "").split(" (")[0])
        action.setShortcuts(_key_sequences(row.shortcut))
        tip = row.tip
        if tip:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        if row.checkable:
            action.setCheckable(True)
            action.setChecked(row.checked)
            if row.group is None:
                action.toggled.connect(_resolver(owner, row.handler))
            else:
                action.triggered.connect(_resolver(owner, row.handler))
        else:
            action.triggered.connect(_resolver(owner, row.handler))
        if row.group is not None:
            group = groups.setdefault(row.group, QActionGroup(owner))
            group.addAction(action)
        actions[row.id] = action
    return actions


def build_menus(bar: QMenuBar, actions: dict[str, QAction],
                special: dict[str, Callable[[QMenu], None]] | None = None) -> dict[str, QMenu]:
    """Menus from :data:`MENUS`; ``special`` fills "@name" entries (e.g. the recent-files submenu)."""
    menus: dict[str, QMenu] = {}
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        menu.setObjectName("menu_" + title.replace("&", "").lower())
        for entry in entries:
            if entry == "-":
                menu.addSeparator()
            elif entry.startswith("@"):
                if special and entry[1:] in special:
                    special[entry[1:]](menu)
            else:
                menu.addAction(actions[entry])
        menus[title.replace("&", "")] = menu
    return menus


def build_toolbar(toolbar: QToolBar, actions: dict[str, QAction], entries: Sequence[str] = TOOLBAR) -> None:
    for entry in entries:
        if entry == "-":
            toolbar.addSeparator()
        else:
            toolbar.addAction(actions[entry])
