"""The Keras loader: a trained model of any kind through TensorFlow, with one inference
interface, :func:`load_trained` and :class:`TrainedModel`. It is the reference the NumPy
engine that ships (:mod:`models.engine`) is checked against.

Decoding is the GUI's hot path: the decoder's weights stay resident and a
``tf.function`` with a fixed input signature (``[None, 2]`` float32) is traced once at
load (a warm-up call), so decoding a point is one call of a compiled graph -- never
``model.predict``, whose per-call set-up (a data adapter, a fresh step function, callbacks)
costs tens of milliseconds. Transposed convolutions run in their polyphase form and dense
decoders are compiled with XLA (:mod:`models.fastpath`), checked against the Keras decoder
at load (``decode_path`` says which).

The card, the latent codes and the latent range are read by :mod:`models.trained_folder`,
which the TensorFlow-free engine (:mod:`models.engine`) shares.
"""

from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from constants import LATENT_DIM
from models.card import ModelCard
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError
from models.fastpath import compile_decoder, quiet_tracing
from models.registry import get_spec
from models.saving import load_model_file
from models.trained_folder import LatentCodes, LatentPlane, load_optional_parts, read_card

# Noise sources of this many variations stay in memory (each is 33 x length floats).
VARIATION_CACHE = 16


class TrainedModel(LatentPlane):
    """A trained (or freshly built) model behind the common interface
    (:class:`models.interface.ModelProtocol`).

    Parameters
    ----------
    name : str
        Registry name.
    card : ModelCard or dict
        The model card (a dict is validated by :meth:`ModelCard.from_dict`); ``card`` is
        then the validated record.
    decoder : keras.Model
        (N, 2) -> (N, length).
    encoder : keras.Model or None
        (N, length) -> (N, 2), or ``[mean, log_var, z]`` for a VAE; None for the GAN.
    codes : LatentCodes or None
    warm_up : bool
        Also trace the encode function now (decode is always traced and checked at once),
        so the first real call of either is fast.
    """

    def __init__(
        self,
        name: str,
        card: ModelCard | dict[str, Any],
        decoder: Any,
        encoder: Any = None,
        codes: LatentCodes | None = None,
        *,
        warm_up: bool = True,
        no_encoder_reason: str | None = None,
        no_codes_reason: str | None = None,
    ) -> None:
        self.name = name
        self.card = card if isinstance(card, ModelCard) else ModelCard.from_dict(card)
        self.kind = self.card.kind
        self.sample_rate = self.card.sample_rate
        self.sample_length = self.card.sample_length
        self.codes = codes
        self.no_encoder_reason, self.no_codes_reason = no_encoder_reason, no_codes_reason
        self._decoder = decoder
        self._encoder = encoder
        self._decode, self.decode_path = compile_decoder(decoder)
        self._synth = _synth_of(decoder)
        self._variations: dict = {}
        self._render: Any = None
        self._encode = None
        if encoder is not None:

            def encode_points(audio):
                out = encoder(audio, training=False)
                return out[0] if isinstance(out, (list, tuple)) else out

            self._encode = tf.function(
                encode_points,
                input_signature=[tf.TensorSpec([None, self.sample_length], tf.float32)],
            )
        if warm_up and self._encode is not None:
            with quiet_tracing():
                self._encode(tf.zeros((1, self.sample_length), tf.float32))
        self._fit_family_pads()

    def __repr__(self):
        return f"TrainedModel({self.name!r}, kind={self.kind!r}, length={self.sample_length})"

    @property
    def polyphase(self):
        """True when transposed convolutions run in their polyphase form."""
        return self.decode_path == "polyphase"

    @property
    def has_encoder(self) -> bool:
        return self._encoder is not None

    @property
    def decoder(self):
        """The Keras decoder (the GAN's generator), for tools that need the model itself."""
        return self._decoder

    @property
    def has_variations(self) -> bool:
        """True when ``decode(..., variation=k)`` gives new realisations (ddsp_vae)."""
        return self._synth is not None

    def decode(self, points: Any, variation: int | None = None, family: Any = None, seconds: float | None = None) -> np.ndarray:
        """Audio for latent points.

        Parameters
        ----------
        points : array-like, shape (N, 2) (or (2,) for one point)
        variation : int or None
            For a model with a synthesiser decoder (``has_variations``): which realisation
            of its noise to play; None (or 0) is the model's own, so a point always plays
            the same sound. Other models ignore it.
        family : str, dict or array-like, optional
            A family or mix: the pad points are that family's region on the model's family
            pads (:meth:`pad_to_latent`); None is the plain pad.
        seconds : float, optional
            None: the trained window, the only length this path renders
            (:meth:`render_length` refuses another).

        Returns
        -------
        np.ndarray, shape (N, sample_length), float32
        """
        points = np.asarray(points, dtype=np.float32)
        if points.shape == (LATENT_DIM,):
            points = points[None, :]
        if points.ndim != 2 or points.shape[1] != LATENT_DIM:
            raise ModelInputError(f"points must have shape (N, {LATENT_DIM}), not {points.shape}")
        if not np.all(np.isfinite(points)):
            raise ModelInputError("points must be finite numbers")
        if variation is not None and (isinstance(variation, bool) or not isinstance(variation, (int, np.integer)) or variation < 0):
            raise ModelInputError(f"variation must be a whole number from 0, not {variation!r}")
        self.render_length(seconds)  # only its trained window
        if family is not None:
            points = self.pad_to_latent(points, family)
        if self._synth is None or not variation:
            return self._decode(tf.constant(points)).numpy()
        return self._decode_variation(points, int(variation))

    def _decode_variation(self, points, variation):
        """Decode with another realisation of the synthesiser's noise (sources cached)."""
        from models.ddsp import parameter_model

        if self._render is None:
            parameters = parameter_model(self._decoder)
            synth = self._synth
            spec = tf.TensorSpec([synth.length], tf.float32)

            def render(points, bands, bright, dark):
                raw = parameters(points, training=False)
                return synth.render(raw, {"bands": bands, "bright": bright, "dark": dark})

            self._render = tf.function(
                render,
                input_signature=[
                    tf.TensorSpec([None, LATENT_DIM], tf.float32),
                    tf.TensorSpec([synth.n_bands, synth.length], tf.float32),
                    spec,
                    spec,
                ],
            )
        if variation not in self._variations:
            if len(self._variations) >= VARIATION_CACHE:
                self._variations.pop(next(iter(self._variations)))
            self._variations[variation] = self._synth.sources(variation)
        noise = self._variations[variation]
        with quiet_tracing():
            audio = self._render(tf.constant(points), noise["bands"], noise["bright"], noise["dark"])
        return audio.numpy()

    def encode(self, audio: Any, family: Any = None) -> np.ndarray:
        """Latent points (the mean, for a VAE) of audio.

        Parameters
        ----------
        audio : array-like, shape (N, sample_length) (or (sample_length,))
        family : optional
            Taken for the common interface; a model without a family input encodes without.

        Returns
        -------
        np.ndarray, shape (N, 2), float32

        Raises
        ------
        NoEncoderError
            The model is the GAN, which only decodes, or its encoder file is damaged
            (``no_encoder_reason`` names it).
        """
        if self._encode is None:
            raise NoEncoderError(self.no_encoder_reason or f"{self.name} has no encoder (a GAN only generates)")
        audio = self.checked_audio(audio)
        return self._encode(tf.constant(audio)).numpy()


