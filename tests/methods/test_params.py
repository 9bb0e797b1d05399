"""Params dataclasses drive the GUI and the CLI: specs, coercion and range checks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pytest

from inpaint_studio.core.errors import InvalidParameterError
from inpaint_studio.methods.base import make_params, param, param_specs, params_to_json


class Preset(enum.Enum):
    FAST = "fast"
    PAPER = "paper"


@dataclass(frozen=True)
class DemoParams:
    iterations: int = param(100, min=1, max=5000, help="How many steps")
    learning_rate: float = param(0.01, min=1e-5, max=1.0, help="Step size")
    ema: bool = param(True, help="Average recent outputs")
    preset: Preset = param(Preset.FAST, help="Which configuration")
    engine: str = param("torch", choices=("torch", "numba"), help="Engine", label="Compute engine")


def test_specs_carry_type_default_range_and_help():
    specs = {s.name: s for s in param_specs(DemoParams)}
    assert list(specs) == ["iterations", "learning_rate", "ema", "preset", "engine"]
    assert specs["iterations"].type is int and specs["iterations"].default == 100
    assert (specs["iterations"].min, specs["iterations"].max) == (1, 5000)
    assert specs["learning_rate"].type is float and specs["learning_rate"].help == "Step size"
    assert specs["preset"].choices == (Preset.FAST, Preset.PAPER)
    assert specs["engine"].label == "Compute engine"
    assert specs["ema"].label == "Ema"
    assert specs["preset"].to_json()["choices"] == ["fast", "paper"]


def test_cli_strings_are_coerced_to_field_types():
    p = make_params(DemoParams, {"iterations": "250", "learning_rate": "0.5", "ema": "off",
                                 "preset": "paper", "engine": "numba"})
    assert p == DemoParams(250, 0.5, False, Preset.PAPER, "numba")
    assert params_to_json(p) == {"iterations": 250, "learning_rate": 0.5, "ema": False,
                                 "preset": "paper", "engine": "numba"}


def test_defaults_when_nothing_given():
    assert make_params(DemoParams) == DemoParams()


@pytest.mark.parametrize(("values", "message"), [
    ({"iterations": "0"}, "'iterations' must be at least 1"),
    ({"iterations": "9999"}, "'iterations' must be at most 5000"),
    ({"iterations": "1.5"}, "'iterations' must be a int"),
    ({"learning_rate": "fast"}, "'learning_rate' must be a float"),
    ({"learning_rate": "nan"}, "'learning_rate' must be a float"),
    ({"ema": "maybe"}, "'ema' must be a bool"),
    ({"preset": "slow"}, "'preset' must be one of fast, paper"),
    ({"engine": "cuda"}, "'engine' must be one of torch, numba"),
    ({"iters": "5"}, "unknown parameter 'iters'"),
])
def test_bad_values_name_the_parameter(values, message):
    with pytest.raises(InvalidParameterError, match=message):
        make_params(DemoParams, values)
