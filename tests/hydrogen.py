"""A real Hydrogen client for the kit tests: h2cli run headless, and tiny songs to render.

h2cli needs a HOME (it writes ``~/.hydrogen``) and, without ``-d alsa``, spends about ten
seconds looking for a JACK server; the tests point ALSA at its null device (conftest.py), so
``-d alsa`` starts at once and makes no sound.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

H2CLI = shutil.which("h2cli")
TICKS_PER_BEAT = 48  # Hydrogen's resolution: a 4/4 bar is 192 ticks
_NS = {"h2": "http://www.hydrogen-music.org/drumkit"}


def h2cli(home, *args, timeout=120):
    """Run h2cli with ``home`` as HOME and the ALSA driver; the CompletedProcess."""
    env = dict(os.environ, HOME=str(home))
    return subprocess.run(
        [H2CLI, "-d", "alsa", *map(str, args)], env=env, capture_output=True, check=False, text=True, errors="replace", timeout=timeout
    )


def kit_instruments(drumkit_xml):
    """``[(name, [layer file names])]`` of a Hydrogen 1.2 drumkit.xml."""
    root = ET.parse(drumkit_xml).getroot()
    found = []
    for instrument in root.iterfind("h2:instrumentList/h2:instrument", _NS):
        files = [
            layer.findtext("h2:filename", namespaces=_NS) for layer in instrument.iterfind("h2:instrumentComponent/h2:layer", _NS)
        ]
        found.append((instrument.findtext("h2:name", namespaces=_NS), files))
    return found


def _text(parent, tag, value):
    ET.SubElement(parent, tag).text = str(value)


def write_song(path, kit_name, instruments, notes, *, bpm=120, bar_ticks=192):
    """A one-pattern .h2song using ``kit_name``'s instruments.

    Parameters
    ----------
    instruments : list of (name, [file names])
        As :func:`kit_instruments` reads them from the kit.
    notes : list of (tick, instrument index, velocity)
    """
    song = ET.Element("song")
    for tag, value in (
        ("version", "1.2.0"),
        ("bpm", bpm),
        ("volume", 1),
        ("metronomeVolume", 0),
        ("name", "kit test"),
        ("author", "tests"),
        ("notes", "-"),
        ("license", "-"),
        ("loopEnabled", "false"),
        ("patternModeMode", "true"),
        ("mode", "song"),
    ):
        _text(song, tag, value)
    component = ET.SubElement(ET.SubElement(song, "componentList"), "drumkitComponent")
    for tag, value in (("id", 0), ("name", "Main"), ("volume", 1)):
        _text(component, tag, value)
    listing = ET.SubElement(song, "instrumentList")
    for index, (name, files) in enumerate(instruments):
        instrument = ET.SubElement(listing, "instrument")
        for tag, value in (
            ("id", index),
            ("name", name),
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
            _text(instrument, tag, value)
        part = ET.SubElement(instrument, "instrumentComponent")
        _text(part, "component_id", 0)
        _text(part, "gain", 1)
        for k, file_name in enumerate(files):
            layer = ET.SubElement(part, "layer")
            low, high = (len(files) - 1 - k) / len(files), (len(files) - k) / len(files)
            for tag, value in (("filename", file_name), ("min", low), ("max", high), ("gain", 1), ("pitch", 0)):
                _text(layer, tag, value)
    pattern = ET.SubElement(ET.SubElement(song, "patternList"), "pattern")
    for tag, value in (("name", "P"), ("category", "-"), ("size", bar_ticks), ("denominator", 4), ("info", "-")):
        _text(pattern, tag, value)
    note_list = ET.SubElement(pattern, "noteList")
    for tick, index, velocity in notes:
        note = ET.SubElement(note_list, "note")
        for tag, value in (
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
        ):
            _text(note, tag, value)
    ET.SubElement(song, "virtualPatternList")
    _text(ET.SubElement(ET.SubElement(song, "patternSequence"), "group"), "patternID", "P")
    ET.indent(song, space=" ")
    Path(path).write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(song, encoding="unicode"))
    return Path(path)


def onsets(audio, rate, *, threshold_db=-40.0, hold=0.1):
    """Times (s) where the level first rises above ``threshold_db`` after ``hold`` s below it."""
    level = np.max(np.abs(np.atleast_2d(audio.T).T), axis=1) if audio.ndim > 1 else np.abs(audio)
    above = level > 10 ** (threshold_db / 20)
    times, last_loud = [], -np.inf
    for index in np.flatnonzero(above):
        if index - last_loud > hold * rate:
            times.append(index / rate)
        last_loud = index
    return times
