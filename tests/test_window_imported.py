"""An imported model with an 8-D latent in the real window, with real X input (issue 35).

A tiny ONNX decoder is built here (and, for pad, slider, S and Reopen, a tiny Keras 3 one
too), imported by ``app.py import-model`` into the test's own
XDG_DATA_HOME (the user's zoo), and the window, opened on a copy of one shipped model, lists
it in its own group. The pad shows two axes and the other six are sliders; a click on the
pad and a click in a slider's trough each play the model's decode of the whole vector; S
saves it with the eight numbers in its sidecar, and Reopen plays the same samples again.
Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from import_fixtures import DIM, keras_decoder, onnx_decoder, run_app
from window_driver import (
    REAL_INPUT_MARKS,
    choose_model,
    click_button,
    click_wide_pad,
    file_bytes_of,
    is_heard,
    open_shipped_window,
    pick_in_combo,
    press,
    reopen_favourite,
    sound_line_place,
    status_line,
    step_axis_slider,
    wait_heard,
)

from gui import keys as k
from gui.handlers.common import format_point, playing_text

pytestmark = REAL_INPUT_MARKS

SHIPPED = Path(__file__).resolve().parents[1] / "trained"
NAME = "drums8"


@pytest.fixture
def imported(request, tmp_path, monkeypatch):
    """``drums8`` (an ONNX decoder, or with the param "keras" a Keras one) imported into the
    test's user zoo; the window over a zoo holding ae_small_tanh; returns (app, capture, the
    imported model loaded as the CLI loads it)."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # onnxruntime's telemetry id
    kind = getattr(request, "param", "onnx")
    source = tmp_path / f"drums8.{kind}"
    (keras_decoder if kind == "keras" else onnx_decoder)(source)
    status, _, err = run_app("import-model", NAME, "--decoder", source, home=home)
    assert status == 0, err
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    shutil.copytree(SHIPPED / "ae_small_tanh", zoo / "ae_small_tanh")
    from models.imported import load_imported, user_models_folder

    model = load_imported(NAME, user_models_folder())
    app, capture = open_shipped_window(tmp_path / "window", zoo, "ae_small_tanh")
    yield app, capture, model
    app.close()


def panel_shown(app):
    return bool(app.window[k.AXES_PANEL].Widget.winfo_viewable())


def heard_now(app, capture, before):
    """The sounds heard since ``before`` were, the last of them, the decode of the state's vector."""
    heard = wait_heard(app, capture, before + 1)
    return heard[before:]


def test_imported_model_is_listed_in_its_own_group_and_its_sliders_show_only_for_it(imported):
    app, _, model = imported
    assert app.state.entries[NAME].group == "Imported" and app.state.entries[NAME].trained
    tree = app.window[k.MODELS].Widget
    assert tree.item(tree.parent(app.window[k.MODELS].KeyToID[NAME]))["text"] == "Imported"
    assert not panel_shown(app)  # a 2-D model: no sliders
    choose_model(app, NAME)
    assert app.run_until(lambda s: panel_shown(app), timeout=10)
    labels = [app.window[(k.AXIS_LABEL, i)].get() for i in range(DIM - 2)]
    assert labels == [f"axis {axis}  {model.middle[axis]:+.2f}" for axis in range(2, DIM)]
    for slider, axis in enumerate(range(2, DIM)):
        widget = app.window[(k.AXIS, slider)].Widget
        assert (float(widget.cget("from")), float(widget.cget("to"))) == (float(model.low[axis]), float(model.high[axis]))
        assert float(widget.get()) == pytest.approx(float(model.middle[axis]))
    assert not app.window[(k.AXIS, DIM - 2)].Widget.winfo_viewable()  # only D - 2 sliders
    choose_model(app, "ae_small_tanh")
    assert app.run_until(lambda s: not panel_shown(app), timeout=10)


