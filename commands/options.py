"""The options and values several verbs share: the zoo folder, latent points, numbers in a
range, and loading a trained model. Each verb declares its own options with these, so that
``--models`` means the same folder, under the same name, everywhere."""

import argparse
import math
import re
from pathlib import Path

from commands import CommandFailed, UsageError

#: The zoo folder a verb reads when ``--models`` is not given.
DEFAULT_ZOO = "trained"

# argparse takes "-0.5,1" for an option (it only knows bare negative numbers); points
# with a negative X must still work as "--at -0.5,1", not only as "--at=-0.5,1". "-inf,0"
# must reach parse_point too, which refuses it in one line (argparse would print usage).
NEGATIVE_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\w.+-]*,")

# Python's int() and float() also take "1_0" (as 10) and digits of other scripts ("١٢" as
# 12): a typo or a pasted character would become a number nobody typed. Only plain ASCII
# decimals are numbers here; "inf" and "nan" pass, to be refused as not finite.
_PLAIN_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)", re.ASCII | re.IGNORECASE)
_PLAIN_INT = re.compile(r"[+-]?\d+", re.ASCII)


def plain_number(kind, text):
    """``kind(text)`` for ``int`` or ``float``, taking only plain ASCII decimal numbers
    (an optional sign, digits, a dot and an exponent for a float; spaces around allowed).

    Raises
    ------
    ValueError
        Anything else: "1_0", Arabic-Indic or full-width digits, "0x10".
    """
    text = text.strip(" \t")
    if not (_PLAIN_INT if kind is int else _PLAIN_FLOAT).fullmatch(text):
        raise ValueError(f"not a plain decimal number: {text!r}")
    return kind(text)


#: No model's latent square reaches this far; beyond it float32 overflows to inf.
COORDINATE_LIMIT = 1e6

#: ``--seed``: the variations reduce a seed modulo 2**32 (models.variation.MAX_SEED), so
#: outside this range two seeds would name the same variations.
MAX_SEED = 2**32 - 1


def add_zoo_argument(parser, *, default=DEFAULT_ZOO, help="the zoo folder (default: %(default)s)"):
    """Declare ``--models DIR`` (alias ``--folder``), read back as ``args.models``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The verb's parser.
    default : str or None
        The folder when the option is not given (None: the verb decides, e.g. the GUI's
        remembered folder).
    help : str
        The verb's help text for the option.
    """
    parser.add_argument("--models", "--folder", dest="models", default=default, metavar="DIR", help=help)


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
            return plain_number(kind, text) if kind in (int, float) else kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} {_range_text(low, high, unit, above_low)} (got {text!r})") from None

    return parse


def parse_point(text):
    """``"X,Y"`` -> (x, y); UsageError with the reason otherwise."""
    if not isinstance(text, str):
        # argparse drops a "--" value (``--at=--``) and hands over an empty list
        text = "--"
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        point = (plain_number(float, parts[0]), plain_number(float, parts[1]))
    except ValueError:
        raise UsageError(f"--at {text!r}: a point is two numbers X,Y (e.g. --at 0.5,-1.2)") from None
    if not all(math.isfinite(v) for v in point):
        raise UsageError(f"--at {text!r}: the coordinates must be finite numbers")
    if not all(abs(v) <= COORDINATE_LIMIT for v in point):
        raise UsageError(f"--at {text!r}: the coordinates must lie between {-COORDINATE_LIMIT:g} and {COORDINATE_LIMIT:g}")
    return point


def parse_at(text, spec):
    """An ``--at`` of a registry model: ``X,Y`` (:func:`parse_point`), or, for a conditioned
    model (whose code may be a family's frame), more numbers: a whole vector that
    :func:`frame_points` checks once the model is loaded; UsageError with
    :func:`parse_point`'s reason otherwise."""
    try:
        return parse_point(text)
    except UsageError:
        if not spec.conditioned:
            raise
        try:
            vector = parse_vector(text)
        except UsageError:
            vector = ()
        if len(vector) <= 2:
            raise
        return vector


def frame_points(name, model, texts, points):
    """The ``--at`` points of a loaded registry model: as they are when all are pad points;
    with a whole vector among them (a family-frame model's: ddsp_cvae's 16 numbers, the
    pad's two and its family's other axes) all as whole vectors (a pad point's other axes
    at 0). UsageError for a vector of another size, or for a model without such axes.

    Parameters
    ----------
    name : str
        The model's name, for the message.
    model : models.engine.Runtime
    texts : sequence of str
        The ``--at`` texts as given, one per point (for the message).
    points : sequence of tuple of float
        As :func:`parse_at` read them.
    """
    if all(len(point) == 2 for point in points):
        return points
    width = model.latent_dim if model.family_frame else 2
    for text, point in zip(texts, points):
        if len(point) == 2:
            continue
        if width == 2:
            parse_point(text)  # its reason: a point is two numbers
        if len(point) != width:
            raise UsageError(
                f"--at {text!r}: {name} takes X,Y (its pad) or {width} numbers "
                f"(the pad and its family's other {width - 2} axes), not {len(point)}"
            )
    return [tuple(float(f"{v:.7g}") for v in model.full_vectors([point])[0]) for point in points]


