"""Fair comparisons across models in the real window, driven with real X input (xdotool).

A point outside a compared model's range is said in its row, with what it played; the
heat-maps of two models share one colour scale; a point clamped to the range's edge has its
marker drawn whole inside the pad and the map (read from a screenshot). Of the fake models
here, ae_small_relu (the first) has a wider range (-2..2) than the others (-1..1). Run under
``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import numpy as np
import pytest
from window_driver import (
    REAL_INPUT_MARKS,
    click,
    click_middle,
    make_app,
    models_loaded,
    pad_pixel_to_point,
    pick_in_combo,
    press,
    screen_steady,
    screenshot,
    wait_workers_idle,
    xdo,
)

from gui import keys as k
from gui_fakes import FakeBackend, FakeModel

pytestmark = REAL_INPUT_MARKS

COMPARE_TAB = 2
NARROW = (-1.0, 1.0, -1.0, 1.0)


class NarrowModel(FakeModel):
    def latent_range(self):
        return NARROW


class NarrowBackend(FakeBackend):
    """The fakes, each with a range half ae_small_relu's (the first model)."""

    def load(self, name, folder):
        if name in self.KINDS and name not in self.damaged and name != "ae_small_relu":
            return NarrowModel(name, kind=self.KINDS[name])
        return super().load(name, folder)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, backend=NarrowBackend())
    assert app.run_until(lambda s: models_loaded(app))
    app.window.TKroot.update()
    wait_workers_idle(app)
    yield app
    app.close()


def choose_in_list(app, key, names):
    listbox = app.window[key].Widget
    rows = list(listbox.get(0, "end"))
    for name in names:
        listbox.see(rows.index(name))
        app.window.TKroot.update()
        x, y, _, height = listbox.bbox(rows.index(name))
        click(listbox, x + 20, y + height // 2)
    assert app.run_until(lambda s: sorted(app.window[key].get()) == sorted(names)), app.window[key].get()


def row_notes(app):
    figure = app.panels["compare"].current.figure
    return [text.get_text() for ax in figure.axes for text in ax.texts]


def test_compare_says_in_the_row_when_the_point_is_outside_a_models_range(app):
    pad = app.window[k.PAD].Widget
    point = pad_pixel_to_point(app, pad.winfo_width() - 20, 40)  # x about 1.76: outside vae_a's -1..1
    click(pad, pad.winfo_width() - 20, 40)
    assert app.run_until(lambda s: s.sound.point is not None and abs(s.sound.point[0] - point[0]) < 0.05)
    point = app.state.point
    app.window[k.TABS].Widget.select(COMPARE_TAB)  # choosing a tab is not under test
    app.window.TKroot.update()
    choose_in_list(app, k.COMPARE_LIST, ["ae_small_relu", "vae_a"])
    click_middle(app.window[k.COMPARE].Widget)
    assert app.run_until(
        lambda s: s.compare is not None and app.panels["compare"].current is not None and len(row_notes(app)) == 2, timeout=20
    )
    edge = (min(point[0], NARROW[1]), min(point[1], NARROW[3]))
    assert row_notes(app) == [
        "ae_small_relu",
        f"vae_a: ({point[0]:.3f}, {point[1]:.3f}) is outside its range\n"
        f"played the nearest point in it, ({edge[0]:.3f}, {edge[1]:.3f})",
    ]
    np.testing.assert_array_equal(app.state.compare.sounds[1], NarrowModel("vae_a").decode([edge])[0])
    assert "outside the range of vae_a" in app.state.message


def map_image(app, name):
    """The heat-map image the map panel shows for model ``name``, once it is there."""
    current = app.panels["map"].current
    if current is None or current.axes is None or tuple(current.key)[:2] != (name, "brightness"):
        return None
    return current.axes.images[0] if current.axes.images else None


def test_two_models_heat_maps_share_one_colour_scale_shown_on_the_bar(app):
    from matplotlib.colors import LogNorm

    combo = app.window[k.MAP_MODE].Widget
    pick_in_combo(app, combo, list(combo.cget("values")).index("brightness heat-map"), x=combo.winfo_width() - 8)
    shown = []
    for step in range(2):
        if step:
            press("bracketright")  # the next model, as a user flips between them
        assert app.run_until(
            lambda s: s.model is not None and (not shown or s.model.name != shown[0][0]) and map_image(app, s.model.name) is not None,
            timeout=30,
        ), app.state.message
        image = map_image(app, app.state.model.name)
        values = np.asarray(image.get_array())
        bar = app.panels["map"].current.figure.axes[-1]
        shown.append((app.state.model.name, values.min(), values.max(), image.norm, bar.get_ylabel()))
    (first, low1, high1, norm1, label1), (second, low2, high2, norm2, label2) = shown
    assert first != second and (low1, high1) != (low2, high2)  # two models' sounds, of other brightnesses...
    for norm in (norm1, norm2):  # ...on one scale: a colour is the same brightness in both
        assert isinstance(norm, LogNorm) and (norm.vmin, norm.vmax) == (0.05, 12.0)
    assert label1 == label2 == "brightness: spectral centroid (kHz; one scale for every model)"


def dark_pixels(picture):
    """The marker's ring: the only black on the pad (x, y of each of its pixels)."""
    ys, xs = np.nonzero(np.all(picture < 60, axis=2))
    return xs, ys


def box_of(xs, ys):
    return int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())


