"""A trained model's folder read without TensorFlow: its card (checked against the
registry), its latent codes, and the latent range they give.

Both inference paths use it: :mod:`models.keras_loader` (Keras, the reference) and
:mod:`models.engine` (NumPy, what the window and the CLI decode with).

Latent range (the square the GUI shows), from the registry's prior (``ModelSpec.prior``):
- autoencoders (no prior): the bounding box of the training and validation codes, widened
  by 5 % of its span on each side, so every training sample is on the map (outliers
  included: the seed's maps show them, and hiding them would hide what the model did);
- VAEs: the prior, N(0, 1) per axis, to +-3 standard deviations;
- the GAN: its uniform prior, [-GAN_PRIOR_BOUND, GAN_PRIOR_BOUND] per axis.
The centre is the median of the codes for autoencoders (robust to those outliers) and the
prior's mean (0, 0) for VAEs and the GAN.

:class:`LatentPlane` is the base of both model classes (:class:`models.engine.Runtime`,
:class:`models.keras_loader.TrainedModel`): it gives every model the attributes of
:class:`models.interface.ModelProtocol`, with their defaults, so callers read them directly.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from constants import DRUM_FAMILIES, GAN_PRIOR_BOUND, LATENT_DIM, MAX_RENDER_SECONDS, MIN_RENDER_SECONDS
from models.card import CARD_FILE, ModelCard
from models.card import read_card as read_model_card
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError
from models.families import family_vector
from models.family_pads import FamilyPads, family_pads_or_reason, no_family_reason
from models.registry import ModelSpec, get_spec
from models.saving import DAMAGED_FILE_ERRORS, open_model_file

RANGE_MARGIN = 0.05
# A code axis that does not vary (e.g. a dead ReLU unit) still gets a usable span.
MIN_SPAN = 1e-3
#: ``decode(..., seconds=S)``'s range, and the step its lengths are rounded up to (the synthesiser's
#: tonal part is rendered at a quarter of the rate).
MIN_SECONDS, MAX_SECONDS, RENDER_STEP = MIN_RENDER_SECONDS, MAX_RENDER_SECONDS, 4


@dataclass(frozen=True)
class LatentCodes:
    """Where the training data sits in a model's latent plane.

    Attributes
    ----------
    points : np.ndarray, shape (N, 2), float32
        The encoder's point for each sample (the mean, for a VAE).
    families, names, files : np.ndarray, shape (N,), str
    is_validation : np.ndarray, shape (N,), bool
    full : np.ndarray, shape (N, D), float32, or None
        A wide latent's whole codes (an imported model's, D > 2): ``points`` are two of
        their columns, the pad's axes; None for a 2-D latent.
    """

    points: np.ndarray
    families: np.ndarray
    names: np.ndarray
    files: np.ndarray
    is_validation: np.ndarray
    full: np.ndarray | None = None

    def __len__(self):
        return int(self.points.shape[0])


def read_codes(path):
    """Read a codes.npz; ModelUnavailableError naming the file when missing or damaged."""
    path = Path(path)
    try:
        with open_model_file(path) as handle, np.load(handle, allow_pickle=False) as archive:
            codes = LatentCodes(
                points=np.asarray(archive["points"], dtype=np.float32),
                families=np.asarray(archive["families"]).astype(str),
                names=np.asarray(archive["names"]).astype(str),
                files=np.asarray(archive["files"]).astype(str),
                is_validation=np.asarray(archive["is_validation"], dtype=bool),
                full=np.asarray(archive["full"], dtype=np.float32) if "full" in archive.files else None,
            )
    except DAMAGED_FILE_ERRORS as error:
        raise ModelUnavailableError(f"{path}: damaged ({error})") from None
    n = codes.points.shape[0]
    if (
        codes.points.shape != (n, LATENT_DIM)
        or any(len(a) != n for a in (codes.families, codes.names, codes.files, codes.is_validation))
        or (codes.full is not None and (codes.full.ndim != 2 or len(codes.full) != n))
    ):
        raise ModelUnavailableError(f"{path}: damaged (arrays of different lengths)")
    return codes


def read_card(spec, model_dir):
    """The card of a trained model, read through the one schema (:mod:`models.card`).

    Parameters
    ----------
    spec : models.registry.ModelSpec
    model_dir : path
        ``folder/name``.

    Returns
    -------
    models.card.ModelCard

    Raises
    ------
    ModelUnavailableError
        The card is missing (the model is not trained), cannot be read, fails the schema,
        or is of another kind than the registry's; the one-line message names the file.
    """
    card_path = Path(model_dir) / CARD_FILE
    try:
        trained = card_path.exists()
    except OSError:  # a folder that cannot be searched: read_model_card says "cannot read"
        trained = True
    if not trained:
        raise ModelUnavailableError(f"{card_path}: missing (not trained yet: python app.py train {spec.name} --data DIR)")
    return read_model_card(card_path, expected_kind=spec.kind)


def latent_range(prior, codes):
    """The rectangle to explore: ``(xmin, xmax, ymin, ymax)`` (see the module notes).

    Parameters
    ----------
    prior : models.registry.LatentPrior
    codes : LatentCodes or None
    """
    square = prior.square()
    if square is not None:
        return square
    if codes is None or len(codes) == 0:
        b = GAN_PRIOR_BOUND
        return (-b, b, -b, b)
    low = codes.points.min(axis=0).astype(float)
    high = codes.points.max(axis=0).astype(float)
    span = np.maximum(high - low, MIN_SPAN)
    middle = (low + high) / 2
    half = span / 2 * (1 + 2 * RANGE_MARGIN)
    return tuple(float(v) for v in (middle[0] - half[0], middle[0] + half[0], middle[1] - half[1], middle[1] + half[1]))


def codes_spread(codes):
    """How far the training codes spread: the larger of their two axes' max - min.

    Returns
    -------
    float or None
        None without codes (the GAN, a model without an encoder).
    """
    points = None if codes is None else np.asarray(codes.points, dtype=np.float64)
    if points is None or len(points) == 0:
        return None
    return float(np.max(points.max(axis=0) - points.min(axis=0)))


def is_collapsed(codes):
    """True when every training code sits within ``MIN_SPAN`` of the others on both axes:
    the encoder maps every sound to one point, and the map makes one sound everywhere."""
    spread = codes_spread(codes)
    return spread is not None and spread <= MIN_SPAN


COLLAPSED_WARNING = "collapsed: every training sound encodes to one point (one sound everywhere)"


def latent_center(prior, codes):
    """The centre of the data: median code (autoencoders) or the prior's mean."""
    if prior.distribution is not None or codes is None or len(codes) == 0:
        return (0.0, 0.0)
    median = np.median(codes.points, axis=0)
    return (float(median[0]), float(median[1]))


