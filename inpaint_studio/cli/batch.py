"""``inpaint-studio batch INPUT_DIR -o OUTPUT_DIR``: fill every photo of a folder.

With ``--masks``/``--mask`` each photo is filled with the method and mask given; with ``--restore``
each photo's scratches and dust are found and filled as ``restore`` does (no masks needed).

A batch is run unattended, so one bad file must not stop it: each file succeeds or fails on its
own, and the summary at the end names every failure with its reason. Fills run one after the
other on this thread through ``run_fill`` — the device is used by one fill at a time anyway, and
this is the same code path as ``fill`` and the GUI.

Exit status: 0 all filled, 1 some failed, 2 nothing to do (or a bad option), 130 cancelled.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaint_studio.cli.common import (
    EXIT_CANCELLED,
    PROG,
    one_line,
    print_error,
    require_file,
    same_file,
    sidecar_path,
)
from inpaint_studio.cli.fill import check_common_options, device_note, fill_pixels, write_record
from inpaint_studio.cli.progress import ProgressLine
from inpaint_studio.core.errors import (
    FillCancelled,
    InpaintStudioError,
    InvalidInputError,
    InvalidParameterError,
    OverwriteRefusedError,
)


@dataclass(frozen=True)
class BatchItem:
    source: Path
    #: path relative to INPUT_DIR: what the user sees, and where the output goes below OUTPUT_DIR
    rel: Path
    output: Path


def supported_extensions() -> frozenset[str]:
    """Lower-case extensions with the dot, from core.io (the one place that knows the formats)."""
    from inpaint_studio.core.io import SUPPORTED_EXTENSIONS

    return frozenset(e.lower() if e.startswith(".") else "." + e.lower() for e in SUPPORTED_EXTENSIONS)


def _inside(path: Path, folders: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == f or resolved.is_relative_to(f) for f in folders)


def scan_inputs(input_dir: Path, *, recursive: bool, exclude: list[Path], exts: frozenset[str]) -> list[Path]:
    """Supported image files, sorted by relative path; hidden files and excluded folders skipped.

    Hidden files are skipped because ``._photo.jpg`` (macOS resource forks on shared drives) would
    otherwise show up as a corrupt photo in every summary.
    """
    excluded = [e.resolve() for e in exclude]
    candidates = input_dir.rglob("*") if recursive else input_dir.iterdir()
    found = []
    for path in candidates:
        rel = path.relative_to(input_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in exts or not path.is_file():
            continue
        if recursive and excluded and _inside(path.parent, excluded):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(input_dir).as_posix())


class MaskFinder:
    """Finds the mask of ``<stem>.<ext>`` in MASK_DIR: ``<stem>.png``, ``<stem>_mask.png``,
    ``<stem>.<any supported ext>``, ``<stem>_mask.<any>`` — in that order.

    With ``--recursive`` the mask is looked for in the same sub-folder of MASK_DIR first, then at
    its top. A photo is never its own mask (MASK_DIR may be INPUT_DIR, with ``x_mask.png`` files).
    """

    def __init__(self, root: Path, exts: frozenset[str]) -> None:
        self.root = root
        self._exts = exts
        self._index: dict[Path, dict[str, list[Path]]] = {}

    def _by_stem(self, folder: Path) -> dict[str, list[Path]]:
        if folder not in self._index:
            table: dict[str, list[Path]] = {}
            if folder.is_dir():
                for path in folder.iterdir():
                    if path.suffix.lower() in self._exts and path.is_file():
                        table.setdefault(path.stem, []).append(path)
            for paths in table.values():
                paths.sort(key=lambda p: (p.suffix.lower() != ".png", p.name))  # .png first
            self._index[folder] = table
        return self._index[folder]

    def folders(self, rel: Path) -> list[Path]:
        return [self.root / rel.parent, self.root] if rel.parent != Path() else [self.root]

    def find(self, rel: Path, source: Path) -> Path | None:
        for folder in self.folders(rel):
            table = self._by_stem(folder)
            for stem in (rel.stem, rel.stem + "_mask"):
                for path in table.get(stem, []):
                    if not same_file(path, source):
                        return path
        return None

    def is_mask_of_another(self, path: Path, stems: set[str]) -> bool:
        """``x_mask.png`` next to ``x.jpg`` when masks live in the photo folder: a mask, not a photo."""
        return path.stem.endswith("_mask") and path.stem[: -len("_mask")] in stems


def _plan(args: argparse.Namespace, exts: frozenset[str]) -> tuple[list[BatchItem], MaskFinder | None]:
    input_dir, output_dir = Path(args.input_dir), Path(args.output)
    if not input_dir.is_dir():
        raise InvalidInputError(f"input folder not found: {input_dir}" if not input_dir.exists()
                                else f"input is not a folder: {input_dir}")
    if output_dir.exists() and not output_dir.is_dir():
        raise InvalidInputError(f"output is not a folder: {output_dir}")
    if not args.overwrite and output_dir.exists() and same_file(output_dir, input_dir):
        raise OverwriteRefusedError(
            f"the output folder is the input folder ({input_dir}); pass --overwrite to write there "
            "(with --suffix to keep the originals)")
    finder = None
    exclude = [] if same_file(output_dir, input_dir) else [output_dir]
    if args.masks is not None:
        masks_dir = Path(args.masks)
        if not masks_dir.is_dir():
            raise InvalidInputError(f"mask folder not found: {masks_dir}" if not masks_dir.exists()
                                    else f"--masks wants a folder (use --mask for one file): {masks_dir}")
        finder = MaskFinder(masks_dir, exts)
        if not same_file(masks_dir, input_dir):
            exclude.append(masks_dir)
    sources = scan_inputs(input_dir, recursive=args.recursive, exclude=exclude, exts=exts)
    if args.mask is not None:  # a shared mask kept among the photos is not a photo
        sources = [p for p in sources if not same_file(p, Path(args.mask))]
    if finder is not None and same_file(finder.root, input_dir):
        stems = {p.stem for p in sources}
        sources = [p for p in sources if not finder.is_mask_of_another(p, stems)]
    items = []
    for source in sources:
        rel = source.relative_to(input_dir)
        output = output_dir / rel.parent / f"{source.stem}{args.suffix}{source.suffix}"
        items.append(BatchItem(source, rel, output))
    if args.suffix and same_file(output_dir, input_dir):
        # outputs of an earlier run into the same folder are not new inputs
        outputs = {i.output.resolve() for i in items}
        items = [i for i in items if i.source.resolve() not in outputs]
    return items, finder


def _check_shared_mask(path: Path, max_pixels: int | None) -> None:
    """A shared mask that cannot work would fail every file: say so once, up front."""
    from inpaint_studio.core import io
    from inpaint_studio.core.mask_ops import check_mask_usable

    require_file(path, "mask")
    mask = io.load_mask(path, None, max_pixels=max_pixels)
    check_mask_usable(mask, mask.shape[:2])


def _mask_path(item: BatchItem, finder: MaskFinder | None, args: argparse.Namespace) -> Path:
    if finder is None:
        return Path(args.mask)
    mask_path = finder.find(item.rel, item.source)
    if mask_path is None:
        where = " or ".join(str(f) for f in finder.folders(item.rel))
        raise InvalidInputError(
            f"no mask found (looked for {item.rel.stem}.png, {item.rel.stem}_mask.png "
            f"or {item.rel.stem}.<ext> in {where})")
    return mask_path


def _check_targets(item: BatchItem, args: argparse.Namespace) -> None:
    if not args.overwrite:
        for target in [item.output, sidecar_path(item.output)] if args.record else [item.output]:
            if target.exists():
                raise OverwriteRefusedError(f"{target} already exists; pass --overwrite to replace it")


def _restore_one(item: BatchItem, setup: Any, args: argparse.Namespace, progress: ProgressLine) -> None:
    from inpaint_studio.cli.detect_cmd import infrared_of
    from inpaint_studio.cli.restore_cmd import restore_pixels, save_kwargs
    from inpaint_studio.core import io

    _check_targets(item, args)
    photo = io.load_photo(item.source, max_pixels=args.max_pixels)
    infrared = infrared_of(photo, args, item.rel.as_posix(), notes=False)
    result, _mask = restore_pixels(photo, setup, infrared=infrared, source_name=item.source.name,
                                   progress=progress)
    item.output.parent.mkdir(parents=True, exist_ok=True)
    io.save_photo(photo.with_pixels(result.pixels), item.output, **save_kwargs(args))
    if args.record:
        write_record(result, item.output)


def _fill_one(item: BatchItem, mask_path: Path, *, method_cls: type, params: Any, device: str,
              args: argparse.Namespace, progress: ProgressLine) -> None:
    from inpaint_studio.core import io
    from inpaint_studio.core.mask_ops import check_mask_usable

    _check_targets(item, args)
    photo = io.load_photo(item.source, max_pixels=args.max_pixels)
    shape = photo.pixels.shape[:2]
    mask = io.load_mask(mask_path, shape, max_pixels=args.max_pixels)
    check_mask_usable(mask, shape)
    result = fill_pixels(photo.pixels, mask, method=method_cls.name, params=params, seed=args.seed,
                         device=device, source_name=item.source.name, progress=progress)
    item.output.parent.mkdir(parents=True, exist_ok=True)
    save_kwargs: dict[str, Any] = {"bit_depth": args.bit_depth, "overwrite": args.overwrite}
    if args.jpeg_quality is not None:
        save_kwargs["jpeg_quality"] = args.jpeg_quality
    io.save_photo(photo.with_pixels(result.pixels), item.output, **save_kwargs)
    if args.record:
        write_record(result, item.output)


def run(args: argparse.Namespace) -> int:
    restoring = bool(getattr(args, "restore", False))
    setup = None
    if restoring:
        from inpaint_studio.cli.restore_cmd import check_restore_options

        setup = check_restore_options(args)
    method_cls, params, device = check_common_options(args)
    exts = supported_extensions()
    if any(sep in args.suffix for sep in ("/", "\\", os.sep)):
        raise InvalidParameterError(f"--suffix is added to file names and cannot contain a path separator: "
                                    f"{args.suffix!r}")
    if args.mask is not None:
        _check_shared_mask(Path(args.mask), args.max_pixels)
    items, finder = _plan(args, exts)
    if not items:
        print_error(f"nothing to do: no {'/'.join(sorted(exts))} files in {args.input_dir}"
                    + ("" if args.recursive else " (use --recursive for sub-folders)"))
        return 2

    progress = ProgressLine(enabled=False if args.quiet else None)
    log_lines = not args.quiet and not progress.enabled  # a log or pipe gets one line per file
    notes = setup.notes if setup is not None else [n for n in [device_note(method_cls, device)] if n]
    for note in notes:
        if not args.quiet:
            progress.message(f"{PROG}: {note}")
    Path(args.output).mkdir(parents=True, exist_ok=True)

    verb = "restored" if setup is not None else "filled"
    filled: list[BatchItem] = []
    failed: list[tuple[BatchItem, str]] = []
    cancelled = False
    total = len(items)
    for index, item in enumerate(items, 1):
        tag = f"[{index}/{total}] {item.rel.as_posix()}"
        progress.set_prefix(tag)
        progress.update(0.0, "loading", force=True)
        try:
            if setup is not None:
                _restore_one(item, setup, args, progress)
            else:
                _fill_one(item, _mask_path(item, finder, args), method_cls=method_cls, params=params,
                          device=device, args=args, progress=progress)
        except (FillCancelled, KeyboardInterrupt):
            cancelled = True
            break
        except InpaintStudioError as err:
            reason = one_line(str(err))
        except Exception as exc:  # one broken file must not end the batch
            if args.debug:
                progress.clear()
                traceback.print_exc()
            reason = one_line(f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            filled.append(item)
            if log_lines:
                print(f"{tag}: {verb} -> {item.output}", file=sys.stderr, flush=True)
            continue
        failed.append((item, reason))
        if not args.quiet:
            progress.message(f"{tag}: failed: {reason}")
    progress.clear()

    head = f"{len(filled)} {verb}, {len(failed)} failed"
    if cancelled:
        head = f"cancelled: {head}, {total - len(filled) - len(failed)} not done"
    print(head)
    for item, reason in failed:
        print(f"  {item.rel.as_posix()}: {reason}")
    if cancelled:
        return EXIT_CANCELLED
    return 1 if failed else 0
