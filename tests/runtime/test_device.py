"""Device choice: every GPU request falls back to the CPU with a reason; junk is refused."""

from __future__ import annotations

import os

import pytest
import torch

from inpaint_studio.core.errors import InvalidParameterError
from inpaint_studio.runtime.device import (
    CPU_ONLY_REASON,
    choose_device,
    configure_torch_threads,
    device_for_method,
)

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="describes a machine without CUDA")


@pytest.fixture
def no_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_auto_uses_the_cpu_without_a_gpu(no_mps: None) -> None:
    choice = choose_device("auto")
    assert choice.device == "cpu"
    assert choice.reason == "no CUDA or MPS device found: using the CPU"


@pytest.mark.parametrize("wanted", ["cuda", "cuda:0", "cuda:1", "mps", " CUDA "])
def test_an_unavailable_gpu_falls_back_to_the_cpu_and_says_so(no_mps: None, wanted: str) -> None:
    choice = choose_device(wanted)
    assert choice.device == "cpu"
    assert "not available" in choice.reason
    assert wanted.strip().lower() in choice.reason


@pytest.mark.parametrize("junk", ["gpu", "cuda:x", "cuda:-1", "", "cpu0", "tpu"])
def test_junk_preferences_are_refused(junk: str) -> None:
    with pytest.raises(InvalidParameterError, match="unknown device"):
        choose_device(junk)


def test_junk_is_refused_even_for_a_method_that_ignores_the_device() -> None:
    with pytest.raises(InvalidParameterError):
        device_for_method(False, "gpu")


def test_cpu_is_honoured() -> None:
    assert choose_device("cpu").device == "cpu"


def test_cuda_is_chosen_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake RTX")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    auto = choose_device("auto")
    assert auto.device == "cuda"
    assert auto.reason == "CUDA GPU: Fake RTX"
    assert choose_device("cuda:0").device == "cuda:0"
    missing = choose_device("cuda:3")
    assert missing.device == "cpu"
    assert "only 1 CUDA device" in missing.reason


def test_mps_is_chosen_when_cuda_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device("auto").device == "mps"
    assert choose_device("mps").device == "mps"


def test_a_broken_driver_counts_as_no_gpu(monkeypatch: pytest.MonkeyPatch, no_mps: None) -> None:
    def broken() -> bool:
        raise RuntimeError("CUDA driver initialization failed")

    monkeypatch.setattr(torch.cuda, "is_available", broken)
    assert choose_device("auto").device == "cpu"


def test_methods_without_torch_run_on_the_cpu_whatever_was_asked() -> None:
    choice = device_for_method(False, "cuda")
    assert choice.device == "cpu"
    assert choice.reason == CPU_ONLY_REASON


def test_torch_threads_leave_one_core_for_the_gui() -> None:
    count = configure_torch_threads()
    assert count == max(1, (os.cpu_count() or 1) - 1)
    assert torch.get_num_threads() == count