#: The parts of a model that only encoding and the map need: a damaged one leaves the model
#: playing (its decoder is all a sound needs) and says what is missing, as the GAN plays with
#: no encoder at all.
ENCODER_FILE, CODES_FILE = "encoder.keras", "codes.npz"


def encoder_reason(name, error):
    """Why ``name`` cannot encode a sound: its encoder file's ``error``, in one line."""
    return f"{name} cannot encode a sound: {error}"


def codes_reason(name, prior, error):
    """Why ``name`` shows no training sounds: its codes file's ``error``, in one line (an
    autoencoder's range comes from its codes, so its pad spans the default square)."""
    where = (
        "" if prior.distribution is not None else f"; its pad spans -{GAN_PRIOR_BOUND:g} to {GAN_PRIOR_BOUND:g}, not its codes' range"
    )
    return f"{name} has no training dots, family pads or nearest sounds: {error}{where}"


def load_optional_parts(name, prior, model_dir, load_encoder):
    """The encoder and the codes of ``model_dir``, each None with the reason when it cannot
    be loaded.

    Parameters
    ----------
    name : str
    prior : models.registry.LatentPrior
    model_dir : path
    load_encoder : callable
        ``path -> encoder``; raises ModelUnavailableError (or OSError) for a missing or
        damaged file.

    Returns
    -------
    encoder : object or None
    codes : LatentCodes or None
    no_encoder : str or None
        Why it cannot encode (:func:`encoder_reason`); None when it can.
    no_codes : str or None
        Why it has no codes (:func:`codes_reason`); None when it has them.
    """
    model_dir = Path(model_dir)
    encoder = codes = no_encoder = no_codes = None
    try:
        encoder = load_encoder(model_dir / ENCODER_FILE)
    except (ModelUnavailableError, OSError) as error:
        no_encoder = encoder_reason(name, _file_error(error, model_dir / ENCODER_FILE))
    try:
        codes = read_codes(model_dir / CODES_FILE)
    except (ModelUnavailableError, OSError) as error:
        no_codes = codes_reason(name, prior, _file_error(error, model_dir / CODES_FILE))
    return encoder, codes, no_encoder, no_codes


