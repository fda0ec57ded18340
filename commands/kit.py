"""Make a drum kit: a Hydrogen .h2drumkit, or a folder of WAVs with a listing.

``app.py kit vae_c --at 0.5,-1.2 --at -1,0.3 -o MyKit.h2drumkit`` puts one instrument per
point in a Hydrogen kit; ``app.py kit --favourites [DIR] -o MyKit/`` puts each saved
favourite in a folder (WAVs, kit.json with model, point and seed of each, README.txt).
``app.py kit ddsp_cvae --family snare --at <16 numbers> -o Kit.h2drumkit`` puts a whole
vector of its family's frame in a kit (kit.json records the vector and the family).
Instruments are named after their family, then model and point. ``--layers N`` gives each
instrument N velocity layers: the sound itself on top, then N-1 variations, each softer.
Samples are 44.1 kHz 24-bit WAV peaking at -1 dBFS. An existing kit is never replaced
without --force; a kit folder's other files (a user's notes) are kept when it is. What a
killed export left is finished or removed by the next one, which says so.
"""

import os
import secrets
import sys
from pathlib import Path

from commands import CommandFailed, UsageError, one_line_errors
from commands.options import (
    MAX_SEED,
    add_family_arguments,
    add_points_with_families,
    add_zoo_argument,
    allow_negative_points,
    asked_family,
    check_range,
    family_file_part,
    family_for_model,
    frame_points,
    load_or_fail,
    number_type,
    parse_at,
    parse_vector,
    spec_or_usage_error,
    zoo_of,
)
from constants import KIT_SUFFIX
from safeio import one_line

DEFAULT_FAVOURITES = "favourites"
DEFAULT_LAYERS = 1


def add_arguments(parser):
    from audio.kit import MAX_LAYERS

    allow_negative_points(parser)
    one_line_errors(parser)
    parser.add_argument("name", nargs="?", metavar="NAME", help="a registry name (see `app.py models`)")
    add_points_with_families(
        parser,
        "a latent point of NAME; repeat for several (an imported model also takes its full vector, D numbers; "
        "ddsp_cvae its family's frame, 16: the pad's X,Y and the offsets along the family's other axes)",
    )
    add_family_arguments(parser, per_point=True)
    parser.add_argument(
        "--favourites",
        nargs="?",
        const=DEFAULT_FAVOURITES,
        metavar="DIR",
        help=f"use the saved favourites in DIR (default: {DEFAULT_FAVOURITES})",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="KIT", help="a .h2drumkit file, or a folder (ending in /) for WAVs plus a listing"
    )
    parser.add_argument("--name", dest="kit_name", metavar="TEXT", help="the kit's name in Hydrogen (default: from -o)")
    parser.add_argument(
        "--layers",
        type=number_type(int, 1, MAX_LAYERS),
        default=DEFAULT_LAYERS,
        metavar="N",
        help="velocity layers per instrument, from variations (default 1)",
    )
    parser.add_argument(
        "--seed",
        type=number_type(int, 0, MAX_SEED),
        metavar="S",
        help="seed of the variations (default: a new one, recorded in kit.json)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing kit")
    add_zoo_argument(parser)


def kit_destination(text):
    """``("archive" | "folder", Path)`` for ``-o``; UsageError for anything else."""
    from commands.outputs import nonempty_output

    path = nonempty_output(text)
    if path.name in ("", ".", "..") or not path.name.strip():
        # "." and ".." are folders of their own that a kit never replaces; "" is "." too
        raise UsageError(f"-o {text}: give the kit a folder name of its own (e.g. -o MyKit/)")
    if path.suffix.lower() == KIT_SUFFIX:
        return "archive", path
    if text.endswith(("/", os.sep)) or path.is_dir() or path.suffix == "":
        return "folder", path
    raise UsageError(f"-o {text}: give a {KIT_SUFFIX} file, or a folder name ending in /")


def check_usage(args):
    """Raise UsageError for a command line that cannot mean anything."""
    from audio.kit import FIRST_NOTE, MAX_INSTRUMENTS, MAX_LAYERS

    if args.favourites is not None and (args.name or args.at):
        raise UsageError("give either --favourites [DIR] or NAME --at X,Y, not both")
    if args.favourites is not None and (args.family or args.mix):
        raise UsageError("--family and --mix are for NAME --at X,Y; favourites keep the family they were saved with")
    trailing = getattr(args, "_unused_family", None)
    if trailing is not None and args.favourites is None:
        raise UsageError(f"{trailing[0]} {trailing[1]} names no point: give it before the --at points it is for")
    if args.favourites is None:
        if not args.name:
            raise UsageError("give NAME --at X,Y [--at X,Y ...] or --favourites [DIR]")
        if not args.at:
            raise UsageError(f"{args.name}: give at least one --at X,Y")
    if not 1 <= args.layers <= MAX_LAYERS:
        raise UsageError(f"--layers must be 1 to {MAX_LAYERS}, not {args.layers}")
    if args.at and len(args.at) > MAX_INSTRUMENTS:
        raise UsageError(
            f"--at: a kit holds 1 to {MAX_INSTRUMENTS} instruments (one MIDI note each, {FIRST_NOTE} to 127), not {len(args.at)}"
        )
    check_range(args.seed, "--seed", 0, MAX_SEED)


