"""Replacing a folder as a whole set: build the new set beside it, then swap it in at once.

A model folder's files (networks, codes, card, history) belong together: a reader must see
the old set or the new one, never a mix. :func:`check_swappable` says, before any work, whether
a folder can be replaced that way at all (not a link, not a mount point, nothing in it a mount
point). :func:`staging_folder` makes a private folder beside the target, named after the verb
that writes it; the writer fills it; :func:`swap_in` then

1. writes a completion marker named after the staging folder, listing the new set's own
   names (from here on, the new set is complete and an interrupted swap is finished, not
   thrown away);
2. moves into the new set every entry of the old folder that the new set does not have
   (a ``checkpoint/`` folder, cached metrics, a user's notes): renames, so nothing is copied
   and nothing is lost;
3. exchanges the two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere
   two renames, with a window that :func:`finish_interrupted_swaps` closes);
4. removes the old set.

A swap that fails at step 2 or 3 moves back what step 2 had moved and drops the new set, so
the folder is as it was. :func:`finish_interrupted_swaps` (called by the next writer of the
same verb, under the folder's lock) completes a swap whose marker is written, removes a
staging folder whose marker is not, and gives up (the same way, once) a swap that cannot be
completed there.
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

#: The verbs that replace folders whole. Each names its staging folders, so that one verb
#: never finishes or removes another's (a report folder and a kit folder may share a name).
SWAP_VERBS = ("train", "evaluate", "kit", "preprocess", "import")
#: ``.NAME.VERB.PID.RANDOM.new``: a staging folder beside ``NAME``.
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<verb>" + "|".join(SWAP_VERBS) + r")\.\d+\.[0-9a-f]{8}\.new$")
#: ``.NAME.PID.RANDOM.new``: an older version's staging folder, which does not say its verb.
OLD_STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.\d+\.[0-9a-f]{8}\.new$")
_MARKER_PREFIX = ".complete-"
#: In a marker, the line between the dropped names and the new set's own names (markers of
#: older versions have no such line, and no list of the new set).
_MARKER_OWN = "# new set"
#: The marker's last line: a marker without it (a full disk mid-write) marks nothing.
_MARKER_END = b"# complete\n"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class CannotSwap(WriteFailed):
    """A folder cannot be replaced as a whole where it is; ``str()`` is one line saying why."""


def _mount_points():
    """The mount points of this process (``/proc/self/mountinfo``); empty where unknown."""
    try:
        lines = Path("/proc/self/mountinfo").read_text(errors="replace").splitlines()
    except OSError:
        return set()
    # the fifth field, with space, tab, newline and backslash written as octal escapes
    return {re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]) for line in lines if len(line.split()) > 4}


def _is_mount_point(path, mounts):
    # os.path.ismount misses a bind mount of a folder of the same file system; mountinfo has it
    return os.path.ismount(path) or os.path.realpath(path) in mounts


def check_swappable(target, what="the folder"):
    """Raise :class:`CannotSwap` unless ``target`` can be replaced by :func:`swap_in`.

    Call it before any work is done: a swap renames folders within ``target``'s parent and
    moves the old folder's entries into the new set, so ``target`` must be a real folder (not
    a link: the link would be swapped and the files of the folder it names moved away), not a
    mount point, and hold no mount point (neither can be renamed). A ``target`` that does not
    exist yet, or is not a folder, passes (the caller judges a file).

    Parameters
    ----------
    target : path-like
    what : str
        What the folder is, for the message ("a model folder").

    Raises
    ------
    CannotSwap
        One line naming the folder and the reason; nothing was changed.
    """
    target = Path(target)
    whole = f"{what} is replaced as a whole folder"
    if target.is_symlink():
        raise CannotSwap(
            errno.EXDEV, f"{target}: is a link; {whole}, so it must be the folder itself, not a link to it (nothing was changed)"
        )
    if not target.is_dir():
        return
    mounts = _mount_points()
    if _is_mount_point(target, mounts):
        raise CannotSwap(errno.EBUSY, f"{target}: is a mount point; {whole}, so give a folder inside it (nothing was changed)")
    try:
        entries = sorted(target.iterdir())
    except OSError:
        return  # an unreadable folder fails at the swap, with its reason
    for entry in entries:
        if not entry.is_symlink() and entry.is_dir() and _is_mount_point(entry, mounts):
            raise CannotSwap(
                errno.EBUSY,
                f"{entry}: is a mount point; {whole} and what is in it is moved "
                "into the new one, which a mount point cannot be (nothing was changed)",
            )


def staging_folder(target, verb):
    """Make and return an empty private folder beside ``target`` for ``verb``'s new set."""
    if verb not in SWAP_VERBS:
        raise ValueError(f"verb must be one of {', '.join(SWAP_VERBS)} (got {verb!r})")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(_staging_name(target, verb))
    try:
        staged.mkdir()
    except OSError as error:
        raise WriteFailed(error.errno or errno.EIO, f"{staged}: cannot write ({error.strerror or error})") from error
    return staged


