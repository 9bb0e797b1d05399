"""DIP and SIREN fits use only the cores other programs leave free; the caller's count is restored."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from inpaint_studio.methods import torch_threads as threads
from inpaint_studio.methods.base import make_params
from inpaint_studio.methods.torch_threads import fit_threads
from tests.methods.method_support import RecordingContext


def test_the_fit_takes_the_cores_other_programs_leave_free():
    assert fit_threads(2, others=lambda: 1.0, cores=lambda: 2) == 1
    assert fit_threads(2, others=lambda: 5.3, cores=lambda: 2) == 1, "never fewer than one"
    assert fit_threads(2, others=lambda: 0.2, cores=lambda: 2) == 2, "an idle machine keeps them all"
    assert fit_threads(8, others=lambda: 2.0, cores=lambda: 8) == 6
    assert fit_threads(3, others=lambda: 0.0, cores=lambda: 8) == 3, "never more than the caller asked"


def test_unknown_load_keeps_the_threads():
    def unavailable() -> float:
        raise OSError("no /proc")

    assert fit_threads(3, others=unavailable, cores=lambda: 2) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_busy_program_counts_and_this_process_own_threads_do_not():
    # this test's own (running) thread is not "another program"
    quiet = threads.others_running()
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = threads.others_running()
    finally:
        spin.kill()
        spin.wait()
    assert busy >= 1.0, (quiet, busy)
    assert busy >= quiet + 0.6 or quiet >= 1.0, (quiet, busy)


class _ThreadsContext(RecordingContext):
    """Records torch's thread count at every iteration's progress report."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def progress(self, fraction: float, text: str = "") -> None:
        import torch

        super().progress(fraction, text)
        if "iter" in text:
            self.threads.append(torch.get_num_threads())


@pytest.mark.parametrize("method", ["dip", "siren"])
def test_the_fit_runs_on_the_chosen_threads_and_restores_the_count(monkeypatch, method):
    torch = pytest.importorskip("torch")
    from inpaint_studio.methods import registry

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "fit_threads", lambda current: 1)
    image = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    hole = np.zeros((40, 40), bool)
    hole[15:25, 15:25] = True
    impl = registry.get(method)
    ctx = _ThreadsContext()
    try:
        impl.run(image, hole, make_params(impl.Params, {"iterations": 3}), ctx)
        assert ctx.threads and set(ctx.threads) == {1}, ctx.threads
        assert torch.get_num_threads() == 2, "the caller's count is restored"
    finally:
        torch.set_num_threads(before)
