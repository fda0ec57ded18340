"""Writing files so that nothing is lost: the project's one atomic-write helper and its lock.

Every package may import this one (it imports only the standard library):

- :func:`atomic_write` / :func:`atomic_write_bytes`: a same-folder temporary name with the pid
  and a random part, flushed and fsynced, then renamed over the target (``os.replace``), or
  linked to a name that must be new (``overwrite=False``);
- :data:`TEMPORARY_PATTERN` / :func:`leftover_temporaries`: the one pattern of those names;
- :func:`staging_folder` / :func:`swap_in` / :func:`finish_interrupted_swaps`: a folder
  replaced as a whole set, so a crash leaves the old set or the new one, never a mix;
- :class:`FolderLock`: a lock file holding the pid (linked into place whole), so two runs
  never share a folder.
"""
from safeio.atomic import (
    TEMPORARY_PATTERN,
    FileExistsRefused,
    WriteFailed,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    leftover_temporaries,
    temporary_name,
)
from safeio.folders import finish_interrupted_swaps, staging_folder, staging_folders, swap_in
from safeio.lock import FolderBusy, FolderLock

__all__ = [
    "TEMPORARY_PATTERN",
    "FileExistsRefused",
    "FolderBusy",
    "FolderLock",
    "WriteFailed",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "finish_interrupted_swaps",
    "leftover_temporaries",
    "staging_folder",
    "staging_folders",
    "swap_in",
    "temporary_name",
]
