"""Metrics cached for each model: the shipped ``trained/<name>/metrics.json``, and a user cache.

A cached record is reused only when its key matches: the hash of the model's ``*.keras``
files, the hash of the data (its ``manifest.csv`` and preprocessing settings), the
evaluation options and the metrics version. Retraining a model, re-preprocessing the data
or asking for another grid recomputes. The record is plain JSON so the GUI can read it
without importing TensorFlow or librosa.

``metrics.json`` beside the model keeps one entry per dataset (``{"format": 2, "entries":
{DATA_HASH: record}}``): :func:`shipped_metrics` is the entry of the model's own training
data (its validation kits), the one the window shows. Only that data's entries are written
there; a file of the older one-record form reads as a single entry of the training data.

Entries of any other data go to the user's cache folder (:func:`user_cache_folder`:
``$XDG_CACHE_HOME/ml-sample-generator/metrics``, else ``~/.cache/...``), one file per
model folder and key, so evaluating other data never modifies the shipped zoo and works on
a zoo installed read-only. The entries the zoo's ``metrics.json`` already holds are still
read. Every file is read within :func:`safeio.read_json`'s bounds: a damaged or hostile one
(nested 200,000 levels deep, 1.5 GB) counts as no cache, with a reason
(:func:`metrics_problem`).
"""

import contextlib
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from safeio import FolderLock, NotARegularFile, UnreadableJson, WriteFailed, atomic_write_text, open_regular, read_json

METRICS_FILE = "metrics.json"
HEATMAP_FILE = "continuity.png"
METRICS_VERSION = 2  # bump when a metric's definition changes, so old caches recompute
FILE_FORMAT = 2  # the per-dataset layout of metrics.json
#: The user cache's folder under XDG_CACHE_HOME (or ~/.cache).
USER_CACHE = Path("ml-sample-generator") / "metrics"


def readable_mode():
    """The mode a plain new file gets here (0o666 less the umask); mkstemp's is 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _hash_files(paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        try:
            handle = open_regular(path)
        except NotARegularFile as error:
            # A FIFO or a folder under a network's name: no network to load, and reading it
            # would hang; what it is goes into the hash instead of its content.
            digest.update(str(error.strerror).encode())
            continue
        with handle:
            while block := handle.read(1 << 20):
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
    return {"version": METRICS_VERSION, "model": model_fp, "data": data_fp, "options": dict(options)}


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


def _entries_and_problem(model_folder):
    """``({data hash: record}, problem)`` of a model's metrics.json.

    ``problem`` is None, or one line saying why the file is unusable (then no entries).
    """
    path = Path(model_folder) / METRICS_FILE
    if not os.path.lexists(path):
        return {}, None
    try:
        content = read_json(path)
    except UnreadableJson as error:
        return {}, str(error)
    if not isinstance(content, dict):
        return {}, f"{path}: not a metrics file (a JSON {type(content).__name__})"
    if "entries" in content and isinstance(content["entries"], dict):
        return {k: v for k, v in content["entries"].items() if isinstance(v, dict) and "metrics" in v}, None
    if "metrics" in content:  # the one-record form: the shipped files were computed on training data
        data = (content.get("key") or {}).get("data", "") if isinstance(content.get("key"), dict) else ""
        return {str(data): {**content, "training_data": content.get("training_data", True)}}, None
    return {}, None


def _read_entries(model_folder):
    """``{data hash: record}`` of a metrics.json ({} when missing or unusable)."""
    return _entries_and_problem(model_folder)[0]


def metrics_problem(model_folder):
    """Why the model's ``metrics.json`` cannot be used (one line), or None when it can (or is absent)."""
    return _entries_and_problem(model_folder)[1]


