"""A lock file holding the pid: two runs never write one model or dataset folder at once."""
import contextlib
import errno
import os
from pathlib import Path

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


class FolderLock:
    """``with FolderLock(folder):`` holds ``folder/.lock`` (the pid) for the block.

    A lock whose pid is no longer running (a killed run) is stale and is taken over.

    Raises
    ------
    FolderBusy
        A running process holds the lock: "FOLDER: in use by another run (pid N)".
    """

    def __init__(self, folder, *, what="run"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.what = what
        self._held = False

    def acquire(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and holder != os.getpid() and _alive(holder):
                    raise FolderBusy(errno.EBUSY, f"{self.folder}: in use by another {self.what} (pid {holder})") from None
                # stale (or unreadable half-written) lock: remove it and try again
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            with open(fd, "w") as file:
                file.write(f"{os.getpid()}\n")
            self._held = True
            return self
        raise FolderBusy(errno.EBUSY, f"{self.folder}: in use by another {self.what}")

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
