"""The one model-card schema: :class:`ModelCard`, written by training and read everywhere.

A card (``trained/NAME/card.json``) says what a model is, what it was trained on and how,
and how it did. Readers never guess keys: they go through :meth:`ModelCard.from_dict`
(or :func:`read_card`), which checks every known field's type and range and raises
:class:`CardError` with one line such as ``sample_rate must be a whole number of Hz``.
A card that fails makes that one model unavailable with the reason; the others work.

Forward compatible: keys this version does not know are kept (``extra``) and written back.
Cards written before the schema had a version (the shipped ones) read as version 1.

The dataset's folder (``data.folder``) is written relative to the zoo folder (the card's
model folder's parent), so a zoo and its data moved together, or checked out on another
machine, still name each other; :func:`read_card` gives it back as a path to the folder
itself. A card that records an absolute folder (an older one) is read as it is.

Plain Python only (json, dataclasses): the TF-free inference path and the web server read it.
"""

import copy
import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from models.errors import ModelUnavailableError
from safeio import UnreadableJson, read_json

#: The schema version training writes.
CARD_VERSION = 1
CARD_FILE = "card.json"

# Audio rates a card may claim: 8-bit telephone rate up to 384 kHz studio rates.
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 384000
#: The longest sound a card may claim, in seconds (a drum sample is under two).
MAX_SAMPLE_SECONDS = 60
#: A card is a few kB; a larger file is refused before it is read (safeio's bounded reader).
MAX_CARD_BYTES = 1024 * 1024
#: An imported model's latent may have this many dimensions at most (DrumGAN's has 128).
MAX_LATENT_DIM = 1024
#: The network formats an imported model's card may name.
IMPORTED_FORMATS = ("keras", "onnx")


class CardError(ModelUnavailableError, ValueError):
    """A card that fails the schema; ``str()`` is one line, e.g. "card.json: epochs must be ..."."""


# --------------------------------------------------------------------------- checks


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _whole(
    value: Any, where: str, unit: str = "", *, minimum: int = 0, maximum: int | None = None, optional: bool = False
) -> int | None:
    """``value`` as an int, or CardError "WHERE must be a whole number[ of UNIT]"."""
    if value is None and optional:
        return None
    what = f"a whole number of {unit}" if unit else "a whole number"
    if not _is_whole(value):
        raise CardError(f"{where} must be {what}, not {_show(value)}")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"{minimum} or more" if maximum is None else f"from {minimum} to {maximum}"
        raise CardError(f"{where} must be {what} {bounds}, not {_show(value)}")
    return number


def _number(value: Any, where: str, *, minimum: float | None = None, optional: bool = True) -> float | None:
    """A finite real number (or None where ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CardError(f"{where} must be a finite number, not {_show(value)}")
    if minimum is not None and value < minimum:
        raise CardError(f"{where} must be {minimum} or more, not {_show(value)}")
    return value


def _text(value: Any, where: str, *, optional: bool = False, empty: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not empty and not value):
        raise CardError(f"{where} must be {'a text' if empty else 'a non-empty text'}, not {_show(value)}")
    return value


def _object(value: Any, where: str, *, optional: bool = True) -> dict[str, Any]:
    """A JSON object (dict with text keys); None becomes {} where ``optional``."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise CardError(f"{where} must be an object (a JSON {{...}}), not {_show(value)}")
    return value


def _kinds() -> tuple[str, ...]:
    # The registry's table of kinds, read at call time so a kind the registry gains later
    # (ddsp_vae) is valid without editing the schema.
    from models.registry import KINDS

    return tuple(KINDS)


def _check_kind(value: Any) -> str:
    kinds = _kinds()
    if value not in kinds:
        raise CardError(f"kind must be one of {', '.join(kinds)}, not {_show(value)}")
    return value


def _check_data(data: Any) -> dict[str, Any]:
    data = _object(data, "data")
    _text(data.get("folder"), "data.folder", optional=True)
    for key in ("samples", "train_samples", "validation_samples"):
        _whole(data.get(key), f"data.{key}", optional=True)
    kits = data.get("validation_kits")
    if kits is not None and (not isinstance(kits, list) or not all(isinstance(k, str) for k in kits)):
        raise CardError(f"data.validation_kits must be a list of texts, not {_show(kits)}")
    families = _object(data.get("families"), "data.families")
    for family, count in families.items():
        _whole(count, f"data.families.{family}")
    return data


def _check_preprocessing(values: Any, sample_rate: int, sample_length: int) -> dict[str, Any]:
    values = _object(values, "preprocessing")
    rate = _whole(
        values.get("sample_rate"), "preprocessing.sample_rate", "Hz", minimum=MIN_SAMPLE_RATE, maximum=MAX_SAMPLE_RATE, optional=True
    )
    length = _whole(values.get("length"), "preprocessing.length", "samples", minimum=1, optional=True)
    _number(values.get("attack_seconds"), "preprocessing.attack_seconds", minimum=0)
    _whole(values.get("channel"), "preprocessing.channel", optional=True)
    _text(values.get("normalize"), "preprocessing.normalize", optional=True)
    if rate is not None and rate != sample_rate:
        raise CardError(f"preprocessing.sample_rate ({rate} Hz) differs from sample_rate ({sample_rate} Hz)")
    if length is not None and length != sample_length:
        raise CardError(f"preprocessing.length ({length}) differs from sample_length ({sample_length})")
    return values


