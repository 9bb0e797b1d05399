"""Downloads against a real HTTP server on 127.0.0.1: progress, resume, cancel, corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint_studio.core.errors import DownloadCancelled, WeightsError
from inpaint_studio.runtime import catalogue, weights
from inpaint_studio.runtime.context import CancelToken
from inpaint_studio.runtime.installer import _CHUNK, download
from tests.runtime.weights_fakes import (  # noqa: F401 - fixture
    ENTRY,
    NAME,
    ckpt_bytes,
    http_server,
    lightning_ckpt,
    tiny,
    with_part,
    with_url,
)

pytestmark = pytest.mark.usefixtures("tiny")


@pytest.fixture
def payload(tmp_path: Path) -> bytes:
    ckpt = lightning_ckpt()
    ckpt["state_dict"]["discriminator.pad"] = torch.rand(4 * _CHUNK // 4)  # 4 reads: a middle to interrupt
    data = ckpt_bytes(tmp_path, ckpt)
    assert len(data) > 3 * _CHUNK
    return data


def _use(monkeypatch: pytest.MonkeyPatch, url: str, **part_changes: object) -> None:
    entry = with_url(ENTRY, url)
    if part_changes:
        entry = with_part(entry, **part_changes)
    monkeypatch.setitem(catalogue.CATALOGUE, NAME, entry)


def test_download_reports_progress_and_installs_a_verified_file(payload: bytes,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server({"/tiny.ckpt": payload}) as srv:
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        events: list[tuple[int, int | None]] = []
        [part] = download(NAME, progress=lambda done, total: events.append((done, total)))
    assert part.path.read_bytes() == payload
    assert events[0] == (0, len(payload)) and events[-1] == (len(payload), len(payload))
    assert [d for d, _ in events] == sorted(d for d, _ in events)
    assert not part.path.with_name("tiny.ckpt.part").exists()
    assert weights.load_state_dict(NAME)[1][0].sha256 == part.sha256


def test_a_dropped_connection_is_resumed_with_a_range_request(payload: bytes,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server({"/tiny.ckpt": payload}) as srv:
        srv.drop_after["/tiny.ckpt"] = len(payload) // 3
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        [part] = download(NAME, retries=2)
        requests = list(srv.requests)
    assert part.path.read_bytes() == payload
    assert requests[0]["range"] is None
    assert requests[1]["range"] == f"bytes={len(payload) // 3}-"


def test_an_interrupted_download_keeps_its_part_file_and_the_next_call_resumes(
        payload: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server({"/tiny.ckpt": payload}) as srv:
        srv.drop_after["/tiny.ckpt"] = 1000
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        with pytest.raises(WeightsError, match=r"interrupted after .* run the download again to resume"):
            download(NAME, retries=0)
        partial = weights.models_dir() / "tiny.ckpt.part"
        assert partial.read_bytes() == payload[:1000]
        assert not (weights.models_dir() / "tiny.ckpt").exists()
        [part] = download(NAME, retries=0)
        assert srv.requests[-1]["range"] == "bytes=1000-"
    assert part.path.read_bytes() == payload


def test_a_server_without_range_support_restarts_cleanly(payload: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server({"/tiny.ckpt": payload}, ranges=False) as srv:
        srv.drop_after["/tiny.ckpt"] = 1000
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        [part] = download(NAME, retries=1)
    assert part.path.read_bytes() == payload


def test_cancel_stops_the_download_and_keeps_the_partial_file(payload: bytes,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = CancelToken()

    def progress(done: int, total: int | None) -> None:
        if done > 0:
            cancel.cancel()

    with http_server({"/tiny.ckpt": payload}) as srv:
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        with pytest.raises(DownloadCancelled, match="cancelled"):
            download(NAME, progress=progress, cancel=cancel)
    partial = weights.models_dir() / "tiny.ckpt.part"
    assert 0 < partial.stat().st_size < len(payload)
    assert not (weights.models_dir() / "tiny.ckpt").exists()


def test_a_corrupt_download_is_rejected_by_its_checksum(payload: bytes,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    corrupt = bytearray(payload)
    corrupt[len(corrupt) // 2] ^= 0xFF
    with http_server({"/tiny.ckpt": bytes(corrupt)}) as srv:
        _use(monkeypatch, srv.url + "/tiny.ckpt", sha256=hashlib.sha256(payload).hexdigest())
        with pytest.raises(WeightsError, match="not the published file"):
            download(NAME)
    assert list(weights.models_dir().glob("tiny.ckpt*")) == []  # no file, no useless .part


def test_a_download_of_the_wrong_network_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = ckpt_bytes(tmp_path, {"state_dict": {"generator.something.weight": torch.zeros(2)}})
    with http_server({"/tiny.ckpt": other}) as srv:
        _use(monkeypatch, srv.url + "/tiny.ckpt")
        with pytest.raises(WeightsError, match="missing key"):
            download(NAME)
    assert list(weights.models_dir().glob("tiny.ckpt*")) == []


def test_http_errors_and_page_only_entries_give_clear_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server({}) as srv:
        _use(monkeypatch, srv.url + "/missing.ckpt")
        with pytest.raises(WeightsError, match="server answered 404"):
            download(NAME)
    with pytest.raises(WeightsError, match="browser, then: inpaint-studio models import migan_512 FILE"):
        download("migan_512")
