"""The learned networks as inpainting methods (menus, CLI, region strategy, compositing).

The registry imports this module to list methods, so it must stay cheap: torch and the networks are
imported inside ``run`` only. A method declares the catalogue weights it needs (``weights``) and gets
the verified network from the run context (``ctx.load_model``), because methods may not import the
runtime; missing weights fail the fill with a message that says how to get them. Each network's
conventions live in :mod:`inpaint_studio.methods.learned.infer`.

Context Encoders (``learned.build("context_encoder")``) is deliberately *not* offered here: the
released network only fills a fixed 56x56 centre square of a 128x128 Paris-StreetView image and has
no mask input, so it cannot fill a user's brushed mask honestly.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from inpaint_studio.methods.base import Method, RunContext


class LearnedMethod(Method):
    """Base of the network-backed methods: one pass, torch, weights from the catalogue."""

    uses_torch = True
    #: key of :data:`inpaint_studio.methods.learned.infer.RECIPES`
    recipe: ClassVar[str]

    def context_margin(self, params: Any) -> int:
        return 64  # networks judge a hole by its surroundings: give them a wide ring

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        from inpaint_studio.methods.learned.infer import run_network

        return run_network(self.recipe, image, hole, ctx, self.label)


class LamaMethod(LearnedMethod):
    name = "lama"
    label = "LaMa"
    description = ("Learned fill for large holes and repeating structure (big-lama, Fourier convolutions, "
                   "Places2; Apache-2.0). Needs its weights; slow on a CPU.")
    weights = ("lama",)
    working_size = 512
    recipe = "lama"


class Migan512Method(LearnedMethod):
    name = "migan_512"
    label = "MI-GAN 512"
    description = ("Fast learned fill for small and medium holes, at 512 px (Places2; MIT). "
                   "Needs its weights (browser download, then import).")
    weights = ("migan_512",)
    working_size = 512
    recipe = "migan_512"


class Migan256Method(LearnedMethod):
    name = "migan_256"
    label = "MI-GAN 256"
    description = ("The fastest learned fill, at 256 px: small holes (Places2; MIT). "
                   "Needs its weights (browser download, then import).")
    weights = ("migan_256",)
    working_size = 256
    recipe = "migan_256"


class DeepFillV2Method(LearnedMethod):
    name = "deepfill_v2"
    label = "DeepFill v2"
    description = ("Gated convolutions with contextual attention: copies texture from the surroundings "
                   "(Places2, converted TF weights; NON-COMMERCIAL: the original release is CC BY-NC).")
    weights = ("deepfill_v2",)
    working_size = 512
    recipe = "deepfill_v2"


class PConvMethod(LearnedMethod):
    name = "pconv"
    label = "Partial convolutions"
    description = ("Partial-convolution U-Net (Liu et al. 2018), an unofficial release whose author "
                   "does not vouch for its quality; mostly of historical interest (MIT).")
    weights = ("pconv",)
    working_size = 512
    recipe = "pconv"


class ShiftNetMethod(LearnedMethod):
    name = "shiftnet"
    label = "Shift-Net"
    description = ("Shift-connection U-Net at 256 px, trained on Paris street facades: for building "
                   "fronts, weak elsewhere (weights' licence not stated).")
    weights = ("shiftnet",)
    working_size = 256
    recipe = "shiftnet"


class CSAMethod(LearnedMethod):
    name = "csa"
    label = "CSA"
    description = ("Coherent semantic attention, two stages at 256 px. NON-COMMERCIAL licence (CC BY-NC); "
                   "no published weights: import your own net_P and net_G files.")
    weights = ("csa",)
    working_size = 256
    recipe = "csa"


#: every learned method, for tests and for registering by hand before the entry points exist
ALL_METHODS: tuple[type[LearnedMethod], ...] = (
    LamaMethod, Migan512Method, Migan256Method, DeepFillV2Method, PConvMethod, ShiftNetMethod, CSAMethod,
)
