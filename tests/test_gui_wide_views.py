"""A wide latent's other views without a window: its heat-maps are of the chosen pad axes
with the other axes at the sliders (and cached by all of that), and Compare and Morph decode
its whole vectors."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_gui_wide import DIM, WIDE, decoded, report, send, wide  # noqa: F401 - the fixture

from audio.export import Favourite
from gui import effects as fx
from gui import events as ev
from gui import features
from gui import keys as k
from gui.decode_slot import decode_recorded_variation
from gui.model_jobs import compared_sound
from gui.wide import plane_vectors
from models.variation import decode_variation, plan_variations

GRID = np.zeros((features.GRID, features.GRID))


def heatmaps(effects):
    return [e for e in effects if isinstance(e, fx.Heatmap)]


def map_renders(effects):
    return [e.request for e in effects if isinstance(e, fx.Render) and e.panel == "map"]


@pytest.fixture
def state(wide):  # noqa: F811 - the fixture imported above
    """The wide model at its centre, its output open."""
    return wide


@pytest.fixture
def heat(wide):  # noqa: F811 - the fixture imported above
    """The wide model with its map on the brightness heat-map, that map computed."""
    (asked,) = heatmaps(send(wide, k.MAP_MODE, **{k.MAP_MODE: "brightness heat-map"}) or [])
    report(wide, ev.HeatmapReady(WIDE, asked.feature, GRID, plane=asked.plane))
    return wide, asked


def test_a_wide_heat_map_is_of_the_pad_axes_with_the_others_at_the_sliders(heat):
    state, asked = heat
    assert asked.plane == ((0, 1), (0.5,) * DIM)
    vectors = plane_vectors(asked.plane, [(1.0, -1.0)])
    assert vectors.tolist() == [[1.0, -1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]


def test_a_slider_asks_for_a_new_map_and_going_back_reuses_the_cached_one(heat):
    state, first = heat
    (moved,) = heatmaps(send(state, (k.AXIS, 1), 1.25))  # axis 3
    assert moved.plane == ((0, 1), (0.5, 0.5, 0.5, 1.25, 0.5, 0.5, 0.5, 0.5))
    assert "axes 0 and 1, the others at the sliders" in state.message
    effects = send(state, (k.AXIS, 1), 0.5)
    assert heatmaps(effects) == [] and [r.heat is GRID for r in map_renders(effects)] == [True]
    assert heatmaps(send(state, k.PAD, **{k.PAD: (1.0, -1.0)})) == []  # the pad's point is not in the map's key


def test_choosing_other_pad_axes_asks_for_their_map(heat):
    state, _ = heat
    send(state, (k.AXIS, 1), 1.5)  # axis 3
    (asked,) = heatmaps(send(state, k.PAD_X_AXIS, **{k.PAD_X_AXIS: "axis 3", k.PAD_Y_AXIS: "axis 1"}))
    assert asked.plane == ((3, 1), (0.5,) * DIM) and asked.latent_range == (-3.0, 3.0, -3.0, 3.0)


def test_a_map_of_an_older_plane_is_kept_but_not_drawn(heat):
    state, first = heat
    (moved,) = heatmaps(send(state, (k.AXIS, 0), 2.0))
    assert map_renders(report(state, ev.HeatmapReady(WIDE, first.feature, GRID, plane=first.plane))) == []
    assert map_renders(report(state, ev.HeatmapReady(WIDE, moved.feature, GRID, plane=moved.plane)))


class WideDecoder:
    """An 8-D decoder: its sound says the vector it was decoded from (pad points at the centre)."""

    latent_dim, pad_axes, sample_rate, has_noise_source, takes_family = DIM, (0, 1), 16000, False, False
    low, high = np.full(DIM, -3.0, np.float32), np.full(DIM, 3.0, np.float32)

    def latent_range(self):
        return (-3.0, 3.0, -3.0, 3.0)

    def decode(self, points):
        points = np.asarray(points, np.float32)
        if points.shape[1] == 2:
            points = np.concatenate([points, np.full((len(points), DIM - 2), 0.5, np.float32)], axis=1)
        return points


def test_compare_plays_the_current_wide_model_at_its_whole_vector_and_says_what_x_y_are(state):
    send(state, (k.AXIS, 1), 1.25)  # axis 3
    (asked,) = [e for e in send(state, k.COMPARE, **{k.COMPARE_LIST: [WIDE, "other8"]}) if isinstance(e, fx.Compare)]
    assert asked.vectors == ((WIDE, state.vector, (0, 1)),)
    audio, played, axes = compared_sound(WideDecoder(), WIDE, asked)
    assert tuple(audio) == state.vector and played is None and axes == "x, y are axes 0, 1; the rest at the sliders"
    audio, played, axes = compared_sound(WideDecoder(), "other8", asked)  # not the current model: its centre
    assert tuple(audio) == (*state.point, *(0.5,) * (DIM - 2)) and "at their centres" in axes
    results = (
        ev.CompareResult(WIDE, audio, axes="x, y are axes 0, 1; the rest at the sliders"),
        ev.CompareResult("other8", audio, axes=axes),
    )
    report(state, ev.Compared(results, state.point, 16000))
    assert (
        "(drums8's x, y are axes 0, 1; the rest at the sliders; other8's x, y are axes 0, 1; the rest at their centres)"
        in state.message
    )


def test_morph_moves_every_axis_of_a_wide_latent_and_saves_each_whole_vector(state):
    send(state, k.SET_A)
    a = state.vector
    send(state, (k.AXIS, 0), 2.0)
    send(state, k.PAD, **{k.PAD: (1.0, -1.0)})
    send(state, k.SET_B)
    b = state.vector
    assert state.morph.a == a and b == (1.0, -1.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5)
    (asked,) = [e for e in send(state, k.MORPH, **{k.STEPS: 3}) if isinstance(e, fx.Morph)]
    assert (asked.a, asked.b) == (a, b)
    middle = tuple((np.asarray(a) + np.asarray(b)) / 2)
    sounds = tuple(np.full(16, 0.1 * i, np.float32) for i in range(3))
    effects = report(state, ev.Morphed(WIDE, (a, middle, b), sounds))
    assert "every one of drums8's 8 axes" in state.message
    (render,) = [e for e in effects if isinstance(e, fx.Render) and e.panel == "morph"]
    assert render.request.title == "drums8: A (0.500, 0.500) · other axes at centre → B (1.000, -1.000) · 1 axis off centre"
    saves = [e for e in send(state, k.MORPH_SAVE) if isinstance(e, fx.Save)]
    assert [s.points for s in saves] == [((0.5, 0.5),), ((0.75, -0.25),), ((1.0, -1.0),)]
    assert [s.settings["latent"] for s in saves] == [list(a), list(middle), list(b)]


def test_a_variation_of_a_wide_latent_moves_every_axis_and_its_seed_gives_the_same_bytes(state):
    vector = (2.9, -1.0, 0.5, 1.25, 0.5, 0.5, 0.5, 0.5)
    (variation,) = plan_variations(WideDecoder(), vector, 1, 7, first=3, amount=2.0)
    assert len(variation.offset) == DIM and all(v != 0.0 for v in variation.offset)
    assert all(-3.0 <= v <= 3.0 for v in variation.point(vector))  # kept inside each axis's range
    audio = decode_variation(WideDecoder(), vector, variation)
    record = json.loads(json.dumps(variation.to_dict(vector)))
    assert decode_recorded_variation(WideDecoder(), vector, record).tobytes() == audio.tobytes()
    assert plan_variations(WideDecoder(), vector, 1, 7, first=3, amount=2.0) == [variation]
    assert plan_variations(WideDecoder(), vector[:2], 1, 7, first=3, amount=2.0)[0].offset == pytest.approx(variation.offset[:2])


def test_s_keeps_a_wide_variation_and_reopen_decodes_that_variation_of_the_whole_vector(state):
    send(state, (k.AXIS, 1), 1.25)
    decoded(state)
    send(state, k.VARY, **{k.VARY: 1.0})
    (asked,) = [e for e in send(state, k.PLAY) if isinstance(e, fx.DecodeVariation)]
    (variation,) = plan_variations(WideDecoder(), asked.point, 1, asked.seed, first=asked.repetition, amount=asked.amount)
    audio = decode_variation(WideDecoder(), asked.point, variation)
    report(state, ev.VariationDecoded(WIDE, asked.point, asked.repetition, audio, variation.to_dict(asked.point)))
    (save,) = [e for e in send(state, k.SAVE) if isinstance(e, fx.Save)]
    assert save.sounds[0] is audio and save.settings["latent"] == list(state.vector)
    assert save.settings["variation"]["offset"] == list(variation.offset)
    favourite = Favourite(
        Path("favs/drums8_x+0.50_y+0.50_001.wav"), {"model": WIDE, "point": save.points[0], "settings": save.settings}, None
    )
    state.favourites = [favourite]
    send(state, (k.AXIS, 0), -2.0)
    decoded(state)
    send(state, k.REOPEN, **{k.FAVOURITES: [favourite]})
    effects = report(state, ev.Decoded(WIDE, state.vector, np.zeros(DIM, np.float32)))  # the vector's own sound first
    (again,) = [e for e in effects if isinstance(e, fx.Decode)]
    assert again.point == tuple(save.settings["latent"]) and again.variation == save.settings["variation"]
    assert decode_recorded_variation(WideDecoder(), again.point, again.variation).tobytes() == audio.tobytes()
