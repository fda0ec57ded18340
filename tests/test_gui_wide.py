"""A wide latent's handlers without a window (gui.wide, gui.handlers.axes): the state keeps
the whole vector; sliders, the which-axes choice, S, Reopen and the history use it; a 2-D
model has none."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audio.export import Favourite
from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.backend import PackageBackend
from gui.handlers import handle
from gui.state import AppState, ModelEntry
from gui.wide import MAX_AXIS_SLIDERS, slider_axes
from gui_fakes import FakeModel

DIM = 8
WIDE = "drums8"


def wide_info():
    """An 8-D model's info: each axis -3..3, its centre 0.5 (so a centre is not a zero)."""
    base = PackageBackend().describe(FakeModel("ae_small_relu"))
    return replace(
        base,
        name=WIDE,
        kind="imported",
        latent_dim=DIM,
        pad_axes=(0, 1),
        axis_ranges=((-3.0, 3.0),) * DIM,
        axis_centres=(0.5,) * DIM,
        latent_range=(-3.0, 3.0, -3.0, 3.0),
        center=(0.5, 0.5),
    )


def send(state, event, payload=None, **values):
    values = dict(values)
    if payload is not None:
        values[event] = payload
    return handle(state, event, values)


def report(state, record):
    return handle(state, k.WORKER, {k.WORKER: record})


def decodes(effects):
    return [e.point for e in effects if isinstance(e, fx.Decode)]


@pytest.fixture
def wide():
    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries[WIDE] = ModelEntry(WIDE, group="Imported", trained=True)
    state.entries["ae_small_relu"] = ModelEntry("ae_small_relu", group="g", trained=True)
    send(state, k.MODELS, **{k.MODELS: [WIDE]})
    effects = report(state, ev.ModelReady(wide_info()))
    assert decodes(effects) == [(0.5,) * DIM] and fx.Refresh(fx.Part.AXES) in effects
    report(state, ev.PlayerOpened(True, "", "null"))
    return state


def decoded(state):
    """The decode worker's answer for the state's vector."""
    return report(state, ev.Decoded(WIDE, state.vector, np.full(16, 0.1, np.float32)))


def test_a_wide_model_opens_at_its_centre_with_a_slider_per_other_axis(wide):
    assert wide.vector == (0.5,) * DIM and wide.point == (0.5, 0.5)
    assert slider_axes(wide.model) == tuple(range(2, DIM)) and DIM - 2 <= MAX_AXIS_SLIDERS


def test_a_slider_moves_its_axis_decodes_the_whole_vector_and_is_a_step(wide):
    effects = send(wide, (k.AXIS, 1), 1.25)  # slider 1 is axis 3
    assert decodes(effects) == [(0.5, 0.5, 0.5, 1.25, 0.5, 0.5, 0.5, 0.5)]
    assert wide.sound.play_when_decoded  # heard, as a pad click is
    assert wide.history.of(WIDE).current == wide.vector
    assert send(wide, (k.AXIS, 1), 1.25 + 0.001) == []  # less than half a step: the slider shown again


def test_a_pad_click_keeps_the_sliders_values(wide):
    send(wide, (k.AXIS, 0), -2.0)
    effects = send(wide, k.PAD, **{k.PAD: (1.0, -1.0)})
    assert decodes(effects) == [(1.0, -1.0, -2.0, 0.5, 0.5, 0.5, 0.5, 0.5)]


def test_s_saves_the_pad_point_and_records_the_whole_vector(wide):
    send(wide, (k.AXIS, 2), 2.0)
    decoded(wide)
    (save,) = [e for e in send(wide, k.SAVE) if isinstance(e, fx.Save)]
    assert save.points == ((0.5, 0.5),) and save.settings["latent"] == list(wide.vector)


def test_reopen_goes_back_to_the_whole_vector_and_plays_it(wide):
    vector = (1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 0.25, -0.25)
    favourite = Favourite(
        Path("favs/drums8_x+1.00_y-1.00_001.wav"), {"model": WIDE, "point": (1.0, -1.0), "settings": {"latent": list(vector)}}, None
    )
    wide.favourites = [favourite]
    effects = send(wide, k.REOPEN, **{k.FAVOURITES: [favourite]})
    assert decodes(effects) == [vector] and wide.point == (1.0, -1.0)
    assert wide.sound.recall.point == vector


def test_back_returns_to_the_vector_before_a_slider_moved(wide):
    before = wide.vector
    send(wide, (k.AXIS, 0), 2.5)
    effects = send(wide, k.BACK)
    assert decodes(effects) == [before] and wide.vector == before


