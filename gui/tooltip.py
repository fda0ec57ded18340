"""Tooltips that stay put on widgets the pointer rests on (the pad, the map's picture).

PySimpleGUI's ``ToolTip`` starts its timer on every Enter and hides on every Leave. The
window's loop sends a Leave and an Enter now and then with the pointer still on the widget
(its grabs), so on a large widget the tip never came, or went at once. Here a Leave counts
only when the pointer is really elsewhere; the tip comes when the pointer rests (a move
hides it and starts the wait again), opens beside the pointer, not under it, and once the
user presses the first button there it keeps away until the pointer has left (the user is
at work on the widget).

The tip lies over the widget it explains, so the pointer can come onto it: a move onto the tip
puts it out of sight at once, and a press on it is the widget's press at that pixel. Before,
the pointer moved onto the shown tip and a click there was lost: in the test suite a first
click on the pad, made where the last test had left the pointer resting, never reached it.
"""

import PySimpleGUI as sg

#: Where the tip opens from the pointer: below and to the right, never under it (a tip under
#: the pointer takes it from the widget, which hides the tip, which gives it back...)
TIP_OFFSET = (14, 22)


def steady_tooltip(widget, text):
    """A ``PySimpleGUI.ToolTip`` on ``widget`` (its ``text`` may be changed later), bound
    beside the widget's own Enter, Leave, Motion and button bindings, never in their place.

    Returns
    -------
    PySimpleGUI.ToolTip
        ``tipwindow`` is its window while shown.
    """
    tooltip = OutOfTheWayTip(widget, text, skip_bind=True, offset=TIP_OFFSET)
    at_work = [False]  # pressed since the pointer came: no tip until it leaves

    def rest(tk_event):
        if not at_work[0]:
            tooltip.leave(tk_event)  # hidden while moving; shown once the pointer rests
            tooltip.enter(tk_event)

    def left(tk_event):
        # by path (matplotlib's widget may come back as another object); the tip is its child
        under = widget.winfo_containing(widget.winfo_pointerx(), widget.winfo_pointery())
        if not str(under).startswith(str(widget)):
            at_work[0] = False
            tooltip.leave(tk_event)

    def pressed(tk_event):
        at_work[0] = True
        tooltip.leave(tk_event)

    widget.bind("<Enter>", lambda e: tooltip.id is None and tooltip.tipwindow is None and rest(e), add="+")
    widget.bind("<Motion>", rest, add="+")
    widget.bind("<Leave>", left, add="+")
    widget.bind("<ButtonPress-1>", pressed, add="+")
    return tooltip


class OutOfTheWayTip(sg.ToolTip):
    """A tip that never takes a press from the widget under it."""

    def showtip(self):
        self.hidetip()  # one put out of sight by a move onto it
        super().showtip()
        window = self.tipwindow
        for part in (window, *window.winfo_children()):
            part.bind("<Enter>", self._out_of_sight, add="+")
            part.bind("<Motion>", self._out_of_sight, add="+")
            part.bind("<ButtonPress>", self._pass_on, add="+")

    def _out_of_sight(self, _event):
        # withdrawn, not destroyed: a press the X server has already sent to it still comes
        # to _pass_on (a destroyed window's events are dropped)
        if self.tipwindow is not None and self.tipwindow.winfo_exists():
            self.tipwindow.withdraw()

    def _pass_on(self, event):
        """The press is the widget's: at the same pixel of the screen, on the widget."""
        widget = self.widget
        self.leave()
        widget.event_generate(
            f"<ButtonPress-{event.num}>",
            x=event.x_root - widget.winfo_rootx(),
            y=event.y_root - widget.winfo_rooty(),
            rootx=event.x_root,
            rooty=event.y_root,
        )
        return "break"
