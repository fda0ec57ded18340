"""What a drag out of the window carries: the files, as a file manager or a DAW receives them.

A drag to another program (XDND on Linux, through tkdnd) names files, so what is dragged
must be a file on disk when the drag starts. The current sound, as it was heard (with Vary
on, the variation that sounded last, as S keeps it), is written here into a folder of the
system's temporary folder as the same WAV that S would save. A DAW keeps a reference to the
file, so a drag never replaces an earlier drag's file: each one gets a name of its own. A
favourite is dragged as its own file. Nothing here touches Tk: the window's drag callbacks
call these.
"""

import tempfile
from pathlib import Path

from audio.export import AudioError, OutputExists, favourite_stem, write_wav
from audio.level import DEFAULT_LEVEL, apply_level
from gui.handlers.common import favourite_label
from gui.handlers.sound import kept_sound

DRAG_FOLDER_NAME = "ml-sample-generator-drag"


class NothingToDrag(Exception):
    """Why a drag cannot start (a sentence for the user)."""


def drag_folder():
    """Where the current sound is written for a drag: one folder, the same every session."""
    return Path(tempfile.gettempdir()) / DRAG_FOLDER_NAME


def chosen_level(state):
    """The level the window's level choice names, where the window has one; else as made."""
    sound_level = getattr(state.sound, "level", None)
    return sound_level if isinstance(sound_level, str) else DEFAULT_LEVEL


def drag_names(stem):
    """The names a drag tries in turn: ``STEM.wav``, then ``STEM_2.wav``, ``STEM_3.wav``…"""
    yield f"{stem}.wav"
    number = 2
    while True:
        yield f"{stem}_{number}.wav"
        number += 1


def current_sound_file(state, folder=None):
    """Write the point's sound as it was heard to a new WAV for a drag, and return its path.

    Parameters
    ----------
    state : gui.state.AppState
    folder : Path, optional
        Where to write (``drag_folder()`` by default).

    Returns
    -------
    Path
        ``MODEL_xX_yY.wav``, ``..._vN.wav`` for Vary's variation N, ``..._normalised.wav`` at
        the normalised level; ``..._2.wav`` and on where an earlier drag has the name.

    Raises
    ------
    NothingToDrag
        No sound yet, or the file cannot be written; the message says which.
    """
    if state.model is None or state.sound.audio is None or state.sound.point is None:
        raise NothingToDrag("nothing to drag yet: choose a model and a point first")
    level = chosen_level(state)
    folder = Path(folder) if folder is not None else drag_folder()
    heard = kept_sound(state)  # what S keeps: the variation that sounded, with Vary on
    stem = favourite_stem(state.model.name, heard.point)
    index = (heard.variation or {}).get("index")
    stem += (f"_v{index}" if index else "") + ("" if level == DEFAULT_LEVEL else f"_{level}")
    audio = apply_level(heard.audio, level)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in drag_names(stem):
            try:
                return write_wav(folder / name, audio, state.model.sample_rate, overwrite=False)
            except OutputExists:
                continue  # an earlier drag's file, which a DAW may still use
    except OSError as error:
        raise NothingToDrag(f"cannot drag the sound: {folder}: {error.strerror or error}") from None
    except AudioError as error:
        raise NothingToDrag(f"cannot drag the sound: {error}") from None


def favourite_files(state, labels):
    """The files of the favourites shown as ``labels`` (the list's rows), for a drag.

    Parameters
    ----------
    state : gui.state.AppState
    labels : sequence of str
        The chosen rows of the favourites list.

    Returns
    -------
    list of Path
        The favourites' WAV files that still exist, in the list's order.

    Raises
    ------
    NothingToDrag
        None chosen, or none of them is on disk any more.
    """
    wanted = {str(label) for label in labels}
    chosen = [Path(str(f.path)) for f in state.favourites if favourite_label(f) in wanted]
    if not chosen:
        raise NothingToDrag("nothing to drag: choose a favourite in the list first")
    present = [path for path in chosen if path.is_file()]
    if not present:
        raise NothingToDrag(f"{chosen[0].name}: no longer in {chosen[0].parent}")
    return present


def dropped_paths(data, splitlist):
    """The files named by a drop's data, as tkdnd hands it over.

    tkdnd gives several files as a Tcl list (``{/a b/c.wav} /d.wav``), but one file as its
    bare path, spaces and all (``/my sounds/snare.wav``): a path that names a file is taken
    whole, anything else is split as a list.

    Parameters
    ----------
    data : str
    splitlist : callable
        Tk's ``splitlist`` (str -> tuple of str).

    Returns
    -------
    list of str
    """
    if data and Path(data).is_file():
        return [data]
    return [str(path) for path in splitlist(data)]