def _file_error(error, path):
    if isinstance(error, OSError):
        return f"{error.filename or path}: cannot read ({error.strerror or error})"
    return str(error)


class LatentPlane:
    """The base of every model: what :class:`models.interface.ModelProtocol` declares, with
    the defaults of a model that takes no family, has no codes, no noise source and renders
    only its trained window; :meth:`latent_range` and :attr:`center` from its registry
    prior and codes; and the input checks both inference paths share.

    A subclass sets ``name``, ``kind``, ``card`` (the :class:`models.card.ModelCard`),
    ``sample_rate``, ``sample_length`` and ``codes``, then calls :meth:`_fit_family_pads`.
    """

    name: str
    kind: str
    card: ModelCard
    sample_rate: int
    sample_length: int
    #: where its training sounds sit in its plane; None without an encoder (the GAN)
    codes: LatentCodes | None = None
    #: why it cannot encode / has no training codes, when a file it has is damaged
    #: (:func:`load_optional_parts`); None when whole, or when it has none by design (the GAN)
    no_encoder_reason: str | None = None
    no_codes_reason: str | None = None
    #: True when it also takes a family as an input (:mod:`models.families`): ddsp_cvae
    conditioned: bool = False
    #: a model with family pads maps a family onto its pad (:mod:`models.family_pads`);
    #: None with the reason in ``no_family_reason`` otherwise
    family_pads: FamilyPads | None = None
    no_family_reason: str | None = None
    #: how it decodes: "numpy" (the engine), "polyphase" or "keras" (TensorFlow)
    decode_path: str = "numpy"
    #: D, a full latent vector's size, and the two axes the pad shows (an imported model's
    #: may be wider: :class:`models.imported.ImportedModel`)
    latent_dim: int = LATENT_DIM
    pad_axes: tuple[int, int] = (0, 1)
    #: True when its full vectors are a family's frame (ddsp_cvae's: :mod:`models.family_frame`)
    family_frame: bool = False

    @property
    def spec(self) -> ModelSpec:
        """Its registry entry: every fact about the model that is not in its files."""
        return get_spec(self.name)

    @property
    def has_encoder(self) -> bool:
        return False

    @property
    def has_noise_source(self) -> bool:
        """True when its sound has a noise source that ``decode(..., variation=seed)`` sets
        (the registry's ``noise_source``)."""
        return self.spec.noise_source

    @property
    def has_variations(self) -> bool:
        """True when ``decode(..., variation=k)`` gives new realisations (ddsp_vae)."""
        return False

    @property
    def renders_any_length(self) -> bool:
        """True when ``decode(..., seconds=S)`` renders beyond the trained window (ddsp_cvae)."""
        return False

    def _fit_family_pads(self) -> None:
        """Set ``family_pads`` and ``no_family_reason`` from the registry's capability and
        the codes (after ``codes``, ``conditioned`` and ``no_codes_reason`` are set)."""
        if self.conditioned:
            self.family_pads, self.no_family_reason = None, None
        elif self.spec.family_pads:
            self.family_pads, self.no_family_reason = family_pads_or_reason(
                self.name, self.codes, self.latent_range(), no_codes_reason=self.no_codes_reason
            )
        else:
            self.family_pads, self.no_family_reason = None, no_family_reason(self.spec)

    @property
    def takes_family(self) -> bool:
        """True when ``decode(..., family=...)`` plays a family: a conditioned model's input,
        or a model's family pads. False with the reason in ``no_family_reason``."""
        return self.conditioned or self.family_pads is not None

    @property
    def families(self) -> tuple[str, ...]:
        """The families it can be asked for (a mix may weigh only these)."""
        if self.family_pads is not None:
            return self.family_pads.families
        return DRUM_FAMILIES if self.conditioned else ()

    def checked_family(self, family: Any) -> np.ndarray | None:
        """The weight vector (7,) a family, a mix or a vector decodes with, checked for this
        model; what a decode without a family plays when ``family`` is None (a conditioned
        model's default family; None, the plain pad, for the others).

        Raises
        ------
        ModelInputError
            An unknown family or bad weights; a family given to a model that takes none, or
            one the model has no training sound of: the reason in words, in one line.
        """
        if self.conditioned and self.family_pads is None:
            return family_vector(family)
        if family is None and not self.conditioned:
            return None
        vector = family_vector(family)
        if self.family_pads is None:
            raise ModelInputError(self.no_family_reason)
        reason = self.family_pads.missing_reason(vector)
        if reason is not None:
            raise ModelInputError(reason)
        return vector

    def pad_to_latent(self, points: Any, family: Any = None) -> np.ndarray:
        """The latent points that pad points decode with: the points themselves, unless a
        family is chosen on a model with family pads (:meth:`FamilyPads.to_latent`).

        Returns
        -------
        np.ndarray, shape (N, 2), float32
        """
        points = np.asarray(points, dtype=np.float32).reshape(-1, LATENT_DIM)
        if family is None or self.conditioned:
            return points
        if self.family_pads is None:
            raise ModelInputError(self.no_family_reason)
        return self.family_pads.to_latent(points, family)

    def render_length(self, seconds: float | None) -> int:
        """The samples ``decode(..., seconds=...)`` renders: ``sample_length`` for None, else
        ``seconds`` rounded up to a multiple of 4 samples.

        Raises
        ------
        ModelInputError
            The model renders only its trained window, or ``seconds`` is outside
            ``MIN_SECONDS`` to ``MAX_SECONDS``.
        """
        if seconds is None:
            return self.sample_length
        window = self.sample_length / self.sample_rate
        if not self.renders_any_length:
            raise ModelInputError(f"{self.name} renders only its {window:.2f} s window (ddsp_cvae renders any length)")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise ModelInputError(f"seconds must be a number from {MIN_SECONDS:g} to {MAX_SECONDS:g}, not {seconds!r}")
        return int(math.ceil(seconds * self.sample_rate / RENDER_STEP) * RENDER_STEP)

    def encode(self, audio: Any, family: Any = None) -> np.ndarray:
        """A model without an encoder has no points for audio: NoEncoderError with the reason."""
        raise NoEncoderError(self.no_encoder_reason or f"{self.name} has no encoder (a GAN only generates)")

    def checked_audio(self, audio: Any) -> np.ndarray:
        """``audio`` as a float32 batch ``(N, sample_length)``; ModelInputError otherwise."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 1:
            audio = audio[None, :]
        if audio.ndim != 2 or audio.shape[1] != self.sample_length:
            raise ModelInputError(f"audio must have shape (N, {self.sample_length}) for {self.name}, not {audio.shape}")
        if not np.isfinite(audio).all():
            raise ModelInputError("audio must be finite numbers")
        return audio

    def latent_range(self) -> tuple[float, float, float, float]:
        """The rectangle to explore: ``(xmin, xmax, ymin, ymax)``."""
        return latent_range(self.spec.prior, self.codes)

    @property
    def center(self) -> tuple[float, float]:
        """The centre of the data: median code (autoencoders) or the prior's mean."""
        return latent_center(self.spec.prior, self.codes)
