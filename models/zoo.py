"""What is in the zoo folder (``trained/``), read from the model cards and file sizes
without importing TensorFlow, so the GUI and ``app.py models`` can list it at once."""

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from models.card import CARD_FILE, read_card
from models.errors import ModelUnavailableError
from models.registry import MODEL_NAMES, get_spec
from models.saving import archive_json, check_layer_settings, open_model_file
from models.trained_folder import ENCODER_FILE, codes_reason, encoder_reason

CARD = CARD_FILE


@dataclass(frozen=True)
class ModelStatus:
    """One registry model's state in a zoo folder.

    Attributes
    ----------
    name, kind, group : str
    trained : bool
        Its files are all there (and look like what they should be).
    reason : str
        Why it is not available ("" when trained).
    parameters : int or None
        Shipped parameters (encoder + decoder), from the card.
    size_bytes : int
        Size of its shipped files (the checkpoint folder not counted).
    data : str or None
        The dataset folder it was trained on.
    epochs : int or None
    card : dict
        The whole card ({} when there is none).
    note : str
        What a trained model cannot do, and why: a damaged encoder or codes file ("" when
        whole). Its decoder plays (as the GAN's does, with no encoder at all).
    imported : str
        For an imported model, its latent size and format ("8-D onnx"); "" otherwise.
    """

    name: str
    kind: str
    group: str
    trained: bool
    reason: str
    parameters: int | None = None
    size_bytes: int = 0
    data: str | None = None
    epochs: int | None = None
    card: dict = field(default_factory=dict, repr=False)
    note: str = ""
    imported: str = ""


def required_files(name):
    """The files a trained model must have, in the order they are checked."""
    if get_spec(name).has_encoder:
        return (CARD, "decoder.keras", "encoder.keras", "codes.npz")
    return (CARD, "decoder.keras")


def model_status(name, folder="trained"):
    """The :class:`ModelStatus` of one registry name (UnknownModelError otherwise).

    Never raises for what is on disk: a folder or file this process cannot read
    (``chmod 000``, another user's) makes the model unavailable with "PATH: cannot read
    (...)", as a damaged one does, and the other models are not touched.
    """
    spec = get_spec(name)
    model_dir = Path(folder) / name
    base = dict(name=name, kind=spec.kind, group=spec.group)
    try:
        return _status(name, spec, model_dir, base)
    except OSError as error:
        where = error.filename or model_dir
        return ModelStatus(**base, trained=False, reason=f"{where}: cannot read ({error.strerror or error})")


def _folder_size(model_dir):
    """Bytes of the files directly in ``model_dir`` (0 when it is not there); OSError when
    it cannot be listed. A file that vanishes or cannot be stat'ed counts 0."""
    try:
        entries = list(os.scandir(model_dir))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    size = 0
    for entry in entries:
        try:
            if entry.is_file():
                size += entry.stat().st_size
        except OSError:
            pass
    return size


def _status(name, spec, model_dir, base):
    base["size_bytes"] = _folder_size(model_dir)
    card_path = model_dir / CARD
    if not card_path.exists():
        return ModelStatus(**base, trained=False, reason="not trained")
    try:
        model_card = read_card(card_path, expected_kind=spec.kind)
    except ModelUnavailableError as error:
        return ModelStatus(**base, trained=False, reason=str(error))
    base.update(parameters=model_card.parameters, epochs=model_card.epochs, data=model_card.data_folder, card=model_card.to_dict())
    notes = []
    for filename in required_files(name)[1:]:
        path = model_dir / filename
        problem = file_problem(path, model_card)
        if problem and filename == "decoder.keras":
            return ModelStatus(**base, trained=False, reason=problem)
        if problem:  # the encoder or the codes: the model plays without them
            notes.append(encoder_reason(name, problem) if filename == ENCODER_FILE else codes_reason(name, spec.prior, problem))
    return ModelStatus(**base, trained=True, reason="", note="; ".join(notes))


