"""play: play a latent point of a model, or an audio file, through the sound device.

  app.py play NAME --at X,Y [--loop SECONDS] [--gap SECONDS] [--device D] [--volume V]
  app.py play ddsp_cvae --at <16 numbers> --family F    (its family's frame: the whole vector)
  app.py play FILE.wav [--loop SECONDS]
  app.py play --list-devices

Without --loop the sound plays once; with it, the sound (then --gap seconds of silence)
repeats for that many seconds (up to an hour) and fades out. --gap is 0 to 60 seconds.
"""

from pathlib import Path

from commands import CommandFailed, UsageError, one_line_errors
from commands.options import (
    add_family_arguments,
    add_seconds_argument,
    add_zoo_argument,
    allow_negative_points,
    check_range,
    family_for_model,
    family_of_args,
    family_option,
    frame_points,
    imported_at,
    number_type,
    parse_at,
    render_length_or_usage_error,
    spec_or_usage_error,
    zoo_of,
)
from constants import AUDIO_SUFFIXES

#: --loop's longest run; the player holds the gap as samples, so --gap is bounded too.
MAX_LOOP_SECONDS = 3600.0
MAX_GAP_SECONDS = 60.0


def add_arguments(parser):
    allow_negative_points(parser)
    one_line_errors(parser)
    parser.add_argument("name", nargs="?", metavar="NAME|FILE", help="a model name, or an audio file to play as it is")
    parser.add_argument(
        "--at",
        metavar="X,Y",
        help=(
            "the latent point to decode (with a model name; an imported model also takes its full vector, D numbers; "
            "ddsp_cvae its family's frame, 16: the pad's X,Y and the offsets along the family's other axes)"
        ),
    )
    parser.add_argument(
        "--loop",
        type=number_type(float, 0, MAX_LOOP_SECONDS, "seconds", above_low=True),
        metavar="SECONDS",
        help="loop for this long (at most an hour), then stop",
    )
    parser.add_argument(
        "--gap",
        type=number_type(float, 0, MAX_GAP_SECONDS, "seconds"),
        default=0.0,
        metavar="SECONDS",
        help="silence between hits while looping, 0 to 60 (default 0)",
    )
    add_family_arguments(parser)
    add_seconds_argument(parser)
    parser.add_argument("--device", metavar="D", help="output device: its index or part of its name")
    parser.add_argument("--volume", type=number_type(float, 0, 1), default=1.0, metavar="V", help="0..1 (default 1)")
    parser.add_argument("--list-devices", action="store_true", help="list the output devices and exit")
    add_zoo_argument(parser)


def run(args):
    if args.list_devices:
        from audio.player import list_output_devices

        devices = list_output_devices()
        for index, name in devices:
            print(f"{index:3d}  {name}")
        if not devices:
            raise CommandFailed("no sound output devices found")
        return 0
    if args.name is None:
        raise UsageError("give a model name (with --at X,Y) or an audio file")
    check_range(args.loop, "--loop", 0, MAX_LOOP_SECONDS, "seconds", above_low=True)
    check_range(args.gap, "--gap", 0, MAX_GAP_SECONDS, "seconds")
    check_range(args.volume, "--volume", 0, 1)

    from audio.player import DEFAULT_SAMPLE_RATE

    path = Path(args.name)
    if path.suffix.lower() in AUDIO_SUFFIXES or path.is_file():
        given = [
            option
            for option, value in (("--at", args.at), ("--family", args.family), ("--mix", args.mix), ("--seconds", args.seconds))
            if value is not None
        ]
        if given:
            option = given[0]
            raise UsageError(f"{option} is for a model; an audio file is played as it is")
        audio, rate = read_audio_file(path)
        with open_player(rate, args.device) as player:
            play(player, audio, rate, volume=args.volume, loop_seconds=args.loop, gap_seconds=args.gap)
        what = path.name
    else:
        if args.at is None:
            raise UsageError(f"give the point of '{args.name}' to play: --at X,Y")
        args.models = zoo_of(args.name, args.models)  # an imported model may be in the user's zoo
        spec = check_model_name(args.name, args.models)
        if spec.kind == "imported":  # its pad point or its whole vector; no family pads
            point, family = imported_at(args, spec)[0], None
        else:
            point, family = parse_at(args.at, spec), family_of_args(args, spec)
        # The device first: without one, say so before the model is read.
        with open_player(DEFAULT_SAMPLE_RATE, args.device) as player:
            audio, rate = decode_point(
                args.name, point, args.models, family, args.seconds, family_option(args), whole=spec.kind == "imported", text=args.at
            )
            play(player, audio, rate, volume=args.volume, loop_seconds=args.loop, gap_seconds=args.gap)
        what = f"{args.name} at ({', '.join(f'{v:g}' for v in point)})"
        if family is not None:
            from models.families import family_text

            what += f", {family_text(family)}"
    seconds = audio.shape[0] / rate
    how = f"looped for {args.loop:g} s" if args.loop else "played once"
    print(f"{what}: {how} ({seconds:.2f} s at {rate} Hz)")
    return 0


