"""Train models on a preprocessed dataset folder and write them to trained/<name>/.

Examples: ``app.py train ae_small_tanh --data data/kits --epochs 50``,
``app.py train --all --data data/kits --float16``, ``app.py train gan --data data/kits
--epochs 200 --resume`` (continues from trained/gan/checkpoint up to epoch 200).

Each model gets decoder.keras, encoder.keras (not the GAN), codes.npz, card.json,
history.csv and loss.png; checkpoint/ (git-ignored) holds the state for --resume. A batch
of models never stops at one that fails: each failure is reported and the exit status is 1.
A --resume whose checkpoint already has the epochs asked for is nothing to train (exit 0).
What a killed run left (an interrupted save, temporary files, a stale lock) is finished or
removed first, one line each. Every number has a range (BOUNDS); outside it is exit 2.
"""

import sys
from pathlib import Path

from commands import CommandFailed, UsageError
from constants import LOSSES


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="registry names (see `app.py models`)")
    parser.add_argument("--all", action="store_true", help="train every model in the registry")
    parser.add_argument("--data", required=True, metavar="DIR", help="a preprocessed dataset folder")
    parser.add_argument("--out", default="trained", metavar="DIR", help="the zoo folder (default: trained)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="epochs to reach in total (with --resume: including those done), 1 to 100000; default 20",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="1 to 1024; default 32")
    parser.add_argument("--seed", type=int, default=0, help="random seed, 0 to 2**32-1; runs are deterministic (default 0)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/NAME/checkpoint instead of starting afresh")
    parser.add_argument("--width", type=int, help="base filter count of conv_ae, gan and the VAEs (1 to 256)")
    parser.add_argument(
        "--kl-ramp",
        type=int,
        metavar="BATCHES",
        help="VAEs: batches over which the KL weight ramps up, 0 to 100000000 (default 30000)",
    )
    parser.add_argument("--learning-rate", type=float, help="override the model's default learning rate (1e-08 to 1)")
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        help="AEs and VAEs: reconstruction loss (default spectral_floored: "
        "multi-resolution STFT + waveform, levels under -80 dB re full scale "
        "counted as silence; spectral: the same down to about -150 dB; mse: the "
        "seed's waveform MSE)",
    )
    parser.add_argument("--float16", action="store_true", help="store the shipped weights as float16 (half the size)")
    parser.add_argument(
        "--no-validation", dest="validation", action="store_false", help="do not evaluate on the dataset's validation kits each epoch"
    )
    parser.add_argument(
        "--patience",
        type=int,
        metavar="EPOCHS",
        help="stop when the (validation) loss has not improved for this many epochs (0 to 100000)",
    )
    parser.add_argument("--min-delta", type=float, default=0.0, help="improvement that counts, for --patience (0 to 1000)")
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), help="Keras progress: 1 bar, 2 a line per epoch (default: 1 on a terminal, else 2)"
    )


def chosen_names(args):
    """The registry names the command line asks for (UsageError when none or unknown)."""
    from models.errors import UnknownModelError
    from models.registry import MODEL_NAMES, TRAINABLE_NAMES, get_spec

    if args.all and args.names:
        raise UsageError("give model names or --all, not both")
    if args.all:
        return list(MODEL_NAMES)
    if not args.names:
        raise UsageError(f"name the models to train, or --all; valid names: {', '.join(TRAINABLE_NAMES)}")
    try:
        return [get_spec(name).name for name in dict.fromkeys(args.names)]
    except UnknownModelError as error:
        raise UsageError(str(error)) from None


def overrides_for(spec, args):
    """The settings the command line changes for one model (only those it has)."""
    asked = {"width": args.width, "kl_ramp": args.kl_ramp, "learning_rate": args.learning_rate, "loss": args.loss}
    return {k: v for k, v in asked.items() if v is not None and k in spec.defaults}


def training_data(folder):
    """Load a dataset folder and adapt it to ``models.training.TrainingData``."""
    from models.training import TrainingData
    from preprocessing.dataset import DatasetError, load_dataset

    if not Path(folder).is_dir():
        raise CommandFailed(f"{folder}: no such folder")
    try:
        dataset = load_dataset(folder)
    except DatasetError as error:
        raise CommandFailed(str(error)) from None
    return TrainingData(
        audio=dataset.audio,
        is_validation=dataset.is_validation,
        sample_rate=dataset.settings.sample_rate,
        families=dataset.families,
        names=dataset.names,
        files=dataset.files,
        folder=str(dataset.folder),
        preprocessing=dataset.settings.to_dict(),
        validation_kits=list(dataset.validation_kits),
    )


