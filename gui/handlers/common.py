"""What the handlers share: the point's arithmetic, the texts the window shows, ``say``."""

from pathlib import Path

import numpy as np

from gui import effects as fx
from gui.effects import Part
from gui.state import Playing
from gui.wide import is_wide, off_centre_axes, pad_of

GAP_SECONDS = 0.25  # silence between the sounds of a sequence


def clamp(point, latent_range):
    """The point moved inside the latent range."""
    xmin, xmax, ymin, ymax = latent_range
    return (float(np.clip(point[0], xmin, xmax)), float(np.clip(point[1], ymin, ymax)))


def sequence_audio(sounds, sample_rate, gap_seconds=GAP_SECONDS):
    """The sounds one after another with silence between them (missing ones skipped).

    Returns
    -------
    audio : np.ndarray, shape (M,), float32, or None when there is nothing to play
    """
    parts = [np.asarray(s, dtype=np.float32).ravel() for s in sounds if s is not None]
    if not parts:
        return None
    gap = np.zeros(round(gap_seconds * sample_rate), dtype=np.float32)
    joined = []
    for part in parts:
        joined += [part, gap]
    return np.concatenate(joined[:-1])


def format_point(point):
    """A pad point as "(0.120, -0.400)"; a wide latent's whole vector as "(0.12, -0.40, …)"."""
    if len(point) > 2:
        return f"({', '.join(f'{v:.2f}' for v in point)})"
    return f"({point[0]:.3f}, {point[1]:.3f})"


def short_point(info, point):
    """A point short enough for one line of the window (the sound's line, a figure's title):
    a pad point as :func:`format_point`; a wide latent's whole vector as its pad point and how
    many of its other axes are off their centre, "(0.342, 1.496) · 2 axes off centre" (its
    every number is in :func:`format_point`, the line's tooltip and a favourite's sidecar).

    Parameters
    ----------
    info : gui.state.ModelInfo or None
        The model the point is of (its pad's axes, and each axis's centre and range).
    point : tuple of float
    """
    if len(point) <= 2:
        return format_point(point)
    if not is_wide(info) or len(point) != info.latent_dim:  # not this model's vector: its width
        return f"({point[0]:.3f}, {point[1]:.3f}, … {len(point)} numbers)"
    moved = len(off_centre_axes(info, point))
    others = "other axes at centre" if moved == 0 else f"{moved} {'axis' if moved == 1 else 'axes'} off centre"
    return f"{format_point(pad_of(info, point))} · {others}"


def favourite_label(favourite):
    """How a favourite reads in the list: file name, model and point (or why it cannot)."""
    name = Path(str(favourite.path)).name
    if getattr(favourite, "recall", True) is None:
        return f"{name}  ·  cannot reopen: {favourite.reason}"
    return name  # the name says the model and the point already


#: How the status line begins when there is no sound (the Output box then says "none").
NO_SOUND_DEVICE = "no sound device"
# The status line already starts with the device's reason; this says what it means for Play.
NO_PLAYBACK = "cannot play without a sound device (Save still works)"


def status_text(state):
    """The status line: sound device, decode and redraw times, what is loading, a message."""
    parts = [state.notice] if state.notice else []
    parts.append(state.player.text)
    if state.decode_ms is not None:
        parts.append(f"decode {state.decode_ms:.1f} ms")
    if state.redraw_ms is not None:
        parts.append(f"redraw {state.redraw_ms:.0f} ms (GUI {state.draw_ms or 0:.0f} ms)")
    loading = state.loading
    if loading:
        parts.append("loading " + ", ".join(loading))
    if state.message:
        parts.append(state.message)
    return "  |  ".join(parts)


#: The sound state line's mark for each state of the output.
PLAYING_MARKS = {Playing.PLAYING: "▶ playing", Playing.LOOPING: "⟳ looping", Playing.STOPPED: "■ stopped"}


BEAT_MARK = "♫ beat"


def playing_text(state):
    """The sound's state as its line reads: "▶ playing vae_a at (0.120, -0.400)", with
    "· ♫ beat" while the Beat tab's pattern plays ("♫ beat at 120 BPM" alone): the line
    says "■ stopped" only when nothing sounds, whichever tab is shown."""
    beat = state.pattern.playing
    if state.sound.playing == Playing.STOPPED and beat:
        return f"{BEAT_MARK} at {state.pattern.pattern.tempo} BPM"
    mark = PLAYING_MARKS[state.sound.playing]
    text = f"{mark} {state.sound.what}".rstrip()
    return f"{text} · {BEAT_MARK}" if beat else text


#: The sound's line's tooltip while it says all there is.
PLAYING_TIP = "what the sound output is doing"


def playing_tip(state, shown):
    """The sound's line's tooltip, where the line (``shown``, as cut to its width) leaves
    something out: every number of a wide latent's vector that sounds, and the whole line
    when it was cut."""
    heard = state.sound.heard
    if state.sound.playing != Playing.STOPPED and heard is not None and len(heard.point) > 2:
        return f"{playing_text(state)}\nevery axis: {format_point(heard.point)}"
    return playing_text(state) if shown != playing_text(state) else PLAYING_TIP


def playing_state(state):
    """What the line's colour follows: the sound's state, or "playing" for a beat alone."""
    if state.sound.playing == Playing.STOPPED and state.pattern.playing:
        return Playing.PLAYING
    return state.sound.playing


def short_reason(state, reason):
    """A reason with the zoo folder taken off its paths (the list column is narrow)."""
    folder = str(Path(state.models_dir))
    return str(reason).replace(folder + "/", "").replace(folder + "\\", "")


def say(state, message):
    state.message = message
    return [fx.Refresh(Part.STATUS)]


def render_output(state, title=None):
    if title is None and state.sound.original is not None and state.sound.opened is not None:
        title = f"{Path(state.sound.opened).name} through {state.model.name}"
    return fx.Render(
        "output",
        fx.OutputRequest(
            audio=state.sound.audio,
            sample_rate=state.model.sample_rate,
            original=state.sound.original,
            title=title or f"{state.model.name} at {short_point(state.model, state.sound.point)}",
        ),
    )


def on_figure(state, ready):
    return [fx.Draw(ready.figure.panel, ready.figure)]


def on_job_failed(state, failed):
    """A job failed with a reason meant for the user."""
    what, reason = failed.what, failed.reason
    # reasons about a file usually name it already
    state.message = reason if str(reason).startswith(str(what)) else f"{what}: {reason}"
    return [fx.Refresh(Part.STATUS)]
