"""The edited photo: pixels, mask and their history, with events the views redraw from. No Qt.

Every change goes through a method here, so undo, "unsaved changes" and the views' redraws can
never be forgotten by a caller. Changes are made *in place* on the photo's arrays and announced
with the box that changed, so a brush dab on a 100 MP frame costs what the dab costs: the canvas
redraws that box, the history stores that box (see core.history).

Coordinates: brush points are ``(row, col)`` floats in core.mask_ops' convention (pixel ``[i, j]``
is *centred* on ``(i, j)``). A view whose mapping treats pixel ``i`` as the span ``[i, i + 1)`` must
subtract 0.5 before calling :meth:`Document.stroke_to`.

Threading: the document belongs to one thread (the GUI's). A fill running elsewhere works on
:meth:`Document.snapshot_for_fill`, never on the live arrays, so brushing can go on meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core import mask_ops
from inpaint_studio.core.errors import InvalidParameterError, MaskMismatchError
from inpaint_studio.core.events import Event
from inpaint_studio.core.history import DEFAULT_LIMIT_BYTES, Edit, History, Layer, Step
from inpaint_studio.core.photo import Photo
from inpaint_studio.core.types import BBox

__all__ = ["ORIGINAL_TILE", "Document", "DocumentEvents", "diff_edits", "merge_boxes"]

# A stroke saves the old mask tile by tile as it first crosses each one, so a long diagonal drag
# stores a band of tiles, not the bounding box of the whole drag.
_STROKE_TILE = 128
# Whole-mask operations and fills are compared tile by tile; unchanged tiles are not stored, and each
# stored edit is trimmed to its changed pixels: thousands of dust specks on a 100 MP scan store about
# the specks, not the 256-pixel squares around them (measured: 1 % specks, 100 MP, -400 MB).
_DIFF_TILE = 64
# "The pixels as opened" are kept copy-on-write in tiles this small: landing a fill copies about the
# area it changed (a few MB at 24 MP), not every 256-pixel tile of the box around all its regions.
ORIGINAL_TILE = 64


class DocumentEvents:
    """What a view can subscribe to (core.events.Event instances).

    pixels_changing(bbox): about to overwrite the pixels in ``bbox`` (the union of the edits);
        pixels_changed(bbox | None) after (None: everything, e.g. a new photo);
        pixels_regions_changed(list[BBox] | None): the same change as separate boxes (fired just
        before pixels_changed), so a view refreshes six stroke-sized boxes rather than the box around
        all six; mask_changed(bbox | None); history_changed(); modified_changed(bool);
        photo_replaced() when a different photo (or size) is opened; sampling_changed(bbox | None)
        when the sampling area (where patch-based fills may copy from) is painted, set, undone or reset.
    The document itself keeps the pixels as opened (:meth:`Document.original_pixels`), so a view
    showing "the original" needs nothing from ``pixels_changing``.
    """

    def __init__(self) -> None:
        self.pixels_changing = Event("pixels_changing")
        self.pixels_changed = Event("pixels_changed")
        self.pixels_regions_changed = Event("pixels_regions_changed")
        self.mask_changed = Event("mask_changed")
        self.sampling_changed = Event("sampling_changed")
        self.history_changed = Event("history_changed")
        self.modified_changed = Event("modified_changed")
        self.photo_replaced = Event("photo_replaced")


def _union(boxes: Iterable[BBox]) -> BBox | None:
    result: BBox | None = None
    for box in boxes:
        result = box if result is None else result.union(box)
    return result


def merge_boxes(boxes: Iterable[BBox], gap: int = 1) -> list[BBox]:
    """Boxes that touch (or lie within ``gap`` pixels) merged into their union; the others kept apart.

    The per-tile edits of one brushed region become one box again, while regions far apart stay
    separate: refreshing them costs their area, not the area of the box around all of them.
    """
    merged: list[BBox] = []
    for box in boxes:
        if box.is_empty:
            continue
        while True:
            grown = BBox(box.top - gap, box.left - gap, box.bottom + gap, box.right + gap)
            for i, other in enumerate(merged):
                if grown.intersects(other):
                    box = box.union(merged.pop(i))
                    break
            else:
                merged.append(box)
                break
    return merged


def diff_edits(layer: Layer, before: np.ndarray, after: np.ndarray, origin: BBox,
               tile: int = _DIFF_TILE) -> list[Edit]:
    """Edits for the tiles where ``before`` and ``after`` (crops starting at ``origin``) differ.

    Each edit is trimmed to the changed pixels inside its tile and owns copies of the values, so
    the history stores what changed, not the region the caller happened to pass. Works in strips
    of ``tile`` rows: a 100 MP comparison never allocates a frame-sized temporary.
    """
    if before.shape != after.shape:
        raise ValueError(f"cannot compare arrays of shapes {before.shape} and {after.shape}")
    height, width = before.shape[:2]
    edits: list[Edit] = []
    for t0 in range(0, height, tile):
        t1 = min(t0 + tile, height)
        diff = _differs(before[t0:t1], after[t0:t1])
        x, _y, w, _h = cv2.boundingRect(diff)
        if w == 0:
            continue
        for l0 in range(x - x % tile, x + w, tile):
            l1 = min(l0 + tile, width)
            bx, by, bw, bh = cv2.boundingRect(np.ascontiguousarray(diff[:, l0:l1]))
            if bw == 0 or bh == 0:
                continue
            box = BBox(t0 + by, l0 + bx, t0 + by + bh, l0 + bx + bw)
            edits.append(Edit(layer, BBox(box.top + origin.top, box.left + origin.left,
                                          box.bottom + origin.top, box.right + origin.left),
                              before[box.slices].copy(), after[box.slices].copy()))
    return edits


def _differs(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """uint8 H x W, non-zero where the pixels differ (any channel)."""
    if before.ndim == 2 and before.dtype == np.uint8:
        return cv2.compare(before, after, cv2.CMP_NE)  # several times faster than numpy
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    return diff.view(np.uint8)


class Document:
    """One photo being edited: ``photo`` (pixels + metadata), ``mask`` (uint8 coverage) and ``history``.

    ``is_modified`` follows the *pixels* only: the mask is a working layer, not part of the saved
    file, so brushing alone never asks "save changes?".
    """

    def __init__(self, history_limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.events = DocumentEvents()
        self.history = History(history_limit_bytes, on_drop=self._on_step_dropped)
        self._photo: Photo | None = None
        self._mask: np.ndarray | None = None
        # the sampling area: allocated on first use (100 MB saved on a 100 MP photo nobody samples on)
        self._sampling: np.ndarray | None = None
        # (label, layer, the layer's tiles as they were before the stroke)
        self._stroke: tuple[str, str, dict[tuple[int, int], np.ndarray]] | None = None
        self._base_pixel_state = 0  # "the pixels as opened", or the newest pixel step memory forgot
        self._saved_state: int | None = 0
        self._modified = False
        self._snapshots = 0  # fills still reading the live pixel buffer (copy before writing)
        self._pixels_revision = 0
        self._mask_revision = 0
        # the as-opened values of every ORIGINAL_TILE tile written since open (copy-on-write)
        self._originals: dict[tuple[int, int], np.ndarray] = {}
        self._original_grid = np.zeros((0, 0), bool)  # True where _originals holds the tile

    # state ------------------------------------------------------------------------------------

    @property
    def photo(self) -> Photo | None:
        return self._photo

    @property
    def pixels(self) -> np.ndarray | None:
        return None if self._photo is None else self._photo.pixels

    @property
    def mask(self) -> np.ndarray | None:
        """The live coverage mask (H x W uint8). Read it; change it only through this class."""
        return self._mask

    @property
    def sampling(self) -> np.ndarray | None:
        """The live sampling area (H x W uint8, >0 = a fill may copy from here); None until first painted.

        Read it; change it only through this class. All zero (cleared) means the same as None: no
        sampling area, copy from anywhere — so it can be passed to ``FillRequest.sampling`` as it is.
        Like the mask it is a working layer: painting it never marks the photo modified.
        """
        return self._sampling

    @property
    def has_sampling(self) -> bool:
        return self._sampling is not None and bool(self._sampling.any())

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self._photo is None else (self._photo.height, self._photo.width)

    @property
    def path(self) -> Path | None:
        return None if self._photo is None else self._photo.source_path

    @property
    def has_hole(self) -> bool:
        return self._mask is not None and bool(self._mask.any())

    @property
    def is_modified(self) -> bool:
        return self._modified

    @property
    def pixels_revision(self) -> int:
        """Increases on every change of the pixels: a fill compares it with the value at its start to
        know whether its result still belongs on this photo."""
        return self._pixels_revision

    @property
    def mask_revision(self) -> int:
        """Increases on every change of the mask (each dab too): an off-thread mask operation compares
        it with the value it started from before applying its result."""
        return self._mask_revision

    @property
    def in_stroke(self) -> bool:
        return self._stroke is not None

    # opening and saving -----------------------------------------------------------------------

    def open(self, photo: Photo, mask: np.ndarray | None = None) -> None:
        """Replace everything with a freshly loaded photo (and optionally its mask); history starts empty."""
        shape = (photo.height, photo.width)
        if mask is not None:
            self._check_mask_shape(mask, shape)
            coverage = mask_ops.as_coverage(mask)
        else:
            coverage = np.zeros(shape, np.uint8)
        if not (photo.pixels.flags.writeable and photo.pixels.flags.c_contiguous):
            photo.pixels = np.ascontiguousarray(photo.pixels).copy()
        self._stroke = None
        self._photo, self._mask = photo, coverage
        self._sampling = None
        self.history.clear()
        self._base_pixel_state = 0
        self._saved_state = 0
        self._snapshots = 0
        self._pixels_revision += 1
        self._originals = {}
        self._original_grid = np.zeros((-(-shape[0] // ORIGINAL_TILE), -(-shape[1] // ORIGINAL_TILE)), bool)
        self.events.photo_replaced.emit()
        self.events.pixels_regions_changed.emit(None)
        self.events.pixels_changed.emit(None)
        self._emit_mask_changed(None)
        self.events.sampling_changed.emit(None)
        self.events.history_changed.emit()
        self._update_modified()

    def mark_saved(self, path: Path | None = None) -> None:
        """The current pixels are now what is on disk (at ``path``, if given: "Save As")."""
        if self._photo is None:
            return
        if path is not None:
            self._photo.source_path = Path(path)
        self._saved_state = self._pixel_state()
        self._update_modified()

    # brush strokes ----------------------------------------------------------------------------

    def begin_stroke(self, label: str = "Brush stroke", layer: str = "mask") -> None:
        """Start one undo step of brush dabs (a mouse press). A stroke still open is committed first.

        ``layer``: "mask" (what to fill) or "sampling" (where the fill may copy from).
        """
        self._require_photo()
        if layer not in ("mask", "sampling"):
            raise InvalidParameterError(f"a stroke paints the 'mask' or the 'sampling' layer, not {layer!r}")
        if self._stroke is not None:
            self.end_stroke()
        if layer == "sampling":
            self._ensure_sampling()
        self._stroke = (label, layer, {})

    def stroke_to(self, p0: tuple[float, float], p1: tuple[float, float], radius: float,
                  value: int = 255, hardness: float = 1.0) -> BBox:
        """Paint a segment of the open stroke into its layer (value 0 erases); returns the changed box.

        Points are in mask_ops' pixel-centre convention (see the module docstring).
        """
        if self._stroke is None or self._mask is None:
            raise RuntimeError("begin_stroke() before stroke_to()")
        _label, layer, saved = self._stroke
        mask = self._layer(layer)
        box = mask_ops.segment_bbox(mask.shape, p0, p1, radius)
        if box.is_empty:
            return box
        for ty in range(box.top // _STROKE_TILE, (box.bottom - 1) // _STROKE_TILE + 1):
            for tx in range(box.left // _STROKE_TILE, (box.right - 1) // _STROKE_TILE + 1):
                if (ty, tx) not in saved:
                    saved[(ty, tx)] = mask[self._tile_box(ty, tx).slices].copy()
        mask_ops.paint_segment(mask, p0, p1, radius, value, hardness)
        self._emit_layer_changed(layer, box)
        return box

    def end_stroke(self) -> Step | None:
        """Close the stroke as one undo step (only the tiles it changed); None if it changed nothing."""
        if self._stroke is None or self._mask is None:
            return None
        label, layer, saved = self._stroke
        self._stroke = None
        target = self._layer(layer)
        edits: list[Edit] = []
        for (ty, tx), before in sorted(saved.items()):
            box = self._tile_box(ty, tx)
            edits.extend(diff_edits(layer, before, target[box.slices], box, tile=_STROKE_TILE))
        step = self.history.push_step(label, edits)
        if step is not None:
            self.events.history_changed.emit()
        return step

    def abort_stroke(self) -> None:
        """Undo the open stroke's dabs and forget it: no history step, the mask as before the press."""
        if self._stroke is None or self._mask is None:
            return
        _label, layer, saved = self._stroke
        self._stroke = None
        target = self._layer(layer)
        boxes = []
        for (ty, tx), before in saved.items():
            box = self._tile_box(ty, tx)
            target[box.slices] = before
            boxes.append(box)
        union = _union(boxes)
        if union is not None:
            self._emit_layer_changed(layer, union)

    def _tile_box(self, ty: int, tx: int) -> BBox:
        assert self._mask is not None
        height, width = self._mask.shape
        return BBox(ty * _STROKE_TILE, tx * _STROKE_TILE, min(height, (ty + 1) * _STROKE_TILE),
                    min(width, (tx + 1) * _STROKE_TILE))

    # whole-mask and region operations ---------------------------------------------------------

    def set_mask(self, new_mask: np.ndarray | None, label: str = "Change mask",
                 region: BBox | None = None) -> Step | None:
        """Replace the mask (grow/shrink/feather/invert/clear/import) as one undo step; None clears it.

        Only the tiles that differ are written and stored, so clearing three strokes on a 100 MP
        mask costs three strokes' worth of memory. ``region``: the caller knows nothing changed
        outside this box (e.g. a grow touches only the hole's box plus the radius), so only it is compared.
        """
        self._require_photo()
        assert self._mask is not None
        self.end_stroke()
        if new_mask is None:  # clear: only the hole's box can change
            hole = mask_ops.bbox_of(self._mask)
            if hole is None:
                return None
            return self._push_edits(label, diff_edits("mask", self._mask[hole.slices],
                                                      np.zeros((hole.height, hole.width), np.uint8), hole))
        self._check_mask_shape(new_mask, self._mask.shape)
        coverage = mask_ops._coverage(new_mask)  # read-only use: values are copied into edits
        box = BBox.of_shape(coverage.shape) if region is None else region
        box = BBox(max(0, box.top), max(0, box.left), min(coverage.shape[0], box.bottom),
                   min(coverage.shape[1], box.right))
        if box.is_empty:
            return None
        return self._push_edits(label, diff_edits("mask", self._mask[box.slices], coverage[box.slices], box))

    def set_mask_region(self, bbox: BBox, values: np.ndarray, label: str,
                        layer: Layer = "mask") -> Step | None:
        """Write ``values`` (shaped like ``bbox``) into the mask — or the sampling area, ``layer`` as for
        :meth:`begin_stroke` — there as one undo step (selections)."""
        self._require_photo()
        if layer not in ("mask", "sampling"):
            raise InvalidParameterError(f"a selection sets the 'mask' or the 'sampling' layer, not {layer!r}")
        self.end_stroke()
        bbox = self._clip_region(bbox, values.shape[:2])
        coverage = mask_ops._coverage(values)
        return self._push_edits(label, diff_edits(layer, self._layer(layer)[bbox.slices], coverage, bbox))

    def apply_edits(self, label: str, edits: list[Edit]) -> Step | None:
        """Apply edits prepared elsewhere (e.g. :func:`diff_edits` run off the GUI thread on a large mask)
        as one undo step. The caller must have checked ``mask_revision`` / ``pixels_revision`` are still
        what the edits were computed against."""
        self._require_photo()
        self.end_stroke()
        return self._push_edits(label, list(edits))

    # the sampling area ------------------------------------------------------------------------

    def set_sampling(self, values: np.ndarray | None, label: str | None = None) -> Step | None:
        """Replace the sampling area (import, invert, "use everything") as one undo step; None clears it.

        Only the tiles that differ are stored, as for :meth:`set_mask`. Returns None if nothing changed.
        """
        self._require_photo()
        assert self._mask is not None
        self.end_stroke()
        if values is None:
            if self._sampling is None:
                return None
            box = mask_ops.bbox_of(self._sampling)
            if box is None:
                return None
            return self._push_edits(label or "Clear sampling area", diff_edits(
                "sampling", self._sampling[box.slices], np.zeros((box.height, box.width), np.uint8), box))
        self._check_mask_shape(values, self._mask.shape)
        coverage = mask_ops._coverage(values)  # read-only use: values are copied into edits
        current = self._ensure_sampling()
        box = BBox.of_shape(coverage.shape)
        return self._push_edits(label or "Set sampling area",
                                diff_edits("sampling", current, coverage, box))

    def _ensure_sampling(self) -> np.ndarray:
        assert self._mask is not None
        if self._sampling is None:
            self._sampling = np.zeros(self._mask.shape, np.uint8)
        return self._sampling

    def _layer(self, layer: str) -> np.ndarray:
        """The live array of a layer an edit or stroke writes."""
        assert self._photo is not None and self._mask is not None
        if layer == "pixels":
            return self._photo.pixels
        if layer == "sampling":
            return self._ensure_sampling()
        return self._mask

    def _emit_layer_changed(self, layer: str, box: BBox | None) -> None:
        if layer == "sampling":
            self.events.sampling_changed.emit(box)
        else:
            self._emit_mask_changed(box)

    # fills ------------------------------------------------------------------------------------

    def snapshot_for_fill(self) -> tuple[np.ndarray, np.ndarray]:
        """(pixels, mask) a fill may read on another thread while editing goes on here.

        The mask is copied (brushing writes it constantly). The pixels are handed out read-only
        without a copy (300 MB on a 100 MP photo): the document copies its own buffer before the
        next write instead, unless :meth:`release_snapshot` said the fill is done with it.
        """
        pixels = self.snapshot_pixels()  # raises when no photo is open
        assert self._mask is not None
        return pixels, self._mask.copy()

    def snapshot_pixels(self) -> np.ndarray:
        """The pixels, read-only and guarded like :meth:`snapshot_for_fill`'s (a save writing them on
        another thread); :meth:`release_snapshot` when done."""
        self._require_photo()
        assert self._photo is not None
        pixels = self._photo.pixels.view()
        pixels.flags.writeable = False
        self._snapshots += 1
        return pixels

    def release_snapshot(self) -> None:
        """A fill finished (or was cancelled) and no longer reads the pixels from its snapshot."""
        self._snapshots = max(0, self._snapshots - 1)

    def apply_fill(self, result: np.ndarray, bbox: BBox | None, label: str) -> Step | None:
        """Paste a fill's result as one undo step, storing only the pixels inside ``bbox`` that changed.

        ``result`` is the full image (only ``bbox`` of it is used) or a crop shaped like ``bbox``;
        ``bbox`` None means the whole frame. Returns None if nothing changed.
        """
        self._require_photo()
        assert self._photo is not None
        pixels = self._photo.pixels
        if result.dtype != pixels.dtype:
            raise InvalidParameterError(f"the fill result is {result.dtype} but the photo is {pixels.dtype}")
        box = BBox.of_shape(pixels.shape) if bbox is None else bbox
        crop = result[box.slices] if result.shape == pixels.shape else result
        box = self._clip_region(box, crop.shape[:2])
        if crop.shape[2:] != pixels.shape[2:]:
            raise InvalidParameterError(f"the fill result has shape {result.shape}; the photo {pixels.shape}")
        return self._push_edits(label, diff_edits("pixels", pixels[box.slices], crop, box))

    # the photo as opened -------------------------------------------------------------------

    def original_pixels(self, box: BBox) -> np.ndarray:
        """The pixels inside ``box`` as they were when the photo was opened (a new array)."""
        self._require_photo()
        assert self._photo is not None
        result = self._photo.pixels[box.slices].copy()
        t = ORIGINAL_TILE
        rows = slice(box.top // t, -(-box.bottom // t))
        cols = slice(box.left // t, -(-box.right // t))
        for ty, tx in np.argwhere(self._original_grid[rows, cols]):
            ty, tx = int(ty) + rows.start, int(tx) + cols.start
            tile = self._originals[(ty, tx)]
            tile_box = BBox(ty * t, tx * t, ty * t + tile.shape[0], tx * t + tile.shape[1])
            inner = BBox(max(tile_box.top, box.top), max(tile_box.left, box.left),
                         min(tile_box.bottom, box.bottom), min(tile_box.right, box.right))
            result[inner.relative_to(box).slices] = tile[inner.relative_to(tile_box).slices]
        return result

    def changed_tiles(self, box: BBox, tile: int) -> list[tuple[int, int]]:
        """Indices ``(ty, tx)`` of the ``tile``-sized tiles meeting ``box`` whose pixels were written since
        open (they may differ from the original; all others certainly do not). ``tile``: a multiple of
        ORIGINAL_TILE."""
        if tile % ORIGINAL_TILE:
            raise ValueError(f"tile size {tile} is not a multiple of {ORIGINAL_TILE}")
        grid = self._original_grid
        if box.is_empty or not grid.size:
            return []
        f = tile // ORIGINAL_TILE
        ty0, tx0 = box.top // tile, box.left // tile
        ty1, tx1 = -(-box.bottom // tile), -(-box.right // tile)
        sub = grid[ty0 * f:ty1 * f, tx0 * f:tx1 * f]
        if not sub.any():
            return []
        padded = np.zeros(((ty1 - ty0) * f, (tx1 - tx0) * f), bool)
        padded[:sub.shape[0], :sub.shape[1]] = sub
        coarse = padded.reshape(ty1 - ty0, f, tx1 - tx0, f).any(axis=(1, 3))
        return [(int(ty) + ty0, int(tx) + tx0) for ty, tx in np.argwhere(coarse)]

    @property
    def original_tiles_kept(self) -> int:
        """How many ORIGINAL_TILE tiles of the as-opened pixels are held (memory ~ the area changed)."""
        return len(self._originals)

    def _keep_originals(self, boxes: Iterable[BBox]) -> None:
        """Copy the as-opened values of the tiles in ``boxes`` not written before (call before writing)."""
        assert self._photo is not None
        pixels, grid, t = self._photo.pixels, self._original_grid, ORIGINAL_TILE
        height, width = pixels.shape[:2]
        for box in boxes:
            ty0, tx0 = box.top // t, box.left // t
            sub = grid[ty0:-(-box.bottom // t), tx0:-(-box.right // t)]
            if sub.all():
                continue
            for ty, tx in np.argwhere(~sub):
                ty, tx = int(ty) + ty0, int(tx) + tx0
                self._originals[(ty, tx)] = pixels[ty * t:min(height, (ty + 1) * t),
                                                   tx * t:min(width, (tx + 1) * t)].copy()
            sub[...] = True

    # history ----------------------------------------------------------------------------------

    def undo(self) -> str | None:
        """Revert the newest step; returns its label (None if there was nothing to undo)."""
        self.end_stroke()
        step = self.history.undo()
        if step is None:
            return None
        self._apply([step], [])
        return step.label

    def redo(self) -> str | None:
        self.end_stroke()
        step = self.history.redo()
        if step is None:
            return None
        self._apply([], [step])
        return step.label

    def jump_to(self, index: int) -> None:
        """Go to the state after ``index`` steps (0: as opened), as the History panel does on a click."""
        self.end_stroke()
        undone, redone = self.history.jump_to(index)
        if undone or redone:
            self._apply(undone, redone)

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo or self._stroke is not None

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    def undo_label(self) -> str | None:
        return self.history.undo_label

    def redo_label(self) -> str | None:
        return self.history.redo_label

    # internals --------------------------------------------------------------------------------

    def _push_edits(self, label: str, edits: list[Edit]) -> Step | None:
        """Apply ``after`` of new edits and record them as one step."""
        if not edits:
            return None
        self._write(edits, use_before=False)
        return self._record(label, edits)

    def _record(self, label: str, edits: list[Edit]) -> Step | None:
        step = self.history.push_step(label, edits)
        if step is not None:
            self.events.history_changed.emit()
            self._update_modified()
        return step

    def _apply(self, undone: list[Step], redone: list[Step]) -> None:
        edits_undo = [edit for step in undone for edit in reversed(step.edits)]
        edits_redo = [edit for step in redone for edit in step.edits]
        self._write(edits_undo, use_before=True, announce=False)
        self._write(edits_redo, use_before=False, announce=False)
        self._announce(edits_undo + edits_redo)
        self.events.history_changed.emit()
        self._update_modified()

    def _write(self, edits: list[Edit], *, use_before: bool, announce: bool = True) -> None:
        assert self._photo is not None and self._mask is not None
        pixel_box = _union(edit.bbox for edit in edits if edit.layer == "pixels")
        if pixel_box is not None:
            self._keep_originals(edit.bbox for edit in edits if edit.layer == "pixels")
            self.events.pixels_changing.emit(pixel_box)
            if self._snapshots:
                # a fill still reads the old buffer: give it that one and write into a copy
                self._photo.pixels = self._photo.pixels.copy()
                self._snapshots = 0
            self._pixels_revision += 1
        for edit in edits:
            target = self._layer(edit.layer)
            target[edit.bbox.slices] = edit.before if use_before else edit.after
        if announce:
            self._announce(edits)

    def _announce(self, edits: list[Edit]) -> None:
        pixel_box = _union(edit.bbox for edit in edits if edit.layer == "pixels")
        mask_box = _union(edit.bbox for edit in edits if edit.layer == "mask")
        sampling_box = _union(edit.bbox for edit in edits if edit.layer == "sampling")
        if pixel_box is not None:
            self.events.pixels_regions_changed.emit(
                merge_boxes(edit.bbox for edit in edits if edit.layer == "pixels"))
            self.events.pixels_changed.emit(pixel_box)
        if mask_box is not None:
            self._emit_mask_changed(mask_box)
        if sampling_box is not None:
            self.events.sampling_changed.emit(sampling_box)

    def _emit_mask_changed(self, box: BBox | None) -> None:
        self._mask_revision += 1
        self.events.mask_changed.emit(box)

    def _pixel_state(self) -> int:
        for step in reversed(self.history.applied):
            if step.touches("pixels"):
                return step.id
        return self._base_pixel_state

    def _on_step_dropped(self, step: Step) -> None:
        if step.touches("pixels"):
            self._base_pixel_state = step.id

    def _update_modified(self) -> None:
        modified = self._photo is not None and self._pixel_state() != self._saved_state
        if modified != self._modified:
            self._modified = modified
            self.events.modified_changed.emit(modified)

    def _require_photo(self) -> None:
        if self._photo is None:
            raise RuntimeError("no photo is open")

    def _clip_region(self, bbox: BBox, shape: tuple[int, ...]) -> BBox:
        assert self._mask is not None
        height, width = self._mask.shape
        if (bbox.height, bbox.width) != tuple(shape[:2]):
            raise InvalidParameterError(f"values of shape {shape[:2]} do not fit the box {bbox}")
        if bbox.top < 0 or bbox.left < 0 or bbox.bottom > height or bbox.right > width:
            raise InvalidParameterError(f"the box {bbox} lies outside the {width}x{height} photo")
        return bbox

    @staticmethod
    def _check_mask_shape(mask: np.ndarray, shape: tuple[int, ...]) -> None:
        if tuple(mask.shape) != tuple(shape[:2]):
            raise MaskMismatchError(
                f"the mask is {mask.shape[1]}x{mask.shape[0]} but the photo is {shape[1]}x{shape[0]}")
