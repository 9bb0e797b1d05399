"""Fixtures of the runtime tests.

The fake methods are registered with the method registry for one test and removed afterwards, so
they behave exactly like a plug-in would and never leak into other tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from inpaint_studio.methods import registry
from tests.runtime.runtime_fakes import FAKES, GateMethod, SlowMethod, TorchNoiseMethod, make_mask, make_photo


@pytest.fixture
def photo() -> np.ndarray:
    return make_photo()


@pytest.fixture
def mask() -> np.ndarray:
    return make_mask()


@pytest.fixture
def fakes() -> Iterator[None]:
    """Register the fake methods for one test; reset their recorders; always unregister."""
    SlowMethod.steps_done = []
    GateMethod.gate = threading.Event()
    GateMethod.started = threading.Event()
    GateMethod.runs = 0
    TorchNoiseMethod.devices_seen = []
    for cls in FAKES:
        registry.register(cls)
    try:
        yield
    finally:
        GateMethod.gate.set()  # release anything still waiting
        for cls in FAKES:
            registry.unregister(cls.name)
