"""Replacing a folder as a whole set: build the new set beside it, then swap it in at once.

A model folder's files (networks, codes, card, history) belong together: a reader must see
the old set or the new one, never a mix. :func:`staging_folder` makes a private folder beside
the target; the writer fills it; :func:`swap_in` then

1. writes a completion marker named after the staging folder (from here on, the new set
   is complete and an interrupted swap is finished, not thrown away);
2. moves into the new set every entry of the old folder that the new set does not have
   (a ``checkpoint/`` folder, cached metrics, a user's notes): renames, so nothing is copied
   and nothing is lost;
3. exchanges the two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere
   two renames, with a window that :func:`finish_interrupted_swaps` closes);
4. removes the old set.

:func:`finish_interrupted_swaps` (called by the next writer, under the folder's lock)
completes a swap whose marker is written and removes a staging folder whose marker is not.
"""
import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
from pathlib import Path

from safeio.atomic import WriteFailed

#: ``.NAME.PID.RANDOM.new``: a staging folder beside ``NAME``.
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.\d+\.[0-9a-f]{8}\.new$")
_MARKER_PREFIX = ".complete-"
#: The marker's last line: a marker without it (a full disk mid-write) marks nothing.
_MARKER_END = b"# complete\n"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_folder(target):
    """Make and return an empty private folder beside ``target`` for its new set."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        staged.mkdir()
    except OSError as error:
        raise WriteFailed(error.errno or errno.EIO, f"{staged}: cannot write ({error.strerror or error})") from error
    return staged


def staging_folders(target):
    """Staging folders beside ``target`` (any pid), sorted."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir()
                  if (m := STAGING_PATTERN.match(p.name)) and m.group("name") == target.name)


def _marker(staged):
    return Path(staged) / f"{_MARKER_PREFIX}{Path(staged).name}"


def _fsync_path(path):
    flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    with contextlib.suppress(OSError):
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a, b):
    """Swap two paths atomically; False where the system cannot (then nothing happened)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _carry_over(target, staged, keep_out=()):
    """Move what only the old folder has into the new set (renames within one folder)."""
    if not target.is_dir():
        return
    for entry in sorted(target.iterdir()):
        if entry.name.startswith(_MARKER_PREFIX) or entry.name in keep_out:
            continue
        destination = staged / entry.name
        if not os.path.lexists(destination):
            os.rename(entry, destination)


def _complete(staged, target, keep_out=()):
    """Steps 2-4 of :func:`swap_in`; safe to run again after a crash at any point."""
    _carry_over(target, staged, keep_out)
    if target.exists():
        if not _exchange(staged, target):
            old = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
            os.rename(target, old)
            os.rename(staged, target)
            staged = old
    else:
        os.rename(staged, target)
        staged = None
    _fsync_path(target.parent)
    # The new set now sits at ``target``; its marker has done its work.
    for marker in target.glob(f"{_MARKER_PREFIX}*"):
        with contextlib.suppress(OSError):
            marker.unlink()
    if staged is not None:
        shutil.rmtree(staged, ignore_errors=True)


def swap_in(staged, target, *, drop=()):
    """Make the filled ``staged`` folder the folder ``target``, in one step for readers.

    Parameters
    ----------
    staged : Path
        From :func:`staging_folder`, holding the whole new set (each file written and
        fsynced, e.g. with :func:`safeio.atomic_write`).
    target : Path
        The folder to replace (it need not exist).
    drop : iterable of str
        Names in the old folder that must not be carried into the new set (old files the
        new set replaces by leaving them out).

    Raises
    ------
    WriteFailed
        The swap could not be done; the old folder is as it was, or (after the marker)
        the next :func:`finish_interrupted_swaps` completes it.
    """
    staged, target = Path(staged), Path(target)
    marked = False
    try:
        for entry in staged.iterdir():
            _fsync_path(entry)
        marker = _marker(staged)
        # Written under another name and renamed, ending in _MARKER_END: a marker that a
        # full disk cut short is never taken for a complete set.
        unfinished = marker.with_name(marker.name + ".part")
        with open(unfinished, "wb") as handle:
            handle.write(b"".join(name.encode() + b"\n" for name in drop) + _MARKER_END)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(unfinished, marker)
        _fsync_path(staged)
        marked = True
        _complete(staged, target, set(drop))
    except OSError as error:
        if not marked:  # the old folder is untouched: the new set goes, not left half-marked
            shutil.rmtree(staged, ignore_errors=True)
        raise WriteFailed(error.errno or errno.EIO, f"{target}: cannot replace the folder ({error.strerror or error})") from error


def _complete_marker(staged):
    """The drop list of a whole marker in ``staged``; None when there is none or it is cut short."""
    try:
        content = _marker(staged).read_bytes()
    except OSError:
        return None
    if not content.endswith(_MARKER_END):
        return None
    lines = content[: -len(_MARKER_END)].decode(errors="replace").splitlines()
    return {line for line in lines if line}


def finish_interrupted_swaps(target):
    """Complete or discard the swaps a killed writer left beside ``target``.

    Call it holding ``target``'s lock. A staging folder with its own completion marker
    holds a whole new set and is swapped in; one without is removed (nothing of the old
    folder was moved into it before the marker was written).

    Returns
    -------
    list of str
        What was done, one line each (for a log).
    """
    target = Path(target)
    done = []
    for staged in staging_folders(target):
        drop = _complete_marker(staged)
        if drop is not None:
            _complete(staged, target, drop)
            done.append(f"{target}: finished an interrupted save")
        elif (target / _marker(staged).name).exists():
            # the exchange was done: the new set (with this marker) is at ``target``, and
            # ``staged`` holds the old set that a killed swap did not get to remove
            shutil.rmtree(staged, ignore_errors=True)
            done.append(f"{target}: removed the set an interrupted save had replaced ({staged.name})")
        else:
            shutil.rmtree(staged, ignore_errors=True)
            done.append(f"{target}: removed an unfinished save ({staged.name})")
    # A set at ``target`` is complete by definition: a marker still in it is one a killed
    # swap did not get to remove.
    if target.is_dir():
        for marker in sorted(target.glob(f"{_MARKER_PREFIX}*")):
            with contextlib.suppress(OSError):
                marker.unlink()
                done.append(f"{target}: removed a leftover marker of a finished save ({marker.name})")
    return done
