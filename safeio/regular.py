"""Opening a file a user or the zoo supplied, refusing anything that is not a regular file.

A FIFO (named pipe) where a card, a ``.keras`` archive or a favourite's WAV should be makes a
plain ``open()`` wait for a writer that never comes, so the command hangs for good; a
character device (``/dev/zero``) never ends; a folder or a socket fails later with a
confusing reason. :func:`open_regular` opens without blocking, asks the descriptor itself
what it is (``fstat``, so nothing can be swapped in between the check and the read) and
refuses all but a regular file with one line: "PATH: a FIFO (named pipe), not a file".
"""

import errno
import fcntl
import os
import stat
from pathlib import Path


class NotARegularFile(OSError):
    """Something other than a regular file has the name; ``str()`` is "PATH: what it is".

    An :class:`OSError` (``errno`` ``EISDIR`` for a folder, ``EINVAL`` otherwise), so code
    that turns a failed open into "cannot read" catches it too; its ``strerror`` is the
    reason alone ("a FIFO (named pipe), not a file").
    """

    def __str__(self):
        return f"{self.filename}: {self.strerror}"


def not_a_file_reason(mode):
    """Why a file of mode ``mode`` (from ``stat``) is not read as a file, or None for a
    regular file.

    Parameters
    ----------
    mode : int
        ``st_mode``.

    Returns
    -------
    str or None
        "a FIFO (named pipe), not a file", "a socket, not a file", "a device, not a file",
        "a folder, not a file", "not a regular file"; None for a regular file.
    """
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    return "not a regular file"


def _refuse(path, mode):
    reason = not_a_file_reason(mode)
    code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    return NotARegularFile(code, reason, str(path))


def open_regular(path):
    """Open ``path`` for reading in binary mode, or refuse it when it is not a regular file.

    A symbolic link is followed: what counts is the file finally opened. The name is looked
    at first, so a device or a FIFO is never opened at all (opening some devices does
    something); then it is opened with ``O_NONBLOCK`` (a FIFO put there in the meantime does
    not block the open) and the open descriptor is checked again, which is the check that
    holds.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    io.BufferedReader
        The open file (blocking, as ``open(path, "rb")`` gives); the caller closes it.

    Raises
    ------
    NotARegularFile
        A FIFO, socket, device or folder: "PATH: a FIFO (named pipe), not a file".
    OSError
        What ``open`` raises otherwise (``FileNotFoundError``, ``PermissionError``...).
    """
    path = Path(path)
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(path, mode)
        # Reads of a regular file never block anyway; cleared so the file object behaves
        # exactly as one from open() would for whoever it is handed to.
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
