"""DeepFill v2, Shift-Net and CSA compute the official networks' function and load official-layout files.

The proof is ``../shared/model_specs/probe.py``: formula weights + formula input reproduce the official
code's output statistics (float64 to 1e-9, float32 to the spec's tolerance). Filling 132M formula
weights costs more than a forward, so the (pure, deterministic) fill is computed once per network and
handed to ``check``, which otherwise runs unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch

SPECS = Path(__file__).resolve().parents[4] / "shared" / "model_specs"
sys.path.insert(0, str(SPECS))

import probe  # noqa: E402

from inpaint_studio.methods.learned import build  # noqa: E402
from inpaint_studio.methods.learned.csa import CSALayer, csa_feature_mask  # noqa: E402
from inpaint_studio.methods.learned.deepfill_v2 import tf_nearest_down, tf_same_pad  # noqa: E402

MODELS = ["deepfill_v2", "shiftnet", "csa"]

#: One weight per model whose 1.01x scaling the official code's probe must notice.
PERTURBED_WEIGHT = {
    "deepfill_v2": "allconv17.conv.weight",
    "shiftnet": "model.model.1.model.3.model.2.weight",  # IN gain, encoder side of the shift block
    "csa": "netG.model.model.3.weight",  # netG's last layer
}


@pytest.fixture(scope="module", params=MODELS)
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One network's spec and formula weights, filled once and shared by its tests (pytest groups the
    tests by this module-scoped parameter, so only one network's weights are held at a time)."""
    spec = probe.load_spec(SPECS / f"{request.param}.json")
    return {"name": request.param, "spec": spec, "formula": probe.formula_state_dict(spec)}