def _staging_name(target, verb):
    return f".{Path(target).name}.{verb}.{os.getpid()}.{secrets.token_hex(4)}.new"


def staging_folders(target, verb, *, kind_file=None):
    """Staging folders of ``verb`` beside ``target`` (any pid), sorted.

    Parameters
    ----------
    target : path-like
    verb : str
        One of :data:`SWAP_VERBS`; another verb's staging folders are never listed.
    kind_file : str, optional
        A file every new set of ``verb`` holds. An older version's staging folder
        (``.NAME.PID.RANDOM.new``, no verb in its name) is listed when it is unfinished (no
        whole marker: it holds new files only, and any verb may remove it) or when its set
        holds ``kind_file``; one marked complete without it is another verb's and is left alone.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    found = []
    for path in target.parent.iterdir():
        if path.is_symlink() or not path.is_dir():
            continue  # a staging folder is always a folder made here, never a link
        if match := STAGING_PATTERN.match(path.name):
            if match.group("name") == target.name and match.group("verb") == verb:
                found.append(path)
        elif (match := OLD_STAGING_PATTERN.match(path.name)) and match.group("name") == target.name:
            if _complete_marker(path) is None or (kind_file is not None and os.path.lexists(path / kind_file)):
                found.append(path)
    return sorted(found)


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


def _take_back(staged, target, own):
    """Undo :func:`_carry_over`: move back into ``target`` what ``staged`` holds besides its
    own set ``own``. True when everything is back (``own`` None: not known, so False)."""
    if own is None:
        return False
    back = True
    for entry in sorted(Path(staged).iterdir()):
        if entry.name in own or entry.name.startswith(_MARKER_PREFIX):
            continue
        try:
            if os.path.lexists(target / entry.name):
                raise FileExistsError(errno.EEXIST, "exists", str(target / entry.name))
            os.rename(entry, target / entry.name)
        except OSError:
            back = False
    return back


def _complete(staged, target, keep_out, verb):
    """Steps 2-4 of :func:`swap_in`; safe to run again after a crash at any point."""
    _carry_over(target, staged, keep_out)
    if target.exists():
        if not _exchange(staged, target):
            old = target.with_name(_staging_name(target, verb))
            os.rename(target, old)
            try:
                os.rename(staged, target)
            except OSError:
                os.rename(old, target)  # the old set back in its place: the swap has not happened
                raise
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


def _verb_of(staged):
    match = STAGING_PATTERN.match(Path(staged).name)
    return match.group("verb") if match else "train"  # an older version's: any verb's name will do


def _reason(error):
    return error.strerror or str(error)


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
    CannotSwap
        ``target`` cannot be replaced where it is (:func:`check_swappable`); the new set is
        removed and nothing else was changed.
    WriteFailed
        The swap could not be done; the old folder is as it was (what had been moved into
        the new set is moved back), or, where that too failed, the next
        :func:`finish_interrupted_swaps` completes it.
    """
    staged, target = Path(staged), Path(target)
    try:
        # checked before the marker, so a swap that cannot be done is never marked complete
        check_swappable(target)
    except CannotSwap:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    marked = False
    try:
        own = sorted(entry.name for entry in staged.iterdir())
        for entry in staged.iterdir():
            _fsync_path(entry)
        marker = _marker(staged)
        # Written under another name and renamed, ending in _MARKER_END: a marker that a
        # full disk cut short is never taken for a complete set.
        unfinished = marker.with_name(marker.name + ".part")
        with open(unfinished, "wb") as handle:
            lines = [*drop, _MARKER_OWN, *own]
            handle.write(b"".join(name.encode() + b"\n" for name in lines) + _MARKER_END)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(unfinished, marker)
        _fsync_path(staged)
        marked = True
        _complete(staged, target, set(drop), _verb_of(staged))
    except OSError as error:
        left = ""
        if not marked:  # the old folder is untouched: the new set goes, not left half-marked
            shutil.rmtree(staged, ignore_errors=True)
        elif _take_back(staged, target, set(own)):
            shutil.rmtree(staged, ignore_errors=True)  # the folder has all its entries back
        else:
            left = f"; the next run finishes it ({staged.name} holds the new set)"
        raise WriteFailed(error.errno or errno.EIO, f"{target}: cannot replace the folder ({_reason(error)}){left}") from error


