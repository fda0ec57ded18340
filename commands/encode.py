"""Encode an audio file to a model's latent point (and optionally write its reconstruction).

The file is preprocessed exactly as the model's training data was (the settings in its
card: sample rate, length, attack time, channel, normalisation). The point is printed as
``X,Y``, ready for ``app.py generate NAME --at X,Y``. The GAN has no encoder (exit 1).
``-o`` never replaces an existing file without --force, and never FILE itself.
"""

from pathlib import Path

from commands import CommandFailed, UsageError
from commands.options import add_family_arguments, add_zoo_argument, family_of_args, load_or_fail, spec_or_usage_error, zoo_of
from commands.outputs import add_force_argument, check_outputs, nonempty_output, remove_dead_outputs
from constants import DRUM_FAMILIES


def add_arguments(parser):
    parser.add_argument("name", metavar="NAME", help="a registry name (not gan: it has no encoder)")
    parser.add_argument("file", metavar="FILE", help="an audio file (any rate, mono or multi-channel)")
    parser.add_argument("-o", "--output", metavar="RECON.wav", help="also write the decoded point here")
    add_zoo_argument(parser)
    parser.add_argument(
        "--channel",
        type=int,
        default=None,
        metavar="N",
        help="take channel N (0-based) of a multi-channel FILE instead of the "
        "model's training setting (mixing down, unless it said otherwise)",
    )
    add_family_arguments(parser)
    add_force_argument(parser)


def preprocess_settings(model, channel=None):
    """The preprocessing settings of the model's training data (from its card), with
    ``channel`` (when given) in place of the recorded one."""
    from preprocessing.errors import SettingsError
    from preprocessing.settings import settings_of_model

    try:
        return settings_of_model(model, channel)
    except SettingsError as error:
        raise CommandFailed(f"{model.name}: {error}") from None


def run(args):
    args.models = zoo_of(args.name, args.models)
    spec = spec_or_usage_error(args.name, args.models)
    if spec.kind == "imported" and (args.family is not None or args.mix is not None):
        raise UsageError(
            f"{'--family' if args.family is not None else '--mix'}: {args.name} is an imported model; it encodes without a family"
        )
    if spec.kind == "imported" and not spec.has_encoder:
        raise CommandFailed(f"{args.name} has no encoder (it was imported without --encoder)")
    if not spec.has_encoder:
        raise CommandFailed(f"{spec.name} has no encoder (a GAN only generates); pick an autoencoder or a VAE")
    if args.output is not None and not str(nonempty_output(args.output)).lower().endswith(".wav"):
        raise UsageError(f"-o {args.output}: give a .wav file name")
    if args.channel is not None and args.channel < 0:
        raise UsageError(f"--channel must be 0 or more, not {args.channel}")
    family_of_args(args, spec, pads=False)  # a family it cannot take is refused before any work
    if args.output is not None:
        check_outputs([Path(args.output)], force=args.force, inputs=[args.file])
    model = load_or_fail(args.name, args.models)
    if not model.has_encoder:  # its encoder file is damaged: the model plays, but cannot encode
        raise CommandFailed(model.no_encoder_reason)

    from preprocessing.errors import AudioInputError
    from preprocessing.reader import prepare_file

    try:
        audio = prepare_file(args.file, preprocess_settings(model, args.channel))
    except AudioInputError as error:
        reason = str(error)
        raise CommandFailed(reason if Path(args.file).name in reason else f"{args.file}: {reason}") from None
    wide = spec.conditioned and model.family_pads is not None  # ddsp_cvae: a wide code under Gaussians
    family, how = likeliest_family(args, model, audio) if wide else encoding_family(args, spec, audio, model.sample_rate)
    # X,Y; an imported model's whole vector (D numbers), as generate --at takes it
    point = [float(v) for v in model.encode(audio[None, :], **family)[0]]
    print(",".join(f"{v:.6g}" for v in point) + how)
    if args.output is not None:
        from audio.errors import AudioError
        from audio.export import write_wav

        # A killed encode leaves its full-size ``.NAME.wav.PID.RAND.tmp``; this one removes it.
        remove_dead_outputs(Path(args.output).parent, (".wav",))
        try:
            write_wav(
                args.output,
                model.decode_code(model.encode_code(audio[None, :]))[0] if wide else model.decode([point], **family)[0],
                model.sample_rate,
                out_rate=None,
                subtype="FLOAT",
                overwrite=args.force,
            )
        except AudioError as error:
            raise CommandFailed(str(error)) from None
        print(f"reconstruction: {args.output}")
    return 0


def likeliest_family(args, model, audio):
    """For a wide code under a Gaussian per family (ddsp_cvae): ``--family``/``--mix`` when
    given, else the family whose Gaussian gives the sound's code the highest density; the
    line also gives the whole code (the reconstruction ``-o`` writes plays it, not the pad)."""
    from models.families import family_text

    code = model.encode_code(audio[None, :])[0]
    whole = f"; code {','.join(f'{v:.4g}' for v in code)}"
    asked = family_of_args(args, model.spec, pads=False)
    if args.family is not None or args.mix is not None:
        return {"family": asked}, f"  ({family_text(asked)}, as asked{whole})"
    family = model.likeliest_families(audio[None, :])[0]
    return {"family": family}, f"  ({family}, the likeliest under its Gaussian per family{whole})"


def encoding_family(args, spec, audio, sample_rate):
    """The ``family`` keyword to encode ``audio`` with, and what the printed line says of it.

    A conditioned model's family is ``--family``/``--mix`` when given; otherwise the zoo's
    classifier's reading of the sound, or the default family where there is no classifier or
    it reads no drum family. Other models take none (``{}, ""``)."""
    asked = family_of_args(args, spec, pads=False)
    if asked is None:
        return {}, ""
    from models.families import DEFAULT_FAMILY, family_text, family_vector

    if args.family is not None or args.mix is not None:
        return {"family": asked}, f"  ({family_text(asked)}, as asked)"
    from audio.kit import FamilyNamer
    from evaluation.families import shipped_classifier

    namer = FamilyNamer(*shipped_classifier(args.models))
    read = namer.family(audio, sample_rate)
    if read in DRUM_FAMILIES:
        return {"family": family_vector(read)}, f"  ({read}, the classifier's reading)"
    why = namer.reason or f"the classifier reads no drum family ({read})"
    return {"family": family_vector(DEFAULT_FAMILY)}, f"  ({DEFAULT_FAMILY}, the default: {why})"
