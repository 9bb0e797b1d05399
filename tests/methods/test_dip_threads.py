"""DIP fast: one torch thread while the machine is busy, the caller's thread count restored after."""

from __future__ import annotations

import pytest

from inpaint_studio.methods.dip.threads import fit_threads


def test_one_thread_when_the_load_reaches_the_core_count():
    assert fit_threads(2, load=lambda: 2.0, cores=lambda: 2) == 1
    assert fit_threads(2, load=lambda: 5.3, cores=lambda: 2) == 1
    assert fit_threads(2, load=lambda: 1.9, cores=lambda: 2) == 2
    assert fit_threads(4, load=lambda: 0.0, cores=lambda: 8) == 4


def test_no_load_average_keeps_the_threads():
    def unavailable() -> float:
        raise OSError("no load average")

    assert fit_threads(3, load=unavailable, cores=lambda: 2) == 3


def test_the_fit_runs_on_one_thread_when_busy_and_restores_the_count(monkeypatch):
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
