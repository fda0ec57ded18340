"""A wide latent's other views without a window: its heat-maps are of the chosen pad axes
with the other axes at the sliders (and cached by all of that), and Compare and Morph decode
its whole vectors."""

import numpy as np
import pytest
from test_gui_wide import DIM, WIDE, decodes, report, send, wide  # noqa: F401 - the fixture

from gui import effects as fx
from gui import events as ev
from gui import features
from gui import keys as k
from gui.wide import plane_vectors

GRID = np.zeros((features.GRID, features.GRID))


def heatmaps(effects):
    return [e for e in effects if isinstance(e, fx.Heatmap)]


def map_renders(effects):
    return [e.request for e in effects if isinstance(e, fx.Render) and e.panel == "map"]


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
