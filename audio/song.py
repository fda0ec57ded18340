"""A step pattern as a Hydrogen song that plays a kit of this program's.

:func:`song_for_kit` turns an :class:`audio.pattern.Pattern` and a kit made by
:func:`audio.kit.kit_files` into Hydrogen 1.2's ``.h2song`` XML: one pattern of one 4/4 bar
(192 ticks, a step every 12), the pattern's tempo, and the kit's instruments by their names,
so that Hydrogen (``h2cli -s SONG -k KIT``) plays each lane with the instrument made from
its favourite. A lane that follows the current sound, or plays a favourite that is not in
the kit, has no instrument there and is left out; the caller says so.
"""

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError
from audio.kit import KIT_JSON as _KIT_JSON
from audio.pattern import CURRENT, LANES, STEPS, Pattern
from safeio import atomic_write_text

SONG_SUFFIX = ".h2song"
TICKS_PER_BAR = 192  # Hydrogen's resolution: 48 ticks a beat
TICKS_PER_STEP = TICKS_PER_BAR // STEPS
VELOCITY = 0.8  # Hydrogen's default note velocity; the kit's loudest layer covers it


@dataclass(frozen=True)
class KitSong:
    """A song for a kit: its XML, and the lanes it could not give an instrument."""

    xml: str
    lanes: tuple  # (lane name, instrument name) of the lanes in the song
    left_out: tuple  # one line per lane with steps that has no instrument in the kit

    @property
    def note(self):
        """What to tell the user about the lanes left out ("" when none)."""
        return "; ".join(self.left_out)


def _add(parent, tag, value):
    element = ET.SubElement(parent, tag)
    element.text = str(value)
    return element


def kit_instruments(kit_files):
    """The instruments of a kit from :func:`audio.kit.kit_files`, in kit order (its kit.json)."""
    try:
        record = json.loads(kit_files.files[_KIT_JSON])
        return list(record["instruments"])
    except (KeyError, ValueError, TypeError) as error:
        raise AudioError(f"the kit has no readable {_KIT_JSON} ({error})") from error


def lane_instruments(pattern, instruments):
    """Which kit instrument each lane plays (its index), or None with the reason.

    Returns
    -------
    list of (int or None, str)
    """
    by_source = {entry.get("source"): index for index, entry in enumerate(instruments)}
    found: list[tuple[int | None, str]] = []
    for name, source in zip(LANES, pattern.sources):
        if source == CURRENT:
            found.append((None, f"{name}: follows the current sound, which is not in the kit"))
        elif source not in by_source:
            found.append((None, f"{name}: {source} is not in the kit"))
        else:
            found.append((by_source[source], ""))
    return found


def song_for_kit(pattern: Pattern, kit_files, *, title=None) -> KitSong:
    """The ``.h2song`` of ``pattern`` for the kit ``kit_files``.

    Parameters
    ----------
    pattern : audio.pattern.Pattern
    kit_files : audio.kit.KitFiles
    title : str, optional
        The song's name (default: the kit's).

    Returns
    -------
    KitSong
    """
    instruments = kit_instruments(kit_files)
    lanes = lane_instruments(pattern, instruments)
    notes = [(step * TICKS_PER_STEP, lanes[lane][0], VELOCITY) for step, lane in pattern.hits() if lanes[lane][0] is not None]
    xml = song_xml(kit_files.name, instruments, notes, bpm=pattern.tempo, title=title or kit_files.name)
    used = tuple((name, instruments[index]["name"]) for name, (index, _) in zip(LANES, lanes) if index is not None)
    left_out = tuple(reason for (index, reason), row in zip(lanes, pattern.steps) if index is None and any(row))
    return KitSong(xml, used, left_out)


