"""``inpaint-studio gui [FILE]`` (and no command at all): open the window.

The only CLI module allowed to import ``inpaint_studio.ui`` (an import-linter contract says so),
and only inside the function: every other command must run on machines without Qt or a display.
What to do without a display is ui.app's business: it prints a clear message and returns a code.
"""

from __future__ import annotations

from inpaint_studio.cli.common import print_error


def launch_gui(path: str | None) -> int:
    """Run the GUI until it is closed; returns its exit code."""
    try:
        from inpaint_studio.ui.app import run_app
    except ImportError as exc:  # PySide6 missing, or its system libraries (libGL, libEGL...)
        print_error(f"the graphical interface is not available: {exc}. "
                    "The command-line tools still work: see 'inpaint-studio --help'.")
        return 1
    code = run_app(path)
    return int(code) if code is not None else 0
