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


def nearest_note(found):
    """What the panel says under its rows: why a measure is missing, how to hear a row."""
    if found is None:
        return "computing the nearest training sounds…"
    notes = [f"latent plane: {found.plane_reason}"] if found.plane_reason else []
    if found.features_reason:
        notes.append(f"sound features: {found.features_reason}")
    notes.append("double-click a row to hear the original")
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
    return [fx.ReadOriginal(state.model.name, near.file, state.model.data_folder),
            fx.Refresh(Part.STATUS)]


def on_original(state, read):
    if read.audio is None:
        return say(state, f"cannot play the original: {read.reason}")
    state.message = f"playing the original {Path(read.file).name}"
    rate = state.model.sample_rate if state.model else SAMPLE_RATE
    return play_sequence(state, [read.audio], rate, f"the original {Path(read.file).name}") + [
        fx.Refresh(Part.STATUS)]
