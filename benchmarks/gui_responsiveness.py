"""How responsive the window stays on a 24 MP photo (a benchmark, not a test).

Measures, on the real MainWindow (offscreen by default):
1. the GUI thread's longest stall while a long fill runs: a 1 ms QTimer records the largest gap
   between its ticks, for (a) a Telea fill of several strokes and (b) an iterative method sending a
   preview every step (previews are converted and painted on the GUI thread);
   the stall is reported for the whole job and for the job without its first/last 0.5 s
   (submitting and landing the result are GUI-thread work by design);
2. brush-stroke latency: time to handle one mouse-move segment of a drag *and* repaint the canvas
   (``repaint()`` is synchronous), at fit-to-window and at 100 %;
3. the stall while a 24 MP PNG opens (decoded off the GUI thread, then shown);
4. after the Telea fill: the first and second repaint with compare ("hold") on (the original tiles
   are fetched from the document and converted when first drawn, not when the fill lands);
5. a 16-bit 24 MP photo opened into the document: the GUI stall until its 8-bit display levels are
   ready (they are built on a pool thread; the canvas samples the source meanwhile).

Usage (repo root, venv active):
    QT_QPA_PLATFORM=offscreen python benchmarks/gui_responsiveness.py [--megapixels 24] [--out FILE]
Goal: stall < 50 ms, stroke < 16 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INPAINT_STUDIO_HOME", tempfile.mkdtemp(prefix="inpaint-bench-home-"))

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from inpaint_studio.core import io
from inpaint_studio.core.photo import Photo
from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, RunContext, param


class StallMeter:
    """A 1 ms timer on the GUI thread; the largest gap between ticks is the longest freeze."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.ticks: list[float] = []

    def start(self) -> None:
        self.ticks = []
        self.clock.start()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        self.ticks.append(self.clock.nsecsElapsed() / 1e6)

    def worst_at(self) -> float:
        """When (ms after start) the longest gap began."""
        gaps = [(b - a, a) for a, b in zip(self.ticks, self.ticks[1:], strict=False)]
        return max(gaps)[1] if gaps else float("nan")

    def max_gap(self, skip_ms: float = 0.0) -> float:
        if len(self.ticks) < 2:
            return float("nan")
        end = self.ticks[-1]
        gaps = [b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)
                if a >= skip_ms and b <= end - skip_ms]
        return max(gaps) if gaps else float("nan")


def synthetic_photo(megapixels: float, seed: int = 0) -> np.ndarray:
    height = round((megapixels * 1e6 / 1.5) ** 0.5)
    width = round(height * 1.5)
    rng = np.random.default_rng(seed)
    yy = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    xx = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    pixels = np.empty((height, width, 3), np.uint8)
    noise = rng.integers(0, 24, (height, width), dtype=np.uint8)
    pixels[..., 0] = (xx * 0.8 + yy * 0.2).astype(np.uint8) + noise // 2
    pixels[..., 1] = (yy * 0.7).astype(np.uint8) + noise // 3
    pixels[..., 2] = (255 - xx * 0.6).astype(np.uint8) // 2 + noise // 2
    return pixels


