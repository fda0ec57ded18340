"""The point on the pad: moving it (click, drag, keys, typed, random, history), its decoded
sound, and an opened sample's point."""

from pathlib import Path

import numpy as np

from gui import effects as fx
from gui import keys as k
from gui.effects import Part
from gui.family import decode_family
from gui.handlers.common import format_point, render_output, say
from gui.handlers.sound import audition, current_heard, play, play_sequence, render_sound, save, swap_sound
from gui.wide import pad_of, place

NUDGE = 0.02  # arrow keys move the point by this share of the latent range


def move_point(state, point, step=True):
    """Put the point somewhere (clamped to the range) and decode it.

    ``step``: the move is a step in the model's history (a drag's moves are not, its end is;
    going back or forward is not).
    """
    if state.model is None or point is None or None in tuple(point):
        return []
    point = place(state, point)  # clamped; a wide latent's whole vector kept (gui.wide)
    state.sound.original = None
    recall = state.sound.recall
    if recall is not None and (recall.model != state.model.name or recall.point != state.vector):
        state.sound.recall = None  # moved on before the reopened favourite sounded
    if step:
        state.history.click(state.model.name, state.vector, decode_family(state))
    effects = [
        fx.Refresh(Part.MARKER),
        fx.Refresh(Part.FIELDS),
        fx.Decode(state.model.name, state.vector, family=decode_family(state)),
        fx.Refresh(Part.HISTORY),
    ]
    if state.latent is not None:
        effects.append(fx.Refresh(Part.AXES))  # the sliders show the vector
    if state.point != tuple(float(v) for v in point):
        return effects + say(
            state, f"{format_point(point)} is outside {state.model.name}'s range: clamped to the range, at {format_point(state.point)}"
        )
    if state.message and not state.sound.save_when_decoded:
        # a message is about the last thing done; a move starts the next (none lingers)
        state.message = ""
        effects.append(fx.Refresh(Part.STATUS))
    return effects


def nudge(state, dx, dy):
    if state.model is None:
        return []
    xmin, xmax, ymin, ymax = state.model.latent_range
    x, y = state.point
    return move_point(state, (x + dx * NUDGE * (xmax - xmin), y + dy * NUDGE * (ymax - ymin)))


def typed_point(state, values):
    try:
        point = (float(values[k.X]), float(values[k.Y]))
    except (TypeError, ValueError, KeyError):
        return say(state, "X and Y must be numbers, e.g. 0.25")
    if not all(np.isfinite(point)):
        return say(state, "X and Y must be finite numbers")
    return move_point(state, point)


def random_point(state):
    if state.model is None:
        return []
    xmin, xmax, ymin, ymax = state.model.latent_range
    return move_point(state, (state.rng.uniform(xmin, xmax), state.rng.uniform(ymin, ymax)))


def reset_point(state):
    return move_point(state, state.model.center) if state.model else []


def _recalled(state, decoded):
    """Whether ``decoded`` is the sound of the favourite being reopened (None: none is)."""
    recall = state.sound.recall
    if recall is None:
        return None
    return (
        recall.model == decoded.name
        and recall.point == tuple(decoded.point)
        and recall.variation == decoded.variation
        and (recall.family is None or recall.family == decoded.family)
    )


def on_decoded(state, decoded):
    """The decode worker finished the latest point (or a reopened favourite's sound)."""
    if state.model is None or decoded.name != state.model.name:
        return []
    if decoded.family != decode_family(state):
        return []  # decoded before the family changed: the new family's sound is coming
    recalled = _recalled(state, decoded)
    recall = state.sound.recall
    if recalled is False and recall.variation is not None and recall.point == tuple(decoded.point):
        # the point's own sound; the favourite is a variation of it: decode that instead
        return [fx.Decode(decoded.name, tuple(decoded.point), variation=recall.variation, family=decoded.family)]
    state.sound.audio, state.sound.point = decoded.audio, tuple(decoded.point)
    state.sound.variation, state.sound.family = decoded.variation, decoded.family
    state.decode_ms = decoded.ms
    effects = []
    if state.sound.looping and state.player.ready:
        effects += swap_sound(state, current_heard(state))
    if state.sound.play_when_decoded and recalled is not False:  # a reopened one: only its own
        state.sound.play_when_decoded = False
        effects += play(state, loop=state.sound.looping, as_is=bool(recalled), newest=True)
    if recalled:
        state.sound.recall = None
    if state.sound.save_when_decoded and state.sound.point == state.vector:
        effects += save(state)
    effects.append(render_sound(state))
    effects.append(nearest_of(state))
    effects.append(fx.Refresh(Part.STATUS))
    return effects


def drag_to(state, point):
    """The pad's click or drag motion: the point moves (and sounds, with Audition on click),
    the step is where it is let go."""
    effects = move_point(state, point, step=False)
    if effects:
        state.history.drag(state.model.name, state.vector)
        audition(state)  # a press, or the pointer reached another pixel
    return effects


def drag_ended(state, point):
    """The button's release: the drag's end is a step (its point sounded when reached)."""
    before = state.point
    effects = move_point(state, point, step=False)
    if state.model is not None:
        state.history.release(state.model.name, state.vector if effects else None, decode_family(state))
        if effects and state.point != before:
            audition(state)
    return effects + [fx.Refresh(Part.HISTORY), fx.StoreSettings()]


def open_sample(state):
    if state.model is None:
        return say(state, "no model is loaded yet")
    if not state.model.has_encoder:
        return say(
            state,
            state.model.no_encoder_reason or f"{state.model.name} has no encoder: choose an autoencoder or a VAE to open a sample",
        )
    return [fx.AskFile("open-sample")]


def on_file(state, purpose, path):
    if not path or purpose != "open-sample" or state.model is None:
        return []
    if not state.model.has_encoder:
        return open_sample(state)
    state.message = f"encoding {Path(str(path)).name} with {state.model.name}…"
    return [fx.Encode(state.model.name, str(path), family=decode_family(state)), fx.Refresh(Part.STATUS)]


def on_encoded(state, encoded):
    if state.model is None or encoded.name != state.model.name:
        return []
    place(state, encoded.point)  # clamped; a wide latent's whole vector (gui.wide)
    state.sound.audio, state.sound.point = encoded.reconstruction, state.vector
    state.sound.variation, state.sound.family = None, decode_family(state)
    state.sound.original, state.sound.opened = encoded.original, encoded.path
    like = f", most like a {encoded.family}," if encoded.family is not None else ""
    where = format_point(encoded.point)
    state.message = f"{Path(encoded.path).name}{like} is at {where}: playing the reconstruction, then the original"
    effects = [fx.Refresh(Part.MARKER), fx.Refresh(Part.FIELDS), render_output(state)]
    if state.latent is not None:
        effects.append(fx.Refresh(Part.AXES))
    effects += play_sequence(
        state,
        [state.sound.audio, state.sound.original],
        state.model.sample_rate,
        f"{Path(encoded.path).name} through {state.model.name}",
    )
    return effects + [fx.Refresh(Part.STATUS)]


def nearest_of(state):
    """What the nearest-sounds worker is asked for the sound made: its pad point, and a wide
    latent's pad axes and whole vector."""
    info, point, family = state.model, state.sound.point, state.sound.family
    if state.latent is None:
        return fx.Nearest(info.name, point, info.data_folder, family=family)
    axes = (int(info.pad_axes[0]), int(info.pad_axes[1]))
    return fx.Nearest(info.name, pad_of(info, point), info.data_folder, axes=axes, vector=tuple(point), family=family)
