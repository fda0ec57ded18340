"""The window's keyboard: the Tab order and its focus rings, Ctrl+Tab, and which key presses
are shortcuts.

``Keyboard.wire`` sets it up once the window exists: a click on anything but a text field
gives the keyboard back to the pad, the keys a list, slider or tab would take for itself are
shortcuts even while it has the keyboard, buttons and beat steps are in the Tab order with a
ring, and Ctrl+Tab moves between the tabs. ``Keyboard.shortcut`` reads a key press as the
``(KEY, keysym)`` event the handlers know, unless it belongs to the focused widget. What a
shortcut does is the handlers' (:mod:`gui.handlers`); nothing here changes the state.
"""

import tkinter
from functools import partial

import PySimpleGUI as sg

from gui import keys as k

#: The window's event for a key press (``Keyboard.shortcut`` reads it).
KEYPRESS = "-KEYPRESS-"
# keys that list, slider, tab and spin widgets would take for themselves: here they are shortcuts
NAVIGATION_KEYS = ("Left", "Right", "Up", "Down", "space")
NAVIGATING_ELEMENTS = (sg.Tree, sg.Listbox, sg.Slider, sg.TabGroup, sg.Spin, sg.Combo)
#: The ring round whatever has the keyboard (Tab and Shift+Tab move it), in pixels and colour.
FOCUS_RING, FOCUS_COLOUR = 2, "#1565c0"
#: Widgets whose own keys space and Enter are (they press them) once Tab has put the focus there.
PRESSABLE_CLASSES = ("Button", "Checkbutton")
ALT_MASK = 0x0008  # X's Mod1, the Alt key
CONTROL_MASK = 0x0004
NUMBER_CHARACTERS = frozenset("0123456789.-+eE ")


