"""Decode latent points of a trained model to WAV files.

``app.py generate vae_c --at 0.5,-1.2 -o snare.wav`` writes one file;
``app.py generate gan --at 0,0 --at 0.5,0.5 -o out/`` writes one file per point into the
folder, named after the model and the point (``gan_x+0.50_y+0.50.wav``). Files are float
WAV at the model's sample rate unless --rate/--format say otherwise. An existing file is
replaced only with --force. Points are decoded and written a chunk at a time, so memory
stays flat whatever their count (with a progress bar on a terminal).

``--variations N`` writes N variations of each point (``gan_x+0.50_y+0.50_v1.wav`` ...): a
new noise seed each for a model with a noise source (ddsp_vae), a small seeded offset around
the point for the others. A JSON sidecar beside each file records the seed and offset, so
each variation can be recalled exactly. ``--nearest`` prints the training sounds nearest
each point.
"""
import math
import re
import sys
from pathlib import Path

from commands import CommandFailed, UsageError, one_line_errors
from commands.outputs import add_force_argument, check_outputs, nonempty_output

# argparse takes "-0.5,1" for an option (it only knows bare negative numbers); points
# with a negative X must still work as "--at -0.5,1", not only as "--at=-0.5,1". "-inf,0"
# must reach parse_point too, which refuses it in one line (argparse would print usage).
NEGATIVE_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\w.+-]*,")

#: No model's latent square reaches this far; beyond it float32 overflows to inf.
COORDINATE_LIMIT = 1e6

#: Points decoded (and written) at a time: 256 x 16384 float32 is 16 MiB.
DECODE_CHUNK = 256

#: ``--rate``: telephone quality to twice a studio's 96 kHz. A rate is memory and disk: 2 GHz
#: made a 5.9 GB WAV out of one drum hit.
MIN_RATE, MAX_RATE = 8000, 192000

#: ``--seed``: the variations reduce a seed modulo 2**32 (models.variation.MAX_SEED), so
#: outside this range two seeds would name the same variations.
MAX_SEED = 2**32 - 1

MAX_VARIATIONS = 1000


