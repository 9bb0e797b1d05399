"""A classical fill must not pay torch's import time (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from inpaint_studio.runtime.jobs import FillRequest, run_fill
    from inpaint_studio.runtime.worker import FillWorker

    pixels = np.full((32, 32, 3), 128, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[10:20, 10:20] = 255
    result = run_fill(FillRequest(pixels, mask, "telea", device="cuda"))
    assert result.ok, result.message
    assert "torch" not in result.provenance.versions, result.provenance.versions
    with FillWorker() as worker:
        assert worker.submit(FillRequest(pixels, mask, "ns")).result(timeout=30).ok
    print("torch" in sys.modules)
""")


def test_a_telea_fill_does_not_import_torch() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
