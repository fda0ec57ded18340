"""An imported 8-D model's other views in the real window, with real X input (issue 35): its
heat-map is of the pad's two axes with the other axes where the sliders are, a new one when
a slider moves and the cached one when it moves back; Compare plays it at its whole vector
and says what its x, y are; Vary varies the whole vector (S and Reopen: its bytes); Morph
moves every axis from A to B. Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import json
from pathlib import Path

import numpy as np
from test_window_imported import NAME, heard_now, imported  # noqa: F401 - the fixture
from test_window_walkthrough import click_tab
from window_driver import (
    REAL_INPUT_MARKS,
    choose_model,
    click,
    click_middle,
    click_wide_pad,
    file_bytes_of,
    is_heard,
    pick_in_combo,
    press,
    reopen_favourite,
    status_line,
    step_axis_slider,
    turn_vary_on,
    wait_heard,
)

from gui import features
from gui import keys as k
from gui.family import heat_key
from gui.layout import MAP_MODE_LABELS
from gui.wide import heat_plane, plane_vectors

pytestmark = REAL_INPUT_MARKS


def expected_brightness(model, state):
    """The brightness heat-map of the state's plane, decoded here from the model itself."""
    plane = heat_plane(state)
    points = features.grid_points(state.model.latent_range)
    sounds = model.decode(plane_vectors(plane, points))
    return features.PER_SOUND[features.BRIGHTNESS](sounds, model.sample_rate).reshape(features.GRID, features.GRID)


def shown_map(app):
    """The heat-map of the state's plane, once computed (else None)."""
    return app.state.map.heatmaps.get(heat_key(NAME, features.BRIGHTNESS, None, heat_plane(app.state)))


def test_a_heat_map_follows_the_sliders_and_reuses_a_cached_plane(imported):  # noqa: F811 - the fixture
    app, _, model = imported
    choose_model(app, NAME)
    combo = app.window[k.MAP_MODE].Widget
    pick_in_combo(app, combo, list(combo.cget("values")).index(MAP_MODE_LABELS[features.BRIGHTNESS]))
    assert app.run_until(lambda s: shown_map(app) is not None, timeout=60), status_line(app)
    centre = shown_map(app)
    np.testing.assert_allclose(centre, expected_brightness(model, app.state), rtol=1e-4, atol=1e-6)

    step_axis_slider(app, 1)  # axis 3 off its centre: a map of another plane
    assert app.run_until(lambda s: shown_map(app) is not None, timeout=60), status_line(app)
    assert not np.allclose(shown_map(app), centre)
    np.testing.assert_allclose(shown_map(app), expected_brightness(model, app.state), rtol=1e-4, atol=1e-6)

    kept = len(app.state.map.heatmaps)
    step_axis_slider(app, 1, right=False)  # back to the centre: the map made there, not a new one
    assert shown_map(app) is centre and len(app.state.map.heatmaps) == kept


def test_compare_plays_the_wide_model_at_its_whole_vector_and_says_what_its_x_y_are(imported):  # noqa: F811
    app, capture, model = imported
    choose_model(app, NAME)
    click_wide_pad(app, 200, 90)
    vector = step_axis_slider(app, 1)
    click_tab(app, "Compare")
    listbox = app.window[k.COMPARE_LIST].Widget
    names = list(listbox.get(0, "end"))
    for name in (NAME, "ae_small_tanh"):
        x, y, _, height = listbox.bbox(names.index(name))
        click(listbox, x + 10, y + height // 2)
    before = len(capture.sounds())
    click_middle(app.window[k.COMPARE].Widget)
    note = f"{NAME}'s x, y are axes 0, 1; the rest at the sliders"
    assert app.run_until(lambda s: note in app.window[k.STATUS].get(), timeout=30), status_line(app)
    assert any(is_heard(sound, model.decode(np.asarray([vector], np.float32))[0]) for sound in heard_now(app, capture, before))


def test_vary_plays_a_variation_of_the_whole_vector_and_s_then_reopen_give_its_bytes(imported):  # noqa: F811
    app, capture, model = imported
    choose_model(app, NAME)
    vector = step_axis_slider(app, 1)
    wait_heard(app, capture, 1)
    turn_vary_on(app)
    before = len(capture.sounds())
    press("space")
    assert app.run_until(lambda s: s.sound.heard is not None and s.sound.heard.variation is not None, timeout=20), status_line(app)
    record = app.state.sound.heard.variation
    assert len(record["offset"]) == len(vector) and record["decoded_point"] != list(vector)
    expected = model.decode(np.asarray([record["decoded_point"]], np.float32))[0]
    assert any(is_heard(sound, expected) for sound in heard_now(app, capture, before))

    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1, timeout=20), status_line(app)
    wav = Path(app.state.favourites[0].path)
    recall = json.loads(wav.with_suffix(".json").read_text())
    assert recall["settings"]["latent"] == list(vector) and recall["settings"]["variation"] == record
    assert wav.read_bytes() == file_bytes_of(expected, model.sample_rate)

    click_wide_pad(app, 60, 220)  # elsewhere, then back to the favourite
    before = len(capture.sounds())
    reopen_favourite(app, wav.name)
    assert app.run_until(lambda s: s.vector == vector and s.sound.variation == record, timeout=20), app.state.vector
    assert any(is_heard(sound, expected) for sound in heard_now(app, capture, before))


def test_morph_of_a_wide_model_moves_every_axis_from_a_to_b(imported):  # noqa: F811
    app, capture, model = imported
    choose_model(app, NAME)
    a = click_wide_pad(app, 60, 220)
    click_middle(app.window[k.SET_A].Widget)
    assert app.run_until(lambda s: s.morph.a == a, timeout=10)
    step_axis_slider(app, 1)
    b = click_wide_pad(app, 200, 90)
    click_middle(app.window[k.SET_B].Widget)
    assert app.run_until(lambda s: s.morph.b == b, timeout=10) and a[3] != b[3]
    click_tab(app, "Morph")
    before = len(capture.sounds())
    click_middle(app.window[k.MORPH].Widget)
    assert app.run_until(lambda s: s.morph.sequence is not None, timeout=30), status_line(app)
    points = np.asarray(app.state.morph.sequence.points, np.float32)
    steps = len(points)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    np.testing.assert_allclose(points, (1 - t) * np.asarray(a, np.float32) + t * np.asarray(b, np.float32), atol=1e-6)
    assert f"every one of {NAME}'s 8 axes" in app.state.message
    heard = heard_now(app, capture, before)
    middle = model.decode(points[steps // 2 : steps // 2 + 1])[0]
    assert any(is_heard(sound, middle) for sound in heard)