def song_xml(kit_name, instruments, notes, *, bpm, title) -> str:
    """Hydrogen 1.2's ``.h2song`` XML: one pattern of one 4/4 bar playing ``notes`` on a kit.

    Parameters
    ----------
    kit_name : str
        The installed kit whose instruments the song plays.
    instruments : list of dict
        The kit's instruments in kit order, as its kit.json records them: ``name``, and
        ``layers`` of ``file``, ``min``, ``max`` and ``gain``.
    notes : iterable of (int, int, float)
        ``(tick, instrument index, velocity)``; a bar is ``TICKS_PER_BAR`` ticks.
    bpm : int
    title : str

    Returns
    -------
    str
    """
    song = ET.Element("song")
    for tag, value in (
        ("version", "1.2.0"),
        ("bpm", bpm),
        ("volume", 1),
        ("metronomeVolume", 0),
        ("name", title),
        ("author", "ML Sample Generator"),
        ("notes", "A step pattern from ML Sample Generator."),
        ("license", "undefined license"),
        ("loopEnabled", "false"),
        ("patternModeMode", "true"),
        ("mode", "song"),
        ("humanize_time", 0),
        ("humanize_velocity", 0),
        ("swing_factor", 0),
    ):
        _add(song, tag, value)
    component = ET.SubElement(ET.SubElement(song, "componentList"), "drumkitComponent")
    for tag, value in (("id", 0), ("name", "Main"), ("volume", 1)):
        _add(component, tag, value)
    _instrument_list(song, kit_name, instruments)
    _pattern(song, notes)
    ET.SubElement(song, "virtualPatternList")
    _add(ET.SubElement(ET.SubElement(song, "patternSequence"), "group"), "patternID", "pattern")
    ET.indent(song, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(song, encoding="unicode") + "\n"


def _instrument_list(song, kit_name, instruments):
    listing = ET.SubElement(song, "instrumentList")
    for index, entry in enumerate(instruments):
        instrument = ET.SubElement(listing, "instrument")
        for tag, value in (
            ("id", index),
            ("name", entry["name"]),
            ("drumkit", kit_name),
            ("drumkitLookup", 0),
            ("volume", 1),
            ("isMuted", "false"),
            ("isSoloed", "false"),
            ("pan", 0),
            ("gain", 1),
            ("applyVelocity", "true"),
            ("filterActive", "false"),
            ("filterCutoff", 1),
            ("filterResonance", 0),
            ("Attack", 0),
            ("Decay", 0),
            ("Sustain", 1),
            ("Release", 1000),
            ("pitchOffset", 0),
            ("randomPitchFactor", 0),
            ("muteGroup", -1),
            ("isStopNote", "false"),
            ("sampleSelectionAlgo", "VELOCITY"),
            ("midiOutChannel", -1),
            ("midiOutNote", 36 + index),
            ("isHihat", -1),
            ("lower_cc", 0),
            ("higher_cc", 127),
        ):
            _add(instrument, tag, value)
        part = ET.SubElement(instrument, "instrumentComponent")
        _add(part, "component_id", 0)
        _add(part, "gain", 1)
        for layer in entry["layers"]:
            element = ET.SubElement(part, "layer")
            for tag, value in (
                ("filename", layer["file"]),
                ("min", layer["min"]),
                ("max", layer["max"]),
                ("gain", layer["gain"]),
                ("pitch", 0),
            ):
                _add(element, tag, value)


def _pattern(song, notes):
    element = ET.SubElement(ET.SubElement(song, "patternList"), "pattern")
    for tag, value in (
        ("name", "pattern"),
        ("category", "ML Sample Generator"),
        ("size", TICKS_PER_BAR),
        ("denominator", 4),
        ("info", ""),
    ):
        _add(element, tag, value)
    note_list = ET.SubElement(element, "noteList")
    for tick, index, velocity in notes:
        note = ET.SubElement(note_list, "note")
        attributes: tuple[tuple[str, object], ...] = (
            ("position", tick),
            ("leadlag", 0),
            ("velocity", velocity),
            ("pan", 0),
            ("pitch", 0),
            ("probability", 1),
            ("key", "C0"),
            ("length", -1),
            ("instrument", index),
            ("note_off", "false"),
        )
        for tag, text in attributes:
            _add(note, tag, text)


def song_path(kit_path):
    """Where a kit's song goes: beside it, with its name (``MyKit.h2drumkit`` -> ``MyKit.h2song``)."""
    return Path(kit_path).with_suffix(SONG_SUFFIX)


def write_song(path: str | os.PathLike, song: KitSong, *, overwrite: bool = False) -> Path:
    """Write a song atomically; an existing file only with ``overwrite`` (the user's yes).

    Raises
    ------
    safeio.FileExistsRefused, safeio.WriteFailed
    """
    return atomic_write_text(path, song.xml, overwrite=overwrite)
