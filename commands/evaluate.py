"""evaluate: measure trained models on a dataset and write a comparison report.

Per model: reconstruction of held-out sounds (autoencoders; every sound when the model was
not trained on this data), realism (Fréchet distance of audio features; precision, recall,
density and coverage), the drum families of its grid and how recognisable they are,
coverage (NDB/K), diversity, memorisation, latent continuity (with a discontinuity
heat-map), clicks, noise floor, bitcrush and decode speed, and a 5 x 5 contact sheet;
for a model with family pads, their precision, coverage and control per family.
Reference rows show real training sounds, real held-out sounds and noise bursts scored
the same way. Metrics are cached and recomputed only when the model, the data or the options
change: those of the model's own training data in its folder (metrics.json, the entry the
window shows), those of any other data in the user cache (XDG_CACHE_HOME or ~/.cache,
ml-sample-generator/metrics), so the zoo is not written and may be read-only. The report
(report.md, metrics.csv, PNG charts) goes to REPORT, written as one set (staged beside it,
then swapped in); a REPORT that holds a previous report is kept unless --force.
"""

import sys
from pathlib import Path

from commands import CommandFailed, UsageError
from commands.options import add_zoo_argument

#: --grid's range. The grid is N x N decodes, a few rows at a time: the peak memory hardly moves
#: (ae_small_tanh, SAMPLE_LENGTH-sample data: 1.05 GB at 48, 1.17 GB at 512), the time grows as N
#: squared (26 s at 48, 130 s at 192, 32 min at 512 on 2 shared cores) and so does the cached
#: entry (5.5 MB at 512, inside the 16 MiB a metrics file is read to; 100000 would need 640 GB).
GRID_RANGE = (2, 512)


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="models to evaluate (default: every model in the registry)")
    parser.add_argument("--data", required=True, metavar="DIR", help="a preprocessed dataset folder (from 'app.py preprocess')")
    parser.add_argument(
        "-o",
        "--output",
        default="out/evaluation",
        metavar="REPORT",
        help="folder for report.md, metrics.csv and the charts (default: out/evaluation)",
    )
    add_zoo_argument(parser, help="folder of trained models (default: %(default)s)")
    parser.add_argument(
        "--grid",
        type=int,
        default=48,
        metavar="N",
        help=f"points per axis of the continuity grid, {GRID_RANGE[0]} to {GRID_RANGE[1]} (default: 48)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a previous report in REPORT, and recompute even when cached metrics are up to date",
    )


def _check_names(names, models_folder):
    from models.errors import UnknownModelError
    from models.imported import is_imported_folder
    from models.registry import MODEL_NAMES, get_spec

    for name in names:
        if is_imported_folder(models_folder, name):  # a model of its own card (app.py import-model)
            continue
        try:
            get_spec(name)
        except UnknownModelError as error:
            raise UsageError(str(error)) from None
    return list(dict.fromkeys(names)) or list(MODEL_NAMES)


def _check_report_folder(args):
    """Refuse a REPORT that would replace a user's files, before any work is done.

    The report folder is replaced as a whole (``evaluation.report.replace_report``), so it
    may not be, or hold, what this command reads or the folder the user works in.
    """
    import os

    from evaluation.report import previous_report_files
    from models.registry import MODEL_NAMES
    from safeio import CannotSwap, check_swappable

    if not str(args.output).strip():
        raise UsageError("-o: give a folder name, not an empty one")
    out = Path(args.output).absolute()
    if os.path.lexists(out) and not out.is_dir():
        raise UsageError(f"-o {args.output}: exists and is not a folder")
    real = Path(os.path.realpath(out))
    models = Path(os.path.realpath(args.models))
    held = [Path(os.path.realpath(args.data)), models, Path.cwd().resolve()]
    if any(real == path or real in path.parents for path in held) or (real.parent == models and real.name in MODEL_NAMES):
        raise CommandFailed(
            f"{args.output}: holds the data, the models or the current folder; the report needs a folder of its own (pick another -o)"
        )
    try:
        check_swappable(out, "a report folder")
    except CannotSwap as error:
        raise CommandFailed(str(error)) from None
    if previous_report_files(out) and not args.force:
        raise CommandFailed(f"{args.output}: holds a previous report (pass --force to replace it)")


def _load_data(folder, options):
    from evaluation.errors import EvaluationError
    from evaluation.reference import Reference
    from preprocessing.dataset import DatasetError, load_dataset

    try:
        dataset = load_dataset(folder)
    except DatasetError as error:
        raise CommandFailed(str(error)) from None
    try:
        train, validation = dataset.train(), dataset.validation()
        reference = Reference(
            train.audio, validation.audio, dataset.settings.sample_rate, options, train.families, validation.families
        )
    except EvaluationError as error:
        raise CommandFailed(f"{folder}: {error}") from None
    return dataset, reference


class _Bar:
    """The progress bar on stderr (only on a terminal), as :class:`evaluation.comparison.Progress`."""

    def __init__(self, total):
        from tqdm import tqdm

        self._bar = tqdm(
            total=total,
            unit="model",
            disable=not sys.stderr.isatty(),
            bar_format="{l_bar}{bar}| {n:.1f}/{total} [{elapsed}<{remaining}]",
        )

    def describe(self, text):
        self._bar.set_description(text)

    def reach(self, position):
        self._bar.update(position - self._bar.n)

    def note(self, text):
        self._bar.write(text, sys.stderr)

    def close(self):
        self._bar.close()


def _loader(models_folder):
    """``load(name)`` for :func:`evaluation.comparison.evaluate_models`: an unavailable model
    is an EvaluationError with its reason (the model is skipped)."""
    from evaluation.errors import EvaluationError
    from models.engine import load_runtime
    from models.errors import ModelUnavailableError
    from models.imported import is_imported_folder
    from models.keras_loader import load_trained
    from models.registry import get_spec

    def load(name):
        try:
            if is_imported_folder(models_folder, name):  # its own decoder (ONNX or Keras), no registry
                return load_runtime(name, models_folder)
            if get_spec(name).conditioned:  # [point, family]: the NumPy engine's runtime takes a family
                return load_runtime(name, models_folder)
            return load_trained(name, models_folder)
        except ModelUnavailableError as error:
            raise EvaluationError(str(error)) from None

    return load


def run(args):
    from evaluation.comparison import DataUnderTest, evaluate_models, write_comparison
    from evaluation.reference import EvaluationOptions

    low, high = GRID_RANGE
    if not low <= args.grid <= high:
        raise UsageError(f"--grid: must be between {low} and {high} (got {args.grid})")
    names = _check_names(args.names, args.models)
    _check_report_folder(args)
    dataset, reference = _load_data(args.data, EvaluationOptions(grid=args.grid))
    data = DataUnderTest(args.data, dataset, reference)
    bar = _Bar(len(names))
    comparison = evaluate_models(names, _loader(args.models), data, args.models, force=args.force, progress=bar)
    bar.close()
    for name, reason in comparison.unavailable.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not comparison.records:
        raise CommandFailed(
            "no model could be evaluated"
            + (f" ({len(comparison.unavailable)} unavailable, listed above)" if comparison.unavailable else "")
        )
    try:
        written = write_comparison(args.output, comparison, data, overwrite=args.force, log=lambda line: print(line, flush=True))
    except OSError as error:  # safeio's WriteFailed, FileExistsRefused, FolderBusy: one line
        raise CommandFailed(str(error)) from None
    print(written.table)
    print(f"report: {written.paths[0]} ({len(written.paths)} files in {args.output})")
    return 0
