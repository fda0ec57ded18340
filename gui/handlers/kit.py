"""Export kit…: the chosen favourites, the save dialog, the overwrite question, progress."""

from pathlib import Path

from constants import KIT_SUFFIX
from gui import effects as fx
from gui.effects import Part
from gui.handlers.common import favourite_label, say


def export_kit(state, selected):
    """Export kit…: the chosen favourites, to a kit file the save dialog names."""
    labels = [str(label) for label in (selected or [])]
    chosen = [f for f in state.favourites if favourite_label(f) in labels]
    if not chosen:
        return say(state, "choose favourites in the list first (Ctrl- or Shift-click for several)")
    state.kit.sources = tuple(str(f.path) for f in chosen)
    return [fx.AskSaveFile("export-kit")]


def kit_path(path):
    """The kit's path with its suffix (a typed name may lack it)."""
    path = str(path)
    return path if path.lower().endswith(KIT_SUFFIX) else path + KIT_SUFFIX


def start_export(state, path, overwrite=False):
    state.kit.progress = (0, len(state.kit.sources))
    state.message = f"exporting {len(state.kit.sources)} favourites to {Path(path).name}…"
    pattern = None if state.pattern.pattern.empty else state.pattern.pattern
    return [
        fx.ExportKit(state.kit.sources, path, overwrite, level=state.sound.level, pattern=pattern),
        fx.Refresh(Part.KIT_PROGRESS),
        fx.Refresh(Part.STATUS),
    ]


def on_kit_file(state, path):
    if not path or not state.kit.sources:
        return say(state, "")  # cancelled: the old message was about something else
    state.kit.folder = str(Path(path).parent)  # the next Export kit… starts there
    return start_export(state, kit_path(path))


def existing_files(names):
    """The files that exist, each named: "MyKit.h2drumkit", "… and MyKit.h2song"."""
    return " and ".join(names)


def replace_question(path, names):
    """The question before replacing: the kit, its song (the beat beside it), or both."""
    kit = Path(path).name
    names = tuple(names) or (kit,)
    if len(names) > 1:
        return f"{existing_files(names)} exist already. Replace both?"
    if names[0] != kit:
        return f"{names[0]} (the beat, written beside the kit) exists already. Replace it?"
    return f"{kit} exists already. Replace it?"


def on_kit_exists(state, exists):
    state.kit.progress = None
    state.kit.pending = exists.path
    state.kit.pending_names = tuple(exists.names) or (Path(exists.path).name,)
    state.message = f"not exported yet: {existing_files(state.kit.pending_names)} " + (
        "exist" if len(state.kit.pending_names) > 1 else "exists"
    )
    return [
        fx.Refresh(Part.KIT_PROGRESS),
        fx.Refresh(Part.STATUS),
        fx.AskConfirm("overwrite-kit", replace_question(exists.path, exists.names)),
    ]


def on_confirm(state, purpose, answer):
    if purpose != "overwrite-kit" or state.kit.pending is None:
        return []
    path, state.kit.pending = state.kit.pending, None
    names, state.kit.pending_names = state.kit.pending_names or (Path(path).name,), ()
    if not answer:
        left = "are left as they were" if len(names) > 1 else "is left as it was"
        return say(state, f"kit not exported: {existing_files(names)} {left}")
    return start_export(state, path, overwrite=True)


def on_kit_progress(state, progress):
    state.kit.progress = (progress.done, progress.total)
    state.message = f"exporting the kit: {progress.done} of {progress.total} favourites"
    return [fx.Refresh(Part.KIT_PROGRESS), fx.Refresh(Part.STATUS)]


def on_kit_exported(state, exported):
    state.kit.progress = None
    skipped = f"; skipped: {'; '.join(exported.skipped)}" if exported.skipped else ""
    song = f", and the beat as {Path(exported.song).name}" if exported.song else ""
    left_out = f" (left out: {exported.song_note})" if exported.song_note else ""
    state.message = f"exported a Hydrogen kit of {exported.instruments} instruments to {exported.path}{song}{left_out}{skipped}"
    return [fx.Refresh(Part.KIT_PROGRESS), fx.Refresh(Part.STATUS)]