def _refuse_inputs_as_output(output, favourites):
    """-o never names the favourites it reads (with --force it would replace them)."""
    out, source = output.resolve(), Path(favourites).resolve()
    if out == source or source.is_relative_to(out) or (out.parent == source and out.suffix.lower() in (".wav", ".json")):
        raise UsageError(f"-o {output}: that would replace the favourites the kit is made from")


def _refuse_existing(kind, path, force):
    from audio.kit import refuse_existing_folder
    from safeio import FileExistsRefused, WriteFailed

    if kind == "folder":
        try:
            refuse_existing_folder(path, force)
        except (FileExistsRefused, WriteFailed) as error:  # WriteFailed: safeio.CannotSwap
            raise CommandFailed(one_line(error)) from None
    elif not force and os.path.lexists(path):
        raise CommandFailed(f"{path}: already exists (pass --force to replace it)")


class _Models:
    """Models loaded once each; the reason for one that cannot be loaded."""

    def __init__(self, folder):
        self.folder = folder
        self.loaded, self.reasons = {}, {}

    def get(self, name):
        if name not in self.loaded and name not in self.reasons:
            try:
                self.loaded[name] = load_or_fail(name, self.folder)
            except (CommandFailed, UsageError) as error:
                self.reasons[name] = str(error)
        return self.loaded.get(name)


def _layers(layer_tuples):
    from audio.kit import KitLayer

    return tuple(KitLayer(samples, rate, recall) for samples, rate, recall in layer_tuples)


def sounds_at_points(args, namer, models, seed):
    """One KitSound per ``--at`` point of ``args.name``: the sound itself, then variations.

    A point is X,Y on the pad, or a whole vector of the model's family frame (ddsp_cvae's
    16 numbers), checked as ``generate`` checks it (:func:`commands.options.frame_points`);
    kit.json then records the whole vector and the family of each."""
    from audio.kit import KitSound
    from models.variation import variation_layers

    spec = spec_or_usage_error(args.name, args.models)
    if spec.kind == "imported":
        return imported_sounds(args, namer, models, spec)
    asked = [
        (parse_at(text, spec), option or "--family", asked_family(spec, option or "--family", given))
        for text, option, given in args.at
    ]
    model = models.get(args.name)
    if model is None:
        raise CommandFailed(models.reasons[args.name])
    # a whole vector among the points: all of them as whole vectors, as generate has them
    points = frame_points(args.name, model, [text for text, _, _ in args.at], [point for point, _, _ in asked])
    families = [family_for_model(model, option, family) for _, option, family in asked]
    sounds = []
    for point, family in zip(points, families):
        layers = _layers(variation_layers(model, args.name, point, args.layers, seed, family=family))
        # an instrument played with a family is named after the family it was asked for
        name = namer.family(layers[0].audio, layers[0].sample_rate) if family is None else family_file_part(family)
        sounds.append(KitSound(name, args.name, point, layers))
    return sounds


def imported_sounds(args, namer, models, spec):
    """One KitSound per ``--at`` point of an imported model (X,Y on its pad, or its full
    vector); kit.json records the whole vector. Variations and families are for later."""
    from audio.kit import KitSound

    if args.layers != 1:
        raise UsageError(f"--layers: {args.name} is an imported model; its kits have one layer an instrument for now")
    if any(option is not None for _, option, _ in args.at):
        raise UsageError(f"--family: {args.name} has no family pads (an imported model; its families are not known)")
    points = [(text, parse_vector(text)) for text, _, _ in args.at]
    for text, point in points:
        if len(point) not in (2, spec.latent_dim):
            raise UsageError(f"--at {text!r}: {args.name} takes X,Y (its pad) or {spec.latent_dim} numbers (a full latent vector)")
    model = models.get(args.name)
    if model is None:
        raise CommandFailed(models.reasons[args.name])
    sounds = []
    for _, point in points:
        # float32 has 7 significant digits: the numbers as typed, not their float32 neighbours
        vector = tuple(float(f"{v:.7g}") for v in model.full_vectors([point])[0])
        audio = model.decode([vector])[0]
        recall = {"model": args.name, "point": list(vector)}
        layers = _layers([(audio, int(model.sample_rate), recall)])
        sounds.append(KitSound(namer.family(audio, model.sample_rate), args.name, vector, layers))
    return sounds


