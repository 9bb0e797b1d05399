"""Work around a PySide6 reference-count bug that aborts the app on Python < 3.12.

Measured with PySide6 6.12.0 on CPython 3.11: ``Signal.emit()`` returns ``True`` and many void
wrappers (``processEvents()``, ``QWidget.update()``...) return ``None`` *without* taking a
reference, so every call lowers the refcount of the ``True``/``None`` singletons by one. After a few
thousand calls (about one second of brushing: each mouse move emits two signals and paints) the
count reaches zero and CPython aborts with "Fatal Python error: none_dealloc" — the window dies
with the user's work. Python 3.12+ makes these singletons immortal (PEP 683), so the bug is
harmless there; here we do what 3.12 does, by giving them a refcount that cannot run out. The
singletons are never freed anyway, so this changes nothing else.
Remove once PySide6 is fixed or Python 3.12 is the minimum (see tests/ui/test_shell.py).
"""

from __future__ import annotations

import ctypes
import sys

#: added to each singleton's refcount: 2**40 leaked references would take years of emits
_BOOST = 1 << 40
_done = False


def make_singletons_immortal() -> bool:
    """Raise the refcounts of None/True/False far out of reach; True if anything was done."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for singleton in (None, True, False):
        # CPython < 3.12: ob_refcnt (Py_ssize_t) is the first field of every object, at id(obj)
        ctypes.c_ssize_t.from_address(id(singleton)).value += _BOOST
    _done = True
    return True
