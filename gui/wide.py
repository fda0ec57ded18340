"""A latent wider than the pad: an imported model's D axes, of which the pad shows two and
the others are sliders.

The state keeps the whole vector (``AppState.latent``; ``AppState.vector`` is what a sound
is decoded from) beside the pad's point; these functions keep the two in step. A model
with a 2-D latent has no vector (``latent`` None): the point is all there is. Nothing here
touches a window or a thread.
"""

from dataclasses import replace

import numpy as np

#: The sliders the window has: a wider latent's further axes stay at their centre.
MAX_AXIS_SLIDERS = 8
#: A slider's steps over its axis's range (its resolution: the range / SLIDER_STEPS).
SLIDER_STEPS = 200


def is_wide(info):
    """Whether the model (a :class:`gui.state.ModelInfo`) has more axes than the pad shows."""
    return info is not None and info.latent_dim > 2 and len(info.axis_ranges) == info.latent_dim


def slider_axes(info):
    """The axes the sliders show, in order: every axis off the pad, up to MAX_AXIS_SLIDERS."""
    if not is_wide(info):
        return ()
    return tuple(axis for axis in range(info.latent_dim) if axis not in info.pad_axes)[:MAX_AXIS_SLIDERS]


def axis_step(info, axis):
    """A slider's resolution on ``axis``: a move of less than half of it is no move (the
    slider shown again at the vector's value, rounded by Tk to its resolution)."""
    low, high = info.axis_ranges[axis]
    return (float(high) - float(low)) / SLIDER_STEPS


def off_centre_axes(info, vector):
    """The axes off the pad on which ``vector`` is away from its centre: by half a slider
    step or more (a smaller offset is none a slider could make)."""
    return tuple(
        axis
        for axis in range(info.latent_dim)
        if axis not in info.pad_axes and abs(float(vector[axis]) - float(info.axis_centres[axis])) >= axis_step(info, axis) / 2
    )


def pad_of(info, vector):
    """The pad's point (x, y) of a whole vector."""
    x, y = info.pad_axes
    return (float(vector[x]), float(vector[y]))


def clamp_vector(info, vector):
    """The vector with each axis moved inside its range."""
    return tuple(float(np.clip(float(v), low, high)) for v, (low, high) in zip(vector, info.axis_ranges))


def with_pad(info, vector, point):
    """``vector`` with the pad's two axes at ``point``."""
    values = list(vector)
    for axis, value in zip(info.pad_axes, point):
        values[axis] = float(value)
    return tuple(values)


def place(state, point, fresh=False):
    """Move the state to ``point`` (a pad point, or a whole vector of the wide model): the
    pad's point clamped to its range, and the wide model's vector with it (each axis inside
    its range). Returns the pad point asked for (before the clamp). ``fresh``: another
    model's vector does not carry over."""
    info = state.model
    point = tuple(float(v) for v in point)
    asked = point[:2]
    if not is_wide(info):
        state.latent = None
    elif len(point) == info.latent_dim:
        state.latent = clamp_vector(info, point)
        asked = pad_of(info, point)
    elif fresh or state.latent is None or len(state.latent) != info.latent_dim:
        state.latent = tuple(float(v) for v in info.axis_centres)
    xmin, xmax, ymin, ymax = info.latent_range
    state.point = (float(np.clip(asked[0], xmin, xmax)), float(np.clip(asked[1], ymin, ymax)))
    if state.latent is not None:
        state.latent = with_pad(info, state.latent, state.point)
    return asked


def pad_spot(info, spot):
    """Where a spot (a pad point, or a wide latent's whole vector such as Morph's A) is on the pad."""
    if spot is not None and len(spot) > 2 and is_wide(info) and len(spot) == info.latent_dim:
        return pad_of(info, spot)
    return spot


def with_pad_axes(info, axes):
    """The model's info with the pad showing ``axes``: its range and centre those axes', and
    its training codes (where it has their whole vectors) those axes' columns."""
    x, y = axes
    (x_low, x_high), (y_low, y_high) = info.axis_ranges[x], info.axis_ranges[y]
    return replace(
        info,
        pad_axes=(x, y),
        # a family frame's codes are placed per family (gui.family.shown_code_points)
        codes=info.codes if info.family_frame else codes_on_axes(info.codes, (x, y)),
        latent_range=(float(x_low), float(x_high), float(y_low), float(y_high)),
        center=(float(info.axis_centres[x]), float(info.axis_centres[y])),
    )


def codes_on_axes(codes, axes):
    """Training codes (a :class:`models.trained_folder.LatentCodes`) on two axes of their
    whole vectors (``codes.full``); as they are when they have none (or are None)."""
    full = None if codes is None else getattr(codes, "full", None)
    if full is None or max(axes) >= np.asarray(full).shape[1]:
        return codes
    return replace(codes, points=np.asarray(full, dtype=np.float32)[:, list(axes)])


def heat_plane(state):
    """What a heat-map of a wide model is drawn over: ``(pad axes, vector)``, the vector with
    the other axes at the sliders' values and the pad's two at their centres (so a move on the
    pad keeps the map); None for a 2-D latent (its pad is all of it)."""
    info = state.model
    if not is_wide(info) or state.latent is None:
        return None
    vector = with_pad(info, state.latent, [info.axis_centres[axis] for axis in info.pad_axes])
    return (tuple(int(a) for a in info.pad_axes), tuple(round(v, 9) for v in vector))


def plane_vectors(plane, points):
    """Whole vectors (N, D) float32 of pad points (N, 2) on a :func:`heat_plane`."""
    axes, vector = plane
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    vectors = np.tile(np.asarray(vector, dtype=np.float32), (len(points), 1))
    vectors[:, axes[0]], vectors[:, axes[1]] = points[:, 0], points[:, 1]
    return vectors
