"""One atomic write: temporary file beside the target, fsync, rename (or link when new)."""

import contextlib
import errno
import os
import re
import secrets
import shutil
from pathlib import Path

#: ``.NAME.PID.RANDOM.tmp``: the only temporary name the project writes.
TEMPORARY_PATTERN = re.compile(r"^\..+\.\d+\.[0-9a-f]{8}\.tmp$")

_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


class WriteFailed(OSError):
    """A write could not be done; ``str()`` is one line naming the file and the reason."""

    def __str__(self):
        # OSError would print "[Errno 28] ..."; the user gets the sentence alone.
        return self.strerror if self.strerror else super().__str__()


class FileExistsRefused(WriteFailed):
    """The target exists and the caller did not ask to replace it."""


def temporary_name(path):
    """The temporary path beside ``path``: ``.NAME.PID.RANDOM.tmp`` in the same folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def leftover_temporaries(folder):
    """Temporary files a crashed writer left in ``folder`` (any pid), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if TEMPORARY_PATTERN.match(p.name))


def _pid_of(name):
    """The writer's pid in a temporary name ``.NAME.PID.RANDOM.tmp`` (None if not one)."""
    if not TEMPORARY_PATTERN.match(name):
        return None
    return int(name.rsplit(".", 3)[1])


def pid_alive(pid):
    """True while a process ``pid`` runs (one of another user's counts; a zombie, ended and
    not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return pid > 0 and not _zombie(pid)


def _zombie(pid):
    """True when /proc says ``pid`` has ended and waits to be reaped (False where /proc does not say)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def remove_dead_temporaries(folder, *, of=None):
    """Remove the temporary files that writers which are no longer running left in ``folder``.

    A writer that was killed (kill -9, a power cut) leaves its ``.NAME.PID.RANDOM.tmp``
    behind; the next run of the same command calls this. A temporary whose pid is alive is
    kept: it may be another run writing right now.

    Parameters
    ----------
    folder : str or Path
    of : callable, optional
        ``of(name)`` is True for the target names (``NAME``) whose temporaries the caller
        owns, so a command removes only what a run of its own left. Default: every name.

    Returns
    -------
    list of Path
        What was removed (a removal that fails is skipped quietly).
    """
    removed = []
    for path in leftover_temporaries(folder):
        pid = _pid_of(path.name)
        target = path.name[1:].rsplit(".", 3)[0]
        if pid is None or pid_alive(pid) or (of is not None and not of(target)):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed


def removed_line(folder, removed):
    """One line for a log: what :func:`remove_dead_temporaries` removed ("" when nothing)."""
    if not removed:
        return ""
    names = ", ".join(p.name for p in removed[:3]) + (", ..." if len(removed) > 3 else "")
    files = "file" if len(removed) == 1 else "files"
    return f"{folder}: removed {len(removed)} leftover {files} of a run that is no longer running ({names})"


def one_line(error, *, limit=None):
    """An exception as one line of text for a user: the project's one way to say why.

    Parameters
    ----------
    error : BaseException
        What was raised. An OSError says its ``strerror`` (``str()`` would add "[Errno N]"
        and repeat the path the caller's sentence already names).
    limit : int, optional
        The longest text kept; longer text ends in "..." (a library's message can be a
        page: h5py's, Keras's).

    Returns
    -------
    str
        The reason, never empty: the exception's type name when it says nothing.
    """
    text = " ".join((getattr(error, "strerror", None) or str(error)).split()) or type(error).__name__
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _remove_quietly(path):
    """Remove a temporary file; a failure here (EROFS, EACCES) never hides the first error."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _claim_new(source, target):
    """Give ``source`` the name ``target`` only if that name is free; False when it is taken."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(source, target)
        return True
    os.unlink(source)
    return True


def _fsync_folder(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path, write, *, overwrite=True, mode=None):
    """Write ``path`` whole or not at all.

    Parameters
    ----------
    path : str or Path
        The file to write. Its folder must exist.
    write : callable
        ``write(file)`` fills an open binary file object.
    overwrite : bool
        True: replace an existing file (``os.replace``). False: refuse when ``path`` exists,
        decided atomically (a hard link), so two writers never take the same name.
    mode : int, optional
        Permission bits; default a plain new file's (0o666 less the umask).

    Returns
    -------
    Path

    Raises
    ------
    FileExistsRefused
        ``overwrite=False`` and ``path`` exists.
    WriteFailed
        Any OS error (disk full, read-only, permission): ``"PATH: cannot write (reason)"``.
        The temporary file is removed, and a failing removal never masks the reason.
    """
    path = Path(path)
    temporary = temporary_name(path)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        try:
            fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
            with open(fd, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            if overwrite:
                os.replace(temporary, path)
            elif not _claim_new(temporary, path):
                raise FileExistsRefused(errno.EEXIST, f"{path}: already exists (pass --force to replace it)")
        except FileExistsRefused:
            raise
        except (OSError, RuntimeError) as error:
            # libsndfile reports a failed write (a full disk) as a RuntimeError.
            raise WriteFailed(getattr(error, "errno", None) or errno.EIO, f"{path}: cannot write ({one_line(error)})") from error
    finally:
        if os.path.lexists(temporary):
            _remove_quietly(temporary)
    _fsync_folder(path.parent)
    return path


def atomic_write_bytes(path, data, *, overwrite=True, mode=None):
    """Write ``data`` (bytes) to ``path`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda file: file.write(data), overwrite=overwrite, mode=mode)


def atomic_write_text(path, text, *, overwrite=True, mode=None, encoding="utf-8", errors="strict"):
    """Write ``text`` to ``path`` atomically; see :func:`atomic_write`.

    ``errors`` is the codec's (``"surrogateescape"`` passes file-name bytes that are not
    UTF-8 through unchanged). Newlines are written as they are in ``text``.
    """
    return atomic_write_bytes(path, text.encode(encoding, errors), overwrite=overwrite, mode=mode)