@pytest.mark.parametrize("imported", ["onnx", "keras"], indirect=True)
def test_pad_and_slider_play_the_whole_vector_and_s_then_reopen_give_the_same_bytes(imported):
    app, capture, model = imported
    choose_model(app, NAME)
    before = len(capture.sounds())
    vector = click_wide_pad(app, 200, 90)
    assert len(vector) == DIM and vector[2:] == tuple(float(v) for v in model.middle[2:])
    assert any(is_heard(sound, model.decode([vector])[0]) for sound in heard_now(app, capture, before))

    before = len(capture.sounds())
    vector = step_axis_slider(app, 1)  # axis 3
    assert vector[3] > model.middle[3] and vector[:2] == app.state.point
    expected = model.decode(np.asarray([vector], np.float32))[0]
    assert not np.allclose(expected, model.decode([app.state.point])[0])  # the slider is in the sound
    assert any(is_heard(sound, expected) for sound in heard_now(app, capture, before))
    assert app.state.history.of(NAME).current == vector

    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1, timeout=20), status_line(app)
    wav = Path(app.state.favourites[0].path)
    recall = json.loads(wav.with_suffix(".json").read_text())
    assert recall["model"] == NAME and recall["settings"]["latent"] == list(vector)
    assert wav.read_bytes() == file_bytes_of(expected, model.sample_rate)

    step_axis_slider(app, 3, right=False)  # elsewhere, then back to the favourite
    click_wide_pad(app, 60, 220)
    before = len(capture.sounds())
    reopen_favourite(app, wav.name)
    assert app.run_until(lambda s: s.vector == vector and s.sound.point == vector, timeout=20), app.state.vector
    assert any(is_heard(sound, expected) for sound in heard_now(app, capture, before))
    assert float(app.window[(k.AXIS, 1)].Widget.get()) == pytest.approx(vector[3], abs=1e-6)
    assert soundfile.read(wav, dtype="float32")[0].shape[0] > 0


def test_save_with_variations_varies_every_axis_and_reopening_one_plays_its_bytes(imported):
    from audio.recall import recorded_vector
    from models.variation import decode_variation, variation_from_recall

    app, capture, model = imported
    choose_model(app, NAME)
    click_wide_pad(app, 200, 90)
    vector = step_axis_slider(app, 1)  # axis 3 off its centre
    click_button(app, k.SAVE_VARIATIONS)
    assert app.run_until(lambda s: len(s.favourites) == 4, timeout=30), status_line(app)
    offsets, files = [], {}
    for favourite in app.state.favourites:
        wav = Path(favourite.path)
        recall = json.loads(wav.with_suffix(".json").read_text())
        assert recall["settings"]["latent"] == list(vector) and recall["point"] == [vector[a] for a in model.pad_axes]
        variation = variation_from_recall(recall)
        if variation.index:
            offsets.append(variation.offset)
        samples = decode_variation(model, recorded_vector(recall["point"], recall["settings"]), variation)
        assert wav.read_bytes() == file_bytes_of(samples, model.sample_rate)  # each sidecar plays its file again
        files[variation.index] = (wav, samples)
    assert sorted(files) == [0, 1, 2, 3] and np.asarray(offsets).shape == (3, DIM)
    assert np.all(np.abs(np.asarray(offsets)).max(axis=0) > 0)  # every axis varied
    wav, samples = files[2]
    click_wide_pad(app, 60, 220)  # elsewhere, then reopen variation 2
    before = len(capture.sounds())
    reopen_favourite(app, wav.name)
    assert app.run_until(lambda s: s.sound.audio is not None and np.array_equal(s.sound.audio, samples), timeout=20)
    assert any(is_heard(sound, samples) for sound in heard_now(app, capture, before))


def test_which_axes_choice_puts_other_axes_on_the_pad_and_keeps_the_sound(imported):
    app, capture, model = imported
    choose_model(app, NAME)
    step_axis_slider(app, 1)  # axis 3 off its centre
    vector = app.state.vector
    pick_in_combo(app, app.window[k.PAD_X_AXIS].Widget, 3)
    assert app.run_until(lambda s: s.model.pad_axes == (3, 1), timeout=10)
    assert app.state.vector == vector and app.state.point == (vector[3], vector[1])
    assert [app.window[(k.AXIS_LABEL, i)].get().split()[:2] for i in range(DIM - 2)] == [["axis", str(a)] for a in (0, 2, 4, 5, 6, 7)]
    before = len(capture.sounds())
    moved = click_wide_pad(app, 230, 140)
    assert moved[3] == app.state.point[0] and moved[0] == vector[0]  # the pad's x is axis 3 now
    assert any(is_heard(sound, model.decode([moved])[0]) for sound in heard_now(app, capture, before))


def test_the_sound_line_names_the_whole_vector_in_short_within_its_panel(imported):
    app, _, _ = imported
    choose_model(app, NAME)
    click_wide_pad(app, 200, 90)
    for slider in range(DIM - 2):  # every axis off the pad off its centre
        step_axis_slider(app, slider, right=slider % 2 == 0)
    press("l")
    line = f"⟳ looping {NAME} at {format_point(app.state.point)} · {DIM - 2} axes off centre"
    shown = app.window[k.PLAYING]
    assert app.run_until(lambda s: playing_text(s) == line and shown.get() == line, timeout=20), shown.get()
    text, width, (left, right), (panel_left, panel_right) = sound_line_place(app)
    assert text == line and width <= right - left
    assert panel_left <= left and right <= panel_right, (left, right, panel_left, panel_right)
    assert app.window[k.PLAYING].TooltipObject.text.endswith(f"every axis: {format_point(app.state.vector)}")
