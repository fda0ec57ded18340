"""ddsp_cvae's family frame in the real window, with real X input (issue 35).

The shipped ddsp_cvae (a copy in the test's zoo, on the real backend) has a 16-number code:
its pad shows its family's two main axes and the sliders the next eight, while the family
buttons stay. A click in a slider's trough plays the frame vector there (a history step),
another family keeps the vector and shows that family's training sounds in its own frame,
S saves the whole vector and the family, and Reopen plays the same samples again. The sound's
line names the vector in short, within its panel.
Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from window_driver import (
    REAL_INPUT_MARKS,
    click_middle,
    click_wide_pad,
    file_bytes_of,
    is_heard,
    open_shipped_window,
    press,
    reopen_favourite,
    sound_line_place,
    status_line,
    step_axis_slider,
    wait_heard,
    wait_output_quiet,
)

from gui import keys as k
from gui.family import shown_code_points
from gui.handlers.common import format_point, playing_text
from gui.wide import MAX_AXIS_SLIDERS

pytestmark = REAL_INPUT_MARKS

SHIPPED = Path(__file__).resolve().parents[1] / "trained"
NAME = "ddsp_cvae"


@pytest.fixture
def window(tmp_path):
    """The window over a zoo holding only a copy of the shipped ddsp_cvae; returns (app,
    capture, the model as the CLI loads it)."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    shutil.copytree(SHIPPED / NAME, zoo / NAME)
    from models.engine import load_runtime

    model = load_runtime(NAME, zoo)
    app, capture = open_shipped_window(tmp_path / "window", zoo, NAME)
    yield app, capture, model
    app.close()


def viewable(app, key):
    return bool(app.window[key].Widget.winfo_viewable())


def sounding(app, family):
    assert app.run_until(lambda s: s.sound.family == family and s.sound.point == s.vector, timeout=20), status_line(app)


def test_a_slider_plays_the_frame_vector_another_family_keeps_it_and_s_then_reopen_give_the_same_bytes(window):
    app, capture, model = window
    assert app.run_until(lambda s: viewable(app, k.AXES_PANEL) and viewable(app, k.FAMILY_PANEL), timeout=10)
    assert app.window[k.AXES_NOTE].get() == f"axes {2 + MAX_AXIS_SLIDERS}–15 stay at their centre"
    press("2")  # snare
    sounding(app, "snare")
    vector = click_wide_pad(app, 200, 90)
    assert len(vector) == 16 and vector[2:] == (0.0,) * 14
    wait_output_quiet(app)

    before = len(capture.sounds())
    vector = step_axis_slider(app, 0)  # axis 2: the snare's third main axis
    assert vector[2] > 0 and vector[:2] == app.state.point and vector[3:] == (0.0,) * 13
    expected = model.decode(np.asarray([vector], np.float32), family="snare")[0]
    assert not np.allclose(expected, model.decode([app.state.point], family="snare")[0])  # the slider is in the sound
    heard = wait_heard(app, capture, before + 1)[before:]
    assert any(is_heard(sound, expected, model.sample_rate) for sound in heard)
    assert app.state.history.of(NAME).current == vector

    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1, timeout=20), status_line(app)
    wav = Path(app.state.favourites[0].path)
    recall = json.loads(wav.with_suffix(".json").read_text())
    assert recall["settings"]["latent"] == list(vector) and recall["settings"]["family"] == "snare"
    assert wav.read_bytes() == file_bytes_of(expected, model.sample_rate)

    press("1")  # kick: the same place in the kick's frame, and the kick's sounds in it
    sounding(app, "kick")
    assert app.state.vector == vector
    codes, pads = app.state.model.codes, app.state.model.family_pads
    assert np.allclose(shown_code_points(app.state), pads.to_frame(codes.full, "kick")[:, :2])
    assert not np.allclose(shown_code_points(app.state), pads.to_frame(codes.full, "snare")[:, :2])
    step_axis_slider(app, 1)
    click_wide_pad(app, 60, 220)
    wait_output_quiet(app)

    before = len(capture.sounds())
    reopen_favourite(app, wav.name)
    assert app.run_until(lambda s: s.vector == vector and s.sound.point == vector and s.sound.family == "snare", timeout=20)
    assert app.state.family.text() == "snare"
    assert any(is_heard(sound, expected, model.sample_rate) for sound in wait_heard(app, capture, before + 1)[before:])
    assert np.array_equal(app.state.sound.audio, expected)
    assert float(app.window[(k.AXIS, 0)].Widget.get()) == pytest.approx(vector[2], abs=1e-6)


