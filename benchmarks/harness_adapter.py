"""In-process adapter for ../shared/tools/eval_inpaint.py's ``--py`` mode.

Times only the fill (no interpreter start-up, no file I/O), which is what a GUI user waits for,
and goes through exactly the runtime path the GUI and CLI use (`runtime.jobs.run_fill`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.runtime.jobs import FillRequest, run_fill


def fill(image_bgr: np.ndarray, mask_u8: np.ndarray, method: str = "telea", seed: int = 0,
         device: str = "auto", **params: Any) -> np.ndarray:
    """Harness calling convention: BGR uint8 in, BGR uint8 out, mask 255 = hole."""
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    coverage = np.where(mask_u8 > 127, 255, 0).astype(np.uint8)
    result = run_fill(FillRequest(pixels=rgb, mask=coverage, method=method, params=params, seed=seed,
                                  device=device))
    if result.status != "done" or result.pixels is None:
        raise result.error or InpaintStudioError(result.message)
    return cv2.cvtColor(result.pixels, cv2.COLOR_RGB2BGR)
