"""One inference interface for all fourteen models: :func:`load_trained` and
:class:`TrainedModel`.

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

import numpy as np
import tensorflow as tf

from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError
from models.fastpath import compile_decoder, quiet_tracing
from models.registry import LATENT_DIM, get_spec
from models.saving import load_model_file

# LatentCodes and read_codes are imported from here by older callers.
from models.trained_folder import LatentCodes, LatentPlane, read_card, read_codes  # noqa: F401


class TrainedModel(LatentPlane):
    """A trained (or freshly built) model behind the common interface.

    Parameters
    ----------
    name : str
        Registry name.
    card : dict
        The model card (must give ``kind``, ``sample_rate``, ``sample_length``).
    decoder : keras.Model
        (N, 2) -> (N, length).
    encoder : keras.Model or None
        (N, length) -> (N, 2), or ``[mean, log_var, z]`` for a VAE; None for the GAN.
    codes : LatentCodes or None
    warm_up : bool
        Also trace the encode function now (decode is always traced and checked at once),
        so the first real call of either is fast.
    """

    def __init__(self, name, card, decoder, encoder=None, codes=None, *, warm_up=True):
        self.name = name
        self.card = card
        self.kind = card["kind"]
        self.sample_rate = int(card["sample_rate"])
        self.sample_length = int(card["sample_length"])
        self.codes = codes
        self._decoder = decoder
        self._encoder = encoder
        self._decode, self.decode_path = compile_decoder(decoder)
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

    def __repr__(self):
        return f"TrainedModel({self.name!r}, kind={self.kind!r}, length={self.sample_length})"

    @property
    def polyphase(self):
        """True when transposed convolutions run in their polyphase form."""
        return self.decode_path == "polyphase"

    @property
    def has_encoder(self):
        return self._encoder is not None

    @property
    def decoder(self):
        """The Keras decoder (the GAN's generator), for tools that need the model itself."""
        return self._decoder

    def decode(self, points, variation=None):
        """Audio for latent points.

        Parameters
        ----------
        points : array-like, shape (N, 2) (or (2,) for one point)
        variation : int, optional
            A seed for models whose sound has a random part (ddsp_vae); the others are
            deterministic and ignore it.

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
        return self._decode(tf.constant(points)).numpy()

    def encode(self, audio):
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
            The model is the GAN, which only decodes.
        """
        if self._encode is None:
            raise NoEncoderError(f"{self.name} has no encoder (a GAN only generates)")
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 1:
            audio = audio[None, :]
        if audio.ndim != 2 or audio.shape[1] != self.sample_length:
            raise ModelInputError(
                f"audio must have shape (N, {self.sample_length}) for {self.name}, not {audio.shape}"
            )
        if not np.all(np.isfinite(audio)):
            raise ModelInputError("audio must be finite numbers")
        return self._encode(tf.constant(audio)).numpy()


def load_trained(name, folder="trained", *, warm_up=True):
    """Load ``folder/name/`` (decoder.keras, encoder.keras, card.json, codes.npz).

    Raises
    ------
    UnknownModelError
        ``name`` is not a registry name.
    ModelUnavailableError
        A file is missing or damaged; the one-line message names it.
    """
    spec = get_spec(name)
    model_dir = Path(folder) / name
    card = read_card(spec, model_dir)
    decoder = load_model_file(model_dir / "decoder.keras")
    encoder = codes = None
    if spec.has_encoder:
        encoder = load_model_file(model_dir / "encoder.keras")
        codes = read_codes(model_dir / "codes.npz")
    length = decoder.output_shape[-1]
    if length != card["sample_length"]:
        raise ModelUnavailableError(
            f"{model_dir / 'decoder.keras'}: makes {length} samples, the card says {card['sample_length']}"
        )
    return TrainedModel(name, card, decoder, encoder, codes, warm_up=warm_up)
