"""A favourite's recall sidecar read back: the JSON beside its WAV (:func:`sidecar_path`),
opened as a regular file only, bounded in size and depth, and checked key by key, so a
damaged or hostile sidecar is a one-line reason, never a hang or a crash. It is written by
:func:`audio.export.recall_text`."""

import math
import os
from pathlib import Path

from audio.errors import AudioError
from audio.level import AS_MADE, LEVELS
from safeio import NotARegularFile, open_regular, parse_json

#: A sidecar is a few hundred bytes; a larger one is refused before it is read.
MAX_RECALL_BYTES = 1024 * 1024


def variation_index(settings):
    """The variation number a favourite's settings record (0 for the sound itself)."""
    record = (settings or {}).get("variation") if isinstance(settings, dict) else None
    index = record.get("index") if isinstance(record, dict) else None
    return index if isinstance(index, int) and not isinstance(index, bool) and index > 0 else 0


def sidecar_path(wav_path):
    """The recall sidecar beside a WAV: the same name with ``.json``."""
    return Path(wav_path).with_suffix(".json")


def read_recall(wav_path):
    """Read the recall data saved beside a favourite.

    Parameters
    ----------
    wav_path : str or Path
        The WAV file (or its ``.json`` sidecar).

    Returns
    -------
    dict
        ``model`` (str), ``point`` ((x, y) floats), ``settings`` (dict or None),
        ``sample_rate`` (int or None), ``date`` (ISO 8601 str or None), and any other keys
        the sidecar holds.

    Raises
    ------
    AudioError
        The sidecar is missing, unreadable, not a regular file (a FIFO), larger than
        ``MAX_RECALL_BYTES``, not JSON, nested too deeply, or lacks a model name or a point.
    """
    sidecar = sidecar_path(wav_path)
    try:
        with open_regular(sidecar) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_RECALL_BYTES:
                raise AudioError(f"{sidecar.name}: recall data is too large ({size:,} bytes; at most {MAX_RECALL_BYTES:,})")
            data = handle.read(MAX_RECALL_BYTES + 1)
    except FileNotFoundError:
        raise AudioError(f"{sidecar.name}: no recall data beside {Path(wav_path).with_suffix('.wav').name}") from None
    except NotARegularFile as error:  # a FIFO would block the read for good
        raise AudioError(f"{sidecar.name}: {error.strerror}") from None
    except OSError as error:
        raise AudioError(f"{sidecar.name}: cannot read recall data ({error.strerror or error})") from None
    if len(data) > MAX_RECALL_BYTES:  # it grew while being read
        raise AudioError(f"{sidecar.name}: recall data is too large (more than {MAX_RECALL_BYTES:,} bytes)")
    try:
        recall = parse_json(data)  # bounded depth: a hostile sidecar is a reason, not a crash
    except ValueError as error:
        reason = str(error)
        if reason.startswith("not JSON ("):
            raise AudioError(f"{sidecar.name}: recall data is not valid JSON ({reason[10:-1]})") from None
        raise AudioError(f"{sidecar.name}: recall data is not usable ({reason})") from None
    if not isinstance(recall, dict):
        raise AudioError(f"{sidecar.name}: recall data must be a JSON object")
    if not isinstance(recall.get("model"), str) or not recall["model"]:
        raise AudioError(f"{sidecar.name}: recall data has no model name")
    point = recall.get("point")
    if not (isinstance(point, list) and len(point) == 2 and all(_is_number(v) for v in point)):
        raise AudioError(f"{sidecar.name}: recall data has no latent point (two numbers)")
    recall["point"] = (float(point[0]), float(point[1]))
    settings = recall.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise AudioError(f"{sidecar.name}: recall settings must be a JSON object")
    recall.setdefault("settings", None)
    rate = recall.get("sample_rate")
    if rate is not None and not (isinstance(rate, int) and not isinstance(rate, bool) and rate > 0):
        raise AudioError(f"{sidecar.name}: recall sample rate must be a positive whole number")
    recall.setdefault("sample_rate", None)
    recall.setdefault("date", None)
    recall.setdefault("level", AS_MADE)  # sidecars from before the level choice
    if recall["level"] not in LEVELS:
        raise AudioError(f"{sidecar.name}: recall level must be one of {', '.join(LEVELS)}, not {recall['level']!r}")
    return recall


def recorded_vector(point, settings):
    """What a favourite was decoded from: the whole vector its settings record
    (``settings["latent"]``, a wide latent's: an imported model's, ddsp_cvae's family frame),
    else its pad ``point``; a tuple of floats."""
    values = (settings or {}).get("latent")
    if isinstance(values, list) and len(values) > 2 and all(_is_number(v) for v in values):
        return tuple(float(v) for v in values)
    return tuple(float(v) for v in point)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
