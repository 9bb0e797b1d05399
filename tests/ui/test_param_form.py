"""The settings panel is generated from a params dataclass: right widgets, ranges, tooltips, Reset."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from inpaint_studio.methods import registry
from inpaint_studio.methods.base import Method, make_params, param, param_specs
from inpaint_studio.ui.method_panel import MethodPanel
from inpaint_studio.ui.param_form import ParamForm

pytestmark = pytest.mark.gui


class Quality(enum.Enum):
    FAST = "fast"
    BEST = "best"


@dataclass(frozen=True)
class FakeParams:
    iterations: int = param(50, min=1, max=500, step=5, help="How many passes to make.")
    strength: float = param(0.25, min=0.0, max=1.0, step=0.05, help="How strongly to blend.")
    keep_edges: bool = param(True, help="Protect strong edges.")
    mode: str = param("patch", choices=("patch", "diffuse", "hybrid"), help="Which algorithm to use.")
    quality: Quality = param(Quality.FAST, help="Speed or quality.")


class FakeMethod(Method):
    name = "fake_params_test"
    label = "Fake params"
    description = "Exists only to show generated settings."
    Params: ClassVar[type] = FakeParams

    def run(self, image, hole, params, ctx):
        return image


def test_each_parameter_gets_the_right_widget_range_and_tooltip(qtbot):
    form = ParamForm(param_specs(FakeParams))
    qtbot.addWidget(form)
    ed = form.editors

    assert isinstance(ed["iterations"], QSpinBox)
    assert (ed["iterations"].minimum(), ed["iterations"].maximum()) == (1, 500)
    assert ed["iterations"].singleStep() == 5
    assert isinstance(ed["strength"], QDoubleSpinBox)
    assert (ed["strength"].minimum(), ed["strength"].maximum()) == (0.0, 1.0)
    assert ed["strength"].singleStep() == pytest.approx(0.05)
    assert ed["strength"].decimals() == 2
    assert isinstance(ed["keep_edges"], QCheckBox)
    assert isinstance(ed["mode"], QComboBox)
    assert [ed["mode"].itemText(i) for i in range(ed["mode"].count())] == ["patch", "diffuse", "hybrid"]
    assert isinstance(ed["quality"], QComboBox)
    assert ed["quality"].count() == 2
    for spec in param_specs(FakeParams):
        assert spec.help in ed[spec.name].toolTip()


def test_values_round_trip_through_make_params_and_reset_restores_defaults(qtbot):
    form = ParamForm(param_specs(FakeParams))
    qtbot.addWidget(form)
    assert make_params(FakeParams, form.values()) == FakeParams()

    form.editors["iterations"].setValue(120)
    form.editors["strength"].setValue(0.8)
    form.editors["keep_edges"].setChecked(False)
    form.editors["mode"].setCurrentIndex(2)
    form.editors["quality"].setCurrentIndex(1)
    changed = make_params(FakeParams, form.values())
    assert changed == FakeParams(iterations=120, strength=0.8, keep_edges=False, mode="hybrid",
                                 quality=Quality.BEST)

    form.reset()
    assert make_params(FakeParams, form.values()) == FakeParams()


def test_method_panel_builds_the_form_of_the_chosen_method_and_remembers_edits(qtbot):
    registry.register(FakeMethod)
    try:
        panel = MethodPanel()
        qtbot.addWidget(panel)
        assert panel.select(FakeMethod.name)
        assert panel.description.text() == FakeMethod.description
        assert set(panel.values()) == {"iterations", "strength", "keep_edges", "mode", "quality"}
        panel.form.editors["iterations"].setValue(7)

        assert panel.select("telea")
        assert set(panel.values()) == {"radius"}
        assert panel.select(FakeMethod.name)
        assert panel.values()["iterations"] == 7

        panel.reset_button.click()
        assert panel.values()["iterations"] == 50
    finally:
        registry.unregister(FakeMethod.name)


def test_a_decide_for_me_minimum_reads_as_a_word_not_a_bare_number(qtbot):
    """DIP's iterations 0 and input noise -1 mean "the preset's": the form says so, and an edited
    value reads as a number again while the parameter still round-trips."""
    from inpaint_studio.methods.dip.method import DipParams

    form = ParamForm(param_specs(DipParams))
    qtbot.addWidget(form)
    iterations = form.findChild(QSpinBox, "param_iterations")
    noise = form.findChild(QDoubleSpinBox, "param_input_noise")
    assert iterations.text() == "preset's" and noise.text() == "preset's"
    iterations.setValue(300)
    assert iterations.text() == "300"
    assert make_params(DipParams, form.values()).iterations == 300


@dataclass(frozen=True)
class TunedParams:
    strength: float = param(0.5, min=0.0, max=1.0, step=0.1, help="How strongly to blend.")
    solver_steps: int = param(40, advanced=True, min=1, max=400, help="Inner solver steps.")
    radius: int = param(3, min=1, max=20, help="Brush-sized radius.")


def test_tuning_settings_wait_behind_more_settings_and_a_changed_one_is_never_hidden(qtbot):
    """Everyday settings first, solver knobs folded away under "More settings"; values read back
    whether folded or not, and restoring a non-default tuning value unfolds it so the user sees why
    the fill behaves differently."""
    form = ParamForm(param_specs(TunedParams))
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    button = form.more_button
    assert button is not None and button.text() == "More settings"
    steps, radius = form.editors["solver_steps"], form.editors["radius"]
    assert radius.isVisible() and not steps.isVisible()
    # the everyday settings come first, in declaration order, then the toggle, then the tuning ones
    assert radius.geometry().top() < button.geometry().top()
    assert make_params(TunedParams, form.values()) == TunedParams()

    button.click()
    assert steps.isVisible() and button.text() == "Fewer settings"
    assert steps.geometry().top() > button.geometry().top()
    button.click()
    assert not steps.isVisible()

    form.set_values({"solver_steps": 100})
    assert steps.isVisible() and form.advanced_shown()
    assert make_params(TunedParams, form.values()).solver_steps == 100


def test_a_form_without_tuning_settings_has_no_toggle(qtbot):
    form = ParamForm(param_specs(FakeParams))
    qtbot.addWidget(form)
    assert form.more_button is None


def test_the_deep_image_prior_form_folds_its_solver_knobs(qtbot):
    """DIP's dozen settings used to need scrolling; its everyday ones (preset, time, keep best,
    initial fill, detail) stay in view and the solver's fold away."""
    from inpaint_studio.methods.dip.method import DipParams

    form = ParamForm(param_specs(DipParams))
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    visible = {name for name, editor in form.editors.items() if editor.isVisible()}
    assert {"preset", "time_limit", "keep_best", "initial_fill", "detail"} <= visible
    assert not {"learning_rate", "preview_ms", "consensus_fills"} & visible
