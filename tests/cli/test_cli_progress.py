"""The terminal progress line: drawn in place on a terminal, silent in logs and pipes."""

from __future__ import annotations

import io

from inpaint_studio.cli.progress import ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressLine(stream)
    bar.update(0.5, "half", force=True)
    bar.clear()
    assert stream.getvalue() == ""
    bar.message("a failure line still shows")
    assert stream.getvalue() == "a failure line still shows\n"


def test_progress_redraws_one_line_and_messages_clear_it() -> None:
    stream = _Terminal()
    bar = ProgressLine(stream, min_interval=0.0)
    bar.set_prefix("[1/2] a.png")
    bar.update(0.25, "telea", eta_s=75)
    bar.update(1.0, "done")
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") == 2
    assert "[1/2] a.png" in text and " 25%" in text and "ETA 1m15s" in text and "100%" in text
    bar.message("[1/2] a.png: failed: corrupt")
    assert stream.getvalue().endswith("\r\x1b[K[1/2] a.png: failed: corrupt\n")


def test_progress_can_be_disabled_on_a_terminal() -> None:
    stream = _Terminal()
    bar = ProgressLine(stream, enabled=False)
    bar.update(0.5, force=True)
    assert stream.getvalue() == ""
