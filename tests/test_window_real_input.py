"""The real window driven as a user drives it: X mouse and key events sent with xdotool.

No event is posted to the handlers here. Each test moves the real pointer, clicks and
presses keys on the virtual screen, lets the window's own loop run, and checks what the
user gets: the point decoded under the cursor, the favourite on disk, the window's width.
The models are the NumPy fakes of ``gui_fakes.py`` (latent range -2..2), so the tests
stay fast. Needs a display and xdotool: run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json

import numpy as np
from window_driver import (
    REAL_INPUT_MARKS,
    SPAN,
    app,
    button_held,
    choose_model,
    click,
    click_middle,
    make_app,
    near,
    one_pixel,
    pad_pixel_to_point,
    press,
    tree_row,
    xdo,
)

from gui import keys as k
from gui.state import READY
from gui_fakes import FakeBackend

pytestmark = REAL_INPUT_MARKS
app = app  # the window with the fake models, a fixture


def not_integer(point):
    return all(abs(v - round(v)) > 1e-6 for v in point)


def test_a_click_on_the_pad_decodes_the_point_under_the_cursor(app):
    pad = app.window[k.PAD].Widget
    for px, py in ((181, 133), (47, 290)):
        expected = pad_pixel_to_point(app, px, py)
        click(pad, px, py)
        assert app.run_until(lambda s, expected=expected: near(s.sound.point, expected, one_pixel(app)))
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
            assert app.run_until(lambda s, expected=expected: near(s.sound.point, expected, one_pixel(app)))
            heard.append(app.state.sound.point)
    end = pad_pixel_to_point(app, 60 + 31 * 6, 200 - 17 * 6)

    def steps(s):
        return s.history.of(s.model.name).points

    # the release (+UP) is the drag's step in the history: once it is handled, it kept the last point
    assert app.run_until(lambda s: len(steps(s)) >= 2 and near(steps(s)[-1], end, one_pixel(app)))
    assert near(app.state.point, end, one_pixel(app))
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
    assert app.run_until(lambda s: s.model.name == "gan" and s.sound.point == s.point and s.point != s.model.center)
    assert near(app.state.point, saved_point, 1e-6)
    # the list's echo of its selection, queued before the L pressed after it, changes nothing
    press("l")
    assert app.run_until(lambda s: s.sound.looping)
    assert app.state.model.name == "gan" and near(app.state.point, saved_point, 1e-6)
    press("Escape")
    assert app.run_until(lambda s: not s.sound.looping)


def test_the_remembered_point_is_where_the_window_opens(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"model": "vae_a", "point": [1.3125, -0.6875]}))
    # the list of a real zoo takes a while: the model list shows the remembered model first
    app = make_app(tmp_path, backend=FakeBackend(listing_seconds=1.0))
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None)
        # the list of the zoo arrives and the other models load: the remembered one stays
        assert app.run_until(lambda s: "gan" in s.entries and s.entries["gan"].state == READY, timeout=30)
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
    assert app.run_until(lambda s: s.morph.a is not None and s.morph.b is not None and s.morph.a != s.morph.b)
    app.window[k.TABS].Widget.select(3)
    root.update()
    click_middle(app.window[k.MORPH].Widget)
    assert app.run_until(lambda s: s.morph.sequence is not None)
    click_middle(app.window[k.MORPH_SAVE].Widget)
    assert app.run_until(lambda s: s.message.startswith("saved ") and len(s.favourites) == 8)
    assert app.run_until(lambda s: app.window[k.STATUS].TooltipObject.text.endswith(s.message)), app.window[
        k.STATUS
    ].get()  # the line shows the message
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
        xdo(
            "mousemove", "--sync", pad.winfo_rootx() + px, pad.winfo_rooty() + py, "click", "1", "key", "s"
        )  # S at once, before the point is decoded
        assert app.run_until(lambda s, count=i + 1: len(list((tmp_path / "favs").glob("*.json"))) == count)
    saved = [json.loads(p.read_text())["point"] for p in (tmp_path / "favs").glob("*.json")]
    assert len({tuple(p) for p in saved}) == 5 and all(not_integer(p) for p in saved)
    for point in expected:
        assert any(near(p, point, one_pixel(app)) for p in saved)
