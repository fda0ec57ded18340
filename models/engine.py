"""The NumPy inference engine: every shipped model decoded and encoded without TensorFlow.

:func:`load_runtime` reads the shipped ``.keras`` archives themselves (``config.json`` for
the layer graph, ``model.weights.h5`` for the weights, through zipfile and h5py: the
network, :mod:`models.numpy_network`) and returns a :class:`Runtime` (a :class:`models.interface.ModelProtocol`, as
:class:`models.keras_loader.TrainedModel` is). Nothing is
exported beside the zoo, and this module imports only NumPy, h5py and the standard library,
so the window, ``play``, ``generate`` and ``encode`` sound in a fraction of a second while
``import tensorflow`` alone takes seconds and hundreds of megabytes. TensorFlow stays the
reference: a test holds the engine to the Keras models within 1e-4 (float32).

Why NumPy rather than ONNX Runtime: decoding is a handful of matrix products (dense layers,
and the convolutions written as matrix products in :mod:`models.numpy_layers`), which NumPy
runs at BLAS speed already; an ONNX path would need an exporter (tf2onnx, TensorFlow again)
and an exported artefact per model beside a zoo that is 104 of its 120 MiB budget.

Two tables make the engine extensible:

- :data:`models.numpy_layers.LAYER_BUILDERS`: a Keras layer class -> a NumPy function;
- :data:`DECODER_KINDS`: a model kind -> how its decoder is made. Every kind so far decodes
  with the graph of ``decoder.keras``; a kind whose sound comes from more than a network
  (ddsp_vae: a network then a synthesiser) registers its own with :func:`decoder_kind`.
"""

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from constants import LATENT_DIM
from models.card import ModelCard
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError
from models.families import family_rows
from models.numpy_network import load_network
from models.registry import get_spec
from models.saving import REASON_LIMIT
from models.trained_folder import LatentCodes, LatentPlane, load_optional_parts, read_card
from safeio import one_line

if TYPE_CHECKING:
    from models.imported import ImportedModel

#: Points decoded per NumPy pass: bounds the memory a large batch (a heat-map, a long
#: ``generate``) needs for the convolutions' windows (conv_ae: 1.8 MB a point). Measured
#: per point, single-threaded: conv decoders cost the same from 4 to 32 points a pass,
#: dense ones 3x less at 16 than at 1.
DECODE_CHUNK = 16
#: Sounds encoded per pass (each is a whole sample of audio).
ENCODE_CHUNK = 32
#: BLAS threads while the engine runs. Its matrix products are small and latency-bound:
#: on this project's shared 2-core machine, OpenBLAS's worker threads spin against each
#: other and the other processes, and a VAE decode measured 52 ms with them under load
#: against 1.9 ms with one thread.
BLAS_THREADS = 1
_blas_limit: list[object] = []


# ----------------------------------------------------------------------------- model kinds

DECODER_KINDS: dict[str, Callable[..., Any]] = {}


def decoder_kind(*kinds):
    """Register ``make(model_dir, card) -> decode(points, variation) -> audio`` for kinds."""

    def register(make):
        for kind in kinds:
            DECODER_KINDS[kind] = make
        return make

    return register


@decoder_kind("dense_ae", "conv_ae", "gan", "vae")
def network_decoder(model_dir, card):
    """Decoders that are one network, ``decoder.keras``: (N, 2) -> (N, length). The
    variation reaches the layers that take one (ddsp_vae's synthesiser, a layer of its
    decoder.keras); the others are deterministic."""
    path = Path(model_dir) / "decoder.keras"
    network = load_network(path, card=card)
    if network.input_count > 1:  # the retired ddsp_cvae's [point, family] decoder
        raise ModelUnavailableError(f"{path}: takes {network.input_count} inputs; a {card.kind} decoder takes a point")
    if network.takes_variation:
        return network
    return _deterministic(network)


