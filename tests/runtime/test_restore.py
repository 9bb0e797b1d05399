"""runtime.restore: splitting a damage mask by width, and detect + two fills as one job."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.errors import InvalidParameterError
from inpaint_studio.runtime import restore
from inpaint_studio.runtime.jobs import CancelToken
from inpaint_studio.runtime.restore import plan_restore, run_restore


def gradient(shape: tuple[int, int] = (96, 128), dtype: type = np.uint8) -> np.ndarray:
    """A smooth photo: any decent fill of a small hole lands within a few levels of the truth."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([40 + xx, 60 + yy, np.full_like(xx, 120)], axis=-1).astype(np.uint8)
    return rgb.astype(np.uint16) * 257 + 3 if dtype == np.uint16 else rgb


def damage(shape: tuple[int, int] = (96, 128)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all damage, the 2 px scratch alone, the big speck alone), uint8 0/255."""
    scratch, speck = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    cv2.line(scratch, (10, 5), (108, 86), 255, 2)
    cv2.circle(speck, (60, 75), 4, 255, -1)  # 9 px across: needs patches
    dust = np.zeros(shape, np.uint8)
    for x, y in ((20, 60), (90, 20)):
        cv2.circle(dust, (x, y), 1, 255, -1)
    return np.maximum.reduce([scratch, speck, dust]), scratch, speck


def damaged(clean: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = clean.copy()
    out[mask > 0] = np.iinfo(clean.dtype).max * 0.9
    return out


# ---------------------------------------------------------------- plan_restore

@pytest.mark.parametrize(("width", "thin"), [(1, True), (2, True), (3, True), (5, True), (6, True),
                                             (7, False), (9, False)])
def test_plan_splits_bands_by_width(width: int, thin: bool) -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[10:10 + width, 5:55] = 255
    plan = plan_restore(mask, hairline_width=6)
    assert bool(plan.thin.any()) is thin
    assert bool(plan.large.any()) is not thin


def test_plan_keeps_a_component_whole_and_soft_values() -> None:
    mask = np.zeros((60, 80), np.uint8)
    cv2.line(mask, (0, 30), (79, 30), 200, 2)         # a hairline that runs into a blot...
    cv2.circle(mask, (40, 30), 8, 255, -1)
    cv2.line(mask, (0, 5), (79, 8), 90, 1)             # ...and a separate faint hairline
    mask[5:9, :][mask[5:9, :] > 0] = 255
    plan = plan_restore(mask, hairline_width=4)
    assert np.array_equal(np.maximum(plan.thin, plan.large), plan.mask)
    assert not np.logical_and(plan.thin > 0, plan.large > 0).any()
    assert np.array_equal(plan.large[25:36] > 0, mask[25:36] > 0)  # the scratch goes with its blot
    assert (plan.large[30, :5] == 200).all()  # soft values are kept
    assert plan.thin[:12].any() and not plan.large[:12].any()


def test_plan_measures_only_the_fully_covered_core() -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[16:24, 5:55] = 100  # a wide faint rim...
    mask[19:21, 5:55] = 255  # ...around a 2 px scratch
    assert not plan_restore(mask, 4).large.any()


def test_plan_counts_the_image_edge_as_a_boundary() -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[:3, :] = 255
    mask[:, -3:] = 255
    assert not plan_restore(mask, 4).large.any()


def test_plan_strips_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    mask = np.zeros((200, 150), np.uint8)
    for _ in range(40):
        x, y, r = (int(v) for v in rng.integers([0, 0, 1], [150, 200, 9]))
        cv2.circle(mask, (x, y), r, 255, -1)
    whole = plan_restore(mask, 5)
    monkeypatch.setattr(restore, "_STRIP_ROWS", 7)
    striped = plan_restore(mask, 5)
    assert whole.large.any() and whole.thin.any()
    assert np.array_equal(whole.large, striped.large)


def test_plan_empty_and_bad_width() -> None:
    plan = plan_restore(np.zeros((5, 5), np.uint8))
    assert plan.empty and not plan.thin.any() and not plan.large.any()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidParameterError):
            plan_restore(np.zeros((5, 5), np.uint8), bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- run_restore

def test_restore_fills_both_parts_in_one_job_and_keeps_the_rest() -> None:
    clean = gradient()
    mask, _scratch, speck = damage()
    photo = damaged(clean, mask)
    events = []

    result = run_restore(photo, mask=mask, on_progress=events.append, large_method="telea")

    assert result.status == "done", result.message
    assert np.array_equal(result.pixels[mask == 0], photo[mask == 0])
    error = np.abs(result.pixels.astype(int) - clean.astype(int))[mask > 0]
    assert error.mean() < 3 and error.max() < 20
    changed = result.changed
    ys, xs = np.nonzero(mask)
    assert changed.top <= ys.min() and changed.left <= xs.min()
    assert changed.bottom > ys.max() and changed.right > xs.max()
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {e.request_id for e in events} == {result.request_id}
    texts = " ".join(e.text for e in events)
    assert "thin" in texts and "large" in texts
    record = result.provenance.to_json()
    assert record["method"] == "restore" and record["status"] == "done"
    assert record["params"]["thin"]["method"] == "telea" and record["params"]["large"]["method"] == "telea"
    assert record["params"]["thin"]["pixels"] > 0
    assert record["params"]["large"]["pixels"] == np.count_nonzero(speck)
    assert record["params"]["detect"] == "mask given"
    assert {r["step"] for r in record["regions"]} == {"thin", "large"}


def test_restore_runs_each_part_with_its_method(monkeypatch: pytest.MonkeyPatch) -> None:
    mask, _scratch, speck = damage()
    calls = []
    real = restore.run_fill

    def spy(request, **kwargs):
        calls.append((request.method, request.mask.copy()))
        return real(request, **kwargs)

    monkeypatch.setattr(restore, "run_fill", spy)
    result = run_restore(damaged(gradient(), mask), mask=mask, thin_method="telea", large_method="ns")
    assert result.ok
    assert [c[0] for c in calls] == ["telea", "ns"]
    assert (calls[1][1][speck > 0] == 255).all()  # the big speck went to the large method
    assert not (calls[1][1][:20] > 0).any()        # the scratch's thin end did not
    assert "Telea" in result.provenance.method_label and "Navier" in result.provenance.method_label


def test_restore_16_bit() -> None:
    clean = gradient(dtype=np.uint16)
    mask, _, _ = damage()
    photo = damaged(clean, mask)
    result = run_restore(photo, mask=mask, large_method="telea")
    assert result.ok and result.pixels.dtype == np.uint16
    assert np.array_equal(result.pixels[mask == 0], photo[mask == 0])
    assert np.abs(result.pixels.astype(int) - clean.astype(int))[mask > 0].mean() < 3 * 257


@pytest.mark.parametrize("when", ["before", "thin", "large"])
def test_cancel_returns_cancelled_and_changes_nothing(when: str) -> None:
    mask, _, _ = damage()
    photo = damaged(gradient(), mask)
    before = photo.copy()
    cancel = CancelToken()
    if when == "before":
        cancel.cancel()

    def on_progress(event) -> None:
        if event.text.startswith(when):
            cancel.cancel()

    result = run_restore(photo, mask=mask, cancel=cancel, on_progress=on_progress, large_method="telea")
    assert result.status == "cancelled" and result.pixels is None
    assert "nothing was changed" in result.message
    assert np.array_equal(photo, before)


def test_a_failing_part_fails_the_restore_with_its_name() -> None:
    mask, _, _ = damage()
    result = run_restore(damaged(gradient(), mask), mask=mask, large_method="no-such-method")
    assert result.status == "failed" and result.pixels is None
    assert "large" in result.message and "no-such-method" in result.message


def test_nothing_to_restore_is_done_and_unchanged() -> None:
    photo = gradient()
    result = run_restore(photo, mask=np.zeros(photo.shape[:2], np.uint8))
    assert result.ok and result.changed is None and np.array_equal(result.pixels, photo)
    assert "no damage" in result.message


def test_bad_input_is_a_failed_result_not_an_exception() -> None:
    result = run_restore(np.zeros((4, 4), np.uint8), mask=np.zeros((4, 4), np.uint8))
    assert result.status == "failed" and "RGB" in result.message
    result = run_restore(gradient(), mask=np.zeros((3, 3), np.uint8))
    assert result.status == "failed" and "mask" in result.message


def test_detects_when_no_mask_is_given() -> None:
    clean = gradient()
    mask, _, _ = damage()
    photo = damaged(clean, mask)
    found = []
    result = run_restore(photo, large_method="telea", on_mask=found.append)
    assert result.ok, result.message
    assert (found[0][mask > 0] > 0).all()  # the whole damage was found and filled
    assert np.array_equal(result.pixels[found[0] == 0], photo[found[0] == 0])
    assert np.abs(result.pixels.astype(int) - clean.astype(int))[mask > 0].mean() < 3
    assert result.provenance.to_json()["params"]["detect"]["kind"] == "all"


def test_a_one_shot_detection_frees_the_learned_maps_but_keeps_the_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """detect / restore / batch never re-threshold: the maps (~325 MB on a 100 MP scan) must not stay
    alive through the fill, while the small fitted model stays cached for the same photo."""
    from inpaint_studio.core.damage import DamageOptions, learned

    monkeypatch.setattr(learned, "_CACHE", type(learned._CACHE)())
    fits: list[int] = []
    real_fit = learned.fit
    monkeypatch.setattr(learned, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    mask, _, _ = damage()
    photo = damaged(gradient(), mask)
    first = restore.damage_mask(photo, DamageOptions(kind="dust"))
    assert fits == [1] and len(learned._CACHE) == 1
    assert all(not detector._seen for detector in learned._CACHE.values()), "the maps were freed"
    assert np.array_equal(restore.damage_mask(photo, DamageOptions(kind="dust")), first)
    assert fits == [1], "the model was reused, only the maps were recomputed"


def test_infrared_dust_is_merged_unless_only_scratches(monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_studio.core import damage as damage_pkg
    from inpaint_studio.core.damage import DamageOptions

    photo = gradient()
    ir = np.full(photo.shape[:2], 200, np.uint8)
    cv2.circle(ir, (30, 30), 2, 20, -1)  # dust only the infrared channel shows
    monkeypatch.setattr(damage_pkg, "detect_damage",
                        lambda pixels, options, cancel=None: np.zeros(pixels.shape[:2], np.uint8))

    assert restore.damage_mask(photo, DamageOptions(), infrared=ir)[30, 30] == 255
    assert not restore.damage_mask(photo, DamageOptions(kind="scratches"), infrared=ir).any()
    assert not restore.damage_mask(photo, DamageOptions(), infrared=ir, ir_threshold=0.0)[0:10, 0:10].any()
    result = run_restore(photo, DamageOptions(), infrared=ir, large_method="telea")
    assert result.ok and result.changed is not None
    assert result.provenance.to_json()["params"]["detect"]["infrared"] is True
