"""What an ``-o`` may write: never over an existing file without ``--force``, never over an
input even with it (DESIGN.md's contract). The verbs check every path before any work, and
then write with ``overwrite=force`` so a file that appears meanwhile is still kept."""
import os
from pathlib import Path

from commands import CommandFailed, UsageError


def add_force_argument(parser):
    parser.add_argument("--force", "--overwrite", dest="force", action="store_true",
                        help="replace output files that exist (never an input file)")


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
