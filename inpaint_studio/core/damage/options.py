"""The detector's user-facing settings (what the GUI panel and the CLI flags map to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from inpaint_studio.core.errors import InvalidParameterError

DamageKind = Literal["scratches", "dust", "all"]
#: "learned" (the default): a classifier fitted to this photo at detect time (5-15 s once per photo),
#: kept to specks the classic candidate step also sees as compact, so a pupil inside a darker iris is
#: not flagged; on the synthetic Kodak benchmark it has 2.2-2.5x the dust precision of "classic" and
#: more recall (``benchmarks/damage_detection.py``). "classic": the filters and tests alone (instant).
DustFinder = Literal["classic", "learned"]
#: "classic" (the default): the line filter and its length, parallel-twin, isolation and colour
#: tests. "learned": the same line candidates at a permissive level, each kept or dropped by a small
#: classifier of whole-line features fitted to this photo at detect time (:mod:`.scratch_learned`).
#: "verified": the classic lines, each dropped if that classifier rejects the candidates it lies on
#: (:func:`.scratch_learned.verified`; colour photos only): a third fewer false alarms on real
#: structure for a little recall, and 10-15 s more on a Kodak photo, 3.3x the classic time at 12 MP.
ScratchFinder = Literal["classic", "learned", "verified"]

#: widest defect the detector looks for; beyond this a "defect" is image structure (or a tear
#: that the user should brush by hand) and the morphology cost grows with the square of it.
MAX_SIZE_LIMIT = 64


@dataclass(frozen=True)
class DamageOptions:
    """What to look for. Checked on construction so a bad value fails before any work starts."""

    kind: DamageKind = "all"
    #: 0..1, higher finds fainter damage (and more false alarms)
    sensitivity: float = 0.5
    #: px, smallest defect width/diameter kept
    min_size: int = 1
    #: px, widest scratch / largest speck diameter
    max_size: int = 15
    #: how dust is found (see :data:`DustFinder`)
    dust_finder: DustFinder = "learned"
    #: how scratches, hairs and cracks are found (see :data:`ScratchFinder`)
    scratch_finder: ScratchFinder = "classic"

    def __post_init__(self) -> None:
        if self.kind not in get_args(DamageKind):
            raise InvalidParameterError(
                f"damage kind must be one of {', '.join(get_args(DamageKind))}, got {self.kind!r}")
        if self.dust_finder not in get_args(DustFinder):
            raise InvalidParameterError(
                f"dust finder must be one of {', '.join(get_args(DustFinder))}, got {self.dust_finder!r}")
        if self.scratch_finder not in get_args(ScratchFinder):
            raise InvalidParameterError(
                f"scratch finder must be one of {', '.join(get_args(ScratchFinder))}, "
                f"got {self.scratch_finder!r}")
        try:
            sensitivity = float(self.sensitivity)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"sensitivity must be a number, got {self.sensitivity!r}") from None
        if not 0.0 <= sensitivity <= 1.0:
            raise InvalidParameterError(f"sensitivity must be between 0 and 1, got {sensitivity:g}")
        for name in ("min_size", "max_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidParameterError(f"{name} must be a whole number of pixels, got {value!r}")
        if not 1 <= self.min_size <= self.max_size:
            raise InvalidParameterError(
                f"min size must be at least 1 px and at most max size ({self.max_size}), got {self.min_size}")
        if self.max_size > MAX_SIZE_LIMIT:
            raise InvalidParameterError(
                f"max size must be at most {MAX_SIZE_LIMIT} px, got {self.max_size}; "
                "brush larger damage by hand")
