"""FillWorker: one thread, FIFO, cancellable, throttled callbacks, and nothing can kill it.

No timing assertions: waits are Events with generous timeouts, and "cancel was quick" is proven by
the fake method not having completed all its steps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from inpaint_studio.core.errors import FillCancelled, MethodFailedError
from inpaint_studio.core.regions import RegionOptions
from inpaint_studio.runtime.jobs import FillPreview, FillProgress, FillRequest, FillResult
from inpaint_studio.runtime.worker import FillJob, FillWorker
from tests.runtime.runtime_fakes import GateMethod, SlowMethod, TorchNoiseMethod, make_mask, make_photo

WAIT = 10.0


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


needs_cpu_only_machine = pytest.mark.skipif(_has_gpu(), reason="describes a machine without a GPU")


@pytest.fixture
def worker(fakes: None) -> Iterator[FillWorker]:
    with FillWorker() as w:
        yield w
    assert not w.is_alive


def request(method: str = "telea", params: dict | None = None, **kwargs: object) -> FillRequest:
    return FillRequest(make_photo(), make_mask(), method, params or {}, **kwargs)  # type: ignore[arg-type]


def test_a_job_runs_and_reports(worker: FillWorker) -> None:
    finished: list[FillResult] = []
    progress: list[FillProgress] = []
    job = worker.submit(request(), on_progress=progress.append, on_finished=finished.append)
    result = job.result(timeout=WAIT)
    assert job.done() and job.status == "done" and result.ok
    assert finished == [result]
    assert progress[0].fraction == 0.0 and progress[-1].fraction == 1.0
    assert worker.last_provenance is result.provenance


def test_cancelling_a_running_job_stops_it_at_the_next_check(worker: FillWorker) -> None:
    steps = 100_000
    started = threading.Event()

    def on_progress(event: FillProgress) -> None:
        if event.fraction > 0:
            started.set()

    job = worker.submit(request("test-slow", {"iterations": steps, "delay": 0.001}), on_progress=on_progress)
    assert started.wait(WAIT)
    assert job.status == "running"
    job.cancel()
    result = job.result(timeout=WAIT)
    assert result.status == "cancelled" and job.status == "cancelled"
    assert isinstance(result.error, FillCancelled)
    assert result.pixels is None
    assert len(SlowMethod.steps_done) == 1 and 0 < SlowMethod.steps_done[0] < steps


def test_previews_are_throttled_composited_and_never_after_finished(worker: FillWorker) -> None:
    steps = 60
    events: list[object] = []
    pixels, mask = make_photo(np.uint16), make_mask()
    job = worker.submit(
        FillRequest(pixels, mask, "test-slow", {"iterations": steps, "delay": 0.005}),
        on_preview=events.append, on_finished=events.append,
    )
    result = job.result(timeout=WAIT)
    assert result.ok
    previews = [e for e in events if isinstance(e, FillPreview)]
    assert events[-1] is result  # on_finished came last
    assert 1 <= len(previews) < steps // 2
    for preview in previews:
        assert preview.bbox == result.changed
        crop = pixels[preview.bbox.slices]
        keep = mask[preview.bbox.slices] == 0
        assert preview.pixels.dtype == np.uint16 and preview.pixels.shape == crop.shape
        assert np.array_equal(preview.pixels[keep], crop[keep])


def test_progress_is_throttled_but_ends_at_one(worker: FillWorker) -> None:
    steps = 400
    progress: list[FillProgress] = []
    job = worker.submit(request("test-slow", {"iterations": steps}), on_progress=progress.append)
    assert job.result(timeout=WAIT).ok
    assert 2 <= len(progress) < steps // 4
    assert progress[0].fraction == 0.0 and progress[-1].fraction == 1.0


def test_the_worker_survives_a_crashing_method(worker: FillWorker) -> None:
    bad = worker.submit(request("test-raise"))
    good = worker.submit(request())
    failed = bad.result(timeout=WAIT)
    assert failed.status == "failed" and bad.status == "failed"
    assert isinstance(failed.error, MethodFailedError) and "ValueError: boom" in failed.message
    assert good.result(timeout=WAIT).ok


def test_raising_callbacks_do_not_stop_the_job_or_the_worker(worker: FillWorker) -> None:
    def explode(_: object) -> None:
        raise RuntimeError("callback bug")

    first = worker.submit(request("test-slow", {"iterations": 5}),
                          on_progress=explode, on_preview=explode, on_finished=explode)
    assert first.result(timeout=WAIT).ok
    assert worker.submit(request()).result(timeout=WAIT).ok
    assert worker.is_alive


def test_jobs_run_in_submission_order(worker: FillWorker) -> None:
    order: list[str] = []
    blocker = worker.submit(request("test-gate"), on_finished=lambda r: order.append(r.request_id))
    assert GateMethod.started.wait(WAIT)
    jobs = [worker.submit(request(), on_finished=lambda r: order.append(r.request_id)) for _ in range(3)]
    assert all(job.status == "queued" for job in jobs)
    assert worker.pending == 4
    GateMethod.gate.set()
    for job in jobs:
        assert job.result(timeout=WAIT).ok
    assert order == [blocker.request_id] + [job.request_id for job in jobs]
    assert worker.pending == 0


def test_a_cancelled_queued_job_is_skipped_but_still_finished(worker: FillWorker) -> None:
    finished: list[FillResult] = []
    worker.submit(request("test-gate"))
    assert GateMethod.started.wait(WAIT)
    skipped = worker.submit(request("test-gate"), on_finished=finished.append)
    after = worker.submit(request())
    skipped.cancel()
    GateMethod.gate.set()
    result = skipped.result(timeout=WAIT)
    assert result.status == "cancelled" and finished == [result]
    assert after.result(timeout=WAIT).ok
    assert GateMethod.runs == 1  # the skipped job's method never ran


def test_result_times_out_while_the_job_is_busy(worker: FillWorker) -> None:
    job = worker.submit(request("test-gate"))
    with pytest.raises(TimeoutError):
        job.result(timeout=0.01)
    GateMethod.gate.set()
    assert job.result(timeout=WAIT).ok


def test_the_result_is_available_inside_on_finished(worker: FillWorker) -> None:
    seen: list[FillResult] = []
    job = worker.submit(request(), on_finished=lambda r: seen.append(job.result(timeout=0)))
    assert job.result(timeout=WAIT).ok
    assert seen == [job.result()]


def test_shutdown_cancels_pending_work_and_stops_the_thread(fakes: None) -> None:
    finished: list[FillResult] = []
    worker = FillWorker()
    running = worker.submit(request("test-gate"), on_finished=finished.append)
    assert GateMethod.started.wait(WAIT)
    queued = worker.submit(request(), on_finished=finished.append)
    worker.shutdown(wait=True, cancel_pending=True, timeout=WAIT)
    assert not worker.is_alive
    assert running.result(timeout=0).status == "cancelled"
    assert queued.result(timeout=0).status == "cancelled"
    assert [r.request_id for r in finished] == [running.request_id, queued.request_id]
    with pytest.raises(RuntimeError, match="shut down"):
        worker.submit(request())
    worker.shutdown()  # idempotent


def test_shutdown_without_cancel_finishes_the_queue(fakes: None) -> None:
    worker = FillWorker()
    jobs = [worker.submit(request()) for _ in range(2)]
    worker.shutdown(wait=True, cancel_pending=False, timeout=WAIT)
    assert all(job.result(timeout=0).ok for job in jobs)


def test_junk_worker_device_is_refused() -> None:
    from inpaint_studio.core.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError):
        FillWorker(device="gpu")


def test_multi_region_jobs_report_regions(worker: FillWorker) -> None:
    mask = np.zeros((64, 80), np.uint8)
    mask[5:12, 5:12] = 255
    mask[50:58, 65:75] = 255
    progress: list[FillProgress] = []
    job = worker.submit(
        FillRequest(make_photo(), mask, "telea", regions=RegionOptions(context_margin=4, context_factor=0)),
        on_progress=progress.append)
    result = job.result(timeout=WAIT)
    assert result.ok and "2 regions" in result.message
    assert result.provenance is not None and len(result.provenance.regions) == 2


def test_result_inside_a_progress_callback_refuses_instead_of_deadlocking(worker: FillWorker) -> None:
    errors: list[Exception] = []
    job: FillJob

    def on_progress(_: FillProgress) -> None:
        try:
            job.result()
        except RuntimeError as exc:
            errors.append(exc)

    job = worker.submit(request(), on_progress=on_progress)
    assert job.result(timeout=WAIT).ok
    assert errors


@needs_cpu_only_machine
def test_torch_jobs_get_the_workers_device_and_are_reproducible(worker: FillWorker) -> None:
    def fill(seed: int) -> np.ndarray:
        result = worker.submit(request("test-torch", seed=seed)).result(timeout=WAIT)
        assert result.ok, result.message
        assert result.provenance is not None and result.provenance.device == "cpu"
        assert result.provenance.versions.get("torch")
        return result.pixels

    first = fill(5)
    assert np.array_equal(first, fill(5))
    assert not np.array_equal(first, fill(6))
    assert worker.device_choice is not None and worker.device_choice.device == "cpu"
    assert TorchNoiseMethod.devices_seen == ["cpu", "cpu", "cpu"]


@needs_cpu_only_machine
def test_an_unavailable_gpu_request_still_fills_on_the_cpu(worker: FillWorker) -> None:
    result = worker.submit(request("test-torch", device="cuda")).result(timeout=WAIT)
    assert result.ok, result.message
    assert result.provenance is not None
    assert result.provenance.device == "cpu" and "not available" in (result.provenance.device_reason or "")
