"""The weights folder, and turning a weights file into a verified state_dict for our own network.

Files live in one visible folder (``user_data_dir("inpaint-studio")/models``, or
``$INPAINT_STUDIO_HOME/models``) that the user can open, inspect and clear. Nothing is trusted
because of its name: every file is unpickled safely and its keys and shapes are compared with the
network :func:`inpaint_studio.methods.learned.build` makes, so a wrong release, a different network or
a truncated download gives a message naming what differs instead of a confusing crash mid-fill.

Safety: files are read with ``torch.load(weights_only=True)``. LaMa's Lightning ``.ckpt`` also holds
bookkeeping objects (hyper-parameters, callbacks) that weights_only refuses; for those a restricted
unpickler rebuilds tensors through an explicit allow-list and turns every other object into an inert
placeholder, so no code from the file ever runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import (
    InpaintStudioError,
    UnknownMethodError,
    WeightsError,
    WeightsMissingError,
)
from inpaint_studio.runtime.catalogue import CATALOGUE, WeightsEntry, WeightsPart, entry

log = logging.getLogger(__name__)

__all__ = [
    "HOME_ENV",
    "InstalledPart",
    "WeightsStatus",
    "file_sha256",
    "installed_parts",
    "is_installed",
    "load_state_dict",
    "missing_message",
    "models_dir",
    "part_path",
    "read_checkpoint",
    "remove",
    "weights_status",
]

HOME_ENV = "INPAINT_STUDIO_HOME"
_HASHES_FILE = "hashes.json"
_HASH_CHUNK = 1 << 20
_SHOWN = 3  # how many differing keys a message names

# ---------------------------------------------------------------------------------------------
# the folder


def models_dir(create: bool = True) -> Path:
    """The weights folder: ``$INPAINT_STUDIO_HOME/models`` if set, else platformdirs' user data dir."""
    home = os.environ.get(HOME_ENV)
    if home:
        folder = Path(home).expanduser() / "models"
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("inpaint-studio", appauthor=False)) / "models"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(part: WeightsPart) -> Path:
    return models_dir() / part.file_name


def is_installed(name: str) -> bool:
    return all(part_path(p).is_file() for p in entry(name).parts)


def remove(name: str) -> list[Path]:
    """Delete ``name``'s files (and any partial download); returns what was deleted."""
    removed = []
    for part in entry(name).parts:
        for path in (part_path(part), part_path(part).with_name(part.file_name + ".part")):
            if path.exists():
                path.unlink()
                removed.append(path)
    with _hash_lock:
        records = _read_hashes()
        for part in entry(name).parts:
            records.pop(part.file_name, None)
        _write_hashes(records)
    return removed


def missing_message(weights: WeightsEntry) -> str:
    """What a user must do to get ``weights``, in one line (the failed fill's message)."""
    head = f"{weights.label} needs its weights:"
    if weights.direct_url:
        return f"{head} inpaint-studio models download {weights.name} (or import FILE)"
    files = " and ".join(p.file_name for p in weights.parts)
    if len(weights.parts) > 1:
        return (f"{head} get {files} ({weights.note}), then: inpaint-studio models import {weights.name} "
                f"{' '.join('FILE' for _ in weights.parts)}")
    return (f"{head} download {files} in your browser from {weights.page_url}, then: "
            f"inpaint-studio models import {weights.name} FILE")


# ---------------------------------------------------------------------------------------------
# hashes


_hash_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_hashes() -> dict[str, dict[str, Any]]:
    path = models_dir() / _HASHES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_hashes(records: Mapping[str, Any]) -> None:
    text = json.dumps(dict(records), indent=2, sort_keys=True) + "\n"
    atomic_write(models_dir() / _HASHES_FILE, lambda fh: fh.write(text.encode("utf-8")), overwrite=True)


def record_hash(part: WeightsPart, path: Path, sha256: str) -> None:
    """Remember a verified file's hash with its size and mtime (so a later load need not rehash)."""
    stat = path.stat()
    with _hash_lock:
        records = _read_hashes()
        records[part.file_name] = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        _write_hashes(records)


def recorded_hash(part: WeightsPart, path: Path) -> str | None:
    """The recorded hash if the file is unchanged since it was verified (same size and mtime)."""
    with _hash_lock:
        record = _read_hashes().get(part.file_name)
    if not record:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    if record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns:
        return str(record.get("sha256"))
    return None


def current_hash(part: WeightsPart, path: Path) -> str:
    return recorded_hash(part, path) or file_sha256(path)


def check_expected_hash(part: WeightsPart, sha256: str, what: str) -> None:
    if part.sha256 is not None and sha256.lower() != part.sha256.lower():
        raise WeightsError(f"{what} is not the published file: its SHA-256 is {sha256[:16]}…, expected "
                           f"{part.sha256[:16]}… (damaged or a different release); download it again")


# ---------------------------------------------------------------------------------------------
# reading a checkpoint safely