def test_which_axes_puts_two_others_on_the_pad_and_keeps_the_sound(wide):
    send(wide, (k.AXIS, 1), 1.5)  # axis 3
    vector = wide.vector
    effects = send(wide, k.PAD_X_AXIS, **{k.PAD_X_AXIS: "axis 3", k.PAD_Y_AXIS: "axis 1"})
    assert wide.model.pad_axes == (3, 1) and wide.point == (1.5, 0.5) and wide.vector == vector
    assert decodes(effects) == [] and slider_axes(wide.model) == (0, 2, 4, 5, 6, 7)
    effects = send(wide, k.PAD_Y_AXIS, **{k.PAD_X_AXIS: "axis 3", k.PAD_Y_AXIS: "axis 3"})
    assert wide.model.pad_axes == (3, 1) and "must differ" in wide.message


def test_a_2d_model_has_no_vector_and_ignores_sliders(wide):
    send(wide, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(wide, ev.ModelReady(PackageBackend().describe(FakeModel("ae_small_relu"))))
    assert wide.latent is None and wide.vector == wide.point
    assert send(wide, (k.AXIS, 0), 1.0) == []


def test_vary_and_save_with_variations_vary_a_wide_models_whole_vector(wide):
    decoded(wide)
    send(wide, k.LOOP)
    (asked,) = [e for e in send(wide, k.VARY, **{k.VARY: 1.0}) if isinstance(e, fx.DecodeVariation)]
    assert asked.point == wide.vector and "on every one of its 8 axes" in wide.message
    (saved,) = [e for e in send(wide, k.SAVE_VARIATIONS, **{k.VARY_COUNT: 4}) if isinstance(e, fx.SaveVariations)]
    assert saved.point == wide.vector and len(saved.point) == 8 and saved.count == 4


def test_an_opened_sample_goes_to_its_whole_vector(wide):
    vector = (1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 0.25, -4.0)  # the last axis outside its range
    audio = np.full(16, 0.1, np.float32)
    effects = report(wide, ev.Encoded(WIDE, "kick.wav", vector, audio, audio))
    assert wide.vector == (*vector[:7], -3.0) and wide.point == (1.0, -1.0) and wide.sound.point == wide.vector
    assert fx.Refresh(fx.Part.AXES) in effects


def test_reopen_from_another_model_opens_the_wide_one_at_the_whole_vector(wide):
    send(wide, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(wide, ev.ModelReady(PackageBackend().describe(FakeModel("ae_small_relu"))))
    vector = (1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 0.25, -0.25)
    favourite = Favourite(
        Path("favs/drums8_x+1.00_y-1.00_001.wav"), {"model": WIDE, "point": (1.0, -1.0), "settings": {"latent": list(vector)}}, None
    )
    wide.favourites = [favourite]
    send(wide, k.REOPEN, **{k.FAVOURITES: [favourite]})
    effects = report(wide, ev.ModelReady(wide_info()))
    assert decodes(effects) == [vector] and wide.point == (1.0, -1.0) and wide.sound.recall.point == vector
    assert wide.history.of(WIDE).current == vector


def test_which_axes_puts_the_training_codes_on_the_pads_new_axes():
    from gui.wide import codes_on_axes, with_pad_axes
    from models.trained_folder import LatentCodes

    full = np.arange(3 * DIM, dtype=np.float32).reshape(3, DIM)
    labels = np.array(["kick", "snare", "hat"])
    codes = LatentCodes(full[:, [0, 1]], labels, labels, labels, np.zeros(3, bool), full=full)
    moved = with_pad_axes(replace(wide_info(), codes=codes), (6, 3))
    assert np.array_equal(moved.codes.points, full[:, [6, 3]]) and moved.codes.full is full
    assert list(moved.codes.families) == list(labels)
    two_d = LatentCodes(full[:, :2], labels, labels, labels, np.zeros(3, bool))
    assert codes_on_axes(two_d, (6, 3)) is two_d and codes_on_axes(None, (6, 3)) is None


def test_the_nearest_sounds_of_a_wide_model_are_on_the_pads_axes_and_its_whole_vector(wide):
    from types import SimpleNamespace

    from gui.nearest_jobs import NearestSounds
    from models.trained_folder import LatentCodes

    send(wide, k.PAD_X_AXIS, **{k.PAD_X_AXIS: "axis 6", k.PAD_Y_AXIS: "axis 3"})
    send(wide, (k.AXIS, 0), 2.0)  # axis 0, now a slider
    asked = [e for e in decoded(wide) if isinstance(e, fx.Nearest)]
    assert asked == [fx.Nearest(WIDE, (0.5, 0.5), wide.model.data_folder, axes=(6, 3), vector=wide.vector)]
    assert wide.vector[0] == 2.0
    # the worker compares the point with the codes' columns 6 and 3, not those the model was loaded with
    full = np.zeros((3, DIM), np.float32)
    full[:, 6], full[:, 3] = (0.4, 2.0, -2.0), (0.6, 2.0, 2.0)
    full[:, 0], full[:, 1] = (3.0, 2.0, 0.5), (3.0, 2.0, 0.5)  # on axes 0 and 1 the order is the other way
    labels = np.array(["near", "far", "farther"])
    codes = LatentCodes(full[:, [0, 1]], labels, labels, labels, np.zeros(3, bool), full=full)
    model = SimpleNamespace(codes=codes, no_codes_reason=None, family_frame=False, family_pads=None, takes_family=False)
    found = []
    backend = SimpleNamespace(training_features=lambda folder: (None, "no features here"))
    worker = NearestSounds(backend, found.append, SimpleNamespace(peek=lambda name: model))
    try:
        worker._nearest(None, asked[0])
    finally:
        worker.thread.stop()  # its thread ends: a gui- thread left running is a leak test_gui_window finds
    assert [near.name for near in found[0].plane] == ["near", "far", "farther"]


def test_a_click_on_a_wide_models_training_dot_goes_to_its_whole_code_and_auditions_it(wide):
    from gui.handlers.map import on_map_click
    from models.trained_folder import LatentCodes

    full = np.linspace(-2, 2, 2 * DIM, dtype=np.float32).reshape(2, DIM)
    labels = np.array(["kick", "snare"])
    wide.model = replace(wide.model, codes=LatentCodes(full[:, [0, 1]], labels, labels, labels, np.zeros(2, bool), full=full))
    send(wide, k.PAD_X_AXIS, **{k.PAD_X_AXIS: "axis 4", k.PAD_Y_AXIS: "axis 1"})
    effects = on_map_click(wide, {"point": (0.0, 0.0), "sample": 1})
    code = tuple(float(v) for v in full[1])
    assert wide.vector == pytest.approx(code) and wide.point == pytest.approx((code[4], code[1]))
    assert decodes(effects) == [wide.vector]
    assert [e.point for e in effects if isinstance(e, fx.Audition)] == [wide.vector]


def test_a_wide_vector_reads_in_short_as_its_pad_point_and_how_many_other_axes_are_off_centre():
    from gui.handlers.common import short_point
    from gui.wide import with_pad_axes

    info = wide_info()  # each axis -3..3 around 0.5: a slider's step is 0.03
    centred = (1.0, 2.0) + (0.5,) * (DIM - 2)
    assert short_point(info, centred) == "(1.000, 2.000) · other axes at centre"
    nudged = (1.0, 2.0, 0.514, 0.5, 0.5, 0.5, 0.5, 0.5)  # less than half a step: no move a slider makes
    assert short_point(info, nudged) == "(1.000, 2.000) · other axes at centre"
    one = (1.0, 2.0, 0.5, 0.5, -3.0, 0.5, 0.5, 0.5)
    assert short_point(info, one) == "(1.000, 2.000) · 1 axis off centre"
    every = (0.0,) * DIM  # 0 is off every centre; the pad's two are not counted
    assert short_point(info, every) == "(0.000, 0.000) · 6 axes off centre"
    # the pad's axes are those the pad shows; the others are counted, the first two included
    assert short_point(with_pad_axes(info, (4, 6)), one) == "(-3.000, 0.500) · 2 axes off centre"
    assert short_point(info, (1.0, 2.0, 3.0)) == "(1.000, 2.000, … 3 numbers)"  # not this model's vector
    assert short_point(info, (0.12, -0.4)) == "(0.120, -0.400)"  # a pad point as always
    assert short_point(None, (0.12, -0.4)) == "(0.120, -0.400)"


def test_the_sound_line_and_picture_name_a_wide_vector_in_short_and_the_tooltip_has_every_number(wide):
    from gui.handlers.common import PLAYING_TIP, playing_text, playing_tip

    send(wide, (k.AXIS, 0), 2.0)
    send(wide, (k.AXIS, 3), -1.0)
    effects = decoded(wide)
    assert wide.sound.what == "drums8 at (0.500, 0.500) · 2 axes off centre"
    line = "▶ playing drums8 at (0.500, 0.500) · 2 axes off centre"
    assert playing_text(wide) == line
    (render,) = [e for e in effects if isinstance(e, fx.Render) and e.panel == "output"]
    assert render.request.title == "drums8 at (0.500, 0.500) · 2 axes off centre"
    assert playing_tip(wide, line) == f"{line}\nevery axis: (0.50, 0.50, 2.00, 0.50, 0.50, -1.00, 0.50, 0.50)"
    send(wide, k.STOP)
    assert playing_tip(wide, playing_text(wide)) == PLAYING_TIP
    assert playing_tip(wide, "■ sto…") == "■ stopped"  # a line cut to its width: the whole of it
