"""Decode latent points of a trained model to WAV files.

``app.py generate vae_c --at 0.5,-1.2 -o snare.wav`` writes one file;
``app.py generate gan --at 0,0 --at 0.5,0.5 -o out/`` writes one file per point into the
folder, named after the model and the point (``gan_x+0.50_y+0.50.wav``). Files are float
WAV at the model's sample rate unless --rate/--format say otherwise. An existing file is
replaced only with --force. Points are decoded and written a chunk at a time, so memory
stays flat whatever their count (with a progress bar on a terminal).
"""
import math
import re
from pathlib import Path

from commands import CommandFailed, UsageError
from commands.outputs import add_force_argument, check_outputs, nonempty_output

# argparse takes "-0.5,1" for an option (it only knows bare negative numbers); points
# with a negative X must still work as "--at -0.5,1", not only as "--at=-0.5,1". "-inf,0"
# must reach parse_point too, which refuses it in one line (argparse would print usage).
NEGATIVE_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\w.+-]*,")

#: No model's latent square reaches this far; beyond it float32 overflows to inf.
COORDINATE_LIMIT = 1e6

#: Points decoded (and written) at a time: 256 x 16384 float32 is 16 MiB.
DECODE_CHUNK = 256


def allow_negative_points(parser):
    """Let ``--at -0.5,1`` parse: treat "-<number>,..." as a value, not an option."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = NEGATIVE_POINT


def add_arguments(parser):
    allow_negative_points(parser)
    parser.add_argument("name", metavar="NAME", help="a registry name (see `app.py models`)")
    parser.add_argument("--at", action="append", required=True, metavar="X,Y",
                        help="a latent point; repeat for several")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="a .wav file for one point, or a folder (created) for several")
    parser.add_argument("--models", "--folder", dest="folder", default="trained", metavar="DIR",
                        help="the zoo folder (default: trained)")
    parser.add_argument("--rate", type=int, metavar="HZ", help="resample the files to this rate (default: the model's)")
    parser.add_argument("--format", default="FLOAT", choices=("FLOAT", "PCM_24", "PCM_16"),
                        help="WAV sample format (default FLOAT)")
    parser.add_argument("--normalize", action="store_true", help="scale each file to a peak just under 0 dBFS")
    add_force_argument(parser)


def parse_point(text):
    """``"X,Y"`` -> (x, y); UsageError with the reason otherwise."""
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
    """The trained model; CommandFailed (exit 1) with the reason when it is unavailable."""
    from models.errors import ModelUnavailableError
    from models.inference import load_trained

    try:
        return load_trained(name, folder)
    except ModelUnavailableError as error:
        raise CommandFailed(f"{name} is unavailable: {error}") from None


def output_paths(name, points, output):
    """Where each point's WAV goes: the file itself for one point (or a file named after
    the point inside an existing folder), else files named after the points in a folder."""
    from audio.export import favourite_stem

    output = Path(output)
    if len(points) == 1 and not output.is_dir():
        if output.suffix.lower() != ".wav":
            raise UsageError(f"-o {output}: give a .wav file name, or an existing folder")
        return [output]
    if output.suffix.lower() == ".wav":
        raise UsageError(f"-o {output}: {len(points)} points need a folder, not a .wav file")
    paths, seen = [], {}
    for point in points:
        stem = favourite_stem(name, point)
        seen[stem] = seen.get(stem, 0) + 1
        # Points closer than the name's rounding must not overwrite each other.
        paths.append(output / (f"{stem}.wav" if seen[stem] == 1 else f"{stem}_{seen[stem]}.wav"))
    return paths


def run(args):
    spec_or_usage_error(args.name)
    points = [parse_point(text) for text in args.at]
    paths = output_paths(args.name, points, nonempty_output(args.output))
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be a positive number of Hz")
    model_files = [p for p in (Path(args.folder) / args.name).glob("*") if p.is_file()]
    check_outputs(paths, force=args.force, inputs=model_files)
    model = load_or_fail(args.name, args.folder)

    import sys

    import numpy as np
    from tqdm import tqdm

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
    return 0
