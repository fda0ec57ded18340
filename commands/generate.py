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

import sys
from pathlib import Path

from commands import CommandFailed, UsageError, one_line_errors
from commands.options import (
    MAX_SEED,
    add_family_arguments,
    add_seconds_argument,
    add_zoo_argument,
    allow_negative_points,
    check_range,
    family_file_part,
    family_for_model,
    family_of_args,
    family_option,
    frame_points,
    imported_at,
    load_or_fail,
    number_type,
    parse_at,
    render_length_or_usage_error,
    spec_or_usage_error,
    zoo_of,
)
from commands.outputs import (
    add_force_argument,
    check_outputs,
    make_output_folder,
    nonempty_output,
    remove_dead_outputs,
    remove_made_folders,
)
from constants import MAX_RATE, MIN_RATE

#: Points decoded (and written) at a time: 256 sounds of SAMPLE_LENGTH float32 are 16 MiB.
DECODE_CHUNK = 256

MAX_VARIATIONS = 1000


def add_arguments(parser):
    allow_negative_points(parser)
    one_line_errors(parser)
    parser.add_argument("name", metavar="NAME", help="a registry name (see `app.py models`)")
    parser.add_argument(
        "--at",
        action="append",
        required=True,
        metavar="X,Y",
        help=(
            "a latent point; repeat for several (an imported model also takes its full vector, D numbers; "
            "ddsp_cvae its family's frame, 16: the pad's X,Y and the offsets along the family's other axes)"
        ),
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="a .wav file for one point, or a folder (created) for several"
    )
    add_zoo_argument(parser)
    parser.add_argument(
        "--rate",
        type=number_type(int, MIN_RATE, MAX_RATE, "Hz"),
        metavar="HZ",
        help=f"resample the files to this rate, {MIN_RATE} to {MAX_RATE} (default: the model's)",
    )
    parser.add_argument("--format", default="FLOAT", choices=("FLOAT", "PCM_24", "PCM_16"), help="WAV sample format (default FLOAT)")
    parser.add_argument("--normalize", action="store_true", help="scale each file to a peak just under 0 dBFS")
    add_force_argument(parser)
    parser.add_argument(
        "--variations",
        type=number_type(int, 1, MAX_VARIATIONS),
        metavar="N",
        help="write N variations of each point, each with a recall sidecar (.json)",
    )
    parser.add_argument(
        "--seed",
        type=number_type(int, 0, MAX_SEED),
        metavar="S",
        help="seed of the variations (default: a new one, recorded in the sidecars)",
    )
    add_family_arguments(parser)
    add_seconds_argument(parser)
    parser.add_argument(
        "--nearest", action="store_true", help="print the 5 training sounds nearest each point (latent plane and sound features)"
    )
    parser.add_argument(
        "--data", metavar="DIR", help="the training dataset for --nearest in sound features (default: the model card's)"
    )


def output_paths(name, points, output, variations=None):
    """Where each point's WAV goes: the file itself for one point (or a file named after
    the point inside an existing folder), else files named after the points in a folder.

    With ``variations`` N, each point has N files (``..._v1.wav`` to ``..._vN.wav``), in
    point order; one point and N = 1 may still name a .wav file.
    """
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
        stem = point_stem(name, point)
        seen[stem] = seen.get(stem, 0) + 1
        # Points closer than the name's rounding must not overwrite each other.
        stem = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        if variations is None:
            paths.append(output / f"{stem}.wav")
        else:
            paths += [output / f"{stem}_v{index}.wav" for index in range(1, variations + 1)]
    return paths


def point_stem(name, point):
    """A file stem for a point: ``NAME_x+0.50_y-1.20`` for a pad point; a full vector of an
    imported model adds its size and a digest of its numbers (``..._d8-1a2b3c4d``)."""
    from audio.export import favourite_stem, vector_tag

    if len(point) == 2:
        return favourite_stem(name, point)
    return f"{favourite_stem(name, point[:2])}_{vector_tag(point)}"


def point_text(point):
    """``0.5,-1.2`` (or the whole vector's numbers)."""
    return ",".join(f"{value:g}" for value in point)


