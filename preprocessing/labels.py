"""Drum families from names: a Hydrogen instrument name, a file name, or a folder name.

``family_of`` maps one name to one of ``FAMILIES`` ("other" when no keyword matches).
``label_for`` decides the label of a source file, in this order:

1. the instrument of a Hydrogen ``drumkit.xml`` that uses the file (velocity layer too);
2. keywords in the file name;
3. keywords in the names of the folders between the source root and the file
   (sample libraries are often sorted as ``Kicks/``, ``Snares/``...).

A file gets ``other`` when it has a real instrument name that fits no family ("Zap",
"FX"), and ``unknown`` only when nothing at all is known: no instrument name (or one that
only repeats the file name, or a bare number), and no keyword in file or folder names.
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FAMILIES = ("kick", "snare", "clap", "hat", "tom", "cymbal", "percussion", "other")
UNKNOWN = "unknown"
# Every value a dataset's ``families`` can hold, in display order.
LABELS = FAMILIES + (UNKNOWN,)

# Checked in this order, so the more specific instrument wins: a djembe's "Bass" tone is
# percussion, not a kick; a cowbell is not a cymbal's bell; "Snare Rimshot" is a snare.
# Words of five letters or more also match inside a longer word ("closehihat", "handclap");
# shorter ones must be a whole word ("bd", "tom", "rim"), so "bottom" is not a tom.
_KEYWORDS = (
    (
        "percussion",
        (
            "conga",
            "congas",
            "bongo",
            "bongos",
            "cajon",
            "djembe",
            "tabla",
            "tambourine",
            "tamb",
            "shaker",
            "maraca",
            "maracas",
            "clave",
            "claves",
            "cowbell",
            "agogo",
            "woodblock",
            "block",
            "guiro",
            "cabasa",
            "timbale",
            "timbales",
            "triangle",
            "sangban",
            "dununba",
            "kenkeni",
            "waterglass",
            "whistle",
            "castanet",
            "castanets",
            "vibraslap",
            "cuica",
            "perc",
            "percussion",
            "udu",
            "darbuka",
            "doumbek",
            "surdo",
            "timba",
            "jingle",
        ),
    ),
    ("clap", ("clap", "claps", "handclap", "snap", "snaps", "fingersnap", "cp")),
    ("hat", ("hat", "hats", "hihat", "hihats", "hh", "chh", "ohh", "phh", "hhc", "hho", "hhat")),
    ("tom", ("tom", "toms", "floortom", "hitom", "midtom", "lotom", "lowtom", "hightom", "rototom")),
    (
        "snare",
        ("snare", "snares", "snr", "sd", "sn", "rim", "rimshot", "rimclick", "sidestick", "stick", "sticks", "xstick", "crossstick"),
    ),
    ("cymbal", ("cymbal", "cymbals", "cym", "crash", "ride", "splash", "china", "bell", "chinese")),
    ("kick", ("kick", "kicks", "kik", "kck", "bd", "bassdrum", "bass")),
)
_SUBSTRING_MIN = 5
_RULES = [
    (family, frozenset(words), re.compile("|".join(re.escape(w) for w in words if len(w) >= _SUBSTRING_MIN)))
    for family, words in _KEYWORDS
]
# Short keywords glued to another word: "openhat", "closedhat"; "tomhi", "toms".
_SUFFIXES = (("hat", "hat", frozenset({"what", "that", "chat"})),)
_PREFIXES = (("tom", "tom", frozenset({"tomato", "tomb", "tomorrow"})),)
# Phrases that span words: "hi hat", "bass drum", "side stick", "floor tom".
_PHRASES = (
    ("hat", ("hi hat", "high hat")),
    ("kick", ("bass drum", "kick drum")),
    ("snare", ("side stick", "cross stick", "snare drum")),
    ("tom", ("floor tom",)),
)


def words_of(name):
    """Lower-case ASCII words of a name: camelCase, digits and punctuation split apart.

    Examples
    --------
    >>> words_of("BassDrum_02-Hard")
    ['bass', 'drum', 'hard']
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z]+", text.lower())


def _match(words):
    joined = " " + " ".join(words) + " "
    for family, phrases in _PHRASES:
        if any(f" {phrase} " in joined for phrase in phrases):
            return family
    for family, exact, inside in _RULES:
        for word in words:
            if word in exact or inside.search(word):
                return family
    for word in words:
        for suffix, family, exceptions in _SUFFIXES:
            if word.endswith(suffix) and word not in exceptions:
                return family
        for prefix, family, exceptions in _PREFIXES:
            if word.startswith(prefix) and word not in exceptions:
                return family
    return None


def family_of(name):
    """The drum family a name points to.

    Parameters
    ----------
    name : str
        An instrument, file or folder name ("Hi-Hat Closed", "BD_08.aiff", "Snares").

    Returns
    -------
    family : str
        One of ``FAMILIES``; "other" when no keyword matches.

    Examples
    --------
    >>> family_of("Kick (Tama Superstar 22\\")"), family_of("closehihat3"), family_of("Zap 1")
    ('kick', 'hat', 'other')
    """
    return _match(words_of(name)) or "other"


@dataclass(frozen=True)
class Label:
    """What is known about one source file.

    Attributes
    ----------
    kit : str
    instrument : str
        The original instrument name, or the file name (without extension) when there is none.
    family : str
        One of ``LABELS``.
    velocity_layer : str
        "2/5" for the second softest of five layers; "" when not layered.
    velocity_range : str
        "0.2-0.37" from the kit; "" when unknown.
    """

    kit: str
    instrument: str
    family: str
    velocity_layer: str = ""
    velocity_range: str = ""


def _informative(instrument, path):
    """Whether an instrument name says more than the file name does."""
    letters = re.sub(r"[^a-z]", "", " ".join(words_of(instrument)))
    if len(letters) < 2:
        return False  # "15", "f#4 - ": placeholders, not names
    name = str(instrument).strip().casefold()
    # "Sample: beats_08-37.flac": made up from the file name by a kit converter.
    return path.name.casefold() not in name and name != path.stem.casefold()


def _format_velocity(velocity):
    if velocity is None:
        return ""
    return f"{velocity[0]:.3g}-{velocity[1]:.3g}"


def label_for(path, kit=None, folders=()):
    """Label one source file.

    Parameters
    ----------
    path : pathlib.Path
        The source file.
    kit : hydrogen.Kit or None
        The Hydrogen kit whose folder holds the file, if any.
    folders : sequence of str
        Names of the folders between the source root and the file, nearest last; used
        for keywords when the file's own names give none, and the nearest one names the
        kit when there is no drumkit.xml.

    Returns
    -------
    Label
    """
    path = Path(path)
    stem = path.stem
    uses = kit.lookup(path) if kit is not None else []
    named = [u for u in uses if _informative(u.instrument, path)]
    known = [u for u in named if family_of(u.instrument) != "other"]
    use = (known or named or uses or [None])[0]
    kit_name = kit.name if kit is not None else (folders[-1] if folders else path.parent.name)
    layer = f"{use.layer}/{use.layers}" if use is not None and use.layer else ""
    velocity = _format_velocity(use.velocity) if use is not None and use.layers > 1 else ""

    has_name = use is not None and _informative(use.instrument, path)
    instrument = use.instrument.strip() if has_name else stem
    family = family_of(instrument) if has_name else "other"
    if family == "other":
        family = family_of(stem)
    for folder in reversed(folders):
        if family != "other":
            break
        family = family_of(folder)
    if family == "other" and not has_name:
        family = UNKNOWN
    return Label(kit=kit_name, instrument=instrument, family=family, velocity_layer=layer, velocity_range=velocity)
