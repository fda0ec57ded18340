"""Tooltips that stay put on widgets the pointer rests on (the pad, the map's picture).

PySimpleGUI's ``ToolTip`` starts its timer on every Enter and hides on every Leave. The
window's loop sends a Leave and an Enter now and then with the pointer still on the widget
(its grabs), so on a large widget the tip never came, or went at once. Here an Enter while
the tip waits or shows changes nothing, and a Leave counts only when the pointer is really
elsewhere; the tip opens beside the pointer, not under it; a press of the first button puts
the tip away (the user is at work there).
"""
import PySimpleGUI as sg

#: Where the tip opens from the pointer: below and to the right, never under it (a tip under
#: the pointer takes it from the widget, which hides the tip, which gives it back...)
TIP_OFFSET = (14, 22)


def steady_tooltip(widget, text):
    """A ``PySimpleGUI.ToolTip`` on ``widget`` (its ``text`` may be changed later), bound
    beside the widget's own Enter, Leave and button bindings, never in their place.

    Returns
    -------
    PySimpleGUI.ToolTip
        ``tipwindow`` is its window while shown.
    """
    tooltip = sg.ToolTip(widget, text, skip_bind=True, offset=TIP_OFFSET)

    def entered(tk_event):
        if tooltip.id is None and tooltip.tipwindow is None:
            tooltip.enter(tk_event)

    def left(tk_event):
        under = widget.winfo_containing(widget.winfo_pointerx(), widget.winfo_pointery())
        # by path (matplotlib's widget may come back as another object); the tip is its child
        if not str(under).startswith(str(widget)):
            tooltip.leave(tk_event)

    widget.bind("<Enter>", entered, add="+")
    widget.bind("<Leave>", left, add="+")
    widget.bind("<ButtonPress-1>", tooltip.leave, add="+")
    return tooltip