def imported_points(args, spec):
    """The ``--at`` points of an imported model: X,Y on its pad or its full vector (D
    numbers); UsageError for another count or an option it does not take yet."""
    if args.nearest:
        raise UsageError(f"--nearest: not yet for an imported model ({args.name})")
    return imported_at(args, spec)


def run(args):
    args.models = zoo_of(args.name, args.models)
    spec = spec_or_usage_error(args.name, args.models)
    imported = spec.kind == "imported"
    family = None if imported else family_of_args(args, spec)
    points = imported_points(args, spec) if imported else [parse_at(text, spec) for text in args.at]
    if args.variations is not None and not 1 <= args.variations <= MAX_VARIATIONS:
        raise UsageError(f"--variations must be 1 to {MAX_VARIATIONS}, not {args.variations}")
    if args.seed is not None and args.variations is None:
        raise UsageError("--seed needs --variations N")
    check_range(args.seed, "--seed", 0, MAX_SEED)
    check_range(args.rate, "--rate", MIN_RATE, MAX_RATE, "Hz")

    stem = args.name
    if family is not None:  # the family is in the file's name: ddsp_cvae_snare_x..., ddsp_cvae_kick0.6-tom0.4_x...
        stem = f"{args.name}_{family_file_part(family)}"
    paths = output_paths(stem, points, nonempty_output(args.output), args.variations)
    model_files = [p for p in (Path(args.models) / args.name).glob("*") if p.is_file()]
    check_outputs(paths, force=args.force, inputs=model_files)
    if args.variations is not None:
        from audio.recall import sidecar_path

        check_outputs([sidecar_path(path) for path in paths], force=args.force, inputs=model_files)
    model = load_or_fail(args.name, args.models)
    if imported:  # every point as the full vector it decodes (a pad point's other axes at their centre)
        points = [tuple(float(f"{v:.7g}") for v in model.full_vectors([point])[0]) for point in points]
    else:  # a family frame's whole vectors (ddsp_cvae's), before anything is written
        points = frame_points(args.name, model, args.at, points)
        if args.nearest and any(len(point) > 2 for point in points):
            raise UsageError(f"--nearest: not yet for a whole vector ({args.name})")
    family = family_for_model(model, family_option(args), family)  # before anything is written
    render_length_or_usage_error(model, args.seconds)
    remove_dead_outputs(paths[0].parent)

    # A run that fails (a full disk) takes back the empty folders it made for its files.
    made = make_output_folder(paths[0].parent)
    try:
        if args.variations is not None:
            write_variations(args, model, points, paths, family)
        else:
            write_points(args, model, points, paths, family)
    except BaseException:
        remove_made_folders(made)
        raise
    if args.nearest:
        print_nearest(args, model, points, family)
    return 0


def write_sound(args, model, path, samples):
    """Write one decoded sound as the command line asks (rate, format, normalising, overwriting)."""
    from audio.export import write_wav

    write_wav(
        path, samples, model.sample_rate, out_rate=args.rate, subtype=args.format, normalize=args.normalize, overwrite=args.force
    )


def write_points(args, model, points, paths, family=None):
    """Decode each point (a chunk at a time) and write it to its path, one line each."""
    import numpy as np
    from tqdm import tqdm

    from audio.errors import AudioError
    from models.families import family_text

    many = len(points) > DECODE_CHUNK
    with tqdm(total=len(points), unit="file", file=sys.stderr, disable=not (many and sys.stderr.isatty())) as bar:
        for start in range(0, len(points), DECODE_CHUNK):
            chunk = points[start : start + DECODE_CHUNK]
            audio = model.decode(np.asarray(chunk, dtype=np.float32), **decode_options(family, args.seconds))
            for point, path, samples in zip(chunk, paths[start : start + DECODE_CHUNK], audio):
                try:
                    write_sound(args, model, path, samples)
                except AudioError as error:
                    raise CommandFailed(str(error)) from None
                said = "" if family is None else f", {family_text(family)}"
                line = f"{path}  ({args.name} at {point_text(point)}{said}; peak {np.max(np.abs(samples)):.3f})"
                if bar.disable:
                    print(line)
                else:
                    bar.write(line, file=sys.stdout)
                bar.update()
            del audio


