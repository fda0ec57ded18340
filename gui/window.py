"""The window and its one event loop.

``GuiApp`` builds the window from :mod:`gui.layout`, starts the workers of
:mod:`gui.workers`, and runs the loop: read an event, let :func:`gui.handlers.handle` turn it
into effects, carry the effects out. Carrying out means handing work to a worker, calling
the sound player, or showing the state in an element; the loop itself never waits on work.

Start-up puts the first sound first: the workers read the model list while the window is
being built, and drawing figures (matplotlib is imported by the render thread), heat-maps,
the nearest sounds and preloading the other models wait until the first model has made
its first sound (:mod:`gui.startup`, which the loop tells of each event).

Carrying out goes through one table, effect type -> what carries it out
(``_effect_table``): the workers' jobs (``Workers.jobs``, the sound in its own room) and
the few that are the window's own (showing, dialogs, timers); showing the state is
:mod:`gui.view`, the dialogs :mod:`gui.dialogs`. The window's collaborators each own one
part of it: the keyboard (focus, Tab order, shortcuts) :mod:`gui.keyboard`, its size and the
pad that follows it :mod:`gui.sizing`, drag and drop :mod:`gui.drag_and_drop`. The pad's
drawing is :mod:`gui.pad`, the garbage collection policy :mod:`gui.gc_policy`.

Tests drive the real window with ``post`` (an event as a worker or a widget would send
it) and ``run_until`` (run the loop until the state says something happened); the tests in
``tests/test_window_real_input.py`` drive it with real X input instead.
"""

import math
import os
import threading
import time
import tkinter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import PySimpleGUI as sg

from gui import dialogs
from gui import effects as fx
from gui import keys as k
from gui.backend import IMPORTED_LIST_GROUP, PackageBackend, imported_model_names, model_groups, window_model_names
from gui.canvas import FigurePanel
from gui.drag_and_drop import DragAndDrop
from gui.errors import GuiError
from gui.family import decode_family
from gui.gc_policy import GuiThreadCollector
from gui.glossary import PAD_TIP
from gui.handlers import handle
from gui.keyboard import KEYPRESS, Keyboard
from gui.layout import HINT_CHARS, MODELS_TOOLTIP, PLAYING_CHARS, STATUS_CHARS, TITLE, window_layout
from gui.pad import PadView
from gui.settings import Settings
from gui.sizing import WindowSizing
from gui.startup import StartupProbe
from gui.state import UNAVAILABLE, AppState, ModelEntry
from gui.threads import leave_if_busy
from gui.tooltip import steady_tooltip
from gui.view import WindowView
from gui.workers import Workers
from models.card import MAX_LATENT_DIM
from models.trained_folder import COLLAPSED_WARNING

DEFAULT_FAVOURITES = Path.home() / "ML Sample Generator" / "favourites"
FAVOURITES_DOUBLE = k.FAVOURITES + "+DOUBLE"
IDLE_WAKE_MS = 1000
#: What the window shows as it opens (the other parts come with what they show).
OPENING_PARTS = tuple(
    fx.Part(name)
    for name in (
        "models",
        "pad",
        "fields",
        "status",
        "favourites",
        "map_mode",
        "controls",
        "card",
        "playing",
        "history",
        "nearest",
        "kit_progress",
        "pattern",
        "family",
    )
)
#: The held work (gui.startup) starts this long after opening even if no sound came by then.
STARTUP_HOLD_MS = 4000


@dataclass
class GuiOptions:
    """What the command line (or a test) chooses; None means "remembered, else default"."""

    models_dir: str | None = None
    favourites_dir: str | None = None
    device: str | None = None
    settings_path: str | None = None
    # bench: append "window <t>", "ready <t>" (first model), "sound <t>" (first decoded sound)
    # and "all <t>" (every model loaded or unavailable) lines here
    startup_stamp: str | None = None
    quit_when: str | None = None  # bench: one of those four closes the window then
    seed: int | None = None


