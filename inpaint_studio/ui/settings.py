"""Where the GUI keeps window geometry and the last folder (Qt's own per-user settings file).

Named explicitly rather than through QApplication's organisation name, so tests and embedding apps
that create their own QApplication still read and write the same place.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "inpaint-studio"
APPLICATION = "inpaint-studio"


def qsettings() -> QSettings:
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
