"""The driver of the real window for every real-input test: X input, waits and readers.

The window tests (``tests/test_window_*.py``) drive the real window as a user does, with X
events sent by xdotool under Xvfb, and import what they need from here, not from each other.

What it offers:

- **markers and the window**: ``REAL_INPUT_MARKS`` (a display and xdotool), :func:`make_app`
  (the window over the fakes of ``gui_fakes.py``, or a backend given), the ``app`` fixture (that
  window, its models loaded), :func:`open_app` (at full volume, with what is heard captured),
  :func:`open_shipped_window` (a copy of a shipped model on the real backend);
- **X input**: :func:`xdo`, :func:`click`, :func:`click_middle`, :func:`click_button`,
  :func:`button_held`, :func:`press`, :func:`xdo_hover`, :func:`pick_in_combo`,
  :func:`choose_model`, :func:`click_pad`, :func:`click_wide_pad` and :func:`step_axis_slider`
  (a wide latent's pad and sliders), :func:`turn_vary_on`, :func:`reopen_favourite`,
  :func:`select_all_favourites`, :func:`drag` (XDND, with :class:`Peer` and the ``peer``
  fixture for the other program);
- **dialogs**, answered from a thread while the window's loop is inside them:
  :func:`type_in_dialog`, :func:`answer_question`, :func:`click_in_dialog_then_type`,
  :func:`file_dialog_window`, :func:`file_dialog_open`;
- **readers**: :func:`screenshot`, :func:`status_line`, :func:`sound_line_place`, :func:`tooltip_text`,
  :func:`pad_pixel_to_point`, :func:`near`, :func:`one_pixel`, :func:`centre_of`;
- **what was heard**: :class:`HeardCapture` (a player tap), :class:`HeardBackend` and
  :class:`ShippedBackend` (a real player with that tap), :func:`click_heard`, :func:`is_heard`, :func:`model_sound`,
  :func:`file_bytes_of`;
- **waits**, each on a condition with a deadline, as Playwright's and Testing Library's
  assertions wait: :func:`wait_heard`, :func:`output_quiet`, :func:`wait_output_quiet`,
  :func:`wait_workers_idle`, :func:`screen_steady`, :func:`wait_for_file`. A test asserts
  ``app.run_until(lambda s: condition, timeout=...)``, never a fixed pause and then a look
  (so there is no helper that runs the loop for a fixed time). A check that nothing happens
  waits for what must have happened first (the workers idle, the output quiet), or for a
  later action whose effect is certain.

Run the tests under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gui import keys as k
from gui.backend import PackageBackend
from gui.state import READY
from gui_fakes import FakeBackend, FakeModel

REAL_INPUT_MARKS = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run"),
    pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed"),
]

SPAN = 4.0  # the fake models' latent range is -2..2 on both axes
RATE = 22050  # the fake models' rate, and so the player's
PEER = Path(__file__).resolve().parent / "dnd_peer.py"


def edge_frames(rate=RATE):
    """The frames of a sound's faded edges at ``rate`` (the fakes' by default; the output
    fades each end)."""
    from audio.mixer import EDGE_FADE_SECONDS

    return int(round(EDGE_FADE_SECONDS * rate))


EDGE = edge_frames()


# ---------------------------------------------------------------------------- the window


def make_app(tmp_path, backend=None, **options):
    """The window, opened over ``tmp_path`` (zoo, favourites, settings) with the fakes' models."""
    from gui.window import GuiApp, GuiOptions

    options = {
        "models_dir": str(tmp_path / "zoo"),
        "favourites_dir": str(tmp_path / "favs"),
        "settings_path": str(tmp_path / "settings.json"),
        "seed": 0,
        **options,
    }
    return GuiApp(GuiOptions(**options), backend=backend or FakeBackend()).open()


