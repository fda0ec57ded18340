"""The real window driven as a user drives it: X mouse and key events sent with xdotool.

No event is posted to the handlers here. Each test moves the real pointer, clicks and
presses keys on the virtual screen, lets the window's own loop run, and checks what the
user gets: the point decoded under the cursor, the favourite on disk, the window's width.
The models are the NumPy fakes of ``gui_fakes.py`` (latent range -2..2), so the tests
stay fast. Needs a display and xdotool: run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""
import contextlib
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from gui import keys as k
from gui.state import READY
from gui_fakes import FakeBackend

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run"),
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed"),
]

SPAN = 4.0  # the fake models' latent range is -2..2 on both axes


def make_app(tmp_path, backend=None, **options):
    from gui.window import GuiApp, GuiOptions

    options = {"models_dir": str(tmp_path / "zoo"), "favourites_dir": str(tmp_path / "favs"),
               "settings_path": str(tmp_path / "settings.json"), "seed": 0, **options}
    return GuiApp(GuiOptions(**options), backend=backend or FakeBackend()).open()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None
                         and s.player.ready and s.entries["gan"].state == READY)
    app.window.TKroot.update()
    yield app
    app.close()


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=20)


@contextlib.contextmanager
def button_held(widget, x, y):
    """Press the left button at pixel (x, y) of a widget, and release it however the block ends.

    A failing assertion inside a drag must not leave the button down: the next test's
    clicks would then land on a grab that no longer exists.
    """
    xdo("mousemove", "--sync", widget.winfo_rootx() + x, widget.winfo_rooty() + y, "mousedown", "1")
    try:
        yield
    finally:
        xdo("mouseup", "1")


def click(widget, x, y):
    """A real left click at pixel (x, y) of a Tk widget."""
    xdo("mousemove", "--sync", widget.winfo_rootx() + x, widget.winfo_rooty() + y, "click", "1")


def click_middle(widget):
    click(widget, widget.winfo_width() // 2, widget.winfo_height() // 2)


def press(*keys):
    xdo("key", "--delay", "30", *keys)


def screenshot(widget):
    """What the X server shows of a Tk widget: an (height, width, 3) uint8 RGB array."""
    from PIL import ImageGrab

    widget.update_idletasks()
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    box = (x, y, x + widget.winfo_width(), y + widget.winfo_height())
    return np.asarray(ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).convert("RGB"))


def settle(app, seconds=0.3):
    """Let the loop handle whatever the X server has sent."""
    app.run_until(lambda s: False, timeout=seconds)


def pick_in_combo(app, combo, index, x=None):
    """Pick entry ``index`` of a ttk combo as a user does: a real click opens its list (at
    pixel ``x``, its middle by default), and a real click on the entry picks it.

    The list is waited for, on screen and laid out, before the entry is clicked: keys or clicks
    sent before then go elsewhere on a slow machine (a fixed pause was not enough in CI)."""
    popdown = str(combo.tk.eval(f"ttk::combobox::PopdownWindow {combo}"))
    listbox = f"{popdown}.f.l"

    def shown():
        return bool(int(combo.tk.eval(f"winfo viewable {listbox}"))) and bool(combo.tk.eval(f"{listbox} bbox {index}"))

    wanted = combo.cget("values")[index]
    click(combo, combo.winfo_width() // 2 if x is None else x, combo.winfo_height() // 2)
    assert app.run_until(lambda s: shown(), timeout=10), "the combo's list did not open"
    settle(app, 0.2)
    left, top, width, height = (int(v) for v in combo.tk.eval(f"{listbox} bbox {index}").split())
    xdo("mousemove", "--sync", int(combo.tk.eval(f"winfo rootx {listbox}")) + left + width // 2,
        int(combo.tk.eval(f"winfo rooty {listbox}")) + top + height // 2, "click", "1")
    assert app.run_until(lambda s: not int(combo.tk.eval(f"winfo ismapped {popdown}")), timeout=10), \
        "the combo's list did not close"
    assert app.run_until(lambda s: combo.get() == wanted, timeout=10), (combo.get(), wanted)


def pad_pixel_to_point(app, px, py):
    """The latent point under pixel (px, py) of the pad (what the user expects to hear)."""
    xmin, xmax, ymin, ymax = app.state.model.latent_range
    width = app.window[k.PAD].Widget.winfo_width()
    height = app.window[k.PAD].Widget.winfo_height()
    return xmin + px / width * (xmax - xmin), ymax - py / height * (ymax - ymin)


def near(a, b, tolerance):
    return a is not None and abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def one_pixel(app):
    return SPAN / app.window[k.PAD].Widget.winfo_width()


def not_integer(point):
    return all(abs(v - round(v)) > 1e-6 for v in point)


def tree_row(app, name):
    tree = app.window[k.MODELS]
    iid = tree.KeyToID[name]
    tree.Widget.see(iid)
    app.window.TKroot.update()
    x, y, _, height = tree.Widget.bbox(iid)
    return tree.Widget, x + 30, y + height // 2


def choose_model(app, name):
    widget, x, y = tree_row(app, name)
    click(widget, x, y)
    assert app.run_until(lambda s: s.model is not None and s.model.name == name
                         and s.sound.audio is not None and s.sound.point == s.point)


def test_a_click_on_the_pad_decodes_the_point_under_the_cursor(app):
    pad = app.window[k.PAD].Widget
    for px, py in ((181, 133), (47, 290)):
        expected = pad_pixel_to_point(app, px, py)
        click(pad, px, py)
        assert app.run_until(lambda s, expected=expected: near(s.sound.point, expected,
                                                               one_pixel(app)))
        assert not_integer(app.state.sound.point)
        x_field, y_field = float(app.window[k.X].get()), float(app.window[k.Y].get())
        assert near((x_field, y_field), expected, one_pixel(app))


def test_a_drag_gives_distinct_points_and_the_loop_follows(app):
    pad = app.window[k.PAD].Widget
    click(pad, 60, 200)
    press("l")
    assert app.run_until(lambda s: s.sound.looping)
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    swaps_before = sum(1 for call in app.workers.player.calls if call[0] == "swap")
    heard = []
    with button_held(pad, 60, 200):
        for step in range(1, 7):
            px, py = 60 + 31 * step, 200 - 17 * step
            expected = pad_pixel_to_point(app, px, py)
            xdo("mousemove", "--sync", pad.winfo_rootx() + px, pad.winfo_rooty() + py)
            assert app.run_until(lambda s, expected=expected: near(s.sound.point, expected,
                                                                   one_pixel(app)))
            heard.append(app.state.sound.point)
    end = pad_pixel_to_point(app, 60 + 31 * 6, 200 - 17 * 6)
    settle(app)
    assert near(app.state.point, end, one_pixel(app))  # the release (+UP) keeps the last point
    assert len(set(heard)) == 6 and all(not_integer(p) for p in heard)
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    swaps = sum(1 for call in app.workers.player.calls if call[0] == "swap") - swaps_before
    assert swaps >= 6  # the looping sound was replaced at each point heard
    assert app.window[k.PLAYING].get().startswith("⟳ looping ae_small_relu at (")
    press("Escape")
    assert app.run_until(lambda s: not s.sound.looping)
    assert app.window[k.PLAYING].get() == "■ stopped"


def test_keys_after_a_click_in_the_model_list_are_shortcuts(app, tmp_path):
    choose_model(app, "vae_a")
    start = app.state.point
    press("Down", "Down")
    assert app.run_until(lambda s: s.point[1] < start[1] and s.sound.point == s.point)
    assert app.state.model.name == "vae_a" and app.state.wanted == "vae_a"
    tree = app.window[k.MODELS].Widget
    groups = tree.get_children("")
    assert groups and all(tree.item(group, "open") for group in groups)  # none collapsed
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    assert [p.name.startswith("vae_a_") for p in (tmp_path / "favs").glob("*.wav")] == [True]
    press("space")
    assert app.run_until(lambda s: app.window[k.PLAYING].get().startswith("▶ playing vae_a at"))
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    assert app.workers.player.calls[-1][0] == "play"


def test_s_right_after_a_click_in_the_model_list_saves_one(app, tmp_path):
    widget, x, y = tree_row(app, "gan")
    click(widget, x, y)
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    assert len(list((tmp_path / "favs").glob("*.wav"))) == 1


def test_keys_after_a_click_on_the_morph_steps_box_are_shortcuts(app):
    app.window[k.TABS].Widget.select(3)  # the Morph tab (choosing a tab is not under test)
    app.window.TKroot.update()
    steps = app.window[k.STEPS].Widget
    click(steps, steps.winfo_width() - 5, 4)  # its up arrow
    assert app.run_until(lambda s: app.window[k.STEPS].get() == 9)
    click(steps, 6, steps.winfo_height() // 2)  # its number, where a cursor would go
    press("l", "s")
    assert app.run_until(lambda s: s.sound.looping)
    press("Escape")
    assert app.run_until(lambda s: not s.sound.looping)
    assert app.run_until(lambda s: len(s.favourites) == 1)
    assert str(steps.get()) == "9"  # nothing was typed into it


def test_a_click_on_the_pad_takes_the_keys_back_from_a_text_field(app):
    x_field = app.window[k.X]
    click_middle(x_field.Widget)
    assert app.run_until(lambda s: app.window.TKroot.focus_get() is x_field.Widget)
    before = x_field.get()
    press("l", "5")  # typed into X: not a shortcut, and a letter is not taken by a number's field
    assert app.run_until(lambda s: len(x_field.get()) == len(before) + 1)
    assert "l" not in x_field.get() and "5" in x_field.get() and not app.state.sound.looping
    click(app.window[k.PAD].Widget, 100, 100)
    assert app.run_until(lambda s: app.window.TKroot.focus_get() is app.window[k.PAD].Widget)
    press("l")
    assert app.run_until(lambda s: s.sound.looping)


def test_typing_in_x_and_y_then_enter_goes_there(app):
    for key, text in ((k.X, "0.625"), (k.Y, "-1.375")):
        click_middle(app.window[key].Widget)
        press("End", *["BackSpace"] * 12)
        xdo("type", "--delay", "30", "--", text)
    press("Return")
    assert app.run_until(lambda s: s.sound.point == (0.625, -1.375))
    press("space")  # Enter gave the keys back
    assert app.run_until(lambda s: s.sound.playing == "playing")


def test_reopening_a_favourite_of_another_model_lands_on_its_point(app, tmp_path):
    choose_model(app, "gan")
    pad = app.window[k.PAD].Widget
    expected = pad_pixel_to_point(app, 250, 70)
    click(pad, 250, 70)
    assert app.run_until(lambda s: near(s.sound.point, expected, one_pixel(app)))
    saved_point = app.state.sound.point
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    choose_model(app, "ae_small_relu")
    assert app.state.entries["gan"].state == READY  # loaded already: its echo came at once
    favourites = app.window[k.FAVOURITES].Widget
    x, y, _, height = favourites.bbox(0)
    click(favourites, x + 20, y + height // 2)
    click_middle(app.window[k.REOPEN].Widget)
    assert app.run_until(lambda s: s.model.name == "gan" and s.sound.point == s.point
                         and s.point != s.model.center)
    assert near(app.state.point, saved_point, 1e-6)
    settle(app, 0.5)  # the list's echo of its selection arrives and changes nothing
    assert app.state.model.name == "gan" and near(app.state.point, saved_point, 1e-6)


def test_the_remembered_point_is_where_the_window_opens(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"model": "vae_a",
                                                        "point": [1.3125, -0.6875]}))
    # the list of a real zoo takes a while: the model list shows the remembered model first
    app = make_app(tmp_path, backend=FakeBackend(listing_seconds=1.0))
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None)
        settle(app, 0.5)
        assert app.state.model.name == "vae_a" and app.state.point == (1.3125, -0.6875)
        assert app.window[k.X].get() == "1.3125"
    finally:
        app.close()


def test_first_launch_opens_the_best_model_by_the_evaluation(tmp_path):
    from evaluation.cache import save_metrics

    for name, recon in (("ae_small_relu", 1.41), ("vae_a", 1.17), ("gan", None)):
        (tmp_path / "zoo" / name).mkdir(parents=True)
        save_metrics(tmp_path / "zoo" / name, {"metrics": {"recon_stft": recon}}, key={})
    app = make_app(tmp_path)
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None)
        assert app.state.model.name == "vae_a"
        why = "opened vae_a: the lowest reconstruction error of 2 evaluated models"
        assert why in app.window[k.STATUS].get()
        assert why in app.window[k.MODELS].TooltipObject.text
    finally:
        app.close()


def test_a_long_status_message_keeps_the_window_width(app):
    root = app.window.TKroot
    width = root.winfo_width()
    pad = app.window[k.PAD].Widget
    click(pad, 40, 60)
    click_middle(app.window[k.SET_A].Widget)
    click(pad, 290, 280)
    click_middle(app.window[k.SET_B].Widget)
    assert app.run_until(lambda s: s.morph.a is not None and s.morph.b is not None
                         and s.morph.a != s.morph.b)
    app.window[k.TABS].Widget.select(3)
    root.update()
    click_middle(app.window[k.MORPH].Widget)
    assert app.run_until(lambda s: s.morph.sequence is not None)
    click_middle(app.window[k.MORPH_SAVE].Widget)
    assert app.run_until(lambda s: s.message.startswith("saved ") and len(s.favourites) == 8)
    settle(app)
    root.update_idletasks()
    assert root.winfo_width() == width and root.winfo_reqwidth() <= 1280
    shown = app.window[k.STATUS].get()
    assert shown.endswith("…") and app.state.message not in shown
    assert app.window[k.STATUS].TooltipObject.text.endswith(app.state.message)


def test_a_click_on_the_map_lands_on_the_point_under_the_cursor(app):
    panel = app.panels["map"]
    assert app.run_until(lambda s: panel.current is not None and panel.current.codes is not None)
    root = app.window.TKroot
    root.update()
    axes = panel.current.axes
    widget = panel.tk.get_tk_widget()
    codes_px = axes.transData.transform(panel.current.codes)
    # a spot between the training samples (a click on one auditions it instead)
    for target in ((0.8125, -1.1875), (-1.4375, 0.5625), (0.0625, 1.3125)):
        spot = axes.transData.transform(target)
        if np.min(np.hypot(*(codes_px - spot).T)) > 15:
            break
    px, py = spot[0], widget.winfo_height() - spot[1]
    pixel_span = SPAN / axes.bbox.width
    click(widget, round(px), round(py))
    assert app.run_until(lambda s: near(s.sound.point, target, 1.5 * pixel_span))


def test_five_clicks_each_followed_by_s_save_five_distinct_points(app, tmp_path):
    pad = app.window[k.PAD].Widget
    expected = []
    for i, (px, py) in enumerate(((57, 61), (163, 250), (281, 119), (97, 187), (222, 300))):
        expected.append(pad_pixel_to_point(app, px, py))
        xdo("mousemove", "--sync", pad.winfo_rootx() + px, pad.winfo_rooty() + py,
            "click", "1", "key", "s")  # S at once, before the point is decoded
        assert app.run_until(lambda s, count=i + 1: len(list((tmp_path / "favs").glob("*.json")))
                             == count)
    saved = [json.loads(p.read_text())["point"] for p in (tmp_path / "favs").glob("*.json")]
    assert len({tuple(p) for p in saved}) == 5 and all(not_integer(p) for p in saved)
    for point in expected:
        assert any(near(p, point, one_pixel(app)) for p in saved)