class Keyboard:
    """The keyboard of one window.

    Parameters
    ----------
    app : gui.window.GuiApp
        Its ``window`` (once open) and ``closed`` are read.
    """

    def __init__(self, app):
        self.app = app

    def wire(self):
        """Keep the keyboard shortcuts working whatever the user clicked, but a text field.

        A click on anything but a text field gives the keyboard focus back to the pad, and
        the keys a list, slider or tab would take for itself (arrows, space) are shortcuts
        even while it has the focus. Enter in X or Y means Go.
        """
        window = self.app.window
        window.bind("<Key>", KEYPRESS)
        root = window.TKroot
        root.bind_all("<ButtonRelease-1>", self._clicked, add="+")
        for element in window.element_list():
            widget = element.Widget
            if isinstance(element, sg.Button):
                # in the Tab order, with a ring when it has the keyboard; space or Enter presses it
                # "": in the Tab order while enabled (Tk skips a disabled one)
                widget.configure(takefocus="", highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
                for keysym in ("space", "Return"):
                    widget.bind(f"<KeyPress-{keysym}>", self._press_focused, add="+")
            elif isinstance(element, sg.Checkbox):
                widget.configure(highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
                widget.bind("<KeyPress-space>", self._press_focused, add="+")
            if isinstance(element, NAVIGATING_ELEMENTS):
                for keysym in NAVIGATION_KEYS:
                    widget.bind(f"<KeyPress-{keysym}>", self._navigation_key)
            if isinstance(element, sg.Combo):
                widget.bind("<<ComboboxSelected>>", lambda _e: self.focus_pad(), add="+")
        for key in (k.X, k.Y):
            field = window[key].Widget
            field.bind("<Return>", self._enter_in_field)
            # Tab into a field selects its text (the Entry class's <<TraverseIn>>), so a stray
            # key would replace the number: the cursor goes to the end instead, the number kept
            field.bind("<<TraverseIn>>", _cursor_to_end)
            # and a letter is not taken at all: only what a number is written with
            field.configure(validate="key", validatecommand=(field.register(_number_keys), "%S"))
        # the pad is in the Tab order too; no ring, which would move its pixels off the points
        window[k.PAD].Widget.configure(takefocus=1)
        for step in (e for e in window.element_list() if isinstance(e.Key, tuple) and e.Key[0] == k.STEP):
            step.Widget.configure(takefocus=1, highlightthickness=FOCUS_RING, highlightcolor=FOCUS_COLOUR)
            for keysym in ("space", "Return"):
                step.Widget.bind(f"<KeyPress-{keysym}>", partial(self._press_step, step.Key))
        # Ctrl+Tab and Ctrl+Shift+Tab move between the tabs wherever the keyboard is, and leave it
        # there. On the window's own tag: ttk's traversal was not heard from the pad, and on "all"
        # Tk's <<NextWindow>> (Tab) takes the key first and moves the keyboard instead
        for sequence, step in (("<Control-Tab>", 1), ("<Control-Shift-Tab>", -1), ("<Control-ISO_Left_Tab>", -1)):
            root.bind(sequence, partial(self._next_tab, step))

    def shortcut(self, tk_event):
        """A key press as a ``(KEY, keysym)`` event, unless it belongs to a focused widget."""
        if tk_event is None:
            return None
        keysym = tk_event.keysym
        focused = self.app.window.TKroot.focus_get()
        if keysym != "Escape" and is_text_field(focused):
            return None  # the user is typing
        if keysym in ("space", "Return") and _widget_class(focused) in PRESSABLE_CLASSES:
            return None  # it presses the focused button (Tab put the keyboard there)
        return (k.KEY, keysym_with_alt(tk_event))

    def focus_pad(self):
        if not self.app.closed and self.app.window is not None:
            self.app.window[k.PAD].Widget.focus_set()

    def _next_tab(self, step, _tk_event=None):
        tabs = self.app.window[k.TABS].Widget
        tabs.select((tabs.index("current") + step) % tabs.index("end"))
        return "break"  # not Tab's move to the next widget as well

    def _in_main_window(self, widget):
        """Whether ``widget`` (a widget, or the path of one Tk built itself) is in this window."""
        if self.app.closed or self.app.window is None:
            return False
        root = self.app.window.TKroot
        try:
            path = widget if isinstance(widget, str) else str(widget)
            return str(root.tk.call("winfo", "toplevel", path)) == str(root)
        except tkinter.TclError:
            return False

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
        self.focus_pad()

    def _press_focused(self, tk_event):
        """Space or Enter on a button or box that has the keyboard presses it, at once.

        PySimpleGUI keeps one event per turn of Tk's loop, the last. Tk's own space on a box
        ticks it and then the window's key press comes in the same turn, so the tick was never
        heard (and the view put the box back); on a button it presses from a timer 100 ms
        later, and on a busy machine that timer and the window's read timeout come due in one
        turn, so the press was lost. "break" keeps both out; a button still looks pressed for
        those 100 ms.
        """
        widget = tk_event.widget
        if str(widget.cget("state")) == "disabled":
            return "break"
        if _widget_class(widget) == "Button":
            relief = widget.cget("relief")
            widget.configure(relief="sunken")
            widget.after(100, lambda: widget.winfo_exists() and widget.configure(relief=relief))
        widget.invoke()
        return "break"  # not Go (the window's Enter), nor Tk's own press as well

    def _press_step(self, key, _tk_event):
        """Space or Enter on a beat step that has the keyboard toggles it, as a click does."""
        self.app.window.write_event_value(key, None)
        return "break"

    def _navigation_key(self, tk_event):
        self.app.window.write_event_value((k.KEY, keysym_with_alt(tk_event)), None)
        return "break"  # not the widget's own use of the key (moving in the list)

    def _enter_in_field(self, _tk_event):
        self.app.window.write_event_value(k.GO, None)
        self.focus_pad()
        return "break"


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


def is_text_field(widget):
    """Whether ``widget`` is a field the user types into (letters and space belong to it)."""
    if widget is None or isinstance(widget, str):
        return False
    if _widget_class(widget) not in ("Entry", "TEntry", "Text", "Spinbox", "TSpinbox", "TCombobox"):
        return False
    try:
        return str(widget.cget("state")) not in ("readonly", "disabled")
    except tkinter.TclError:
        return False


def _number_keys(typed):
    """Whether text typed (or pasted) into X or Y is made of what numbers are written with."""
    return all(char in NUMBER_CHARACTERS for char in typed)


def _cursor_to_end(tk_event):
    tk_event.widget.selection_clear()
    tk_event.widget.icursor("end")
    return "break"  # not the class's select-all


def _widget_class(widget):
    try:
        return widget.winfo_class()
    except (AttributeError, tkinter.TclError):
        return ""
