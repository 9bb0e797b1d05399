"""The interface every inpainting method implements.

A method declares its parameters once, as a frozen dataclass whose fields carry type, default,
range and help text (made with :func:`param`). The GUI builds its panel and the CLI parses
``--param key=value`` from that declaration, so no method ever writes UI code.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import numpy as np

from inpaint_studio.core.errors import InvalidParameterError

_META_KEY = "inpaint_studio"


def param(
    default: Any,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    step: float | None = None,
    choices: tuple[Any, ...] | None = None,
    label: str | None = None,
    auto: str | None = None,
    advanced: bool = False,
) -> Any:
    """A params-dataclass field with the metadata the GUI and CLI are generated from.

    ``auto``: what the field's minimum means when it stands for "decide for me" (a preset's value,
    automatic sizing); the GUI shows this word instead of a bare 0 or -1.
    ``advanced``: a tuning knob most users never need (solver steps, preview pacing); the GUI keeps
    it under "More settings" so the everyday ones fit a laptop screen without scrolling."""
    meta = {"help": help, "min": min, "max": max, "step": step, "choices": choices, "label": label,
            "auto": auto, "advanced": advanced}
    return dataclasses.field(default=default, metadata={_META_KEY: meta})


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One parameter as the GUI and CLI see it."""

    name: str
    type: type
    default: Any
    help: str
    label: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    #: the minimum's meaning when it stands for "decide for me" (see :func:`param`)
    auto: str | None = None
    #: shown under "More settings" in the GUI (see :func:`param`)
    advanced: bool = False

    def to_json(self) -> dict[str, Any]:
        default = self.default.value if isinstance(self.default, enum.Enum) else self.default
        choices = self.choices
        if choices is not None:
            choices = tuple(c.value if isinstance(c, enum.Enum) else c for c in choices)
        return {
            "name": self.name, "type": self.type.__name__, "default": default, "help": self.help,
            "label": self.label, "min": self.min, "max": self.max, "step": self.step,
            "choices": list(choices) if choices is not None else None, "auto": self.auto,
            "advanced": self.advanced,
        }


@dataclasses.dataclass(frozen=True)
class NoParams:
    """Params of a method that has none."""


def _resolve_type(params_cls: type, field: dataclasses.Field) -> type:
    hints = typing.get_type_hints(params_cls)
    tp = hints.get(field.name, field.type)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            tp = args[0]
    return tp if isinstance(tp, type) else object


def param_specs(params_cls: type) -> list[ParamSpec]:
    """The parameters of a params dataclass, in declaration order."""
    specs = []
    for field in dataclasses.fields(params_cls):
        meta = field.metadata.get(_META_KEY, {})
        tp = _resolve_type(params_cls, field)
        choices = meta.get("choices")
        if choices is None and isinstance(tp, type) and issubclass(tp, enum.Enum):
            choices = tuple(tp)
        specs.append(ParamSpec(
            name=field.name,
            type=tp,
            default=field.default,
            help=meta.get("help", ""),
            label=meta.get("label") or field.name.replace("_", " ").capitalize(),
            min=meta.get("min"),
            max=meta.get("max"),
            step=meta.get("step"),
            choices=choices,
            auto=meta.get("auto"),
            advanced=bool(meta.get("advanced", False)),
        ))
    return specs


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(spec: ParamSpec, value: Any) -> Any:
    """Turn a CLI string (or a GUI/JSON value) into the field's type, or say why not."""
    tp = spec.type
    try:
        if issubclass(tp, enum.Enum):
            if isinstance(value, tp):
                return value
            return tp(value)
        if tp is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if tp is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if tp is float:
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
            if result != result:  # NaN
                raise ValueError
            return result
        if tp is str:
            return str(value)
    except (ValueError, TypeError):
        pass
    else:
        return value
    wanted = "one of " + ", ".join(str(c.value if isinstance(c, enum.Enum) else c) for c in spec.choices) \
        if spec.choices else f"a {tp.__name__}"
    raise InvalidParameterError(f"parameter '{spec.name}' must be {wanted}, got {value!r}")


def _check_range(spec: ParamSpec, value: Any) -> None:
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(str(c.value if isinstance(c, enum.Enum) else c) for c in spec.choices)
        raise InvalidParameterError(f"parameter '{spec.name}' must be one of {shown}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.min is not None and value < spec.min:
            raise InvalidParameterError(f"parameter '{spec.name}' must be at least {spec.min}, got {value}")
        if spec.max is not None and value > spec.max:
            raise InvalidParameterError(f"parameter '{spec.name}' must be at most {spec.max}, got {value}")


def make_params(params_cls: type, values: Mapping[str, Any] | None = None) -> Any:
    """Build a validated params instance from defaults plus ``values`` (strings allowed).

    Unknown names and out-of-range values raise :class:`InvalidParameterError` naming the parameter.
    """
    values = dict(values or {})
    specs = {spec.name: spec for spec in param_specs(params_cls)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        known = ", ".join(specs) or "none"
        raise InvalidParameterError(f"unknown parameter '{unknown[0]}' (this method takes: {known})")
    kwargs = {name: _coerce(specs[name], raw) for name, raw in values.items()}
    for name, spec in specs.items():
        _check_range(spec, kwargs.get(name, spec.default))
    return params_cls(**kwargs)


def params_to_json(params: Any) -> dict[str, Any]:
    """A params instance as plain JSON values (for provenance records and settings)."""
    out = {}
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        out[field.name] = value.value if isinstance(value, enum.Enum) else value
    return out


class RunContext(Protocol):
    """What a running method may ask of the runtime (all calls are cheap; call them every step)."""

    #: torch device string ("cpu", "cuda", "cuda:1", "mps"); methods without torch ignore it
    device: str
    #: seed for every random number the method draws
    seed: int

    def progress(self, fraction: float, text: str = "") -> None:
        """Report overall progress of this run in [0, 1]."""

    def preview(self, image: np.ndarray, text: str = "") -> None:
        """Offer an intermediate float32 HxWx3 result (same size as the method's input)."""

    def check_cancelled(self) -> None:
        """Raise :class:`~inpaint_studio.core.errors.FillCancelled` if the user cancelled."""


class Method(ABC):
    """An inpainting method.

    ``run`` receives a float32 HxWx3 RGB crop in [0, 1] and a bool HxW hole (True = fill) and
    returns a float32 HxWx3 image of the same size. It may change pixels outside the hole;
    compositing restores them, so methods need not care.
    """

    #: stable CLI / settings id, e.g. "telea"
    name: ClassVar[str]
    #: short human name for menus
    label: ClassVar[str]
    #: one line: what the method is good for
    description: ClassVar[str]
    #: the frozen params dataclass
    Params: ClassVar[type] = NoParams
    #: True when it reports previews as it iterates (the canvas shows them live)
    iterative: ClassVar[bool] = False
    #: names of the weight files it needs (empty: none)
    weights: ClassVar[tuple[str, ...]] = ()
    #: longest side it works at best; larger regions are downscaled to it (None: full resolution)
    working_size: ClassVar[int | None] = None
    #: True when it needs torch (and so honours ``ctx.device``)
    uses_torch: ClassVar[bool] = False
    #: True when it copies patches and honours a sampling area (``ctx.sampling_area``)
    uses_sampling: ClassVar[bool] = False

    def default_params(self) -> Any:
        return self.Params()

    def context_margin(self, params: Any) -> int:
        """Pixels of known context this method wants around each hole (used by the region strategy)."""
        return 32

    @abstractmethod
    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        """Fill ``hole`` in ``image``; see the class docstring for the conventions."""
