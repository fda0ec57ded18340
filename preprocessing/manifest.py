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
from pathlib import Path

import safeio
from preprocessing.settings import PreprocessSettings

MANIFEST = "manifest.csv"
SETTINGS = "settings.json"
COLUMNS = (
    "output", "source", "kit", "instrument", "family", "velocity_layer", "velocity_range",
    "source_rate", "channels", "duration", "status", "error", "split", "source_size",
    "source_mtime_ns",
)
OK, FAILED, SKIPPED = "ok", "failed", "skipped"
TRAIN, VALIDATION = "train", "validation"
# File names may hold bytes that are not UTF-8 on Linux; they go through unchanged.
_ENCODING = dict(encoding="utf-8", errors="surrogateescape")


def atomic_write_text(path, text):
    """Write a text file of the dataset folder with the project's one atomic write."""
    return safeio.atomic_write_text(path, text, **_ENCODING)


def write_manifest(folder, rows):
    """Write ``rows`` (dicts keyed by ``COLUMNS``) as the folder's manifest.csv."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in COLUMNS})
    atomic_write_text(Path(folder) / MANIFEST, buffer.getvalue())


def read_manifest(folder):
    """The rows of a folder's manifest.csv as dicts, or None when there is none.

    Raises
    ------
    ValueError
        The file is there but lacks columns of ``COLUMNS`` (not a manifest of ours).
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    with open(path, newline="", **_ENCODING) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("output", "source", "family", "status") if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}")
        return [dict(row) for row in reader]


def write_settings(folder, settings):
    atomic_write_text(Path(folder) / SETTINGS, json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n")


def read_settings(folder):
    """The settings recorded in a folder, or None when there are none (or unreadable).

    Raises
    ------
    ValueError
        The file exists but does not hold valid settings.
    """
    path = Path(folder) / SETTINGS
    if not path.is_file():
        return None
    try:
        values = safeio.read_json(path)  # bounded (size, depth); unreadable is a reason too
    except safeio.UnreadableJson as error:
        raise ValueError(str(error)) from None
    if not isinstance(values, dict):
        raise ValueError(f"{path} does not hold a settings object")
    return PreprocessSettings.from_dict(values)
