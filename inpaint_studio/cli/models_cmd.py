"""``inpaint-studio models [list|download NAME|import NAME FILE...|remove NAME|path]``: network weights.

Weights live in one visible folder (``models path``); every file is verified (keys and shapes against
the network, safe unpickling) before it takes its name there, and its SHA-256 is shown here and
recorded with every fill that uses it. Licences are the authors' own words; non-commercial ones are
flagged in the list. Most authors publish on Google Drive, which a program cannot download from:
those entries print the page to open in a browser, then ``models import`` installs the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inpaint_studio.cli.common import PROG, print_note

ACTIONS = ("list", "download", "import", "remove", "path")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``models`` command on the main parser's subparsers."""
    m = sub.add_parser(
        "models", help="list, download, import or remove network weights",
        description="Manage the weights of the learned methods (LaMa, MI-GAN, DeepFill v2, ...). "
        "Without an action: list.")
    actions = m.add_subparsers(dest="models_action", metavar="ACTION")
    ls = actions.add_parser("list", parents=[common], help="every known network: installed or missing, size, "
                            "licence, SHA-256 (the default action)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    dl = actions.add_parser("download", parents=[common], help="download NAME's weights (resumes a partial "
                            "download; Ctrl+C keeps the partial file)")
    dl.add_argument("name", metavar="NAME")
    im = actions.add_parser("import", parents=[common], help="install weights file(s) you already have "
                            "(verified, then copied; your file is left alone)")
    im.add_argument("name", metavar="NAME")
    im.add_argument("files", nargs="+", metavar="FILE",
                    help="the weights file (CSA: its net_P and net_G files)")
    rm = actions.add_parser("remove", parents=[common], help="delete NAME's weights from the folder")
    rm.add_argument("name", metavar="NAME")
    actions.add_parser("path", parents=[common], help="print the weights folder (to open or clear it)")


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def _rows() -> list[dict[str, Any]]:
    from inpaint_studio.runtime import catalogue, weights

    rows = []
    for name, entry in catalogue.CATALOGUE.items():
        parts = weights.installed_parts(name)
        rows.append({
            "name": name, "label": entry.label, "installed": parts is not None,
            "file_names": [p.file_name for p in entry.parts],
            "files": [p.to_json() | {"path": str(p.path)} for p in parts or ()],
            "size": sum(p.size for p in parts) if parts else None,
            "licence": entry.licence, "licence_flag": entry.licence_flag,
            "non_commercial": entry.non_commercial, "paper": entry.paper,
            "page_url": entry.page_url, "direct_url": entry.direct_url, "note": entry.note,
        })
    return rows


def _list(args: argparse.Namespace) -> int:
    from inpaint_studio.runtime.weights import models_dir

    rows = _rows()
    if getattr(args, "json", False):
        print(json.dumps({"folder": str(models_dir()), "models": rows}, indent=2))
        return 0
    print(f"weights folder: {models_dir()}")
    for row in rows:
        state = "installed" if row["installed"] else "missing"
        print(f"\n{row['name']}  -  {row['label']}  [{state}]  {_size(row['size'])}")
        print(f"    licence: {row['licence']}  ({row['licence_flag']})")
        for f in row["files"]:
            print(f"    {f['file']}  sha256 {f['sha256']}")
        if not row["installed"]:
            how = (f"{PROG} models download {row['name']}" if row["direct_url"]
                   else f"get {' + '.join(row['file_names'])} from {row['page_url']}, then "
                        f"{PROG} models import {row['name']} {' '.join('FILE' for _ in row['file_names'])}")
            print(f"    to install: {how}")
            if row["note"]:
                print(f"    note: {row['note']}")
    return 0


def _download(args: argparse.Namespace) -> int:
    from inpaint_studio.cli.common import ctrl_c_cancels
    from inpaint_studio.cli.progress import ProgressLine
    from inpaint_studio.runtime.context import CancelToken
    from inpaint_studio.runtime.installer import download

    bar = ProgressLine(enabled=False if args.quiet else None)

    def progress(done: int, total: int | None) -> None:
        fraction = done / total if total else 0.0
        bar.update(fraction, f"{_size(done)}" + (f" of {_size(total)}" if total else ""))

    cancel = CancelToken()
    try:
        with ctrl_c_cancels(cancel):
            parts = download(args.name, progress=progress, cancel=cancel)
    finally:
        bar.clear()
    _report_installed(args, parts)
    return 0


def _report_installed(args: argparse.Namespace, parts: list[Any]) -> None:
    from inpaint_studio.runtime.catalogue import entry

    weights = entry(args.name)
    for part in parts:
        print(f"installed {part.path} ({_size(part.size)})")
        print(f"sha256 {part.sha256}")
    if weights.non_commercial is not False and not getattr(args, "quiet", False):
        print_note(f"licence of {weights.label}: {weights.licence} ({weights.licence_flag})")


def _import(args: argparse.Namespace) -> int:
    from inpaint_studio.runtime.installer import import_files

    _report_installed(args, import_files(args.name, args.files))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from inpaint_studio.runtime.weights import remove

    removed = remove(args.name)
    if not removed:
        print_note(f"{args.name}: nothing installed, nothing removed")
        return 0
    for path in removed:
        print(f"removed {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "models_action", None) or "list"
    if action == "path":
        from inpaint_studio.runtime.weights import models_dir

        print(models_dir())
        return 0
    handler = {"list": _list, "download": _download, "import": _import, "remove": _remove}[action]
    code = handler(args)
    sys.stdout.flush()
    return code