def _complete_marker(staged):
    """``(drop, own)`` of a whole marker in ``staged`` (``own`` None in an older version's
    marker); None when there is no marker or it is cut short."""
    try:
        content = _marker(staged).read_bytes()
    except OSError:
        return None
    if not content.endswith(_MARKER_END):
        return None
    lines = content[: -len(_MARKER_END)].decode(errors="replace").splitlines()
    if _MARKER_OWN not in lines:
        return {line for line in lines if line}, None
    split = len(lines) - 1 - lines[::-1].index(_MARKER_OWN)
    return {line for line in lines[:split] if line}, {line for line in lines[split + 1 :] if line}


def _remove(staged):
    """Remove a staging folder; the reason when it cannot be (None when it is gone)."""
    failures = []
    shutil.rmtree(staged, onerror=lambda function, path, info: failures.append(info[1]))
    if not os.path.lexists(staged):
        return None
    return _reason(failures[0]) if failures and isinstance(failures[0], OSError) else "it is still there"


def finish_interrupted_swaps(target, verb, *, kind_file=None):
    """Complete or discard the swaps a killed ``verb`` run left beside ``target``.

    Call it holding ``target``'s lock. A staging folder with its own completion marker
    holds a whole new set and is swapped in; one without is removed (nothing of the old
    folder was moved into it before the marker was written). A swap that cannot be completed
    (the folder became a mount point, a file system error) is given up: what it had moved
    out of ``target`` is moved back and its new set removed, and one line says so; the next
    run finds nothing to finish.

    Parameters
    ----------
    target : path-like
    verb : str
        The verb whose staging folders are finished (:func:`staging_folders`).
    kind_file : str, optional
        As for :func:`staging_folders`: how an older version's staging folder of this verb is
        recognised.

    Returns
    -------
    list of str
        What was done, one line each (for a log).

    Raises
    ------
    WriteFailed
        A swap can neither be completed nor given up without moving a user's file (an older
        version's marker does not say which files are the new set's): one line; nothing
        was changed.
    """
    target = Path(target)
    done = []
    for staged in staging_folders(target, verb, kind_file=kind_file):
        marker = _complete_marker(staged)
        if marker is not None:
            drop, own = marker
            try:
                check_swappable(target)
                _complete(staged, target, drop, verb)
            except CannotSwap:
                raise  # the caller's own check says this first; nothing was changed
            except OSError as error:
                if not _take_back(staged, target, own):
                    raise WriteFailed(
                        error.errno or errno.EIO,
                        f"{target}: cannot finish an interrupted save ({_reason(error)}); it is kept as it is in {staged}",
                    ) from error
                _remove(staged)
                done.append(
                    f"{target}: gave up an interrupted save that cannot be finished here "
                    f"({_reason(error)}); the folder is as it was before it"
                )
                continue
            done.append(f"{target}: finished an interrupted save")
            continue
        if (target / _marker(staged).name).exists():
            # the exchange was done: the new set (with this marker) is at ``target``, and
            # ``staged`` holds the old set that a killed swap did not get to remove
            what = "removed the set an interrupted save had replaced"
        else:
            what = "removed an unfinished save"
        reason = _remove(staged)
        if reason is None:
            done.append(f"{target}: {what} ({staged.name})")
        else:
            done.append(f"{target}: could not remove {staged.name}, left by an interrupted save ({reason})")
    # A set at ``target`` is complete by definition: a marker still in it is one a killed
    # swap did not get to remove.
    if target.is_dir() and not target.is_symlink():
        for marker in sorted(target.glob(f"{_MARKER_PREFIX}*")):
            with contextlib.suppress(OSError):
                marker.unlink()
                done.append(f"{target}: removed a leftover marker of a finished save ({marker.name})")
    return done
