"""The favourites list: what was saved, and reopening a favourite at its model and point."""
from pathlib import Path

from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import favourite_label, say
from gui.handlers.models import select_model
from gui.handlers.point import move_point
from gui.state import UNAVAILABLE


def on_saved(state, saved):
    names = ", ".join(Path(str(p)).name for p in saved.paths)
    state.message = f"saved {names} in {state.favourites_dir}"
    return [fx.ListFavourites(), fx.Refresh(Part.STATUS)]


def on_favourites(state, listed):
    state.favourites = list(listed.favourites)
    return [fx.Refresh(Part.FAVOURITES)]


def reopen(state, selected):
    """Reopen a favourite at its model and point."""
    if not selected:
        return say(state, "choose a favourite in the list first")
    label = selected[0] if isinstance(selected, (list, tuple)) else selected
    chosen = next((f for f in state.favourites
                   if f is label or favourite_label(f) == str(label)), None)
    if chosen is None:
        return []
    if getattr(chosen, "recall", True) is None:
        return say(state, f"{Path(str(chosen.path)).name}: {chosen.reason}")
    point = tuple(float(v) for v in chosen.point)
    entry = state.entries.get(chosen.model)
    if entry is None:
        return say(state, f"{Path(str(chosen.path)).name}: model {chosen.model} is not in the list")
    if entry.state == UNAVAILABLE:
        return say(state, f"{Path(str(chosen.path)).name}: {chosen.model} is unavailable: "
                           f"{entry.reason}")
    if state.model is not None and state.model.name == chosen.model:
        state.sound.play_when_decoded = True
        return move_point(state, point)
    state.pending_point = point
    state.sound.play_when_decoded = True
    return select_model(state, chosen.model, keep_pending=True)
