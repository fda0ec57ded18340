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

from audio.song import song_xml

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


def write_song(path, kit_name, instruments, notes, *, bpm=120):
    """A one-pattern .h2song using ``kit_name``'s instruments (written by :func:`audio.song.song_xml`).

    Parameters
    ----------
    instruments : list of (name, [file names])
        As :func:`kit_instruments` reads them from the kit; a name's files are its velocity
        layers, loudest first.
    notes : list of (tick, instrument index, velocity)
    """
    entries = [
        {
            "name": name,
            "layers": [
                {"file": file_name, "min": (len(files) - 1 - k) / len(files), "max": (len(files) - k) / len(files), "gain": 1}
                for k, file_name in enumerate(files)
            ],
        }
        for name, files in instruments
    ]
    Path(path).write_text(song_xml(kit_name, entries, notes, bpm=bpm, title="kit test"))
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
