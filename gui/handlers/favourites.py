"""The favourites list: what was saved, and reopening a favourite as it was saved: its model,
point, variation, family and level, so that it sounds exactly as the file does."""

from pathlib import Path

from audio.level import LEVELS
from audio.recall import recorded_vector
from gui import effects as fx
from gui.effects import Part
from gui.family import all_families, from_text, opening_family
from gui.handlers.common import clamp, favourite_label, say
from gui.handlers.map import request_map
from gui.handlers.models import select_model
from gui.handlers.point import move_point
from gui.state import UNAVAILABLE, Recall
from gui.wide import clamp_vector, is_wide, with_pad


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
    chosen = next((f for f in state.favourites if f is label or favourite_label(f) == str(label)), None)
    if chosen is None:
        return []
    if getattr(chosen, "recall", True) is None:
        return say(state, f"{Path(str(chosen.path)).name}: {chosen.reason}")
    point = recorded_vector(chosen.point, chosen.recall.get("settings"))  # a wide latent's whole vector
    entry = state.entries.get(chosen.model)
    if entry is None:
        return say(state, f"{Path(str(chosen.path)).name}: model {chosen.model} is not in the list")
    if entry.state == UNAVAILABLE:
        return say(state, f"{Path(str(chosen.path)).name}: {chosen.model} is unavailable: {entry.reason}")
    family = _family(chosen)
    # the selector shows it, and the point is decoded with it (none recorded: the plain pad;
    # a conditioned model's opens at the family chosen, see handlers.models)
    state.family = from_text(family) if family is not None else all_families()
    level_changed = _take_level(state, chosen)
    state.sound.play_when_decoded = True
    if state.model is not None and state.model.name == chosen.model:
        at = _recalled_at(state, point)
        state.sound.recall = Recall(chosen.model, at, _variation(chosen), family)
        if family is None and state.model.conditioned:
            state.family = opening_family(state)
        effects = move_point(state, point if len(point) == len(at) else at) + [fx.Refresh(Part.FAMILY), fx.Refresh(Part.PAD)]
        effects += request_map(state)
    else:
        state.pending_point = point
        # clamped to the new model's range once it is ready; a favourite is saved inside it
        state.sound.recall = Recall(chosen.model, point, _variation(chosen), family)
        effects = select_model(state, chosen.model, keep_pending=True)
    if level_changed:
        state.message = f"level: {state.sound.level}, as {Path(str(chosen.path)).name} was saved"
        effects += [fx.Refresh(Part.CONTROLS), fx.Refresh(Part.STATUS), fx.StoreSettings()]
    return effects


def _recalled_at(state, point):
    """What the loaded model decodes a favourite's point as: clamped to the pad, or a wide
    latent's whole vector clamped axis by axis (its pad point for a vector of another size,
    the other axes at their centres, where a pad point plays: ddsp_cvae's favourites saved
    before it had sliders)."""
    if not is_wide(state.model):
        return clamp(point, state.model.latent_range)
    if len(point) != state.model.latent_dim:
        return with_pad(state.model, state.model.axis_centres, clamp(point, state.model.latent_range))
    return clamp_vector(state.model, point)


def _variation(favourite):
    """The variation record a favourite's sidecar holds, or None for the point's own sound."""
    record = (favourite.recall.get("settings") or {}).get("variation")
    return dict(record) if isinstance(record, dict) else None


def _family(favourite):
    """The family text a favourite was saved with, or None (a bad one too:
    the sidecar is the user's file, and its sound can still be reopened at the default)."""
    from models.errors import ModelInputError
    from models.families import family_text

    recorded = (favourite.recall.get("settings") or {}).get("family")
    try:
        return None if recorded is None else family_text(recorded)
    except (ModelInputError, TypeError, ValueError):
        return None


def _take_level(state, favourite):
    """Reopening plays the favourite at the level it was saved at: the window's level follows."""
    level = favourite.recall.get("level")
    if level not in LEVELS or level == state.sound.level:
        return False
    state.sound.level = level
    return True
