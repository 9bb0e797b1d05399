"""Deep Image Prior (Ulyanov, Vedaldi, Lempitsky, CVPR 2018): an untrained network fills the hole.

A generator network is fitted to the known pixels only; its structure makes it produce natural image
content sooner than noise, so what it paints into the hole, where no loss reaches, is a plausible
continuation. No training data, no weights to download. This module must stay importable without
torch (the registry imports it to list methods): the nets and the loop live in modules imported by
``run``.
"""

from __future__ import annotations

from inpaint_studio.methods.dip.method import DeepImagePriorMethod, DipParams

__all__ = ["DeepImagePriorMethod", "DipParams"]
