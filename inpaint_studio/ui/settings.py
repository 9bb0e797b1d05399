"""Where the GUI remembers things between sessions.

Two stores, each for what it is good at:

- :func:`qsettings`: an INI file for the window's geometry and dock layout only (Qt's own opaque
  ``saveGeometry``/``saveState`` blobs).
- :class:`Preferences`: a small JSON file for what the user chose (method and its parameters,
  recent files, last folders, brush and overlay settings). Plain JSON, so it is readable, easy to
  reset by deleting it, and versioned for later migrations.

Both live in one folder resolved on *every* call: ``$INPAINT_STUDIO_HOME/config`` if that is set
(the tests set it per test, so no test ever touches a real profile), else the platform's config
folder (``$XDG_CONFIG_HOME/inpaint-studio`` on Linux). QSettings' native scope would cache its path
process-wide on first use, which is why the file is named explicitly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, QTimer

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import InpaintStudioError

log = logging.getLogger(__name__)

ORGANIZATION = "inpaint-studio"
APPLICATION = "inpaint-studio"
HOME_ENV = "INPAINT_STUDIO_HOME"
SCHEMA_VERSION = 1
MAX_RECENT_FILES = 10
#: preferences are written this long after the last change (and when the window closes)
SAVE_DELAY_MS = 500


def config_dir() -> Path:
    """The folder holding window.ini and settings.json (not created here)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home) / "config"
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / APPLICATION


def qsettings() -> QSettings:
    """Window geometry and dock state only (see the module docstring)."""
    folder = config_dir()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)


class Preferences:
    """The user's choices, read once and written (atomically) shortly after each change.

    Keys are dotted paths into a JSON object (``"method.name"``); unknown or damaged files fall back
    to defaults with a log line rather than stopping the app from starting. Writes are batched
    (:data:`SAVE_DELAY_MS` after the last change, and on :meth:`flush`): dragging the brush-size
    slider must not fsync a file on the GUI thread for every pixel of travel.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else config_dir() / "settings.json"
        self._data: dict[str, Any] = self._load()
        self._dirty = False
        self._timer: QTimer | None = None

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"schema_version": SCHEMA_VERSION}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s: %s", self.path, exc)
            return {"schema_version": SCHEMA_VERSION}
        if not isinstance(data, dict):
            return {"schema_version": SCHEMA_VERSION}
        return data

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def set(self, key: str, value: Any) -> None:
        parts = key.split(".")
        node = self._data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if node.get(parts[-1]) == value:
            return
        node[parts[-1]] = value
        self._dirty = True
        if QCoreApplication.instance() is None:
            self.save()
            return
        if self._timer is None:
            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.setInterval(SAVE_DELAY_MS)
            self._timer.timeout.connect(self.flush)
        self._timer.start()

    def flush(self) -> None:
        """Write pending changes now (the window calls this when it closes)."""
        if self._timer is not None:
            self._timer.stop()
        if self._dirty:
            self.save()

    def save(self) -> None:
        """Write now; a failure (read-only home, full disk) is logged, never raised into the GUI."""
        self._dirty = False
        text = json.dumps(self._data, indent=2, sort_keys=True, default=str)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, lambda fh: fh.write(text.encode("utf-8")), overwrite=True)
        except (OSError, InpaintStudioError) as exc:
            log.warning("could not save settings to %s: %s", self.path, exc)

    # typed helpers --------------------------------------------------------------------------

    def recent_files(self) -> list[Path]:
        values = self.get("files.recent", [])
        return [Path(v) for v in values if isinstance(v, str)] if isinstance(values, list) else []

    def add_recent_file(self, path: Path) -> None:
        text = str(Path(path).resolve())
        recent = [str(p) for p in self.recent_files() if str(p) != text]
        self.set("files.recent", [text, *recent][:MAX_RECENT_FILES])

    def remove_recent_file(self, path: Path) -> None:
        text = str(Path(path))
        self.set("files.recent", [str(p) for p in self.recent_files() if str(p) != text])

    def folder(self, purpose: str) -> Path | None:
        """The last folder used to open/save ("open", "save", "mask"), if it still exists."""
        value = self.get(f"files.folders.{purpose}") or self.get("files.folders.open")
        if isinstance(value, str) and Path(value).is_dir():
            return Path(value)
        return None

    def remember_folder(self, purpose: str, path: Path) -> None:
        folder = Path(path).resolve()
        self.set(f"files.folders.{purpose}", str(folder if folder.is_dir() else folder.parent))
