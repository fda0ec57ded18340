"""Metrics cached beside each model (``trained/<name>/metrics.json``).

A cached record is reused only when its key matches: the hash of the model's ``*.keras``
files, the hash of the data (its ``manifest.csv`` and preprocessing settings), the
evaluation options and the metrics version. Retraining a model, re-preprocessing the data
or asking for another grid recomputes. The record is plain JSON so the GUI can read it
without importing TensorFlow or librosa.

The file keeps one entry per dataset (``{"format": 2, "entries": {DATA_HASH: record}}``),
so evaluating other data never replaces the metrics of the model's own training data
(its validation kits): :func:`shipped_metrics` is that entry, the one the window shows.
A file of the older one-record form reads as a single entry of the training data.
"""
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from safeio import FolderLock, atomic_write_text

METRICS_FILE = "metrics.json"
HEATMAP_FILE = "continuity.png"
METRICS_VERSION = 2  # bump when a metric's definition changes, so old caches recompute
FILE_FORMAT = 2  # the per-dataset layout of metrics.json


def readable_mode():
    """The mode a plain new file gets here (0o666 less the umask); mkstemp's is 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _hash_files(paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_fingerprint(model_folder):
    """Hash of the model's saved networks (every ``*.keras`` file directly in the folder).

    Parameters
    ----------
    model_folder : str or Path

    Returns
    -------
    fingerprint : str
        Hex SHA-256; checkpoints (in ``checkpoint/``) do not count.
    """
    return _hash_files(sorted(Path(model_folder).glob("*.keras")))


def data_fingerprint(manifest_path, settings):
    """Hash of a dataset: its manifest and its preprocessing settings.

    Parameters
    ----------
    manifest_path : str or Path or None
        The dataset's ``manifest.csv``; None when the data has none.
    settings : dict
        The preprocessing settings (``PreprocessSettings.to_dict()``).

    Returns
    -------
    fingerprint : str
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    if manifest_path is not None and Path(manifest_path).is_file():
        digest.update(Path(manifest_path).read_bytes())
    return digest.hexdigest()


def cache_key(model_fp, data_fp, options):
    """The key a cached record must carry to be reused.

    Parameters
    ----------
    model_fp, data_fp : str
        From :func:`model_fingerprint` and :func:`data_fingerprint`.
    options : dict
        ``EvaluationOptions.to_dict()``.

    Returns
    -------
    key : dict
    """
    return {"version": METRICS_VERSION, "model": model_fp, "data": data_fp,
            "options": dict(options)}


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _read_entries(model_folder):
    """``{data hash: record}`` of a metrics.json ({} when missing or unreadable)."""
    path = Path(model_folder) / METRICS_FILE
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(content, dict):
        return {}
    if "entries" in content and isinstance(content["entries"], dict):
        return {k: v for k, v in content["entries"].items() if isinstance(v, dict) and "metrics" in v}
    if "metrics" in content:  # the one-record form: the shipped files were computed on training data
        data = (content.get("key") or {}).get("data", "") if isinstance(content.get("key"), dict) else ""
        return {str(data): {**content, "training_data": content.get("training_data", True)}}
    return {}


def save_metrics(model_folder, record, key, *, training_data=True, data_folder=None):
    """Add (or renew) the entry of one dataset in ``<model_folder>/metrics.json``.

    Parameters
    ----------
    model_folder : str or Path
    record : dict
        From ``runner.evaluate_generator``.
    key : dict
        From :func:`cache_key`; ``key["data"]`` names the entry.
    training_data : bool
        The data is the model's own training data (its validation kits): this entry is
        the one the window shows. Entries of other data are kept beside it.
    data_folder : str, optional
        Recorded with the entry, for people reading the file.

    Returns
    -------
    path : Path

    Raises
    ------
    OSError
        ``safeio.WriteFailed`` (one line naming the file), or ``safeio.FolderBusy`` while a
        training run holds the model folder.
    """
    folder = Path(model_folder)
    payload = _jsonable({**record, "key": key, "training_data": bool(training_data),
                         "data_folder": None if data_folder is None else str(data_folder),
                         "computed": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    # The same lock as training's: the read-modify-write never interleaves with another.
    with FolderLock(folder, what="run", beside=True):
        entries = _read_entries(folder)
        entries[str(key.get("data", ""))] = payload
        atomic_write_text(folder / METRICS_FILE,
                          json.dumps({"format": FILE_FORMAT, "entries": entries}))
    return folder / METRICS_FILE


def _with_arrays(record):
    record = dict(record)
    continuity = record.get("continuity")
    if isinstance(continuity, dict):
        record["continuity"] = {
            name: np.asarray(continuity.get(name, []), dtype=float)
            for name in ("grid_x", "grid_y", "values")
        }
    return record


def shipped_metrics(model_folder):
    """The entry the window shows: the model's training data's (the newest such), else the
    newest entry of any data; None when there is none."""
    entries = list(_read_entries(model_folder).values())
    if not entries:
        return None
    own = [e for e in entries if e.get("training_data")]
    chosen = max(own or entries, key=lambda e: str(e.get("computed", "")))
    return _with_arrays(chosen)


def load_cached_metrics(model_folder, key=None):
    """The cached metrics of a model, for the report and the GUI's Metrics view.

    Parameters
    ----------
    model_folder : str or Path
        E.g. ``trained/vae_c``.
    key : dict or None
        When given, the entry of ``key["data"]``, and only if its whole key matches
        (another model file or other options count as missing). None: the shipped entry
        (:func:`shipped_metrics`).

    Returns
    -------
    record : dict or None
        None when there is no readable record (or it is stale for ``key``). Otherwise:
        ``metrics`` (name -> float or None; see ``report.COLUMNS``), ``jumps`` (list of
        ``{"distance", "start": [x, y], "end": [x, y]}``), ``continuity`` with ``grid_x``,
        ``grid_y`` (arrays, shape (R,)) and ``values`` (array, shape (R, R), row = y),
        ``details``, ``reference``, ``key``, ``training_data`` and ``computed`` (ISO date).
    """
    if key is None:
        return shipped_metrics(model_folder)
    record = _read_entries(model_folder).get(str(key.get("data", "")))
    if record is None or record.get("key") != _jsonable(key):
        return None
    return _with_arrays(record)
