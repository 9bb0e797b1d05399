"""The ``inpaint-studio`` command: fill, detect, restore, batch, methods, models, gui.

argparse (stdlib) rather than click/typer: a handful of commands need no framework, and every import
here is paid again on each ``fill`` the benchmark harness times. This module imports nothing
heavy; each command imports numpy, OpenCV, the runtime (and, for ``gui``, Qt) only when it runs.

Library code raises typed errors and never exits; this is the one place that turns them into
one stderr line and an exit code: 0 ok, 2 bad input, 1 other failure, 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import inpaint_studio
from inpaint_studio.cli import models_cmd
from inpaint_studio.cli.common import EXIT_CANCELLED, PROG, print_error, print_note
from inpaint_studio.core.errors import FillCancelled, InpaintStudioError
from inpaint_studio.methods import DEFAULT_METHOD

COMMANDS = ("fill", "detect", "restore", "batch", "methods", "models", "gui")

_EPILOG = """\
exit status: 0 success, 1 failure (for batch: some files failed), 2 bad input or nothing to do,
3 no display for the window, 130 cancelled with Ctrl+C (nothing is written for the file being filled).

examples:
  inpaint-studio fill photo.jpg mask.png -o clean.jpg
  inpaint-studio fill scan.tif scratches.png -o fixed.tif --method ns --param radius=5 --record
  inpaint-studio detect scan.tif -o damage.png --kind dust --sensitivity 0.7
  inpaint-studio restore scan.tif -o restored.tif --save-mask damage.png
  inpaint-studio restore scan.tif -o restored.tif --mask damage.png --large-method criminisi
  inpaint-studio batch scans/ -o fixed/ --masks masks/ --suffix _fixed
  inpaint-studio batch scans/ -o restored/ --restore --kind all
  inpaint-studio methods --json
  inpaint-studio models list
"""

_RECORD_HELP = ("also write a provenance record next to each output, OUT + '.json' "
                "(out.png -> out.png.json): method, parameters, seed, device, library versions, "
                "SHA-256 of the input pixels and mask")


def _common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-q", "--quiet", action="store_true", help="no progress bar or notes, errors only")
    parent.add_argument("--debug", action="store_true", help="print tracebacks of errors (for bug reports)")
    return parent


def _method_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("method")
    group.add_argument("-m", "--method", default=DEFAULT_METHOD, metavar="NAME",
                       help=f"inpainting method (default: {DEFAULT_METHOD}, content-aware fill, as in "
                            "the editor; see 'inpaint-studio methods')")
    group.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                       help="method parameter, repeatable, e.g. --param radius=5")
    return parent


def _fill_options() -> argparse.ArgumentParser:
    """Seed, device and output options: what every command that writes a filled photo takes."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("run")
    group.add_argument("--seed", type=int, default=0, help="random seed for methods that draw random numbers "
                       "(same input, parameters and seed give the same result; default 0)")
    group.add_argument("--device", default="auto", metavar="auto|cpu|cuda|cuda:N|mps",
                       help="compute device for PyTorch methods (default auto: CUDA, then MPS, then CPU; "
                            "an unavailable GPU falls back to the CPU with a note)")
    out = parent.add_argument_group("output")
    out.add_argument("--record", action="store_true", help=_RECORD_HELP)
    out.add_argument("--overwrite", action="store_true",
                     help="allow replacing existing files, including the input photo itself")
    out.add_argument("--jpeg-quality", type=int, metavar="Q", help="JPEG/WebP quality 1-100 (default 95)")
    out.add_argument("--bit-depth", type=int, choices=(8, 16),
                     help="bits per channel of the output (default: as the input)")
    out.add_argument("--max-pixels", type=int, metavar="N",
                     help="refuse images larger than N pixels (default: $INPAINT_STUDIO_MAX_PIXELS or the "
                          "built-in limit)")
    return parent


