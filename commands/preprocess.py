"""Turn drum one-shots (files or folders, searched recursively) into a dataset folder.

The folder gets one float WAV per usable source (mono, resampled, peak moved to the
attack time, fixed length), manifest.csv with one row per source file seen, and
settings.json. A re-run skips outputs that are already up to date. A bad file is
reported with its reason and the batch carries on.
"""

import math
import os
import sys
from pathlib import Path

from commands import CommandFailed, UsageError
from commands.outputs import check_outputs
from constants import ATTACK_SECONDS, MAX_RATE, MIN_RATE, SAMPLE_LENGTH, SAMPLE_RATE
from preprocessing.settings import MAX_LENGTH_SECONDS, MIN_LENGTH

#: The dataset folder's own files: a --preview never takes one of these names, even with --force.
_DATASET_FILES = ("manifest.csv", "settings.json", ".lock")
#: --channel and --jobs: far above any real file's channels or any machine's cores.
MAX_CHANNEL = 255
MAX_JOBS = 256


def add_arguments(parser):
    parser.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders (searched recursively)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="dataset folder to write (created if missing)")
    # Numbers are read as text and checked in run(), so a bad one is one line naming its range.
    parser.add_argument(
        "--sr", default=str(SAMPLE_RATE), metavar="HZ", help=f"output sample rate, {MIN_RATE} to {MAX_RATE} (default: %(default)s)"
    )
    parser.add_argument(
        "--length",
        default=str(SAMPLE_LENGTH),
        metavar="N",
        help=f"output length in samples, {MIN_LENGTH} to {MAX_LENGTH_SECONDS:g} s at --sr (default: %(default)s)",
    )
    parser.add_argument(
        "--attack",
        default=str(ATTACK_SECONDS),
        metavar="SECONDS",
        help="where the peak is placed, in seconds, 0 up to the length (default: %(default)s)",
    )
    parser.add_argument(
        "--channel", default=None, metavar="N", help="take channel N (0-based) instead of mixing down; mono files are used as they are"
    )
    parser.add_argument("--normalize", default=None, metavar="peak", help="peak: scale each sample to a peak of 1.0")
    parser.add_argument("--jobs", default=None, metavar="N", help=f"worker processes, 1 to {MAX_JOBS} (default: all cores)")
    parser.add_argument("--preview", metavar="FILE", help="also save a before/after plot of a few samples as PNG")
    parser.add_argument(
        "--force",
        "--overwrite",
        dest="force",
        action="store_true",
        help="replace an existing --preview FILE (never a source or a dataset file)",
    )


def _whole(option, text, low, high, unit="", why=""):
    """``text`` as a whole number from ``low`` to ``high``, or UsageError naming the range."""
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise UsageError(f"{option}: must be a whole number{unit} between {low} and {high}{why} (got {text})")
    return value


def _settings(args):
    from preprocessing.errors import SettingsError
    from preprocessing.settings import NORMALIZE_CHOICES, PreprocessSettings, max_length

    rate = _whole("--sr", args.sr, MIN_RATE, MAX_RATE, " of Hz")
    longest = max_length(rate)
    length = _whole("--length", args.length, MIN_LENGTH, longest, " of samples", f" ({MAX_LENGTH_SECONDS:g} s at {rate} Hz)")
    span = length / rate
    try:
        attack = float(str(args.attack).strip())
    except ValueError:
        attack = math.nan
    # The peak must land on a sample of the output: 0 up to (not at) its end.
    if not (0 <= attack < span and round(attack * rate) < length):  # NaN fails every comparison
        raise UsageError(
            f"--attack: must be a number of seconds from 0 to less than {span:.4g} (the "
            f"{length}-sample output at {rate} Hz) (got {args.attack})"
        )
    channel = None if args.channel is None else _whole("--channel", args.channel, 0, MAX_CHANNEL)
    if args.normalize is not None and args.normalize not in NORMALIZE_CHOICES:
        raise UsageError(f"--normalize: must be {' or '.join(NORMALIZE_CHOICES)} (got {args.normalize})")
    try:
        return PreprocessSettings(sample_rate=rate, length=length, attack_seconds=attack, channel=channel, normalize=args.normalize)
    except SettingsError as error:  # the ranges above are inside the settings' own
        raise UsageError(str(error)) from None


def _check_paths(args):
    out = Path(args.output).absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {args.output}: exists and is not a folder")
    _finish_stopped_run(out)
    for source in args.sources:
        path = Path(source)
        if not path.exists():
            raise UsageError(f"{source}: no such file or folder")
        if path.is_dir() and path.resolve() == out.resolve():
            raise UsageError(f"-o {args.output}: the output folder cannot be a source folder")
    if args.preview is not None:
        _check_preview(args, out)
    return out


