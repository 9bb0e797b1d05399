"""``python -m inpaint_studio``: the same as the ``inpaint-studio`` command."""

from __future__ import annotations

import sys

from inpaint_studio.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
