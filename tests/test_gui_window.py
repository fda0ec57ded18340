"""The real window driven through its events, on NumPy test models (no TensorFlow).

Needs a display: the suite runs under ``xvfb-run``. The tests on real trained models are in
``test_gui_zoo.py``.
"""

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from gui import keys as k
from gui.state import READY, UNAVAILABLE
from gui_fakes import FakeBackend

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run"),
]


def make_app(tmp_path, backend=None, **options):
    from gui.window import GuiApp, GuiOptions

    options = {
        "models_dir": str(tmp_path / "zoo"),
        "favourites_dir": str(tmp_path / "favs"),
        "settings_path": str(tmp_path / "settings.json"),
        "seed": 0,
        **options,
    }
    return GuiApp(GuiOptions(**options), backend=backend or FakeBackend()).open()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None and s.player.ready and s.redraw_ms is not None)
    yield app
    app.close()


def tree_label(app, name):
    tree = app.window[k.MODELS]
    return tree.Widget.item(tree.KeyToID[name])["values"][0]


def test_window_opens_on_the_first_model_with_its_sound_drawn(app):
    assert app.state.model.name == "ae_small_relu"
    assert app.state.point == (0.25, -0.5)
    assert app.panels["output"].current.panel == "output"
    assert app.panels["map"].current.codes is not None
    status = app.window[k.STATUS].get()
    assert "sound: default output" in status and "decode" in status and "redraw" in status
    assert tree_label(app, "ae_small_relu") == "ready"
    assert tree_label(app, "conv_ae") == "not trained"


TITLE_BAR, PANEL = 24, 32  # a window manager's title bar and a desktop's panel, in pixels


def test_window_fits_a_1280_by_800_screen(app):
    root = app.window.TKroot
    assert app.run_until(lambda s: not app.sizing.fit_pending)  # the pad fitted to the window
    # the layout's own minimum (the window never shrinks below it), status line included, with
    # room for a title bar and a desktop panel (the pad grows beyond it, with the window)
    width, height = root.minsize()
    assert width <= 1280 and height <= 800 - TITLE_BAR - PANEL, (width, height)
    # and it is on the screen as a whole (texts that change have fixed widths)
    assert root.winfo_rootx() >= 0 and root.winfo_rootx() + root.winfo_width() <= 1280


def test_output_is_painted_at_the_panel_size_again_after_a_resize(app):
    panel = app.panels["output"]
    assert panel.current.pixels.shape[:2] == panel.size_px()[::-1]
    before = panel.size_px()
    app.window.TKroot.geometry(f"{app.window.TKroot.winfo_width() + 120}x{app.window.TKroot.winfo_height() + 60}")
    assert app.run_until(lambda s: panel.size_px() != before and panel.current.pixels.shape[:2] == panel.size_px()[::-1], timeout=60)


def test_damaged_model_shows_unavailable_with_its_reason(app):
    assert app.run_until(lambda s: s.entries["ae_big_tanh"].state == UNAVAILABLE)
    assert tree_label(app, "ae_big_tanh").startswith("unavailable: ")
    assert "decoder.keras is damaged" in tree_label(app, "ae_big_tanh")
    app.post(k.MODELS, ["ae_big_tanh"])
    assert app.run_until(lambda s: "ae_big_tanh is unavailable" in s.message)
    assert app.state.model.name == "ae_small_relu"


def test_drag_while_looping_swaps_the_sound_live(app):
    player = app.workers.player
    app.post((k.KEY, "l"))
    assert app.run_until(lambda s: s.sound.looping)
    for x in np.linspace(-1, 1, 15):
        app.post(k.PAD, (float(x), 0.5))
    app.post(k.PAD_UP, (1.0, 0.5))
    assert app.run_until(lambda s: s.sound.point == (1.0, 0.5))
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    assert [c[0] for c in player.calls].count("loop") == 1
    swaps = [c for c in player.calls if c[0] == "swap"]
    assert swaps and all(immediate for _, _, immediate in swaps)
    assert app.window[k.X].get() == "1.0000" and app.window[k.Y].get() == "0.5000"
    assert app.window[k.LOOP].get_text() == "Loop L: on"
    app.post((k.KEY, "l"))
    assert app.run_until(lambda s: not s.sound.looping)
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    assert player.calls[-1] == ("stop",)


