"""The window explains itself (issue 34), driven with real X input (xdotool) under Xvfb.

Resting the pointer on the pad or the map shows what they are (a dot, why near points sound
alike); the map's "made here" view paints the family the classifier hears in what the model
makes, under the training labels' dots, so a dot labelled one family on a field of another is
seen; the Nearest tab says its distances' units, wraps its whole note, and a double-click on a
row whose file is not on this machine plays the model's decode of that sound's code (heard
through the real player's tap). Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import os
import tkinter.font

import numpy as np
import pytest
from window_driver import (
    REAL_INPUT_MARKS,
    HeardBackend,
    HeardCapture,
    is_heard,
    make_app,
    near,
    one_pixel,
    pad_pixel_to_point,
    pick_in_combo,
    screen_steady,
    screenshot,
    wait_pad_settled,
    wait_workers_idle,
    xdo,
)

from gui import keys as k
from gui.features import MADE, MADE_GRID, grid_points
from gui.glossary import MAP_TIPS, PAD_TIP
from gui.handlers.nearest import code_of, nearest_note
from gui.palette import family_colour, made_colour
from gui.state import READY
from gui_fakes import FakeBackend, FakeModel

pytestmark = REAL_INPUT_MARKS  # a display and xdotool

SPLIT_HZ = 200.0  # the fake models' pitch at x = 0 (gui_fakes.FakeModel: 200 Hz * 2 ** x)


class PitchClassifier:
    """Hears a fake model's decaying sine as a kick below 200 Hz (x < 0), a hat above: the
    fakes' training labels (kick, snare, hat in turn) do not follow x, so on the "made here"
    map many a kick or snare dot lies on a hat field."""

    def predict(self, audio, sample_rate):
        audio = np.atleast_2d(audio)
        spectrum = np.abs(np.fft.rfft(audio, axis=1))
        peaks = np.fft.rfftfreq(audio.shape[1], 1.0 / sample_rate)[spectrum.argmax(axis=1)]
        return ["kick" if peak < SPLIT_HZ else "hat" for peak in peaks]


class HearingBackend(FakeBackend):
    """The fakes, with the pitch classifier as the zoo's family classifier."""

    def family_classifier(self, folder):
        return PitchClassifier(), None


def ready(app):
    assert app.run_until(
        lambda s: s.model is not None and s.sound.audio is not None and s.player.ready and s.entries["gan"].state == READY
    )
    app.window.TKroot.update()
    wait_workers_idle(app)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, backend=HearingBackend())
    ready(app)
    yield app
    app.close()


def tooltip_text(tooltip):
    """The text of a PySimpleGUI tooltip while it is on screen, else None."""
    window = tooltip.tipwindow if tooltip is not None else None
    if window is None or not window.winfo_exists() or not window.winfo_viewable():
        return None
    return window.winfo_children()[0].cget("text")


