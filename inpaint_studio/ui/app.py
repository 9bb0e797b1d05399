"""Start the GUI: display check, QApplication, icon, error dialog for unexpected exceptions, first photo.

``run_app`` is what ``inpaint-studio gui`` calls; ``main`` is the ``inpaint-studio-gui`` script. With
no file the bundled sample photo opens with its mask already drawn, so a first-time user is one
click (Fill) away from seeing the app work.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

import inpaint_studio
from inpaint_studio.ui.dialogs import APP_NAME, ExceptionDialog
from inpaint_studio.ui.file_controller import resource_path
from inpaint_studio.ui.main_window import MainWindow
from inpaint_studio.ui.theme import install_theme

#: exit code when there is no display to open a window on (the CLI documents it)
EXIT_NO_DISPLAY = 3

NO_DISPLAY_MESSAGE = (
    "inpaint-studio: no display found: the window needs a graphical session "
    "(neither DISPLAY nor WAYLAND_DISPLAY is set). Run it from a desktop session, set DISPLAY "
    "(e.g. over `ssh -X`), or use `inpaint-studio fill` for headless use."
)


def display_problem(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The message to print when Qt would abort for lack of a display, else None.

    Only Linux/BSD need a display server; QT_QPA_PLATFORM set by the user (offscreen, vnc, eglfs...)
    means they know what they are doing.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("icon.svg", "icon-256.png"):
        path = resource_path(name)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def _make_application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "inpaint-studio"])
    app.setOrganizationName("inpaint-studio")
    app.setApplicationName("inpaint-studio")
    app.setApplicationVersion(inpaint_studio.__version__)
    # the Wayland app id / X11 WM class, so the desktop entry's icon is used for the window
    app.setDesktopFileName("inpaint-studio")
    app.setWindowIcon(app_icon())
    return app


class _ExceptionHook:
    """sys.excepthook: print the traceback, then show it in a dialog (GUI thread only)."""

    def __init__(self, previous: object) -> None:
        self.previous = previous
        self._showing = False

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(details)
        if self._showing or threading.current_thread() is not threading.main_thread():
            return
        app = QApplication.instance()
        if app is None:
            return
        self._showing = True
        try:
            parent = QApplication.activeWindow()
            summary = f"{exc_type.__name__}: {exc}"
            ExceptionDialog(summary, details, parent if isinstance(parent, QWidget) else None).exec()
        finally:
            self._showing = False


def install_excepthook() -> None:
    if not isinstance(sys.excepthook, _ExceptionHook):
        sys.excepthook = _ExceptionHook(sys.excepthook)


def create_window(path: str | None = None) -> MainWindow:
    """A window with ``path`` (or the sample photo and mask) open; needs a QApplication."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        install_theme(app)
    window = MainWindow()
    window.setWindowIcon(app_icon())
    if path:
        window.files.open_photo(path)  # in the background; a failure shows a message box
    else:
        window.files.open_sample()
    return window


def run_app(path: str | None = None) -> int:
    """Show the window and run until it is closed; returns the exit code (3: no display)."""
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    app = _make_application()
    install_excepthook()
    window = create_window(path)
    window.show()
    # Ctrl+C in the terminal closes the window the normal way (asking to save), instead of being
    # swallowed by Qt's event loop; the timer lets Python run its signal handler now and then.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: window.close()) if in_main_thread else None
    ticker = QTimer()
    ticker.start(250)
    ticker.timeout.connect(lambda: None)
    try:
        return int(app.exec())
    finally:
        ticker.stop()
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """``inpaint-studio-gui [FILE]``."""
    parser = argparse.ArgumentParser(prog="inpaint-studio-gui", description=f"{APP_NAME}: the window.")
    parser.add_argument("file", nargs="?", help="photo to open (default: the bundled sample)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {inpaint_studio.__version__}")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return run_app(args.file)


if __name__ == "__main__":
    raise SystemExit(main())