def initial_state(options, remembered):
    """The state before the window exists, from the options, then the remembered settings."""
    import numpy as np

    from audio.level import LEVELS
    from gui.state import MAP_MODES

    root = Path(__file__).resolve().parents[1]
    state = AppState(
        models_dir=str(options.models_dir or remembered.get("models_dir") or root / "trained"),
        favourites_dir=str(options.favourites_dir or remembered.get("favourites_dir") or DEFAULT_FAVOURITES),
        rng=np.random.default_rng(options.seed),
        seed=options.seed,
    )
    state.player.device = options.device if options.device is not None else remembered.get("device")
    state.wanted = remembered.get("model")
    point = remembered.get("point")  # a wide latent's whole vector, the last session's sliders too
    if isinstance(point, (list, tuple)) and 2 <= len(point) <= MAX_LATENT_DIM and all(_finite(v) for v in point):
        state.pending_point = tuple(float(v) for v in point)
    if isinstance(remembered.get("family"), str):
        state.pending_family = remembered["family"]  # checked against the model once it is ready
    if isinstance(remembered.get("volume"), (int, float)):
        state.sound.volume = min(max(float(remembered["volume"]), 0.0), 1.0)
    if remembered.get("map_mode") in MAP_MODES:
        state.map.mode = remembered["map_mode"]
    if isinstance(remembered.get("audition"), bool):
        state.sound.audition = remembered["audition"]
    if remembered.get("level") in LEVELS:
        state.sound.level = remembered["level"]
    if isinstance(remembered.get("kit_dir"), str):
        state.kit.folder = remembered["kit_dir"]
    from models.registry import REGISTRY  # the registry never imports TensorFlow

    for name in window_model_names(state.models_dir):
        group, subgroup = model_groups(name, REGISTRY[name])
        state.entries[name] = ModelEntry(name, group=group, subgroup=subgroup)
    for name in imported_model_names(state.models_dir):  # the user's own, in their own group
        state.entries[name] = ModelEntry(name, group=IMPORTED_LIST_GROUP)
    return state