#: PortAudio numbers devices with a C int.
MAX_DEVICE_INDEX = 2**31 - 1


def parse_device(text):
    """A device index when ``text`` is a whole number, else a part of a device name."""
    if text is None:
        return None
    if not text.strip().isdecimal():  # "²" is a digit to isdigit() but not a number to int()
        return text
    index = int(text)
    if index > MAX_DEVICE_INDEX:
        raise UsageError(f"--device: a device index must be between 0 and {MAX_DEVICE_INDEX} (got {index})")
    return index


def read_audio_file(path):
    """Read an audio file as it is: float32 samples (n,) or (n, channels), and its rate."""
    import soundfile

    from safeio import NotARegularFile, open_regular

    try:
        file = open_regular(path)
    except FileNotFoundError:
        raise CommandFailed(f"{path}: no such file") from None
    except NotARegularFile as error:  # a FIFO would block the read for good
        raise CommandFailed(str(error)) from None
    except OSError as error:
        raise CommandFailed(f"{path}: cannot read ({error.strerror or error})") from None
    with file:
        try:
            audio, rate = soundfile.read(file, dtype="float32")
        except (soundfile.LibsndfileError, RuntimeError) as error:
            # libsndfile's own words: str(error) would quote the file object's repr
            reason = (getattr(error, "error_string", None) or str(error)).strip().rstrip(".")
            raise CommandFailed(f"{path.name}: not a readable audio file ({reason})") from None
    if audio.shape[0] == 0:
        raise CommandFailed(f"{path.name}: the file has no samples")
    return audio, int(rate)


def check_model_name(name, folder=None):
    """The spec of ``name``: the registry's, or an imported model's in ``folder``
    (:func:`commands.options.spec_or_usage_error`: UsageError, exit 2, listing the valid names
    when it is neither)."""
    try:
        import models.registry  # noqa: F401  (the models package is there)
    except ImportError as error:
        raise CommandFailed(f"cannot decode with '{name}': the models package is not available ({error})") from None
    return spec_or_usage_error(name, folder)


def decode_point(name, point, folder="trained", family=None, seconds=None, option="--family", whole=False, text=None):
    """Decode one latent point with a trained model: (samples (n,), sample rate).

    ``family`` is the family vector (a conditioned model's input, or the family pad of a
    model with training codes; None: the plain pad), given with ``option``; ``seconds`` the
    length to render, for a model that renders any length (None: its trained window);
    ``whole`` for an imported model, whose pad point is played as its whole vector. A
    registry model's ``point`` of more than two numbers is a whole vector of its family's
    frame (ddsp_cvae's 16), checked as ``generate`` checks it
    (:func:`commands.options.frame_points`; ``text`` is the ``--at`` as given, for its
    one-line refusal)."""
    import numpy as np

    try:
        from models.engine import load_runtime
        from models.errors import ModelError, UnknownModelError
    except ImportError as error:
        raise CommandFailed(f"cannot decode with '{name}': the models package is not available ({error})") from None
    try:
        model = load_runtime(name, folder)
        family = family_for_model(model, option, family)
        points = np.array([point], dtype=np.float32)
        if not whole and len(point) > 2:  # decoded as generate decodes it: the same samples
            text = ",".join(f"{v:g}" for v in point) if text is None else text
            points = np.asarray(frame_points(name, model, [text], [point]), dtype=np.float32)
        if whole:  # an imported model: the whole vector a pad point plays (its other axes at their centre)
            points = np.asarray(model.full_vectors([point]), dtype=np.float32)
        render_length_or_usage_error(model, seconds)
        options = ({} if family is None else {"family": family}) | ({} if seconds is None else {"seconds": seconds})
        audio = model.decode(points, **options)[0]
    except UnknownModelError as error:
        raise UsageError(str(error)) from None
    except ModelError as error:
        raise CommandFailed(f"{name} is unavailable: {error}") from None
    return np.asarray(audio, dtype=np.float32), int(model.sample_rate)


def open_player(rate, device_text):
    """An open Player; CommandFailed (exit 1) with the reason when nothing can play."""
    from audio.player import Player

    player = Player(rate, parse_device(device_text))
    if not player.available:
        player.close()
        raise CommandFailed(f"cannot play: {player.reason}")
    return player


def play(player, audio, rate, *, volume=1.0, loop_seconds=None, gap_seconds=0.0):
    """Play through ``player`` until done; raises CommandFailed when the device fails."""
    import time

    player.volume = volume
    if loop_seconds:
        player.loop(audio, gap_seconds, sample_rate=rate)
        time.sleep(loop_seconds)
    else:
        player.play(audio, sample_rate=rate)
        # Generous: a device that stops calling back must not hang the command.
        deadline = time.monotonic() + audio.shape[0] / rate + 5.0
        while player.is_playing:
            if time.monotonic() > deadline:
                raise CommandFailed("the sound device stopped taking samples")
            time.sleep(0.01)
    if not player.available:
        raise CommandFailed(f"playback failed: {player.reason}")
    # Closing the player (the caller's with-block) fades out and lets PortAudio play what it holds.
