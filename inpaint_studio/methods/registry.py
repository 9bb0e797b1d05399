"""Finds methods through the ``inpaint_studio.methods`` entry-point group.

Built-ins are registered in pyproject.toml exactly as a third-party plug-in package would
register its own, so there is one door in. Classes are imported only when first asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from inpaint_studio.core.errors import InpaintStudioError, UnknownMethodError
from inpaint_studio.methods.base import Method

ENTRY_POINT_GROUP = "inpaint_studio.methods"


@dataclass(frozen=True)
class MethodInfo:
    """A method as the menus see it, and why it could not load (if it could not)."""

    name: str
    label: str
    description: str
    iterative: bool
    uses_torch: bool
    weights: tuple[str, ...]
    origin: str


_lock = threading.Lock()
_loaded: dict[str, type[Method]] = {}
_extra: dict[str, type[Method]] = {}


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def register(method_cls: type[Method]) -> None:
    """Register a method class by hand (tests and embedding apps); entry points need no call."""
    with _lock:
        _extra[method_cls.name] = method_cls


def unregister(name: str) -> None:
    with _lock:
        _extra.pop(name, None)
        _loaded.pop(name, None)


def names() -> list[str]:
    """Every method name that can be asked for, sorted."""
    return sorted(set(_entry_points()) | set(_extra))


def method_class(name: str) -> type[Method]:
    """The class behind ``name``, imported on first use."""
    with _lock:
        if name in _extra:
            return _extra[name]
        if name in _loaded:
            return _loaded[name]
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(names()) or "none installed"
        raise UnknownMethodError(f"unknown method '{name}' (available: {known})")
    try:
        cls = eps[name].load()
    except Exception as exc:  # a broken plug-in must not take the app down
        raise InpaintStudioError(f"method '{name}' could not be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise InpaintStudioError(f"entry point '{name}' does not name an inpainting Method class")
    if cls.name != name:
        raise InpaintStudioError(f"entry point '{name}' names method '{cls.name}'; the names must agree")
    with _lock:
        _loaded[name] = cls
    return cls


def get(name: str) -> Method:
    """A fresh instance of the method called ``name``."""
    return method_class(name)()


def info(name: str) -> MethodInfo:
    cls = method_class(name)
    origin = "built-in" if cls.__module__.startswith("inpaint_studio.") else cls.__module__.split(".")[0]
    return MethodInfo(cls.name, cls.label, cls.description, cls.iterative, cls.uses_torch,
                      tuple(cls.weights), origin)


def available() -> list[MethodInfo]:
    """Infos of every method that loads; broken plug-ins are left out, not fatal."""
    out = []
    for name in names():
        try:
            out.append(info(name))
        except InpaintStudioError:
            continue
    return out