class _Opaque:
    """Stands in for any non-tensor object of a checkpoint; keeps what it was given, runs nothing."""

    origin = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> _Opaque:
        # pickle's NEWOBJ calls __new__ without __init__: set everything up here
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state, obj.items = args, kwargs, None, []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> _Opaque:
        return type(self)(*args, **kwargs)  # e.g. getattr(SomeClass, "method")(...): still inert

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def append(self, value: Any) -> None:
        self.items.append(value)

    def extend(self, values: Any) -> None:
        self.items.extend(values)

    def __repr__(self) -> str:
        return f"<ignored {self.origin}>"


def _restricted_pickle_module(skipped: list[str]) -> Any:
    """A pickle module for torch.load whose Unpickler only builds allow-listed tensor machinery."""
    import collections
    import types

    import torch

    allowed: dict[tuple[str, str], Any] = {
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch", "Size"): torch.Size,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
    }

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found = allowed.get((module, name))
            if found is not None:
                return found
            if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
                return getattr(torch, name)
            origin = f"{module}.{name}"
            skipped.append(origin)
            return type("Ignored", (_Opaque,), {"origin": origin})

    def load(file: Any, **kwargs: Any) -> Any:
        return Unpickler(file, **kwargs).load()

    return types.SimpleNamespace(__name__="inpaint_studio_restricted_pickle", Unpickler=Unpickler, load=load,
                                 UnpicklingError=pickle.UnpicklingError)


def _damaged(path: Path, exc: BaseException) -> WeightsError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return WeightsError(f"{path.name} is not a complete PyTorch checkpoint (truncated or damaged: {detail}); "
                        "download or import it again")


def read_checkpoint(path: Path) -> Any:
    """Unpickle a checkpoint on the CPU without running any code from it (see the module docstring)."""
    import torch

    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"{path.name} is empty (0 bytes); download or import it again")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower() and "unsupported global" not in str(exc).lower():
            raise _damaged(path, exc) from exc
        first_error = exc
    except Exception as exc:  # truncated zip, bad magic number, EOF...
        raise _damaged(path, exc) from exc
    # weights_only refused a non-tensor object (LaMa's Lightning bookkeeping): allow-list tensors only
    skipped: list[str] = []
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False,
                         pickle_module=_restricted_pickle_module(skipped))
    except Exception as exc:
        raise _damaged(path, exc) from first_error
    kinds = sorted(set(skipped))
    log.info("%s: ignored %d non-tensor object(s) without running them: %s", path.name, len(skipped),
             ", ".join(kinds[:8]))
    return obj


# ---------------------------------------------------------------------------------------------
# matching a checkpoint to the network


def expected_layout(network: str) -> dict[str, tuple[tuple[int, ...], Any]]:
    """key -> (shape, dtype) of ``learned.build(network)``'s state_dict, without allocating the weights."""
    import torch

    from inpaint_studio.methods.learned import build

    try:
        with torch.device("meta"):
            net = build(network)
    except Exception:  # a constructor that computes on real tensors: build it for real
        net = build(network)
    return {k: (tuple(v.shape), v.dtype) for k, v in net.state_dict().items()}


def _is_tensor_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _container(obj: Any, part: WeightsPart, what: str) -> Mapping[str, Any]:
    if part.container_key is not None:
        if isinstance(obj, Mapping) and part.container_key in obj and isinstance(obj[part.container_key],
                                                                                   Mapping):
            return obj[part.container_key]
        if not _is_tensor_dict(obj):  # a bare state_dict is accepted too: the keys decide
            keys = ", ".join(map(str, list(obj)[:_SHOWN])) if isinstance(obj, Mapping) else type(obj).__name__
            raise WeightsError(f"{what} does not hold the weights where the official file does: expected a "
                               f"dict with '{part.container_key}', found {keys}")
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{what} holds a {type(obj).__name__}, not a dict of tensors")
    return obj


