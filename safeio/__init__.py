"""Writing files so that nothing is lost: the project's one atomic-write helper and its lock.

Every package may import this one (it imports only the standard library):

- :func:`atomic_write` / :func:`atomic_write_bytes`: a same-folder temporary name with the pid
  and a random part, flushed and fsynced, then renamed over the target (``os.replace``), or
  linked to a name that must be new (``overwrite=False``);
- :data:`TEMPORARY_PATTERN` / :func:`leftover_temporaries`: the one pattern of those names;
- :func:`check_swappable` / :func:`staging_folder` / :func:`swap_in` /
  :func:`finish_interrupted_swaps`: a folder replaced as a whole set, so a crash leaves the old
  set or the new one, never a mix (and a folder that cannot be swapped is refused before any work);
- :func:`one_line`: an exception as the one line a user reads (the project's one copy);
- :func:`remove_dead_temporaries` / :func:`removed_line`: what a killed writer left, removed
  by the next run (a temporary whose pid is alive is kept);
- :class:`FolderLock`: a lock file holding the pid and its start time (linked into place
  whole), so two runs never share a folder;
- :func:`read_json` / :class:`UnreadableJson`: a JSON file read within bounds on its size
  and depth, any failure one line;
- :func:`open_regular` / :class:`NotARegularFile`: a file opened for reading only when it is
  a regular file, so a FIFO, a device or a socket in its place is one line, never a hang;
- :func:`interrupts_held`: Ctrl-C held through a step that must not stop halfway.
"""

from safeio.atomic import (
    TEMPORARY_PATTERN,
    FileExistsRefused,
    WriteFailed,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    leftover_temporaries,
    one_line,
    pid_alive,
    remove_dead_temporaries,
    removed_line,
    temporary_name,
)
from safeio.folders import SWAP_VERBS, CannotSwap, check_swappable, finish_interrupted_swaps, staging_folder, staging_folders, swap_in
from safeio.interrupts import interrupts_held
from safeio.jsonfile import MAX_JSON_BYTES, MAX_JSON_DEPTH, UnreadableJson, parse_json, read_json
from safeio.lock import FolderBusy, FolderLock
from safeio.regular import NotARegularFile, not_a_file_reason, open_regular

__all__ = [
    "SWAP_VERBS",
    "CannotSwap",
    "check_swappable",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "TEMPORARY_PATTERN",
    "UnreadableJson",
    "FileExistsRefused",
    "FolderBusy",
    "FolderLock",
    "NotARegularFile",
    "WriteFailed",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "finish_interrupted_swaps",
    "interrupts_held",
    "leftover_temporaries",
    "not_a_file_reason",
    "one_line",
    "open_regular",
    "parse_json",
    "pid_alive",
    "read_json",
    "remove_dead_temporaries",
    "removed_line",
    "staging_folder",
    "staging_folders",
    "swap_in",
    "temporary_name",
]
