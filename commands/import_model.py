"""Import a decoder trained elsewhere (Keras 3 .keras or ONNX) as a model of your own zoo.

``app.py import-model mydrums --decoder decoder.onnx`` checks the file (its size, a .keras
file's layers, an ONNX file's operators; a batch of latent vectors in, a batch of audio out;
a decoded grid finite, not silent and under the peak limit; the time of one point) and,
when all pass, writes ``mydrums/`` into your zoo (default: your user data folder,
``$XDG_DATA_HOME/ml-sample-generator/models``) as one set: the file's bytes, and a card
with its sha256, format, latent size and range, rate, length and the checks' figures. A
file that fails is named in one line, and nothing is written. Your files are only read.
Generate with ``app.py generate mydrums --at X,Y`` (the pad's two axes) or with a full
latent vector, ``--at 0.1,-0.2,...``.
"""

import re
from pathlib import Path

from commands import CommandFailed, UsageError, one_line_errors
from commands.options import allow_negative_points, check_range, number_type, plain_number
from constants import MAX_RATE, MIN_RATE

#: A model's name is a folder name the other verbs take on the command line.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def add_arguments(parser):
    allow_negative_points(parser)  # --latent-range -2,2
    one_line_errors(parser)
    parser.add_argument("name", metavar="NAME", help="the model's name in your zoo (letters, digits, _ . -)")
    parser.add_argument("--decoder", required=True, metavar="FILE", help="the decoder: a Keras 3 .keras file or an .onnx file")
    parser.add_argument("--encoder", metavar="FILE", help="its encoder (.keras or .onnx), for encoding sounds and --data")
    parser.add_argument(
        "--sample-rate",
        type=number_type(int, MIN_RATE, MAX_RATE, "Hz"),
        default=22050,
        metavar="SR",
        help="the rate the decoder's audio is at, in Hz (default: %(default)s)",
    )
    parser.add_argument(
        "--latent-range",
        metavar="LOW,HIGH",
        help="the range of every latent axis, e.g. -2,2 (default: from the encoder's codes of --data, else -3,3)",
    )
    parser.add_argument(
        "--latent-dim", type=number_type(int, 2, 1024), metavar="D", help="the latent size, where the file leaves it open"
    )
    parser.add_argument(
        "--data", metavar="DIR", help="a preprocessed dataset: its codes (with --encoder) give the range and the pad's axes"
    )
    parser.add_argument(
        "--models",
        "--folder",
        dest="models",
        metavar="DIR",
        help="the zoo folder to write into (default: your user zoo; the shipped trained/ only when named)",
    )
    parser.add_argument("--force", action="store_true", help="replace a model of that name in the zoo")


def parse_range(text):
    """``"LOW,HIGH"`` -> (low, high); UsageError otherwise."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = plain_number(float, parts[0]), plain_number(float, parts[1])
    except ValueError:
        raise UsageError(f"--latent-range {text!r}: give two numbers LOW,HIGH (e.g. -3,3)") from None
    if not (abs(low) < 1e6 and abs(high) < 1e6 and low < high):
        raise UsageError(f"--latent-range {text!r}: LOW must be below HIGH, both finite")
    return low, high


def run(args):
    from models.errors import ModelUnavailableError
    from models.imported import user_models_folder
    from models.imported_formats import ImportRefused
    from models.registry import REGISTRY

    if not NAME_PATTERN.fullmatch(args.name):
        raise UsageError(f"{args.name!r}: a name is 1 to 64 letters, digits, _ . or -, starting with a letter or digit")
    if args.name in REGISTRY:
        raise UsageError(f"{args.name}: a shipped model's name; choose another")
    latent_range = parse_range(args.latent_range)
    check_range(args.sample_rate, "--sample-rate", MIN_RATE, MAX_RATE, "Hz")
    check_range(args.latent_dim, "--latent-dim", 2, 1024)
    if args.data is not None and args.encoder is None:
        raise UsageError("--data needs --encoder (the codes of the data come from the encoder)")
    zoo = Path(args.models) if args.models else user_models_folder()
    target = zoo / args.name
    taken = target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir())))
    if taken and not args.force:
        raise CommandFailed(f"{target}: already exists (pass --force to replace it)")
    for option, path in (("--decoder", args.decoder), ("--encoder", args.encoder)):
        if path is not None and Path(path).resolve().is_relative_to(target.resolve()):
            raise CommandFailed(f"{option} {path}: is inside the model folder it would replace; copy it elsewhere first")

    from models.importing import prepare_import, write_import
    from safeio import WriteFailed, one_line

    try:
        card, files, codes = prepare_import(
            args.name,
            Path(args.decoder),
            encoder=None if args.encoder is None else Path(args.encoder),
            sample_rate=args.sample_rate,
            latent_range=latent_range,
            latent_dim=args.latent_dim,
            data=args.data,
        )
    except (ImportRefused, ModelUnavailableError) as error:
        raise CommandFailed(str(error)) from None
    try:
        written = write_import(zoo, card, files, codes, force=args.force)
    except FileExistsError as error:
        raise CommandFailed(str(error)) from None
    except (WriteFailed, OSError) as error:
        raise CommandFailed(one_line(error)) from None
    latent = card.latent
    print(
        f"{written}  (imported {latent['dim']}-D {card.files['decoder']['format']} decoder, {card.sample_length} samples at "
        f"{card.sample_rate} Hz; pad axes {latent['pad_axes'][0]},{latent['pad_axes'][1]}; "
        f"one point in {card.validation['decode_ms_one_point']:.2f} ms, grid peak {card.validation['peak']:.3f})"
    )
    return 0
