"""One resident network at a time, and how a running method gets it.

Methods may not import the runtime (layers), so a learned method only *declares* its weights
(``Method.weights``) and asks its run context for the network: ``ctx.load_model(name, device)``
(:class:`~inpaint_studio.runtime.context.RegionContext` delegates to a :class:`ModelSession`). The
session loads through the process-wide :class:`ModelCache`, which keeps exactly one network resident:
switching to another one drops the old one first (gc, and the CUDA cache is emptied) so two large
networks never sit in GPU memory together. The session remembers which verified files (and their
SHA-256) a fill used, and any notes (e.g. a CPU fallback), for the result message and provenance.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from inpaint_studio.runtime.catalogue import entry
from inpaint_studio.runtime.weights import InstalledPart, load_state_dict

log = logging.getLogger(__name__)

__all__ = ["LoadedModel", "ModelCache", "ModelSession", "default_cache"]


@dataclass
class LoadedModel:
    name: str
    device: str
    module: Any
    files: list[InstalledPart]


class ModelCache:
    """Holds at most one loaded network (thread-safe; the fill worker is its only real user)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._current: LoadedModel | None = None

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def get(self, name: str, device: str = "cpu") -> LoadedModel:
        """The network for weights ``name`` on ``device``, loading (and verifying) it if needed.

        Raises WeightsMissingError / WeightsError (see ``weights.load_state_dict``).
        """
        with self._lock:
            current = self._current
            if current is not None and current.name == name:
                if current.device != device:
                    current.module.to(device)
                    current.device = device
                    _empty_device_cache()
                return current
            self.unload()
            self._current = _load(name, device)
            return self._current

    def unload(self) -> None:
        """Drop the resident network and give its memory back (GPU memory included)."""
        with self._lock:
            if self._current is None:
                return
            log.info("unloading %s", self._current.name)
            self._current = None
        gc.collect()
        _empty_device_cache()


def _empty_device_cache() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # a broken driver must not break unloading
        log.debug("could not empty the CUDA cache", exc_info=True)


def _load(name: str, device: str) -> LoadedModel:
    from inpaint_studio.methods.learned import build

    weights = entry(name)
    state, files = load_state_dict(name)
    net = build(weights.network)
    net.load_state_dict(state, strict=True)
    del state
    net.eval().requires_grad_(False)
    net.to(device)
    log.info("loaded %s on %s (%s)", name, device, ", ".join(f.sha256[:12] for f in files))
    return LoadedModel(name, device, net, files)


_default: ModelCache | None = None
_default_lock = threading.Lock()


def default_cache() -> ModelCache:
    """The process-wide cache (the one resident model)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ModelCache()
        return _default


@dataclass
class ModelSession:
    """One fill's view of the cache: what it loaded (for provenance) and what it has to tell the user."""

    cache: ModelCache = field(default_factory=default_cache)
    used: dict[str, list[InstalledPart]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def load_model(self, name: str, device: str) -> Any:
        loaded = self.cache.get(name, device)
        self.used[name] = loaded.files
        return loaded.module

    def note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    def weights_json(self) -> list[dict[str, Any]]:
        return [{"weights": name, **f.to_json()} for name, files in self.used.items() for f in files]