def test_the_sound_line_names_the_vector_in_short_within_its_panel_and_its_tooltip_every_number(window):
    app, _, _ = window
    press("2")  # snare
    sounding(app, "snare")
    click_wide_pad(app, 200, 90)
    step_axis_slider(app, 0)
    vector = step_axis_slider(app, 3, right=False)  # axes 2 and 5 off centre
    wait_output_quiet(app)
    press("l")  # a loop: the line says so until it is stopped
    line = f"⟳ looping {NAME} at {format_point(app.state.point)} · 2 axes off centre"
    shown = app.window[k.PLAYING]
    assert app.run_until(lambda s: playing_text(s) == line and shown.get() == line, timeout=20), shown.get()
    text, width, (left, right), (panel_left, panel_right) = sound_line_place(app)
    assert text == line and width <= right - left  # shown whole, within the line
    assert panel_left <= left and right <= panel_right, (left, right, panel_left, panel_right)
    tip = app.window[k.PLAYING].TooltipObject.text
    assert tip == f"{line}\nevery axis: {format_point(vector)}"
    press("Escape")
    assert app.run_until(lambda s: app.window[k.PLAYING].get() == "■ stopped", timeout=20)


def test_a_sample_opened_on_the_snare_lands_at_its_own_code_on_the_pad_of_the_family_it_is_most_like(window, tmp_path):
    import soundfile
    from test_window_walkthrough import answer_dialog

    from drums import kick
    from gui.backend import PackageBackend

    app, capture, model = window
    press("2")  # snare
    sounding(app, "snare")
    wait_output_quiet(app)
    mine = tmp_path / "my kick.wav"
    soundfile.write(mine, kick(seed=4, seconds=0.5), 44100)
    before = len(capture.sounds())
    typing = answer_dialog(str(mine))
    click_middle(app.window[k.OPEN].Widget)
    assert app.run_until(lambda s: s.sound.opened == str(mine), timeout=60), status_line(app)
    typing.join(timeout=30)
    code = model.encode_code(PackageBackend().prepare_file(str(mine), model)[None, :])
    likeliest = model.family_pads.likeliest(code)[0]
    assert likeliest != "snare"
    # the window moved to that family: its button, the sound's family, the dots in its frame
    assert app.state.family.text() == likeliest and app.state.sound.family == likeliest
    frame = np.clip(model.family_pads.to_frame(code, likeliest)[0], model.low, model.high)
    assert app.state.vector == pytest.approx(tuple(frame), abs=1e-5)
    codes, pads = app.state.model.codes, app.state.model.family_pads
    assert np.allclose(shown_code_points(app.state), pads.to_frame(codes.full, likeliest)[:, :2])
    # what was heard first is the sample's code played as that family: the reconstruction
    expected = model.decode(np.asarray([app.state.vector], np.float32), family=likeliest)[0]
    assert np.array_equal(app.state.sound.audio, expected)
    assert any(is_heard(sound, expected, model.sample_rate) for sound in wait_heard(app, capture, before + 1)[before:])
    assert float(app.window[(k.AXIS, 0)].Widget.get()) == pytest.approx(app.state.vector[2], abs=0.05)