def _finish_stopped_run(out):
    """What a killed run left at ``out`` is finished before the sources are checked: a source
    folder inside ``out`` may be in that run's new set until then. Said in one note line."""
    from preprocessing.pipeline import finish_stopped_run
    from safeio import FolderBusy, WriteFailed

    try:
        note = finish_stopped_run(out)
    except (FolderBusy, WriteFailed) as error:
        raise CommandFailed(_shown(error)) from None
    if note:
        print(f"note: {_shown(note)}", file=sys.stderr)


def _inside(path, folder):
    """True when ``path`` is ``folder`` or lies anywhere under it (both resolved already)."""
    return path == folder or folder in path.parents


def _check_preview(args, out):
    """Refuse a --preview that would replace a user's file, before any work is done.

    Even with --force, never a source (a file given, or any file in a source folder) and
    never a file of the dataset folder (its WAVs, manifest, settings, caches, lock, or
    anything else in it). Paths are compared with their folders' links resolved, so
    ``OUT/./.lock`` or a link to a source folder is caught as well.
    """
    if not str(args.preview).strip():
        raise UsageError("--preview: give a file name, not an empty one")
    preview = Path(args.preview)
    # The name as a rename would replace it (its folder resolved, not the name itself) ...
    where = Path(os.path.realpath(preview.absolute().parent)) / preview.name
    # ... and what it leads to, for a preview that is a link.
    leads_to = Path(os.path.realpath(preview.absolute()))
    exists = os.path.lexists(preview)
    dataset = Path(os.path.realpath(out))
    if where == dataset or leads_to == dataset:
        raise UsageError(f"--preview {args.preview}: is the dataset folder (give a PNG file name)")
    # The preview is written last: where it cannot be, say so before the work, not after.
    folder = where.parent
    if not _inside(folder, dataset):
        if not folder.is_dir():
            raise CommandFailed(f"--preview {args.preview}: no such folder {folder}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandFailed(f"--preview {args.preview}: cannot write in {folder} (read-only or not yours; pick another --preview)")
    in_dataset = _inside(where, dataset) or _inside(leads_to, dataset)
    if in_dataset and (
        exists or where.name in _DATASET_FILES or where.suffix.lower() in (".wav", ".npy") or where.name.startswith(".")
    ):
        raise CommandFailed(f"{args.preview}: is a file of the dataset folder; it is never replaced (pick another --preview)")
    for source in args.sources:
        folder = Path(os.path.realpath(source))
        if exists and folder.is_dir() and not preview.is_dir() and (_inside(where, folder) or _inside(leads_to, folder)):
            raise CommandFailed(f"{args.preview}: is an input of this command; it is never replaced (pick another --preview)")
    sources = [source for source in args.sources if Path(source).is_file()]
    check_outputs([preview], force=args.force, inputs=sources, option="--preview")


def _shown(text):
    """Text safe to print: bytes of a file name that are not UTF-8 show as U+FFFD."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def run(args):
    settings = _settings(args)
    jobs = None if args.jobs is None else _whole("--jobs", args.jobs, 1, MAX_JOBS)
    out = _check_paths(args)

    from preprocessing.errors import PreprocessingError
    from preprocessing.pipeline import preprocess
    from safeio import FolderBusy, WriteFailed

    try:
        report = preprocess(args.sources, out, settings, jobs=jobs, progress=sys.stderr.isatty())
    except (PreprocessingError, FolderBusy, WriteFailed) as error:
        raise CommandFailed(_shown(error)) from None
    except OSError as error:
        raise CommandFailed(f"cannot write the dataset: {error.filename or out}: {error.strerror}") from None
    if report.cleaned_up:
        print(f"note: {_shown(report.cleaned_up)}", file=sys.stderr)
    for path, reason in report.passed_over:
        print(f"skipped: {_shown(path)}: {reason}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {_shown(warning)}", file=sys.stderr)
    for source, reason in report.failures:
        print(f"failed: {_shown(source)}: {reason}", file=sys.stderr)
    print(_shown(report.summary()))
    if args.preview:
        from preprocessing.preview import pick_examples, write_preview

        examples = pick_examples(out, report.rows, settings)
        try:
            write_preview(args.preview, examples, settings, overwrite=args.force)
        except OSError as error:  # safeio.WriteFailed: one line naming the file
            raise CommandFailed(f"cannot write the preview: {_shown(error)}") from None
        print(f"preview: {args.preview} ({len(examples)} samples)")
    if not report.ok_rows:
        raise CommandFailed(
            f"none of the {report.audio_count} audio files could be used; the reasons are above and in {out}/manifest.csv"
        )
    return 0
