"""Metrics cached beside each model (``trained/<name>/metrics.json``).

A cached record is reused only when its key matches: the hash of the model's ``*.keras``
files, the hash of the data (its ``manifest.csv`` and preprocessing settings), the
evaluation options and the metrics version. Retraining a model, re-preprocessing the data
or asking for another grid recomputes. The record is plain JSON so the GUI can read it
without importing TensorFlow or librosa.
"""
import hashlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

METRICS_FILE = "metrics.json"
HEATMAP_FILE = "continuity.png"
METRICS_VERSION = 2  # bump when a metric's definition changes, so old caches recompute


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


def save_metrics(model_folder, record, key):
    """Write a record and its key to ``<model_folder>/metrics.json`` (atomically).

    Parameters
    ----------
    model_folder : str or Path
    record : dict
        From ``runner.evaluate_generator``.
    key : dict
        From :func:`cache_key`.

    Returns
    -------
    path : Path
    """
    folder = Path(model_folder)
    payload = _jsonable({**record, "key": key,
                         "computed": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".metrics-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(payload, stream)
    os.chmod(temporary, readable_mode())
    os.replace(temporary, folder / METRICS_FILE)
    return folder / METRICS_FILE


def load_cached_metrics(model_folder, key=None):
    """The cached metrics of a model, for the report and the GUI's Metrics view.

    Parameters
    ----------
    model_folder : str or Path
        E.g. ``trained/vae_c``.
    key : dict or None
        When given, a record whose key differs (another model file, other data, other
        options) counts as missing.

    Returns
    -------
    record : dict or None
        None when there is no readable record (or it is stale for ``key``). Otherwise:
        ``metrics`` (name -> float or None; see ``report.COLUMNS``), ``jumps`` (list of
        ``{"distance", "start": [x, y], "end": [x, y]}``), ``continuity`` with ``grid_x``,
        ``grid_y`` (arrays, shape (R,)) and ``values`` (array, shape (R, R), row = y),
        ``details``, ``reference``, ``key`` and ``computed`` (ISO date).
    """
    path = Path(model_folder) / METRICS_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "metrics" not in record:
        return None
    if key is not None and record.get("key") != _jsonable(key):
        return None
    continuity = record.get("continuity")
    if isinstance(continuity, dict):
        record["continuity"] = {
            name: np.asarray(continuity.get(name, []), dtype=float)
            for name in ("grid_x", "grid_y", "values")
        }
    return record