def models_loaded(app, name="gan"):
    """Whether the first sound is made, the output ready and ``name`` loaded."""
    s = app.state
    return (
        s.model is not None and s.sound.audio is not None and s.player.ready and name in s.entries and s.entries[name].state == READY
    )


@pytest.fixture
def app(tmp_path):
    """The window over the fakes, its models loaded."""
    app = make_app(tmp_path)
    assert app.run_until(lambda s: models_loaded(app))
    app.window.TKroot.update()
    yield app
    app.close()


def open_app(tmp_path, **remembered):
    """The window at full volume (so what is heard is the samples themselves), with a
    :class:`HeardCapture` on its output; returns ``(app, capture)``, once start-up is done."""
    settings = tmp_path / "settings.json"
    if not settings.exists():
        settings.write_text(json.dumps({"volume": 1.0, **remembered}))
    capture = HeardCapture()
    app = make_app(tmp_path, backend=HeardBackend(capture))
    assert app.run_until(lambda s: models_loaded(app))
    app.window.TKroot.update()
    wait_workers_idle(app)
    return app, capture


def open_shipped_window(root, zoo, name):
    """The window over ``zoo`` (a copy of shipped models) on the real backend, at full volume,
    once ``name`` is loaded and start-up is done; returns ``(app, capture)``."""
    root.mkdir()
    (root / "settings.json").write_text(json.dumps({"volume": 1.0}))
    capture = HeardCapture()
    app = make_app(root, backend=ShippedBackend(capture), models_dir=str(zoo))
    assert app.run_until(
        lambda s: s.model is not None and s.model.name == name and s.sound.audio is not None and s.player.ready, timeout=60
    ), status_line(app)
    app.window.TKroot.update()
    wait_workers_idle(app, timeout=60)
    return app, capture


# ---------------------------------------------------------------------------- waits


def wait_workers_idle(app, timeout=30):
    """Wait until every worker thread has finished its jobs (start-up's figures, loads, decodes)."""
    assert app.run_until(lambda s: app.workers.idle, timeout=timeout), "the workers stayed busy"


def output_quiet(app):
    """Whether the sound room has done every job and the output has played every sound it
    was sent: its mixer has seen the latest request and renders silence since (or was never
    asked for a sound, and so never started)."""
    player = app.workers.player
    mixer = getattr(player, "mixer", None)
    if not app.workers.sound_room.idle or mixer is None:
        return False
    never_asked = mixer.request is None and mixer.pattern_request is None
    return mixer.silent_frames > 0 or never_asked


def wait_output_quiet(app, timeout=20):
    """Wait until the sounds the window has asked for so far have all been played out."""
    assert app.run_until(lambda s: output_quiet(app), timeout=timeout), "the output never went quiet"


def screen_steady(app, *widgets, timeout=20):
    """Wait until the workers are idle and what the X server shows of ``widgets`` is the same on
    two turns of the loop in a row (the figures and the marker drawn); returns the screenshots."""
    last = [None]

    def steady(_state):
        if not app.workers.idle:
            return False
        app.window.TKroot.update_idletasks()
        shots = [screenshot(widget) for widget in widgets]
        same = last[0] is not None and all(np.array_equal(a, b) for a, b in zip(shots, last[0]))
        last[0] = shots
        return same

    assert app.run_until(steady, timeout=timeout), "the screen kept changing"
    return last[0]


def wait_for_file(app, path):
    """Wait until ``path`` exists (a drop is a conversation between two programs' loops: slow
    on a busy machine)."""
    assert app.run_until(lambda s: path.exists(), timeout=60), f"nothing arrived at {path}"


# ---------------------------------------------------------------------------- X input


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


def click_button(app, key):
    click_middle(app.window[key].Widget)


def press(*keys):
    xdo("key", "--delay", "30", *keys)


def xdo_hover(widget):
    """The pointer over a widget's top-left corner (where a tooltip is asked for)."""
    xdo("mousemove", "--sync", widget.winfo_rootx() + 8, widget.winfo_rooty() + 6)


