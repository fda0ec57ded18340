"""The window's remembered settings: last model, point, volume, device, folders.

Kept with ``sg.UserSettings`` in a JSON file. The file is ``$MLSG_SETTINGS`` when that is
set, or the path given on the command line (``--settings``), else PySimpleGUI's default
settings folder; tests always point it at a temporary file.
"""
import os
from pathlib import Path

import PySimpleGUI as sg

ENV_VAR = "MLSG_SETTINGS"
FILENAME = "ml-sample-generator.json"
KEYS = ("model", "point", "volume", "device", "models_dir", "favourites_dir", "map_mode")


def settings_path(explicit=None):
    """The settings file to use: the explicit path, ``$MLSG_SETTINGS``, or the default."""
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    # PySimpleGUI picks the OS's settings folder for a bare file name
    return Path(sg.UserSettings(filename=FILENAME, autosave=False, silent_on_error=True).full_filename)


class Settings:
    """Read once at start (before the window), written by the io worker afterwards."""

    def __init__(self, path=None):
        self.path = settings_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._store = sg.UserSettings(filename=str(self.path), autosave=False,
                                      silent_on_error=True)

    def read(self):
        """The remembered values (missing keys absent)."""
        self._store.load()
        return {key: self._store.get(key) for key in KEYS if self._store.get(key) is not None}

    def store(self, values):
        """Remember ``values`` (a dict with keys from ``KEYS``) and write the file."""
        for key, value in values.items():
            if key in KEYS:
                self._store.set(key, value)
        self._store.save()
