"""The "Get weights" dialog: licence shown up front, import/download installs a verified file, the
method becomes usable; wrong files and cancelled downloads install nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from inpaint_studio.core.errors import WeightsError
from inpaint_studio.runtime import catalogue, installer, weights
from inpaint_studio.ui import weights_dialog as weights_ui
from inpaint_studio.ui.weights_dialog import WeightsDialog
from tests.runtime.weights_fakes import (  # noqa: F401 - fixture
    ENTRY,
    NAME,
    TinyMethod,
    ckpt_bytes,
    http_server,
    lightning_ckpt,
    tiny,
    with_url,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("tiny")]


@pytest.fixture
def good_ckpt(tmp_path: Path) -> Path:
    path = tmp_path / "downloads" / "best.ckpt"
    path.parent.mkdir()
    torch.save(lightning_ckpt(), path)
    return path


@pytest.fixture
def make_dialog(qtbot: Any) -> Iterator[Callable[[str], WeightsDialog]]:
    """Dialogs kept alive until the test ends, then closed (which waits for their thread)."""
    made: list[WeightsDialog] = []

    def make(name: str) -> WeightsDialog:
        dlg = WeightsDialog(name)
        qtbot.addWidget(dlg)
        dlg.show()
        made.append(dlg)
        return dlg

    yield make
    for dlg in made:
        dlg.close()


@pytest.fixture
def dialog(make_dialog: Callable[[str], WeightsDialog]) -> WeightsDialog:
    return make_dialog(TinyMethod.name)


def wait_done(qtbot: Any, dlg: WeightsDialog) -> None:
    qtbot.waitUntil(lambda: not dlg.busy, timeout=20_000)


def installed_files() -> list[str]:
    return sorted(p.name for p in weights.models_dir().iterdir() if p.name != "hashes.json")


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "flag"), [("csa", "NON-COMMERCIAL"),
                                             ("shiftnet", "UNKNOWN, CHECK BEFORE COMMERCIAL USE")])
def test_a_missing_model_shows_its_licence_flag_and_where_to_get_it(make_dialog: Any, name: str,
                                                                    flag: str) -> None:
    dlg = make_dialog(name)
    entry = catalogue.entry(name)
    assert dlg.flag_label.text() == flag
    assert entry.page_url in dlg.page_label.text()
    assert "Not installed" in dlg.state_label.text()
    assert str(weights.models_dir()) in dlg.folder_label.text()
    # browser-only weights: no Download button, the page and Import instead
    assert dlg.download_button.isHidden()
    assert not dlg.page_button.isHidden()
    assert dlg.import_button.isEnabled()


def test_open_page_and_folder_go_through_the_desktop(dialog: WeightsDialog, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(weights_ui.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog.page_button.click()
    dialog.open_folder_button.click()
    assert opened[0].toString() == ENTRY.page_url
    assert Path(opened[1].toLocalFile()) == weights.models_dir()


def test_import_installs_the_file_and_the_method_becomes_usable(window: Any, qtbot: Any,
                                                                good_ckpt: Path) -> None:
    panel = window.method_panel
    panel.refresh()
    assert panel.select(TinyMethod.name)
    assert not panel.current_ready()
    assert panel.weights_box.isVisibleTo(window)
    panel.weights_button.click()  # "Get weights…" opens the dialog for this method
    dlg = window.weights_dialog
    assert dlg is not None and dlg.isVisible() and dlg.method_name == TinyMethod.name

    with qtbot.waitSignal(dlg.installed, timeout=20_000):
        dlg.import_files([good_ckpt])
    wait_done(qtbot, dlg)
    assert weights.is_installed(NAME)
    assert installed_files() == ["tiny.ckpt"]
    assert good_ckpt.is_file()  # the user's file is copied, never moved
    assert "ready to fill" in dlg.message()
    assert "Installed" in dlg.state_label.text()
    sha = weights.file_sha256(weights.models_dir() / "tiny.ckpt")
    qtbot.waitUntil(lambda: sha in dlg.hash_label.text(), timeout=10_000)
    # the panel refreshed: no "not installed" note, and Fill can run this method
    assert panel.current_method() == TinyMethod.name
    assert panel.current_ready()
    assert not panel.weights_box.isVisibleTo(window)
    assert "not installed" not in panel.combo.currentText()
    assert window.fill_panel.fill_button.isEnabled()


def test_a_wrong_file_shows_the_weights_error_and_installs_nothing(dialog: WeightsDialog, qtbot: Any,
                                                                   tmp_path: Path) -> None:
    wrong = tmp_path / "other_net.pth"
    torch.save({"encoder.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(WeightsError) as expected:  # what the runtime says about this file
        installer.import_files(NAME, [wrong])
    installed: list[str] = []
    dialog.installed.connect(installed.append)
    dialog.import_files([wrong])
    wait_done(qtbot, dialog)
    assert dialog.message() == str(expected.value)
    assert installed == []
    assert not weights.is_installed(NAME)
    assert installed_files() == []  # no staged copy left behind either
    assert "Not installed" in dialog.state_label.text()


def test_dropping_a_file_on_the_dialog_imports_it(dialog: WeightsDialog, qtbot: Any, good_ckpt: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(good_ckpt))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(dialog.installed, timeout=20_000):
        dialog.dropEvent(event)
    assert weights.is_installed(NAME)


def test_download_shows_progress_and_installs(make_dialog: Any, qtbot: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    data = ckpt_bytes(tmp_path, lightning_ckpt())
    with http_server({"/tiny.ckpt": data}) as server:
        monkeypatch.setitem(catalogue.CATALOGUE, NAME, with_url(ENTRY, server.url + "/tiny.ckpt"))
        dlg = make_dialog(NAME)
        assert not dlg.download_button.isHidden() and dlg.download_button.isEnabled()
        texts: list[str] = []
        dlg.progress_changed.connect(texts.append)
        with qtbot.waitSignal(dlg.installed, timeout=20_000):
            dlg.download_button.click()
        wait_done(qtbot, dlg)
    assert texts and "MB/s" in texts[-1]
    assert f"{len(data) / 1e6:.1f} MB of {len(data) / 1e6:.1f} MB" in texts[-1]
    assert weights.is_installed(NAME)
    assert "Downloaded and verified" in dlg.message()
    assert not dlg.download_button.isEnabled()  # nothing left to download


class _GatedResponse:
    """The real response, but every read after the first waits for ``gate`` (a download in flight)."""

    def __init__(self, response: Any, gate: threading.Event) -> None:
        self._response, self._gate, self._reads = response, gate, 0
        self.status, self.headers = response.status, response.headers

    def __enter__(self) -> _GatedResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self._response.close()

    def read(self, n: int) -> bytes:
        self._reads += 1
        if self._reads > 1:
            self._gate.wait(10)
        return self._response.read(n)


def test_cancel_stops_the_download_and_installs_nothing(make_dialog: Any, qtbot: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = lightning_ckpt()
    ckpt["state_dict"]["discriminator.pad"] = torch.rand(4 * installer._CHUNK // 4)
    data = ckpt_bytes(tmp_path, ckpt)
    gate = threading.Event()
    real_open = installer._open
    monkeypatch.setattr(installer, "_open", lambda url, start: _GatedResponse(real_open(url, start), gate))
    with http_server({"/tiny.ckpt": data}) as server:
        monkeypatch.setitem(catalogue.CATALOGUE, NAME, with_url(ENTRY, server.url + "/tiny.ckpt"))
        dlg = make_dialog(NAME)
        installed: list[str] = []
        dlg.installed.connect(installed.append)
        assert dlg.start_download()
        qtbot.waitUntil(lambda: dlg.cancel_button.isEnabled())
        qtbot.waitUntil(lambda: "MB/s" in dlg.progress_label.text(), timeout=10_000)  # bytes arrived
        dlg.cancel_button.click()
        gate.set()
        wait_done(qtbot, dlg)
    assert "cancelled" in dlg.message().lower()
    assert installed == []
    assert not weights.is_installed(NAME)
    assert installed_files() == ["tiny.ckpt.part"]  # kept so the next Download resumes
    assert dlg.download_button.isEnabled() and not dlg.cancel_button.isEnabled()


# dropping weights on the canvas ----------------------------------------------------------------


def test_a_weights_file_dropped_on_the_canvas_is_imported_not_opened(
        window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tiny.ckpt"  # the authors' file name: no question asked
    torch.save(lightning_ckpt(), path)
    monkeypatch.setattr(weights_ui, "ask_weights_name",
                        lambda *a: pytest.fail("an unambiguous file needs no question"))
    photo_before = window.document.path
    window.canvas.file_dropped.emit(str(path))
    dlg = window.weights_dialog
    assert dlg is not None and dlg.weights_name == NAME
    wait_done(qtbot, dlg)
    assert weights.is_installed(NAME)
    assert window.document.path == photo_before  # not opened as a photo


def test_an_ambiguous_weights_file_asks_which_model(window: Any, qtbot: Any, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "downloaded.pth"
    torch.save(lightning_ckpt(), path)
    window.method_panel.refresh()
    assert window.method_panel.select(TinyMethod.name)
    asked: list[list[str]] = []

    def answer(parent: Any, dropped: Path, candidates: list[str]) -> str:
        asked.append(list(candidates))
        return NAME

    monkeypatch.setattr(weights_ui, "ask_weights_name", answer)
    window.canvas.file_dropped.emit(str(path))
    assert asked and asked[0][0] == NAME  # the chosen method's model is proposed first
    assert {"lama", "csa"} <= set(asked[0])
    wait_done(qtbot, window.weights_dialog)
    assert weights.is_installed(NAME)
    assert window.method_panel.current_ready()


def test_cancelling_the_question_imports_nothing(window: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "downloaded.pt"
    path.write_bytes(b"not opened")
    monkeypatch.setattr(weights_ui, "ask_weights_name", lambda *a: None)
    window.canvas.file_dropped.emit(str(path))
    assert window.weights_dialog is None
    assert installed_files() == []
