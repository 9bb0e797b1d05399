"""``inpaint-studio methods [--json]``: what can fill, and how to tune it.

Everything shown comes from each method's own declaration (class flags and its Params
dataclass), so a plug-in's methods are listed exactly like the built-ins. The human listing
prints each parameter as the ``--param`` to type; ``--json`` is for scripts and front ends.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import Any

from inpaint_studio.cli.common import PROG, one_line


def _type_hint(spec: Any) -> str:
    if spec.choices:
        return "|".join(str(getattr(c, "value", c)) for c in spec.choices)
    if spec.type is bool:
        return "true|false"
    return spec.type.__name__.upper()


def _range_text(spec: Any) -> str:
    default = getattr(spec.default, "value", spec.default)
    if isinstance(default, bool) or default is None:
        default = str(default).lower()  # as typed on the command line: true / false / none
    text = f"default {default}"
    if spec.min is not None and spec.max is not None:
        text += f", range {spec.min:g} to {spec.max:g}"
    elif spec.min is not None:
        text += f", at least {spec.min:g}"
    elif spec.max is not None:
        text += f", at most {spec.max:g}"
    return text


def method_json(info: Any, specs: list[Any]) -> dict[str, Any]:
    return {
        "name": info.name,
        "label": info.label,
        "description": info.description,
        "iterative": info.iterative,
        "uses_torch": info.uses_torch,
        "weights": list(info.weights),
        "origin": info.origin,
        "params": [spec.to_json() for spec in specs],
    }


def _human(info: Any, specs: list[Any], width: int) -> list[str]:
    indent = "    "
    lines = [f"{info.name}  -  {info.label}" + ("" if info.origin == "built-in" else f"  [{info.origin}]")]
    lines += textwrap.wrap(info.description, width, initial_indent=indent, subsequent_indent=indent)
    flags = [
        "iterative (live preview)" if info.iterative else "one pass",
        "torch" if info.uses_torch else "no torch",
        f"weights: {', '.join(info.weights)}" if info.weights else "no weights",
    ]
    lines.append(f"{indent}{'; '.join(flags)}")
    if not specs:
        lines.append(f"{indent}no parameters")
    for spec in specs:
        lines.append(f"{indent}--param {spec.name}={_type_hint(spec)}  ({_range_text(spec)})")
        deeper = indent * 3
        lines += textwrap.wrap(spec.help, width, initial_indent=deeper, subsequent_indent=deeper)
    return lines


def run(args: argparse.Namespace) -> int:
    from inpaint_studio.core.errors import InpaintStudioError
    from inpaint_studio.methods import registry
    from inpaint_studio.methods.base import param_specs

    infos = registry.available()
    listed = {info.name for info in infos}
    for name in registry.names():  # broken plug-ins are left out of the list, but not silently
        if name not in listed:
            try:
                registry.info(name)
            except InpaintStudioError as err:
                print(f"{PROG}: warning: {one_line(str(err))}", file=sys.stderr)
    entries = [(info, param_specs(registry.method_class(info.name).Params)) for info in infos]

    if args.json:
        data = [method_json(info, specs) for info, specs in entries]
        print(json.dumps(data, indent=2, default=str))
        return 0
    if not entries:
        print("no inpainting methods are installed")
        return 1
    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns) - 1)
    blocks = ["\n".join(_human(info, specs, width)) for info, specs in entries]
    print("\n\n".join(blocks))
    print(f"\nUse: {PROG} fill IMAGE MASK -o OUT --method NAME [--param KEY=VALUE ...]")
    return 0