def _check_losses(losses: Any) -> dict[str, float | None]:
    losses = _object(losses, "losses")
    for key, value in losses.items():
        _number(value, f"losses.{key}")
    return losses


def _check_imported(latent: Any, files: Any, validation: Any) -> None:
    """An imported model's card (kind ``imported``): its latent (``dim``, per-axis ``low``,
    ``high``, ``center``, ``pad_axes``), its decoder file (format and sha256) and how it
    was validated."""
    dim = int(_whole(latent.get("dim"), "latent.dim", minimum=1, maximum=MAX_LATENT_DIM) or 0)
    for key in ("low", "high", "center"):
        values = latent.get(key)
        if not isinstance(values, list) or len(values) != dim:
            raise CardError(f"latent.{key} must be a list of {dim} numbers, not {_show(values)}")
        for index, value in enumerate(values):
            _number(value, f"latent.{key}[{index}]", optional=False)
    if not all(low < high for low, high in zip(latent["low"], latent["high"])):
        raise CardError("latent.low must be below latent.high on every axis")
    axes = latent.get("pad_axes")
    if not isinstance(axes, list) or len(axes) != 2 or axes[0] == axes[1]:
        raise CardError(f"latent.pad_axes must be two different axes, not {_show(axes)}")
    for index, axis in enumerate(axes):
        _whole(axis, f"latent.pad_axes[{index}]", maximum=dim - 1)
    for part in ("decoder", "encoder"):
        record = files.get(part)
        if record is None and part == "encoder":
            continue
        record = _object(record, f"files.{part}", optional=False)
        if record.get("format") not in IMPORTED_FORMATS:
            raise CardError(f"files.{part}.format must be one of {', '.join(IMPORTED_FORMATS)}, not {_show(record.get('format'))}")
        _text(record.get("file"), f"files.{part}.file", empty=False)
        digest = record.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise CardError(f"files.{part}.sha256 must be 64 hexadecimal digits, not {_show(digest)}")
    _object(validation, "validation", optional=False)


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class ModelCard:
    """A validated model card.

    Attributes
    ----------
    name : str
        The registry name.
    kind : str
        One of ``models.registry.KINDS``.
    sample_rate : int
        Hz, from 1000 to 384000.
    sample_length : int
        Samples per sound, 1 to ``MAX_SAMPLE_SECONDS`` seconds' worth.
    version : int
        The schema version (1 for cards written before there was one).
    group, summary : str
    config : dict
        The settings the networks were built with.
    latent : dict
        The prior (``{"prior": None}`` for autoencoders).
    parameters, training_parameters : int or None
    epochs : int or None
    data : dict
        ``folder``, sample counts, ``validation_kits``, ``families``.
    preprocessing : dict
        The preprocessing settings of the training data.
    training : dict
        How it was trained (batch size, seed, stopped, seconds, ...).
    losses : dict of str to float or None
    files : dict
    versions : dict
    date : str
    validation : dict
        How an imported model was checked before it was written (the figures); {} otherwise.
    extra : dict
        Keys this schema version does not know, kept as they were.
    """

    name: str
    kind: str
    sample_rate: int
    sample_length: int
    version: int = CARD_VERSION
    group: str = ""
    summary: str = ""
    config: dict = field(default_factory=dict)
    latent: dict = field(default_factory=dict)
    parameters: int | None = None
    training_parameters: int | None = None
    epochs: int | None = None
    data: dict = field(default_factory=dict)
    preprocessing: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    losses: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    date: str = ""
    validation: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "version", _whole(self.version, "version", minimum=1))
        _text(self.name, "name", empty=False)
        _check_kind(self.kind)
        set_(self, "sample_rate", _whole(self.sample_rate, "sample_rate", "Hz", minimum=MIN_SAMPLE_RATE, maximum=MAX_SAMPLE_RATE))
        set_(
            self,
            "sample_length",
            _whole(self.sample_length, "sample_length", "samples", minimum=1, maximum=MAX_SAMPLE_SECONDS * self.sample_rate),
        )
        _text(self.group, "group")
        _text(self.summary, "summary")
        for key in ("config", "latent", "training", "files", "versions", "validation", "extra"):
            set_(self, key, _object(getattr(self, key), key))
        for key in ("parameters", "training_parameters", "epochs"):
            set_(self, key, _whole(getattr(self, key), key, optional=True))
        set_(self, "data", _check_data(self.data))
        set_(self, "preprocessing", _check_preprocessing(self.preprocessing, self.sample_rate, self.sample_length))
        set_(self, "losses", _check_losses(self.losses))
        _text(self.date, "date")
        if self.kind == "imported":
            _check_imported(self.latent, self.files, self.validation)

    @property
    def imported(self) -> bool:
        """True for a model brought by ``app.py import-model`` (not trained here)."""
        return self.kind == "imported"

    @property
    def data_folder(self) -> str | None:
        """The dataset folder the model was trained on, or None."""
        return self.data.get("folder") or None

    @property
    def validation_kits(self) -> tuple[str, ...]:
        return tuple(self.data.get("validation_kits") or ())

    def with_data_folder(self, folder: str) -> "ModelCard":
        """This card naming ``folder`` as its dataset's (the rest unchanged)."""
        return ModelCard.from_dict({**self.to_dict(), "data": {**self.data, "folder": folder}})

    @classmethod
    def from_dict(cls, values: Any) -> "ModelCard":
        """Validate a card read from JSON.

        Parameters
        ----------
        values : dict

        Returns
        -------
        ModelCard

        Raises
        ------
        CardError
            One line naming the field and what it must be.
        """
        if not isinstance(values, dict):
            raise CardError(f"a card must be a JSON object, not {_show(values)}")
        known = {f.name for f in fields(cls)} - {"extra"}
        missing = [k for k in ("name", "kind", "sample_rate", "sample_length") if k not in values]
        if missing:
            raise CardError(f"no {', '.join(missing)}")
        kwargs = {k: copy.deepcopy(v) for k, v in values.items() if k in known}
        kwargs["version"] = values.get("version", 1)
        extra = {k: copy.deepcopy(v) for k, v in values.items() if k not in known}
        try:
            return cls(**kwargs, extra=extra)
        except TypeError as error:  # a field of a wrong shape the checks did not name
            raise CardError(str(error)) from None

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready values (a deep copy), unknown keys included."""
        out = {"version": self.version}
        for f in fields(self):
            if f.name == "validation" and not self.validation:
                continue  # a trained model's card is as it was before imports had one
            if f.name not in ("version", "extra"):
                out[f.name] = copy.deepcopy(getattr(self, f.name))
        for key, value in self.extra.items():
            out.setdefault(key, copy.deepcopy(value))
        return out


def _zoo_of(card_path: Path) -> Path:
    """The zoo folder of ``ZOO/NAME/card.json`` (or of a staged ``ZOO/.NAME....new/card.json``)."""
    return card_path.parent.parent


def read_card(path: str | os.PathLike, *, expected_kind: str | None = None) -> ModelCard:
    """Read and validate a ``card.json``.

    Parameters
    ----------
    path : str or Path
    expected_kind : str, optional
        The registry's kind for this model; a card of another kind is refused.

    Returns
    -------
    ModelCard
        Its ``data_folder`` is the dataset folder itself (joined onto the zoo folder, as
        ``path`` names it, when the card records it relative to the zoo).

    Raises
    ------
    ModelUnavailableError
        Missing, unreadable ("PATH: cannot read (Permission denied)"), too large, not JSON,
        nested too deeply, or failing the schema: "PATH: REASON" (a :class:`CardError` for
        the schema).
    """
    path = Path(path)
    if _missing(path):
        raise ModelUnavailableError(f"{path}: missing")
    try:
        values = read_json(path, max_bytes=MAX_CARD_BYTES)
    except UnreadableJson as error:
        reason = str(error).removeprefix(f"{path}: ")
        if not (reason.startswith("cannot read") or error.not_a_file):
            reason = f"damaged ({reason})"
        raise ModelUnavailableError(f"{path}: {reason}") from None
    try:
        card = ModelCard.from_dict(values)
    except CardError as error:
        raise CardError(f"{path}: {error}") from None
    if expected_kind is not None and card.kind != expected_kind:
        raise CardError(f"{path}: kind is {card.kind!r}, the registry's model is {expected_kind!r}")
    folder = card.data_folder
    if folder is not None and not os.path.isabs(folder):
        card = card.with_data_folder(os.path.normpath(_zoo_of(path) / folder))
    return card


def _missing(path: Path) -> bool:
    """True when nothing is at ``path``; False when something is, readable or not (a
    folder that cannot be searched is "cannot read", not "missing")."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def write_card(path: str | os.PathLike, card: "ModelCard | dict[str, Any]") -> Path:
    """Write ``card`` (a ModelCard or a dict that passes it) to ``path`` atomically, its
    dataset folder relative to the zoo folder (``path``'s model folder's parent)."""
    from safeio import atomic_write_text

    if not isinstance(card, ModelCard):
        card = ModelCard.from_dict(card)
    folder = card.data_folder
    if folder is not None:
        card = card.with_data_folder(os.path.relpath(os.path.abspath(folder), os.path.abspath(_zoo_of(Path(path)))))
    return atomic_write_text(path, json.dumps(card.to_dict(), indent=2) + "\n")
