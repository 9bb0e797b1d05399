"""LaMa, MI-GAN 256/512, PConv U-Net and Context Encoders compute the official function and load
checkpoint files laid out like the released ones.

The proof is ``../shared/model_specs/probe.py``: formula weights + formula input, compared with the
official code's output (float64: atol 1e-9). A user loading a real checkpoint gets exactly the network
these probes verified, as long as the file's keys map onto ours, which the layout tests check.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from inpaint_studio.methods.learned import build

SPECS = Path(__file__).resolve().parents[4] / "shared" / "model_specs"
sys.path.insert(0, str(SPECS))
probe = importlib.import_module("probe")

NETS = ["context_encoder", "pconv_unet", "migan_256", "migan_512", "lama_big"]
#: float64 (atol 1e-9) is the sharp check and runs for every network; float32 (the app's dtype, spec
#: tolerance) also where its forward is cheap. LaMa and MI-GAN 512 pass float32 too (measured by hand).
PROBE_DTYPES = {name: (torch.float64,) for name in NETS} | {
    name: (torch.float64, torch.float32) for name in ("context_encoder", "pconv_unet", "migan_256")
}


def _spec(name: str) -> dict[str, Any]:
    return probe.load_spec(SPECS / f"{name}.json")


@pytest.fixture(scope="module", params=NETS)
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One network's spec and formula weights, computed once and shared by its tests (pytest groups
    the tests by this module-scoped parameter, so only one network's weights are held at a time)."""
    spec = _spec(request.param)
    return {"name": request.param, "spec": spec, "formula": probe.formula_state_dict(spec)}


def _check(case: dict[str, Any], dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch,
           net: torch.nn.Module | None = None) -> dict[str, Any]:
    # probe.check recomputes the formula weights on every call (seconds for 50M parameters);
    # hand it the cached copy instead: load_state_dict copies, so the cache stays pristine
    monkeypatch.setattr(probe, "formula_state_dict", lambda spec, module_keys=True: case["formula"])
    net = build(case["name"]) if net is None else net
    assert probe.compare_keys(net, case["spec"]) == []
    return probe.check(net, case["spec"], dtype=dtype)


def test_probe_matches_the_official_output(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for dtype in PROBE_DTYPES[case["name"]]:
        report = _check(case, dtype, monkeypatch)
        assert report["ok"], (dtype, report["failures"])


def _official_container(spec: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Wrap checkpoint-keyed tensors the way the released file does (container, bookkeeping, extras)."""
    info = spec["checkpoint"]
    name = spec["name"]
    if name == "lama_big":  # Lightning .ckpt: discriminator and loss weights share the state_dict
        state = dict(tensors)
        state["discriminator.model0.0.weight"] = torch.ones(64, 3, 4, 4)
        state["loss_resnetpl.impl.conv1.weight"] = torch.ones(8)
        return {"epoch": 40, "global_step": 123456, "state_dict": state}
    if name == "pconv_unet":
        return {"n_iter": 1000000, "model": tensors, "optimizer": {"state": {}, "param_groups": []}}
    if name == "context_encoder":  # 2017 file: no num_batches_tracked entries
        kept = {k: v for k, v in tensors.items() if not k.endswith("num_batches_tracked")}
        return {"epoch": 25, "state_dict": kept}
    assert info["container_key"] is None and not info["key_prefix"]
    return dict(tensors)


def test_checkpoint_in_official_layout_loads(case: dict[str, Any], tmp_path: Path) -> None:
    """A file shaped like the release (container key, prefix, extra entries) loads strictly, every
    tensor landing in the right place. Each entry is one distinct constant stored as a stride-0 view,
    so the file stays a few kB even for the 71M-parameter nets."""
    spec = case["spec"]
    expected: dict[str, float] = {}
    tensors: dict[str, torch.Tensor] = {}
    for i, (key, shape, dtype) in enumerate(spec["state_dict"]):
        value = float(i + 1) if dtype == "int64" else (i + 1) / 1024.0
        expected[probe.module_key(spec, key)] = value
        tensors[key] = torch.tensor(value, dtype=probe._DTYPES[dtype]).expand(shape)
    path = tmp_path / "weights.pth"
    legacy = case["name"] == "context_encoder"  # written by PyTorch <= 0.2: pre-zip format
    torch.save(_official_container(spec, tensors), path, _use_new_zipfile_serialization=not legacy)

    state = probe.generator_state_from_checkpoint(torch.load(path, map_location="cpu", weights_only=True),
                                                  spec)
    net = build(case["name"])
    net.load_state_dict(state, strict=True)

    for key, tensor in net.state_dict().items():
        want = 0.0 if key.endswith("num_batches_tracked") and legacy else expected[key]
        assert bool((tensor == want).all()), key


@pytest.mark.parametrize("case", ["context_encoder"], indirect=True)  # cheapest forward; shares its weights
def test_perturbing_one_weight_fails_the_probe(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: the probe is sharp enough that 1% on one tensor is a mismatch (the same
    network unperturbed passes in test_probe_matches_the_official_output[context_encoder])."""

    def nudge(module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        with torch.no_grad():  # after check() loaded the formula weights, before the forward
            module.main[14].weight.mul_(1.01)

    for dtype in (torch.float64, torch.float32):
        net = build("context_encoder")
        net.register_forward_pre_hook(nudge)
        with pytest.raises(probe.ProbeMismatch, match="mismatches"):
            _check(case, dtype, monkeypatch, net=net)
