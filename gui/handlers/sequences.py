"""Sounds rendered together: the same point through several models, and the A→B morph."""

import numpy as np

from gui import effects as fx
from gui import keys as k
from gui.effects import Part
from gui.family import decode_family
from gui.handlers.common import GAP_SECONDS, format_point, say, short_point
from gui.handlers.map import request_map
from gui.handlers.sound import play_sequence
from gui.state import MAX_COMPARE, Playing, Sequence
from gui.wide import pad_of

MIN_STEPS, MAX_STEPS = 2, 32


def compare(state, selected):
    if state.model is None:
        return say(state, "no model is loaded yet")
    names = [str(n) for n in (selected or [])]
    if not names:
        return say(state, f"choose up to {MAX_COMPARE} models in the Compare list first")
    if len(names) > MAX_COMPARE:  # never a silent choice of four of them
        return say(state, f"{len(names)} models are chosen: choose at most {MAX_COMPARE} in the Compare list")
    state.message = f"comparing {', '.join(names)} at {format_point(state.point)}…"
    vectors = () if state.latent is None else ((state.model.name, state.vector, tuple(state.model.pad_axes)),)
    family = decode_family(state)
    played = None if family is None else (state.model.name, family)
    return [fx.Compare(tuple(names), state.point, state.model.sample_rate, vectors=vectors, family=played), fx.Refresh(Part.STATUS)]


def on_compared(state, compared):
    """Each compared model's sound (or why it failed): draw them in rows, play them in turn."""
    results = [(r.name, r.audio, r.reason) for r in compared.results]
    rate = compared.sample_rate
    state.compare = Sequence(
        sounds=[audio for _, audio, _ in results],
        labels=[compare_note(r, compared.point) for r in compared.results],
        points=[tuple(compared.point)] * len(results),
        models=[name for name, _, _ in results],
        sample_rate=rate,
    )
    failed = [f"{name}: {reason}" for name, audio, reason in results if audio is None]
    played = [name for name, audio, _ in results if audio is not None]
    outside = [r.name for r in compared.results if r.audio is not None and r.played is not None]
    state.message = ("playing " + " then ".join(played) if played else "nothing to play") + (
        "; " + "; ".join(failed) if failed else ""
    )
    if len(played) > 1:
        state.message += ": the same x, y in each model's own latent space"
    wide = [f"{r.name}'s {r.axes}" for r in compared.results if r.audio is not None and r.axes]
    if wide:  # a wide latent's x, y are two of its axes: say which, and where the others were
        state.message += " (" + "; ".join(wide) + ")"
    if outside:
        state.message += f"; outside the range of {', '.join(outside)}: the nearest point in range played"
    effects = [
        fx.Render(
            "compare",
            fx.SequenceRequest(
                sounds=state.compare.sounds,
                labels=state.compare.labels,
                sample_rate=rate,
                title=f"the point {format_point(compared.point)}",
            ),
        )
    ]
    effects += play_sequence(state, state.compare.sounds, rate, f"{' then '.join(played)} at {format_point(compared.point)}")
    return effects + sounding_marks(state, compared.results, rate, compared.point) + [fx.Refresh(Part.STATUS)]


def compare_note(result, point):
    """A compared model's row note: its name; where the point is outside its range, that and
    what it played instead (two lines, to fit a narrow panel); or why it could not play."""
    if result.audio is None:
        return f"{result.name}: {result.reason}"
    if result.played is None:
        return result.name if not result.axes else f"{result.name}: {result.axes}"
    return f"{result.name}: {format_point(point)} is outside its range\nplayed the nearest point in it, {format_point(result.played)}"


def sounding_marks(state, results, rate, point):
    """Timers that name each compared model as its sound starts (the sounds follow one
    another with a gap, as ``sequence_audio`` joins them), and say what its point means."""
    if state.sound.playing != Playing.PLAYING:
        return []  # nothing was started (no output)
    played = [r for r in results if r.audio is not None]
    marks, start = [], 0
    for i, result in enumerate(played):
        name, audio = result.name, result.audio
        where = format_point(point) if result.played is None else f"{format_point(result.played)} (clamped)"
        what = f"{name} ({i + 1} of {len(played)}) at {where}"
        marks.append(fx.Later(round(1000 * start / rate), (k.PLAYER, "sounding"), (state.sound.token, what)))
        start += len(np.asarray(audio).ravel()) + round(GAP_SECONDS * rate)
    return marks


