"""A lock file holding the pid: two runs never write one model or dataset folder at once.

The lock file appears whole: the pid goes into a temporary file that is then hard-linked to
the lock's name (``link`` fails when the name is taken, so exactly one process wins). A lock
whose process is gone is stale; taking it over is judged and done under a short ``flock`` on
the lock's folder (the takeover guard), so two processes that both found it stale never
remove each other's new lock.
"""
import contextlib
import errno
import os
from pathlib import Path

from safeio.atomic import _NO_LINKS, WriteFailed, temporary_name

try:
    import fcntl
except ImportError:  # not POSIX: the takeover runs unguarded
    fcntl = None

LOCK_NAME = ".lock"


class FolderBusy(OSError):
    """Another live process holds the folder; ``str()`` is one line naming it."""

    def __str__(self):
        return self.strerror if self.strerror else super().__str__()


def _alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _TakeoverGuard:
    """``with _TakeoverGuard(folder):`` holds an exclusive ``flock`` on ``folder`` itself.

    Held only for a few system calls (reading a lock, removing a stale one). Where the
    folder cannot be locked (a file system without ``flock``), the block runs unguarded:
    the lock still works, with the old, narrow takeover race.
    """

    def __init__(self, folder):
        self.folder = folder
        self._fd = None

    def __enter__(self):
        if fcntl is None:
            return self
        with contextlib.suppress(OSError):
            fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                os.close(fd)
            else:
                self._fd = fd
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        return False


class FolderLock:
    """``with FolderLock(folder):`` holds ``folder/.lock`` (the pid) for the block.

    A lock whose pid is no longer running (a killed run) is stale and is taken over.
    ``beside=True`` keeps the lock file next to the folder (``.NAME.lock``) instead, for a
    folder that is replaced as a whole while it is held (:func:`safeio.swap_in`).

    Raises
    ------
    FolderBusy
        A running process holds the lock: "FOLDER: in use by another run (pid N)".
    """

    def __init__(self, folder, *, what="run", beside=False):
        self.folder = Path(folder)
        self.path = (self.folder.with_name(f".{self.folder.name}{LOCK_NAME}") if beside
                     else self.folder / LOCK_NAME)
        self.what = what
        self._held = False

    def acquire(self):
        """Take the lock.

        Raises
        ------
        FolderBusy
            A live process holds it.
        WriteFailed
            The lock file cannot be written (a full or read-only disk): one line naming it.
        """
        try:
            return self._acquire()
        except (FolderBusy, WriteFailed):
            raise
        except OSError as error:
            raise WriteFailed(error.errno or errno.EIO,
                              f"{self.path}: cannot write ({error.strerror or error})") from error

    def _acquire(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create():
                self._held = True
                return self
            with _TakeoverGuard(self.path.parent):
                # Judged and removed under the guard, so a lock another process has just
                # taken (after this one read the old holder) is never the one removed.
                holder = self._holder()
                if holder is not None and holder != os.getpid() and _alive(holder):
                    raise FolderBusy(errno.EBUSY, f"{self.folder}: in use by another {self.what} (pid {holder})") from None
                # stale: its run is gone, or it is empty or unreadable (a writer that died
                # mid-write; a live writer never shows a lock file without its pid)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
        raise FolderBusy(errno.EBUSY, f"{self.folder}: in use by another {self.what}")

    def _create(self):
        """Put a lock file holding this pid in place, whole; False when one is there already.

        The pid is written to a temporary file first and linked to the lock's name, so no
        process ever sees a lock file without its pid. Where links are not possible, the
        file is made and written under the takeover guard, which every judge of a lock holds.
        """
        temporary = temporary_name(self.path)
        fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            with open(fd, "w") as file:
                file.write(f"{os.getpid()}\n")
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, self.path)
                return True
            except FileExistsError:
                return False
            except OSError as error:
                if error.errno not in _NO_LINKS:
                    raise
            with _TakeoverGuard(self.path.parent):
                try:
                    fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    return False
                try:
                    with open(fd, "w") as file:
                        file.write(f"{os.getpid()}\n")
                except OSError:
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)  # never leave an empty lock behind
                    raise
                return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _holder(self):
        try:
            return int(self.path.read_text().strip() or "0")
        except (OSError, ValueError):
            return None

    def release(self):
        if self._held:
            self._held = False
            with contextlib.suppress(OSError):
                if self._holder() == os.getpid():
                    os.unlink(self.path)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
