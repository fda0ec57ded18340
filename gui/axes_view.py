"""The view of a wide latent's panel (gui.wide): the "which axes" combos and a slider per
axis off the pad, shown only for a model with more axes than the pad has."""

from gui import keys as k
from gui.wide import MAX_AXIS_SLIDERS, axis_step, is_wide, slider_axes


def axis_names(info):
    return [f"axis {axis}" for axis in range(info.latent_dim)]


def axis_label(axis, value):
    """A slider's label: its axis and the vector's value there ("axis 3  +0.25")."""
    return f"axis {axis}  {value:+.2f}"


def show_axes(window, state):
    """Show the panel for the state's model (hidden for a 2-D latent), each slider on its
    axis's range at the vector's value."""
    info = state.model
    wide = is_wide(info) and state.latent is not None
    panel = window[k.AXES_PANEL]
    # an imported model has no families, and the room is the sliders'; a family's frame
    # (ddsp_cvae's) keeps its family beside its sliders
    families = not wide or info.family_frame
    if window[k.FAMILY_PANEL].visible != families:
        window[k.FAMILY_PANEL].update(visible=families)
    if panel.visible != wide:
        panel.update(visible=wide)
    if not wide:
        return
    names = axis_names(info)
    x, y = info.pad_axes
    for key, axis in ((k.PAD_X_AXIS, x), (k.PAD_Y_AXIS, y)):
        if window[key].get() != names[axis] or list(window[key].Values or []) != names:
            window[key].update(value=names[axis], values=names)
    axes = slider_axes(info)
    for slider in range(MAX_AXIS_SLIDERS):
        _show_slider(window, info, state.latent, slider, axes[slider] if slider < len(axes) else None)
    rest = [axis for axis in range(info.latent_dim) if axis not in info.pad_axes][MAX_AXIS_SLIDERS:]
    window[k.AXES_NOTE].update(f"axes {rest[0]}–{rest[-1]} stay at their centre" if rest else "")


def _show_slider(window, info, vector, slider, axis):
    """Slider number ``slider`` on ``axis`` (None: hidden)."""
    label, element = window[(k.AXIS_LABEL, slider)], window[(k.AXIS, slider)]
    shown = axis is not None
    if label.visible != shown:
        label.update(visible=shown)
        element.update(visible=shown)
    if not shown:
        return
    low, high = info.axis_ranges[axis]
    step = axis_step(info, axis)
    label.update(axis_label(axis, vector[axis]))
    widget = element.Widget
    if (float(widget.cget("from")), float(widget.cget("to")), float(widget.cget("resolution"))) != (low, high, step):
        widget.configure(from_=low, to=high, resolution=step)
    if abs(float(widget.get()) - vector[axis]) >= step / 2:  # not while it is where the user put it
        element.update(value=vector[axis])
