"""The PySide6 GUI (the only package that imports Qt)."""

from inpaint_studio.ui._pyside_refcount import make_singletons_immortal

make_singletons_immortal()
