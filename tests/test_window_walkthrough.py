"""What a new user's walkthrough of the window hit, each driven again with real X input.

The file dialogs, an empty models folder, a damaged model's row, a damaged settings file,
the map's colours, a point typed outside the range, switching models, the keyboard, a
collapsed model and Compare: xdotool moves the real pointer and presses real keys under
Xvfb, and each test checks what the user gets (the file opened or written, the text shown,
the colours drawn, the point kept). Run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json

import numpy as np
import pytest
import soundfile
from window_driver import (
    REAL_INPUT_MARKS,
    choose_model,
    click,
    click_in_dialog_then_type,
    click_middle,
    file_dialog_window,
    in_a_file_dialog,
    make_app,
    models_loaded,
    near,
    one_pixel,
    pad_pixel_to_point,
    press,
    tree_row,
    xdo,
)

from gui import keys as k
from gui.state import READY
from gui_fakes import FakeBackend, FakeCodes

pytestmark = REAL_INPUT_MARKS


def ready(app):
    assert app.run_until(lambda s: models_loaded(app))
    app.window.TKroot.update()
    return app


@pytest.fixture
def app(tmp_path, monkeypatch):
    # the program's folder: where the dialogs opened before (the README runs it from the checkout)
    (tmp_path / "checkout").mkdir()
    monkeypatch.chdir(tmp_path / "checkout")
    app = ready(make_app(tmp_path))
    yield app
    app.close()


def answer_dialog(text):
    """Wait for the file dialog (Tk's own), type ``text`` into its file name field, Enter.

    In a thread: the dialog runs its own loop inside the window's, until it is answered.
    """

    def type_it():
        window = file_dialog_window()
        # no window manager under Xvfb: the keys go to the window under the pointer
        xdo("mousemove", "--window", window, "40", "40", "sleep", "0.3")
        xdo("type", "--delay", "20", "--", text)
        xdo("key", "Return")
        # a name the dialog could not take leaves it open behind an error box: close both,
        # so that a wrong folder fails the test instead of waiting for a user
        for _ in range(4):
            xdo("sleep", "1")
            left = xdo_out("search", "--onlyvisible", "--class", "TkFDialog").split()
            if not left:
                return
            xdo("mousemove", "--window", left[0], "40", "40", "key", "Escape")

    return in_a_file_dialog(type_it)


def xdo_out(*args):
    import subprocess

    return subprocess.run(["xdotool", *map(str, args)], check=False, timeout=30, capture_output=True, text=True).stdout


def test_open_a_sample_starts_in_the_favourites_folder_not_the_programs(app, tmp_path):
    mine = tmp_path / "favs" / "mine.wav"
    mine.parent.mkdir(exist_ok=True)
    t = np.arange(2048) / 22050
    soundfile.write(mine, (0.5 * np.sin(2 * np.pi * 300 * t) * np.exp(-20 * t)).astype(np.float32), 22050)
    typing = answer_dialog("mine.wav")  # a bare name: the dialog's own folder
    click_middle(app.window[k.OPEN].Widget)
    assert app.run_until(lambda s: s.sound.opened is not None, timeout=30)
    typing.join(timeout=30)
    assert app.state.sound.opened == str(mine)


def test_export_kit_starts_in_the_favourites_folder_then_in_the_last_kits(app, tmp_path):
    pad = app.window[k.PAD].Widget
    click(pad, 80, 80)
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    app.window.TKroot.update()
    favourites = app.window[k.FAVOURITES].Widget

    def export(answer, expected):
        x, y, _, height = favourites.bbox(0)
        click(favourites, x + 20, y + height // 2)
        typing = answer_dialog(answer)
        click_middle(app.window[k.EXPORT_KIT].Widget)
        assert app.run_until(lambda s: expected.is_file() and s.kit.progress is None, timeout=30)
        typing.join(timeout=30)

    export("RoKit", tmp_path / "favs" / "RoKit.h2drumkit")
    assert not list(tmp_path.glob("checkout/RoKit*"))  # nothing written into the program's folder
    kits = tmp_path / "kits"
    kits.mkdir()
    export(str(kits / "First"), kits / "First.h2drumkit")
    export("Second", kits / "Second.h2drumkit")  # a bare name again: now the last kit's folder
    app.close()
    assert json.loads((tmp_path / "settings.json").read_text())["kit_dir"] == str(kits)


def test_an_empty_models_folder_is_said_and_not_remembered(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"models_dir": str(tmp_path / "zoo")}))
    empty = tmp_path / "empty"
    empty.mkdir()
    backend = FakeBackend()
    backend.KINDS = {}  # nothing trained in this folder
    app = make_app(tmp_path, backend=backend, models_dir=str(empty))
    try:
        assert app.run_until(lambda s: "no trained models" in app.window[k.STATUS].get())
        status = app.window[k.STATUS].get()
        assert "sound: starting…" not in status and "start without --models" in status
        pad = app.window[k.PAD].Widget

        def texts():
            return [pad.itemcget(item, "text") for item in pad.find_all() if pad.type(item) == "text"]

        assert app.run_until(lambda s: "no trained models in this folder" in texts()), texts()
        assert "loading…" not in texts()
        failures = []  # a Tk callback's exception is only printed: a traceback is a bug
        app.window.TKroot._root().report_callback_exception = lambda *error: failures.append(error)
        click_middle(pad)  # a click on the pad does nothing, and says nothing wrong
        click_tab(app, "Compare")  # handled after the click: once the tab has changed, the click was too
        assert failures == [] and "no trained models" in app.window[k.STATUS].get(), app.window[k.STATUS].get()
    finally:
        app.close()
    assert json.loads((tmp_path / "settings.json").read_text())["models_dir"] == str(tmp_path / "zoo")


def test_a_damaged_models_row_keeps_the_highlight_on_the_loaded_model_and_tips_the_reason(app):
    tree = app.window[k.MODELS]
    loaded = app.state.model.name
    failures = []  # a Tk callback's exception is only printed: a traceback is a bug
    app.window.TKroot._root().report_callback_exception = lambda *error: failures.append(error)
    widget, x, y = tree_row(app, "ae_big_tanh")  # the fakes' damaged one
    click(widget, x, y)
    assert app.run_until(lambda s: "ae_big_tanh is unavailable" in s.message)
    assert app.run_until(lambda s: widget.selection() == (tree.KeyToID[loaded],)), widget.selection()
    assert app.state.model.name == loaded
    # the pointer leaves and comes back to the row, as to read it (X sends the Leave and the
    # Enter in that order)
    pad = app.window[k.PAD].Widget
    xdo("mousemove", "--sync", pad.winfo_rootx() + 20, pad.winfo_rooty() + 20)
    xdo("mousemove", "--sync", widget.winfo_rootx() + x + 5, widget.winfo_rooty() + y)
    assert app.run_until(lambda s: tree.TooltipObject.tipwindow is not None, timeout=5)
    # handled after the click: the highlight stayed on the loaded model meanwhile
    assert widget.selection() == (tree.KeyToID[loaded],) and app.state.model.name == loaded
    shown = tree.TooltipObject.text
    assert shown.endswith("decoder.keras is damaged (not a zip file)")
    assert "ae_big_tanh/decoder.keras" in shown  # the whole reason, not cut to the column
    assert failures == []


def test_a_damaged_settings_file_is_said_in_the_window(tmp_path):
    (tmp_path / "settings.json").write_text("{not json")
    app = ready(make_app(tmp_path))
    try:
        status = app.window[k.STATUS].get()
        assert status.startswith("settings: settings.json was damaged, so the defaults are used; it is kept as settings.json.damaged")
        press("l")  # the notice stays while the user works
        assert app.run_until(lambda s: s.sound.looping)
        assert app.window[k.STATUS].get().startswith("settings: settings.json was damaged")
    finally:
        app.close()


class FamiliesBackend(FakeBackend):
    """The fakes, with training samples of every family the map knows, "other" and "unknown"."""

    def load(self, name, folder):
        model = super().load(name, folder)
        if model.codes is not None:
            families = ["kick", "snare", "other", "unknown"] * 3
            model.codes = FakeCodes(
                points=model.codes.points,
                families=np.array(families),
                names=model.codes.names,
                files=model.codes.files,
                is_validation=model.codes.is_validation,
            )
        return model


def test_other_and_unknown_sounds_have_colours_of_their_own(tmp_path):
    app = ready(make_app(tmp_path, backend=FamiliesBackend()))
    try:
        choose_model(app, "vae_a")
        pad = app.window[k.PAD].Widget
        codes = app.state.model.codes
        colour_at = {}
        for point, family in zip(codes.points, codes.families):
            x, y = app.window[k.PAD]._convert_xy_to_canvas_xy(float(point[0]), float(point[1]))
            under = [i for i in pad.find_overlapping(x, y, x, y) if pad.type(i) == "oval" and pad.itemcget(i, "fill")]
            colour_at.setdefault(str(family), set()).update(pad.itemcget(i, "fill") for i in under)
        assert colour_at["other"] and colour_at["unknown"]
        assert not colour_at["other"] & colour_at["unknown"]
    finally:
        app.close()


def test_a_point_typed_outside_the_range_says_clamped_and_the_marker_stays_on_the_pad(app):
    for key, text in ((k.X, "9"), (k.Y, "-7")):
        click_middle(app.window[key].Widget)
        press("End", *["BackSpace"] * 12)
        xdo("type", "--delay", "30", "--", text)
    press("Return")
    assert app.run_until(lambda s: s.sound.point == (2.0, -2.0))
    assert "clamped to the range" in app.window[k.STATUS].get()
    assert app.window[k.X].get() == "2.0000" and app.window[k.Y].get() == "-2.0000"
    pad = app.window[k.PAD].Widget
    width, height = pad.winfo_width(), pad.winfo_height()
    lines = [pad.coords(i) for i in app.pad._marker if pad.type(i) == "line"]
    [vertical] = [(x0, x1) for x0, y0, x1, y1 in lines if x0 == x1]
    [horizontal] = [(y0, y1) for x0, y0, x1, y1 in lines if y0 == y1]
    # both cross-hairs on pixels the pad shows, at its edges (the range's edge is one past)
    assert width - 3 <= vertical[0] <= width - 1 and height - 3 <= horizontal[0] <= height - 1


def test_switching_to_a_model_with_the_same_range_keeps_the_point(app):
    pad = app.window[k.PAD].Widget
    expected = pad_pixel_to_point(app, 70, 250)
    click(pad, 70, 250)
    assert app.run_until(lambda s: near(s.sound.point, expected, one_pixel(app)))
    here = app.state.point
    choose_model(app, "gan")
    assert app.state.point == here and app.state.sound.point == here


def test_brackets_change_the_model_and_minus_equal_move_the_vary_slider(app):
    click(app.window[k.PAD].Widget, 150, 150)
    usable = [e.name for e in app.state.entries.values() if e.trained and e.state == READY]
    first = app.state.model.name
    after = usable[(usable.index(first) + 1) % len(usable)]
    press("bracketright")
    assert app.run_until(lambda s: s.model.name == after and s.sound.point == s.point)
    assert app.window[k.MODELS].Widget.selection() == (app.window[k.MODELS].KeyToID[after],)
    press("bracketleft")
    assert app.run_until(lambda s: s.model.name == first and s.sound.point == s.point)
    press("equal", "equal", "equal")
    assert app.run_until(lambda s: s.vary.amount == 1.5)
    assert app.run_until(lambda s: float(app.window[k.VARY].Widget.get()) == 1.5)  # the slider shows it
    press("minus")
    assert app.run_until(lambda s: s.vary.amount == 1.0)
    assert app.run_until(lambda s: float(app.window[k.VARY].Widget.get()) == 1.0)


class CollapsedBackend(FakeBackend):
    """The fakes, with vae_a's encoder collapsed: every training code within 1e-4."""

    def load(self, name, folder):
        model = super().load(name, folder)
        if name == "vae_a":
            rng = np.random.default_rng(5)
            codes = model.codes
            model.codes = FakeCodes(
                points=(0.3 + 1e-4 * rng.random(codes.points.shape)).astype(np.float32),
                families=codes.families,
                names=codes.names,
                files=codes.files,
                is_validation=codes.is_validation,
            )
        return model


def test_a_collapsed_model_warns_in_the_list_on_the_card_and_in_the_status(tmp_path):
    app = ready(make_app(tmp_path, backend=CollapsedBackend()))
    try:
        tree = app.window[k.MODELS]
        assert tree.Widget.item(tree.KeyToID["ae_small_relu"], "values")[0] == "ready"
        choose_model(app, "vae_a")
        assert app.run_until(
            lambda s: (
                tree.Widget.item(tree.KeyToID["vae_a"], "values")[0] == "⚠ collapsed"
                and "vae_a is collapsed" in app.window[k.STATUS].get()
                and "collapsed: every" in app.window[k.CARD].get()
            )
        ), tree.Widget.item(tree.KeyToID["vae_a"], "values")
        assert "collapsed: every training sound encodes to one point" in app.window[k.CARD].get()
        assert "vae_a is collapsed" in app.window[k.STATUS].get()
    finally:
        app.close()


def click_tab(app, text):
    notebook = app.window[k.TABS].Widget
    for x in range(2, notebook.winfo_width(), 4):
        try:
            index = notebook.index(f"@{x},8")
        except Exception:  # noqa: BLE001 - Tk says TclError past the last tab
            continue
        if notebook.tab(index, "text") == text:
            click(notebook, x, 8)
            assert app.run_until(lambda s, index=index: notebook.index("current") == index), notebook.index("current")
            return
    raise AssertionError(f"no tab {text!r}")


def test_compare_names_the_model_sounding_and_says_what_raw_coordinates_are(app):
    click(app.window[k.PAD].Widget, 200, 120)
    click_tab(app, "Compare")
    listbox = app.window[k.COMPARE_LIST].Widget
    names = list(listbox.get(0, "end"))
    for name in ("ae_small_relu", "gan"):
        x, y, _, height = listbox.bbox(names.index(name))
        click(listbox, x + 10, y + height // 2)
    click_middle(app.window[k.COMPARE].Widget)
    seen = []

    def heard(state):
        seen.append(app.window[k.PLAYING].get())
        return any("gan (2 of 2)" in line for line in seen)

    assert app.run_until(heard, timeout=20)
    assert any(line.startswith("▶ playing ae_small_relu (1 of 2) at (") for line in seen)
    assert "the same x, y in each model's own latent space" in app.window[k.STATUS].get()
    notes = [e.get() for e in app.window.element_list() if e.Type == "text" and e.get()]
    assert any("raw x, y mean different" in note for note in notes)


def test_a_click_in_the_open_dialogs_name_field_keeps_the_keyboard_there(app, tmp_path):
    mine = tmp_path / "favs" / "mine.wav"
    mine.parent.mkdir(exist_ok=True)
    t = np.arange(2048) / 22050
    soundfile.write(mine, (0.5 * np.sin(2 * np.pi * 300 * t) * np.exp(-20 * t)).astype(np.float32), 22050)
    outcome = {}
    typing = click_in_dialog_then_type(str(mine), outcome)
    click_middle(app.window[k.OPEN].Widget)
    assert app.run_until(lambda s: s.sound.opened is not None or "closed by Return" in outcome, timeout=40)
    typing.join(timeout=30)
    assert outcome.get("closed by Return"), "the dialog stayed open: the keys went elsewhere"
    assert app.run_until(lambda s: s.sound.opened == str(mine), timeout=30)
