"""Open the evaluation window: pick a model, move through its latent space, hear it, save.

The window appears at once; the first model loads behind it (NumPy engine) in a worker
thread. Folders, the device and the last model and point are remembered between sessions.
"""

import os

from commands import CommandFailed, UsageError
from commands.options import DEFAULT_ZOO, add_zoo_argument


def add_arguments(parser):
    add_zoo_argument(parser, default=None, help=f"the zoo of trained models (default: remembered, else {DEFAULT_ZOO}/)")
    parser.add_argument(
        "--favourites",
        metavar="DIR",
        default=None,
        help="where Save puts sounds (default: remembered, else ~/ML Sample Generator/favourites)",
    )
    parser.add_argument(
        "--device",
        metavar="D",
        default=None,
        help="sound output: a device index or part of its name (python -m sounddevice lists them)",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE",
        default=None,
        help="the settings file (default: $MLSG_SETTINGS, else PySimpleGUI's settings folder)",
    )
    parser.add_argument(
        "--startup-stamp",
        metavar="FILE",
        default=None,
        help="benchmarks: append when the window is on screen, the first model is "
        "ready, the first sound is decoded and all models are loaded",
    )
    parser.add_argument(
        "--quit-when", choices=("window", "ready", "sound", "all"), default=None, help="benchmarks: close as soon as this has happened"
    )


def run(args):
    if args.models is not None and not os.path.isdir(args.models):
        raise UsageError(f"--models {args.models}: no such folder")
    from gui.errors import GuiError
    from gui.window import GuiOptions, main

    try:
        return main(
            GuiOptions(
                models_dir=args.models,
                favourites_dir=args.favourites,
                device=args.device,
                settings_path=args.settings,
                startup_stamp=args.startup_stamp,
                quit_when=args.quit_when,
            )
        )
    except GuiError as error:
        raise CommandFailed(str(error)) from None