def settings_values(state):
    """What is remembered between sessions."""
    values = {
        "volume": state.sound.volume,
        "device": state.player.device,
        "favourites_dir": state.favourites_dir,
        "map_mode": state.map.mode,
        "audition": state.sound.audition,
        "level": state.sound.level,
        "kit_dir": state.kit.folder,
    }
    if any(entry.trained for entry in state.entries.values()):
        values["models_dir"] = state.models_dir  # a folder with no model is not remembered
    if state.model is not None:  # else keep the remembered model, point and family
        values["model"] = state.model.name
        values["point"] = list(state.vector)
        values["family"] = decode_family(state)
    return values


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class GuiApp:
    """The window, its workers and its loop.

    Parameters
    ----------
    options : GuiOptions
    backend : object, optional
        What the workers call (``gui.backend.PackageBackend`` by default).
    """

    def __init__(self, options=None, backend=None):
        self.options = options or GuiOptions()
        self.backend = backend or PackageBackend()
        self.settings = Settings(self.options.settings_path)
        self.state = initial_state(self.options, self.settings.read())
        self.state.notice = self.settings.short_note or ""  # a damaged file: said in the window too
        self.window = None
        self.workers = None
        self.panels = {}
        self.pad = None  # gui.pad.PadView
        self.closed = False
        self.drag_and_drop = False
        self.garbage = GuiThreadCollector()
        self._effects = {}  # effect type -> what carries it out (see open)
        self.startup = StartupProbe(
            self.state, self._release_held, self._post_if_open, self.options.startup_stamp, self.options.quit_when, self._append_later
        )
        self._early = []  # worker records posted before the window existed (None after)
        self._early_lock = threading.Lock()
        self.view = None  # gui.view.WindowView, once the window exists
        self.keyboard = Keyboard(self)
        self.sizing = WindowSizing(self)
        self.dnd = DragAndDrop(self)

    # ------------------------------------------------------------------ start and stop

    def open(self):
        """Show the window and start the workers (returns at once)."""
        self.garbage.take_over()
        # the model list (then the first model) is read while the window is being built
        self.workers = Workers(self.backend, self._post_from_worker, self.state.models_dir, self.state.favourites_dir, self.settings)
        self.workers.list_models()
        sg.theme("LightGrey1")
        self.window = sg.Window(
            TITLE,
            window_layout(self.state.entries.values()),
            finalize=True,
            resizable=True,
            margins=(4, 4),
            element_padding=(4, 2),
            font=("Helvetica", 9),
        )
        for key in (*k.FAMILY_BUTTONS.values(), k.FAMILY_ALL):  # seven fit beside each other under the pad
            self.window[key].Widget.configure(padx=1)
        self.sizing.size_window()
        self.pad = PadView(self.window[k.PAD])
        self.window[k.FAVOURITES].bind("<Double-Button-1>", "+DOUBLE")
        self.window[k.NEAREST].Widget.bind("<Double-Button-1>", self._nearest_double, add="+")
        self.window[k.MODELS].Widget.bind("<Motion>", self._model_row_hovered, add="+")
        # the pad's tooltip explains it to a newcomer; a press on the pad puts it away
        self.window[k.PAD].TooltipObject = steady_tooltip(self.window[k.PAD].Widget, PAD_TIP)
        self.keyboard.wire()
        # their texts change: fixed widths, so that no text ever widens the window
        self.window[k.STATUS].Widget.configure(width=STATUS_CHARS)
        self.window[k.MAP_HINT].Widget.configure(width=HINT_CHARS)
        self.window[k.PLAYING].Widget.configure(width=PLAYING_CHARS)
        self.window[k.CARD].Widget.configure(wrap="word")  # the card's long rows
        # the nearest note wraps to the tab's width, so the whole of it is read
        self.window[k.NEAREST_NOTE].Widget.bind("<Configure>", lambda e: e.widget.configure(wraplength=max(e.width - 8, 100)), add="+")
        self.window[k.VOLUME].update(value=round(self.state.sound.volume * 100))
        self.window.read(timeout=0)  # let Tk put the window on screen before anything else
        window_shown = time.time()
        # the panels put matplotlib on their canvases with their first pictures, which come
        # after the first sound (see gui.startup): the render thread imports it meanwhile
        self.panels = {
            "map": FigurePanel(self.window[k.MAP_CANVAS], on_click=self._map_clicked),
            "output": FigurePanel(
                self.window[k.OUTPUT_CANVAS], on_resize=lambda: self.window.write_event_value((k.PANEL, "resized"), "output")
            ),
            "compare": FigurePanel(self.window[k.COMPARE_CANVAS]),
            "morph": FigurePanel(self.window[k.MORPH_CANVAS]),
        }
        self._effects = self._effect_table()
        self.view = WindowView(self.window, self.state, self.pad, self.panels)
        self.startup.stamp("window", window_shown)
        self._post_early_records()
        self.workers.list_favourites()
        self.workers.list_devices()
        self.window.TKroot.after(STARTUP_HOLD_MS, self.startup.release)
        for part in OPENING_PARTS:
            self.refresh(part)
        self.drag_and_drop = self.dnd.enable()
        self.window[k.PAD].set_focus()
        self.sizing.fit_later()
        return self

    def _nearest_double(self, tk_event):
        """A double-click on a nearest row: that row (the one under the pointer)."""
        table = self.window[k.NEAREST].Widget
        row = table.identify_row(tk_event.y)
        if row:
            self.window.write_event_value(k.NEAREST_PLAY, [table.index(row)])

    def _model_row_hovered(self, tk_event):
        """The model list's tooltip is the row's: an unavailable model's whole reason (the
        column cuts it), else what the list's tooltip says."""
        tree = self.window[k.MODELS]
        name = tree.IdToKey.get(tree.Widget.identify_row(tk_event.y))
        entry = self.state.entries.get(name)
        if entry is not None and entry.state == UNAVAILABLE:
            text = f"{name}: {entry.label}"
        elif entry is not None and entry.collapsed:
            text = f"{name} is {COLLAPSED_WARNING}"
        else:
            text = self.state.why_model or MODELS_TOOLTIP
        tip = tree.TooltipObject
        if tip is not None and tip.text != text:
            tip.text = text
            tip.leave()  # a tip already shown was another row's: show this one after the delay
            tip.enter(tk_event)

    def close(self):
        """Stop the sound and the workers, remember the settings, close the window."""
        if self.closed:
            return
        self.closed = True
        if self.workers is not None:
            self.workers.request_stop()
            self._wait_for_workers()
            self.workers.close_player()
            self.settings.store(settings_values(self.state))
        if self.window is not None:
            self.window.close()
        self.panels = {}
        self.garbage.give_back()  # the window's Tk objects end here, on the thread that owns Tk

    def _wait_for_workers(self, timeout=5.0):
        """Let the workers finish their current job, keeping Tk alive for their last posts."""
        deadline = time.monotonic() + timeout
        while self.workers.alive and time.monotonic() < deadline:
            if self.window is not None and self.window.TKroot is not None:
                self.window.TKroot.update()
            time.sleep(0.005)

    def run(self):
        """Open the window (unless open) and run the loop until it is closed."""
        if self.window is None:
            self.open()
        try:
            while self.step(timeout=IDLE_WAKE_MS):  # wakes to collect garbage (see open)
                pass
        finally:
            self.close()
        return 0

    # ------------------------------------------------------------------ the loop

    def step(self, timeout=50):
        """Read one event (waiting up to ``timeout`` ms, None: forever) and act on it.

        Returns False once the window is closed.
        """
        if self.closed:
            return False
        event, values = self.window.read(timeout=timeout)
        self.garbage.collect(idle=event == sg.TIMEOUT_EVENT)
        if event == sg.TIMEOUT_EVENT:
            return True
        self.garbage.event_seen()
        if event == sg.WIN_CLOSED:
            self.dispatch(None, values)
            self.close()
            return False
        self.dispatch(event, values)
        return not self.closed

    def dispatch(self, event, values):
        """Handle one event: read it (a key press as a shortcut), run the handler, carry out
        its effects, and tell the start-up probe what happened."""
        event = self._read(event)
        if event is None:
            return
        for effect in handle(self.state, event, values):
            self.apply(effect)
            if self.closed:
                return
        self.startup.saw(event, values)

    def _read(self, event):
        """The event as the handlers know it (None: nothing for them)."""
        if event == KEYPRESS:
            return self.keyboard.shortcut(self.window.user_bind_event)
        return k.REOPEN if event == FAVOURITES_DOUBLE else event

    def post(self, event, value=None):
        """Send an event to the loop as a widget or a worker would (thread-safe)."""
        self.window.write_event_value(event, value)

    def run_until(self, predicate, timeout=20.0):
        """Run the loop until ``predicate(state)`` is true; returns whether it became true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.state):
                return True
            if not self.step(timeout=20):
                return predicate(self.state)
        return predicate(self.state)

    def _post_if_open(self, event, value):
        if not self.closed:
            self.window.write_event_value(event, value)

    def _post_from_worker(self, record):
        with self._early_lock:
            if self._early is not None:  # the window is not built yet
                self._early.append(record)
                return
        if not self.closed:
            self.window.write_event_value(k.WORKER, record)

    def _post_early_records(self):
        """The window exists: send it what the workers posted while it was being built."""
        with self._early_lock:  # held while sending, so no later record goes before them
            early, self._early = self._early, None
            for record in early:
                self.window.write_event_value(k.WORKER, record)

    # ------------------------------------------------------------------ start-up order

    def _release_held(self, held):
        """The first sound is there (or will not come soon): do what waited for it."""
        if self.closed:
            return
        self.workers.prepare_figures()
        self.workers.find_features()
        for effect in held:
            self.apply(effect)

    def _append_later(self, path, line):
        """Append a benchmark stamp line on the io thread, ahead of its other jobs."""
        self.workers.io.submit(lambda: _append(path, line), priority=-1)

    def _map_clicked(self, payload):
        self.window.write_event_value((k.MAP, "click"), payload)

    # ------------------------------------------------------------------ effects

    def _effect_table(self):
        """What carries out each effect type (gui.effects), once the workers exist."""
        return {
            **self.workers.jobs(),
            fx.Render: self._render,
            fx.Draw: self._draw,
            fx.Refresh: self._refresh,
            fx.StoreSettings: self._store_settings,
            fx.AskFile: partial(dialogs.ask_file, self),
            fx.AskSaveFile: partial(dialogs.ask_save_file, self),
            fx.AskConfirm: partial(dialogs.ask_confirm, self),
            fx.Later: self._later,
            fx.Close: self._close,
            fx.ShowHelp: self._show_help,
        }

    def apply(self, effect):
        """Carry out one effect (see gui.effects); some wait for the first sound (gui.startup)."""
        if not self.startup.hold(effect):
            self._effects[type(effect)](effect)

    def _render(self, effect):
        self.workers.render(effect, self.panels[effect.panel].size_px())

    def _refresh(self, effect):
        self.refresh(effect.part)

    def _store_settings(self, _effect):
        self.workers.store_settings(settings_values(self.state))

    def _later(self, effect):
        self.window.TKroot.after(effect.ms, lambda: self._post_if_open(effect.event, effect.value))

    def _close(self, _effect):
        self.close()

    def _show_help(self, _effect):
        """The Help window (F1, the Help button): one, brought to the front if it is open."""
        from gui.help_window import show_help

        self._help = show_help(self.window.TKroot, getattr(self, "_help", None))

    def _draw(self, effect):
        result = effect.figure
        ms = self.panels[effect.panel].show(result)
        if ms is None:
            return  # a picture for the panel's old size; the one for its new size follows
        if effect.panel == "map":
            self.panels["map"].move_marker(self.state.point)
        if effect.panel == "output":
            self.state.redraw_ms = result.render_ms + ms
            self.state.draw_ms = ms
            self.refresh("status")

    # ------------------------------------------------------------------ showing the state

    def refresh(self, part):
        """Show one part of the state in its elements (see gui.view)."""
        self.view.refresh(part)


def _append(path, line):
    with open(path, "a", encoding="utf-8") as handle_:
        handle_.write(line)


def main(options):
    """Run the window (used by ``python app.py gui``).

    Raises
    ------
    GuiError
        No display to open the window on (the reason says what to do).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    app = GuiApp(options)
    try:
        app.open()
    except tkinter.TclError as error:
        app.close()
        hint = " (set DISPLAY, or run under xvfb-run)" if not os.environ.get("DISPLAY") else ""
        raise GuiError(f"cannot open the window: {error}{hint}") from None
    status = app.run()
    leave_if_busy(status)  # a job that outlived the wait must not abort the exit
    return status
