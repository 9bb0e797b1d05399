"""The classic scratch detector's sensitivity-independent work, kept per photo so a slider move
only re-thresholds (the editor re-runs detection on every move).

What a tile of :func:`.detect._detect_tile`'s scratch pass computes splits in two:

* independent of ``sensitivity`` (and of ``min_size``; of ``max_size`` only through the widest
  scratch probed and the tile margin): luma and the two-sided contrast, the detail level ``busy``
  and its texture level, per polarity the rank-1 line score, its 12 oriented line responses, their
  best and their crests, and the colour maps of the pixel-wise second chance: most of the 18-20 s
  a 12 MP move took;
* dependent: the threshold, and everything cut from the thresholded crests (components, their
  length, parallel twins, isolation and colour tests).

A tile's :class:`TileMaps` keeps only what the dependent part reads, so the result is the same to
the bit as the uncached code (``tests/core/test_damage.py`` compares them):

* per polarity and orientation, the crest pixels above the threshold of sensitivity 1 (the lowest
  any sensitivity gives: the threshold falls monotonically with it) that lie in a component long
  enough to pass the length test at sensitivity 1 (a component at any other sensitivity lies inside
  one of those, so a shorter one can never be kept, and dropping it does not change which pixels
  the others group): their index, response, texture level and the 8 responses the parallel-twin
  test samples beside them (14 for the bright lines of a toned print: ``detect._line_tuning``);
* the best response and the line score of both polarities, and the two colour maps, only on the
  pixels a kept line can reach (those crests grown by the ridge width): everything read there is
  read at a line's own pixels;
* the detail level ``busy`` of the whole tile (float32): the isolation test box-filters it around
  each line, and a box filter's running sums depend on every pixel of the row.

About 10 bytes per photo pixel (4 of them ``busy``, counted over the tiles' overlapping margins; the
rest grows with how much line-like detail the photo has): 120 MB for kodim05 at 12 MP, 50 MB at
3 MP (``docs/benchmarks.md``). The cache holds at most :data:`BUDGET` bytes over all photos (the
oldest photo's maps go first). A photo whose maps will not fit on their own, judged from its tiles
so far, is not cached at all: a 100 MP scan gives up after its first tile (~15 MB, held for one
tile), so its moves cost what they did and its peak memory is what it was (measured: 873 vs 869 MB
for a scratches pass), while the editor's visible-area crops of it are cached. The panel needs no
handle on the cache: ``detect_damage`` keys it by the photo's fingerprint, the widest scratch
probed, the tile layout and the tuning (sensitivity, min size and kind are applied afterwards).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import cv2
import numpy as np

from inpaint_studio.core.damage import detect as classical
from inpaint_studio.core.damage.options import DamageOptions

#: bytes of tile maps kept over all photos (a 12 MP photo needs ~120 MB; see the module docstring):
#: the learned dust finder's maps budget, which with the rest keeps a 100 MP scan under 4 GB
BUDGET = 512 * 2**20
#: photos (or visible-area crops) kept at most
ENTRIES = 4


def _threshold(level: np.ndarray, s: float, tuning: classical._Tuning) -> np.ndarray:
    """The line threshold of sensitivity ``s`` (``_detect_tile``'s)."""
    return classical.line_threshold(level, *classical.floor_and_gain(s, tuning), tuning)


@dataclass
class _Orientation:
    """Crest pixels of one orientation that some sensitivity may keep (row-major order)."""

    index: np.ndarray  # int32 flat index into the tile
    resp: np.ndarray  # float32 line response there
    level: np.ndarray  # float32 texture level there
    sides: np.ndarray  # float32 (2 x offsets) x n: the response at each offset, + and - side


@dataclass
class TileMaps:
    """What a sensitivity move reads of one tile (see the module docstring)."""

    shape: tuple[int, int]
    busy: np.ndarray
    #: int32 flat indices of the pixels a kept line can reach, and per polarity (bright, dark) the
    #: best response and the score there
    region: np.ndarray
    best: tuple[np.ndarray, np.ndarray]
    score: tuple[np.ndarray, np.ndarray]
    lines: tuple[list[_Orientation], list[_Orientation]]
    #: colour misfit and |luma change| against the local background there (None for grey photos)
    misfit: np.ndarray | None
    absdelta: np.ndarray | None

    @property
    def nbytes(self) -> int:
        arrays = [self.busy, self.region, *self.best, *self.score]
        arrays += [a for a in (self.misfit, self.absdelta) if a is not None]
        arrays += [getattr(o, f) for lines in self.lines for o in lines
                   for f in ("index", "resp", "level", "sides")]
        return sum(a.nbytes for a in arrays)


def _full(shape: tuple[int, int], index: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(shape[0] * shape[1], values.dtype)
    out[index] = values
    return out.reshape(shape)


def tile_maps(luma: np.ndarray, chroma: np.ndarray | None, max_size: int,
              tuning: classical._Tuning) -> TileMaps:
    """The sensitivity-independent part of one tile's scratch pass (luma HxW, chroma 3xHxW or None)."""
    h, w = luma.shape
    width = min(max_size, tuning.scratch_width)
    bright, dark = classical.two_sided_contrast(luma, width + 2)
    busy = np.maximum(bright[3], dark[3])
    level = classical._texture_level(busy, tuning)
    lowest = _threshold(level, 1.0, tuning)
    kernels = classical._line_kernels(tuning.line_length, tuning.line_angles)
    reach = np.zeros((h, w), bool)
    bests, scores, all_lines = [], [], []
    for polarity, ranked in enumerate((bright, dark)):
        offsets = classical._line_tuning(tuning, polarity).parallel_offsets  # its twin test's
        pad = max(offsets) + 1
        score = ranked[1]
        best = np.zeros_like(score)
        spread = cv2.dilate(score, np.ones((tuning.spread, tuning.spread), np.uint8))
        lines = []
        for theta, kernel in zip(classical._angles(tuning.line_angles), kernels, strict=True):
            resp = cv2.filter2D(spread, -1, kernel, borderType=cv2.BORDER_REFLECT)
            np.maximum(best, resp, out=best)
            above = resp > lowest
            if tuning.ridge:
                above &= classical._crest(resp, theta)
            count, labels = cv2.connectedComponents(above.view(np.uint8), connectivity=8)
            index = np.flatnonzero(labels)
            if count > 1:
                # the length test of _long_lines at the lowest threshold: no component of any
                # sensitivity that lies inside a shorter one can pass it
                lab = labels.ravel()[index]
                ys, xs = np.divmod(index, w)
                extent = classical.component_extents(lab, count, xs.astype(np.float32),
                                                     ys.astype(np.float32), theta)[0]
                long = extent - tuning.line_length >= tuning.scratch_length * tuning.piece
                long[0] = False
                index = index[long[lab]]
            index = index.astype(np.int32)
            ys, xs = np.divmod(index, w)
            ny, nx = np.cos(theta), -np.sin(theta)
            padded = cv2.copyMakeBorder(resp, pad, pad, pad, pad, cv2.BORDER_REFLECT)
            sides = np.empty((2 * len(offsets), index.size), np.float32)
            row = 0
            for d in offsets:  # the order of parallel_means
                for sign in (1, -1):
                    dy, dx = round(sign * d * ny), round(sign * d * nx)
                    sides[row] = padded[ys + (pad + dy), xs + (pad + dx)]
                    row += 1
            lines.append(_Orientation(index, resp.ravel()[index], level.ravel()[index], sides))
            reach.ravel()[index] = True
        bests.append(best)
        scores.append(score)
        all_lines.append(lines)
    if tuning.ridge:
        reach = cv2.dilate(reach.view(np.uint8), classical._disc(2 * tuning.ridge + 1)).astype(bool)
    region = np.flatnonzero(reach).astype(np.int32)
    misfit = absdelta = None
    if chroma is not None:
        misfit, delta = classical.colour_maps(chroma, tuning)
        misfit = misfit.ravel()[region]
        absdelta = np.abs(delta).ravel()[region]
    return TileMaps((h, w), busy, region, (bests[0].ravel()[region], bests[1].ravel()[region]),
                    (scores[0].ravel()[region], scores[1].ravel()[region]), (all_lines[0], all_lines[1]),
                    misfit, absdelta)


def _long_lines(maps: TileMaps, lines: list[_Orientation], s: float, tuning: classical._Tuning,
                score: np.ndarray, chroma: Callable[[], np.ndarray | None]) -> np.ndarray:
    """``_long_lines``' kept pixels at sensitivity ``s``, from the cached crests (``score``: the
    polarity's line score on ``maps.region``, ``chroma``: the tile's colour planes, made only if a
    line needs them)."""
    h, w = maps.shape
    keep = np.zeros(h * w, bool)
    for theta, o in zip(classical._angles(tuning.line_angles), lines, strict=True):
        sel = o.resp > _threshold(o.level, s, tuning)
        if not sel.any():
            continue
        index = o.index[sel]
        above = np.zeros(h * w, np.uint8)
        above[index] = 1
        count, labels = cv2.connectedComponents(above.reshape(h, w), connectivity=8)
        lab = labels.ravel()[index]
        ys, xs = np.divmod(index, w)
        ok = classical.line_pieces(*classical.component_extents(
            lab, count, xs.astype(np.float32), ys.astype(np.float32), theta), tuning)
        if ok.any():
            # parallel_means on the component pixels (row-major, as there), from the cached samples
            n = np.maximum(np.bincount(lab, minlength=count), 1)
            strength = np.bincount(lab, o.resp[sel], minlength=count) / n
            sides = np.zeros((2, count), np.float64)
            for row in range(o.sides.shape[0]):
                side = row % 2
                np.maximum(sides[side], np.bincount(lab, o.sides[row][sel], minlength=count) / n,
                           out=sides[side])
            veto, weak = classical.twin_veto(strength, sides, tuning)
            weak &= ok
            ok &= ~veto
            ok[0] = weak[0] = False
            if weak.any() and classical._colour_tells(chroma(), tuning):
                pieces = index[weak[lab]]  # crest pixels: inside the region
                contrast = score[np.searchsorted(maps.region, pieces)]
                keep[classical._colourless_lines(pieces, contrast, chroma(), tuning)] = True
        keep[index] |= ok[lab]
    keep = keep.reshape(h, w)
    if tuning.ridge and keep.any():
        keep = cv2.dilate(keep.view(np.uint8), classical._disc(2 * tuning.ridge + 1)).astype(bool)
    return classical.joined_lines(keep, tuning)


def scratches(maps: TileMaps, chroma: Callable[[], np.ndarray | None], options: DamageOptions,
              tuning: classical._Tuning) -> np.ndarray:
    """bool mask of one tile's scratches (not yet grown) for ``options``: the scratch part of
    ``_detect_tile``, to the bit. ``chroma`` gives the tile's colour planes (made only if needed)."""
    s = float(options.sensitivity)
    floor, gain = classical.floor_and_gain(s, tuning)
    found = np.zeros(maps.shape, bool)
    rgb = None
    for p in (0, 1):
        cand = _long_lines(maps, maps.lines[p], s, classical._line_tuning(tuning, p), maps.score[p], chroma)
        if not cand.any():
            continue
        if rgb is None:
            rgb = chroma()
        line = _full(maps.shape, maps.region, maps.best[p])
        score = _full(maps.shape, maps.region, maps.score[p])
        cand, failed = classical._scratch_like(cand, line, score, maps.busy, rgb, gain, tuning)
        stands_out = classical.line_pixels(score, line, floor, tuning)
        found |= cand & stands_out
        failed &= stands_out
        if failed.any():
            found |= classical._long_enough(failed & _colourless_pixels(maps, failed, tuning), tuning)
    return found


def _colourless_pixels(maps: TileMaps, line: np.ndarray, tuning: classical._Tuning) -> np.ndarray:
    """``_colourless_pixels`` from the cached maps (zero where ``line`` is not: they are multiplied
    by it)."""
    return classical.colourless_along(line, _full(maps.shape, maps.region, maps.misfit),
                                      _full(maps.shape, maps.region, maps.absdelta), tuning)


# the cache ------------------------------------------------------------------------------------

class _Photo:
    def __init__(self, count: int) -> None:
        #: its number of tiles
        self.count = count
        self.tiles: dict[int, TileMaps] = {}
        self.nbytes = 0
        #: its maps did not fit the budget on their own: not cached
        self.too_big = False


class ScratchMaps:
    """The tile maps of the photos seen last, within :data:`BUDGET` bytes; thread-safe."""

    def __init__(self, budget: int = BUDGET, entries: int = ENTRIES) -> None:
        self.budget = budget
        self.entries = entries
        self._photos: OrderedDict[Hashable, _Photo] = OrderedDict()
        self._lock = threading.Lock()

    def photo(self, key: Hashable, count: int) -> _Photo:
        """The entry of the photo with ``key`` (made empty if new), cut into ``count`` tiles."""
        with self._lock:
            photo = self._photos.get(key)
            if photo is None:
                photo = self._photos[key] = _Photo(count)
            self._photos.move_to_end(key)
            while len(self._photos) > self.entries:
                self._photos.popitem(last=False)
            return photo

    def get(self, photo: _Photo, tile: int) -> TileMaps | None:
        with self._lock:
            return photo.tiles.get(tile)

    def put(self, photo: _Photo, tile: int, maps: TileMaps) -> None:
        """Keep ``maps`` if they fit, dropping older photos' maps first. A photo whose maps will not
        fit on their own (judged from its tiles so far: a 100 MP scan after its first tile) drops
        its own and is not cached again, and leaves the others alone."""
        size = maps.nbytes
        with self._lock:
            if photo.too_big or tile in photo.tiles:
                return
            expected = (photo.nbytes + size) / (len(photo.tiles) + 1) * photo.count
            if max(expected, photo.nbytes + size) > self.budget:
                photo.tiles.clear()
                photo.nbytes = 0
                photo.too_big = True
                return
            for other in list(self._photos.values()):  # oldest first
                if self._total() + size <= self.budget:
                    break
                if other is not photo:
                    other.tiles.clear()
                    other.nbytes = 0
            photo.tiles[tile] = maps
            photo.nbytes += size

    def _total(self) -> int:
        return sum(p.nbytes for p in self._photos.values())

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._total()

    def clear(self) -> None:
        with self._lock:
            self._photos.clear()


CACHE = ScratchMaps()


def release_maps() -> None:
    """Drop every cached tile map: one-shot detections (``detect``, ``restore``, ``batch``) never
    move a slider, so they free them before the fill."""
    CACHE.clear()
