"""The family selector: "All families" or key 0, a family button or key 1–7, the hybrid's
second family, its slider; and back and forward, whose steps hold the family beside the point.

Choosing a family is like a click on the pad at the same point: the point is decoded again
with the new family and heard (Audition on click), and the map and the pad show that
family's training sounds in colour (on a model with family pads, where that family's pad
puts them). A model that takes no family, or has no training sound of the family chosen,
refuses in one line: the model's reason.
"""

from constants import DRUM_FAMILIES
from gui import effects as fx
from gui.effects import Part
from gui.family import BLEND_DIGITS, NO_HYBRID, all_families, decode_family, from_text, no_family_reason, refusal, takes_family
from gui.handlers.common import say
from gui.handlers.map import request_map
from gui.handlers.point import move_point, on_encoded
from gui.handlers.sound import audition


def choose_family(state, name):
    """A family button, or its key (1 kick ... 7 percussion)."""
    if name not in DRUM_FAMILIES:
        return []
    why = refusal(state, name)
    if why is not None:
        return say(state, why)
    family = state.family
    if family.exact is None and family.first == name:
        return []
    family.first, family.exact = name, None
    if family.second == name:  # a family mixed with itself is that family
        family.second, family.blend = None, 0.0
    return family_changed(state)


def choose_all(state):
    """ "All families" (key 0): the plain pad of a model with family pads."""
    why = refusal(state, None)
    if why is not None:
        return say(state, why)
    if state.family.text() is None:
        return []
    state.family = all_families()
    return family_changed(state)


def choose_hybrid(state, value):
    """The hybrid combo: the second family to mix in, or "none"."""
    second = None if value in (None, "", NO_HYBRID) else str(value)
    if second is not None and second not in DRUM_FAMILIES:
        return []
    if not takes_family(state):
        return say(state, no_family_reason(state))
    family = state.family
    if family.first is None:
        return say(state, "choose a family first (keys 1–7): the hybrid mixes a second one into it")
    if second is not None and second != family.first:
        why = refusal(state, second)
        if why is not None:
            return say(state, why)
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
    if not takes_family(state):
        return say(state, no_family_reason(state))
    family = state.family
    if family.first is None:
        return []  # "All families" has no hybrid (the slider is off)
    if family.exact is None and blend == family.blend:
        return []
    family.blend, family.exact = blend, None
    effects = family_changed(state, step=False)
    state.history.amend(state.model.name, decode_family(state))  # the step's mix, not a step per value
    return effects


def on_encoded_in_family(state, encoded):
    """A sample opened: on a family frame's model it comes in the frame of the family it is
    most like (``encoded.family``), which the selector, the pad and the map then show, so
    its own code plays; then as :func:`gui.handlers.point.on_encoded`."""
    model = state.model
    switched = model is not None and encoded.name == model.name and encoded.family not in (None, decode_family(state))
    if switched:
        state.family = from_text(str(encoded.family))
    effects = on_encoded(state, encoded)
    if switched:
        effects += [fx.Refresh(Part.FAMILY), fx.Refresh(Part.PAD), *request_map(state)]
    return effects


def family_changed(state, step=True):
    """Decode the point with the new family and hear it, as a click on the pad does; a
    step in the history (``step``), so that back returns to the family before."""
    state.sound.recall = None  # a favourite being reopened is no longer what is asked for
    effects = [fx.Refresh(Part.FAMILY), fx.Refresh(Part.PAD)]
    effects += move_point(state, state.point, step=step)
    audition(state)
    return effects + request_map(state)


def go_back(state):
    """Alt+Left: the previous step with this model, its point and its family."""
    return _go(state, state.history.back, "earlier")


def go_forward(state):
    """Alt+Right: the next step (after going back)."""
    return _go(state, state.history.forward, "later")


def _go(state, step, which):
    if state.model is None:
        return []
    point = step(state.model.name, decode_family(state))
    if point is None:
        return say(state, f"no {which} point with {state.model.name}")
    return _step_to(state, point)


def _step_to(state, point):
    family = state.history.family(state.model.name)
    if not takes_family(state) or family == decode_family(state):
        return move_point(state, point, step=False)
    # the step's family (None: "All families"): the selector shows it, the point decodes with it
    state.family = all_families() if family is None else from_text(family)
    state.sound.recall = None
    return [fx.Refresh(Part.FAMILY), fx.Refresh(Part.PAD)] + move_point(state, point, step=False) + request_map(state)
