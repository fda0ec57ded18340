"""The dataset folder's written truth: ``manifest.csv`` and ``settings.json``.

``manifest.csv`` has one row per source file seen, in source path order:

========================  =====================================================
output                    WAV file name in the dataset folder ("" unless ok)
source                    absolute path of the source file
kit                       Hydrogen kit name, or the source's folder name
instrument                original instrument name (or the file name)
family                    one of ``labels.LABELS``
velocity_layer            "2/5" when the instrument has velocity layers
velocity_range            "0.2-0.4", the layer's velocities in the kit
source_rate, channels     from the source's header
duration                  source length in seconds
status                    ok, failed, or skipped (not an audio file by name)
error                     the one-line reason when failed or skipped
split                     train or validation (ok rows only)
source_size               bytes, with source_mtime_ns: how a re-run knows
source_mtime_ns           the source is unchanged
========================  =====================================================

``settings.json`` holds the ``PreprocessSettings`` that made the WAVs.
"""

import csv
import json
import os
import stat
from pathlib import Path

import safeio
from preprocessing.settings import PreprocessSettings

MANIFEST = "manifest.csv"
SETTINGS = "settings.json"
COLUMNS = (
    "output",
    "source",
    "kit",
    "instrument",
    "family",
    "velocity_layer",
    "velocity_range",
    "source_rate",
    "channels",
    "duration",
    "status",
    "error",
    "split",
    "source_size",
    "source_mtime_ns",
)
OK, FAILED, SKIPPED = "ok", "failed", "skipped"
TRAIN, VALIDATION = "train", "validation"
# File names may hold bytes that are not UTF-8 on Linux; they go through unchanged.
ENCODING = dict(encoding="utf-8", errors="surrogateescape")
_ENCODING = ENCODING


def atomic_write_text(path, text):
    """Write a text file of the dataset folder with the project's one atomic write."""
    return safeio.atomic_write_text(path, text, **_ENCODING)


def manifest_text(rows):
    """The text of a manifest.csv holding ``rows`` (dicts keyed by ``COLUMNS``)."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in COLUMNS})
    return buffer.getvalue()


def write_manifest(folder, rows):
    """Write ``rows`` (dicts keyed by ``COLUMNS``) as the folder's manifest.csv."""
    atomic_write_text(Path(folder) / MANIFEST, manifest_text(rows))


class UnreadableFile(ValueError):
    """A file of the dataset that is there but cannot be read (permissions, not a file)."""


#: A manifest larger than this is not one of ours (100,000 sources take about 40 MB).
MAX_MANIFEST_BYTES = 128 * 1024 * 1024


def _regular_file(path):
    """True for a regular file (or a link to one); False when nothing is there.

    Raises
    ------
    ValueError
        Something else has the name (a folder, a FIFO), or it cannot be looked at.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        raise UnreadableFile(f"{path}: is not a file")
    return True


def read_manifest(folder):
    """The rows of a folder's manifest.csv as dicts, or None when there is none.

    Raises
    ------
    UnreadableFile
        It cannot be read (permissions) or is not a file: one line naming it.
    ValueError
        One line naming the file: it lacks columns of ``COLUMNS`` (not a manifest of
        ours), is too large, or is not a CSV table.
    """
    path = Path(folder) / MANIFEST
    if not _regular_file(path):
        return None
    try:
        with open(path, newline="", **_ENCODING) as handle:
            if os.fstat(handle.fileno()).st_size > MAX_MANIFEST_BYTES:
                raise ValueError(f"{path}: too large to be a manifest (more than {MAX_MANIFEST_BYTES:,} bytes)")
            reader = csv.DictReader(handle)
            missing = [c for c in ("output", "source", "family", "status") if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}")
            return [dict(row) for row in reader]
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot be read ({error.strerror or error})") from None
    except csv.Error as error:
        raise ValueError(f"{path}: not a manifest table ({error})") from None


def settings_text(settings):
    """The text of the settings.json recording ``settings``."""
    return json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n"


def write_settings(folder, settings):
    atomic_write_text(Path(folder) / SETTINGS, settings_text(settings))


def settings_written_here(folder):
    """True when the folder's settings.json holds exactly the keys this tool writes.

    Used where no manifest stands beside it, to tell this tool's file (written just before
    the manifest by a run that was killed) from a user's own settings.json.
    """
    try:
        values = safeio.read_json(Path(folder) / SETTINGS)
    except ValueError:
        return False
    return isinstance(values, dict) and set(values) == set(PreprocessSettings().to_dict())


def read_settings(folder):
    """The settings recorded in a folder, or None when there are none.

    Raises
    ------
    UnreadableFile
        It cannot be read (permissions) or is not a file: one line naming it.
    ValueError
        One line naming the file: it is too large or too deeply nested (``safeio.read_json``'s
        bounds), is not JSON, or does not hold valid settings.
    """
    path = Path(folder) / SETTINGS
    if not _regular_file(path):
        return None
    try:
        values = safeio.read_json(path)
    except safeio.UnreadableJson as error:  # "PATH: reason"
        if isinstance(error.__context__, OSError):  # permissions: the file is not damaged
            raise UnreadableFile(str(error)) from None
        raise
    if not isinstance(values, dict):
        raise ValueError(f"{path} does not hold a settings object")
    try:
        return PreprocessSettings.from_dict(values)
    except (ValueError, TypeError) as error:  # SettingsError is a ValueError
        raise ValueError(f"{path}: {error}") from None