@decoder_kind("synth_ae")
def family_code_decoder(model_dir, card):
    """ddsp_cvae (issue 30 §2): its decoder.keras plays a code of D numbers, and its family
    is stage 2, a Gaussian per family over its training codes (``codes.npz``'s ``full``,
    :class:`models.family_pads.FamilyPads` in D dimensions). ``decode(points, variation,
    family rows)`` maps each pad point onto its family's pad (the family's two main axes);
    a variation also draws the other axes from the family's distribution given the pad point
    (:meth:`~models.family_pads.FamilyPads.varied`) beside new noise. The pads ride on the
    function as ``family_pads`` (the runtime shows them and encodes onto them)."""
    from models.family_pads import FamilyPads
    from models.trained_folder import CODES_FILE, LatentCodes, read_codes

    model_dir = Path(model_dir)
    network = load_network(model_dir / "decoder.keras", card=card)
    codes = read_codes(model_dir / CODES_FILE)
    width = network.input_width
    if width is None or codes.full is None or codes.full.shape[1] != width:
        raise ModelUnavailableError(f"{model_dir / CODES_FILE}: damaged (it has no {width}-number code per sound)")
    spec = get_spec(card.name)
    try:
        pads = FamilyPads.fit(
            card.name, LatentCodes(codes.full, codes.families, codes.names, codes.files, codes.is_validation), spec.prior.square()
        )
    except ModelInputError as error:
        raise ModelUnavailableError(f"{model_dir / CODES_FILE}: {error}") from None

    def decode(points, variation=None, family=None, samples=None):
        rows = family_rows(family, len(points))
        latent = np.empty((len(points), width), np.float32)
        unique, which = np.unique(rows, axis=0, return_inverse=True)
        for index, row in enumerate(unique):
            chosen = which.reshape(-1) == index
            latent[chosen] = pads.varied(pads.to_latent(points[chosen], row), row, variation)
        return network(latent, variation, samples) if network.takes_variation else network(latent)

    decode.takes_variation = network.takes_variation  # type: ignore[attr-defined]
    decode.extends = network.extends  # type: ignore[attr-defined]
    decode.conditioned = True  # type: ignore[attr-defined]
    decode.family_pads = pads  # type: ignore[attr-defined]
    decode.play_code = lambda codes: network(codes, None, None) if network.takes_variation else network(codes)  # type: ignore[attr-defined]
    return decode


def _deterministic(network):
    def decode(points, variation=None):
        return network(points)

    return decode


# ----------------------------------------------------------------------------- the runtime

#: ``(points (N, 2) float32, variation or None[, family rows (N, 7)]) -> audio (N, length)``
#: (a conditioned model's, ddsp_cvae's, also takes the family rows).
DecodeFunction = Callable[..., np.ndarray]
#: ``audio (N, length) float32 -> codes (N, D)``: points (N, 2) but for a wide code (ddsp_cvae's).
EncodeFunction = Callable[[Any], np.ndarray]


