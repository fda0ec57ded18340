"""The batch: every source file to a WAV in the dataset folder, over all cores.

``preprocess(paths, out, settings)`` finds the files, labels them, skips those whose
output is already up to date, prepares the rest in a process pool, writes each WAV under a
temporary name and renames it, then writes ``manifest.csv``, ``settings.json`` and the
array cache. A bad file becomes a ``failed`` row with its reason; the batch carries on.
Source files are only ever opened for reading.
"""
import io
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from preprocessing import manifest as mf
from preprocessing.errors import AudioInputError, PreprocessingError
from preprocessing.hydrogen import KIT_FILE, KitFileError, parse_kit
from preprocessing.labels import LABELS, label_for
from preprocessing.naming import make_unique, output_name
from preprocessing.reader import prepare_file_with_info
from preprocessing.settings import PreprocessSettings
from preprocessing.sources import AUDIO_EXTENSIONS, find_sources
from preprocessing.split import choose_validation_kits
from safeio import FileExistsRefused, FolderLock, WriteFailed, atomic_write_bytes, leftover_temporaries


class NoAudioError(PreprocessingError):
    """The sources hold no audio file at all."""


@dataclass(frozen=True)
class _Task:
    source: str
    output: str
    settings: PreprocessSettings
    replace: bool = False  # the output is ours (an earlier run's): it may be replaced


@dataclass(frozen=True)
class _Result:
    status: str
    kind: str = ""
    reason: str = ""
    sample_rate: int | None = None
    channels: int | None = None
    frames: int | None = None
    audio: object = None  # the prepared sample, sent back so the cache needs no re-reading


def _process(task):
    """Prepare one file and write its WAV; a bad file is a failed result, never a raise."""
    try:
        audio, info = prepare_file_with_info(task.source, task.settings)
    except AudioInputError as error:
        info = error.info
        return _Result(
            mf.FAILED, error.kind, str(error),
            info.sample_rate if info else None, info.channels if info else None, info.frames if info else None,
        )
    # Encoded in memory, then written by the one atomic write (one fsync per file).
    encoded = io.BytesIO()
    sf.write(encoded, audio, task.settings.sample_rate, subtype="FLOAT", format="WAV")
    try:
        # A name that is not ours is only ever taken new, so a file that appeared in the
        # folder since it was planned is kept.
        atomic_write_bytes(task.output, encoded.getvalue(), overwrite=task.replace)
    except FileExistsRefused:
        return _Result(mf.FAILED, "output taken", f"{Path(task.output).name}: a file of that name appeared "
                       "in the dataset folder; it is kept (run again to pick another name)")
    except WriteFailed as error:
        return _Result(mf.FAILED, "cannot write", str(error), info.sample_rate, info.channels, info.frames)
    return _Result(mf.OK, sample_rate=info.sample_rate, channels=info.channels, frames=info.frames, audio=audio)