@pytest.fixture
def fast_probe(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    """``probe`` handing ``check`` the memoised fill (load_state_dict copies it, so it stays pristine)."""

    def formula(spec, module_keys: bool = True) -> dict[str, torch.Tensor]:
        assert probe.load_spec(spec)["name"] == case["name"] and module_keys
        return case["formula"]

    monkeypatch.setattr(probe, "formula_state_dict", formula)
    return probe


def test_state_dict_layout_is_the_official_one(case):
    net = build(case["name"])
    assert probe.compare_keys(net, case["spec"]) == []
    assert sum(p.numel() for p in net.parameters()) == case["spec"]["num_parameters"]


def test_float64_probe_matches_official_output(case, fast_probe):
    try:
        report = fast_probe.check(build(case["name"]), case["spec"], dtype=torch.float64)
    except fast_probe.ProbeMismatch:
        if case["name"] != "shiftnet":
            raise
        # README caveat: the official Shift-Net once drifted ~4e-9 at every point in float64 and never
        # again in 11 reruns. A real bug fails the rerun too.
        report = fast_probe.check(build(case["name"]), case["spec"], dtype=torch.float64)
    assert report["ok"] and report["tolerance"]["atol"] == 1e-9


def test_float32_probe_matches_official_output(case, fast_probe):
    report = fast_probe.check(build(case["name"]), case["spec"], dtype=torch.float32)
    assert report["ok"]


def test_perturbing_one_weight_fails_the_probe(case, fast_probe):
    """Negative control: the probe catches a 1% change of a single weight tensor."""
    net = build(case["name"])
    weight = net.get_parameter(PERTURBED_WEIGHT[case["name"]])

    def scale_once(module, args):  # check() loads the formula weights, then runs the forward
        with torch.no_grad():
            weight.mul_(1.01)

    net.register_forward_pre_hook(scale_once)
    # float32 and its coarser tolerance: if that catches it, float64 (atol 1e-9) does too.
    with pytest.raises(fast_probe.ProbeMismatch, match="mismatches"):
        fast_probe.check(net, case["spec"], dtype=torch.float32)


def _official_layout_files(case: dict[str, Any], tmp_path: Path) -> dict[str, Path]:
    """Write the formula weights as the released files are laid out (container, prefix, parts)."""
    name, spec = case["name"], case["spec"]
    prefix = probe.key_prefix(spec)  # checkpoint keys = prefix + module keys
    state = {prefix + k: v for k, v in case["formula"].items()}
    info = spec["checkpoint"]
    parts = info.get("parts") or [
        {"module_prefix": "", "container_key": info.get("container_key"), "key_prefix": ""}
    ]
    files = {}
    for i, part in enumerate(parts):
        pre = part["module_prefix"]
        sd = {part["key_prefix"] + k[len(pre) :]: v for k, v in state.items() if k.startswith(pre)}
        if name == "shiftnet":
            # Old files could carry InstanceNorm running stats; the official loader drops them.
            sd["model.model.1.model.2.running_mean"] = torch.zeros(128)
        obj = {part["container_key"]: sd} if part.get("container_key") else sd
        if name == "deepfill_v2":
            obj["D"] = {"conv1.conv_sn.weight": torch.ones(64, 4, 5, 5)}  # discriminator, not ours
        path = tmp_path / f"{name}_{i}.pth"
        torch.save(obj, path)
        files[pre] = path
    return files


def test_loads_a_checkpoint_laid_out_as_the_official_one(case, tmp_path):
    spec = case["spec"]
    files = _official_layout_files(case, tmp_path)
    loaded = {pre: torch.load(path, map_location="cpu", weights_only=True) for pre, path in files.items()}
    for path in files.values():
        path.unlink()  # up to 530 MB (CSA); pytest keeps the last runs' temp dirs
    ckpt = loaded if spec["checkpoint"].get("parts") else loaded[""]
    net = build(case["name"])
    result = net.load_state_dict(probe.generator_state_from_checkpoint(ckpt, spec), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    got = net.state_dict()
    assert all(torch.equal(got[k], v) for k, v in case["formula"].items())


# --- small pieces whose conventions the probe only sees as a whole --------------------------------


def test_tf_same_padding_puts_the_extra_pixel_bottom_right():
    x = torch.ones(1, 1, 8, 8)
    padded = tf_same_pad(x, ksize=3, stride=2)
    assert padded.shape[-2:] == (9, 9)  # pad total 1: nothing on top/left
    assert padded[0, 0, 0, 0] == 1 and padded[0, 0, -1, -1] == 0
    assert tf_same_pad(x, ksize=3, stride=1, rate=4).shape[-2:] == (16, 16)


def test_tf_nearest_downsampling_samples_aligned_corners():
    x = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 10, 10)
    assert tf_nearest_down(x, 2)[0, 0, 0].tolist() == [0, 2, 5, 7, 9]


def test_csa_feature_mask_is_a_thresholded_box_average_not_nearest():
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 8:16, 8:16] = 1  # one 8x8 cell: nearest sampling would call it a hole, coverage does not
    assert not csa_feature_mask(mask).any()
    mask[..., 8:32, 8:32] = 1
    holes = csa_feature_mask(mask)
    expected = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    expected[..., 1:4, 1:4] = True
    assert torch.equal(holes, expected)


def test_csa_layer_keeps_known_features_and_chains_holes_in_raster_order():
    torch.manual_seed(0)
    x = torch.randn(1, 16, 8, 8, dtype=torch.float64)
    mask = torch.zeros(1, 1, 64, 64, dtype=torch.float64)
    mask[..., 8:32, 8:32] = 1  # feature holes: rows 1-3, cols 1-3
    layer = CSALayer()
    layer.set_mask(mask)
    out = layer(x)
    known = ~csa_feature_mask(mask)[0, 0]
    assert torch.equal(out[0][:, known], x[0][:, known])
    positions = [(i, j) for i in range(8) for j in range(8)]
    first = out[0, :, 1, 1]  # first hole in raster order: a pure copy of some known feature
    assert any(torch.equal(first, x[0, :, i, j]) for i, j in positions if known[i, j])
    second = out[0, :, 1, 2]  # later holes mix in the previous result, so they are no plain copy
    assert not any(torch.equal(second, x[0, :, i, j]) for i, j in positions)
    # A new mask is honoured (the official fixed_mask kept the first one).
    mask2 = torch.zeros_like(mask)
    mask2[..., 40:64, 40:64] = 1
    layer.set_mask(mask2)
    assert torch.equal(layer(x)[0, :, 1, 1], x[0, :, 1, 1])


def test_shiftnet_refuses_to_run_without_a_mask():
    net = build("shiftnet")
    with pytest.raises(RuntimeError, match="set_mask"):
        net(torch.zeros(1, 4, 256, 256))
