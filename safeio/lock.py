"""A lock file holding the pid: two runs never write one model or dataset folder at once.

The lock holds ``PID START``: the pid and the process's start time (clock ticks since boot,
``/proc/PID/stat``), so a lock whose pid has since been given to another process is known to
be stale. A lock holding only a pid (an older version's) is judged by its modification time:
a process that started after the lock was written cannot be the one that wrote it.

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

from safeio.atomic import _NO_LINKS, WriteFailed, pid_alive, remove_dead_temporaries, removed_line, temporary_name

try:
    import fcntl
except ImportError:  # not POSIX: the takeover runs unguarded
    fcntl = None

LOCK_NAME = ".lock"


class FolderBusy(OSError):
    """Another live process holds the folder; ``str()`` is one line naming it."""

    def __str__(self):
        return self.strerror if self.strerror else super().__str__()


def _start_ticks(pid):
    """The process's start time in clock ticks since boot, or None where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _boot_time():
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _holds(pid, start, written_at):
    """True when the running process ``pid`` is the one that wrote the lock.

    ``start`` is the start time the lock recorded (None for a pid-only lock), and
    ``written_at`` the lock file's modification time.
    """
    if not pid_alive(pid):
        return False
    running_since = _start_ticks(pid)
    if running_since is None:
        return True  # no /proc: a live pid is all there is to go on
    if start is not None:
        return start == running_since
    boot = _boot_time()
    if boot is None or written_at is None:
        return True
    # a second of slack: the boot time is whole seconds
    return boot + running_since / os.sysconf("SC_CLK_TCK") <= written_at + 1.0


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

    After :meth:`acquire`, ``notes`` holds one line for each thing a dead run had left and
    the lock cleared (a stale lock, the lock's own temporary files), for the caller's log.

    Raises
    ------
    FolderBusy
        A running process holds the lock: "FOLDER: in use by another run (pid N, lock file
        PATH; remove that file if no such run is going)".
    """

    def __init__(self, folder, *, what="run", beside=False):
        self.folder = Path(folder)
        self.path = self.folder.with_name(f".{self.folder.name}{LOCK_NAME}") if beside else self.folder / LOCK_NAME
        self.what = what
        self._held = False
        self.notes = []

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
            raise WriteFailed(error.errno or errno.EIO, f"{self.path}: cannot write ({error.strerror or error})") from error

    def _busy(self, holder=None):
        pid = f"pid {holder}, " if holder is not None else ""
        return FolderBusy(
            errno.EBUSY,
            f"{self.folder}: in use by another {self.what} ({pid}lock file {self.path}; remove that file if no such run is going)",
        )

    def _acquire(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.notes = []
        lock_name = self.path.name
        removed = remove_dead_temporaries(self.path.parent, of=lambda name: name == lock_name)
        if removed:
            self.notes.append(removed_line(self.path.parent, removed))
        for _ in range(5):
            if self._create():
                self._held = True
                return self
            with _TakeoverGuard(self.path.parent):
                # Judged and removed under the guard, so a lock another process has just
                # taken (after this one read the old holder) is never the one removed.
                holder, start, written_at = self._record()
                if holder is not None and holder != os.getpid() and _holds(holder, start, written_at):
                    raise self._busy(holder) from None
                # stale: its run is gone (or its pid now belongs to another process), or it
                # is empty or unreadable (a live writer never shows a lock file without its pid)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                    self.notes.append(f"{self.path}: removed a stale lock" + (f" (pid {holder} is not that run)" if holder else ""))
        raise self._busy()

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
                file.write(self._content())
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
                        file.write(self._content())
                except OSError:
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)  # never leave an empty lock behind
                    raise
                return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    @staticmethod
    def _content():
        start = _start_ticks(os.getpid())
        return f"{os.getpid()}\n" if start is None else f"{os.getpid()} {start}\n"

    def _record(self):
        """``(pid, start, mtime)`` of the lock file; ``(None, None, None)`` when unreadable."""
        try:
            written_at = self.path.stat().st_mtime
            fields = self.path.read_text().split()
            pid = int(fields[0]) if fields else 0
            start = int(fields[1]) if len(fields) > 1 else None
        except (OSError, ValueError):
            return None, None, None
        return pid, start, written_at

    def _holder(self):
        return self._record()[0]

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