def pump_until(app: QApplication, done: Callable[[], bool], timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        app.processEvents()
        time.sleep(0.0005)
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")


@dataclass(frozen=True)
class _SlowParams:
    steps: int = param(60, min=1, max=100_000, help="iterations")


class PreviewEveryStep(Method):
    """A stand-in iterative method: ~25 ms of work per step and a preview after each one."""

    name = "bench_preview"
    label = "Preview every step (benchmark)"
    description = "benchmark only"
    Params: ClassVar[type] = _SlowParams
    iterative = True

    def run(self, image: np.ndarray, hole: np.ndarray, params: Any, ctx: RunContext) -> np.ndarray:
        out = image.copy()
        for step in range(params.steps):
            ctx.check_cancelled()
            time.sleep(0.025)
            out[hole] = (step % 10) / 10.0
            ctx.preview(out, f"iteration {step + 1}/{params.steps}")
            ctx.progress((step + 1) / params.steps, f"iteration {step + 1}/{params.steps}")
        return out


def stroke_mask(shape: tuple[int, int], rng: np.random.Generator, strokes: int = 6) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    height, width = shape
    for _ in range(strokes):
        top, left = int(rng.integers(0, height - 400)), int(rng.integers(0, width - 600))
        mask[top:top + 60, left:left + 500] = 255
        mask[top:top + 300, left + 200:left + 260] = 255
    return mask


def run_fill(app: QApplication, window: Any, method: str, meter: StallMeter) -> dict[str, float]:
    assert window.method_panel.select(method), method
    finished: list[Any] = []
    window.fills.fill_finished.connect(finished.append)
    meter.start()
    start = time.perf_counter()
    window.fills.start_fill()
    pump_until(app, lambda: bool(finished))
    elapsed = time.perf_counter() - start
    pump_until(app, lambda: time.perf_counter() - start > elapsed + 0.2)
    meter.stop()
    window.fills.fill_finished.disconnect(finished.append)
    status = finished[0].status
    if status != "done":
        raise RuntimeError(f"{method}: {finished[0].message}")
    return {"job_s": elapsed, "stall_ms": meter.max_gap(), "stall_mid_ms": meter.max_gap(500.0),
            "stall_at_s": meter.worst_at() / 1000}


def brush_latency(app: QApplication, window: Any, zoom: str, moves: int = 120) -> dict[str, float]:
    canvas = window.canvas
    if zoom == "fit":
        canvas.fit()
    else:
        canvas.actual_size()
    app.processEvents()
    window.tools.set_tool("brush")
    window.tools.brush_size = 60
    width, height = canvas.width(), canvas.height()
    y = height / 2
    xs = np.linspace(width * 0.2, width * 0.8, moves)

    def send(kind: QEvent.Type, x: float, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
        pos = QPointF(x, y)
        event = QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, event)

    left = Qt.MouseButton.LeftButton
    send(QEvent.Type.MouseButtonPress, xs[0], left, left)
    app.processEvents()
    times = []
    full = []
    for i, x in enumerate(xs[1:]):
        t0 = time.perf_counter()
        send(QEvent.Type.MouseMove, x, Qt.MouseButton.NoButton, left)
        app.processEvents()  # paints what the move invalidated (the canvas's own update rect)
        times.append((time.perf_counter() - t0) * 1000)
        if i % 10 == 0:  # worst case: the whole canvas repainted
            t0 = time.perf_counter()
            canvas.repaint()
            full.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    send(QEvent.Type.MouseButtonRelease, xs[-1], left, Qt.MouseButton.NoButton)
    app.processEvents()
    release_ms = (time.perf_counter() - t0) * 1000
    window.document.undo()
    app.processEvents()
    return {"median_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95)),
            "max_ms": max(times), "release_ms": release_ms, "full_repaint_ms": statistics.median(full)}


def landing(app: QApplication, window: Any, pixels: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """The GUI-thread part of landing a fill, timed directly: apply the edits (computed elsewhere, as
    FillController does on a pool thread) and repaint the canvas at fit."""
    from inpaint_studio.core.document import diff_edits
    from inpaint_studio.core.types import BBox

    window.canvas.fit()
    app.processEvents()
    current = window.document.pixels
    result = current.copy()
    result[mask > 0] = (128, 200, 60)
    edits = diff_edits("pixels", current, result, BBox.of_shape(current.shape))
    t0 = time.perf_counter()
    window.document.apply_edits("Fill", edits)
    applied = time.perf_counter()
    window.canvas.repaint()
    done = time.perf_counter()
    window.document.undo()
    app.processEvents()
    return {"apply_ms": (applied - t0) * 1000, "repaint_ms": (done - applied) * 1000, "edits": len(edits)}


def compare_repaint(app: QApplication, window: Any) -> dict[str, float]:
    canvas = window.canvas
    canvas.fit()
    app.processEvents()
    canvas.set_compare_mode("hold")
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        canvas.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    canvas.set_compare_mode("off")
    app.processEvents()
    return {"first_ms": times[0], "second_ms": times[1]}


def sixteen_bit_stall(app: QApplication, window: Any, pixels: np.ndarray, mask: np.ndarray,
                      meter: StallMeter) -> dict[str, float]:
    deep = pixels.astype(np.uint16) * 257
    canvas = window.canvas
    meter.start()
    start = time.perf_counter()
    window.document.open(Photo(pixels=deep), mask)
    canvas.repaint()  # the first paint
    first_paint = (time.perf_counter() - start) * 1000
    pump_until(app, lambda: getattr(canvas, "display_ready", True))
    ready = time.perf_counter() - start
    pump_until(app, lambda: time.perf_counter() - start > ready + 0.3)
    meter.stop()
    return {"first_paint_ms": first_paint, "ready_s": ready, "stall_ms": meter.max_gap()}


def open_stall(app: QApplication, window: Any, path: Path, meter: StallMeter) -> dict[str, float]:
    opened: list[Any] = []
    window.files.opened.connect(opened.append)
    meter.start()
    start = time.perf_counter()
    window.files.open_photo(path)
    pump_until(app, lambda: bool(opened))
    elapsed = time.perf_counter() - start
    pump_until(app, lambda: time.perf_counter() - start > elapsed + 0.3)
    meter.stop()
    return {"open_s": elapsed, "stall_ms": meter.max_gap()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--out", type=Path, default=None, help="append a Markdown report here")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from inpaint_studio.ui.main_window import MainWindow

    registry.register(PreviewEveryStep)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()

    pixels = synthetic_photo(args.megapixels)
    rng = np.random.default_rng(1)
    mask = stroke_mask(pixels.shape[:2], rng)
    window.document.open(Photo(pixels=pixels), mask)
    window.canvas.fit()
    app.processEvents()
    meter = StallMeter()
    height, width = pixels.shape[:2]
    lines = [f"photo: {width} x {height} ({width * height / 1e6:.1f} MP), mask "
             f"{np.count_nonzero(mask) / mask.size * 100:.2f} %, platform {QApplication.platformName()}"]

    telea = run_fill(app, window, "telea", meter)
    lines.append(f"Telea fill: job {telea['job_s']:.2f} s, GUI stall max {telea['stall_ms']:.1f} ms "
                 f"at {telea['stall_at_s']:.2f} s "
                 f"(excluding submit/land: {telea['stall_mid_ms']:.1f} ms)")
    compare = compare_repaint(app, window)
    lines.append(f"Compare (hold) after the fill: first repaint {compare['first_ms']:.1f} ms, "
                 f"second {compare['second_ms']:.1f} ms")
    window.document.undo()
    preview = run_fill(app, window, "bench_preview", meter)
    lines.append(f"Iterative fill, a preview every ~25 ms: job {preview['job_s']:.2f} s, GUI stall max "
                 f"{preview['stall_ms']:.1f} ms (excluding submit/land: {preview['stall_mid_ms']:.1f} ms)")
    window.document.undo()
    land = landing(app, window, pixels, mask)
    lines.append(f"Land a fill directly ({land['edits']} edits): apply_edits {land['apply_ms']:.1f} ms "
                 f"+ repaint at fit {land['repaint_ms']:.1f} ms")
    for zoom in ("fit", "100"):
        lat = brush_latency(app, window, zoom)
        lines.append(f"Brush move + repaint at {zoom}: median {lat['median_ms']:.1f} ms, "
                     f"p95 {lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms; release + repaint "
                     f"{lat['release_ms']:.1f} ms; whole-canvas repaint {lat['full_repaint_ms']:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.png"
        io.save_photo(Photo(pixels=pixels), path)
        window.document.mark_saved()
        opening = open_stall(app, window, path, meter)
        lines.append(f"Open a {args.megapixels:g} MP PNG: {opening['open_s']:.2f} s, GUI stall max "
                     f"{opening['stall_ms']:.1f} ms")

    window.document.mark_saved()
    deep = sixteen_bit_stall(app, window, pixels, mask, meter)
    lines.append(f"Open a 16-bit {args.megapixels:g} MP photo into the document: open + first paint "
                 f"{deep['first_paint_ms']:.1f} ms, display levels ready after {deep['ready_s']:.2f} s, "
                 f"GUI stall max {deep['stall_ms']:.1f} ms")

    for line in lines:
        print(line)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(f"- {line}" for line in lines) + "\n")
    window.document.mark_saved()
    window.close()
    registry.unregister(PreviewEveryStep.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