def user_cache_folder():
    """The folder of the metrics of data other than the models' own (created when written).

    ``$XDG_CACHE_HOME/ml-sample-generator/metrics``; ``~/.cache/ml-sample-generator/metrics``
    when XDG_CACHE_HOME is unset or not an absolute path (as the XDG specification says).
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / USER_CACHE


def user_cache_path(model_folder, key):
    """The user-cache file of one model folder and key.

    Named after the model folder's real path and the whole key (the model's networks, the
    data, the options), so a retrained model, other data or another model folder of the
    same name never meets an entry that is not its own.
    """
    folder = os.path.realpath(model_folder)
    digest = hashlib.sha256(json.dumps({"folder": folder, "key": _jsonable(key)}, sort_keys=True).encode()).hexdigest()
    return user_cache_folder() / f"{Path(folder).name}-{digest[:32]}.json"


def _user_entry(model_folder, key):
    path = user_cache_path(model_folder, key)
    try:
        content = read_json(path)
    except UnreadableJson:
        return None  # missing, or damaged: recomputed and written again
    entry = content.get("entry") if isinstance(content, dict) else None
    return entry if isinstance(entry, dict) and "metrics" in entry else None


def _prune_user_cache(folder, keep, model_fp):
    """Remove the user-cache files of ``folder`` made for other networks (a retrained model):
    no key can match them again. Files of other folders and of other data are kept."""
    for path in user_cache_folder().glob(f"{Path(folder).name}-*.json"):
        if path == keep:
            continue
        try:
            content = read_json(path)
        except UnreadableJson:
            continue
        if not isinstance(content, dict) or content.get("model_folder") != folder:
            continue
        entry = content.get("entry")
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, dict) or key.get("model") != model_fp:
            with contextlib.suppress(OSError):
                path.unlink()


def save_metrics(model_folder, record, key, *, training_data=True, data_folder=None):
    """Cache the record of one model on one dataset.

    The model's own training data goes into ``<model_folder>/metrics.json`` (adding or
    renewing that dataset's entry): the entry the window shows. Any other data goes to the
    user cache (:func:`user_cache_path`), so the zoo is not written.

    Parameters
    ----------
    model_folder : str or Path
    record : dict
        From ``runner.evaluate_generator``.
    key : dict
        From :func:`cache_key`; ``key["data"]`` names the entry.
    training_data : bool
        The data is the model's own training data (its validation kits).
    data_folder : str, optional
        Recorded with the entry, for people reading the file.

    Returns
    -------
    path : Path
        The file written.

    Raises
    ------
    OSError
        ``safeio.WriteFailed`` (one line naming the file), or ``safeio.FolderBusy`` while a
        training run holds the model folder.
    """
    folder = Path(model_folder)
    payload = _jsonable(
        {
            **record,
            "key": key,
            "training_data": bool(training_data),
            "data_folder": None if data_folder is None else str(data_folder),
            "computed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    if not training_data:
        path = user_cache_path(folder, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WriteFailed(error.errno, f"{path.parent}: cannot write ({error.strerror or error})") from None
        # one file per key: a second writer writes the same entry, and the rename is atomic
        real = os.path.realpath(folder)
        atomic_write_text(path, json.dumps({"format": FILE_FORMAT, "model_folder": real, "entry": payload}))
        _prune_user_cache(real, path, payload["key"].get("model"))
        return path
    # The same lock as training's: the read-modify-write never interleaves with another.
    with FolderLock(folder, what="run", beside=True):
        entries = _read_entries(folder)
        entries[str(key.get("data", ""))] = payload
        atomic_write_text(folder / METRICS_FILE, json.dumps({"format": FILE_FORMAT, "entries": entries}))
    return folder / METRICS_FILE


def _with_arrays(record):
    record = dict(record)
    continuity = record.get("continuity")
    if isinstance(continuity, dict):
        record["continuity"] = {name: np.asarray(continuity.get(name, []), dtype=float) for name in ("grid_x", "grid_y", "values")}
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
        When given, the entry of ``key["data"]`` in the model's metrics.json or in the user
        cache, and only if its whole key matches (another model file or other options
        count as missing). None: the shipped entry (:func:`shipped_metrics`).

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
    wanted = _jsonable(key)
    for record in (_read_entries(model_folder).get(str(key.get("data", ""))), _user_entry(model_folder, key)):
        if record is not None and record.get("key") == wanted:
            return _with_arrays(record)
    return None
