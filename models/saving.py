"""Files of a trained model: .keras models (optionally with float16 weights), the model
card, the latent codes. Every write goes through :mod:`safeio` (one atomic write), so a
crash never leaves a half-written file under the real name."""

import errno
import io
import json
import shutil
import zipfile
from pathlib import Path

from models.errors import ModelUnavailableError
from models.synth_settings import SynthSettingsError, check_keras_config
from safeio import (
    MAX_JSON_BYTES,
    NotARegularFile,
    UnreadableJson,
    WriteFailed,
    atomic_write_bytes,
    atomic_write_text,
    one_line,
    open_regular,
    parse_json,
    temporary_name,
)
from safeio import read_json as read_bounded_json

# What reading a damaged .keras / .npz / .json can raise, from zipfile, h5py, json and
# Keras' deserialisation; anything else is a bug and should surface as one.
DAMAGED_FILE_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)

WEIGHTS_MEMBER = "model.weights.h5"

#: The longest reason a damaged-file message quotes: h5py and Keras can say a page.
REASON_LIMIT = 120


def write_json(path, obj):
    """Write a JSON object atomically (safeio.WriteFailed naming the file on failure)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path):
    """Read a JSON object within :mod:`safeio`'s bounds (size, depth); raise
    ModelUnavailableError naming the file when missing, unreadable or damaged."""
    path = Path(path)
    readable_file(path)
    try:
        data = read_bounded_json(path)
    except UnreadableJson as error:
        raise ModelUnavailableError(unusable_json_line(path, error)) from None
    if not isinstance(data, dict):
        raise ModelUnavailableError(f"{path}: damaged (not a JSON object)")
    return data


def unusable_json_line(path, error):
    """The one line for a :class:`safeio.UnreadableJson` of ``path``: "PATH: cannot read
    (...)" and "PATH: a FIFO (named pipe), not a file" as they are, any other reason as
    "PATH: damaged (reason)"."""
    reason = str(error).removeprefix(f"{path}: ")
    if reason.startswith("cannot read") or error.not_a_file:
        return f"{path}: {reason}"
    return f"{path}: damaged ({reason})"


def open_model_file(path):
    """Open a model's file for reading (binary), or raise ModelUnavailableError naming it.

    A model's file may be missing, a folder, a FIFO or a device (which a plain ``open``
    would wait on for good), or unreadable (``chmod 000``, another user's): each is one line
    naming it ("PATH: cannot read (Permission denied)", "PATH: a FIFO (named pipe), not a
    file"), so that model is unavailable and the others are not touched.

    Returns
    -------
    io.BufferedReader
        From :func:`safeio.open_regular`; the caller closes it.
    """
    path = Path(path)
    try:
        return open_regular(path)
    except FileNotFoundError:
        raise ModelUnavailableError(f"{path}: missing") from None
    except NotARegularFile as error:
        if error.errno == errno.EISDIR:
            raise ModelUnavailableError(f"{path}: damaged (a folder, not a file)") from None
        raise ModelUnavailableError(str(error)) from None
    except OSError as error:
        raise ModelUnavailableError(f"{path}: cannot read ({error.strerror or error})") from None


def readable_file(path):
    """Raise ModelUnavailableError unless ``path`` is a regular file this process can open
    (:func:`open_model_file`, closed again)."""
    open_model_file(path).close()


def archive_json(archive, member, path, *, max_bytes=MAX_JSON_BYTES):
    """A JSON member of a zip archive (``.keras``), read within bounds.

    The member's size is judged from its ZipInfo before anything is decompressed, and its
    nesting by :func:`safeio.parse_json`, so a hostile archive costs nothing to refuse.

    Parameters
    ----------
    archive : zipfile.ZipFile
    member : str
    path : path
        The archive's file, for the message.

    Raises
    ------
    ModelUnavailableError
        "PATH: damaged (its MEMBER is ...)".
    """
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ModelUnavailableError(f"{path}: damaged (no {member} inside)") from None
    if info.file_size > max_bytes:
        raise ModelUnavailableError(f"{path}: damaged (its {member} is too large: {info.file_size:,} bytes; at most {max_bytes:,})")
    with archive.open(info) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ModelUnavailableError(f"{path}: damaged (its {member} is larger than {max_bytes:,} bytes)")
    try:
        return parse_json(data)
    except ValueError as error:
        raise ModelUnavailableError(f"{path}: damaged (its {member} is {error})") from None


def check_layer_settings(config, path, card=None):
    """Check the settings of the project's own layers in a .keras ``config.json`` against
    sane bounds and the card (:func:`models.synth_settings.check_keras_config`), before anything
    is built: a synthesiser at a rate of 0, or 2**26 samples long, is refused here.

    Parameters
    ----------
    config : dict
        The archive's config.json.
    path : path
        The .keras file, for the message.
    card : models.card.ModelCard, optional
        The settings must match its ``sample_rate`` and ``sample_length``.

    Raises
    ------
    ModelUnavailableError
        "PATH: damaged (the synthesiser's length must be ...)".
    """
    try:
        check_keras_config(
            config, sample_rate=None if card is None else card.sample_rate, length=None if card is None else card.sample_length
        )
    except SynthSettingsError as error:
        raise ModelUnavailableError(f"{path}: damaged ({error})") from None


def npz_json(archive, key, path, *, max_bytes=MAX_JSON_BYTES):
    """A JSON text stored as a 0-d string array ``key`` of an open ``.npz``, within bounds.

    NumPy stores each character in 4 bytes: the member is judged by its size in the zip
    before it is loaded.

    Raises
    ------
    ModelUnavailableError
        "PATH: damaged (its KEY ...)".
    """
    member = f"{key}.npy"
    try:
        info = archive.zip.getinfo(member)
    except (KeyError, AttributeError):
        raise ModelUnavailableError(f"{path}: damaged (no {key} inside)") from None
    if info.file_size > 4 * max_bytes + 1024:  # the .npy header is well under 1 kB
        raise ModelUnavailableError(f"{path}: damaged (its {key} is too large: {info.file_size:,} bytes)")
    try:
        text = str(archive[key])
    except DAMAGED_FILE_ERRORS as error:
        raise ModelUnavailableError(f"{path}: damaged (its {key}: {one_line(error, limit=REASON_LIMIT)})") from None
    try:
        return parse_json(text)
    except ValueError as error:
        raise ModelUnavailableError(f"{path}: damaged (its {key} is {error})") from None


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
    with h5py.File(io.BytesIO(members[WEIGHTS_MEMBER]), "r") as source, h5py.File(converted, "w") as target:
        _copy_h5(source, target, h5py)
    members[WEIGHTS_MEMBER] = converted.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for filename, data in members.items():
            archive.writestr(filename, data)
    return out.getvalue()


def _copy_h5(source, target, h5py):
    """Copy an HDF5 group recursively, float32 datasets as float16."""
    import numpy as np  # here: the zoo's listing imports this module and needs no NumPy

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
        reason = one_line(error, limit=REASON_LIMIT)
        raise WriteFailed(getattr(error, "errno", None) or errno.EIO, f"{beside}: cannot write ({reason})") from error


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


def load_model_file(path, card=None):
    """Load a .keras model with ``safe_mode`` on (the project's layers are registered).

    Its JSON members are read within bounds first, and the settings of the project's own
    layers checked (:func:`check_layer_settings`; against ``card``, a
    :class:`models.card.ModelCard`, when given).

    Raises
    ------
    ModelUnavailableError
        The file is missing, unreadable, cannot be read as a Keras model, or holds settings
        out of bounds; the message names it.
    """
    import keras

    import models.ddsp  # registers the custom classes, as do the four below
    import models.ddsp_cvae
    import models.gan
    import models.layers
    import models.vae  # noqa: F401 -- imported for its registrations only

    path = Path(path)
    try:
        with open_model_file(path) as handle:
            if not zipfile.is_zipfile(handle):
                raise ModelUnavailableError(f"{path}: damaged (not a .keras archive)")
            # Keras parses config.json and metadata.json with json.loads, unbounded: bound
            # them here first.
            with zipfile.ZipFile(handle) as archive:
                config = archive_json(archive, "config.json", path)
                for member in archive.namelist():
                    if member.endswith(".json") and member != "config.json":
                        archive_json(archive, member, path)
        # ddsp_vae's layers are built from settings in that config: bounds first (a rate of
        # 0 divides by zero, a length of 2**26 asks for gigabytes). Keras' public loader
        # takes a path only: the name was a regular file a moment ago, checked above.
        check_layer_settings(config, path, card)
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except DAMAGED_FILE_ERRORS as error:
        raise ModelUnavailableError(f"{path}: damaged ({one_line(error, limit=REASON_LIMIT)})") from None
