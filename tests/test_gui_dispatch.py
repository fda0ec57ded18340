"""The window's tables: each event has its handler, each effect one carrier, each part a view."""

import ast
import dataclasses
import inspect
import queue
import threading
from pathlib import Path

import numpy as np
import pytest

from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.handlers import handle
from gui.startup import StartupProbe
from gui.state import READY, AppState, ModelEntry, Playing

GUI = Path(__file__).resolve().parents[1] / "gui"


def effect_types():
    """Every effect record of gui.effects (the Render requests are its fields, not effects)."""
    requests = {fx.OutputRequest, fx.MapRequest, fx.SequenceRequest}
    return {
        cls
        for _, cls in inspect.getmembers(fx, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == fx.__name__ and cls not in requests
    }


def test_a_part_name_with_a_typo_fails_where_it_is_written():
    assert fx.Refresh("status") == fx.Refresh(fx.Part.STATUS)
    with pytest.raises(ValueError):
        fx.Refresh("stauts")


def test_every_part_has_its_view():
    from gui.view import WindowView

    assert set(WindowView(None, AppState(), None, {})._views) == set(fx.Part)


class QuietBackend:
    """Enough of a backend for workers that are built and stopped, never given a job."""

    user_errors = (ValueError,)


def test_every_effect_has_one_carrier_and_the_sound_goes_to_its_room(tmp_path):
    from gui.window import GuiApp, GuiOptions
    from gui.workers import Workers

    app = GuiApp(GuiOptions(settings_path=str(tmp_path / "settings.json")), backend=QuietBackend())
    app.workers = Workers(QuietBackend(), lambda record: None, "zoo", "favs")
    try:
        table = app._effect_table()
        assert set(table) == effect_types() == set(fx.Effect.__args__)
        room = app.workers.sound_room.submit
        assert all(table[t] == room for t in (*fx.SOUND_EFFECTS, fx.MakePlayer))
    finally:
        app.workers.stop()


class RecordingPlayer:
    available, reason, sample_rate = True, "", 1000

    def __init__(self):
        self.calls = []

    def _called(self, name, *args):
        self.calls.append((name, threading.current_thread().name, *args))

    def play(self, audio):
        self._called("play", len(audio))

    def loop(self, audio):
        self._called("loop", len(audio))

    def swap(self, audio, immediate=True):
        self._called("swap", immediate)

    def stop(self):
        self._called("stop")

    def close(self):
        self._called("close")


class PlayerBackend(QuietBackend):
    def __init__(self):
        self.player = RecordingPlayer()

    def make_player(self, sample_rate, device):
        return self.player

    def device_name(self, device):
        return "the null device"


def test_the_player_is_called_in_its_room_in_order_and_reports_a_sound_played_once():
    from gui.sound_room import SoundRoom

    posted = queue.Queue()
    backend = PlayerBackend()
    room = SoundRoom(backend, posted.put)
    try:
        room.submit(fx.MakePlayer(1000))
        assert posted.get(timeout=5) == ev.PlayerOpened(True, "", "the null device")
        for effect in (fx.Play(np.zeros(500), token=3), fx.Swap(np.zeros(10), immediate=False), fx.SetVolume(0.5), fx.Stop()):
            room.submit(effect)
        assert posted.get(timeout=5) == ev.PlayStarted(3, 0.5)
    finally:
        room.request_stop()
        room._worker.stop()
    calls = backend.player.calls
    assert [c[0] for c in calls] == ["play", "swap", "stop", "close"]
    assert {c[1] for c in calls} == {"gui-sound"}  # never the GUI thread
    assert room.player is None


def test_a_sound_played_once_reads_stopped_after_its_time():
    state = AppState()
    assert handle(state, k.WORKER, {k.WORKER: ev.PlayStarted(4, 0.25)}) == [fx.Later(300, (k.PLAYER, "ended"), 4)]
    state.sound.token, state.sound.playing = 4, Playing.PLAYING
    handle(state, (k.PLAYER, "ended"), {(k.PLAYER, "ended"): 4})
    assert state.sound.playing == Playing.STOPPED


def test_the_startup_probe_holds_work_until_the_first_sound_and_stamps_once():
    state = AppState()
    state.entries["a"] = ModelEntry("a", state=READY)
    released, posted, lines = [], [], []
    probe = StartupProbe(
        state,
        released.extend,
        lambda event, value: posted.append(event),
        stamp_file="stamps",
        quit_when="sound",
        append=lambda path, line: lines.append(line.split()[0]),
    )
    render = fx.Render("map", None)
    assert probe.hold(render) and probe.hold(fx.LoadModel("b", background=True))
    assert not probe.hold(fx.LoadModel("a")) and not probe.hold(fx.Decode("a", (0.0, 0.0)))
    state.sound.audio = np.zeros(4)
    decoded = {k.WORKER: ev.Decoded("a", (0.0, 0.0), state.sound.audio)}
    probe.saw(k.WORKER, decoded)
    probe.saw(k.WORKER, decoded)
    assert released == [render, fx.LoadModel("b", background=True)] and probe.held is None
    assert not probe.hold(render)
    assert lines == ["sound"] and posted == ["Exit"]


def _functions(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_handle_is_a_short_dispatch_and_no_gui_function_is_long():
    from gui.handlers import handle as dispatch

    assert len(inspect.getsource(dispatch).splitlines()) <= 25
    long = [
        f"{path.relative_to(GUI)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in sorted(GUI.rglob("*.py"))
        for node in _functions(ast.parse(path.read_text(encoding="utf-8")))
        if node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []


def test_the_map_modes_are_the_codes_what_is_made_and_the_heatmaps_each_named_once():
    from gui.features import FEATURE_LABELS, HEATMAPS, MADE, PER_SOUND
    from gui.layout import MAP_MODE_LABELS
    from gui.state import MAP_MODES

    assert MAP_MODES == ("codes", MADE, *HEATMAPS)
    assert set(FEATURE_LABELS) == set(HEATMAPS) and set(PER_SOUND) < set(HEATMAPS)
    assert set(MAP_MODES) == set(MAP_MODE_LABELS)