def test_real_key_presses_reach_the_shortcuts(app):
    pad = app.window[k.PAD]
    pad.set_focus()
    start = app.state.point
    pad.Widget.event_generate("<KeyPress>", keysym="Right", when="tail")
    assert app.run_until(lambda s: s.point[0] > start[0], timeout=5)
    pad.Widget.event_generate("<KeyPress>", keysym="l", when="tail")
    assert app.run_until(lambda s: s.sound.looping, timeout=5)
    pad.Widget.event_generate("<KeyPress>", keysym="Escape", when="tail")
    assert app.run_until(lambda s: not s.sound.looping, timeout=5)


def test_keys_go_to_a_focused_text_field_not_to_the_shortcuts(app):
    key = SimpleNamespace
    app.window[k.PAD].set_focus()
    app.window.refresh()
    assert app.keyboard.shortcut(key(keysym="l")) == (k.KEY, "l")
    app.window[k.X].set_focus()
    app.window.refresh()
    if app.window.find_element_with_focus() is not app.window[k.X]:
        pytest.skip("this display gives no keyboard focus")
    assert app.keyboard.shortcut(key(keysym="l")) is None
    assert app.keyboard.shortcut(key(keysym="Left")) is None
    assert app.keyboard.shortcut(key(keysym="Escape")) == (k.KEY, "Escape")


def test_save_writes_a_wav_and_its_sidecar_and_lists_it(app, tmp_path):
    app.post((k.KEY, "s"))
    assert app.run_until(lambda s: len(s.favourites) == 1)
    wavs = list((tmp_path / "favs").glob("*.wav"))
    assert len(wavs) == 1 and wavs[0].with_suffix(".json").exists()
    assert app.window[k.FAVOURITES].get_list_values() == [wavs[0].name]
    assert "saved " + wavs[0].name in app.window[k.STATUS].get()


def test_switching_models_and_comparing(app):
    app.post(k.MODELS, ["gan"])
    assert app.run_until(
        lambda s: s.model.name == "gan" and s.map.mode == "brightness" and ("gan", "brightness") in s.map.heatmaps, timeout=30
    )
    assert app.run_until(lambda s: app.panels["map"].current.key == ("gan", "brightness"))
    app.post(k.COMPARE, None)  # nothing chosen
    assert app.run_until(lambda s: "Compare list" in s.message)
    assert app.run_until(lambda s: s.entries["ae_big_tanh"].state == UNAVAILABLE)
    # the list offers the models that can be heard, not the damaged one
    assert app.window[k.COMPARE_LIST].get_list_values() == ["ae_small_relu", "gan", "vae_a"]
    app.window[k.COMPARE_LIST].set_value(["ae_small_relu", "gan"])
    app.window[k.COMPARE].click()
    assert app.run_until(lambda s: s.compare is not None and app.panels["compare"].current is not None)
    assert app.state.compare.models == ["ae_small_relu", "gan"]
    assert "playing ae_small_relu then gan" in app.state.message
    assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
    assert app.workers.player.calls[-1][0] == "play"


def test_settings_are_remembered_between_sessions(tmp_path):
    first = make_app(tmp_path)
    assert first.run_until(lambda s: s.model is not None)
    first.post(k.MODELS, ["vae_a"])
    assert first.run_until(lambda s: s.model.name == "vae_a")
    first.post(k.PAD, (1.25, -1.0))
    first.post(k.VOLUME, 30)
    assert first.run_until(lambda s: s.point == (1.25, -1.0) and s.sound.volume == 0.3)
    first.close()
    second = make_app(tmp_path)
    try:
        assert second.run_until(lambda s: s.model is not None and s.entries["gan"].state == READY)
        assert second.state.model.name == "vae_a" and second.state.point == (1.25, -1.0)
        assert second.state.sound.volume == 0.3 and second.window[k.VOLUME].TKScale.get() == 30
    finally:
        second.close()


