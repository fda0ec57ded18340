"""What an ``-o`` may write: never over an existing file without ``--force``, never over an
input even with it (DESIGN.md's contract). The verbs check every path before any work, and
then write with ``overwrite=force`` so a file that appears meanwhile is still kept."""

import contextlib
import os
import sys
from pathlib import Path

from commands import CommandFailed, UsageError


def add_force_argument(parser):
    parser.add_argument(
        "--force", "--overwrite", dest="force", action="store_true", help="replace output files that exist (never an input file)"
    )


def nonempty_output(text, option="-o"):
    """``text`` as a Path; UsageError for an empty name (it would mean the current folder)."""
    if text is None or not str(text).strip():
        raise UsageError(f"{option}: give a file or folder name, not an empty one")
    return Path(text)


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(paths, *, force, inputs=(), option="-o"):
    """Refuse outputs that would replace a user's file.

    Parameters
    ----------
    paths : iterable of Path
        The files the verb is about to write.
    force : bool
        The user passed ``--force``: existing outputs may be replaced, inputs still not.
    inputs : iterable of path-like
        Files the verb reads (the source audio, the model's files).
    option : str
        The option that names ``paths``, for the message.

    Raises
    ------
    CommandFailed
        One line naming the first file that would be replaced.
    """
    inputs = [Path(p) for p in inputs]
    for path in paths:
        if not os.path.lexists(path):
            continue
        if Path(path).is_dir():
            raise CommandFailed(f"{path}: is a folder, not a file")
        if any(_same_file(path, source) for source in inputs):
            raise CommandFailed(f"{path}: is an input of this command; it is never replaced (pick another {option})")
        if not force:
            raise CommandFailed(f"{path}: already exists (pass --force to replace it)")


def remove_dead_outputs(folder, suffixes=(".wav", ".json")):
    """Remove what a killed verb left in ``folder`` (``.NAME.wav.PID.RAND.tmp``, a sidecar's)
    and say so on stderr, in one line. A temporary of a running process is kept."""
    from safeio import remove_dead_temporaries, removed_line

    folder = Path(folder)
    if folder.is_dir():
        removed = remove_dead_temporaries(folder, of=lambda name: name.lower().endswith(suffixes))
        if removed:
            print(removed_line(folder, removed), file=sys.stderr)


def make_output_folder(folder):
    """Make ``folder`` and the folders above it that are missing.

    Returns
    -------
    list of Path
        The folders made, deepest first: what :func:`remove_made_folders` removes when the
        verb fails, so that a failed run (a full disk) leaves no empty folders behind.

    Raises
    ------
    CommandFailed
        A folder cannot be made: one line; the folders made before it are removed.
    """
    folder = Path(folder)
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs, not ours to remove
        except OSError as error:
            remove_made_folders(made)
            raise CommandFailed(f"{path}: cannot make the folder ({error.strerror or error})") from None
        made.insert(0, path)
    return made


def remove_made_folders(made):
    """Remove the folders :func:`make_output_folder` made, deepest first, while they are empty
    (one that holds anything, a file of the user's or of another run, stays)."""
    for path in made:
        with contextlib.suppress(OSError):
            path.rmdir()