def default_jobs():
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _run_tasks(tasks, jobs, progress):
    """Results in task order, from this process (jobs=1) or a pool of ``jobs`` processes."""
    from tqdm import tqdm

    if jobs <= 1 or len(tasks) <= 1:
        with tqdm(total=len(tasks), disable=not progress, unit="file", file=sys.stderr) as bar:
            results = []
            for task in tasks:
                results.append(_process(task))
                bar.update()
            return results
    # Forked workers start with everything this process has imported, at no cost.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    jobs = min(jobs, len(tasks))
    # Small chunks: the 12-second cymbals of one kit sit together and must not all land
    # on one worker at the end.
    chunk = max(1, min(16, len(tasks) // (jobs * 4)))
    results = []
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_ignore_interrupts)
    try:
        iterator = pool.map(_process, tasks, chunksize=chunk)
        # The bar starts after the workers are forked: its monitor thread is not forked.
        with tqdm(total=len(tasks), disable=not progress, unit="file", file=sys.stderr) as bar:
            for result in iterator:
                results.append(result)
                bar.update()
    except BaseException:
        # Ctrl-C (or a write error): drop the queued files instead of waiting for them all.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _ignore_interrupts():
    """Workers leave Ctrl-C to the main process, which stops the batch in one place."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Report:
    """What a run did; ``summary()`` is its one-line account."""

    folder: Path
    rows: list
    made: int = 0
    reused: int = 0
    seconds: float = 0.0
    failures: list = field(default_factory=list)  # (source, reason)
    failure_kinds: Counter = field(default_factory=Counter)
    warnings: list = field(default_factory=list)
    validation_kits: list = field(default_factory=list)

    @property
    def ok_rows(self):
        return [r for r in self.rows if r["status"] == mf.OK]

    @property
    def audio_count(self):
        return sum(1 for r in self.rows if r["status"] != mf.SKIPPED)

    @property
    def skipped(self):
        return sum(1 for r in self.rows if r["status"] == mf.SKIPPED)

    @property
    def family_counts(self):
        counts = Counter(r["family"] for r in self.ok_rows)
        return [(family, counts[family]) for family in LABELS if counts[family]]

    @property
    def files_per_second(self):
        handled = self.made + len(self.failures)
        return handled / self.seconds if self.seconds > 0 else 0.0

    def summary(self):
        """One line: counts, families, failure reasons, held-out kits, speed."""
        ok = len(self.ok_rows)
        parts = [
            f"{ok} of {self.audio_count} audio files ready in {self.folder} "
            f"({self.made} made, {self.reused} up to date), {len(self.failures)} failed, "
            f"{self.skipped} skipped (not audio by name)"
        ]
        parts.append(", ".join(f"{family} {count}" for family, count in self.family_counts) or "no samples")
        if self.failure_kinds:
            parts.append("failed: " + ", ".join(f"{kind} {n}" for kind, n in self.failure_kinds.most_common()))
        if self.validation_kits:
            held = sum(1 for r in self.ok_rows if r.get("split") == mf.VALIDATION)
            share = 100.0 * held / ok if ok else 0.0
            parts.append(f"validation kits: {', '.join(self.validation_kits)} ({held} samples, {share:.1f}%)")
        else:
            parts.append("validation kits: none (fewer than two kits)")
        handled = self.made + len(self.failures)
        speed = f" ({handled} prepared, {self.files_per_second:.0f} files/s)" if handled else ""
        parts.append(f"{self.seconds:.1f} s{speed}")
        return " | ".join(parts)


def _load_kits(sources, warnings):
    kits = {}
    for folder in sorted({s.kit_folder for s in sources if s.kit_folder is not None}):
        try:
            kits[folder] = parse_kit(folder / KIT_FILE)
        except KitFileError as error:
            warnings.append(str(error))
            kits[folder] = None
    return kits


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def preprocess(paths, out, settings=PreprocessSettings(), jobs=None, progress=False):
    """Turn source files and folders into a dataset folder.

    Parameters
    ----------
    paths : list of str or os.PathLike
        Existing source files and folders (searched recursively).
    out : str or os.PathLike
        The dataset folder; created when missing. Never one of the source folders.
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
    safeio.FolderBusy
        Another run is writing the same folder (its lock file holds a live pid).
    OSError
        The dataset folder cannot be written.
    """
    started = time.perf_counter()
    out = Path(os.path.abspath(out))
    sources = find_sources(paths, exclude=[out])
    audio = [s for s in sources if s.is_audio]
    if not audio:
        shown = ", ".join(str(p) for p in paths)
        raise NoAudioError(
            f"no audio files in {shown}: {len(sources)} file(s) seen, none named like a sound file "
            f"({', '.join(sorted(AUDIO_EXTENSIONS))})"
        )
    out.mkdir(parents=True, exist_ok=True)
    # Two runs into one folder would interleave their WAVs and manifests: the second refuses.
    with FolderLock(out, what="preprocess run"):
        return _preprocess_locked(sources, audio, out, settings, jobs, progress, started)


def _preprocess_locked(sources, audio, out, settings, jobs, progress, started):
    from preprocessing.dataset import build_cache

    previous, old_outputs = _open_folder(out, settings)

    report = Report(folder=out, rows=[])
    rows, tasks = _plan(sources, audio, out, settings, previous, report, old_outputs)
    results = _run_tasks(tasks, default_jobs() if jobs is None else jobs, progress)
    prepared = _record(rows, tasks, results, report)

    report.rows = [rows[str(s.path)] for s in sources]
    _split(report)
    kept = {r["output"] for r in report.ok_rows}
    for name in old_outputs - kept:
        _remove(out / name)
    mf.write_settings(out, settings)
    mf.write_manifest(out, report.rows)
    if kept:
        build_cache(out, prepared)
    report.seconds = time.perf_counter() - started
    return report


def _open_folder(out, settings):
    """Tidy the dataset folder and read what an earlier run left.

    Returns
    -------
    previous : dict of str -> dict
        Earlier manifest rows by source path, when they were made with these settings.
    old_outputs : set of str
        Every WAV an earlier run listed; those not made again are removed at the end.
    """
    from preprocessing.dataset import remove_caches

    # The lock is held, so every temporary file here is from a run that was stopped.
    for leftover in leftover_temporaries(out):
        _remove(leftover)
    try:
        old_rows = mf.read_manifest(out) or []
    except ValueError as error:
        # Not a manifest of ours: the folder is someone else's; touch nothing in it.
        raise PreprocessingError(f"{error}; it is not a dataset of this tool, so pick another -o folder") from None
    try:
        old_settings = mf.read_settings(out)
    except ValueError:
        old_settings = None  # unreadable: everything is made again
    # Only plain names this tool wrote into this folder are ever removed.
    old_outputs = {
        name for name in (row.get("output", "") for row in old_rows)
        if name and name == Path(name).name and name.endswith(".wav")
    }
    if old_settings != settings:
        # WAVs made with other settings must not pass for new ones if this run is stopped.
        for name in (mf.MANIFEST, mf.SETTINGS):
            _remove(out / name)
        remove_caches(out)
        return {}, old_outputs
    return {row["source"]: row for row in old_rows}, old_outputs


def _plan(sources, audio, out, settings, previous, report, old_outputs=frozenset()):
    """Label every file, name its output, and keep up-to-date outputs.

    A WAV in the folder that no earlier run listed (``old_outputs``) is the user's: its
    name is never given to an output.

    Returns
    -------
    rows : dict of str -> dict
        A manifest row per source path, complete except for the files still to prepare.
    tasks : list of _Task
    """
    kits = _load_kits(audio, report.warnings)
    labels = {
        s.path: label_for(s.path, kits.get(s.kit_folder) if s.kit_folder else None, s.folders)
        for s in audio
    }
    ours = {name.casefold() for name in old_outputs}
    foreign = [p.name for p in out.iterdir() if p.name.casefold() not in ours]
    names = make_unique(
        [output_name(labels[s.path].kit, labels[s.path].instrument, s.path.stem) for s in audio],
        [str(s.path) for s in audio],
        reserved=foreign,
    )
    output_of = dict(zip((s.path for s in audio), names))

    rows, tasks = {}, []
    for source in sources:
        key = str(source.path)
        if not source.is_audio:
            reason = f"not an audio file by its name ({source.path.suffix or 'no extension'})"
            rows[key] = {"source": key, "status": mf.SKIPPED, "error": reason}
            continue
        label = labels[source.path]
        row = rows[key] = {
            "output": output_of[source.path], "source": key, "kit": label.kit,
            "instrument": label.instrument, "family": label.family,
            "velocity_layer": label.velocity_layer, "velocity_range": label.velocity_range,
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
        old = previous.get(key, {})
        if (
            old.get("status") == mf.OK and old.get("output") == row["output"]
            and old.get("source_size") == row["source_size"]
            and old.get("source_mtime_ns") == row["source_mtime_ns"]
            and (out / row["output"]).is_file()
        ):
            row.update({k: old.get(k, "") for k in ("source_rate", "channels", "duration")}, status=mf.OK)
            report.reused += 1
        else:
            tasks.append(_Task(key, str(out / row["output"]), settings,
                               replace=row["output"] in old_outputs))
    return rows, tasks


def _record(rows, tasks, results, report):
    """Write the workers' results into the rows; returns the new samples by output name."""
    prepared = {}
    for task, result in zip(tasks, results):
        row = rows[task.source]
        if result.sample_rate:
            row.update(
                source_rate=result.sample_rate, channels=result.channels,
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
