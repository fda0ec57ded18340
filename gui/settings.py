"""The window's remembered settings: last model, point (a wide latent's whole vector) and family,
volume, device, folders, audition, level.

A small JSON object in one file: ``$MLSG_SETTINGS`` when that is set, or the path given on
the command line (``--settings``), else ``ml-sample-generator.json`` in PySimpleGUI's
settings folder; tests always point it at a temporary file. The file is written with
``safeio.atomic_write_text`` (temporary name, fsync, rename), so a crash while saving leaves
the old settings or the new ones, never half a file. A damaged file (not JSON, not an
object) is kept as ``NAME.damaged``, said in one line on stderr, and the window starts
with the defaults.
"""

import json
import os
import sys
from pathlib import Path

from safeio import NotARegularFile, WriteFailed, atomic_write_bytes, atomic_write_text, open_regular, parse_json

ENV_VAR = "MLSG_SETTINGS"
FILENAME = "ml-sample-generator.json"
KEYS = ("model", "point", "family", "volume", "device", "models_dir", "favourites_dir", "map_mode", "audition", "level", "kit_dir")
DAMAGED_SUFFIX = ".damaged"
#: The file holds a few short values; a larger one is refused before it is read.
MAX_SETTINGS_BYTES = 1024 * 1024


def settings_path(explicit=None):
    """The settings file to use: the explicit path, ``$MLSG_SETTINGS``, or the default."""
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    import PySimpleGUI as sg

    # PySimpleGUI picks the OS's settings folder for a bare file name
    return Path(sg.UserSettings(filename=FILENAME, autosave=False, silent_on_error=True).full_filename)


def _say(note):
    print(note, file=sys.stderr, flush=True)


class Settings:
    """Read once at start (before the window), written by the io worker afterwards.

    Attributes
    ----------
    path : Path
    note : str or None
        The one line said about the file's last read or write (damaged, not saved), or None.
    """

    def __init__(self, path=None):
        self.path = settings_path(path)
        self.note = None
        self.short_note = None
        self._values = {}

    def read(self):
        """The remembered values (missing keys absent); the defaults when the file is damaged.

        Returns
        -------
        dict
            Keys from ``KEYS``.
        """
        self._values = {}
        try:
            with open_regular(self.path) as handle:  # a FIFO here would hold the window's start for good
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_SETTINGS_BYTES:  # not read, nor copied: it is no settings file
                    return self._damaged(raw=None, reason=f"too large: {size:,} bytes; at most {MAX_SETTINGS_BYTES:,}")
                raw = handle.read(MAX_SETTINGS_BYTES + 1)
        except FileNotFoundError:
            return {}
        except NotARegularFile as error:
            return self._damaged(raw=None, reason=error.strerror)
        except OSError as error:
            return self._damaged(raw=None, reason=f"cannot read: {error.strerror or error}")
        if len(raw) > MAX_SETTINGS_BYTES:
            return self._damaged(raw=None, reason=f"too large: more than {MAX_SETTINGS_BYTES:,} bytes")
        try:
            loaded = parse_json(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            return self._damaged(raw, f"not JSON: {error}")
        except ValueError as error:  # not JSON, or nested deeper than safeio's bound
            reason = str(error)
            if reason.startswith("not JSON ("):
                reason = f"not JSON: {reason[10:-1]}"
            return self._damaged(raw, reason)
        if not isinstance(loaded, dict):
            return self._damaged(raw, f"not a JSON object but {type(loaded).__name__}")
        self._values = loaded
        return {key: loaded[key] for key in KEYS if loaded.get(key) is not None}

    def _damaged(self, raw, reason):
        kept = ""
        if raw:
            copy = self.path.with_name(self.path.name + DAMAGED_SUFFIX)
            try:
                atomic_write_bytes(copy, raw)
                kept = f"; it is kept as {copy.name}"
            except WriteFailed:
                kept = ""
        self.note = f"settings: {self.path} is damaged ({reason}); starting with the defaults{kept}"
        # what the window's status line says all session (stderr has the reason)
        self.short_note = f"settings: {self.path.name} was damaged, so the defaults are used{kept}"
        _say(self.note)
        return {}

    def store(self, values):
        """Remember ``values`` (a dict with keys from ``KEYS``) and write the file atomically.

        Keys this version does not know are kept as they were. A file that cannot be written
        (a read-only or full disk) is said in one line on stderr and the old file stays.

        Returns
        -------
        bool
            True when the file was written.
        """
        merged = dict(self._values)
        merged.update({key: value for key, value in values.items() if key in KEYS})
        try:
            text = json.dumps(merged, indent=4, sort_keys=True) + "\n"
        except (TypeError, ValueError) as error:
            self.note = f"settings not saved: a value is not JSON ({error})"
            _say(self.note)
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)
        except OSError as error:  # WriteFailed names the file; mkdir's error gets it here
            reason = str(error) if isinstance(error, WriteFailed) else f"{self.path}: cannot write ({error.strerror or error})"
            self.note = f"settings not saved: {reason}"
            _say(self.note)
            return False
        self._values = merged
        return True
