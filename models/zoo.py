"""What is in the zoo folder (``trained/``), read from the model cards and file sizes
without importing TensorFlow, so the GUI and ``app.py models`` can list it at once."""
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from models.card import CARD_FILE, read_card
from models.errors import ModelUnavailableError
from models.registry import MODEL_NAMES, get_spec

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


def required_files(name):
    """The files a trained model must have, in the order they are checked."""
    if get_spec(name).has_encoder:
        return (CARD, "decoder.keras", "encoder.keras", "codes.npz")
    return (CARD, "decoder.keras")


def model_status(name, folder="trained"):
    """The :class:`ModelStatus` of one registry name (UnknownModelError otherwise)."""
    spec = get_spec(name)
    model_dir = Path(folder) / name
    size = sum(p.stat().st_size for p in model_dir.glob("*") if p.is_file()) if model_dir.is_dir() else 0
    base = dict(name=name, kind=spec.kind, group=spec.group, size_bytes=size)
    card_path = model_dir / CARD
    if not card_path.is_file():
        return ModelStatus(**base, trained=False, reason="not trained")
    try:
        model_card = read_card(card_path, expected_kind=spec.kind)
    except ModelUnavailableError as error:
        return ModelStatus(**base, trained=False, reason=str(error))
    base.update(parameters=model_card.parameters, epochs=model_card.epochs,
                data=model_card.data_folder, card=model_card.to_dict())
    for filename in required_files(name)[1:]:
        path = model_dir / filename
        if not path.is_file():
            return ModelStatus(**base, trained=False, reason=f"{path}: missing")
        damage = archive_damage(path, ARCHIVE_MEMBERS[Path(filename).suffix])
        if damage:
            return ModelStatus(**base, trained=False, reason=f"{path}: damaged ({damage})")
    return ModelStatus(**base, trained=True, reason="")


#: What loading needs inside each archive: Keras' config and weights; the codes' arrays.
ARCHIVE_MEMBERS = {
    ".keras": ("config.json", "model.weights.h5"),
    ".npz": ("points.npy", "families.npy", "names.npy", "files.npy", "is_validation.npy"),
}


def archive_damage(path, members=()):
    """Why a zip archive (.keras, .npz) cannot be loaded, or "" when it looks whole.

    Checks what loading relies on without TensorFlow: a readable zip whose members all
    pass their CRC, holding ``members``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
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


def list_models(folder="trained"):
    """The status of every registry model in ``folder``, in display order."""
    return [model_status(name, folder) for name in MODEL_NAMES]