def spec_or_usage_error(name, folder=None):
    """The registry spec of ``name``, or, for a model imported into ``folder`` (its card,
    kind ``imported``), its :class:`models.imported.ImportedSpec`; UsageError (exit 2)
    listing the valid names otherwise, CommandFailed (exit 1) for an imported model whose
    card cannot be read."""
    from models.errors import ModelUnavailableError, UnknownModelError
    from models.registry import get_spec

    if folder is not None:
        from models.imported import imported_spec, is_imported_folder, read_imported_card

        if is_imported_folder(folder, name):
            try:
                return imported_spec(read_imported_card(Path(folder) / name))
            except ModelUnavailableError as error:
                raise CommandFailed(f"{name} is unavailable: {error}") from None
    try:
        return get_spec(name)
    except UnknownModelError as error:
        raise UsageError(str(error)) from None


def zoo_of(name, folder):
    """The zoo folder to read ``name`` from: ``folder``, except that a name the default zoo
    lacks and the user's own zoo has (``app.py import-model`` writes there) is read there."""
    from models.imported import is_imported_folder, user_models_folder
    from models.registry import REGISTRY

    if folder == DEFAULT_ZOO and name not in REGISTRY and not is_imported_folder(folder, name):
        user_zoo = user_models_folder()
        if is_imported_folder(user_zoo, name):
            return str(user_zoo)
    return folder


def parse_vector(text):
    """``"A,B,..."`` -> a tuple of 2 or more finite numbers (a pad point or a full latent
    vector of an imported model); UsageError with the reason otherwise."""
    if not isinstance(text, str):
        text = "--"
    try:
        vector = tuple(plain_number(float, part) for part in text.split(","))
    except ValueError:
        vector = ()
    if len(vector) < 2:
        raise UsageError(f"--at {text!r}: a point is numbers separated by commas: X,Y on the pad, or a full latent vector")
    if not all(math.isfinite(v) and abs(v) <= COORDINATE_LIMIT for v in vector):
        raise UsageError(
            f"--at {text!r}: the coordinates must be finite numbers between {-COORDINATE_LIMIT:g} and {COORDINATE_LIMIT:g}"
        )
    return vector


def load_or_fail(name, folder):
    """The trained model on the NumPy engine (no TensorFlow); CommandFailed (exit 1) with
    the reason when it is unavailable."""
    from models.engine import load_runtime
    from models.errors import ModelUnavailableError

    try:
        return load_runtime(name, folder)
    except ModelUnavailableError as error:
        raise CommandFailed(f"{name} is unavailable: {error}") from None


def add_family_arguments(parser, *, per_point=False):
    """Declare ``--family F`` and ``--mix F:W,F:W`` (one or the other), for a conditioned model.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    per_point : bool
        ``kit``: each may be given before several ``--at``, and names the family of the points
        that follow it (read back as ``args.at`` of ``(text, option, given)``; see
        :func:`add_points_with_families`). Otherwise one of them, for every point.
    """
    from constants import DRUM_FAMILIES

    family_help = (
        "the drum family, one of " + ", ".join(DRUM_FAMILIES) + ": the points are on that family's "
        "pad (its region of the training sounds; a conditioned model's family input) (default: every "
        "family, the plain pad; a conditioned model's is kick)"
    )
    mix_help = "a hybrid of families, weights from 0 to 1 summing to 1 (e.g. kick:0.6,tom:0.4)"
    if per_point:
        family_help += "; it names the family of the --at points after it"
        parser.add_argument("--family", action=_FamilyForNextPoints, metavar="F", help=family_help)
        parser.add_argument("--mix", action=_FamilyForNextPoints, metavar="F:W,F:W", help=mix_help)
        return
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--family", metavar="F", help=family_help)
    group.add_argument("--mix", metavar="F:W,F:W", help=mix_help)


def add_points_with_families(parser, help):
    """Declare ``--at X,Y`` (repeatable), each read back as ``(text, option, given)``: the
    ``--family``/``--mix`` last given before it (``(text, None, None)`` when none was)."""
    parser.add_argument("--at", action=_PointWithFamily, metavar="X,Y", help=help)