def _synth_of(decoder):
    """The decoder's synthesiser layer (ddsp_vae), or None."""
    from models.ddsp import synth_layer

    return synth_layer(decoder)


def load_trained(name, folder="trained", *, warm_up=True):
    """Load ``folder/name/`` (decoder.keras, encoder.keras, card.json, codes.npz).

    Raises
    ------
    UnknownModelError
        ``name`` is not a registry name.
    ModelUnavailableError
        The card or the decoder is missing or damaged; the one-line message names it. A
        damaged encoder or codes file leaves the model loaded, without them, the reason in
        ``no_encoder_reason`` / ``no_codes_reason``.
    """
    spec = get_spec(name)
    model_dir = Path(folder) / name
    card = read_card(spec, model_dir)
    decoder = load_model_file(model_dir / "decoder.keras")
    encoder = codes = no_encoder = no_codes = None
    if spec.has_encoder:  # a damaged encoder or codes file leaves the decoder playing, and says why
        encoder, codes, no_encoder, no_codes = load_optional_parts(name, spec.prior, model_dir, load_model_file)
    length = decoder.output_shape[-1]
    if length != card.sample_length:
        raise ModelUnavailableError(f"{model_dir / 'decoder.keras'}: makes {length} samples, the card says {card.sample_length}")
    return TrainedModel(name, card, decoder, encoder, codes, warm_up=warm_up, no_encoder_reason=no_encoder, no_codes_reason=no_codes)