def test_no_sound_device_is_said_and_saving_still_works(tmp_path):
    app = make_app(tmp_path, backend=FakeBackend(player_available=False))
    try:
        assert app.run_until(lambda s: s.sound.audio is not None and "no sound device" in s.player.text)
        app.post(k.PLAY)
        app.post(k.SAVE)
        assert app.run_until(lambda s: len(s.favourites) == 1)
        assert app.window[k.STATUS].get().startswith("no sound device: no sound output device")
    finally:
        app.close()


def test_close_stops_every_worker_thread(tmp_path):
    import gc

    app = make_app(tmp_path)
    # garbage (tkinter objects among it) is collected on the Tk thread only while open
    assert not gc.isenabled()
    assert app.run_until(lambda s: s.model is not None)
    app.post("Exit")
    assert app.run_until(lambda s: app.closed, timeout=30)

    def running():
        return [t for t in threading.enumerate() if t.name.startswith("gui-") and t.is_alive()]

    # each worker is told to stop and ends once its job is done (close waits 5 s for them; on a
    # loaded machine a job may take longer). A gui- thread of this process that another test
    # started and never stopped (a NearestSounds of its own) is found here too: stop them there
    deadline = time.monotonic() + 60
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running()
    assert (tmp_path / "settings.json").exists()
    assert gc.isenabled()


def test_a_dropped_file_is_opened_as_a_sample(app, tmp_path):
    app.dnd.dropped(SimpleNamespace(data="{/no such/my snare.wav} /b.wav", action="copy"))
    assert app.run_until(lambda s: s.message.startswith("my snare.wav: no such file"))


def test_drag_and_drop_is_on_with_the_declared_tkinterdnd2(app):
    assert app.drag_and_drop is True
    assert app.window[k.DROP].visible and app.window[k.DRAG_OUT].visible


def test_a_background_models_refresh_does_not_undo_a_click_in_the_list(app):
    tree = app.window[k.MODELS]
    assert app.run_until(lambda s: s.entries["gan"].state == READY)
    tree.Widget.selection_set(tree.KeyToID["vae_a"])  # what a click does, before its event
    app.refresh("models")  # a model finished loading in the background meanwhile
    assert app.run_until(lambda s: s.model.name == "vae_a")


class _Widget:
    def __init__(self, size, requested=None):
        self.size, self.requested = size, requested or size

    def winfo_width(self):
        return self.size[0]

    def winfo_height(self):
        return self.size[1]

    def winfo_reqwidth(self):
        return self.requested[0]

    def winfo_reqheight(self):
        return self.requested[1]

    def pack_propagate(self, _flag):
        pass


def test_a_panel_not_yet_drawn_measures_its_canvas_on_screen_not_the_layout_request():
    """On a machine with other fonts the output panel's canvas was 3 px taller than
    the layout asked for, and the panel reported the request (260) before its first draw
    while the picture was painted at the real 263."""
    from gui.canvas import FigurePanel

    canvas = _Widget((500, 263), requested=(500, 260))
    panel = FigurePanel(SimpleNamespace(TKCanvas=canvas))
    assert panel.size_px() == (500, 263)
    panel.tk = SimpleNamespace(get_tk_widget=lambda: _Widget((1, 1)))  # matplotlib's, unmapped
    assert panel.size_px() == (500, 263)
    panel.tk = SimpleNamespace(get_tk_widget=lambda: _Widget((480, 250)))
    assert panel.size_px() == (480, 250)
    hidden = FigurePanel(SimpleNamespace(TKCanvas=_Widget((1, 1), requested=(500, 260))))
    assert hidden.size_px() == (500, 260)  # a hidden tab: the layout's size