def test_compare_plays_ddsp_cvae_as_its_pad_plays_it_on_the_family_chosen(window):
    from test_window_walkthrough import click_tab
    from window_driver import click

    app, capture, model = window
    press("2")  # snare
    sounding(app, "snare")
    click_wide_pad(app, 200, 90)
    vector = step_axis_slider(app, 0)
    wait_output_quiet(app)
    heard_on_the_pad = model.decode(np.asarray([vector], np.float32), family="snare")[0]
    click_tab(app, "Compare")
    listbox = app.window[k.COMPARE_LIST].Widget
    names = list(listbox.get(0, "end"))
    x, y, _, height = listbox.bbox(names.index(NAME))
    click(listbox, x + 10, y + height // 2)
    before = len(capture.sounds())
    click_middle(app.window[k.COMPARE].Widget)
    assert app.run_until(lambda s: s.compare is not None, timeout=30), status_line(app)
    assert any(is_heard(sound, heard_on_the_pad, model.sample_rate) for sound in wait_heard(app, capture, before + 1)[before:])
    assert np.array_equal(app.state.compare.sounds[0], heard_on_the_pad)


def test_the_window_reopens_on_the_last_sessions_family_and_whole_vector(tmp_path):
    # the last session on ddsp_cvae: the snare, a click and a slider; the next opens there
    from window_driver import HeardCapture, ShippedBackend, make_app

    zoo = tmp_path / "zoo"
    zoo.mkdir()
    shutil.copytree(SHIPPED / NAME, zoo / NAME)
    from models.engine import load_runtime

    model = load_runtime(NAME, zoo)
    app, _ = open_shipped_window(tmp_path / "window", zoo, NAME)
    try:
        press("2")  # snare
        sounding(app, "snare")
        click_wide_pad(app, 200, 90)
        vector = step_axis_slider(app, 2)  # axis 4
        assert vector[4] != 0.0
        wait_output_quiet(app)
    finally:
        app.close()
    remembered = json.loads((tmp_path / "window" / "settings.json").read_text())
    assert remembered["model"] == NAME and remembered["point"] == list(vector) and remembered["family"] == "snare"
    capture = HeardCapture()
    again = make_app(tmp_path / "window", backend=ShippedBackend(capture), models_dir=str(zoo))
    try:
        assert again.run_until(lambda s: s.model is not None and s.sound.audio is not None, timeout=60), status_line(again)
        assert again.state.family.text() == "snare" and again.state.vector == vector
        assert float(again.window[(k.AXIS, 2)].Widget.get()) == pytest.approx(vector[4], abs=1e-6)
        assert np.array_equal(again.state.sound.audio, model.decode(np.asarray([vector], np.float32), family="snare")[0])
    finally:
        again.close()


@pytest.mark.parametrize(
    "remembered, family, vector",
    [
        ({"point": [0.5, -0.5, 0.0, 2.0] + [0.0] * 12, "family": "banjo"}, "kick", (0.5, -0.5, 0.0, 2.0) + (0.0,) * 12),
        ({"point": [0.5, "x"] + [0.0] * 14, "family": "tom"}, "tom", (0.0,) * 16),
        ({"point": [0.5, -0.5], "family": "kick:0.7,hat"}, "kick", (0.5, -0.5) + (0.0,) * 14),
    ],
    ids=["an unknown family", "a point that is not numbers", "a mix that cannot be read"],
)
def test_a_settings_file_edited_by_hand_opens_what_it_can(tmp_path, remembered, family, vector):
    from window_driver import HeardCapture, ShippedBackend, make_app

    zoo = tmp_path / "zoo"
    zoo.mkdir()
    shutil.copytree(SHIPPED / NAME, zoo / NAME)
    (tmp_path / "settings.json").write_text(json.dumps({"volume": 1.0, "model": NAME, **remembered}))
    app = make_app(tmp_path, backend=ShippedBackend(HeardCapture()), models_dir=str(zoo))
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None, timeout=60), status_line(app)
        assert app.state.model.name == NAME and app.state.family.text() == family and app.state.vector == vector
    finally:
        app.close()


def test_the_nearest_tab_lists_the_training_sounds_nearest_where_the_pad_plays_on_the_snare(window):
    from test_window_walkthrough import click_tab

    app, _, model = window
    press("2")  # snare
    sounding(app, "snare")
    click_tab(app, "Nearest")
    vector = click_wide_pad(app, 120, 150)
    point = app.state.point
    assert app.run_until(lambda s: s.nearest is not None and tuple(s.nearest.point) == point, timeout=30), status_line(app)
    placed = model.family_pads.places(model.codes, "snare")  # where the map draws them on the snare's pad
    order = np.argsort(np.hypot(placed[:, 0] - point[0], placed[:, 1] - point[1]), kind="stable")
    plane = app.state.nearest.plane
    assert [near.name for near in plane] == [str(model.codes.names[i]) for i in order[: len(plane)]], vector
