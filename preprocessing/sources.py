"""Finding source files: files or folders, recursively, and the Hydrogen kit of each."""
import os
from dataclasses import dataclass
from pathlib import Path

from preprocessing.hydrogen import KIT_FILE

# What libsndfile reads; other files are listed in the manifest as skipped.
AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".flac", ".aif", ".aiff", ".aifc", ".ogg", ".oga", ".opus", ".mp3",
    ".au", ".snd", ".w64", ".caf", ".rf64", ".bwf",
})


@dataclass(frozen=True)
class SourceFile:
    """A file found under a source argument.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path.
    root : pathlib.Path
        The folder argument it was found under (the file's own folder for a file argument).
    kit_folder : pathlib.Path or None
        The nearest folder from the file up to ``root`` that holds a drumkit.xml.
    """

    path: Path
    root: Path
    kit_folder: Path | None

    @property
    def is_audio(self):
        return self.path.suffix.lower() in AUDIO_EXTENSIONS

    @property
    def folders(self):
        """Folder names from the root's own name down to the file's folder."""
        relative = self.path.parent.relative_to(self.root)
        return (self.root.name,) + tuple(relative.parts)


def _nearest_kit(folder, root, cache):
    chain = []
    current = folder
    while True:
        if current in cache:
            found = cache[current]
            break
        chain.append(current)
        if (current / KIT_FILE).is_file():
            found = current
            break
        if current == root or current.parent == current:
            found = None
            break
        current = current.parent
    for visited in chain:
        cache[visited] = found
    return found


def find_sources(paths, exclude=()):
    """Every file under the given files and folders, sorted, without duplicates.

    Hidden files and folders (".DS_Store", "._kick.wav" from macOS) are not looked at,
    and neither is anything under ``exclude`` (the output folder). Symbolic links to
    folders are not followed, so a link loop cannot make the walk endless.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Existing files or folders.
    exclude : iterable of str or os.PathLike

    Returns
    -------
    list of SourceFile
    """
    excluded = {Path(os.path.abspath(p)) for p in exclude}
    found = {}
    kit_cache = {}
    for given in paths:
        given = Path(os.path.abspath(given))
        if given.is_file():
            root = given.parent
            candidates = [given]
        else:
            root = given
            candidates = []
            for folder, subfolders, files in os.walk(given):
                folder = Path(folder)
                subfolders[:] = sorted(
                    d for d in subfolders if not d.startswith(".") and folder / d not in excluded
                )
                if folder in excluded:
                    continue
                candidates.extend(folder / f for f in sorted(files) if not f.startswith("."))
        for path in candidates:
            if path in found or not path.is_file():
                continue
            kit = _nearest_kit(path.parent, root, kit_cache)
            found[path] = SourceFile(path=path, root=root, kit_folder=kit)
    return [found[p] for p in sorted(found, key=lambda p: str(p))]
