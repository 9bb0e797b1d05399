"""Find scratches, hairs and dust on scanned photos and turn them into an editable soft mask.

Classical image processing (numpy + OpenCV): a two-sided contrast finds features thinner than
``max_size`` that are brighter or darker than both their sides (edges are not), a local texture
estimate keeps busy image regions from lighting up, shape tests keep long thin lines (scratches) and
small isolated blobs (dust), and a colour test drops structure that has a hue of its own. See
:mod:`.detect` for the pipeline. By default (``DamageOptions.dust_finder="learned"``) dust comes from
a small classifier trained on the photo itself at detect time, on synthetic specks drawn onto it
(:mod:`.learned`), so the photo's own dots, gravel and foliage gaps are what it learns to ignore;
``dust_finder="classic"`` keeps the filters and tests alone.
"""

from __future__ import annotations

from inpaint_studio.core.damage.detect import detect_damage
from inpaint_studio.core.damage.infrared import infrared_dust_mask
from inpaint_studio.core.damage.options import DamageKind, DamageOptions
from inpaint_studio.core.damage.view import defect_view

__all__ = ["DamageKind", "DamageOptions", "defect_view", "detect_damage", "infrared_dust_mask"]