def type_point(app, x, y):
    """Type a point into X and Y as a user does, and press Enter."""
    for key, value in ((k.X, x), (k.Y, y)):
        click_middle(app.window[key].Widget)
        press("ctrl+slash")  # Tk's select-all in a field
        xdo("type", "--delay", "20", "--", str(value))
    press("Return")


def map_pixel(app, point):
    """The map widget's pixel (x down from the top) of a latent point."""
    axes = app.panels["map"].current.axes
    x, y = axes.transData.transform(point)
    return x, app.panels["map"].tk.get_tk_widget().winfo_height() - y


def test_a_clamped_points_marker_is_drawn_whole_inside_the_pad_and_the_map(app):
    pad = app.window[k.PAD].Widget
    assert app.run_until(lambda s: app.panels["map"].current is not None and app.panels["map"].current.axes is not None)
    status = app.window[k.STATUS].Widget  # off the map and the pad: their tooltips would be in the pictures
    xdo("mousemove", "--sync", status.winfo_rootx() + 40, status.winfo_rooty() + 5)
    assert app.run_until(
        lambda s: all(tip is None or tip.tipwindow is None for tip in (app.panels["map"]._tooltip, app.window[k.PAD].TooltipObject))
    )
    map_widget = app.panels["map"].tk.get_tk_widget()
    start = app.state.point
    pad_before, map_before = screen_steady(app, pad, map_widget)  # the pad and the map drawn
    left, right, top, bottom = box_of(*dark_pixels(pad_before))
    ring = (right - left, bottom - top, dark_pixels(pad_before)[0].size)
    type_point(app, 9, 9)  # far outside the range: clamped to its corner
    assert app.run_until(lambda s: s.point == (2.0, 2.0) and s.sound.point == s.point)
    assert "clamped" in app.state.message

    def in_the_corner(_state):
        xs, ys = dark_pixels(screenshot(pad))
        return xs.size > 0 and xs.max() >= pad.winfo_width() - 4 and ys.min() <= 3

    def moved_on_the_map(_state):
        changed_y, changed_x = np.nonzero(np.any(map_before != screenshot(map_widget), axis=2))
        old_x, old_y = map_pixel(app, start)
        return bool((np.hypot(changed_x - old_x, changed_y - old_y) >= 20).any())

    # the marker is drawn at the corner on the pad and has left the start on the map...
    assert app.run_until(lambda s: in_the_corner(s) and moved_on_the_map(s), timeout=20)
    pad_after, map_after = screen_steady(app, pad, map_widget)  # ...and the drawing is done
    xs, ys = dark_pixels(pad_after)
    left, right, top, bottom = box_of(xs, ys)
    height, width = pad_after.shape[:2]
    # all of the ring, on the pad: as wide, as tall and as many pixels as in the middle
    assert 0 < left and right < width - 1 and 0 < top and bottom < height - 1, (left, right, top, bottom)
    assert abs((right - left) - ring[0]) <= 1 and abs((bottom - top) - ring[1]) <= 1
    assert xs.size >= 0.9 * ring[2], (xs.size, ring)
    assert right >= width - 4 and top <= 3  # in the corner the point is in
    # the map: what changed is the ring leaving the start and arriving at the corner
    changed_y, changed_x = np.nonzero(np.any(map_before != map_after, axis=2))
    old_x, old_y = map_pixel(app, start)
    was_there = np.hypot(changed_x - old_x, changed_y - old_y) < 20
    old_box = box_of(changed_x[was_there], changed_y[was_there])
    new_box = box_of(changed_x[~was_there], changed_y[~was_there])
    axes = app.panels["map"].current.axes.bbox
    frame = (axes.x0, axes.x1, map_after.shape[0] - axes.y1, map_after.shape[0] - axes.y0)
    assert frame[0] <= new_box[0] and new_box[1] <= frame[1] and frame[2] <= new_box[2] and new_box[3] <= frame[3], (new_box, frame)
    assert abs((new_box[1] - new_box[0]) - (old_box[1] - old_box[0])) <= 2  # the whole ring
    assert abs((new_box[3] - new_box[2]) - (old_box[3] - old_box[2])) <= 2