def file_problem(path, card):
    """Why one of a model's archives cannot be loaded ("PATH: damaged (...)"), or ""."""
    try:
        # Opened once and read through this handle: a FIFO under the name is refused
        # here (one line) instead of blocking the listing for good.
        with open_model_file(path) as handle:
            damage = archive_damage(handle, ARCHIVE_MEMBERS[Path(path).suffix])
            if damage:
                return f"{path}: damaged ({damage})"
            if Path(path).suffix == ".keras":
                check_keras_settings(handle, card, path)
    except ModelUnavailableError as error:
        return str(error)
    except OSError as error:
        return f"{error.filename or path}: cannot read ({error.strerror or error})"
    return ""


def check_keras_settings(source, card, path=None):
    """ModelUnavailableError when a .keras file's ``config.json`` is too large or too deep
    to read, or builds one of the project's own layers (ddsp_vae's synthesiser) with
    settings out of bounds or unlike the card's: what loading it would refuse, said here
    without loading it.

    Parameters
    ----------
    source : path or binary file object
        The .keras file, or the open file (from :func:`models.saving.open_model_file`).
    card : models.card.ModelCard
    path : path, optional
        The file's name for the message, when ``source`` is an open file.
    """
    path = source if path is None else path
    if not hasattr(source, "read"):
        with open_model_file(source) as handle:
            return check_keras_settings(handle, card, path)
    with zipfile.ZipFile(source) as archive:
        config = archive_json(archive, "config.json", path)
    check_layer_settings(config, path, card)


#: What loading needs inside each archive: Keras' config and weights; the codes' arrays.
ARCHIVE_MEMBERS = {
    ".keras": ("config.json", "model.weights.h5"),
    ".npz": ("points.npy", "families.npy", "names.npy", "files.npy", "is_validation.npy"),
}


def archive_damage(source, members=()):
    """Why a zip archive (.keras, .npz) cannot be loaded, or "" when it looks whole.

    Checks what loading relies on without TensorFlow: a readable zip whose members all
    pass their CRC, holding ``members``.

    Parameters
    ----------
    source : path or binary file object
        A path is opened with :func:`models.saving.open_model_file` (ModelUnavailableError
        for a FIFO, a folder, a missing or unreadable file).
    members : sequence of str
    """
    if not hasattr(source, "read"):
        with open_model_file(source) as handle:
            return archive_damage(handle, members)
    if not zipfile.is_zipfile(source):  # .keras and .npz are both zip archives
        return "not a zip archive"
    source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            missing = [m for m in members if m not in names]
            if missing:
                return f"no {', '.join(missing)} inside"
            bad = archive.testzip()  # reads every member: a truncated or flipped byte shows
            if bad is not None:
                return f"{bad} is corrupt inside"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        return str(error) or "not a zip archive"
    return ""


def imported_status(name, folder):
    """The :class:`ModelStatus` of an imported model folder (``app.py import-model``),
    from its card and its decoder file's presence and size; never raises for what is on disk."""
    from models.imported import IMPORTED_GROUP, read_imported_card

    model_dir = Path(folder) / name
    base = dict(name=name, kind="imported", group=IMPORTED_GROUP)
    try:
        base["size_bytes"] = _folder_size(model_dir)
        card = read_imported_card(model_dir)
        base.update(data=card.data_folder, card=card.to_dict())
        decoder = model_dir / card.files["decoder"]["file"]
        with open_model_file(decoder):
            pass
    except ModelUnavailableError as error:
        return ModelStatus(**base, trained=False, reason=str(error))
    except OSError as error:
        return ModelStatus(**base, trained=False, reason=f"{error.filename or model_dir}: cannot read ({error.strerror or error})")
    return ModelStatus(**base, trained=True, reason="", imported=f"{card.latent['dim']}-D {card.files['decoder']['format']}")


def list_models(folder="trained", *, imported=False):
    """The status of every registry model in ``folder``, in display order; with
    ``imported``, then every imported model there (by its card, sorted by name).

    The window and the page list the registry's only: their pads and sliders for a wide
    latent are to come."""
    statuses = [model_status(name, folder) for name in MODEL_NAMES]
    if imported:
        from models.imported import imported_names

        statuses += [imported_status(name, folder) for name in imported_names(folder)]
    return statuses