def _detect_options(parser: argparse.ArgumentParser, title: str) -> None:
    group = parser.add_argument_group(title)
    group.add_argument("--kind", choices=("scratches", "dust", "all"), default="all",
                       help="what to look for (default: all)")
    group.add_argument("--sensitivity", type=float, default=0.5, metavar="S",
                       help="0-1, higher finds fainter damage and more false alarms (default 0.5)")
    group.add_argument("--min-size", type=int, default=1, metavar="N",
                       help="smallest defect kept, pixels across (default 1)")
    group.add_argument("--max-size", type=int, default=15, metavar="N",
                       help="widest scratch / largest speck, pixels across (default 15)")
    group.add_argument("--dust-finder", choices=("classic", "learned"), default="learned",
                       help="learned: a classifier fitted to this photo (default; 5-15 s more, about twice "
                            "the dust precision on synthetic dust); classic: filters and tests, instant")
    group.add_argument("--scratch-finder", choices=("classic", "learned", "verified"), default="classic",
                       help="classic: line filter and tests (default); learned: the same line candidates "
                            "judged by a classifier fitted to this photo (about 12 s more per photo; on "
                            "synthetic scratches a little more precision and recall, but on real cracked "
                            "prints it can miss cracks that classic finds); verified: classic's lines, "
                            "each dropped if that classifier rejects it (fewer false alarms on real "
                            "structure on colour photos, 10-30 s more per photo)")
    group.add_argument("--ir-threshold", type=float, metavar="T",
                       help="0-1 sensitivity of the infrared dust channel, used automatically when IMAGE "
                            "is a 4-channel RGBI scan (Digital ICE, VueScan); higher finds fainter specks "
                            "(default 0.5)")
    group.add_argument("--no-infrared", action="store_true",
                       help="ignore a scan's infrared channel and look at the picture only")


