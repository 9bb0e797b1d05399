"""What produced a fill, recorded so a result can be explained, reproduced and reported as a bug.

A provenance record names the method, its parameters and seed, the device (and why), the library
versions, hashes of the exact input pixels and mask, the regions processed and how long it took.
It is plain JSON so it can sit next to the output file as a sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

import inpaint_studio
from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.types import BBox

FORMAT = "inpaint-studio-provenance"
FORMAT_VERSION = 1


def array_digest(array: np.ndarray | None) -> dict[str, Any] | None:
    """sha256 of an array's pixel bytes (C order) with its shape and dtype, which the bytes omit."""
    if array is None:
        return None
    data = np.ascontiguousarray(array)
    digest = hashlib.sha256(data.data).hexdigest()
    return {"sha256": digest, "shape": list(data.shape), "dtype": str(data.dtype)}


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions(include_torch: bool = False) -> dict[str, str | None]:
    """Versions that can change a result; torch only if it is loaded (asking must not import it)."""
    cv2 = sys.modules.get("cv2")
    versions: dict[str, str | None] = {
        "inpaint_studio": inpaint_studio.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": getattr(cv2, "__version__", None) or _dist_version(
            "opencv-python-headless", "opencv-python", "opencv-contrib-python-headless",
            "opencv-contrib-python"),
        "Pillow": _dist_version("Pillow", "pillow"),
        "platform": platform.platform(),
    }
    torch = sys.modules.get("torch")
    if include_torch or torch is not None:
        versions["torch"] = getattr(torch, "__version__", None) or _dist_version("torch")
    return versions


def bbox_json(box: BBox) -> dict[str, int]:
    return {"top": box.top, "left": box.left, "bottom": box.bottom, "right": box.right}


def _json_safe(value: Any) -> Any:
    """Parameters are plain already; this only guards against a plug-in's exotic value."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass(frozen=True)
class Provenance:
    """One fill's record; ``to_json`` gives the dict written to the sidecar."""

    method: str
    method_label: str | None
    #: validated parameters as JSON values (the raw request values if they never validated)
    params: dict[str, Any]
    seed: int
    device: str | None
    device_reason: str | None
    versions: dict[str, str | None]
    #: {"sha256", "shape", "dtype"} of the request's pixels and mask (mask as uint8 coverage if usable)
    image: dict[str, Any] | None
    mask: dict[str, Any] | None
    source_name: str | None
    #: one dict per processed region: top, left, bottom, right (document coordinates) and scale
    regions: list[dict[str, Any]] = field(default_factory=list)
    #: {"total_s": float, "regions_s": [float, ...]} (regions_s: the method's time per region)
    durations: dict[str, Any] = field(default_factory=dict)
    #: ISO 8601 UTC time the fill started
    started_at: str = ""
    #: "done", "cancelled" or "failed"
    status: str = ""
    message: str = ""
    request_id: str = ""
    #: network weights used: {"weights", "file", "sha256", "size"} per file (learned methods only)
    weights: list[dict[str, Any]] = field(default_factory=list)
    #: digest of the sampling area the method copied from (None: none was given or the method ignored it)
    sampling: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "request_id": self.request_id,
            "status": self.status,
            "message": self.message,
            "method": self.method,
            "method_label": self.method_label,
            "params": _json_safe(self.params),
            "seed": self.seed,
            "device": self.device,
            "device_reason": self.device_reason,
            "source_name": self.source_name,
            "input": {"image": self.image, "mask": self.mask,
                      **({"sampling": self.sampling} if self.sampling is not None else {})},
            "regions": _json_safe(self.regions),
            "durations": _json_safe(self.durations),
            "started_at": self.started_at,
            "versions": dict(self.versions),
            **({"weights": _json_safe(self.weights)} if self.weights else {}),
        }

    def write_sidecar(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON to exactly ``path`` (see :func:`sidecar_path_for`), atomically.

        Through core.atomic, so a reader never sees half a record and a crash never leaves a truncated
        one. Replaces an existing sidecar (keeping its permissions). Raises SaveError.
        """
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

        def write(handle: BinaryIO) -> None:
            handle.write(text.encode("utf-8"))

        return atomic_write(path, write, overwrite=True)


def sidecar_path_for(image_path: str | os.PathLike[str]) -> Path:
    """Where a result's sidecar goes: ``photo.png`` -> ``photo.png.json`` (no clash with photo.tif)."""
    path = Path(image_path)
    return path.with_name(path.name + ".json")
