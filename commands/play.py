"""play: play a latent point of a model, or an audio file, through the sound device.

  app.py play NAME --at=X,Y [--loop SECONDS] [--gap SECONDS] [--device D] [--volume V]
  app.py play FILE.wav [--loop SECONDS]
  app.py play --list-devices

Without --loop the sound plays once; with it, the sound (then --gap seconds of silence)
repeats for that many seconds and fades out. Write a negative point as --at=-1.2,0.5.
"""
from pathlib import Path

from commands import CommandFailed, UsageError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aif", ".aiff")


def add_arguments(parser):
    parser.add_argument("name", nargs="?", metavar="NAME|FILE", help="a model name, or an audio file to play as it is")
    parser.add_argument("--at", metavar="X,Y", help="the latent point to decode (with a model name)")
    parser.add_argument("--loop", type=float, metavar="SECONDS", help="loop for this long, then stop")
    parser.add_argument("--gap", type=float, default=0.0, metavar="SECONDS",
                        help="silence between hits while looping (default 0)")
    parser.add_argument("--device", metavar="D", help="output device: its index or part of its name")
    parser.add_argument("--volume", type=float, default=1.0, metavar="V", help="0..1 (default 1)")
    parser.add_argument("--list-devices", action="store_true", help="list the output devices and exit")


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
    if args.loop is not None and not args.loop > 0:
        raise UsageError(f"--loop wants a positive number of seconds, not {args.loop}")
    if not args.gap >= 0:
        raise UsageError(f"--gap wants 0 or more seconds, not {args.gap}")
    if not 0 <= args.volume <= 1:
        raise UsageError(f"--volume wants a number from 0 to 1, not {args.volume}")

    path = Path(args.name)
    if path.suffix.lower() in AUDIO_SUFFIXES or path.is_file():
        if args.at is not None:
            raise UsageError("--at is for a model; an audio file is played as it is")
        audio, rate = read_audio_file(path)
        what = path.name
    else:
        if args.at is None:
            raise UsageError(f"give the point of '{args.name}' to play: --at X,Y")
        point = parse_point(args.at)
        audio, rate = decode_point(args.name, point)
        what = f"{args.name} at ({point[0]:g}, {point[1]:g})"
    play(audio, rate, device=parse_device(args.device), volume=args.volume, loop_seconds=args.loop,
         gap_seconds=args.gap)
    seconds = audio.shape[0] / rate
    how = f"looped for {args.loop:g} s" if args.loop else "played once"
    print(f"{what}: {how} ({seconds:.2f} s at {rate} Hz)")
    return 0


def parse_point(text):
    """``"X,Y"`` -> ``(x, y)``; raises UsageError for anything else."""
    import math

    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise UsageError(f"--at wants two numbers X,Y, not '{text}'") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise UsageError(f"--at wants two finite numbers, not '{text}'")
    return x, y


def parse_device(text):
    """A device index when ``text`` is a whole number, else a part of a device name."""
    if text is None:
        return None
    return int(text) if text.strip().isdigit() else text


def read_audio_file(path):
    """Read an audio file as it is: float32 samples (n,) or (n, channels), and its rate."""
    import soundfile

    if not path.is_file():
        raise CommandFailed(f"{path}: no such file")
    try:
        audio, rate = soundfile.read(str(path), dtype="float32")
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise CommandFailed(f"{path.name}: not a readable audio file ({error})") from None
    if audio.shape[0] == 0:
        raise CommandFailed(f"{path.name}: the file has no samples")
    return audio, int(rate)


def decode_point(name, point):
    """Decode one latent point with a trained model: (samples (n,), sample rate)."""
    import numpy as np

    try:
        from models.errors import ModelError, UnknownModelError
        from models.inference import load_trained
    except ImportError as error:
        raise CommandFailed(f"cannot decode with '{name}': the models package is not available ({error})") from None
    try:
        model = load_trained(name)
        audio = model.decode(np.array([point], dtype=np.float32))[0]
    except UnknownModelError as error:
        raise UsageError(str(error)) from None
    except ModelError as error:
        raise CommandFailed(str(error)) from None
    return np.asarray(audio, dtype=np.float32), int(model.sample_rate)


def play(audio, rate, *, device=None, volume=1.0, loop_seconds=None, gap_seconds=0.0):
    """Play through the device until done; raises CommandFailed when it cannot."""
    import time

    from audio.player import Player

    with Player(rate, device) as player:
        if not player.available:
            raise CommandFailed(f"cannot play: {player.reason}")
        player.volume = volume
        if loop_seconds:
            player.loop(audio, gap_seconds)
            time.sleep(loop_seconds)
        else:
            player.play(audio)
            # Generous: a device that stops calling back must not hang the command.
            deadline = time.monotonic() + audio.shape[0] / rate + 5.0
            while player.is_playing:
                if time.monotonic() > deadline:
                    raise CommandFailed("the sound device stopped taking samples")
                time.sleep(0.01)
        if not player.available:
            raise CommandFailed(f"playback failed: {player.reason}")
        # close() (on leaving the block) fades out and lets PortAudio play what it holds.
