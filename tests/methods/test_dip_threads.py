"""DIP fast: the fit uses only the cores other programs leave free; the caller's count is restored."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from inpaint_studio.methods.dip import threads
from inpaint_studio.methods.dip.threads import fit_threads


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


def test_the_fit_runs_on_the_chosen_threads_and_restores_the_count(monkeypatch):
    torch = pytest.importorskip("torch")
    from inpaint_studio.methods.dip import fit as fit_module

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen = []
    monkeypatch.setattr(fit_module, "fit_threads", lambda current: 1)
    monkeypatch.setattr(fit_module, "fit_on", lambda *a, **k: seen.append(torch.get_num_threads()))
    try:
        fit_module.fit(None, None, None, None, None)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