class _FamilyForNextPoints(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        namespace._next_family = (option_string, values)
        namespace._unused_family = (option_string, values)
        setattr(namespace, self.dest, values)


class _PointWithFamily(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        option, given = getattr(namespace, "_next_family", (None, None))
        namespace._unused_family = None
        points = list(getattr(namespace, self.dest, None) or [])
        points.append((values, option, given))
        setattr(namespace, self.dest, points)


def imported_at(args, spec):
    """The ``--at`` points of an imported model (``args.at``: one text or a list): X,Y on its
    pad or its full vector (D numbers); UsageError for another count, or for a family (an
    imported model has no family pads)."""
    if getattr(args, "family", None) is not None or getattr(args, "mix", None) is not None:
        raise UsageError(f"{family_option(args)}: {args.name} has no family pads (an imported model; its families are not known)")
    texts = [args.at] if isinstance(args.at, str) else list(args.at)
    points = [parse_vector(text) for text in texts]
    for text, point in zip(texts, points):
        if len(point) not in (2, spec.latent_dim):
            raise UsageError(
                f"--at {text!r}: {args.name} takes X,Y (its pad) or {spec.latent_dim} numbers (a full latent vector), not {len(point)}"
            )
    return points


def family_option(args):
    """The option the family was given with: ``--mix`` when it was, else ``--family``."""
    return "--mix" if getattr(args, "mix", None) is not None and getattr(args, "family", None) is None else "--family"


def family_of_args(args, spec, *, pads=True):
    """The family vector ``args.family`` or ``args.mix`` asks for; see :func:`asked_family`."""
    if args.family is not None:
        return asked_family(spec, "--family", args.family, pads=pads)
    return asked_family(spec, "--mix", args.mix, pads=pads)


def asked_family(spec, option, given, *, pads=True):
    """The family vector an option asks for, as far as the registry can tell: the model's
    default family when ``given`` is None (None for a model that is not conditioned: its
    plain pad). Whether the trained model has the family is :func:`family_for_model`'s to say.

    Parameters
    ----------
    spec : models.registry.ModelSpec
    option : str
        ``--family`` or ``--mix``, for the message.
    given : str or None
    pads : bool
        False where only a conditioned model's family input is meant (``encode``): a family
        pad is a region of the pad, which an encoder does not use.

    Raises
    ------
    UsageError
        An unknown family, weights that do not sum to 1, or a family given to a model that
        takes none: one line that lists the allowed values or says why.
    """
    from models.errors import ModelInputError
    from models.families import family_vector
    from models.family_pads import no_family_reason

    if given is not None and not spec.conditioned:
        if not pads:
            raise UsageError(
                f"{option}: {spec.name} encodes without a family (a family picks a region of its pad, for generate, play and kit)"
            )
        reason = no_family_reason(spec)
        if reason is not None:
            raise UsageError(f"{option}: {reason}")
    if given is None and not spec.conditioned:
        return None
    if option == "--mix" and given is not None and ":" not in given:
        raise UsageError(f"--mix: give FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4), not {given!r}")
    try:
        return family_vector(given)
    except ModelInputError as error:
        raise UsageError(f"{option}: {error}") from None


def family_for_model(model, option, family):
    """``family`` (from :func:`asked_family`) checked against the trained model: a model
    whose codes cannot give family pads, or that has no training sound of a family the
    choice weighs, refuses it in one line (UsageError, exit 2); one whose codes file is
    damaged says so (CommandFailed, exit 1: the command was right, the file is not)."""
    from models.errors import ModelInputError

    if family is None:
        return None
    damaged = model.no_codes_reason
    if damaged and not model.takes_family:
        raise CommandFailed(f"{option}: {damaged}")
    try:
        return model.checked_family(family)
    except ModelInputError as error:
        raise UsageError(f"{option}: {error}") from None


def family_file_part(family):
    """The family as a part of a file or instrument name: ``snare``, ``kick0.6-tom0.4``."""
    from models.families import family_text

    return family_text(family).replace(":", "").replace(",", "-")


def add_seconds_argument(parser):
    """Declare ``--seconds S``: how long a sound a model that renders any length (ddsp_cvae)
    renders, in place of its trained window."""
    from constants import MAX_RENDER_SECONDS as MAX_SECONDS
    from constants import MIN_RENDER_SECONDS as MIN_SECONDS

    parser.add_argument(
        "--seconds",
        type=number_type(float, MIN_SECONDS, MAX_SECONDS, "seconds"),
        metavar="S",
        help=f"for a model that renders any length (ddsp_cvae): render S seconds "
        f"({MIN_SECONDS:g} to {MAX_SECONDS:g}; default: its trained 0.74 s window)",
    )


def render_length_or_usage_error(model, seconds):
    """``model.render_length(seconds)``; a UsageError in one line for a model that renders
    only its trained window."""
    if seconds is None:
        return None
    from constants import MAX_RENDER_SECONDS, MIN_RENDER_SECONDS
    from models.errors import ModelInputError

    check_range(seconds, "--seconds", MIN_RENDER_SECONDS, MAX_RENDER_SECONDS, "seconds")

    try:
        return model.render_length(seconds)
    except ModelInputError as error:
        raise UsageError(f"--seconds: {error}") from None
