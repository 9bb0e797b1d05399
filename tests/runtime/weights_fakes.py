"""A tiny network registered as a catalogue entry, so the weights logic is tested in milliseconds.

``TinyNet`` stands in for LaMa: its checkpoint is laid out like a Lightning ``.ckpt`` (tensors under
``ckpt["state_dict"]`` with the ``generator.`` prefix, next to a discriminator and bookkeeping), and
its method follows LaMa's conventions (4 channels in [0,1], sigmoid output).
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from inpaint_studio.methods import learned, registry
from inpaint_studio.methods.learned import infer
from inpaint_studio.methods.learned.methods import LearnedMethod
from inpaint_studio.runtime import catalogue
from inpaint_studio.runtime.catalogue import WeightsEntry, WeightsPart

NAME = "tiny"


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 3, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.norm(self.conv(x)))


def build_tiny() -> TinyNet:
    return TinyNet()


class TinyPair(torch.nn.Module):
    """Two stages in two files, like CSA (``netP.`` and ``netG.``)."""

    def __init__(self) -> None:
        super().__init__()
        self.netP = TinyNet()
        self.netG = torch.nn.Conv2d(6, 3, 3, padding=1)


def build_tiny_pair() -> TinyPair:
    return TinyPair()


PAIR = WeightsEntry(
    name="tiny_pair", network="tiny_pair", label="Tiny two-file net", paper="none", licence="CC BY-NC 4.0",
    non_commercial=True, page_url="https://example.invalid/pair", direct_url=None,
    parts=(WeightsPart("pair_P.pth", module_prefix="netP."),
           WeightsPart("pair_G.pth", module_prefix="netG.")))


ENTRY = WeightsEntry(
    name=NAME, network="tiny_net", label="Tiny test net", paper="none", licence="MIT (test)",
    non_commercial=False, page_url="https://example.invalid/tiny", direct_url=None,
    parts=(WeightsPart("tiny.ckpt", container_key="state_dict", key_prefix="generator."),))


class TinyMethod(LearnedMethod):
    name = "tiny_learned"
    label = "Tiny learned"
    description = "test double of a learned method"
    weights = (NAME,)
    working_size = 64
    recipe = NAME


def state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = TinyNet()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return net.state_dict()


def lightning_ckpt(sd: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Laid out like LaMa's best.ckpt: prefixed generator keys next to others, plus bookkeeping."""
    sd = state() if sd is None else sd
    tensors = {f"generator.{k}": v for k, v in sd.items()}
    tensors["discriminator.model.0.weight"] = torch.zeros(2, 2)
    return {"state_dict": tensors, "epoch": 3, "global_step": 1000}


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Iterator[WeightsEntry]:
    """The tiny entry in the catalogue, its network in ``learned.build`` and its method registered."""
    monkeypatch.setitem(learned._FACTORIES, "tiny_net", f"{__name__}:build_tiny")
    monkeypatch.setitem(catalogue.CATALOGUE, NAME, ENTRY)
    monkeypatch.setitem(learned._FACTORIES, "tiny_pair", f"{__name__}:build_tiny_pair")
    monkeypatch.setitem(catalogue.CATALOGUE, PAIR.name, PAIR)
    monkeypatch.setitem(infer.RECIPES, NAME, infer.Recipe(NAME, infer._lama, multiple=8, fp16=False))
    registry.register(TinyMethod)
    yield ENTRY
    registry.unregister(TinyMethod.name)


def with_url(entry: WeightsEntry, url: str, **changes: Any) -> WeightsEntry:
    return dataclasses.replace(entry, direct_url=url, **changes)


def with_part(entry: WeightsEntry, **changes: Any) -> WeightsEntry:
    return dataclasses.replace(entry, parts=(dataclasses.replace(entry.parts[0], **changes),))


# ---------------------------------------------------------------------------------------------
# a local HTTP server (127.0.0.1) that serves bytes, honours Range, and can misbehave on purpose


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append({"path": self.path, "range": self.headers.get("Range")})
        data: bytes = srv.files.get(self.path.split("?")[0], b"")
        if not data:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.ranges:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        drop = srv.drop_after.pop(self.path, None)
        if drop is not None:  # send part of the body, then cut the connection
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@contextmanager
def http_server(files: dict[str, bytes], *, ranges: bool = True) -> Iterator[Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files = files
    server.ranges = ranges
    server.requests = []
    server.drop_after = {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def ckpt_bytes(tmp: Path, obj: Any) -> bytes:
    path = tmp / "blob.ckpt"
    torch.save(obj, path)
    return path.read_bytes()