def pick_in_combo(app, combo, index, x=None):
    """Pick entry ``index`` of a ttk combo as a user does: a real click opens its list (at
    pixel ``x``, its middle by default), and a real click on the entry picks it.

    The list is waited for, on screen, laid out and holding the grab and the focus (Tk sets them
    when it is mapped), before the
    entry is clicked: a click sent before then goes elsewhere on a slow machine."""
    popdown = str(combo.tk.eval(f"ttk::combobox::PopdownWindow {combo}"))
    listbox = f"{popdown}.f.l"

    def shown():
        return (
            bool(int(combo.tk.eval(f"winfo viewable {listbox}")))
            and bool(combo.tk.eval(f"{listbox} bbox {index}"))
            and str(combo.tk.eval("grab current")) == popdown
            and str(combo.tk.eval("focus")) == listbox
        )

    wanted = combo.cget("values")[index]
    # a combo just shown (a panel that appears with a model) is clicked once it is laid out
    assert app.run_until(lambda s: bool(combo.winfo_viewable()) and combo.winfo_width() > 1, timeout=10), "the combo is not on screen"
    click(combo, combo.winfo_width() // 2 if x is None else x, combo.winfo_height() // 2)
    assert app.run_until(lambda s: shown(), timeout=10), "the combo's list did not open"
    left, top, width, height = (int(v) for v in combo.tk.eval(f"{listbox} bbox {index}").split())
    xdo(
        "mousemove",
        "--sync",
        int(combo.tk.eval(f"winfo rootx {listbox}")) + left + width // 2,
        int(combo.tk.eval(f"winfo rooty {listbox}")) + top + height // 2,
        "click",
        "1",
    )
    assert app.run_until(lambda s: not int(combo.tk.eval(f"winfo ismapped {popdown}")), timeout=10), "the combo's list did not close"
    assert app.run_until(lambda s: combo.get() == wanted, timeout=10), (combo.get(), wanted)


def tree_row(app, name):
    """The model list's widget and the pixel of ``name``'s row."""
    tree = app.window[k.MODELS]
    iid = tree.KeyToID[name]
    tree.Widget.see(iid)
    app.window.TKroot.update()
    x, y, _, height = tree.Widget.bbox(iid)
    return tree.Widget, x + 30, y + height // 2


def choose_model(app, name):
    """A click on ``name`` in the model list; returns once its sound at the point is made."""
    widget, x, y = tree_row(app, name)
    click(widget, x, y)
    assert app.run_until(
        lambda s: s.model is not None and s.model.name == name and s.sound.audio is not None and s.sound.point == s.vector
    )


def click_pad(app, px, py):
    """A real click at pixel (px, py) of the pad, once it has its place; returns the point, once
    it is decoded."""
    wait_pad_settled(app)
    expected = pad_pixel_to_point(app, px, py)
    click(app.window[k.PAD].Widget, px, py)
    assert app.run_until(lambda s: near(s.sound.point, expected, one_pixel(app))), what_the_click_hit(app, px, py, expected)
    return app.state.point


def click_wide_pad(app, px, py):
    """A real click at pixel (px, py) of the pad of a model with a wide latent (gui.wide);
    returns the whole vector, once its sound is decoded."""
    wait_pad_settled(app)
    expected = pad_pixel_to_point(app, px, py)
    xmin, xmax, _, _ = app.state.model.latent_range
    pixel = (xmax - xmin) / app.window[k.PAD].Widget.winfo_width()
    click(app.window[k.PAD].Widget, px, py)
    assert app.run_until(lambda s: near(s.point, expected, pixel) and s.sound.point == s.vector), what_the_click_hit(
        app, px, py, expected
    )
    return app.state.vector


def step_axis_slider(app, slider, right=True):
    """A real click in the trough of a wide latent's slider number ``slider`` (one step
    towards that end); returns the whole vector, once its sound is decoded."""
    widget = app.window[(k.AXIS, slider)].Widget
    assert app.run_until(lambda s: bool(widget.winfo_viewable()), timeout=10), "the slider is not shown"
    before = app.state.vector
    click(widget, widget.winfo_width() - 4 if right else 4, widget.winfo_height() - 7)
    assert app.run_until(lambda s: s.vector != before and s.sound.point == s.vector), (before, app.state.vector)
    return app.state.vector


def what_the_click_hit(app, px, py, expected):
    """Why a pad click's point did not come: where the pointer is, what X window is under it,
    who holds the grab and the focus, and what the window's state says."""
    pad = app.window[k.PAD].Widget
    root = app.window.TKroot
    aimed = (pad.winfo_rootx() + px, pad.winfo_rooty() + py)
    pointer = subprocess.run(["xdotool", "getmouselocation", "--shell"], capture_output=True, text=True, timeout=20).stdout
    stack = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ""], capture_output=True, text=True, timeout=20).stdout
    names = []
    for window_id in stack.split():
        name = subprocess.run(["xdotool", "getwindowname", window_id], capture_output=True, text=True, timeout=20).stdout
        geometry = subprocess.run(["xdotool", "getwindowgeometry", window_id], capture_output=True, text=True, timeout=20).stdout
        names.append(f"{window_id} {name.strip()!r} {' '.join(geometry.split()[2:])}")
    state = app.state
    return (
        f"expected {expected}, sound.point {state.sound.point}, point {state.point}, model {state.model and state.model.name}; "
        f"aimed at {aimed}, pad {pad.winfo_id()} at {(pad.winfo_rootx(), pad.winfo_rooty(), pad.winfo_width(), pad.winfo_height())}; "
        f"pointer {' '.join(pointer.split())}; containing {root.winfo_containing(*aimed)}; grab {root.tk.eval('grab current')!r}; "
        f"focus {root.tk.eval('focus')!r}; status {app.window[k.STATUS].get() if k.STATUS in app.window.AllKeysDict else '?'}; "
        f"visible windows: {names}"
    )


