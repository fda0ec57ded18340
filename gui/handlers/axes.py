"""A wide latent's controls: a slider moves one axis off the pad, and the "which axes"
choice picks the two the pad shows (gui.wide keeps the vector and the pad in step)."""

import math

from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import say
from gui.handlers.map import request_map
from gui.handlers.point import move_point
from gui.handlers.sound import audition
from gui.wide import axis_step, is_wide, pad_of, slider_axes, with_pad_axes


def move_slider(state, slider, value):
    """The window's slider number ``slider`` moved: the axis it shows (gui.wide.slider_axes)."""
    axes = slider_axes(state.model)
    return move_axis(state, axes[slider], value) if isinstance(slider, int) and 0 <= slider < len(axes) else []


def move_axis(state, axis, value):
    """A slider moved: its axis of the vector takes ``value``, and the sound there is decoded
    and heard, as a click on the pad is (a step in the history)."""
    info = state.model
    if not is_wide(info) or state.latent is None:
        return []
    try:
        axis, value = int(axis), float(value)
    except (TypeError, ValueError):
        return []
    if axis in info.pad_axes or not 0 <= axis < info.latent_dim or not math.isfinite(value):
        return []
    if abs(state.latent[axis] - value) < axis_step(info, axis) / 2:
        return []  # the slider shown again at the vector's value (Tk rounds it to its resolution)
    vector = list(state.latent)
    vector[axis] = value
    effects = move_point(state, tuple(vector))
    audition(state)
    return effects


def axis_number(label):
    """The axis a combo's label names ("axis 3" or "3"), or None."""
    try:
        return int(str(label).split()[-1])
    except (IndexError, ValueError):
        return None


def choose_pad_axes(state, x_label, y_label):
    """The "which axes" combos: the pad shows these two axes; the others become the sliders.
    The vector, and so the sound, stays as it is."""
    info = state.model
    if not is_wide(info) or state.latent is None:
        return []
    x, y = axis_number(x_label), axis_number(y_label)
    if x is None or y is None or not (0 <= x < info.latent_dim and 0 <= y < info.latent_dim):
        return []
    axes = (x, y)
    if axes[0] == axes[1]:
        return say(state, "the pad's two axes must differ: choose another for X or Y") + [fx.Refresh(Part.AXES)]
    if axes == tuple(info.pad_axes):
        return []
    state.model = with_pad_axes(info, axes)
    state.point = pad_of(state.model, state.latent)
    state.message = f"the pad shows axes {axes[0]} and {axes[1]}; the others are the sliders"
    effects = [fx.Refresh(p) for p in (Part.PAD, Part.MARKER, Part.FIELDS, Part.AXES, Part.STATUS)]
    return effects + request_map(state)