def favourite_variations(models, seed):
    """``extra_layers`` for :func:`audio.kit.favourite_sounds`: variations decoded by the
    favourite's model around the point it was saved at (its own variation's, if any)."""
    from models.variation import variation_from_recall, variation_layers

    def extra_layers(favourite, count):
        try:
            variation = variation_from_recall(favourite.recall)
            # of a wide latent's whole vector (an imported model's, ddsp_cvae's frame), not the file's pad point
            base = favourite.vector if variation is None else variation.point(favourite.vector)
        except ValueError as error:
            return None, str(error)
        model = models.get(favourite.model)
        if model is None:
            return [], models.reasons[favourite.model]
        # the variations are of the family the favourite was saved with (a conditioned
        # model's input, or a family pad)
        family = (favourite.recall.get("settings") or {}).get("family") if model.takes_family else None
        return variation_layers(model, favourite.model, base, count, seed, first=1, family=family), None

    return extra_layers


def sounds_from_favourites(args, namer, models, seed):
    """One KitSound per usable favourite; each unusable one is reported and skipped."""
    from audio.export import FavouritesFolder
    from audio.kit import MAX_INSTRUMENTS, favourite_sounds

    folder = Path(args.favourites)
    if not folder.is_dir():
        raise CommandFailed(f"{folder}: no such favourites folder")
    entries = list(reversed(FavouritesFolder(folder).entries()))  # oldest first, as saved
    if len(entries) > MAX_INSTRUMENTS:
        print(
            f"{folder}: {len(entries)} favourites; a kit holds {MAX_INSTRUMENTS} instruments (one MIDI note "
            f"each), so the {len(entries) - MAX_INSTRUMENTS} newest are left out",
            file=sys.stderr,
        )
        entries = entries[:MAX_INSTRUMENTS]
    sounds = favourite_sounds(
        entries,
        layers=args.layers,
        extra_layers=favourite_variations(models, seed),
        family_of=namer.family,
        report=lambda line: print(line, file=sys.stderr),
    )
    if not sounds:
        raise CommandFailed(f"{folder}: no favourites that can go in a kit")
    return sounds


def _note(line):
    if line:
        print(line, file=sys.stderr)


def _clear_what_killed_runs_left(kind, output):
    """Finish or remove what a killed export left at ``output``, saying so in one line each.

    A folder that a kit cannot be swapped into (a mount point) is refused first, before
    anything is finished there or any sound is rendered."""
    from audio.kit import recover_kit_folder, remove_leftover_archives
    from safeio import CannotSwap, FolderBusy, WriteFailed, check_swappable

    try:
        if kind == "folder" and not output.is_symlink():  # a link: refused in a kit's words
            check_swappable(output, "a kit folder")
    except CannotSwap as error:
        raise CommandFailed(one_line(error)) from None
    try:
        if kind == "archive":
            _note(remove_leftover_archives(output.parent))
        else:
            for line in recover_kit_folder(output):
                _note(line)
    except (FolderBusy, WriteFailed) as error:
        raise CommandFailed(one_line(error)) from None


def run(args):
    check_usage(args)
    if args.name:
        args.models = zoo_of(args.name, args.models)
    kind, output = kit_destination(args.output)
    if args.favourites is not None:
        _refuse_inputs_as_output(output, args.favourites)
    _clear_what_killed_runs_left(kind, output)
    _refuse_existing(kind, output, args.force)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)

    from audio.errors import AudioError
    from audio.kit import FamilyNamer, kit_files, write_h2drumkit, write_kit_folder
    from evaluation.families import shipped_classifier
    from safeio import FileExistsRefused, FolderBusy, WriteFailed

    namer = FamilyNamer(*shipped_classifier(args.models))
    models = _Models(args.models)
    if args.favourites is not None:
        sounds = sounds_from_favourites(args, namer, models, seed)
    else:
        sounds = sounds_at_points(args, namer, models, seed)
    try:
        kit = kit_files(args.kit_name or output.stem or output.name, sounds)
        output.parent.mkdir(parents=True, exist_ok=True)
        if kind == "archive":
            write_h2drumkit(output, kit, overwrite=args.force)
        else:
            write_kit_folder(output, kit, overwrite=args.force, report=_note)
    except (FileExistsRefused, FolderBusy, WriteFailed) as error:
        raise CommandFailed(one_line(error)) from None
    except AudioError as error:
        raise CommandFailed(str(error)) from None
    except OSError as error:
        raise CommandFailed(f"{output.parent}: cannot make the folder ({error.strerror or error})") from None
    samples = sum(len(sound.layers) for sound in sounds)
    what = "Hydrogen kit" if kind == "archive" else "kit folder"
    names = "" if namer.reason is None else f"; families unknown, {namer.reason}"
    print(f"{output}: {what} '{kit.name}', {len(sounds)} instruments, {samples} samples (seed {seed}{names})")
    return 0
