"""The window's size: how large it opens, its smallest, and the pad that follows it.

The window opens as large as the screen allows (``opening_size``), never smaller than its
layout needs (it fits 1280x800 with a title bar and a panel). When the user (or a window
manager) resizes it, the pad is fitted to the new size once the resizing pauses
(``pad_side``): the pad is square, and what the window has beyond its smallest goes to it.
"""

from gui import effects as fx
from gui import keys as k
from gui.layout import PAD_MAX, PAD_PIXELS

#: How long the window's size must rest before the pad is fitted to it (a drag sends many).
PAD_FIT_MS = 120
#: The opening size leaves this much of the screen to the desktop (title bar, panel, edges),
#: and is at most OPENING_MAX: a large screen opens a large window, never a screen-filling one.
SCREEN_MARGIN = (80, 110)
OPENING_MAX = (1600, 1000)


class WindowSizing:
    """The size of one window and of its pad.

    Parameters
    ----------
    app : gui.window.GuiApp
        Its ``window``, ``closed`` and ``view`` are read; a fitted pad is shown with
        ``refresh``.
    """

    def __init__(self, app):
        self.app = app
        self._smallest = (0, 0)  # the layout's smallest, the pad at PAD_PIXELS
        self._pad_room = 0  # what the pad may grow by before its column widens
        self._pad_fit = None  # the pending after() that fits the pad to the window

    @property
    def fit_pending(self):
        """Whether a fit of the pad to the window is waiting for the resizing to pause."""
        return self._pad_fit is not None

    def size_window(self):
        """Open as large as the screen allows (``opening_size``), never smaller than the layout
        needs (it fits 1280x800 with a title bar and a panel); the pad follows the window's size."""
        window = self.app.window
        root = window.TKroot
        root.update_idletasks()
        self._smallest = (root.winfo_reqwidth(), root.winfo_reqheight())
        root.minsize(*self._smallest)
        # what the pad may grow by before its column widens (the Sound frame is wider than it)
        column = window[k.PAD].Widget.master.master
        self._pad_room = max(0, column.winfo_reqwidth() - window[k.PAD].Widget.winfo_reqwidth() - 8)
        root.geometry("{}x{}".format(*opening_size(self._smallest, (root.winfo_screenwidth(), root.winfo_screenheight()))))
        root.update_idletasks()
        window.move_to_center()  # it was placed at its width before the buttons narrowed
        self._pad_fit = None
        root.bind("<Configure>", self._window_configured, add="+")

    def fit_later(self):
        """Fit the pad to the window after ``PAD_FIT_MS`` (the window has just opened)."""
        self._pad_fit = self.app.window.TKroot.after(PAD_FIT_MS, self._fit_pad)

    def _window_configured(self, tk_event):
        """The window changed size (the user, or its window manager): fit the pad, once the
        resizing pauses (a drag of the window's corner sends many)."""
        root = self.app.window.TKroot if self.app.window is not None else None
        if root is None or self.app.closed or tk_event.widget is not root and self._pad_fit is not None:
            return  # a widget inside it changed: one fit is on its way
        if self._pad_fit is not None:
            root.after_cancel(self._pad_fit)
        self._pad_fit = root.after(PAD_FIT_MS, self._fit_pad)

    def _fit_pad(self):
        """The pad's side for the window's size: what the window has beyond its smallest goes
        to the pad (square) as far as its height allows, with half of the extra width (the map
        and the tabs get the rest); never more than ``PAD_MAX``."""
        self._pad_fit = None
        if self.app.closed or self.app.window is None:
            return
        root = self.app.window.TKroot
        if self.app.view is None:  # still opening: fit it once the window is shown
            self._pad_fit = root.after(PAD_FIT_MS, self._fit_pad)
            return
        graph = self.app.window[k.PAD]
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
        self.app.refresh(fx.Part.PAD)


def opening_size(smallest, screen):
    """The window's size as it opens: as large as the screen allows, less the desktop's
    margin, to at most ``OPENING_MAX``; never smaller than the layout's ``smallest``."""
    return tuple(max(low, min(room - margin, most)) for low, room, margin, most in zip(smallest, screen, SCREEN_MARGIN, OPENING_MAX))


def pad_side(smallest, size, room):
    """The pad's side in pixels for a window of ``size`` whose layout's smallest is
    ``smallest`` (with the pad at ``PAD_PIXELS``): the extra height, as far as the pad's
    column has ``room`` beside it plus half of the extra width; at most ``PAD_MAX``."""
    extra_width, extra_height = (max(0, have - need) for have, need in zip(size, smallest))
    return int(min(PAD_PIXELS + min(extra_height, room + extra_width // 2), PAD_MAX))