def _first(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


_IGNORABLE = ("running_mean", "running_var", "num_batches_tracked")


def match_part(obj: Any, part: WeightsPart, layout: Mapping[str, tuple[tuple[int, ...], Any]],
               what: str) -> dict[str, Any]:
    """The tensors of one file keyed like our network (prefix handled), or WeightsError naming the
    missing keys, unexpected keys and shape mismatches."""
    import torch

    sd = _container(obj, part, what)
    wanted = {k[len(part.module_prefix):]: k for k in layout if k.startswith(part.module_prefix)}
    prefix = part.key_prefix
    if prefix and not any(str(k).startswith(prefix) for k in sd) and any(k in wanted for k in sd):
        prefix = ""  # the generator's state_dict saved on its own: same keys without the prefix
    found: dict[str, Any] = {}
    unexpected: list[str] = []
    for key, value in sd.items():
        key = str(key)
        if prefix and not key.startswith(prefix):
            continue  # LaMa: discriminator, losses and evaluator live next to the generator
        bare = key[len(prefix):]
        if bare in wanted:
            found[wanted[bare]] = value
        elif not bare.endswith(_IGNORABLE):  # stale InstanceNorm running stats of old PyTorch files
            unexpected.append(key)
    missing = []
    for bare, full in wanted.items():
        if full not in found:
            if part.optional_suffixes and bare.endswith(part.optional_suffixes):
                shape, dtype = layout[full]
                found[full] = torch.zeros(shape, dtype=dtype, device="cpu")
            else:
                missing.append(prefix + bare)
    mismatched = []
    not_tensor = []
    for full, value in found.items():
        if not isinstance(value, torch.Tensor):
            not_tensor.append(full)
        elif tuple(value.shape) != layout[full][0]:
            mismatched.append(
                f"{full} is {list(value.shape)} in the file, {list(layout[full][0])} in the network")
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s): {_first(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {_first(unexpected)}")
    if mismatched:
        problems.append(f"{len(mismatched)} shape mismatch(es): {_first(mismatched)}")
    if not_tensor:
        problems.append(f"{len(not_tensor)} entries that are not tensors: {_first(not_tensor)}")
    if problems:
        raise WeightsError(
            f"{what} does not match the network ({'; '.join(problems)}); is it the right file?")
    return found


@dataclass(frozen=True)
class InstalledPart:
    """A verified file: where it is and its SHA-256 (shown to the user, written into provenance)."""

    file_name: str
    path: Path
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file_name, "sha256": self.sha256, "size": self.size}


def verify_file(name: str, part: WeightsPart, path: Path,
                layout: Mapping[str, tuple[tuple[int, ...], Any]] | None = None,
                display: str | None = None) -> tuple[dict[str, Any], str]:
    """Hash, unpickle safely and key/shape-match one candidate file; returns (tensors, sha256).

    ``display``: the name the user knows the file by (messages), when ``path`` is a staged copy.
    """
    weights = entry(name)
    what = f"{display or path.name} (for {weights.label})"
    sha256 = file_sha256(path)
    check_expected_hash(part, sha256, what)
    layout = layout if layout is not None else expected_layout(weights.network)
    try:
        checkpoint = read_checkpoint(path)
    except WeightsError as exc:
        raise WeightsError(str(exc).replace(path.name, display or path.name, 1)) from exc
    return match_part(checkpoint, part, layout, what), sha256


def load_state_dict(name: str) -> tuple[dict[str, Any], list[InstalledPart]]:
    """The verified state_dict of installed weights ``name`` (keyed like ``learned.build``'s network).

    Raises WeightsMissingError (with what to do) when a file is not installed, WeightsError when a file
    is damaged or is not this network's.
    """
    weights = entry(name)
    paths = [part_path(p) for p in weights.parts]
    if not all(p.is_file() for p in paths):
        raise WeightsMissingError(missing_message(weights))
    layout = expected_layout(weights.network)
    state: dict[str, Any] = {}
    installed = []
    for part, path in zip(weights.parts, paths, strict=True):
        what = f"{path.name} (for {weights.label}, in {path.parent})"
        known = recorded_hash(part, path)
        sha256 = known or file_sha256(path)
        check_expected_hash(part, sha256, what)
        state.update(match_part(read_checkpoint(path), part, layout, what))
        if known is None:
            with contextlib.suppress(OSError, InpaintStudioError):
                record_hash(part, path, sha256)
        installed.append(InstalledPart(part.file_name, path, sha256, path.stat().st_size))
    return state, installed


def installed_parts(name: str) -> list[InstalledPart] | None:
    """Installed files of ``name`` with their hash (recorded, or computed now); None if not installed."""
    weights = entry(name)
    out = []
    for part in weights.parts:
        path = part_path(part)
        if not path.is_file():
            return None
        out.append(InstalledPart(part.file_name, path, current_hash(part, path), path.stat().st_size))
    return out


# ---------------------------------------------------------------------------------------------
# for the GUI


@dataclass(frozen=True)
class WeightsStatus:
    """What the GUI shows for a learned method: installed or not, where, licence, where to get it.

    ``weights`` is the catalogue name (for ``download``/``import``); ``None`` fields for a method that
    needs no weights. ``non_commercial`` is True, False, or None = unknown (check before commercial use).
    """

    installed: bool
    path: Path | None
    licence: str | None
    non_commercial: bool | None
    page_url: str | None
    direct_url: str | None
    weights: str | None = None
    label: str | None = None
    licence_flag: str | None = None
    message: str = ""


def weights_status(method_name: str) -> WeightsStatus:
    """Qt-free status of the weights ``method_name`` declares (``Method.weights``; first entry counts).

    A method without weights is reported installed. An unknown method raises UnknownMethodError.
    """
    from inpaint_studio.methods import registry

    try:
        declared = registry.method_class(method_name).weights
    except UnknownMethodError:
        if method_name not in CATALOGUE:  # a catalogue name works too (before the method is registered)
            raise
        declared = (method_name,)
    if not declared:
        return WeightsStatus(True, None, None, False, None, None, message="needs no weights")
    weights = entry(declared[0])
    paths = [part_path(p) for p in weights.parts]
    installed = all(p.is_file() for p in paths)
    return WeightsStatus(
        installed=installed, path=paths[0] if len(paths) == 1 else models_dir(),
        licence=weights.licence, non_commercial=weights.non_commercial, page_url=weights.page_url,
        direct_url=weights.direct_url, weights=weights.name, label=weights.label,
        licence_flag=weights.licence_flag,
        message="installed" if installed else missing_message(weights))
