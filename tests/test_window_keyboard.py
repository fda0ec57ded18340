"""Keyboard-only use of the real window (issue 34, defect 7), with real X key presses (xdotool).

Tab and Shift+Tab reach every button in the order of the layout, and the one with the
keyboard wears a ring a screenshot shows; space presses it. Tab into X keeps its number.
The desktop's shortcuts: Ctrl+O opens a sample, Ctrl+E exports a kit, F1 (and the Help
button) shows Help, Ctrl+Tab and Ctrl+Shift+Tab move between the tabs. The card speaks in
words. Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import re
import subprocess

import numpy as np
import PySimpleGUI as sg
import pytest
from window_driver import (
    REAL_INPUT_MARKS,
    click,
    file_dialog_open,
    file_dialog_window,
    in_a_file_dialog,
    make_app,
    models_loaded,
    press,
    screenshot,
    wait_workers_idle,
    xdo,
    xdo_hover,
)

from gui import keys as k
from gui.glossary import HELP_TITLE, METRICS
from gui.keyboard import FOCUS_COLOUR
from gui_fakes import FakeBackend

pytestmark = REAL_INPUT_MARKS

METRICS_RECORD = {
    "recon_stft": 1.1,
    "recon_snr_db": -0.4653,
    "frechet": 34.2,
    "precision": 0.59,
    "coverage": 0.23,
    "ndb_k": 0.7,
    "memorisation": 1.7,
    "continuity_mean": 0.7,
    "beyond_full_scale": 0.0,
    "continuity_max": 3.9,
    "mean_sample_snr_db": -0.26,
}


class MeasuredBackend(FakeBackend):
    """The fakes, with an evaluation record for every model (the card's Evaluation rows)."""

    def cached_metrics(self, name, folder):
        return {"metrics": dict(METRICS_RECORD), "computed": "2026-12-01T16:43:00"}


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path, backend=MeasuredBackend())
    assert app.run_until(lambda s: models_loaded(app))
    app.window.TKroot.update()
    wait_workers_idle(app)
    yield app
    app.close()


def focused(app):
    return app.window.TKroot.focus_get()


def key_of(app, widget):
    for element in app.window.element_list():
        if getattr(element, "Widget", None) is widget:
            return element.Key
    return str(widget)


def walk(app, key, count):
    """Press ``key`` ``count`` times; the element keys the keyboard went to, in order."""
    seen = []
    for _ in range(count):
        before = focused(app)
        press(key)
        assert app.run_until(lambda s, before=before: focused(app) is not before, timeout=10), key_of(app, before)
        seen.append(key_of(app, focused(app)))
    return seen


def shown_buttons(app):
    """The keys of the buttons on screen and enabled, in layout order."""
    return [
        e.Key
        for e in app.window.element_list()
        if isinstance(e, sg.Button) and e.Widget.winfo_viewable() and str(e.Widget.cget("state")) != "disabled"
    ]


def test_tab_reaches_every_button_in_layout_order_and_shift_tab_goes_back(app):
    app.window[k.PAD].Widget.focus_force()
    assert app.run_until(lambda s: focused(app) is app.window[k.PAD].Widget)
    forward = walk(app, "Tab", 45)
    buttons = shown_buttons(app)
    assert set(buttons) <= set(forward), set(buttons) - set(forward)
    reached = [key for key in forward if key in buttons][: len(buttons)]
    start = buttons.index(reached[0])
    assert reached == buttons[start:] + buttons[:start]  # the layout's order, from the pad round to it
    assert forward[0] == k.FAMILY_BUTTONS["kick"]  # under the pad first, and not the X field
    assert k.PAD in forward  # the round comes back to the pad
    at = forward.index(k.RANDOM)
    for _ in range(len(forward) - 1 - at):
        walk(app, "shift+Tab", 1)
    assert key_of(app, focused(app)) == k.RANDOM
    assert walk(app, "shift+Tab", 3) == [k.GO, k.Y, k.X]


def test_the_button_with_the_keyboard_wears_a_ring_and_space_presses_it(app):
    random = app.window[k.RANDOM].Widget
    ring = tuple(int(FOCUS_COLOUR[i : i + 2], 16) for i in (1, 3, 5))

    def ring_pixels():
        picture = screenshot(random).astype(int)
        return int((np.abs(picture - ring).sum(axis=2) < 30).sum())

    app.window[k.PAD].Widget.focus_force()
    assert app.run_until(lambda s: focused(app) is app.window[k.PAD].Widget)
    without = ring_pixels()
    while focused(app) is not random:
        walk(app, "Tab", 1)
    assert app.run_until(lambda s: ring_pixels() > without + 2 * random.winfo_width(), timeout=10), (without, ring_pixels())
    point = app.state.point
    press("space")  # Random, not Play
    assert app.run_until(lambda s: s.point != point and s.sound.point == s.point)
    assert focused(app) is random


def test_space_on_the_audition_box_with_the_keyboard_turns_audition_off_and_on(app):
    """The box's own press and the window's key press come in one Tk event: the box's must win."""
    box = app.window[k.AUDITION].Widget
    assert app.state.sound.audition
    app.window[k.PAD].Widget.focus_force()
    assert app.run_until(lambda s: focused(app) is app.window[k.PAD].Widget)
    while focused(app) is not box:
        walk(app, "Tab", 1)
    for wanted in (False, True):
        press("space")
        assert app.run_until(lambda s, wanted=wanted: s.sound.audition is wanted, timeout=10)
        assert app.run_until(lambda s, wanted=wanted: app.window[k.AUDITION].get() is wanted, timeout=10)
        assert focused(app) is box


