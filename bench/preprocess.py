"""Preprocessing throughput: the pipeline serial (jobs=1) and parallel (all cores), side by side.

Each run makes a fresh dataset folder from the same sources, so nothing is skipped as up
to date; files/s counts every audio file handled (made or failed) over the whole call
(walk, labels, workers, manifest, cache). A plain serial loop of the seed's script
(soundfile + librosa.resample, float64, as in the blog post) runs too, as the yardstick.
Sources are read once before timing, so every run finds them in the page cache.
"""

import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from constants import SAMPLE_RATE

DEFAULT_SOURCES = "/usr/share/hydrogen/data/drumkits"
TARGET_FILES_PER_SECOND = 180


def add_arguments(parser):
    parser.add_argument(
        "sources", nargs="*", default=[DEFAULT_SOURCES], metavar="SRC", help=f"files or folders (default: {DEFAULT_SOURCES})"
    )
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="workers of the parallel run (default: all cores)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs of each kind; the median is shown (default: 3)")
    parser.add_argument("--no-seed", action="store_true", help="leave out the seed-script yardstick")


def _seed_loop(paths, out, settings):
    """The blog post's script as a plain loop (with its lost minus signs put back)."""
    import librosa
    import numpy as np
    import soundfile as sf

    attack = settings.attack_samples
    for i, path in enumerate(paths):
        try:
            data, rate = sf.read(path, always_2d=True)
        except sf.SoundFileError:
            continue
        sample = librosa.resample(data[:, 0], orig_sr=rate, target_sr=settings.sample_rate)
        peak = int(np.argmax(np.abs(sample)))
        if peak > attack:
            sample = sample[peak - attack :]
        elif peak < attack:
            sample = np.pad(sample, (attack - peak, 0))
        if sample.shape[0] > settings.length:
            sample = sample[: settings.length]
        else:
            sample = np.pad(sample, (0, settings.length - sample.shape[0]))
        sf.write(os.path.join(out, f"{i}.wav"), sample, settings.sample_rate, subtype="FLOAT")


def _cpu_seconds():
    """CPU time of this process and of its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(function):
    """(wall seconds, CPU seconds) of one call. CPU time barely moves when other jobs
    share the cores, so it tells a slow run from a busy machine."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    function()
    return time.perf_counter() - started, _cpu_seconds() - cpu


def main(args):
    from commands import UsageError
    from preprocessing.settings import PreprocessSettings
    from preprocessing.sources import find_sources
    from preprocessing.workers import default_jobs

    for source in args.sources:
        if not Path(source).exists():
            raise UsageError(f"{source}: no such file or folder")
    if args.repeat < 1:
        raise UsageError("--repeat must be 1 or more")
    jobs = args.jobs or default_jobs()
    settings = PreprocessSettings()
    audio = [str(s.path) for s in find_sources(args.sources) if s.is_audio]
    if not audio:
        raise UsageError(f"no audio files in {', '.join(args.sources)}")
    for path in audio:  # into the page cache, so no run pays for the disk alone
        Path(path).read_bytes()

    kinds = _kinds(args, audio, jobs)
    print(
        f"preprocess benchmark: {len(audio)} audio files in {', '.join(args.sources)}; "
        f"{default_jobs()} cores; median of {args.repeat} run(s)"
    )
    results, cpu, handled = {}, {}, {}
    for _ in range(args.repeat):
        for label, count, run_jobs in kinds:
            seconds, cpu_seconds, handled[label] = _run_kind(args, audio, settings, count, run_jobs)
            results.setdefault(label, []).append(seconds)
            cpu.setdefault(label, []).append(cpu_seconds)
    _print_rates(args, kinds, results, cpu, handled, jobs)
    return 0


def _kinds(args, audio, jobs):
    """(label, files, jobs) of each way to preprocess: jobs None is the seed script's loop."""
    kinds = []
    if not args.no_seed:
        import librosa

        librosa.resample(__import__("numpy").zeros(64), orig_sr=44100, target_sr=SAMPLE_RATE)  # import outside the clock
        kinds.append(("seed script loop (serial)", len(audio), None))
    kinds.append(("pipeline serial   (jobs=1)", None, 1))
    kinds.append((f"pipeline parallel (jobs={jobs})", None, jobs))
    return kinds


def _run_kind(args, audio, settings, count, run_jobs):
    """(wall seconds, CPU seconds, files handled) of one run of one kind."""
    from commands import UsageError
    from preprocessing.pipeline import NoAudioError, preprocess

    if run_jobs is None:
        with tempfile.TemporaryDirectory(prefix="bench-seed-") as out:
            seconds, cpu_seconds = _timed(lambda: _seed_loop(audio, out, settings))
        return seconds, cpu_seconds, count

    def pipeline_run():
        with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as out:
            return preprocess(args.sources, out, settings, jobs=run_jobs)

    try:
        holder = {}
        seconds, cpu_seconds = _timed(lambda: holder.setdefault("r", pipeline_run()))
    except NoAudioError as error:
        raise UsageError(str(error)) from None
    report = holder["r"]
    return seconds, cpu_seconds, report.made + len(report.failures)


def _print_rates(args, kinds, results, cpu, handled, jobs):
    """Print each kind's median rate, the ratios and whether the target is met."""
    load = os.getloadavg()[0]
    rates = {}
    for label, _, _ in kinds:
        seconds = statistics.median(results[label])
        rates[label] = handled[label] / seconds
        best = handled[label] / min(results[label])
        cpu_ms = 1000 * statistics.median(cpu[label]) / handled[label]
        spread = f"; runs {', '.join(f'{s:.2f}' for s in results[label])} s, best {best:.0f} files/s" if args.repeat > 1 else ""
        print(f"  {label:30s} {seconds:6.2f} s  {rates[label]:6.0f} files/s  ({cpu_ms:.2f} CPU ms/file{spread})")
    serial, parallel = rates[kinds[-2][0]], rates[kinds[-1][0]]
    line = f"  parallel / serial: {parallel / serial:.2f}x"
    if not args.no_seed:
        line += f"; pipeline serial / seed loop: {serial / rates[kinds[0][0]]:.2f}x"
    print(line)
    verdict = "met" if parallel >= TARGET_FILES_PER_SECOND else "NOT met"
    print(
        f"  target >= {TARGET_FILES_PER_SECOND} files/s on 2 cores (parallel run, {jobs} jobs): {verdict}; "
        f"load average {load:.1f} at the end (other jobs on these cores slow every run)"
    )