class Runtime(LatentPlane):
    """A trained model run by the NumPy engine: a :class:`models.interface.ModelProtocol`,
    as :class:`models.keras_loader.TrainedModel` is.

    Parameters
    ----------
    name : str
        Registry name.
    card : ModelCard or dict
        The model card (a dict is validated by :meth:`ModelCard.from_dict`; ``card`` is
        then the validated record). It gives ``kind``, ``sample_rate``, ``sample_length``.
    decode_function : callable
        ``(points (N, 2) float32, variation) -> audio (N, length)``.
    encode_function : callable or None
        ``audio (N, length) float32 -> points (N, 2)``; None for the GAN.
    codes : LatentCodes or None
    """

    decode_path: str = "numpy"

    def __init__(
        self,
        name: str,
        card: ModelCard | dict[str, Any],
        decode_function: DecodeFunction,
        encode_function: EncodeFunction | None = None,
        codes: LatentCodes | None = None,
        *,
        no_encoder_reason: str | None = None,
        no_codes_reason: str | None = None,
    ) -> None:
        self.name: str = name
        self.card: ModelCard = card if isinstance(card, ModelCard) else ModelCard.from_dict(card)
        self.kind: str = self.card.kind
        self.sample_rate: int = self.card.sample_rate
        self.sample_length: int = self.card.sample_length
        self.codes: LatentCodes | None = codes
        self._decode = decode_function
        self._encode = encode_function
        #: why a model that has an encoder (or codes) cannot use it: its file is damaged
        self.no_encoder_reason: str | None = no_encoder_reason
        self.no_codes_reason: str | None = no_codes_reason
        #: True when it also takes a family (:mod:`models.families`): ddsp_cvae
        self.conditioned: bool = bool(getattr(decode_function, "conditioned", False))
        self._fit_family_pads()
        # a wide code's family pads come with its decoder (ddsp_cvae: stage 2 of its route)
        self.family_pads = getattr(decode_function, "family_pads", self.family_pads)
        pads = self.family_pads
        #: True when ``decode`` also takes a family's frame vectors (N, D): a wide code whose
        #: pads are its family's two main axes, the other D - 2 axes being sliders of the window
        #: (:mod:`models.family_frame`); its ``latent_dim``, ``low``, ``high`` and ``middle``
        #: are then the frame's, as an imported model's are its latent's
        self.family_frame = self.conditioned and pads is not None and pads.latent_dim > LATENT_DIM
        if self.family_frame:
            assert pads is not None
            self.latent_dim = pads.latent_dim
            self.low, self.high, self.middle = pads.frame_bounds()

    def __repr__(self) -> str:
        return f"Runtime({self.name!r}, kind={self.kind!r}, length={self.sample_length})"

    @property
    def has_encoder(self) -> bool:
        return self._encode is not None

    @property
    def has_variations(self) -> bool:
        """True when ``decode(..., variation=k)`` gives new realisations (ddsp_vae)."""
        return bool(getattr(self._decode, "takes_variation", False))

    @property
    def renders_any_length(self) -> bool:
        """True when ``decode(..., seconds=S)`` renders beyond the trained window (ddsp_cvae)."""
        return bool(getattr(self._decode, "extends", False))

    def decode(
        self, points: npt.ArrayLike, variation: int | None = None, family: Any = None, seconds: float | None = None
    ) -> np.ndarray:
        """Audio for latent points.

        Parameters
        ----------
        points : array-like, shape (N, 2) (or (2,) for one point)
            A family-frame model (``family_frame``) also takes whole frame vectors (N, D):
            the pad point and the offsets along its family's other main axes
            (:meth:`models.family_pads.FamilyPads.from_frame`); a variation draws on top.
        variation : int, optional
            For a model with a synthesiser decoder (``has_variations``): which realisation
            of its noise to play; None (or 0) is the model's own, so a point always plays
            the same sound. Other models ignore it.
        family : str, dict or array-like, optional
            A family name, a mix ("kick:0.6,tom:0.4"), or weight rows, (7,) or (N, 7) (see
            :mod:`models.families`). For a conditioned model, the family input (None is
            :data:`~models.families.DEFAULT_FAMILY`); for a model with family pads, the pad
            points are that family's region (:mod:`models.family_pads`; None is the plain
            pad). A model that takes no family refuses one (ModelInputError, its reason).
        seconds : float, optional
            For a model that ``renders_any_length``: how long a sound to render (a cymbal's
            natural decay takes 3 s); None is the trained window. See :meth:`render_length`.

        Returns
        -------
        np.ndarray, shape (N, sample_length) (or (N, render_length(seconds))), float32
        """
        if variation is not None and (isinstance(variation, bool) or not isinstance(variation, (int, np.integer)) or variation < 0):
            raise ModelInputError(f"variation must be a whole number from 0, not {variation!r}")
        points = np.asarray(points, dtype=np.float32)
        widths = (LATENT_DIM, self.latent_dim)  # a family frame's whole vectors too
        if points.ndim == 1 and points.shape[0] in widths:
            points = points[None, :]
        elif points.ndim != 2 or points.shape[1] not in widths:
            wider = f" or (N, {self.latent_dim})" if self.latent_dim != LATENT_DIM else ""
            raise ModelInputError(f"points must have shape (N, {LATENT_DIM}){wider}, not {points.shape}")
        count = points.shape[0]
        # One point (the window's drag) is checked the cheap way: this is the hot path.
        cheap = count == 1 and points.shape[1] == LATENT_DIM
        finite = (math.isfinite(points[0, 0]) and math.isfinite(points[0, 1])) if cheap else bool(np.isfinite(points).all())
        if not finite:
            raise ModelInputError("points must be finite numbers")
        samples = self.render_length(seconds)  # only a model that renders any length takes seconds
        if family is not None and not self.conditioned:
            points = self.pad_to_latent(points, family)  # the one place a family pad is mapped
        if not self.conditioned:
            if count <= DECODE_CHUNK:
                return self._audio(self._decode(points, variation), count)
            audio = np.empty((count, self.sample_length), np.float32)
            for start in range(0, count, DECODE_CHUNK):
                chunk = points[start : start + DECODE_CHUNK]
                audio[start : start + len(chunk)] = self._audio(self._decode(chunk, variation), len(chunk))
            return audio
        rows = family_rows(family, count)
        audio = np.empty((count, samples), np.float32)
        for start in range(0, count, DECODE_CHUNK):
            chunk = points[start : start + DECODE_CHUNK]
            made = self._decode(
                chunk, variation, rows[start : start + DECODE_CHUNK], **({} if seconds is None else {"samples": samples})
            )
            audio[start : start + len(chunk)] = self._audio(made, len(chunk), samples)
        return audio

    def full_vectors(self, points: npt.ArrayLike) -> np.ndarray:
        """A family-frame model's ``points`` as whole frame vectors (N, D): vectors as they
        are, pad points (N, 2) with the other axes at 0 (the family's mean); ModelInputError
        for another width, a number that is not finite, or a model without a frame."""
        if not self.family_frame:
            raise ModelInputError(f"{self.name} has no axes beyond its pad's two")
        points = np.asarray(points, dtype=np.float32)
        points = points[None, :] if points.ndim == 1 else points
        if points.ndim != 2 or points.shape[1] not in (LATENT_DIM, self.latent_dim):
            raise ModelInputError(f"points must have shape (N, {self.latent_dim}) or pad points (N, 2), not {points.shape}")
        if not np.isfinite(points).all():
            raise ModelInputError("points must be finite numbers")
        if points.shape[1] == self.latent_dim:
            return points
        full = np.repeat(np.asarray(self.middle, np.float32)[None, :], len(points), axis=0)
        full[:, :LATENT_DIM] = points
        return full

    def _audio(self, out: np.ndarray, count: int, samples: int | None = None) -> np.ndarray:
        samples = self.sample_length if samples is None else samples
        if out.dtype == np.float32 and out.shape == (count, samples):
            return out
        return np.asarray(out, dtype=np.float32).reshape(count, samples)

    def encode(self, audio: npt.ArrayLike, family: Any = None) -> np.ndarray:
        """Latent points (the mean, for a VAE) of audio.

        Parameters
        ----------
        audio : array-like, shape (N, sample_length) (or (sample_length,))

        Returns
        -------
        np.ndarray, shape (N, 2), float32

        Raises
        ------
        NoEncoderError
            The model is the GAN, which only decodes, or its encoder file is damaged (the
            reason names it).
        """
        if self._encode is None:
            raise NoEncoderError(self.no_encoder_reason or f"{self.name} has no encoder (a GAN only generates)")
        batch = self.checked_audio(audio)
        if batch.shape[0] == 0:
            return np.zeros((0, LATENT_DIM), np.float32)
        if self.conditioned and self.family_pads is not None:  # a wide code: onto a family's pad
            return self._encode_onto_pads(self.family_pads, batch, family)
        chunks = [
            np.asarray(self._encode(batch[start : start + ENCODE_CHUNK]), np.float32)
            for start in range(0, batch.shape[0], ENCODE_CHUNK)
        ]
        return np.concatenate(chunks).reshape(batch.shape[0], LATENT_DIM)

    def encode_code(self, audio: npt.ArrayLike) -> np.ndarray:
        """The whole code of audio, (N, D): for a wide code (ddsp_cvae) the D numbers its
        decoder plays; for the others the points :meth:`encode` gives."""
        if self._encode is None:
            raise NoEncoderError(self.no_encoder_reason or f"{self.name} has no encoder (a GAN only generates)")
        if not (self.conditioned and self.family_pads is not None):
            return self.encode(audio)
        batch = self.checked_audio(audio)
        width = self.family_pads.latent_dim
        if batch.shape[0] == 0:
            return np.zeros((0, width), np.float32)
        chunks = [self._encode(batch[start : start + ENCODE_CHUNK]) for start in range(0, batch.shape[0], ENCODE_CHUNK)]
        return np.concatenate([np.asarray(chunk, np.float32) for chunk in chunks]).reshape(batch.shape[0], width)

    def decode_code(self, codes: npt.ArrayLike) -> np.ndarray:
        """Audio for whole codes (N, D) of a wide code (ddsp_cvae): what :meth:`encode_code`
        gives plays back as well as the model can make it, with no pad in between."""
        play = getattr(self._decode, "play_code", None)
        if play is None or self.family_pads is None:
            raise ModelInputError(f"{self.name} has no wide code to play")
        width = self.family_pads.latent_dim
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != width:
            raise ModelInputError(f"codes must have shape (N, {width}), not {codes.shape}")
        if not np.isfinite(codes).all():
            raise ModelInputError("codes must be finite numbers")
        chunks = [play(codes[start : start + DECODE_CHUNK]) for start in range(0, len(codes), DECODE_CHUNK)]
        return (
            np.concatenate([self._audio(chunk, len(chunk)) for chunk in chunks])
            if chunks
            else np.zeros((0, self.sample_length), np.float32)
        )

    def likeliest_families(self, audio: npt.ArrayLike) -> list[str]:
        """For a wide code: the family whose Gaussian gives each sound's code the highest
        density (ModelInputError for a model without such pads)."""
        if not (self.conditioned and self.family_pads is not None):
            raise ModelInputError(f"{self.name} has no Gaussian per family over a wide code")
        return list(self.family_pads.likeliest(self.encode_code(audio)))

    def _encode_onto_pads(self, pads, batch, family):
        codes = self.encode_code(batch)
        if family is None:  # each sound on the pad of the family it is likeliest under
            points, _ = pads.own_places(codes, [""] * len(codes))
            return points
        rows = family_rows(family, len(codes))
        points = np.empty((len(codes), LATENT_DIM), np.float32)
        unique, which = np.unique(rows, axis=0, return_inverse=True)
        for index, row in enumerate(unique):
            chosen = which.reshape(-1) == index
            points[chosen] = pads.to_pad(codes[chosen], row)
        return points


