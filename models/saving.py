"""Files of a trained model: .keras models (optionally with float16 weights), the model
card, the latent codes. Every write goes through :mod:`safeio` (one atomic write), so a
crash never leaves a half-written file under the real name."""
import errno
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from models.errors import ModelUnavailableError
from safeio import WriteFailed, atomic_write_bytes, atomic_write_text, temporary_name

# What reading a damaged .keras / .npz / .json can raise, from zipfile, h5py, json and
# Keras' deserialisation; anything else is a bug and should surface as one.
DAMAGED_FILE_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)

WEIGHTS_MEMBER = "model.weights.h5"


def write_json(path, obj):
    """Write a JSON object atomically (safeio.WriteFailed naming the file on failure)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path):
    """Read a JSON object; raise ModelUnavailableError naming the file when missing or
    damaged."""
    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(f"{path}: missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (*DAMAGED_FILE_ERRORS, UnicodeDecodeError) as error:
        raise ModelUnavailableError(f"{path}: damaged ({_short(error)})") from None
    if not isinstance(data, dict):
        raise ModelUnavailableError(f"{path}: damaged (not a JSON object)")
    return data


def weights_to_float16(keras_bytes):
    """Rewrite a .keras archive so its float32 weights are stored as float16.

    The model's config is untouched, so loading builds float32 layers and Keras casts
    the stored float16 values up as it assigns them: half the file, float32 compute.

    Parameters
    ----------
    keras_bytes : bytes
        A .keras archive.

    Returns
    -------
    bytes
        The same archive with float16 weights.
    """
    import h5py  # Keras' own dependency for the weights file

    members = {}
    with zipfile.ZipFile(io.BytesIO(keras_bytes)) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    # A fresh file rather than edits in place: HDF5 does not give back the space of a
    # deleted dataset, so rewriting in place would not shrink anything.
    converted = io.BytesIO()
    with h5py.File(io.BytesIO(members[WEIGHTS_MEMBER]), "r") as source, \
            h5py.File(converted, "w") as target:
        _copy_h5(source, target, h5py)
    members[WEIGHTS_MEMBER] = converted.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for filename, data in members.items():
            archive.writestr(filename, data)
    return out.getvalue()


def _copy_h5(source, target, h5py):
    """Copy an HDF5 group recursively, float32 datasets as float16."""
    target.attrs.update(dict(source.attrs))
    for key, item in source.items():
        if isinstance(item, h5py.Group):
            _copy_h5(item, target.create_group(key), h5py)
        else:
            values = item[()]
            if getattr(values, "dtype", None) == np.float32:
                values = values.astype(np.float16)
            target.create_dataset(key, data=values)
            target[key].attrs.update(dict(item.attrs))


def keras_archive(model, beside):
    """The .keras archive of ``model`` as bytes.

    Keras saves only to a path ending in ``.keras``, so it writes into a scratch folder
    with safeio's temporary name beside ``beside`` (found and removed as a leftover if the
    process dies), which is removed at once.
    """
    scratch = temporary_name(beside)
    try:
        scratch.mkdir()
        try:
            inner = scratch / "model.keras"
            model.save(inner)
            return inner.read_bytes()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except (OSError, RuntimeError) as error:  # h5py reports a full disk as either
        reason = getattr(error, "strerror", None) or _short(error)
        raise WriteFailed(getattr(error, "errno", None) or errno.EIO,
                          f"{beside}: cannot write ({reason})") from error


def save_model_file(model, path, *, float16=False):
    """Save a Keras model as .keras at ``path`` (atomically), optionally with float16
    weights (see :func:`weights_to_float16`).

    Raises
    ------
    safeio.WriteFailed
        One line naming the file and the reason (a full disk, a read-only folder).
    """
    path = Path(path)
    data = keras_archive(model, path)
    if float16:
        data = weights_to_float16(data)
    atomic_write_bytes(path, data)


def load_model_file(path):
    """Load a .keras model with ``safe_mode`` on (the project's layers are registered).

    Raises
    ------
    ModelUnavailableError
        The file is missing or cannot be read as a Keras model; the message names it.
    """
    import keras

    import models.ddsp  # noqa: F401  (registers the custom classes)
    import models.gan  # noqa: F401
    import models.layers  # noqa: F401
    import models.vae  # noqa: F401

    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(f"{path}: missing")
    if not zipfile.is_zipfile(path):
        raise ModelUnavailableError(f"{path}: damaged (not a .keras archive)")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except DAMAGED_FILE_ERRORS as error:
        raise ModelUnavailableError(f"{path}: damaged ({_short(error)})") from None


def _short(error):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."
