"""Learned inpainting networks, written natively from the papers and the official checkpoints' layout.

``build(name)`` returns an untrained ``torch.nn.Module`` whose ``state_dict`` has the official
checkpoint's keys (prefix stripped), so an official file loads into it and
``../shared/model_specs/probe.py`` can prove it computes the same function. Each network lives
in its own module, imported only when asked for (torch is heavy; listing methods must stay cheap).
"""

from __future__ import annotations

import importlib
from typing import Any

from inpaint_studio.core.errors import UnknownMethodError

#: spec name -> "module:factory" (factory() -> torch.nn.Module)
_FACTORIES: dict[str, str] = {
    "lama_big": "inpaint_studio.methods.learned.lama:build_lama_big",
    "migan_256": "inpaint_studio.methods.learned.migan:build_migan_256",
    "migan_512": "inpaint_studio.methods.learned.migan:build_migan_512",
    "pconv_unet": "inpaint_studio.methods.learned.pconv:build_pconv_unet",
    "context_encoder": "inpaint_studio.methods.learned.context_encoder:build_context_encoder",
    "deepfill_v2": "inpaint_studio.methods.learned.deepfill_v2:build_deepfill_v2",
    "shiftnet": "inpaint_studio.methods.learned.shiftnet:build_shiftnet",
    "csa": "inpaint_studio.methods.learned.csa:build_csa",
}


def names() -> list[str]:
    """Every network spec name ``build`` knows."""
    return sorted(_FACTORIES)


def build(name: str, **kwargs: Any) -> Any:
    """An untrained network for spec ``name`` with the official state-dict layout."""
    try:
        target = _FACTORIES[name]
    except KeyError:
        raise UnknownMethodError(f"unknown network '{name}' (known: {', '.join(names())})") from None
    module_name, _, factory = target.partition(":")
    return getattr(importlib.import_module(module_name), factory)(**kwargs)