def limit_blas_threads():
    """Run BLAS on :data:`BLAS_THREADS` threads from now on in this process (once; a no-op
    where threadpoolctl is not installed)."""
    if _blas_limit:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        _blas_limit.append(None)
        return
    _blas_limit.append(threadpool_limits(BLAS_THREADS, user_api="blas"))


def load_runtime(name: str, folder: str | Path = "trained") -> "Runtime | ImportedModel":
    """Load ``folder/name/`` (card.json, decoder.keras, encoder.keras, codes.npz) into the
    NumPy engine (which also limits BLAS to :data:`BLAS_THREADS` threads in this process).
    A folder that is not a registry name and has a card is an imported model
    (:func:`models.imported.load_imported`: its own decoder, ONNX or Keras, no registry).

    Raises
    ------
    UnknownModelError
        ``name`` is not a registry name.
    ModelUnavailableError
        The card or the decoder is missing, unreadable or damaged, its settings are out of
        bounds or do not match the card, or the engine cannot run it; the message names it.
        A damaged encoder or codes file leaves the model playing without them, the reason
        in ``no_encoder_reason`` / ``no_codes_reason`` (as the GAN plays with no encoder).
    """
    from models.imported import is_imported_folder

    if is_imported_folder(folder, name):  # a model of its own card, not the registry's
        return _load_imported(name, folder)
    spec = get_spec(name)
    model_dir = Path(folder) / name
    try:
        return _load_runtime(name, spec, model_dir)
    except OSError as error:  # a file that vanished or became unreadable after its check
        where = error.filename or model_dir
        raise ModelUnavailableError(f"{where}: cannot read ({error.strerror or error})") from None
    except MemoryError:
        raise ModelUnavailableError(f"{model_dir}: cannot be loaded (out of memory)") from None


