"""A kit as a plain folder, written whole: staged beside its place and swapped in
(:func:`safeio.swap_in`) under a lock beside it, keeping the files a user put in an earlier kit
folder. What a killed export left is finished or removed by the next one
(:func:`recover_kit_folder`)."""

import errno
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from audio.kit.contents import KIT_JSON, KIT_LISTING, KitFiles
from audio.kit.hydrogen import DRUMKIT_XML
from safeio import (
    CannotSwap,
    FileExistsRefused,
    FolderLock,
    UnreadableJson,
    WriteFailed,
    check_swappable,
    finish_interrupted_swaps,
    leftover_temporaries,
    pid_alive,
    read_json,
    staging_folder,
    swap_in,
)


def _lock(path: Path) -> FolderLock:
    return FolderLock(path, what="kit export", beside=True)


def recover_kit_folder(path: str | os.PathLike) -> list[str]:
    """Finish or remove what killed exports left at the kit folder ``path``.

    Under the folder's lock: a staged kit whose swap had begun is swapped in, one that was
    not finished is removed (:func:`safeio.finish_interrupted_swaps`), and the two hidden
    ``.NAME.PID.RAND.tmp`` folders that earlier versions left when killed between their two
    renames are put back (:func:`_finish_old_exports`). A user's own files are never removed.

    Returns
    -------
    list of str
        One line for each thing done (for the command's log); empty when there was nothing.

    Raises
    ------
    safeio.FolderBusy
        Another export is writing this folder now.
    safeio.WriteFailed
        The lock cannot be written (a read-only folder).
    """
    path = Path(path)
    if not path.parent.is_dir() or (os.path.lexists(path) and not _is_real_folder(path)):
        return []  # nothing was ever written there by an export (or it is not a folder to take)
    existed = os.path.lexists(path)
    try:
        with _lock(path) as lock:
            return lock.notes + _recover(path)
    finally:
        if not existed:
            _remove_if_empty(path)  # the lock makes the folder it locks


def _recover(path: Path) -> list[str]:
    """The lines of what was finished or removed at ``path``; the caller holds the lock."""
    try:
        lines = finish_interrupted_swaps(path, "kit", kind_file=KIT_JSON)
        old = _finish_old_exports(path)
    except CannotSwap:
        raise  # the folder itself is refused, in the words of check_swappable
    except OSError as error:
        raise WriteFailed(
            error.errno or errno.EIO, f"{path}: cannot finish an interrupted export ({error.strerror or error})"
        ) from error
    return lines + ([old] if old else [])


def _is_real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove_if_empty(path: Path) -> None:
    if _is_real_folder(path):
        try:
            path.rmdir()
        except OSError:
            pass  # not empty (someone's files): it stays


def _dead_export_folders(path: Path) -> list[Path]:
    """Folders ``.NAME.PID.RAND.tmp`` beside ``path`` whose writer (pid) is gone."""
    found = []
    for entry in leftover_temporaries(path.parent):
        target, pid = entry.name[1:].rsplit(".", 3)[:2]
        if target == path.name and _is_real_folder(entry) and not pid_alive(int(pid)):
            found.append(entry)
    return found


def kit_own_files(folder: str | os.PathLike) -> set[str]:
    """The names a kit wrote into ``folder``: its listing's WAVs (from ``kit.json``) and the
    three files every kit folder has. A user's own files are not among them."""
    names = {KIT_JSON, KIT_LISTING, DRUMKIT_XML}
    try:
        record = read_json(Path(folder) / KIT_JSON)
    except UnreadableJson:
        return names  # a damaged listing: its WAVs are kept, not guessed at
    instruments = record.get("instruments") if isinstance(record, dict) else None
    for instrument in instruments if isinstance(instruments, list) else []:
        layers = instrument.get("layers") if isinstance(instrument, dict) else None
        for layer in layers if isinstance(layers, list) else []:
            name = layer.get("file") if isinstance(layer, dict) else None
            if isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and os.sep not in name:
                names.add(name)
    return names