def allow_negative_points(parser):
    """Let ``--at -0.5,1`` parse: treat "-<number>,..." as a value, not an option."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = NEGATIVE_POINT


def _shown(value):
    return str(value) if isinstance(value, int) else f"{value:g}"


def _range_text(low, high, unit, above_low):
    unit = f" {unit}" if unit else ""
    first = f"more than {_shown(low)} and at most" if above_low else f"between {_shown(low)} and"
    return f"{first} {_shown(high)}{unit}"


def check_range(value, option, low, high, unit="", *, above_low=False):
    """UsageError naming the allowed range unless ``low <= value <= high`` (and finite).

    ``above_low`` excludes ``low`` itself (a loop of 0 seconds). None (not given) passes.
    """
    if value is None:
        return
    inside = math.isfinite(value) and (low < value if above_low else low <= value) and value <= high
    if not inside:
        raise UsageError(f"{option}: must be {_range_text(low, high, unit, above_low)} (got {_shown(value)})")


def number_type(kind, low, high, unit="", *, above_low=False):
    """An argparse ``type``: ``kind(text)``, or one line naming the range for text that is
    not a number of that kind (the range itself is checked by :func:`check_range`)."""
    import argparse

    what = "a whole number" if kind is int else "a number"

    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {what} {_range_text(low, high, unit, above_low)} (got {text!r})") from None

    return parse


def add_arguments(parser):
    allow_negative_points(parser)
    one_line_errors(parser)
    parser.add_argument("name", metavar="NAME", help="a registry name (see `app.py models`)")
    parser.add_argument("--at", action="append", required=True, metavar="X,Y",
                        help="a latent point; repeat for several")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="a .wav file for one point, or a folder (created) for several")
    parser.add_argument("--models", "--folder", dest="folder", default="trained", metavar="DIR",
                        help="the zoo folder (default: trained)")
    parser.add_argument("--rate", type=number_type(int, MIN_RATE, MAX_RATE, "Hz"), metavar="HZ",
                        help=f"resample the files to this rate, {MIN_RATE} to {MAX_RATE} (default: the model's)")
    parser.add_argument("--format", default="FLOAT", choices=("FLOAT", "PCM_24", "PCM_16"),
                        help="WAV sample format (default FLOAT)")
    parser.add_argument("--normalize", action="store_true", help="scale each file to a peak just under 0 dBFS")
    add_force_argument(parser)
    parser.add_argument("--variations", type=number_type(int, 1, MAX_VARIATIONS), metavar="N",
                        help="write N variations of each point, each with a recall sidecar (.json)")
    parser.add_argument("--seed", type=number_type(int, 0, MAX_SEED), metavar="S",
                        help="seed of the variations (default: a new one, recorded in the sidecars)")
    parser.add_argument("--nearest", action="store_true",
                        help="print the 5 training sounds nearest each point (latent plane and sound features)")
    parser.add_argument("--data", metavar="DIR",
                        help="the training dataset for --nearest in sound features (default: the model card's)")


def parse_point(text):
    """``"X,Y"`` -> (x, y); UsageError with the reason otherwise."""
    if not isinstance(text, str):
        # argparse drops a "--" value (``--at=--``) and hands over an empty list
        text = "--"
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        point = (float(parts[0]), float(parts[1]))
    except ValueError:
        raise UsageError(f"--at {text!r}: a point is two numbers X,Y (e.g. --at 0.5,-1.2)") from None
    if not all(math.isfinite(v) for v in point):
        raise UsageError(f"--at {text!r}: the coordinates must be finite numbers")
    if not all(abs(v) <= COORDINATE_LIMIT for v in point):
        raise UsageError(f"--at {text!r}: the coordinates must lie between {-COORDINATE_LIMIT:g} "
                         f"and {COORDINATE_LIMIT:g}")
    return point


def spec_or_usage_error(name):
    """The registry spec of ``name``; UsageError (exit 2) listing the valid names."""
    from models.errors import UnknownModelError
    from models.registry import get_spec

    try:
        return get_spec(name)
    except UnknownModelError as error:
        raise UsageError(str(error)) from None


def load_or_fail(name, folder):
    """The trained model on the NumPy engine (no TensorFlow); CommandFailed (exit 1) with
    the reason when it is unavailable."""
    from models.engine import load_runtime
    from models.errors import ModelUnavailableError

    try:
        return load_runtime(name, folder)
    except ModelUnavailableError as error:
        raise CommandFailed(f"{name} is unavailable: {error}") from None


def output_paths(name, points, output, variations=None):
    """Where each point's WAV goes: the file itself for one point (or a file named after
    the point inside an existing folder), else files named after the points in a folder.

    With ``variations`` N, each point has N files (``..._v1.wav`` to ``..._vN.wav``), in
    point order; one point and N = 1 may still name a .wav file.
    """
    from audio.export import favourite_stem

    output = Path(output)
    per_point = variations or 1
    if len(points) * per_point == 1 and not output.is_dir():
        if output.suffix.lower() != ".wav":
            raise UsageError(f"-o {output}: give a .wav file name, or an existing folder")
        return [output]
    if output.suffix.lower() == ".wav":
        what = f"{len(points)} points" if variations is None else f"{len(points) * per_point} variations"
        raise UsageError(f"-o {output}: {what} need a folder, not a .wav file")
    paths, seen = [], {}
    for point in points:
        stem = favourite_stem(name, point)
        seen[stem] = seen.get(stem, 0) + 1
        # Points closer than the name's rounding must not overwrite each other.
        stem = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        if variations is None:
            paths.append(output / f"{stem}.wav")
        else:
            paths += [output / f"{stem}_v{index}.wav" for index in range(1, variations + 1)]
    return paths


def remove_dead_wavs(folder):
    """Remove what a killed generate left in ``folder`` (``.NAME.wav.PID.RAND.tmp`` and its
    sidecar's) and say so on stderr, in one line."""
    from safeio import remove_dead_temporaries, removed_line

    folder = Path(folder)
    if folder.is_dir():
        removed = remove_dead_temporaries(folder, of=lambda name: name.lower().endswith((".wav", ".json")))
        if removed:
            print(removed_line(folder, removed), file=sys.stderr)


def run(args):
    spec_or_usage_error(args.name)
    points = [parse_point(text) for text in args.at]
    if args.variations is not None and not 1 <= args.variations <= MAX_VARIATIONS:
        raise UsageError(f"--variations must be 1 to {MAX_VARIATIONS}, not {args.variations}")
    if args.seed is not None and args.variations is None:
        raise UsageError("--seed needs --variations N")
    check_range(args.seed, "--seed", 0, MAX_SEED)
    check_range(args.rate, "--rate", MIN_RATE, MAX_RATE, "Hz")
    paths = output_paths(args.name, points, nonempty_output(args.output), args.variations)
    model_files = [p for p in (Path(args.folder) / args.name).glob("*") if p.is_file()]
    check_outputs(paths, force=args.force, inputs=model_files)
    if args.variations is not None:
        from audio.export import sidecar_path

        check_outputs([sidecar_path(path) for path in paths], force=args.force, inputs=model_files)
    model = load_or_fail(args.name, args.folder)
    remove_dead_wavs(paths[0].parent)

    import numpy as np
    from tqdm import tqdm

    if args.variations is not None:
        write_variations(args, model, points, paths)
        if args.nearest:
            print_nearest(args, model, points)
        return 0

    from audio.errors import AudioError
    from audio.export import write_wav

    try:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandFailed(f"{paths[0].parent}: cannot make the folder ({error.strerror})") from None
    many = len(points) > DECODE_CHUNK
    with tqdm(total=len(points), unit="file", file=sys.stderr,
              disable=not (many and sys.stderr.isatty())) as bar:
        for start in range(0, len(points), DECODE_CHUNK):
            chunk = points[start:start + DECODE_CHUNK]
            audio = model.decode(np.asarray(chunk, dtype=np.float32))
            for point, path, samples in zip(chunk, paths[start:start + DECODE_CHUNK], audio):
                try:
                    write_wav(path, samples, model.sample_rate, out_rate=args.rate, subtype=args.format,
                              normalize=args.normalize, overwrite=args.force)
                except AudioError as error:
                    raise CommandFailed(str(error)) from None
                line = f"{path}  ({args.name} at {point[0]:g},{point[1]:g}; peak {np.max(np.abs(samples)):.3f})"
                if bar.disable:
                    print(line)
                else:
                    bar.write(line, file=sys.stdout)
                bar.update()
            del audio
    if args.nearest:
        print_nearest(args, model, points)
    return 0


def training_features_or_reason(args, model):
    """The training sounds' features for --nearest, or the one-line reason there are none."""
    from evaluation.nearest import TrainingFeatures
    from preprocessing.dataset import load_dataset
    from preprocessing.errors import PreprocessingError

    folder = args.data or (model.card.get("data") or {}).get("folder")
    if not folder:
        return None, "the model card names no dataset; pass --data DIR"
    if not Path(folder).is_dir():
        return None, f"the dataset {folder} is not on this machine; pass --data DIR"
    try:
        return TrainingFeatures.of_dataset(load_dataset(folder)), None
    except PreprocessingError as error:
        return None, f"the dataset cannot be read: {error}"


def print_nearest(args, model, points):
    """Print the training sounds nearest each point: in the latent plane, in sound features."""
    import numpy as np

    from evaluation.nearest import nearest_in_features, nearest_in_plane

    codes = getattr(model, "codes", None)
    training, reason = training_features_or_reason(args, model)
    for point in points:
        samples = model.decode(np.asarray([point], dtype=np.float32))[0]
        print(f"nearest training sounds to {args.name} at {point[0]:g},{point[1]:g}:")
        if codes is None or len(codes) == 0:
            print(f"  in the latent plane: none, {args.name} has no training codes")
        else:
            print("  in the latent plane:")
            kits = None if training is None else dict(zip(training.files, training.kits))
            for rank, near in enumerate(nearest_in_plane(codes, point, kits_by_file=kits), start=1):
                print(f"    {rank}. {near.describe()}")
        if training is None:
            print(f"  in sound features: none, {reason}")
        else:
            print("  in sound features:")
            for rank, near in enumerate(nearest_in_features(training, samples, model.sample_rate), start=1):
                print(f"    {rank}. {near.describe()}")


def write_variations(args, model, points, paths):
    """Write ``args.variations`` variations of each point, each with its recall sidecar."""
    import secrets

    import numpy as np

    from audio.errors import AudioError
    from audio.export import recall_text, sidecar_path, write_wav
    from models.variation import decode_variation, plan_variations
    from safeio import WriteFailed, atomic_write_text

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    try:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandFailed(f"{paths[0].parent}: cannot make the folder ({error.strerror})") from None
    files = iter(paths)
    for point in points:
        for variation in plan_variations(model, point, args.variations, seed, first=1):
            path = next(files)
            samples = decode_variation(model, point, variation)
            try:
                file_rate = model.sample_rate if args.rate is None else args.rate
                sidecar = recall_text(model=args.name, point=point,
                                      settings={"variation": variation.to_dict(point)},
                                      sample_rate=model.sample_rate, file_rate=file_rate,
                                      subtype=args.format, normalize=args.normalize)
                write_wav(path, samples, model.sample_rate, out_rate=args.rate, subtype=args.format,
                          normalize=args.normalize, overwrite=args.force)
                atomic_write_text(sidecar_path(path), sidecar, overwrite=args.force)
            except AudioError as error:
                raise CommandFailed(str(error)) from None
            except WriteFailed as error:
                raise CommandFailed(error.strerror or str(error)) from None
            offset = variation.offset
            how = (f"noise seed {variation.noise_seed}" if variation.noise_seed is not None
                   else f"offset {offset[0]:+.3f},{offset[1]:+.3f}")
            print(f"{path}  ({args.name} at {point[0]:g},{point[1]:g}, variation {variation.index} "
                  f"of seed {seed}: {how}; peak {np.max(np.abs(samples)):.3f})")
    return 0