def _restore_options(parser: argparse.ArgumentParser, title: str) -> None:
    group = parser.add_argument_group(title)
    group.add_argument("--thin-method", default="telea", metavar="NAME",
                       help="method for hairlines and specks up to --hairline-width across (default: telea)")
    group.add_argument("--large-method", default="patchmatch", metavar="NAME",
                       help="method for wider damage (default: patchmatch)")
    group.add_argument("--thin-param", action="append", default=[], metavar="KEY=VALUE",
                       help="parameter of the thin method, repeatable")
    group.add_argument("--large-param", action="append", default=[], metavar="KEY=VALUE",
                       help="parameter of the large method, repeatable")
    group.add_argument("--hairline-width", type=int, default=6, metavar="PX",
                       help="damage masked at most this many pixels across (the mask includes a pixel of "
                            "margin on each side) goes to the thin method, the rest to the large one "
                            "(default 6)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Remove things from photos: brush a mask, pick a method, fill. "
        "Without a command, opens the window.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {inpaint_studio.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common, method_opts, fill_opts = _common_options(), _method_options(), _fill_options()

    p = sub.add_parser("fill", parents=[common, method_opts, fill_opts],
                       help="fill the masked part of one photo",
                       description="Fill the part of IMAGE that MASK marks (white = fill) and write OUT. "
                       "OUT's extension picks its format; metadata (ICC profile, EXIF) is kept.")
    p.add_argument("image", metavar="IMAGE", help="the photo")
    p.add_argument("mask", metavar="MASK",
                   help="the mask: same size as IMAGE, white (255) = fill, black = keep")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write (never the input, "
                   "never an existing file, unless --overwrite)")
    p.add_argument("--sampling-mask", metavar="PATH",
                   help="only take patches from the white part of this mask (same size as IMAGE; "
                        "methods that copy patches honour it, others ignore it)")

    d = sub.add_parser("detect", parents=[common], help="find scratches and dust, write them as a mask",
                       description="Find scratches, hairs and dust specks on a scanned photo and write "
                       "them as an 8-bit PNG mask (255 = damage, grey = less sure), ready to edit and to "
                       "use with 'fill' or 'restore --mask'.")
    d.add_argument("image", metavar="IMAGE", help="the photo")
    d.add_argument("-o", "--output", required=True, metavar="MASK",
                   help="PNG mask to write (never an existing file unless --overwrite)")
    _detect_options(d, "detection")
    d.add_argument("--overwrite", action="store_true", help="allow replacing an existing MASK")
    d.add_argument("--max-pixels", type=int, metavar="N", help="refuse images larger than N pixels")

    r = sub.add_parser("restore", parents=[common, fill_opts], help="find and remove scratches and dust",
                       description="Find the scratches and dust on IMAGE (or take them from --mask) and "
                       "fill them: hairlines and specks with a fast diffusion method, wider damage with "
                       "a patch-based one, in one pass. Metadata and bit depth are kept as by 'fill'.")
    r.add_argument("image", metavar="IMAGE", help="the photo")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write (never the input, "
                   "never an existing file, unless --overwrite)")
    r.add_argument("--mask", metavar="MASK", help="fill this mask (white = damage) instead of detecting")
    r.add_argument("--save-mask", metavar="MASK", help="also write the damage mask used, as PNG")
    _detect_options(r, "detection (without --mask)")
    _restore_options(r, "restore")

    b = sub.add_parser("batch", parents=[common, method_opts, fill_opts], help="fill every photo of a folder",
                       description="Fill every supported image in INPUT_DIR (with --restore: find and fill "
                       "its scratches and dust) and write it, same name and "
                       "format, to OUTPUT_DIR. A file that fails is reported and skipped; the summary lists "
                       "every failure. Exit 0 all filled, 1 some failed, 2 nothing to do.")
    b.add_argument("input_dir", metavar="INPUT_DIR")
    b.add_argument("-o", "--output", required=True, metavar="OUTPUT_DIR", help="created if missing")
    masks = b.add_mutually_exclusive_group(required=True)
    masks.add_argument("--masks", metavar="MASK_DIR",
                       help="per-photo masks: for photo.jpg, MASK_DIR/photo.png, photo_mask.png or "
                            "photo.<any image extension>")
    masks.add_argument("--mask", metavar="MASK_FILE", help="one mask for every photo (all the same size)")
    masks.add_argument("--restore", action="store_true",
                       help="no masks: detect each photo's scratches and dust and fill them as "
                            "'restore' does (--method/--param are then not used)")
    b.add_argument("--suffix", default="", metavar="TEXT", help="add TEXT to output names: photo.jpg -> "
                   "photo<TEXT>.jpg")
    b.add_argument("-r", "--recursive", action="store_true",
                   help="include sub-folders (their structure is mirrored in OUTPUT_DIR and MASK_DIR)")
    _detect_options(b, "detection (with --restore)")
    _restore_options(b, "restore (with --restore)")

    m = sub.add_parser("methods", parents=[common], help="list the inpainting methods and their parameters")
    m.add_argument("--json", action="store_true", help="machine-readable output")

    models_cmd.add_parser(sub, common)

    g = sub.add_parser("gui", parents=[common], help="open the window (the default without a command)")
    g.add_argument("file", nargs="?", metavar="FILE", help="photo to open")
    return parser


def _normalize_argv(argv: list[str]) -> list[str]:
    """``inpaint-studio photo.jpg`` opens the photo in the window, as file managers call it."""
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-") and Path(argv[0]).exists():
        return ["gui", *argv]
    return argv


def _run(args: argparse.Namespace) -> int:
    if args.command == "fill":
        from inpaint_studio.cli import fill

        return fill.run(args)
    if args.command == "detect":
        from inpaint_studio.cli import detect_cmd

        return detect_cmd.run(args)
    if args.command == "restore":
        from inpaint_studio.cli import restore_cmd

        return restore_cmd.run(args)
    if args.command == "batch":
        from inpaint_studio.cli import batch

        return batch.run(args)
    if args.command == "methods":
        from inpaint_studio.cli import methods_cmd

        return methods_cmd.run(args)
    if args.command == "models":
        return models_cmd.run(args)
    from inpaint_studio.cli.gui_launch import launch_gui

    return launch_gui(getattr(args, "file", None))


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and ``python -m inpaint_studio``; returns the exit code."""
    argv = _normalize_argv(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse has printed them
        return _exit_code(exc.code)
    debug = getattr(args, "debug", False)
    try:
        return _run(args)
    except (KeyboardInterrupt, FillCancelled):
        print_note("cancelled; nothing was written for the file being filled")
        return EXIT_CANCELLED
    except InpaintStudioError as err:
        if debug:
            traceback.print_exc()
        print_error(str(err))
        return err.exit_code
    except BrokenPipeError:  # `inpaint-studio methods | head`: the reader left, not an error of ours
        _silence_stdout()
        return 1
    except MemoryError:
        if debug:
            traceback.print_exc()
        print_error("not enough memory for this image (run with --debug for details)")
        return 1
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print_error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)")
        return 1


def _silence_stdout() -> None:
    """Stop Python's exit-time flush from raising BrokenPipeError a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