def turn_vary_on(app):
    """A click in the Vary slider's trough: one step up."""
    slider = app.window[k.VARY].Widget
    click(slider, slider.winfo_width() - 4, slider.winfo_height() - 7)
    assert app.run_until(lambda s: s.vary.amount > 0)


def reopen_favourite(app, name):
    """Choose the favourite ``name`` in the list with a click, and click Reopen."""
    favourites = app.window[k.FAVOURITES].Widget
    row = next(i for i in range(favourites.size()) if favourites.get(i).startswith(name))
    favourites.see(row)
    app.window.TKroot.update()
    x, y, _, height = favourites.bbox(row)
    click(favourites, x + 20, y + height // 2)
    click_middle(app.window[k.REOPEN].Widget)


def select_all_favourites(app):
    """Click the first favourite and shift-click the last, once the list shows them all."""
    favourites = app.window[k.FAVOURITES].Widget

    def listed(state):
        last = favourites.size() - 1
        return (
            state.favourites
            and favourites.size() == len(state.favourites)
            and favourites.winfo_viewable()
            and bool(favourites.bbox(0))
            and bool(favourites.bbox(last))
        )

    assert app.run_until(listed, timeout=10), (favourites.size(), len(app.state.favourites))
    x, y, _, height = favourites.bbox(0)
    click(favourites, x + 20, y + height // 2)
    last = favourites.size() - 1
    x, y, _, height = favourites.bbox(last)
    xdo(
        "mousemove",
        "--sync",
        favourites.winfo_rootx() + x + 20,
        favourites.winfo_rooty() + y + height // 2,
        "keydown",
        "shift",
        "click",
        "1",
        "keyup",
        "shift",
    )
    # the shift-click is handled when the loop gets to it (a fixed pause missed it under load)
    assert app.run_until(lambda s: len(app.window[k.FAVOURITES].get()) == favourites.size(), timeout=30), app.window[
        k.FAVOURITES
    ].get()


# ---------------------------------------------------------------------------- dialogs


def type_in_dialog(title, *keys, text=None):
    """In a thread: wait for the dialog ``title``, type into it (the loop is inside it)."""

    def run():
        assert wait_for_window("--name", title) is not None, f"no dialog {title!r} came"
        settle_seconds = ["sleep", "0.5"]  # the dialog takes the keyboard once it is laid out
        subprocess.run(settle_seconds, check=True)
        if text is not None:
            subprocess.run(["xdotool", "type", "--delay", "20", text], check=True, timeout=20)
        if keys:
            subprocess.run(["xdotool", "key", "--delay", "50", *keys], check=True, timeout=20)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def answer_question(title, key, timeout_s=60):
    """In a thread: answer the Yes/No question ``title`` with its key ("y" or "n"), given to it
    by X input focus, again until it is gone: on a busy machine a key sent as it opens can be
    lost, and the question, modal, would hold the window (and the test) for ever. A key that
    answers is harmless to repeat."""

    def shown():
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, text=True, timeout=20)
        return found.stdout.split()

    def run():
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            windows = shown()
            if not windows:
                if answered:
                    return
                time.sleep(0.1)
                continue
            subprocess.run(["xdotool", "windowfocus", windows[0], "key", key], capture_output=True, timeout=20)
            answered.append(key)
            gone = time.monotonic() + 3
            while shown() and time.monotonic() < gone:
                time.sleep(0.1)

    answered = []
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def file_dialog_window(timeout_s=60):
    """Tk's own file dialog (Open or Save), once it is on screen."""
    window = wait_for_window("--class", "TkFDialog", timeout_s=timeout_s)
    assert window is not None, f"no file dialog came in {timeout_s} s"
    return window


def wait_for_window(*selector, timeout_s=60):
    """The first visible X window that ``xdotool search SELECTOR`` finds, once there is one;
    None after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", *selector], capture_output=True, text=True, timeout=20)
        if found.stdout.split():
            return found.stdout.split()[0]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def close_file_dialogs(timeout_s=60):
    """Escape to every Tk file dialog still on screen, again until none is. A modal dialog
    left open holds the window's loop, and the test, for ever: a driving thread that failed
    (a dialog slower than its wait, on a busy machine) left one open, and the suite hung."""
    deadline = time.monotonic() + timeout_s
    while (windows := file_dialogs()) and time.monotonic() < deadline:
        for window in windows:
            subprocess.run(["xdotool", "windowfocus", window, "key", "Escape"], capture_output=True, timeout=20)
        time.sleep(0.3)


def in_a_file_dialog(action):
    """Run ``action`` in a thread (the loop is inside the modal dialog while it is open), then
    close any file dialog it left open, whatever happened to it (pytest reports an error
    raised in the thread)."""

    def run():
        try:
            action()
        except BaseException:
            # failed, perhaps before its dialog came: one that comes later is closed too
            wait_for_window("--class", "TkFDialog", timeout_s=60)
            raise
        finally:
            close_file_dialogs()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def file_dialogs():
    """The X windows of the Tk file dialogs on screen."""
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "TkFDialog"], capture_output=True, text=True, timeout=10)
    return found.stdout.split()


def file_dialog_open():
    return bool(file_dialogs())


def dialog_size(window):
    shape = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", window], check=True, timeout=10, capture_output=True, text=True
    ).stdout
    values = dict(line.split("=", 1) for line in shape.split())
    return int(values["WIDTH"]), int(values["HEIGHT"])


def click_in_dialog_then_type(text, outcome):
    """In a thread: click in the file dialog's File name field (its middle, 50 px above the
    bottom, where Tk lays it out), select what is there, type ``text`` and press Return; a
    dialog still open after that is closed (:func:`in_a_file_dialog`), so a failing test ends."""

    def run():
        window = file_dialog_window()
        xdo("sleep", "0.5")
        width, height = dialog_size(window)
        xdo("mousemove", "--window", window, width // 2, height - 50, "click", "1")
        xdo("key", "--delay", "50", "ctrl+slash")  # ttk's <<SelectAll>>
        xdo("type", "--delay", "20", "--", text)
        xdo("key", "Return")
        deadline = time.monotonic() + 10
        while file_dialog_open() and time.monotonic() < deadline:
            time.sleep(0.1)
        outcome["closed by Return"] = not file_dialog_open()

    return in_a_file_dialog(run)


# ---------------------------------------------------------------------------- readers


def screenshot(widget):
    """What the X server shows of a Tk widget: an (height, width, 3) uint8 RGB array."""
    from PIL import ImageGrab

    widget.update_idletasks()
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    box = (x, y, x + widget.winfo_width(), y + widget.winfo_height())
    return np.asarray(ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).convert("RGB"))


def status_line(app):
    return str(app.window[k.STATUS].get())


def sound_line_place(app):
    """Where the sound's line is and how wide its text is, in screen pixels: ``(text, text
    width, (line's left, line's right), (panel's left, panel's right))``, the panel being the
    Sound frame that holds it."""
    import tkinter.font

    label = app.window[k.PLAYING].Widget
    label.update_idletasks()
    panel = label.master
    while panel.winfo_class() not in ("Labelframe", "TLabelframe"):
        panel = panel.master
    text = str(label.cget("text"))
    width = tkinter.font.Font(font=label.cget("font")).measure(text)
    left, panel_left = label.winfo_rootx(), panel.winfo_rootx()
    return text, width, (left, left + label.winfo_width()), (panel_left, panel_left + panel.winfo_width())


def tooltip_text(element):
    """The text of the tooltip shown on screen for ``element``, or None while none is."""
    window = getattr(element.TooltipObject, "tipwindow", None)
    if window is None:
        return None
    labels = [w for w in window.winfo_children() if w.winfo_class() in ("Label", "TLabel")]
    return labels[0].cget("text") if labels else None


def wait_pad_settled(app, steady_s=0.5, timeout=30):
    """Wait until the pad has its place and size: no fit pending, and its place and size on the
    screen unchanged for ``steady_s`` of the loop's turns. The window grows to the screen just
    after it opens and the pad follows it; a click measured before then lands elsewhere."""
    pad = app.window[k.PAD].Widget
    last = {"geometry": None, "since": time.monotonic()}

    def settled(_state):
        app.window.TKroot.update_idletasks()
        geometry = (pad.winfo_rootx(), pad.winfo_rooty(), pad.winfo_width(), pad.winfo_height())
        if geometry != last["geometry"] or app.sizing.fit_pending or pad.winfo_width() != pad.winfo_reqwidth():
            last.update(geometry=geometry, since=time.monotonic())
            return False
        return time.monotonic() - last["since"] >= steady_s

    assert app.run_until(settled, timeout=timeout), "the pad kept moving or resizing"


def pad_pixel_to_point(app, px, py):
    """The latent point under pixel (px, py) of the pad (what the user expects to hear); before
    a window's first click, :func:`wait_pad_settled`."""
    xmin, xmax, ymin, ymax = app.state.model.latent_range
    width = app.window[k.PAD].Widget.winfo_width()
    height = app.window[k.PAD].Widget.winfo_height()
    return xmin + px / width * (xmax - xmin), ymax - py / height * (ymax - ymin)


