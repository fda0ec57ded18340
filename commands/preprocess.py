"""Turn drum one-shots (files or folders, searched recursively) into a dataset folder.

The folder gets one float WAV per usable source (mono, resampled, peak moved to the
attack time, fixed length), manifest.csv with one row per source file seen, and
settings.json. A re-run skips outputs that are already up to date. A bad file is
reported with its reason and the batch carries on.
"""
import sys
from pathlib import Path

from commands import CommandFailed, UsageError
from commands.outputs import check_outputs

#: The dataset folder's own files: a --preview never takes one of these names, even with --force.
_DATASET_FILES = ("manifest.csv", "settings.json")


def add_arguments(parser):
    parser.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders (searched recursively)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="dataset folder to write (created if missing)")
    parser.add_argument("--sr", type=int, default=22050, metavar="HZ", help="output sample rate (default: 22050)")
    parser.add_argument("--length", type=int, default=16384, metavar="N", help="output length in samples (default: 16384)")
    parser.add_argument("--attack", type=float, default=0.01, metavar="SECONDS",
                        help="where the peak is placed, in seconds (default: 0.01)")
    parser.add_argument("--channel", type=int, default=None, metavar="N",
                        help="take channel N (0-based) instead of mixing down; mono files are used as they are")
    parser.add_argument("--normalize", choices=["peak"], default=None, help="scale each sample to a peak of 1.0")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: all cores)")
    parser.add_argument("--preview", metavar="FILE", help="also save a before/after plot of a few samples as PNG")
    parser.add_argument("--force", "--overwrite", dest="force", action="store_true",
                        help="replace an existing --preview FILE (never a source or a dataset file)")


def _settings(args):
    from preprocessing.errors import SettingsError
    from preprocessing.settings import PreprocessSettings

    try:
        settings = PreprocessSettings(
            sample_rate=args.sr, length=args.length, attack_seconds=args.attack,
            channel=args.channel, normalize=args.normalize,
        )
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if settings.attack_samples >= settings.length:
        raise UsageError(
            f"--attack {args.attack} s is sample {settings.attack_samples}, past the end of a "
            f"{settings.length}-sample output"
        )
    return settings


def _check_paths(args):
    out = Path(args.output).absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {args.output}: exists and is not a folder")
    for source in args.sources:
        path = Path(source)
        if not path.exists():
            raise UsageError(f"{source}: no such file or folder")
        if path.is_dir() and path.resolve() == out.resolve():
            raise UsageError(f"-o {args.output}: the output folder cannot be a source folder")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, not {args.jobs}")
    if args.preview is not None:
        _check_preview(args, out)
    return out


def _check_preview(args, out):
    """Refuse a --preview that would replace a user's file, before any work is done."""
    if not str(args.preview).strip():
        raise UsageError("--preview: give a file name, not an empty one")
    preview = Path(args.preview).absolute()
    if preview.parent == out and (preview.name in _DATASET_FILES or preview.suffix.lower() in (".wav", ".npy")):
        raise CommandFailed(f"{args.preview}: is a file of the dataset folder; it is never replaced (pick another --preview)")
    sources = [source for source in args.sources if Path(source).is_file()]
    check_outputs([Path(args.preview)], force=args.force, inputs=sources, option="--preview")


def _shown(text):
    """Text safe to print: bytes of a file name that are not UTF-8 show as U+FFFD."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def run(args):
    settings = _settings(args)
    out = _check_paths(args)

    from preprocessing.errors import PreprocessingError
    from preprocessing.pipeline import preprocess
    from safeio import FolderBusy, WriteFailed

    try:
        report = preprocess(args.sources, out, settings, jobs=args.jobs, progress=sys.stderr.isatty())
    except (PreprocessingError, FolderBusy, WriteFailed) as error:
        raise CommandFailed(_shown(error)) from None
    except OSError as error:
        raise CommandFailed(f"cannot write the dataset: {error.filename or out}: {error.strerror}") from None
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
