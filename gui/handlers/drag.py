"""Drag and drop with other programs: what the status line says of a drag out.

The drag itself is tkdnd's (see ``gui.drag_and_drop.DragAndDrop``); the window tells the
handlers what went out, or why nothing could.
"""

from pathlib import Path

from gui.handlers.common import say

DRAGGING = "dragging"


def dragging_message(paths):
    """What the status line says while ``paths`` are dragged out: "dragging NAME and N more"."""
    names = [Path(path).name for path in paths or ()]
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    return f"{DRAGGING} {names[0]}{more}" if names else DRAGGING


def on_drag(state, kind, payload):
    """``(DRAG, "out")`` with the dragged paths, ``(DRAG, "ended")`` once it is dropped or let
    go, or ``(DRAG, "refused")`` with the reason."""
    if kind == "ended":
        return say(state, "") if state.message.startswith(DRAGGING) else []
    if kind == "out":
        return say(state, dragging_message(payload))
    return say(state, str(payload))
