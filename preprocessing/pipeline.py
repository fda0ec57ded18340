"""The batch: every source file to a WAV in the dataset folder, over all cores.

``preprocess(paths, out, settings)`` finds the files, labels them, and skips those whose
output is already up to date. When anything is to change, the new dataset is built whole in
a staging folder beside ``out``: unchanged WAVs hard-linked in (nothing is copied), the rest
prepared in a process pool, then ``manifest.csv``, ``settings.json`` and the array cache.
It is then swapped in at once (``safeio.swap_in``, which carries the user's own files
over). So the folder holds the old dataset or the new one, never a mix and never WAVs
without their manifest: a run that is killed, interrupted or meets a full disk leaves the
old dataset (or none), and the next run removes what it left and says so in one line.

A bad source becomes a ``failed`` row with its reason, and the batch carries on; an output
that cannot be written (a full disk) stops the run, since a dataset missing those samples
is not the one asked for. Source files are only ever opened for reading.

The files are prepared by :mod:`preprocessing.workers`; :class:`~preprocessing.report.Report`
is what a run did.
"""

import contextlib
import errno
import os
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from constants import AUDIO_SUFFIXES
from preprocessing import manifest as mf
from preprocessing.errors import PreprocessingError
from preprocessing.hydrogen import KIT_FILE, KitFileError, parse_kit
from preprocessing.labels import label_for
from preprocessing.naming import make_unique, output_name
from preprocessing.report import Report
from preprocessing.settings import PreprocessSettings
from preprocessing.sources import find_sources
from preprocessing.split import choose_validation_kits
from preprocessing.workers import OutputNotWritten, Task, default_jobs, run_tasks
from safeio import (
    FolderLock,
    WriteFailed,
    finish_interrupted_swaps,
    interrupts_held,
    remove_dead_temporaries,
    removed_line,
    staging_folder,
    staging_folders,
    swap_in,
)

#: The array caches ``dataset.build_cache`` writes: ``cache-`` and a 20-digit hex key.
_CACHE_NAME = re.compile(r"^cache-[0-9a-f]{20}\.npy$")


class NoAudioError(PreprocessingError):
    """The sources hold no audio file at all."""


class DatasetWriteError(PreprocessingError):
    """The dataset could not be written (a full disk): the folder is as it was."""


def _load_kits(sources, warnings):
    kits = {}
    for folder in sorted({s.kit_folder for s in sources if s.kit_folder is not None}):
        try:
            kits[folder] = parse_kit(folder / KIT_FILE)
        except KitFileError as error:
            warnings.append(str(error))
            kits[folder] = None
    return kits