def decode_options(family, seconds):
    """The keywords of a decode: the family (a conditioned model's input, or the family pad
    of another), and a length other than the trained window's (only those given, so that
    the decodes of models that take neither get none)."""
    options = {} if family is None else {"family": family}
    return options if seconds is None else {**options, "seconds": seconds}


def training_features_or_reason(args, model):
    """The training sounds' features for --nearest, or the one-line reason there are none."""
    from evaluation.nearest import TrainingFeatures
    from preprocessing.dataset import load_dataset
    from preprocessing.errors import PreprocessingError

    folder = args.data or model.card.data_folder
    if not folder:
        return None, "the model card names no dataset; pass --data DIR"
    if not Path(folder).is_dir():
        return None, f"the dataset {folder} is not on this machine; pass --data DIR"
    try:
        return TrainingFeatures.of_dataset(load_dataset(folder)), None
    except PreprocessingError as error:
        return None, f"the dataset cannot be read: {error}"


def print_nearest(args, model, points, family=None):
    """Print the training sounds nearest each point: in the latent plane (where the point
    plays, on a family's pad), in sound features (of the sound it plays)."""
    import numpy as np

    from evaluation.nearest import nearest_in_features, nearest_in_plane

    codes = model.codes
    training, reason = training_features_or_reason(args, model)
    for point in points:
        samples = model.decode(np.asarray([point], dtype=np.float32), **decode_options(family, None))[0]
        # on a family pad the point plays the latent point it maps to; near that are its neighbours
        where = point if family is None else tuple(float(v) for v in model.pad_to_latent([point], family)[0])
        print(f"nearest training sounds to {args.name} at {point[0]:g},{point[1]:g}:")
        if codes is None or len(codes) == 0:
            print(f"  in the latent plane: none, {args.name} has no training codes")
        else:
            print("  in the latent plane:")
            kits = None if training is None else dict(zip(training.files, training.kits))
            for rank, near in enumerate(nearest_in_plane(codes, where, kits_by_file=kits), start=1):
                print(f"    {rank}. {near.describe()}")
        if training is None:
            print(f"  in sound features: none, {reason}")
        else:
            print("  in sound features:")
            for rank, near in enumerate(nearest_in_features(training, samples, model.sample_rate), start=1):
                print(f"    {rank}. {near.describe()}")


def write_variations(args, model, points, paths, family=None):
    """Write ``args.variations`` variations of each point, each with its recall sidecar."""
    import secrets

    import numpy as np

    from audio.errors import AudioError
    from audio.export import recall_text
    from audio.recall import sidecar_path
    from models.variation import decode_variation, plan_variations
    from safeio import WriteFailed, atomic_write_text, one_line

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    files = iter(paths)
    for point in points:
        wide = len(point) > 2  # an imported model's whole vector: varied on all its axes
        pad_point = tuple(point[axis] for axis in model.pad_axes) if wide else point
        for variation in plan_variations(model, point, args.variations, seed, first=1):
            path = next(files)
            samples = decode_variation(model, point, variation, family=family, seconds=args.seconds)
            settings = {"variation": variation.to_dict(point)}
            if wide:  # what it was varied from, as the window's favourites keep a wide latent
                settings["latent"] = [float(v) for v in point]
            if args.seconds is not None:
                settings["seconds"] = args.seconds
            if family is not None:
                from models.families import family_text

                settings["family"] = family_text(family)
            try:
                file_rate = model.sample_rate if args.rate is None else args.rate
                sidecar = recall_text(
                    model=args.name,
                    point=pad_point,
                    settings=settings,
                    sample_rate=model.sample_rate,
                    file_rate=file_rate,
                    subtype=args.format,
                    normalize=args.normalize,
                )
                write_sound(args, model, path, samples)
                atomic_write_text(sidecar_path(path), sidecar, overwrite=args.force)
            except AudioError as error:
                raise CommandFailed(str(error)) from None
            except WriteFailed as error:
                raise CommandFailed(one_line(error)) from None
            offset = variation.offset
            how = (
                f"noise seed {variation.noise_seed}"
                if variation.noise_seed is not None
                else f"offset {','.join(f'{v:+.3f}' for v in offset)}"
            )
            print(
                f"{path}  ({args.name} at {point_text(point)}, variation {variation.index} "
                f"of seed {seed}: {how}; peak {np.max(np.abs(samples)):.3f})"
            )
    return 0