def on_sounding(state, mark):
    """A compared model's sound starts: the sound's line names it (unless replaced)."""
    token, what = mark
    if token != state.sound.token or state.sound.playing != Playing.PLAYING:
        return []
    state.sound.what = what
    return [fx.Refresh(Part.PLAYING)]


def set_morph_end(state, which):
    if state.model is None:
        return []
    if which == "a":  # a wide latent's whole vector: the morph moves every axis
        state.morph.a = state.vector
    else:
        state.morph.b = state.vector
    return [fx.Refresh(Part.MORPH_FIELDS), fx.Refresh(Part.MARKER)] + request_map(state)


def morph(state, steps):
    if state.model is None:
        return say(state, "no model is loaded yet")
    if state.morph.a is None or state.morph.b is None:
        return say(state, "set A and B on the pad first (move the point, then Set A / Set B)")
    try:
        steps = int(steps)
    except (TypeError, ValueError):
        return say(state, f"steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}")
    state.morph.steps = int(np.clip(steps, MIN_STEPS, MAX_STEPS))
    state.message = f"rendering a morph of {state.morph.steps} sounds…"
    return [
        fx.Morph(state.model.name, state.morph.a, state.morph.b, state.morph.steps, family=decode_family(state)),
        fx.Refresh(Part.STATUS),
    ]


def on_morphed(state, morphed):
    if state.model is None or morphed.name != state.model.name:
        return []
    points = [tuple(p) for p in morphed.points]
    state.morph.sequence = Sequence(
        sounds=list(morphed.sounds),
        labels=[str(i + 1) for i in range(len(points))],
        points=points,
        models=[morphed.name] * len(points),
        sample_rate=state.model.sample_rate,
        family=morphed.family,
    )
    state.message = f"morph A→B: {len(points)} sounds"
    if len(points[0]) > 2:
        state.message += f", every one of {morphed.name}'s {len(points[0])} axes moving from A's value to B's"
    effects = [
        fx.Render(
            "morph",
            fx.SequenceRequest(
                sounds=state.morph.sequence.sounds,
                labels=state.morph.sequence.labels,
                sample_rate=state.morph.sequence.sample_rate,
                title=f"{morphed.name}: A {short_point(state.model, points[0])} → B {short_point(state.model, points[-1])}",
            ),
        )
    ]
    return (
        effects
        + play_sequence(state, state.morph.sequence.sounds, state.morph.sequence.sample_rate, f"a morph of {len(points)} sounds")
        + [fx.Refresh(Part.STATUS)]
    )


def play_morph(state):
    if state.morph.sequence is None:
        return say(state, "render a morph first")
    return play_sequence(
        state, state.morph.sequence.sounds, state.morph.sequence.sample_rate, f"a morph of {len(state.morph.sequence.sounds)} sounds"
    )


def save_morph(state):
    if state.morph.sequence is None:
        return say(state, "render a morph first")
    state.message = f"saving {len(state.morph.sequence.sounds)} morph sounds…"
    settings = state.model.preprocess_settings if state.model else None
    if state.morph.sequence.family is not None:  # reopening one decodes its family again
        settings = dict(settings or {}, family=state.morph.sequence.family)
    if state.model is not None and len(state.morph.sequence.points[0]) > 2:
        return _save_wide_morph(state, settings) + [fx.Refresh(Part.STATUS)]
    return [
        fx.Save(
            state.morph.sequence.models[0],
            tuple(state.morph.sequence.points),
            tuple(state.morph.sequence.sounds),
            state.morph.sequence.sample_rate,
            settings,
        ),
        fx.Refresh(Part.STATUS),
    ]


def _save_wide_morph(state, settings):
    """A wide latent's morph sounds, each named by its pad point with its whole vector
    recorded (as S records one), so reopening one plays the same sound."""
    sequence = state.morph.sequence
    return [
        fx.Save(
            sequence.models[0],
            (pad_of(state.model, vector),),
            (sound,),
            sequence.sample_rate,
            dict(settings or {}, latent=[float(v) for v in vector]),
        )
        for vector, sound in zip(sequence.points, sequence.sounds)
    ]
