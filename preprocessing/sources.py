"""Finding source files: files or folders, recursively, and the Hydrogen kit of each."""

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from constants import AUDIO_SUFFIXES
from preprocessing.hydrogen import KIT_FILE
from safeio import not_a_file_reason


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
        return self.path.suffix.lower() in AUDIO_SUFFIXES

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


def _why_not_a_file(path):
    """Why ``path`` (found in a folder listing) is not read as a file: one short reason."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a link that loops"
        if os.path.islink(path):
            return "a broken link (what it points to is missing)"
        return f"cannot be read ({error.strerror})"
    if stat.S_ISDIR(mode):
        return "a link to a folder (links to folders are not followed)"
    return not_a_file_reason(mode) or "not a regular file"


def find_sources(paths, exclude=(), skipped=None):
    """Every file under the given files and folders, sorted, without duplicates.

    Hidden files and folders (".DS_Store", "._kick.wav" from macOS) are not looked at,
    and neither is anything under ``exclude`` (the output folder). Symbolic links to
    folders are not followed, so a link loop cannot make the walk endless.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Existing files or folders.
    exclude : iterable of str or os.PathLike
    skipped : list, optional
        Gets ``(path, reason)`` for every entry that is passed over although it is not
        hidden: FIFOs, sockets and devices, broken or looping links, links to folders,
        folders that cannot be read.

    Returns
    -------
    list of SourceFile
    """
    excluded = {Path(os.path.abspath(p)) for p in exclude}
    found = {}
    kit_cache = {}
    passed_over = [] if skipped is None else skipped
    for given in paths:
        given = Path(os.path.abspath(given))
        if given.is_dir():
            root, candidates = given, _walk(given, excluded, passed_over)
        else:
            # A file, or a FIFO or a broken link given by name: reported below.
            root, candidates = given.parent, [given]
        for path in candidates:
            if path in found:
                continue
            if not path.is_file():
                passed_over.append((path, _why_not_a_file(path)))
                continue
            kit = _nearest_kit(path.parent, root, kit_cache)
            found[path] = SourceFile(path=path, root=root, kit_folder=kit)
    return [found[p] for p in sorted(found, key=lambda p: str(p))]


def _walk(given, excluded, passed_over):
    """The files under the folder ``given``, in walk order, hidden and excluded ones left out;
    links to folders and unreadable folders go to ``passed_over`` with their reason."""

    def unreadable(error):
        passed_over.append((Path(error.filename), f"cannot be read ({error.strerror})"))

    candidates = []
    for folder, subfolders, files in os.walk(given, onerror=unreadable):
        folder = Path(folder)
        for name in subfolders:
            if not name.startswith(".") and (folder / name).is_symlink():
                passed_over.append((folder / name, _why_not_a_file(folder / name)))
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and folder / d not in excluded and not (folder / d).is_symlink()
        )
        if folder in excluded:
            continue
        candidates.extend(folder / f for f in sorted(files) if not f.startswith("."))
    return candidates