def _finish_old_exports(path: Path) -> str | None:
    """Put back what an earlier version's export left when it was killed; one line or None.

    That version filled ``.NAME.PID.RAND.tmp``, renamed the old kit to another such name, then
    the new one into place, then removed the old one. Killed between the renames it left
    ``path`` missing and both kits hidden. Here the newer kit (by its kit.json) takes
    ``path`` when that is missing or empty, the files a user had put in the other kit are
    moved into it, and a folder without kit.json (a kit being filled) is removed.
    """
    dead = _dead_export_folders(path)
    if not dead:
        return None
    kits = [folder for folder in dead if (folder / KIT_JSON).is_file()]
    # Without kit.json it was a kit being filled: WAVs and drumkit.xml only. Anything else in
    # it is not an export's, and the folder stays.
    unfinished = [
        folder
        for folder in dead
        if folder not in kits
        and all(
            entry.is_file() and (entry.suffix.lower() == ".wav" or entry.name in (DRUMKIT_XML, KIT_LISTING))
            for entry in folder.iterdir()
        )
    ]
    done = []
    if kits and (not os.path.lexists(path) or (_is_real_folder(path) and not any(path.iterdir()))):
        newest = max(kits, key=lambda folder: (folder / KIT_JSON).stat().st_mtime_ns)
        if os.path.lexists(path):
            path.rmdir()
        os.rename(newest, path)
        kits.remove(newest)
        done.append(f"put the newer kit back in place (from {newest.name})")
    kept, stuck = [], []
    for folder in kits:
        own = kit_own_files(folder)
        for entry in sorted(folder.iterdir()):
            if entry.name in own:
                continue
            if os.path.lexists(path / entry.name) or not _is_real_folder(path):
                stuck.append(entry.name)
            else:
                os.rename(entry, path / entry.name)
                kept.append(entry.name)
        if not any(entry.name not in own for entry in folder.iterdir()):
            unfinished.append(folder)
    for folder in unfinished:
        shutil.rmtree(folder, ignore_errors=True)
    if kept:
        files = f"file {kept[0]}" if len(kept) == 1 else f"{len(kept)} files ({_names(kept)})"
        done.append(f"kept your {files} from the kit it replaced")
    if unfinished:
        done.append(f"removed {_count(unfinished, 'leftover kit folder')} ({_names([f.name for f in unfinished])})")
    if stuck:
        done.append(f"left {_names(stuck)} in the hidden folder: {path} has files of those names")
    return f"{path}: an export was killed before it finished; " + "; ".join(done)


def _count(items: Sequence[object], word: str) -> str:
    return f"{len(items)} {word}" + ("" if len(items) == 1 else "s")


def _names(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def write_kit_folder(
    path: str | os.PathLike, kit: KitFiles, *, overwrite: bool = False, report: Callable[[str], object] | None = None
) -> Path:
    """Write a kit as a plain folder (WAVs, kit.json, README.txt, drumkit.xml), whole.

    The kit is written into a staging folder beside ``path`` and swapped in
    (:func:`safeio.swap_in`), under a lock beside the folder, so a reader (or a kill -9)
    sees the old kit or the new one, never a mix. An existing empty folder is taken; one
    with files in it only with ``overwrite`` and only when it is a kit (it has kit.json).
    The files a user put in an earlier kit folder are kept; the earlier kit's own files
    (those its kit.json lists) go with it. What a killed export left is finished first
    (:func:`recover_kit_folder`).

    Parameters
    ----------
    path : str or Path
    kit : KitFiles
    overwrite : bool
        Replace an existing kit (the user's ``--force``).
    report : callable, optional
        ``report(line)`` for each thing a killed export had left and this one cleared.

    Raises
    ------
    FileExistsRefused
        ``path`` exists (a file, a link, or a folder with files) and may not be replaced.
    safeio.FolderBusy
        Another export is writing this folder now.
    WriteFailed
        The folder cannot be written; the old kit is as it was and nothing was left behind.
    """
    path = Path(path)
    refuse_existing_folder(path, overwrite)  # before the lock makes anything
    existed = os.path.lexists(path)
    try:
        with _lock(path) as lock:
            for line in lock.notes + _recover(path):
                if report is not None:
                    report(line)
            refuse_existing_folder(path, overwrite)
            previous = kit_own_files(path) if (path / KIT_JSON).is_file() else set()
            staged = staging_folder(path, "kit")
            try:
                for file_name, data in kit.files.items():
                    with open(staged / file_name, "xb") as file:
                        file.write(data)
                        file.flush()
                        os.fsync(file.fileno())
            except BaseException as error:
                shutil.rmtree(staged, ignore_errors=True)
                if isinstance(error, OSError):
                    raise WriteFailed(error.errno or errno.EIO, f"{path}: cannot write ({error.strerror or error})") from error
                raise
            swap_in(staged, path, drop=previous)
    finally:
        if not existed:
            _remove_if_empty(path)  # a failed first export leaves no empty folder
    return path


def refuse_existing_folder(path: str | os.PathLike, overwrite: bool) -> None:
    """Raise FileExistsRefused unless a kit folder may be written at ``path``; CannotSwap
    (one line) where a kit cannot be swapped in there at all (a mount point)."""
    path = Path(path)
    if not path.is_symlink():  # a link is refused below, in a kit's own words
        check_swappable(path, "a kit folder")
    if not _is_taken(path):
        return
    if not _is_real_folder(path):
        what = "a link" if path.is_symlink() else "a file"
        raise FileExistsRefused(errno.EEXIST, f"{path}: {what}, not a kit folder; not replaced even with --force")
    if not overwrite:
        raise FileExistsRefused(errno.EEXIST, f"{path}: already exists (pass --force to replace it)")
    if not (path / KIT_JSON).is_file():
        raise FileExistsRefused(
            errno.EEXIST, f"{path}: a folder with other files in it, not a kit (no {KIT_JSON}); not replaced even with --force"
        )


def _is_taken(path: Path) -> bool:
    if _is_real_folder(path):
        return any(path.iterdir())
    return os.path.lexists(path)