#: The range of each number the command line takes: (option, attribute, low, high), both ends
#: allowed. A number outside (NaN and infinities included) is a usage error naming the range.
BOUNDS = (
    ("--epochs", "epochs", 1, 100_000),
    # a batch is held whole with its activations: 1024 full-length sounds is already GBs
    ("--batch-size", "batch_size", 1, 1024),
    ("--seed", "seed", 0, 2**32 - 1),  # NumPy's and TensorFlow's seed range
    # the conv stacks' filters grow to 16 x width: 256 is a 200 M-parameter conv_ae
    ("--width", "width", 1, 256),
    ("--kl-ramp", "kl_ramp", 0, 100_000_000),  # batches; 0 is the full KL weight at once
    # a step above 1 makes every model here diverge; below 1e-8 nothing moves in float32
    ("--learning-rate", "learning_rate", 1e-8, 1.0),
    ("--patience", "patience", 0, 100_000),
    ("--min-delta", "min_delta", 0.0, 1000.0),
)


def _number(value):
    return str(value) if isinstance(value, int) else f"{value:g}"


def check_bounds(args):
    """Raise UsageError, one line giving the allowed range, for a number out of bounds."""
    for option, attribute, low, high in BOUNDS:
        value = getattr(args, attribute)
        if value is not None and not low <= value <= high:  # NaN fails both comparisons
            raise UsageError(f"{option}: must be between {_number(low)} and {_number(high)} (got {_number(value)})")


def _note(line):
    print(line, flush=True)


#: A sound labelled ``unknown`` or ``other`` trains a conditioned model with the family the
#: shipped classifier gives it when the classifier is at least this sure; else it is left out.
CONFIDENT = 0.8


def with_classified_families(data, classifier_file):
    """``data`` for a conditioned model: each unlabelled sound (``unknown``, ``other``) given
    the family the classifier is sure of, and ``family_sources`` counting where the
    training sounds' families came from."""
    from dataclasses import replace

    import numpy as np

    from constants import DRUM_FAMILIES
    from evaluation.families import FamilyClassifier, FamilyFileError

    families = np.array(data.families, dtype=object)
    unlabelled = ~np.isin(families, DRUM_FAMILIES)
    train = ~data.is_validation
    sources = {"label": int((~unlabelled & train).sum()), "classifier": 0, "left_out": 0, "threshold": CONFIDENT}
    try:
        classifier = FamilyClassifier.load(classifier_file)
    except (OSError, FamilyFileError) as error:
        print(f"app.py train: {error}; unlabelled sounds are left out", file=sys.stderr)
        classifier = None
    if classifier is not None and unlabelled.any():
        chances = classifier.predict_proba(data.audio[unlabelled], data.sample_rate)
        best = chances.argmax(axis=1)
        sure = chances.max(axis=1) >= CONFIDENT
        rows = np.flatnonzero(unlabelled)
        families[rows[sure]] = [classifier.families[i] for i in best[sure]]
        sources["classifier"] = int((sure & train[rows]).sum())
    sources["left_out"] = int((~np.isin(families, DRUM_FAMILIES) & train).sum())
    return replace(data, families=families.astype(str), family_sources=sources)


def refuse_unswappable_folder(names, out):
    """One model's folder that a save cannot be swapped into (a link, a mount point) is
    refused before the data is read (CommandFailed). In a batch each such model is refused
    by ``train_model`` in its turn, and the others are trained."""
    from safeio import CannotSwap, check_swappable

    if len(names) == 1:
        try:
            check_swappable(Path(out) / names[0], "a model folder")
        except CannotSwap as error:
            raise CommandFailed(str(error)) from None


def run(args):
    names = chosen_names(args)
    check_bounds(args)
    refuse_unswappable_folder(names, args.out)
    data = training_data(args.data)

    from models.errors import ModelError
    from models.registry import get_spec
    from models.training import TrainOptions, train_model
    from safeio import FolderBusy, WriteFailed

    options = TrainOptions(
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        resume=args.resume,
        float16=args.float16,
        validation=args.validation,
        patience=args.patience,
        min_delta=args.min_delta,
        verbose=args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2),
    )
    print(
        f"data: {data.folder}: {int((~data.is_validation).sum())} training and "
        f"{int(data.is_validation.sum())} validation samples of {data.length} at {data.sample_rate} Hz"
    )
    results, failures = [], []
    for name in names:
        print(f"== {name}", flush=True)
        model_data = data
        if get_spec(name).conditioned:
            model_data = with_classified_families(data, Path(__file__).resolve().parents[1] / "trained" / "families.json")
            print(
                f"families: {model_data.family_sources['label']} from labels, "
                f"{model_data.family_sources['classifier']} from the classifier, "
                f"{model_data.family_sources['left_out']} left out",
                flush=True,
            )
        try:
            results.append(train_model(name, model_data, args.out, options, log=_note, **overrides_for(get_spec(name), args)))
        except (ModelError, FolderBusy, WriteFailed) as error:
            # A full disk or a folder in use stops this model; the batch goes on.
            if len(names) == 1:
                raise CommandFailed(str(error)) from None
            print(f"app.py train: {error}", file=sys.stderr, flush=True)
            failures.append(name)
    for result in results:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items() if k.endswith("loss") or k.endswith("w_distance"))
        print(f"{result.name}: {result.epochs} epochs, {result.seconds:.0f} s, {losses} ({result.stopped}) -> {result.folder}")
    if failures:
        raise CommandFailed(f"{len(failures)} of {len(names)} failed: {', '.join(failures)}")
    return 0
