"""Inpaint Studio: remove things from photos.

Kept import-light on purpose (no Qt, no torch): the CLI and the GUI both start here.
"""

__version__ = "0.1.0"
