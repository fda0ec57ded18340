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
import re
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


# ".<name>.<pid>.tmp": what _process and the manifest writer write before renaming.
_TEMPORARY = re.compile(r"^\..+\.\d+\.tmp$")


class NoAudioError(PreprocessingError):
    """The sources hold no audio file at all."""


@dataclass(frozen=True)
class _Task:
    source: str
    output: str
    settings: PreprocessSettings


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
    output = Path(task.output)
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    # Encoded in memory: soundfile's close() of a real file calls fsync, which costs more
    # than everything else done to a file; the rename keeps the write atomic all the same.
    encoded = io.BytesIO()
    sf.write(encoded, audio, task.settings.sample_rate, subtype="FLOAT", format="WAV")
    with open(temporary, "wb") as handle:
        handle.write(encoded.getbuffer())
    os.replace(temporary, output)
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
    chunk = max(1, min(32, len(tasks) // (jobs * 4)))
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


def _stat(path):
    stat = os.stat(path)
    return str(stat.st_size), str(stat.st_mtime_ns)


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
    OSError
        The dataset folder cannot be written.
    """
    from preprocessing.dataset import build_cache, remove_caches

    started = time.perf_counter()
    out = Path(os.path.abspath(out))
    jobs = default_jobs() if jobs is None else jobs
    sources = find_sources(paths, exclude=[out])
    audio = [s for s in sources if s.is_audio]
    if not audio:
        shown = ", ".join(str(p) for p in paths)
        raise NoAudioError(
            f"no audio files in {shown}: {len(sources)} file(s) seen, none named like a sound file "
            f"({', '.join(sorted(AUDIO_EXTENSIONS))})"
        )
    out.mkdir(parents=True, exist_ok=True)
    for leftover in out.iterdir():
        if _TEMPORARY.match(leftover.name):  # from a run that was stopped mid-write
            _remove(leftover)

    previous_settings = None
    try:
        previous_settings = mf.read_settings(out)
        previous_rows = mf.read_manifest(out) or []
    except ValueError:
        previous_rows = []  # an unreadable old manifest: everything is made again
    if previous_settings != settings:
        previous_rows_for_cleanup, previous_rows = previous_rows, []
        # Old WAVs made with other settings must not pass for new ones if this run stops.
        for name in (mf.MANIFEST, mf.SETTINGS):
            _remove(out / name)
        remove_caches(out)
    else:
        previous_rows_for_cleanup = previous_rows
    previous = {row["source"]: row for row in previous_rows}

    report = Report(folder=out, rows=[])
    kits = _load_kits(audio, report.warnings)
    labels = {}
    for source in audio:
        kit = kits.get(source.kit_folder) if source.kit_folder is not None else None
        labels[source.path] = label_for(source.path, kit, source.folders)
    names = make_unique(
        [output_name(labels[s.path].kit, labels[s.path].instrument, s.path.stem) for s in audio],
        [str(s.path) for s in audio],
    )
    output_of = {s.path: name for s, name in zip(audio, names)}

    rows = {}
    tasks, task_sources = [], []
    for source in sources:
        key = str(source.path)
        if not source.is_audio:
            rows[key] = {"source": key, "status": mf.SKIPPED, "error": f"not an audio file by its name ({source.path.suffix or 'no extension'})"}
            continue
        label = labels[source.path]
        try:
            size, mtime = _stat(source.path)
        except OSError as error:  # gone or unreadable since the folder was listed
            size = mtime = ""
            reason = f"cannot be opened: {error.strerror}"
            report.failures.append((key, reason))
            report.failure_kinds["unreadable"] += 1
        row = {
            "output": output_of[source.path], "source": key, "kit": label.kit,
            "instrument": label.instrument, "family": label.family,
            "velocity_layer": label.velocity_layer, "velocity_range": label.velocity_range,
            "source_size": size, "source_mtime_ns": mtime,
        }
        old = previous.get(key)
        if not size:
            row.update(status=mf.FAILED, output="", error=reason)
        elif (
            old is not None and old.get("status") == mf.OK and old.get("output") == row["output"]
            and old.get("source_size") == size and old.get("source_mtime_ns") == mtime
            and (out / row["output"]).is_file()
        ):
            row.update({k: old.get(k, "") for k in ("source_rate", "channels", "duration")}, status=mf.OK)
            report.reused += 1
        else:
            tasks.append(_Task(key, str(out / row["output"]), settings))
            task_sources.append(key)
        rows[key] = row

    prepared = {}
    for key, result in zip(task_sources, _run_tasks(tasks, jobs, progress)):
        row = rows[key]
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
            row["output"] = ""
            row["error"] = result.reason
            report.failures.append((key, result.reason))
            report.failure_kinds[result.kind] += 1

    ordered = [rows[str(s.path)] for s in sources]
    counts = Counter(r["kit"] for r in ordered if r["status"] == mf.OK)
    report.validation_kits = choose_validation_kits(counts)
    held_out = set(report.validation_kits)
    for row in ordered:
        if row["status"] == mf.OK:
            row["split"] = mf.VALIDATION if row["kit"] in held_out else mf.TRAIN
    report.rows = ordered

    kept = {r["output"] for r in ordered if r["status"] == mf.OK}
    for old in previous_rows_for_cleanup:
        name = old.get("output", "")
        # Only plain names this tool wrote into this folder are ever removed.
        if name and name not in kept and name == Path(name).name and name.endswith(".wav"):
            _remove(out / name)
    mf.write_settings(out, settings)
    mf.write_manifest(out, ordered)
    if kept:
        build_cache(out, prepared)
    report.seconds = time.perf_counter() - started
    return report
