"""The family selector: a family button or key 1–7, the hybrid's second family, its slider.

Choosing a family is like a click on the pad at the same point: the point is decoded again
with the new family and heard (Audition on click), and the map and the pad show that
family's training sounds in colour. A model that takes no family refuses, in one line.
"""
from constants import DRUM_FAMILIES
from gui import effects as fx
from gui.effects import Part
from gui.family import BLEND_DIGITS, NO_HYBRID, is_conditioned, no_family_reason
from gui.handlers.common import say
from gui.handlers.map import request_map
from gui.handlers.point import move_point
from gui.handlers.sound import audition


def choose_family(state, name):
    """A family button, or its key (1 kick ... 7 percussion)."""
    if name not in DRUM_FAMILIES:
        return []
    if not is_conditioned(state):
        return say(state, no_family_reason(state.model.name if state.model else None))
    family = state.family
    if family.exact is None and family.first == name:
        return []
    family.first, family.exact = name, None
    if family.second == name:  # a family mixed with itself is that family
        family.second, family.blend = None, 0.0
    return family_changed(state)


def choose_hybrid(state, value):
    """The hybrid combo: the second family to mix in, or "none"."""
    second = None if value in (None, "", NO_HYBRID) else str(value)
    if second is not None and second not in DRUM_FAMILIES:
        return []
    if not is_conditioned(state):
        return say(state, no_family_reason(state.model.name if state.model else None))
    family = state.family
    if second == family.first:
        second = None
    if family.exact is None and second == family.second:
        return []
    family.second, family.exact = second, None
    if second is not None and family.blend <= 0:
        family.blend = 0.5  # a hybrid one can hear at once; the slider moves it from there
    return family_changed(state)


def set_blend(state, value):
    """The hybrid slider: the second family's weight, 0 to 1."""
    try:
        blend = round(min(max(float(value), 0.0), 1.0), BLEND_DIGITS)
    except (TypeError, ValueError):
        return []
    if not is_conditioned(state):
        return say(state, no_family_reason(state.model.name if state.model else None))
    family = state.family
    if family.exact is None and blend == family.blend:
        return []
    family.blend, family.exact = blend, None
    return family_changed(state)


def family_changed(state):
    """Decode the point with the new family and hear it, as a click on the pad does."""
    state.sound.recall = None  # a favourite being reopened is no longer what is asked for
    effects = [fx.Refresh(Part.FAMILY), fx.Refresh(Part.PAD)]
    effects += move_point(state, state.point, step=False)
    audition(state)
    return effects + request_map(state)
