"""The Nearest tab: the training sounds nearest the point, and playing one's original."""

from pathlib import Path

from constants import SAMPLE_RATE
from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import say
from gui.handlers.sound import play_sequence


def nearest_rows(found):
    """The nearest panel's rows: (measure, NearSound), the latent plane's first."""
    if found is None:
        return []
    return [("codes", near) for near in found.plane] + [("sound", near) for near in found.features]


#: Each measure's unit, as its rows say it.
DISTANCE_UNITS = {"codes": "x, y", "sound": "SD"}


def distance_text(measure, distance):
    """A nearest row's distance with its unit: on the pad in its x, y units ("0.123 x, y"),
    between sound features in standard deviations of the training sounds' ("1.84 SD")."""
    return f"{distance:.3f} {DISTANCE_UNITS.get(measure, '')}".rstrip()


def nearest_note(found):
    """What the panel says under its rows: why a measure is missing, how to hear a row."""
    if found is None:
        return "computing the nearest training sounds…"
    notes = [f"latent plane: {found.plane_reason}"] if found.plane_reason else []
    if found.features_reason:
        notes.append(f"sound features: {found.features_reason}")
    notes.append("distance: codes in the pad's x, y units, sounds in standard deviations (SD) of the training features")
    notes.append("double-click a row to hear it (the decode of its code where its file is not here)")
    return "; ".join(notes)


def on_nearest(state, found):
    if state.model is None or found.name != state.model.name:
        return []
    state.nearest = found
    return [fx.Refresh(Part.NEAREST)]


def play_nearest(state, selected):
    """A double-click on a nearest row: read the training sound's file, to play it."""
    rows = nearest_rows(state.nearest)
    if not selected or state.model is None:
        return say(state, "choose a row of the nearest sounds first")
    index = int(selected[0])
    if not 0 <= index < len(rows):
        return []
    near = rows[index][1]
    state.message = f"reading {near.name} (kit {near.kit or '?'})…"
    return [
        fx.ReadOriginal(state.model.name, near.file, state.model.data_folder, code=code_of(state.model, near.file)),
        fx.Refresh(Part.STATUS),
    ]


def code_of(info, file):
    """The training code of the sound in ``file`` (the model's latent point for it), or None."""
    codes = info.codes
    if codes is None or codes.files is None:
        return None
    found = [i for i, name in enumerate(codes.files) if str(name) == str(file)]
    return None if not found else tuple(float(v) for v in codes.points[found[0]])


def on_original(state, read):
    name = Path(read.file).name
    if read.audio is None:
        return say(state, f"cannot play the original: {read.reason}")
    rate = state.model.sample_rate if state.model else SAMPLE_RATE
    if read.decoded:  # the file is not here: the model's version of it, from its code
        state.message = f"{read.reason}: playing {state.model.name if state.model else 'the model'}'s decode of its code"
        what = f"the decode of {name}'s code"
    else:
        state.message = f"playing the original {name}"
        what = f"the original {name}"
    return play_sequence(state, [read.audio], rate, what) + [fx.Refresh(Part.STATUS)]