def pointer_to_status(app):
    """The real pointer onto the status line: off the pad and the map (whose tips would show),
    and still over the window (without a window manager, keys go to the window under it)."""
    status = app.window[k.STATUS].Widget
    xdo("mousemove", "--sync", status.winfo_rootx() + 40, status.winfo_rooty() + status.winfo_height() // 2)


def rest_pointer_on(app, widget, x, y):
    """Move the real pointer off ``widget``, then onto its pixel (x, y), and rest."""
    pointer_to_status(app)
    xdo("mousemove", "--sync", widget.winfo_rootx() + x, widget.winfo_rooty() + y)


def test_resting_on_the_pad_shows_what_a_dot_is_and_why_near_points_sound_alike(app):
    pad = app.window[k.PAD]
    rest_pointer_on(app, pad.Widget, 12, 12)
    assert app.run_until(lambda s: tooltip_text(pad.TooltipObject) is not None, timeout=10)
    text = tooltip_text(pad.TooltipObject)
    assert text == PAD_TIP
    assert "A dot is one training sound" in text and "Near points sound alike" in text
    xdo("click", "1")  # a click on the pad puts it away
    assert app.run_until(lambda s: tooltip_text(pad.TooltipObject) is None, timeout=10)
    pointer_to_status(app)


def test_a_click_on_the_pads_tip_is_a_click_on_the_pad_under_it(app):
    """The tip lies over the pad: the pointer moved onto it and clicked there (in one go, as
    fast as X allows) plays the point under that pixel, and the tip is gone."""
    pad = app.window[k.PAD]
    wait_pad_settled(app)
    rest_pointer_on(app, pad.Widget, 12, 12)
    assert app.run_until(lambda s: tooltip_text(pad.TooltipObject) is not None, timeout=10)
    tip = pad.TooltipObject.tipwindow
    x, y = tip.winfo_rootx() + 30, tip.winfo_rooty() + tip.winfo_height() // 2
    px, py = x - pad.Widget.winfo_rootx(), y - pad.Widget.winfo_rooty()
    assert 0 < px < pad.Widget.winfo_width() and 0 < py < pad.Widget.winfo_height()  # over the pad
    expected = pad_pixel_to_point(app, px, py)
    xdo("mousemove", "--sync", x, y, "click", "1")
    assert app.run_until(lambda s: near(s.sound.point, expected, one_pixel(app))), (app.state.sound.point, expected)
    assert app.run_until(lambda s: tooltip_text(pad.TooltipObject) is None, timeout=10)
    pointer_to_status(app)


def map_widget(app):
    """The map's picture, once it is on screen at its size."""
    panel = app.panels["map"]
    assert app.run_until(
        lambda s: (
            panel.current is not None
            and panel.attached
            and panel.tk.get_tk_widget().winfo_ismapped()
            and panel.tk.get_tk_widget().winfo_height() > 100
        )
    )
    return panel.tk.get_tk_widget()


def choose_map_mode(app, mode_label):
    combo = app.window[k.MAP_MODE].Widget
    pick_in_combo(app, combo, list(combo.cget("values")).index(mode_label), x=combo.winfo_width() - 8)


def test_resting_on_the_map_says_what_a_dot_is_and_what_the_made_view_shows(app):
    widget = map_widget(app)
    rest_pointer_on(app, widget, 40, widget.winfo_height() - 40)
    assert app.run_until(lambda s: tooltip_text(app.panels["map"]._tooltip) is not None, timeout=10)
    text = tooltip_text(app.panels["map"]._tooltip)
    assert text == MAP_TIPS["codes"] and "a dot is one training sound" in text and "Near dots sound alike" in text
    choose_map_mode(app, "made here: the family heard")
    rest_pointer_on(app, widget, 40, widget.winfo_height() - 40)
    assert app.run_until(lambda s: tooltip_text(app.panels["map"]._tooltip) == MAP_TIPS[MADE], timeout=10), tooltip_text(
        app.panels["map"]._tooltip
    )
    pointer_to_status(app)


def made_shown(app):
    current = app.panels["map"].current
    return (
        current is not None
        and tuple(current.key)[:2] == (app.state.model.name, MADE)
        and current.axes is not None
        and len(current.axes.images) == 1
    )


def rgb(colour):
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def test_the_made_here_map_paints_the_family_heard_under_dots_of_another_label(app):
    choose_map_mode(app, "made here: the family heard")
    assert app.run_until(lambda s: made_shown(app), timeout=30), app.state.message
    pointer_to_status(app)  # off the map: its tooltip would be in the picture
    assert app.run_until(lambda s: tooltip_text(app.panels["map"]._tooltip) is None, timeout=10)
    screen_steady(app, map_widget(app))  # the figure drawn, nothing more to come
    grid = app.state.map.heatmaps[(app.state.model.name, MADE)]
    assert grid.shape == (MADE_GRID, MADE_GRID) and set(np.unique(grid)) == {"kick", "hat"}
    current = app.panels["map"].current
    legend = current.axes.get_legend().get_window_extent()
    assert legend.x0 >= current.axes.bbox.x1  # beside the dots, not over them
    widget = map_widget(app)
    picture = screenshot(widget).astype(int)
    height = widget.winfo_height()

    def pixel(point):
        x, y = current.axes.transData.transform(point)
        return int(round(x)), int(round(height - y))

    codes = app.state.model.codes
    dots = np.array([pixel(p) for p in codes.points])
    marker = np.array(pixel(app.state.point))
    centres = grid_points(app.state.model.latent_range, MADE_GRID)
    found = []
    for index, label in enumerate(codes.families):
        cell = int(np.argmin(np.hypot(*(centres - codes.points[index]).T)))
        heard = grid.ravel()[cell]
        spot = np.array(pixel(centres[cell]))  # the field's middle, where no dot lies
        if heard == label or np.min(np.hypot(*(dots - spot).T)) < 7 or np.hypot(*(marker - spot)) < 16:
            continue
        found.append((label, heard, picture[spot[1], spot[0]]))
    assert found, "no training dot of another label on a field"
    for label, heard, shown in found:  # the field is in the colour of the family heard, not the label's
        assert np.abs(shown - rgb(made_colour(heard))).max() <= 12, (label, heard, shown)
        assert np.abs(shown - rgb(made_colour(label))).max() > 30 and np.abs(shown - rgb(family_colour(label))).max() > 30


# -- Nearest


@pytest.fixture
def heard(tmp_path):
    (tmp_path / "settings.json").write_text('{"volume": 1.0}')
    capture = HeardCapture()
    app = make_app(tmp_path, backend=HeardBackend(capture))
    ready(app)
    yield app, capture
    app.close()


def show_tab(app, name):
    """Click the tab's label, as a user does."""
    tabs = app.window[k.TABS].Widget
    wanted = [tabs.tab(i, "text") for i in range(tabs.index("end"))].index(name)
    x = next(x for x in range(2, tabs.winfo_width(), 3) if tabs.index(f"@{x},10") == wanted)
    xdo("mousemove", "--sync", tabs.winfo_rootx() + x + 6, tabs.winfo_rooty() + 10, "click", "1")
    assert app.run_until(lambda s: tabs.tab("current", "text") == name), tabs.tab("current", "text")


def wrapped_lines(text, width, measure):
    """How many lines a label of ``width`` pixels wraps ``text`` to (at spaces, as Tk does)."""
    lines, line = 1, ""
    for word in text.split(" "):
        if line and measure(f"{line} {word}") > width:
            lines, line = lines + 1, word
        else:
            line = f"{line} {word}".strip()
    return lines


def test_nearest_says_its_units_shows_its_whole_note_and_a_double_click_plays_the_codes_decode(heard):
    app, capture = heard
    show_tab(app, "Nearest")
    table = app.window[k.NEAREST].Widget
    # without the dataset (the fakes' card names a folder that is not here), ten code rows
    assert app.run_until(lambda s: s.nearest is not None and len(table.get_children()) == 10, timeout=20)
    rows = [table.item(iid, "values") for iid in table.get_children()]
    assert all(row[0] == "codes" and str(row[4]).endswith(" x, y") for row in rows), rows
    note = app.window[k.NEAREST_NOTE].Widget
    text = note.cget("text")
    assert text == nearest_note(app.state.nearest) and "…" not in text
    assert "x, y units" in text and "standard deviations" in text and "the decode of its code" in text
    font = tkinter.font.Font(font=note.cget("font"))
    assert (
        wrapped_lines(text, int(note.cget("wraplength")), font.measure) * font.metrics("linespace") <= note.winfo_height()
    )  # every line of it shown
    count = len(capture.sounds())
    iid = table.get_children()[1]
    table.see(iid)
    app.window.TKroot.update()
    x, y, _, row_height = table.bbox(iid)
    xdo(
        "mousemove",
        "--sync",
        table.winfo_rootx() + x + 40,
        table.winfo_rooty() + y + row_height // 2,
        "click",
        "--repeat",
        "2",
        "--delay",
        "80",
        "1",
    )
    near = app.state.nearest.plane[1]
    assert app.run_until(lambda s: "decode of its code" in s.message and len(capture.sounds()) > count, timeout=20), app.state.message
    assert "is not on this machine" in app.state.message
    code = code_of(app.state.model, near.file)
    expected = FakeModel(app.state.model.name).decode([code])[0]
    assert app.run_until(lambda s: any(is_heard(sound, expected) for sound in capture.sounds()[count:]), timeout=10), (
        "the code's decode was not heard"
    )


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY")
def test_made_here_without_a_classifier_says_why(tmp_path):
    app = make_app(tmp_path)  # the fakes' zoo has no families.json
    try:
        ready(app)
        choose_map_mode(app, "made here: the family heard")
        assert app.run_until(lambda s: "no family classifier to listen with" in s.message, timeout=20), app.state.message
    finally:
        app.close()
