"""Shortcuts that step through a choice: the model list (``[`` and ``]``), the Vary amount
(``-`` and ``=``, the slider's steps)."""

from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import say
from gui.handlers.models import select_model
from gui.handlers.sound import set_vary
from gui.state import UNAVAILABLE, VARY_MAX, VARY_STEP


def step_model(state, step):
    """The previous (``step`` -1) or next (+1) model in the list that can be loaded, round."""
    usable = [e.name for e in state.entries.values() if e.trained and e.state != UNAVAILABLE]
    if not usable:
        return say(state, "no model to change to")
    current = state.wanted or (state.model.name if state.model is not None else None)
    if current in usable:
        index = (usable.index(current) + step) % len(usable)
    else:
        index = 0 if step > 0 else len(usable) - 1
    return select_model(state, usable[index])


def step_vary(state, steps):
    """Move the Vary amount by ``steps`` of the slider's resolution, within its range."""
    amount = min(max(state.vary.amount + steps * VARY_STEP, 0.0), VARY_MAX)
    if amount == state.vary.amount:
        return []
    return set_vary(state, amount) + [fx.Refresh(Part.CONTROLS)]  # the slider shows it