def test_tab_into_x_keeps_its_number_when_a_letter_is_typed(app):
    x_field = app.window[k.X]
    number = x_field.get()
    while focused(app) is not x_field.Widget:
        walk(app, "Tab", 1)
    press("q", "7")
    assert app.run_until(lambda s: x_field.get().endswith("7"))
    assert x_field.get() == number + "7"  # not replaced: the letter was not taken, the 7 went after it


def test_ctrl_o_opens_a_sample_and_ctrl_e_asks_for_favourites(app):
    press("ctrl+e")
    assert app.run_until(lambda s: s.message.startswith("choose favourites in the list first"))
    seen = {}

    def answer():  # in a thread: the loop is inside the modal dialog while it is open
        seen["title"] = subprocess.run(
            ["xdotool", "getwindowname", file_dialog_window()], capture_output=True, text=True, timeout=20
        ).stdout.strip()
        xdo("key", "Escape")

    thread = in_a_file_dialog(answer)
    press("ctrl+o")
    assert app.run_until(lambda s: "title" in seen and not file_dialog_open(), timeout=30), seen
    thread.join(10)
    assert seen["title"].startswith("Open")


def help_shown():
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", HELP_TITLE], capture_output=True, text=True, timeout=10)
    return bool(found.stdout.strip())


def help_window(app):
    """The Help window, once it is on screen, or None."""
    for child in app.window.TKroot.winfo_children():
        if child.winfo_class() == "Toplevel" and child.title() == HELP_TITLE and child.winfo_viewable():
            return child
    return None


def wait_help_has_the_keys(app):
    """Wait until Help is on screen and has the keyboard, as a user waits to see it before
    pressing Esc (a key sent as it opens goes to the main window)."""
    assert app.run_until(lambda s: help_shown() and help_window(app) is not None, timeout=10)
    xdo_hover(help_window(app))  # the keys go to the window under the pointer
    assert app.run_until(
        lambda s: help_window(app) is not None and str(app.window.TKroot.tk.call("focus")).startswith(str(help_window(app))),
        timeout=10,
    ), app.window.TKroot.tk.call("focus")


def help_text(app):
    for child in app.window.TKroot.winfo_children():
        if child.winfo_class() == "Toplevel" and child.title() == HELP_TITLE:
            return next(w for w in child.winfo_children() if w.winfo_class() == "Text").get("1.0", "end")
    return ""


def test_f1_and_the_help_button_show_help_and_esc_closes_it(app):
    press("F1")
    wait_help_has_the_keys(app)
    text = help_text(app)
    for words in (
        "A dot on the latent map is one training sound",
        "Why near points sound alike",
        "coverage",
        "memorisation",
        "Lower is better",
        "Ctrl+O",
        "F1",
        "1-7",
        "0: all families",
    ):
        assert words in text, words
    press("Escape")
    assert app.run_until(lambda s: not help_shown(), timeout=10)
    button = app.window[k.HELP].Widget
    click(button, button.winfo_width() // 2, button.winfo_height() // 2)
    wait_help_has_the_keys(app)
    xdo("key", "Escape")
    assert app.run_until(lambda s: not help_shown(), timeout=10)


def give_the_tabs_the_keys(app):
    """The keyboard on the tabs (as the Tab order test puts it on the pad): Tk's Ctrl+Tab moves
    the tabs of the notebook that holds the keyboard, and only those. Which widget had it
    before was left to the tests before: the pointer they left over the window."""
    tabs = app.window[k.TABS].Widget
    tabs.focus_force()
    assert app.run_until(lambda s: focused(app) is tabs), key_of(app, focused(app))


def test_ctrl_tab_and_ctrl_shift_tab_move_between_tabs(app):
    tabs = app.window[k.TABS].Widget
    first = tabs.index("current")
    give_the_tabs_the_keys(app)
    press("ctrl+Tab")
    assert app.run_until(lambda s: tabs.index("current") == first + 1)
    press("ctrl+Tab")
    assert app.run_until(lambda s: tabs.index("current") == first + 2)
    press("ctrl+shift+Tab")
    assert app.run_until(lambda s: tabs.index("current") == first + 1)


def test_ctrl_tab_moves_between_tabs_where_a_click_on_the_pad_left_the_keyboard(app):
    tabs = app.window[k.TABS].Widget
    pad = app.window[k.PAD].Widget
    click(pad, 40, 40)  # as a user does before wanting another tab
    assert app.run_until(lambda s: focused(app) is pad), key_of(app, focused(app))
    first = tabs.index("current")
    press("ctrl+Tab")
    assert app.run_until(lambda s: tabs.index("current") == first + 1)
    assert app.run_until(lambda s: focused(app) is pad)  # the keys stay with the pad: 1-7, S, space
    press("ctrl+shift+Tab")
    assert app.run_until(lambda s: tabs.index("current") == first)
    press("ctrl+shift+Tab")  # round to the last
    assert app.run_until(lambda s: tabs.index("current") == tabs.index("end") - 1)


def test_the_card_speaks_in_words_with_one_unit_each(app):
    tabs = app.window[k.TABS].Widget
    give_the_tabs_the_keys(app)
    while tabs.tab("current", "text") != "Model card":
        before = tabs.index("current")
        press("ctrl+Tab")
        assert app.run_until(lambda s, before=before: tabs.index("current") != before)
    assert app.run_until(lambda s: "Evaluation" in app.window[k.CARD].get())
    card = app.window[k.CARD].get()
    for key in (key for key in METRICS_RECORD if "_" in key):  # no raw snake_case key
        assert not re.search(rf"\b{key}\b", card), key
    assert METRICS["beyond_full_scale"][0] in card and METRICS["continuity_max"][0] in card
    assert "-0.4653 dB" in card and not re.search(r"dB\s+-?[\d.]+ dB", card)
    assert "val_loss" not in card and "total loss, held out" in card