def near(a, b, tolerance):
    return a is not None and abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def one_pixel(app):
    return SPAN / app.window[k.PAD].Widget.winfo_width()


def centre_of(widget):
    """A widget's middle, in screen pixels."""
    return (widget.winfo_rootx() + widget.winfo_width() // 2, widget.winfo_rooty() + widget.winfo_height() // 2)


# ---------------------------------------------------------------------------- what was heard


class HeardCapture:
    """A player tap that keeps the non-silent blocks and their frame numbers (preallocated)."""

    def __init__(self, capacity=1 << 21):
        self._samples = np.zeros(capacity, dtype=np.float32)
        self._frames = np.zeros(capacity, dtype=np.int64)
        self._count = 0
        self._delivered_end = 0  # one past the last frame delivered, silent or not

    def __call__(self, block, frame_index):
        n = block.shape[0]
        self._delivered_end = frame_index + n
        if self._count + n > self._samples.shape[0] or not block.any():
            return
        self._samples[self._count : self._count + n] = block
        self._frames[self._count : self._count + n] = np.arange(frame_index, frame_index + n)
        self._count += n

    def sounds(self):
        """The runs of non-silent blocks, each one sound as the user heard it."""
        count = self._count
        samples, frames = self._samples[:count].copy(), self._frames[:count].copy()
        breaks = np.flatnonzero(np.diff(frames) != 1) + 1
        return [s for s in np.split(samples, breaks) if s.size]

    def quiet(self):
        """Whether a silent block was delivered after the last sound heard (it has ended)."""
        count = self._count
        return count > 0 and self._delivered_end > self._frames[count - 1] + 1


class HeardBackend(FakeBackend):
    """The fakes' models, with a real player whose output is captured."""

    def __init__(self, capture, **options):
        super().__init__(**options)
        self.capture = capture

    def make_player(self, sample_rate, device):
        from audio.player import Player

        player = Player(sample_rate, tap=self.capture)
        self.players.append(player)
        return player


class ShippedBackend(PackageBackend):
    """The real packages (the NumPy runtime of the zoo's models), with a real player whose
    output is captured."""

    def __init__(self, capture):
        super().__init__()
        self.capture = capture
        self.players = []

    def make_player(self, sample_rate, device):
        from audio.player import Player

        player = Player(sample_rate, tap=self.capture)
        self.players.append(player)
        return player

    def discontinuity(self):
        return None


def wait_heard(app, capture, count):
    """Wait until ``count`` sounds have been heard, the last of them played to its end and the
    output quiet; returns the sounds heard."""
    assert app.run_until(lambda s: len(capture.sounds()) >= count and capture.quiet() and output_quiet(app), timeout=20), len(
        capture.sounds()
    )
    return capture.sounds()


def click_heard(app, capture, runtime, px, py):
    """A real click on the pad of a shipped model (``runtime`` its NumPy runtime); returns
    the point, once its decode was heard."""
    before = len(capture.sounds())
    point = pad_pixel_to_point(app, px, py)
    click(app.window[k.PAD].Widget, px, py)
    assert app.run_until(
        lambda s: s.sound.point is not None and s.sound.point != (0.0, 0.0) and abs(s.sound.point[0] - point[0]) < 0.1, timeout=20
    )
    heard = wait_heard(app, capture, before + 1)
    expected = runtime.decode([app.state.sound.point])[0]
    assert any(is_heard(sound, expected) for sound in heard[before:])
    return app.state.sound.point


def is_heard(heard, expected, rate=RATE):
    """Whether a heard sound is ``expected`` (its faded edges aside, at ``rate``), wherever it starts."""
    edge = EDGE if rate == RATE else edge_frames(rate)
    core = expected[edge:-edge]
    if heard.size < core.size:  # a sound cut short by the next one is not all of it
        return False
    starts = np.flatnonzero(np.abs(heard[: heard.size - core.size + 1] - core[0]) <= 1e-6)
    return any(np.allclose(heard[start : start + core.size], core, atol=1e-6) for start in starts)


def model_sound(point, level=None):
    """The fakes' ae_small_relu sound at ``point``, at ``level`` (as made by default)."""
    from audio.level import AS_MADE, apply_level

    return apply_level(FakeModel("ae_small_relu").decode([point])[0], AS_MADE if level is None else level)


def file_bytes_of(samples, rate=RATE):
    """The bytes a favourite holding ``samples`` has (44.1 kHz 16-bit WAV)."""
    from audio.export import render_for_file, wav_bytes

    data, file_rate = render_for_file(samples, rate)
    return wav_bytes(data, file_rate, "PCM_16")


# ---------------------------------------------------------------------------- drag and drop


class Peer:
    """The other program (``dnd_peer.py``): started, its window's place read, killed at the end.

    ``accepted`` is set when the peer, as a drag source, says the window under the pointer
    takes its drop (its ``accepted`` line).
    """

    def __init__(self, mode, argument):
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), mode, str(argument)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the peer did not start: {self.process.stderr.read()}")
        self.place = json.loads(line)
        self.accepted = threading.Event()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self):
        for line in self.process.stdout:
            if line.strip() == "accepted":
                self.accepted.set()

    @property
    def centre(self):
        return (self.place["x"] + self.place["width"] // 2, self.place["y"] + self.place["height"] // 2)

    def close(self):
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def peer():
    """Starts the other program: ``peer("drop", inbox)`` or ``peer("drag", path)``."""
    started = []

    def start(mode, argument):
        started.append(Peer(mode, argument))
        return started[-1]

    yield start
    for one in started:
        one.close()


def drag(app, start, end, steps=12, messages=None, source=None):
    """Press at ``start`` (screen pixels), move to ``end`` in steps, and release there once
    the target has taken the drag; the status lines shown meanwhile are added to
    ``messages`` when given.

    The drag's source is the window, or the :class:`Peer` given as ``source``. As a user
    waits for the cursor to say "copy" before letting go, the release waits until the
    source has heard the target accept (tkdnd cancels a drop released before that: on a
    busy machine the answer can take seconds). xdotool runs beside the window's loop,
    which must go on meanwhile: XDND is a conversation between the two programs' loops.
    """
    from dnd_peer import watch_acceptance

    (x0, y0), (x1, y1) = start, end
    script = ["mousemove", "--sync", x0, y0, "mousedown", "1"]
    for i in range(1, steps + 1):
        script += ["mousemove", x0 + (x1 - x0) * i // steps, y0 + (y1 - y0) * i // steps, "sleep", "0.05"]
    if source is None:
        accepted = threading.Event()
        stop_watching = watch_acceptance(app.window.TKroot, accepted.set)
    else:
        accepted, stop_watching = source.accepted, lambda: None

    def move_then_release():
        # A hand on the mouse is never quite still: the pointer sways a pixel while it waits.
        # tkdnd speaks to a target only on a move after its drag has begun, and on a busy
        # machine every scripted move can come before that (the drag's file is still being
        # written), which left a still pointer and a drop that never happened.
        try:
            xdo(*script)
            deadline = time.monotonic() + 60
            sway = 1
            while not accepted.wait(timeout=0.3) and time.monotonic() < deadline:
                xdo("mousemove", x1 + sway, y1)
                sway = -sway
        finally:
            xdo("mouseup", "1")

    mover = threading.Thread(target=move_then_release)
    seen = [] if messages is None else messages
    # every text the status line is given, not only those seen between the loop's turns: on a
    # busy machine the drag's start and end can be handled in one turn
    status = app.window[k.STATUS]
    shown = status.update
    status.update = lambda *args, **kwargs: seen.append(args[0] if args else kwargs.get("value")) or shown(*args, **kwargs)
    try:
        mover.start()
        assert app.run_until(lambda s: seen.append(s.message) or not mover.is_alive(), timeout=90)
        mover.join()
        assert accepted.is_set(), "the target never said it takes the drop"
    finally:
        stop_watching()
        del status.update  # the element's own method again
