"""Imported models: a researcher's decoder (Keras or ONNX) with a latent of any size, found
in a zoo folder by its card (kind ``imported``), not by the registry.

A folder written by ``app.py import-model`` (:mod:`models.importing`) holds ``card.json``,
``decoder.keras`` or ``decoder.onnx``, and optionally ``encoder.*`` and ``codes.npz``.
:func:`load_imported` makes it an :class:`ImportedModel`, a
:class:`models.interface.ModelProtocol` as the shipped models are, with what a wide latent
needs on top:

- ``latent_dim`` (D) and the per-axis range, centre and ``pad_axes`` from the card;
- ``decode`` takes full vectors (N, D); pad points (N, 2) are mapped to full vectors by
  :meth:`ImportedModel.pad_to_latent` (the pad's two axes, every other axis at its centre);
- ``spec`` is an :class:`ImportedSpec` made from the card, so callers that ask the registry's
  questions (list group, words, prior, noise source, family pads) get answers.
"""

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from models.card import CARD_FILE, ModelCard, read_card
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError
from models.imported_formats import Network, keras_network, keras_reference, onnx_network, read_model_bytes
from models.registry import IMPORTED_KIND, REGISTRY, LatentPrior, ModelSpec
from models.trained_folder import CODES_FILE, LatentCodes, LatentPlane, read_codes

#: Points decoded per pass (as the NumPy engine's DECODE_CHUNK).
DECODE_CHUNK = 16
IMPORTED_GROUP = "imported"


@dataclass(frozen=True)
class ImportedSpec(ModelSpec):
    """The registry's facts for an imported model, from its card: no family input, no
    family pads (this slice), no noise source, an encoder only when one was imported."""

    encoder: bool = False
    latent_dim: int = 2
    pad_axes: tuple[int, int] = (0, 1)

    @property
    def has_encoder(self):
        return self.encoder

    @property
    def family_pads(self):
        return False


def imported_spec(card: ModelCard) -> ImportedSpec:
    """The :class:`ImportedSpec` of an imported model's card."""
    latent = card.latent
    low, high = latent["low"], latent["high"]
    axes = latent["pad_axes"]
    return ImportedSpec(
        name=card.name,
        kind=IMPORTED_KIND,
        group=IMPORTED_GROUP,
        builder="",
        defaults=MappingProxyType({}),
        summary=card.summary,
        listed=False,
        words=card.summary or f"An imported decoder with a {latent['dim']}-D latent.",
        # the pad's square, as a prior: a uniform over its first axis (the pad spans both, see latent_range)
        prior=LatentPrior("uniform", low=float(low[axes[0]]), high=float(high[axes[0]])),
        encoder="encoder" in card.files,
        latent_dim=int(latent["dim"]),
        pad_axes=(int(axes[0]), int(axes[1])),
    )


def user_models_folder() -> Path:
    """The user's own zoo, where ``import-model`` writes by default:
    ``$XDG_DATA_HOME/ml-sample-generator/models``, else ``~/.local/share/...`` (when
    XDG_DATA_HOME is unset or not an absolute path, as the XDG specification says)."""
    import os

    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "ml-sample-generator" / "models"


def is_imported_folder(folder: str | Path, name: str) -> bool:
    """True when ``folder/name`` is a model folder that is not a registry name and has a
    card (what the listing and the loaders take for an imported model)."""
    return name not in REGISTRY and not name.startswith(".") and (Path(folder) / name / CARD_FILE).is_file()


def imported_names(folder: str | Path) -> list[str]:
    """The imported model folders of a zoo, sorted (unreadable folders give none)."""
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return []
    return [entry.name for entry in entries if entry.is_dir() and not entry.is_symlink() and is_imported_folder(folder, entry.name)]


def read_imported_card(model_dir: str | Path) -> ModelCard:
    """The card of an imported model folder; ModelUnavailableError for any other."""
    card = read_card(Path(model_dir) / CARD_FILE)
    if card.kind != IMPORTED_KIND:
        raise ModelUnavailableError(f"{Path(model_dir) / CARD_FILE}: kind is {card.kind!r}, not an imported model")
    return card


def network_of(path: Path, record: dict, runs_on: str | None = None) -> tuple[Network, str]:
    """A decoder or encoder file (its card's ``files`` record) as a function, and how it
    runs ("onnxruntime", "numpy", "keras"): a .keras file on the NumPy engine unless its
    import found that the engine cannot run it as Keras does (``runs_on`` "keras").
    ModelUnavailableError when the file's sha256 is not the one its card records."""
    import hashlib

    data = read_model_bytes(path)
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise ModelUnavailableError(f"{path}: changed since it was imported (its sha256 is not the card's); import it again")
    fmt = record["format"]
    if fmt == "onnx":
        return onnx_network(path, data)[0], "onnxruntime"
    if runs_on == "keras":
        return keras_reference(path), "keras"
    return keras_network(path)