def preprocess(paths, out, settings=PreprocessSettings(), jobs=None, progress=False):
    """Turn source files and folders into a dataset folder.

    Parameters
    ----------
    paths : list of str or os.PathLike
        Existing source files and folders (searched recursively).
    out : str or os.PathLike
        The dataset folder; created when missing. Never one of the source folders. The new
        dataset is built beside it and swapped in, so its parent folder must be writable.
    settings : PreprocessSettings
    jobs : int or None
        Worker processes; None uses every core, 1 runs in this process.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    Report

    Raises
    ------
    NoAudioError
        Nothing under ``paths`` is an audio file (nothing is written then).
    DatasetWriteError
        An output, the manifest or the settings could not be written (a full disk); the
        folder holds the dataset it held before, or none if it held none.
    PreprocessingError
        The folder holds what this tool must not replace or cannot read: a manifest or
        settings that are not its own, or unreadable; a file of the user's that appeared
        under an output's name during the run; or ``out`` is a mount point.
    safeio.FolderBusy
        Another run is writing the same folder (its lock file holds a live process).
    OSError
        The dataset folder or its lock cannot be made (``safeio.WriteFailed``: one line).
    """
    started = time.perf_counter()
    out = Path(os.path.abspath(out))
    # A link to a folder: the folder it names holds the dataset, and is the one replaced.
    folder = Path(os.path.realpath(out))
    passed_over = []
    sources = find_sources(paths, exclude=[out, folder], skipped=passed_over)
    audio = [s for s in sources if s.is_audio]
    if not audio:
        shown = ", ".join(str(p) for p in paths)
        raise NoAudioError(
            f"no audio files in {shown}: {len(sources)} file(s) seen, none named like a sound file "
            f"({', '.join(sorted(AUDIO_SUFFIXES))})"
        )
    if os.path.ismount(folder):
        raise PreprocessingError(
            f"{out}: is a mount point; a dataset is replaced as a whole folder, so give "
            f"a folder inside it (for example {out / 'dataset'})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    report = Report(folder=out, rows=[], passed_over=list(passed_over))
    # Two runs into one folder would interleave their WAVs and manifests: the second refuses.
    lock = FolderLock(folder, what="preprocess run")
    try:
        lock.acquire()
    except WriteFailed as refused:
        if refused.errno not in _MAY_NOT_WRITE:
            raise
        _refuse_unless_unchanged(sources, audio, folder, settings, report, refused)
    else:
        try:
            report.cleaned_up = _clean_up_after_stopped_runs(folder, lock)
            _preprocess_locked(sources, audio, folder, settings, jobs, progress, report, lock)
        finally:
            lock.release()
    report.seconds = time.perf_counter() - started
    return report


#: A lock that fails with one of these is in a folder this run may not write at all.
_MAY_NOT_WRITE = {errno.EROFS, errno.EACCES, errno.EPERM}


def _refuse_unless_unchanged(sources, audio, folder, settings, report, refused):
    """A dataset folder this run may not write (a read-only disk): a re-run that would change
    nothing writes nothing, so it needs no lock and succeeds; any other raises ``refused``
    (the lock's one line). With no writer possible, nothing can change under the reading."""
    if staging_folders(folder, "preprocess", kind_file=mf.MANIFEST):
        raise refused  # a killed run's swap to finish: that is a write
    earlier = _open_folder(folder, settings, report.warnings)
    rows, todo = _plan(sources, audio, folder, settings, earlier, report)
    if todo:
        raise refused
    _record(rows, [], [], report)
    report.rows = [rows[str(s.path)] for s in sources]
    _split(report)
    if not earlier.holds(report.rows, settings):
        raise refused


def finish_stopped_run(out):
    """Finish or remove what a killed run left at the dataset folder ``out``; one line or "".

    Run it before the sources are looked at: a run killed while it moved the user's files of
    ``out`` into its new set (step 2 of :func:`safeio.swap_in`) has a source folder that
    sits inside ``out`` in that set, hidden, until the swap is finished. Nothing is done
    (not even the lock made) when no killed run left a staging folder.

    Raises
    ------
    safeio.FolderBusy
        Another run is writing the same folder.
    OSError
        The folder, its lock or the swap cannot be written (``safeio.WriteFailed``: one line).
    """
    # A link to a folder: the folder it names holds the dataset (as in preprocess()).
    folder = Path(os.path.realpath(os.path.abspath(out)))
    if not staging_folders(folder, "preprocess", kind_file=mf.MANIFEST) or os.path.ismount(folder):
        return ""  # nothing to finish, or a folder preprocess() refuses in its own words
    folder.mkdir(parents=True, exist_ok=True)
    with FolderLock(folder, what="preprocess run") as lock:
        return _clean_up_after_stopped_runs(folder, lock)


def _clean_up_after_stopped_runs(folder, lock):
    """Finish or remove what killed runs left (the lock is held); one line saying what, or ""."""
    notes = list(lock.notes)
    for staged in staging_folders(folder, "preprocess", kind_file=mf.MANIFEST):
        # A set that a killed run had marked complete is swapped in now, with this run's lock
        # in it (not the dead run's), so the folder is never without a live lock.
        with contextlib.suppress(OSError):
            _link_lock(lock, staged)
    notes.extend(finish_interrupted_swaps(folder, "preprocess", kind_file=mf.MANIFEST))
    removed = remove_dead_temporaries(folder)
    if removed:
        notes.append(removed_line(folder, removed))
    return "; ".join(notes)


@dataclass
class _Earlier:
    """What earlier runs left in the dataset folder."""

    previous: dict  # manifest rows by source path, when made with these settings
    outputs: set  # every WAV name the manifest lists: this tool's, never a user's
    ours: set  # every name in the folder this tool wrote (outputs, manifest, settings, caches)
    manifest: bytes | None
    settings: bytes | None

    def holds(self, rows, settings):
        """True when ``rows`` and ``settings`` are exactly what the folder holds already."""
        return (
            self.manifest is not None
            and self.settings is not None
            and mf.manifest_text(rows).encode(**mf.ENCODING) == self.manifest
            and mf.settings_text(settings).encode() == self.settings
        )


def _open_folder(folder, settings, warnings):
    """Read what an earlier run left; nothing is changed.

    Raises
    ------
    PreprocessingError
        A manifest or settings file that is not this tool's (the folder is someone else's),
        or that cannot be read: one line; the folder is left as it is.
    """
    unreadable = "; fix that or pick another -o folder (nothing was changed)"
    foreign = "; it is not a dataset of this tool, so pick another -o folder"
    try:
        old_rows = mf.read_manifest(folder)
    except mf.UnreadableFile as error:
        raise PreprocessingError(f"{error}{unreadable}") from None
    except ValueError as error:
        raise PreprocessingError(f"{error}{foreign}") from None
    try:
        old_settings = mf.read_settings(folder)
        if old_rows is None and old_settings is not None and not mf.settings_written_here(folder):
            raise ValueError(f"{folder / mf.SETTINGS} holds other keys than this tool writes")
    except mf.UnreadableFile as error:
        raise PreprocessingError(f"{error}{unreadable}") from None
    except ValueError as error:
        if old_rows is None:  # no manifest of ours beside it: the file is a user's
            raise PreprocessingError(f"{error}{foreign}") from None
        warnings.append(f"{error}; every sample is made again")
        old_settings = None
    outputs = {
        name
        for name in (row.get("output") or "" for row in old_rows or [])
        if name and name == Path(name).name and name.endswith(".wav")
    }
    ours = set(outputs) | {p.name for p in folder.iterdir() if _CACHE_NAME.match(p.name)}
    if old_rows is not None:
        ours |= {mf.MANIFEST, mf.SETTINGS}
    elif old_settings is not None:
        ours.add(mf.SETTINGS)  # a killed run of an older version wrote it before its manifest
    return _Earlier(
        previous={row["source"]: row for row in old_rows or []} if old_settings == settings else {},
        outputs=outputs,
        ours=ours,
        manifest=(folder / mf.MANIFEST).read_bytes() if old_rows is not None else None,
        settings=(folder / mf.SETTINGS).read_bytes() if old_settings is not None else None,
    )


def _preprocess_locked(sources, audio, folder, settings, jobs, progress, report, lock):
    """Plan, prepare what changed, and swap the new dataset in; see :func:`preprocess`."""
    from preprocessing.dataset import build_cache

    earlier = _open_folder(folder, settings, report.warnings)
    rows, todo = _plan(sources, audio, folder, settings, earlier, report)
    reused = [row["output"] for row in rows.values() if row.get("status") == mf.OK]
    staged = _staging(folder, report.folder) if todo else None
    handed_over = False  # from then on the swap, or the next run, finishes or removes ``staged``
    try:
        tasks = [Task(source, str(staged / name), settings) for source, name in todo]
        results = run_tasks(tasks, default_jobs() if jobs is None else jobs, progress) if tasks else []
        prepared = _record(rows, tasks, results, report)
        report.rows = [rows[str(s.path)] for s in sources]
        _split(report)
        if not prepared and earlier.holds(report.rows, settings):
            # Nothing changed: the folder is left alone (a missing cache is made, atomically).
            if report.ok_rows:
                build_cache(folder)
            return
        if staged is None:
            staged = _staging(folder, report.folder)
        for name in reused:
            _link(folder / name, staged / name)
        mf.write_settings(staged, settings)
        mf.write_manifest(staged, report.rows)
        if report.ok_rows and build_cache(staged, prepared) is None:
            report.warnings.append(
                f"{report.folder}: no room for the array cache (the disk is full); the dataset "
                "is complete and loads from its WAVs, more slowly, until a run can write it"
            )
        _check_names_are_free(folder, staged, earlier, report.folder, lock.path.name)
        with contextlib.suppress(OSError):  # the folder keeps the permissions the user gave it
            os.chmod(staged, os.stat(folder).st_mode & 0o7777)
        _link_lock(lock, staged)
        handed_over = True
        with interrupts_held():
            swap_in(staged, folder, drop=sorted(n for n in earlier.ours if _encodable(n)))
    except OutputNotWritten as error:
        raise DatasetWriteError(
            f"{report.folder}: cannot write the dataset ({error.reason}); {_left(earlier, staged, handed_over)}"
        ) from None
    except OSError as error:  # safeio.WriteFailed of the manifest, settings, a link, the swap
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise DatasetWriteError(
            f"{report.folder}: cannot write the dataset ({reason}); {_left(earlier, staged, handed_over)}"
        ) from None
    except BaseException:
        if handed_over:
            # A Ctrl-C that came just before the signals were held: finish the swap if it was
            # marked complete, or take it back if not, as the next run would.
            with interrupts_held(), contextlib.suppress(OSError):
                finish_interrupted_swaps(folder, "preprocess", kind_file=mf.MANIFEST)
        raise
    finally:
        if staged is not None and not handed_over:
            shutil.rmtree(staged, ignore_errors=True)


def _left(earlier, staged, handed_over):
    """What a failed run leaves, for its one line."""
    if handed_over and staged is not None and staged.exists():
        return "the next run finishes the change"
    return "the dataset there is as it was" if earlier.manifest is not None else "no dataset was made"


def _staging(folder, shown):
    try:
        return staging_folder(folder, "preprocess")
    except WriteFailed as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise DatasetWriteError(
            f"{shown}: cannot make the new dataset beside it in {folder.parent} ({reason}); the folder is as it was"
        ) from None


_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def _link(source, target):
    """Give the new set an unchanged file without copying it (a copy where links are not possible)."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        shutil.copy2(source, target)  # the modification time stays, and with it the cache key


def _link_lock(lock, staged):
    """Put this run's lock into ``staged``, so the swap never shows the folder without it."""
    target = Path(staged) / lock.path.name
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    _link(lock.path, target)


def _check_names_are_free(folder, staged, earlier, shown, lock_name):
    """Refuse the swap when a user's file appeared under a name of the new set: it would be lost."""
    for name in sorted(os.listdir(staged)):
        if name != lock_name and name not in earlier.ours and os.path.lexists(folder / name):
            raise PreprocessingError(
                f"{shown / name}: a file of that name appeared in the dataset folder during "
                "the run; it is kept, and the dataset is as it was (run again)"
            )


def _encodable(name):
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _plan(sources, audio, folder, settings, earlier, report):
    """Label every file, name its output, and keep up-to-date outputs.

    A file in the folder that no earlier run wrote (``earlier.ours``) is the user's: its
    name is never given to an output.

    Returns
    -------
    rows : dict of str -> dict
        A manifest row per source path, complete except for the files still to prepare.
    todo : list of (str, str)
        The source path and output name of each file to prepare.
    """
    labels, output_of = _labels_and_names(audio, folder, earlier, report)
    rows, todo = {}, []
    for source in sources:
        key = str(source.path)
        if not source.is_audio:
            reason = f"not an audio file by its name ({source.path.suffix or 'no extension'})"
            rows[key] = {"source": key, "status": mf.SKIPPED, "error": reason}
            continue
        label = labels[source.path]
        row = rows[key] = {
            "output": output_of[source.path],
            "source": key,
            "kit": label.kit,
            "instrument": label.instrument,
            "family": label.family,
            "velocity_layer": label.velocity_layer,
            "velocity_range": label.velocity_range,
        }
        try:
            stat = os.stat(source.path)
        except OSError as error:  # gone or unreadable since the folder was listed
            reason = f"cannot be opened: {error.strerror}"
            row.update(output="", status=mf.FAILED, error=reason)
            report.failures.append((key, reason))
            report.failure_kinds["unreadable"] += 1
            continue
        row.update(source_size=str(stat.st_size), source_mtime_ns=str(stat.st_mtime_ns))
        old = earlier.previous.get(key, {})
        if _still_current(old, row, folder, earlier):
            row.update({k: old.get(k, "") for k in ("source_rate", "channels", "duration")}, status=mf.OK)
            report.reused += 1
        else:
            todo.append((key, row["output"]))
    return rows, todo


def _labels_and_names(audio, folder, earlier, report):
    """Each audio source's label, and its output name (unique, never a user's file's)."""
    kits = _load_kits(audio, report.warnings)
    labels = {s.path: label_for(s.path, kits.get(s.kit_folder) if s.kit_folder else None, s.folders) for s in audio}
    ours = {name.casefold() for name in earlier.ours}
    foreign = [p.name for p in folder.iterdir() if p.name.casefold() not in ours]
    names = make_unique(
        [output_name(labels[s.path].kit, labels[s.path].instrument, s.path.stem) for s in audio],
        [str(s.path) for s in audio],
        reserved=foreign,
    )
    return labels, dict(zip((s.path for s in audio), names))


def _still_current(old, row, folder, earlier):
    """Whether an earlier run's output of this source, unchanged since, can be kept."""
    return (
        old.get("status") == mf.OK
        and old.get("output") == row["output"]
        and old.get("source_size") == row["source_size"]
        and old.get("source_mtime_ns") == row["source_mtime_ns"]
        and row["output"] in earlier.outputs
        and (folder / row["output"]).is_file()
    )


def _record(rows, tasks, results, report):
    """Write the workers' results into the rows; returns the new samples by output name."""
    prepared = {}
    for task, result in zip(tasks, results):
        row = rows[task.source]
        if result.sample_rate:
            row.update(
                source_rate=result.sample_rate,
                channels=result.channels,
                duration=f"{result.frames / result.sample_rate:.4f}",
            )
        row["status"] = result.status
        if result.status == mf.OK:
            report.made += 1
            prepared[row["output"]] = result.audio
        else:
            row.update(output="", error=result.reason)
            report.failures.append((task.source, result.reason))
            report.failure_kinds[result.kind] += 1
    return prepared


def _split(report):
    """Choose the held-out kits and mark every usable row train or validation."""
    report.validation_kits = choose_validation_kits(Counter(r["kit"] for r in report.ok_rows))
    held_out = set(report.validation_kits)
    for row in report.ok_rows:
        row["split"] = mf.VALIDATION if row["kit"] in held_out else mf.TRAIN