def _load_imported(name, folder):
    from models.imported import load_imported

    try:
        return load_imported(name, folder)
    except OSError as error:
        where = error.filename or Path(folder) / name
        raise ModelUnavailableError(f"{where}: cannot read ({error.strerror or error})") from None


def _load_runtime(name, spec, model_dir):
    card = read_card(spec, model_dir)
    limit_blas_threads()
    make_decoder = DECODER_KINDS.get(spec.kind)
    if make_decoder is None:
        raise ModelUnavailableError(f"{name}: the NumPy engine has no decoder for kind {spec.kind!r}")
    decode = make_decoder(model_dir, card)
    encode = codes = no_encoder = no_codes = None
    if spec.has_encoder:  # a damaged encoder or codes file leaves the decoder playing, and says why
        encode, codes, no_encoder, no_codes = load_optional_parts(
            name, spec.prior, model_dir, lambda path: load_network(path, card=card)
        )
    runtime = Runtime(name, card, decode, encode, codes, no_encoder_reason=no_encoder, no_codes_reason=no_codes)
    # One decode now: it checks the graph runs and makes what the card says (and it warms
    # the caches, so the first sound the user asks for is as fast as the rest).
    try:
        zero = np.zeros((1, LATENT_DIM), np.float32)
        audio = np.asarray(decode(zero, None, family_rows(None, 1)) if runtime.conditioned else decode(zero, None))
    except (ValueError, IndexError) as error:
        raise ModelUnavailableError(f"{model_dir / 'decoder.keras'}: cannot run ({one_line(error, limit=REASON_LIMIT)})") from None
    if audio.shape != (1, runtime.sample_length):
        made = audio.shape[-1] if audio.ndim == 2 else audio.shape
        raise ModelUnavailableError(f"{model_dir / 'decoder.keras'}: makes {made} samples, the card says {runtime.sample_length}")
    return runtime