class ImportedModel(LatentPlane):
    """An imported decoder (and encoder) with a latent of D dimensions.

    Parameters
    ----------
    card : ModelCard
        Kind ``imported``; its ``latent`` gives ``dim``, ``low``, ``high``, ``center`` and
        ``pad_axes``.
    decode_function : callable
        ``(N, D) float32 -> (N, sample_length)``.
    encode_function : callable, optional
        ``(N, sample_length) -> (N, D)``.
    codes : LatentCodes, optional
        The training sounds on the pad's two axes.
    decode_path : str
        How it decodes ("onnxruntime", "numpy", "keras").
    """

    def __init__(
        self,
        card: ModelCard,
        decode_function: Network,
        encode_function: Network | None = None,
        codes: LatentCodes | None = None,
        *,
        decode_path: str = "onnxruntime",
    ) -> None:
        self.card = card
        self.name = card.name
        self.kind = card.kind
        self.sample_rate = card.sample_rate
        self.sample_length = card.sample_length
        self.codes = codes
        self.decode_path = decode_path
        latent = card.latent
        self.latent_dim = int(latent["dim"])
        self.pad_axes = (int(latent["pad_axes"][0]), int(latent["pad_axes"][1]))
        self.low = np.asarray(latent["low"], np.float32)
        self.high = np.asarray(latent["high"], np.float32)
        self.middle = np.asarray(latent["center"], np.float32)
        self._decode = decode_function
        self._encode = encode_function
        self._spec = imported_spec(card)
        self.no_codes_reason = (
            None if codes is not None else f"{self.name} has no training dots: it was imported without --encoder and --data"
        )
        self._fit_family_pads()

    def __repr__(self) -> str:
        return f"ImportedModel({self.name!r}, dim={self.latent_dim}, path={self.decode_path!r})"

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def has_encoder(self) -> bool:
        return self._encode is not None

    def _fit_family_pads(self) -> None:
        self.family_pads = None
        self.no_family_reason = f"{self.name} has no family pads (an imported model; its families are not known)"

    def latent_range(self) -> tuple[float, float, float, float]:
        """The pad's square: its two axes' ranges."""
        x, y = self.pad_axes
        return (float(self.low[x]), float(self.high[x]), float(self.low[y]), float(self.high[y]))

    @property
    def center(self) -> tuple[float, float]:
        x, y = self.pad_axes
        return (float(self.middle[x]), float(self.middle[y]))

    def pad_to_latent(self, points: Any, family: Any = None) -> np.ndarray:
        """Full latent vectors (N, D) for pad points (N, 2): the pad's two axes set, every
        other axis at its centre. (D = 2 with axes (0, 1): the points themselves.)"""
        if family is not None:
            raise ModelInputError(self.no_family_reason)
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        full = np.repeat(self.middle[None, :], len(points), axis=0)
        full[:, self.pad_axes[0]] = points[:, 0]
        full[:, self.pad_axes[1]] = points[:, 1]
        return full

    def full_vectors(self, points: npt.ArrayLike) -> np.ndarray:
        """``points`` as full vectors (N, D): full vectors as they are, pad points (N, 2)
        through :meth:`pad_to_latent`; ModelInputError for any other width or a number
        that is not finite."""
        points = np.asarray(points, dtype=np.float32)
        if points.ndim == 1:
            points = points[None, :]
        if points.ndim != 2 or points.shape[1] not in (2, self.latent_dim):
            raise ModelInputError(f"points must have shape (N, {self.latent_dim}) or pad points (N, 2), not {points.shape}")
        if not np.isfinite(points).all():
            raise ModelInputError("points must be finite numbers")
        return points if points.shape[1] == self.latent_dim else self.pad_to_latent(points)

    def decode(
        self, points: npt.ArrayLike, variation: int | None = None, family: Any = None, seconds: float | None = None
    ) -> np.ndarray:
        """Audio (N, sample_length) float32 for full vectors (N, D) or pad points (N, 2).
        ``variation`` is ignored (the decoder is deterministic); a family or ``seconds``
        are refused (ModelInputError), as for any model that takes neither."""
        if family is not None:
            raise ModelInputError(self.no_family_reason)
        self.render_length(seconds)
        vectors = self.full_vectors(points)
        audio = np.empty((len(vectors), self.sample_length), np.float32)
        for start in range(0, len(vectors), DECODE_CHUNK):
            chunk = vectors[start : start + DECODE_CHUNK]
            out = np.asarray(self._decode(chunk), dtype=np.float32)
            audio[start : start + len(chunk)] = out.reshape(len(chunk), self.sample_length)
        return audio

    def encode(self, audio: Any, family: Any = None) -> np.ndarray:
        """Full latent vectors (N, D) of audio (N, sample_length); NoEncoderError without an encoder."""
        if self._encode is None:
            raise NoEncoderError(f"{self.name} has no encoder (it was imported without --encoder)")
        batch = self.checked_audio(audio)
        return np.asarray(self._encode(batch), np.float32).reshape(len(batch), self.latent_dim)


def load_imported(name: str, folder: str | Path) -> ImportedModel:
    """Load ``folder/name`` written by ``app.py import-model``.

    Raises
    ------
    ModelUnavailableError
        The card is missing, damaged or not an imported model's, or a network file cannot
        be run; one line naming the file.
    """
    model_dir = Path(folder) / name
    card = read_imported_card(model_dir)
    record = card.files["decoder"]
    decode, path = network_of(model_dir / record["file"], record, card.validation.get("runs_on"))
    encode = None
    if "encoder" in card.files:
        encode = network_of(model_dir / card.files["encoder"]["file"], card.files["encoder"], card.validation.get("runs_on"))[0]
    codes = read_codes(model_dir / CODES_FILE) if (model_dir / CODES_FILE).is_file() else None
    model = ImportedModel(card, decode, encode, codes, decode_path=path)
    try:
        made = model.decode(model.middle[None, :])
    except (ValueError, IndexError) as error:
        raise ModelUnavailableError(f"{model_dir / record['file']}: cannot run ({error})") from None
    if made.shape != (1, model.sample_length):
        raise ModelUnavailableError(f"{model_dir / record['file']}: makes {made.shape}, the card says (1, {model.sample_length})")
    return model
