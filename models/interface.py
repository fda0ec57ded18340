"""The one model interface: :class:`ModelProtocol`, what every surface may ask of a model.

Both model classes satisfy it: :class:`models.engine.Runtime` (the NumPy engine the window,
the page and the CLI decode with) and :class:`models.keras_loader.TrainedModel` (the Keras
reference), through their base :class:`models.trained_folder.LatentPlane`, which gives every
attribute a default. mypy checks both against it (the assignments at the end of this module;
``.ci/run`` type-checks this module), so a caller reads ``model.family_pads`` or
``model.card.data_folder`` directly and never guesses with ``getattr``.

What is a fact of the model's files is here (its card, codes, damaged parts, family pads);
what is a fact of the registry name is on :attr:`ModelProtocol.spec`
(:class:`models.registry.ModelSpec`: its list group, words, prior, noise source, family-pad
capability).
"""

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from models.card import ModelCard
from models.family_pads import FamilyPads
from models.registry import ModelSpec
from models.trained_folder import LatentCodes


@runtime_checkable
class ModelProtocol(Protocol):
    """A trained model, as every caller sees it.

    Attributes
    ----------
    name : str
        Its registry name.
    kind : str
        One of ``models.registry.KINDS``.
    card : models.card.ModelCard
        The validated card (the only form of it a model has).
    sample_rate, sample_length : int
    codes : LatentCodes or None
        Where its training sounds sit; None without an encoder or when the file is damaged.
    no_encoder_reason, no_codes_reason : str or None
        Why a damaged encoder or codes file is not used.
    conditioned : bool
        It takes a family as an input (ddsp_cvae).
    family_pads : FamilyPads or None
        Its family pads; None with the reason in ``no_family_reason``.
    no_family_reason : str or None
    decode_path : str
        How it decodes ("numpy", "polyphase", "keras", "onnxruntime").
    latent_dim : int
        D, the size of a full latent vector (2 for most shipped models; any for an imported
        one, whose pad shows ``pad_axes`` and whose ``pad_to_latent`` gives full vectors;
        ddsp_cvae's family frame, 16).
    pad_axes : tuple of int
        The two latent axes the pad shows.
    family_frame : bool
        Its full vectors are a family's frame (:mod:`models.family_frame`): decoded with a
        family, the pad's point and the offsets along the family's other main axes.
    """

    name: str
    kind: str
    card: ModelCard
    sample_rate: int
    sample_length: int
    codes: LatentCodes | None
    no_encoder_reason: str | None
    no_codes_reason: str | None
    conditioned: bool
    family_pads: FamilyPads | None
    no_family_reason: str | None
    decode_path: str
    latent_dim: int
    pad_axes: tuple[int, int]
    family_frame: bool

    @property
    def spec(self) -> ModelSpec:
        """Its registry entry."""

    @property
    def has_encoder(self) -> bool:
        """``encode`` works (not the GAN, not a damaged encoder file)."""

    @property
    def has_noise_source(self) -> bool:
        """A variation seed may give new noise at the same point (the registry's ``noise_source``)."""

    @property
    def has_variations(self) -> bool:
        """``decode(..., variation=k)`` gives new realisations."""

    @property
    def renders_any_length(self) -> bool:
        """``decode(..., seconds=S)`` renders beyond the trained window."""

    @property
    def takes_family(self) -> bool:
        """``decode(..., family=...)`` plays a family: an input, or its family pads."""

    @property
    def families(self) -> tuple[str, ...]:
        """The families it can be asked for."""

    @property
    def center(self) -> tuple[float, float]:
        """The centre of its data."""

    def latent_range(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)``, the square its pad spans."""

    def decode(self, points: Any, variation: int | None = None, family: Any = None, seconds: float | None = None) -> np.ndarray:
        """Audio (N, length) for latent points (N, 2)."""

    def encode(self, audio: Any, family: Any = None) -> np.ndarray:
        """Latent points (N, 2) of audio (N, sample_length)."""

    def checked_family(self, family: Any) -> np.ndarray | None:
        """The weights (7,) a family decodes with, checked for this model."""

    def pad_to_latent(self, points: Any, family: Any = None) -> np.ndarray:
        """The full latent vectors (N, latent_dim) pad points (N, 2) decode with."""

    def render_length(self, seconds: float | None) -> int:
        """The samples ``decode(..., seconds=...)`` renders."""

    def checked_audio(self, audio: Any) -> np.ndarray:
        """``audio`` as a float32 batch (N, sample_length)."""


if TYPE_CHECKING:  # mypy holds the model classes to the protocol; nothing runs here
    from models.engine import Runtime
    from models.imported import ImportedModel
    from models.keras_loader import TrainedModel

    def _runtime_is_a_model(model: Runtime) -> ModelProtocol:
        return model

    def _trained_model_is_a_model(model: TrainedModel) -> ModelProtocol:
        return model

    def _imported_model_is_a_model(model: ImportedModel) -> ModelProtocol:
        return model
