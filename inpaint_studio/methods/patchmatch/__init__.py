"""Content-aware fill by multi-scale PatchMatch (see method.py); engine in engine.py / completion.py."""

from __future__ import annotations

from inpaint_studio.methods.patchmatch.method import PatchMatchMethod, PatchMatchParams

__all__ = ["PatchMatchMethod", "PatchMatchParams"]
