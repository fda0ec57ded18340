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
:mod:`gui.view`. The pad's drawing is :mod:`gui.pad`, the garbage
collection policy :mod:`gui.gc_policy`; the keyboard-focus rules are ``_give_shortcuts_back``.

Tests drive the real window with ``post`` (an event as a worker or a widget would send
it) and ``run_until`` (run the loop until the state says something happened); the tests in
``tests/test_window_real_input.py`` drive it with real X input instead.
"""
import os
import threading
import time
import tkinter
import tkinter.font
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import PySimpleGUI as sg
import tkinterdnd2

from constants import AUDIO_SUFFIXES, KIT_SUFFIX
from gui import effects as fx
from gui import keys as k
from gui.backend import PackageBackend, model_groups, window_model_names
from gui.canvas import FigurePanel
from gui.drag import NothingToDrag, current_sound_file, dropped_paths, favourite_files
from gui.errors import GuiError
from gui.gc_policy import GuiThreadCollector
from gui.glossary import PAD_TIP
from gui.handlers import handle
from gui.handlers.drag import dragging_message
from gui.layout import HINT_CHARS, MODELS_TOOLTIP, PAD_MAX, PAD_PIXELS, PLAYING_CHARS, STATUS_CHARS, TITLE, window_layout
from gui.pad import PadView
from gui.settings import Settings
from gui.startup import StartupProbe
from gui.state import UNAVAILABLE, AppState, ModelEntry
from gui.tooltip import steady_tooltip
from gui.view import WindowView
from gui.workers import Workers
from models.trained_folder import COLLAPSED_WARNING

DEFAULT_FAVOURITES = Path.home() / "ML Sample Generator" / "favourites"
KEYPRESS = "-KEYPRESS-"
FAVOURITES_DOUBLE = k.FAVOURITES + "+DOUBLE"
# keys that list, slider, tab and spin widgets would take for themselves: here they are shortcuts
NAVIGATION_KEYS = ("Left", "Right", "Up", "Down", "space")
NAVIGATING_ELEMENTS = (sg.Tree, sg.Listbox, sg.Slider, sg.TabGroup, sg.Spin, sg.Combo)
#: The ring round whatever has the keyboard (Tab and Shift+Tab move it), in pixels and colour.
FOCUS_RING, FOCUS_COLOUR = 2, "#1565c0"
#: Widgets whose own keys space and Enter are (they press them) once Tab has put the focus there.
PRESSABLE_CLASSES = ("Button", "Checkbutton")
IDLE_WAKE_MS = 1000
#: What the window shows as it opens (the other parts come with what they show).
OPENING_PARTS = tuple(fx.Part(name) for name in (
    "models", "pad", "fields", "status", "favourites", "map_mode", "controls", "card", "playing",
    "history", "nearest", "kit_progress", "pattern", "family"))
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
        favourites_dir=str(options.favourites_dir or remembered.get("favourites_dir")
                           or DEFAULT_FAVOURITES),
        rng=np.random.default_rng(options.seed), seed=options.seed,
    )
    state.player.device = options.device if options.device is not None else remembered.get("device")
    state.wanted = remembered.get("model")
    point = remembered.get("point")
    if isinstance(point, (list, tuple)) and len(point) == 2:
        state.pending_point = (float(point[0]), float(point[1]))
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
    return state


def settings_values(state):
    """What is remembered between sessions."""
    values = {"volume": state.sound.volume, "device": state.player.device,
              "favourites_dir": state.favourites_dir, "map_mode": state.map.mode,
              "audition": state.sound.audition, "level": state.sound.level, "kit_dir": state.kit.folder}
    if any(entry.trained for entry in state.entries.values()):
        values["models_dir"] = state.models_dir  # a folder with no model is not remembered
    if state.model is not None:  # else keep the remembered model and point
        values["model"] = state.model.name
        values["point"] = list(state.point)
    return values


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
        self.startup = StartupProbe(self.state, self._release_held, self._post_if_open,
                                    self.options.startup_stamp, self.options.quit_when,
                                    self._append_later)
        self._early = []  # worker records posted before the window existed (None after)
        self._early_lock = threading.Lock()
        self.view = None  # gui.view.WindowView, once the window exists

    # ------------------------------------------------------------------ start and stop

    def open(self):
        """Show the window and start the workers (returns at once)."""
        self.garbage.take_over()
        # the model list (then the first model) is read while the window is being built
        self.workers = Workers(self.backend, self._post_from_worker, self.state.models_dir,
                               self.state.favourites_dir, self.settings)
        self.workers.list_models()
        sg.theme("LightGrey1")
        self.window = sg.Window(TITLE, window_layout(self.state.entries.values()), finalize=True,
                                resizable=True, margins=(4, 4), element_padding=(4, 2),
                                font=("Helvetica", 9))
        for key in (*k.FAMILY_BUTTONS.values(), k.FAMILY_ALL):  # seven fit beside each other under the pad
            self.window[key].Widget.configure(padx=1)
        self._size_window()
        self.pad = PadView(self.window[k.PAD])
        self.window.bind("<Key>", KEYPRESS)
        self.window[k.FAVOURITES].bind("<Double-Button-1>", "+DOUBLE")
        self.window[k.NEAREST].Widget.bind("<Double-Button-1>", self._nearest_double, add="+")
        self.window[k.MODELS].Widget.bind("<Motion>", self._model_row_hovered, add="+")
        # the pad's tooltip explains it to a newcomer; a press on the pad puts it away
        self.window[k.PAD].TooltipObject = steady_tooltip(self.window[k.PAD].Widget, PAD_TIP)
        self._give_shortcuts_back()
        # their texts change: fixed widths, so that no text ever widens the window
        self.window[k.STATUS].Widget.configure(width=STATUS_CHARS)
        self.window[k.MAP_HINT].Widget.configure(width=HINT_CHARS)
        self.window[k.PLAYING].Widget.configure(width=PLAYING_CHARS)
        self.window[k.CARD].Widget.configure(wrap="word")  # the card's long rows
        # the nearest note wraps to the tab's width, so the whole of it is read
        self.window[k.NEAREST_NOTE].Widget.bind(
            "<Configure>", lambda e: e.widget.configure(wraplength=max(e.width - 8, 100)), add="+")
        self.window[k.VOLUME].update(value=round(self.state.sound.volume * 100))
        self.window.read(timeout=0)  # let Tk put the window on screen before anything else
        window_shown = time.time()
        # the panels put matplotlib on their canvases with their first pictures, which come
        # after the first sound (see gui.startup): the render thread imports it meanwhile
        self.panels = {
            "map": FigurePanel(self.window[k.MAP_CANVAS], on_click=self._map_clicked),
            "output": FigurePanel(self.window[k.OUTPUT_CANVAS], on_resize=lambda: self.window
                                  .write_event_value((k.PANEL, "resized"), "output")),
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
        self.drag_and_drop = self.enable_drag_and_drop()
        self.window[k.PAD].set_focus()
        self._pad_fit = self.window.TKroot.after(PAD_FIT_MS, self._fit_pad)
        return self

    def _give_shortcuts_back(self):
        """Keep the keyboard shortcuts working whatever the user clicked, but a text field.

        A click on anything but a text field gives the keyboard focus back to the pad, and
        the keys a list, slider or tab would take for itself (arrows, space) are shortcuts
        even while it has the focus. Enter in X or Y means Go.
        """
        root = self.window.TKroot
        root.bind_all("<ButtonRelease-1>", self._clicked, add="+")
        for element in self.window.element_list():
            widget = element.Widget
            if isinstance(element, sg.Button):
                # in the Tab order, with a ring when it has the keyboard; space or Enter presses it
                # "": in the Tab order while enabled (Tk skips a disabled one)
                widget.configure(takefocus="", highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
                widget.bind("<Return>", self._press_focused, add="+")
            elif isinstance(element, sg.Checkbox):
                widget.configure(highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
            if isinstance(element, NAVIGATING_ELEMENTS):
                for keysym in NAVIGATION_KEYS:
                    widget.bind(f"<KeyPress-{keysym}>", self._navigation_key)
            if isinstance(element, sg.Combo):
                widget.bind("<<ComboboxSelected>>", lambda _e: self._focus_pad(), add="+")
        for key in (k.X, k.Y):
            field = self.window[key].Widget
            field.bind("<Return>", self._enter_in_field)
            # Tab into a field selects its text (the Entry class's <<TraverseIn>>), so a stray
            # key would replace the number: the cursor goes to the end instead, the number kept
            field.bind("<<TraverseIn>>", _cursor_to_end)
            # and a letter is not taken at all: only what a number is written with
            field.configure(validate="key", validatecommand=(field.register(_number_keys), "%S"))
        # the pad is in the Tab order too; no ring, which would move its pixels off the points
        self.window[k.PAD].Widget.configure(takefocus=1)
        for step in (e for e in self.window.element_list() if isinstance(e.Key, tuple) and e.Key[0] == k.STEP):
            step.Widget.configure(takefocus=1, highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
            for keysym in ("space", "Return"):
                step.Widget.bind(f"<KeyPress-{keysym}>", partial(self._press_step, step.Key))
        # Ctrl+Tab and Ctrl+Shift+Tab move between the tabs wherever the keyboard is, and leave it
        # there. On the window's own tag: ttk's traversal was not heard from the pad, and on "all"
        # Tk's <<NextWindow>> (Tab) takes the key first and moves the keyboard instead
        for sequence, step in (("<Control-Tab>", 1), ("<Control-Shift-Tab>", -1), ("<Control-ISO_Left_Tab>", -1)):
            root.bind(sequence, partial(self._next_tab, step))

    def _next_tab(self, step, _tk_event=None):
        tabs = self.window[k.TABS].Widget
        tabs.select((tabs.index("current") + step) % tabs.index("end"))
        return "break"  # not Tab's move to the next widget as well

    def _size_window(self):
        """Open as large as the screen allows (``opening_size``), never smaller than the layout
        needs (it fits 1280x800 with a title bar and a panel); the pad follows the window's size."""
        root = self.window.TKroot
        root.update_idletasks()
        self._smallest = (root.winfo_reqwidth(), root.winfo_reqheight())
        root.minsize(*self._smallest)
        # what the pad may grow by before its column widens (the Sound frame is wider than it)
        column = self.window[k.PAD].Widget.master.master
        self._pad_room = max(0, column.winfo_reqwidth() - self.window[k.PAD].Widget.winfo_reqwidth() - 8)
        root.geometry("{}x{}".format(*opening_size(self._smallest, (root.winfo_screenwidth(), root.winfo_screenheight()))))
        root.update_idletasks()
        self.window.move_to_center()  # it was placed at its width before the buttons narrowed
        self._pad_fit = None  # the pending after() that fits the pad to the window
        root.bind("<Configure>", self._window_configured, add="+")

    def _window_configured(self, tk_event):
        """The window changed size (the user, or its window manager): fit the pad, once the
        resizing pauses (a drag of the window's corner sends many)."""
        root = self.window.TKroot if self.window is not None else None
        if root is None or self.closed or tk_event.widget is not root and self._pad_fit is not None:
            return  # a widget inside it changed: one fit is on its way
        if self._pad_fit is not None:
            root.after_cancel(self._pad_fit)
        self._pad_fit = root.after(PAD_FIT_MS, self._fit_pad)

    def _fit_pad(self):
        """The pad's side for the window's size: what the window has beyond its smallest goes
        to the pad (square) as far as its height allows, with half of the extra width (the map
        and the tabs get the rest); never more than ``PAD_MAX``."""
        self._pad_fit = None
        if self.closed or self.window is None:
            return
        root = self.window.TKroot
        if self.view is None:  # still opening: fit it once the window is shown
            self._pad_fit = root.after(PAD_FIT_MS, self._fit_pad)
            return
        graph = self.window[k.PAD]
        # the layout's smallest now (texts filled in since it opened), with the pad at its smallest
        grown = graph.Widget.winfo_reqwidth() - PAD_PIXELS
        self._smallest = (root.winfo_reqwidth() - max(0, grown - self._pad_room), root.winfo_reqheight() - grown)
        root.minsize(*self._smallest)
        size = (root.winfo_width(), root.winfo_height())
        if size[0] < self._smallest[0] or size[1] < self._smallest[1]:  # nothing may be cut off
            size = (max(size[0], self._smallest[0]), max(size[1], self._smallest[1]))
            root.geometry("{}x{}".format(*size))
        side = pad_side(self._smallest, size, self._pad_room)
        if side == graph.Widget.winfo_reqwidth():
            return
        graph.set_size((side, side))
        graph.CanvasSize = (side, side)  # the graph's coordinates follow its new size
        self.refresh(fx.Part.PAD)

    def _in_main_window(self, widget):
        """Whether ``widget`` (a widget, or the path of one Tk built itself) is in this window."""
        if self.closed or self.window is None:
            return False
        root = self.window.TKroot
        try:
            path = widget if isinstance(widget, str) else str(widget)
            return str(root.tk.call("winfo", "toplevel", path)) == str(root)
        except tkinter.TclError:
            return False

    def _focus_pad(self):
        if not self.closed and self.window is not None:
            self.window[k.PAD].Widget.focus_set()

    def _clicked(self, tk_event):
        """Any button release in the window: back to the pad, unless the user will type.

        ``bind_all`` also hears the releases in other toplevels: the file dialogs Tk builds in
        Tcl (their widgets come as path strings) and the popups. Taking the focus from them
        sent a name typed after a click in the dialog's field to the pad, and left it open.
        """
        widget = tk_event.widget
        if not self._in_main_window(widget):
            return
        if is_text_field(widget):
            return
        if not isinstance(widget, str) and _widget_class(widget) == "TCombobox":
            return  # its list is open; choosing from it gives the focus back
        self._focus_pad()

    def _press_focused(self, tk_event):
        """Enter on a button that has the keyboard presses it, as space does (Tk's own)."""
        tk_event.widget.invoke()
        return "break"  # not Go, the window's Enter

    def _press_step(self, key, _tk_event):
        """Space or Enter on a beat step that has the keyboard toggles it, as a click does."""
        self.window.write_event_value(key, None)
        return "break"

    def _navigation_key(self, tk_event):
        self.window.write_event_value((k.KEY, keysym_with_alt(tk_event)), None)
        return "break"  # not the widget's own use of the key (moving in the list)

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

    def _enter_in_field(self, _tk_event):
        self.window.write_event_value(k.GO, None)
        self._focus_pad()
        return "break"

    def enable_drag_and_drop(self):
        """Sounds out of the window and files into it, by drag and drop (tkdnd, through tkinterdnd2).

        Out: the "drag this sound out" label carries the current sound as a WAV (written
        when the drag starts, see gui.drag), the favourites list its chosen favourites'
        files. In: a sound file dropped on the pad or the drop zone is opened as a sample,
        as "Open a sample…" does. Returns whether it is on; where tkdnd cannot load (a Tk
        without it), the status line says why and the buttons do the rest.
        """
        try:
            tkinterdnd2.TkinterDnD._require(self.window.TKroot)  # load tkdnd into our Tk
        except (RuntimeError, tkinter.TclError) as error:
            self.window[k.DROP].update(visible=False)
            self.window[k.DRAG_OUT].update(visible=False)
            self.post((k.DRAG, "refused"), f"drag and drop is off: tkdnd did not load ({error})")
            return False
        for widget in (self.window[k.DROP].Widget, self.window[k.PAD].Widget):
            widget.drop_target_register(tkinterdnd2.DND_FILES)
            widget.dnd_bind("<<Drop>>", self._dropped)
        sources = ((self.window[k.DRAG_OUT].Widget, self._drag_sound),
                   (self.window[k.FAVOURITES].Widget, self._drag_favourites))
        for widget, start in sources:
            widget.drag_source_register(1, tkinterdnd2.DND_FILES)
            widget.dnd_bind("<<DragInitCmd>>", start)
            widget.dnd_bind("<<DragEndCmd>>", self._drag_ended)
        return True

    def _drag_sound(self, _tk_event):
        """tkdnd asks what the drag carries: the current sound, written to a file now.

        Written here on the GUI thread, because the protocol wants the file's name before
        the drag goes on (a sound is a few hundred kilobytes at most).
        """
        try:
            path = current_sound_file(self.state)
        except NothingToDrag as reason:
            return self._refuse_drag(str(reason))
        return self._start_drag([path])

    def _drag_favourites(self, _tk_event):
        """tkdnd asks what the drag carries: the favourites chosen in the list (their files)."""
        listbox = self.window[k.FAVOURITES]
        try:
            paths = favourite_files(self.state, listbox.get())
        except NothingToDrag as reason:
            return self._refuse_drag(str(reason))
        return self._start_drag(paths)

    def _start_drag(self, paths):
        self.post((k.DRAG, "out"), [str(path) for path in paths])
        # Shown now: tkdnd holds this callback until the drop, so the loop cannot say it
        # before then (Tk still redraws meanwhile).
        self.window[k.STATUS].update(dragging_message(paths))
        return (tkinterdnd2.COPY, tkinterdnd2.DND_FILES, tuple(str(path) for path in paths))

    def _drag_ended(self, tk_event):
        """tkdnd says the drag is over (dropped, or let go where nothing takes it)."""
        self.post((k.DRAG, "ended"), str(getattr(tk_event, "action", "") or ""))
        return getattr(tk_event, "action", None)

    def _refuse_drag(self, reason):
        self.post((k.DRAG, "refused"), reason)
        return tkinterdnd2.REFUSE_DROP

    def _dropped(self, tk_event):
        """tkdnd's drop callback: the first dropped file is opened as a sample."""
        paths = dropped_paths(str(tk_event.data), self.window.TKroot.tk.splitlist)
        if paths:
            self.window.write_event_value((k.FILE, "open-sample"), str(paths[0]))
        return getattr(tk_event, "action", None)

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
            return self._shortcut(self.window.user_bind_event)
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

    def _shortcut(self, tk_event):
        """A key press as a ``(KEY, keysym)`` event, unless it belongs to a focused widget."""
        if tk_event is None:
            return None
        keysym = tk_event.keysym
        focused = self.window.TKroot.focus_get()
        if keysym != "Escape" and is_text_field(focused):
            return None  # the user is typing
        if keysym in ("space", "Return") and _widget_class(focused) in PRESSABLE_CLASSES:
            return None  # it presses the focused button (Tab put the keyboard there)
        return (k.KEY, keysym_with_alt(tk_event))

    # ------------------------------------------------------------------ effects

    def _effect_table(self):
        """What carries out each effect type (gui.effects), once the workers exist."""
        return {
            **self.workers.jobs(),
            fx.Render: self._render,
            fx.Draw: self._draw,
            fx.Refresh: self._refresh,
            fx.StoreSettings: self._store_settings,
            fx.AskFile: self._ask_file,
            fx.AskSaveFile: self._ask_save_file,
            fx.AskConfirm: self._ask_confirm,
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

    def _ask_file(self, effect):
        purpose = effect.purpose
        path = sg.popup_get_file(
            "Open a sample", no_window=True, keep_on_top=True, initial_folder=start_folder(self.state),
            file_types=(("Sound files", " ".join(f"*{suffix}" for suffix in AUDIO_SUFFIXES)), ("All files", "*.*")))
        event = (k.FILE, purpose)
        self.dispatch(event, {event: path or None})

    def _ask_save_file(self, effect):
        """The save dialog for a kit; its own overwrite question is off (the export asks)."""
        from tkinter import filedialog

        purpose = effect.purpose
        path = filedialog.asksaveasfilename(
            parent=self.window.TKroot, title="Export kit", defaultextension=KIT_SUFFIX,
            initialdir=start_folder(self.state, self.state.kit.folder),
            filetypes=(("Hydrogen kits", f"*{KIT_SUFFIX}"), ("All files", "*.*")),
            confirmoverwrite=False)
        event = (k.FILE, purpose)
        self.dispatch(event, {event: path or None})

    def _ask_confirm(self, effect):
        event = (k.CONFIRM, effect.purpose)
        self.dispatch(event, {event: ask_yes_no(effect.question, title="Replace?")})

    # ------------------------------------------------------------------ showing the state

    def refresh(self, part):
        """Show one part of the state in its elements (see gui.view)."""
        self.view.refresh(part)


def ask_yes_no(question, title):
    """A modal Yes/No question; True for Yes. The desktop's keys answer it wherever its focus
    is: Y (or Enter on Yes) is Yes; N, Esc, Enter on No, or closing it is No. No has the focus
    at first, so a stray Enter replaces nothing."""
    window = sg.Window(title, [[sg.Text(question)], [sg.Button("Yes", key="Yes", tooltip="Y"),
                                                     sg.Button("No", key="No", tooltip="N or Esc")]],
                       modal=True, keep_on_top=True, font=("Helvetica", 9), finalize=True)
    for sequence, answer in (("<Key-y>", "Yes"), ("<Key-Y>", "Yes"), ("<Key-n>", "No"), ("<Key-N>", "No"),
                             ("<Escape>", "No")):
        window.bind(sequence, answer)
    for key in ("Yes", "No"):
        window[key].Widget.bind("<Return>", lambda _event, widget=window[key].Widget: widget.invoke())
    window["No"].set_focus()
    try:
        while True:
            event, _ = window.read()
            if event in ("Yes", "No", sg.WIN_CLOSED):
                return event == "Yes"
    finally:
        window.close()


ALT_MASK = 0x0008  # X's Mod1, the Alt key
CONTROL_MASK = 0x0004


def keysym_with_alt(tk_event):
    """The key as a shortcut name: "Alt-Left" for Alt+Left (history), "Control-o" for Ctrl+O
    (the desktop's shortcuts), else its keysym."""
    keysym = tk_event.keysym
    state = getattr(tk_event, "state", 0)
    state = state if isinstance(state, int) else 0
    if state & ALT_MASK and keysym in ("Left", "Right"):
        return f"Alt-{keysym}"
    if state & CONTROL_MASK and len(keysym) == 1 and keysym.isalpha():
        return f"Control-{keysym.lower()}"
    return keysym


#: How long the window's size must rest before the pad is fitted to it (a drag sends many).
PAD_FIT_MS = 120
#: The opening size leaves this much of the screen to the desktop (title bar, panel, edges),
#: and is at most OPENING_MAX: a large screen opens a large window, never a screen-filling one.
SCREEN_MARGIN = (80, 110)
OPENING_MAX = (1600, 1000)


def opening_size(smallest, screen):
    """The window's size as it opens: as large as the screen allows, less the desktop's
    margin, to at most ``OPENING_MAX``; never smaller than the layout's ``smallest``."""
    return tuple(max(low, min(room - margin, most))
                 for low, room, margin, most in zip(smallest, screen, SCREEN_MARGIN, OPENING_MAX))


def pad_side(smallest, size, room):
    """The pad's side in pixels for a window of ``size`` whose layout's smallest is
    ``smallest`` (with the pad at ``PAD_PIXELS``): the extra height, as far as the pad's
    column has ``room`` beside it plus half of the extra width; at most ``PAD_MAX``."""
    extra_width, extra_height = (max(0, have - need) for have, need in zip(size, smallest))
    return int(min(PAD_PIXELS + min(extra_height, room + extra_width // 2), PAD_MAX))


def start_folder(state, preferred=None):
    """Where a file dialog opens: ``preferred`` (the last kit's folder), else the favourites
    folder, else the home folder; the first that exists, never the program's own folder."""
    for folder in (preferred, state.favourites_dir, Path.home()):
        if folder and Path(folder).is_dir():
            return str(folder)
    return str(Path.home())


def _number_keys(typed):
    """Whether text typed (or pasted) into X or Y is made of what numbers are written with."""
    return all(char in NUMBER_CHARACTERS for char in typed)


NUMBER_CHARACTERS = frozenset("0123456789.-+eE ")


def _cursor_to_end(tk_event):
    tk_event.widget.selection_clear()
    tk_event.widget.icursor("end")
    return "break"  # not the class's select-all


def _widget_class(widget):
    try:
        return widget.winfo_class()
    except (AttributeError, tkinter.TclError):
        return ""


def is_text_field(widget):
    """Whether ``widget`` is a field the user types into (letters and space belong to it)."""
    if widget is None or isinstance(widget, str):
        return False
    if _widget_class(widget) not in ("Entry", "TEntry", "Text", "Spinbox", "TSpinbox",
                                     "TCombobox"):
        return False
    try:
        return str(widget.cget("state")) not in ("readonly", "disabled")
    except tkinter.TclError:
        return False


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
    return app.run()
