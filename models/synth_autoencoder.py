"""Issue 30 §2, stage 1: a synth autoencoder at 44.1 kHz with a code of D dimensions.

The route that replaced the end-to-end conditioned VAE (retired; see :mod:`models.ddsp_cvae`):
no family anywhere in the network. The encoder maps a sound to a code of ``code_dim``
numbers; the decoder is an MLP into :class:`models.ddsp_cvae.FullBandSynth` (44.1 kHz, noise
knots every 2 ms, the end fade, no line at the low rate's Nyquist frequency). The families
come afterwards, as a Gaussian per family over the codes (stage 2, :mod:`models.family_pads`).
Before any of this was built, the synthesiser was shown to play every real clap when its
parameters are fitted to it directly (:mod:`models.synth_fit`, ``scripts/fit_synth.py``).

The reconstruction loss is the floored multi-resolution STFT of :mod:`models.losses`, with
each bin weighted by :func:`octave_weights`: at 44.1 kHz half of every STFT's bins lie above
11 kHz, where kicks and toms have no energy, so an unweighted loss spends half its attention
on the top octave. With the weights, every octave above ``OCTAVE_PIVOT_HZ`` weighs the same
(the top one 17 % of the whole instead of 50 %), and under the pivot a bin keeps its linear weight.
"""

import keras
import numpy as np
from keras import ops

from constants import FLOOR_DB
from models.ddsp import LogMel, dense_features, mel_convolutions
from models.ddsp_cvae import MEL_BANDS, MEL_HOP, MEL_N_FFT, FullBandSynth
from models.distribution import replica_scale
from models.drumsynth import LEAKY_SLOPE
from models.layers import PACKAGE
from models.stft_distance import multi_resolution_stft

#: The widest code ``train`` takes (the sweep measured 2 to 16).
MAX_CODE_DIM = 64
#: The fewest samples a sound may have (the encoder's frames shrink to fit down to this).
SHORTEST = 512
#: Above this frequency a bin's weight falls as 1 / f, so every octave weighs the same.
OCTAVE_PIVOT_HZ = 1000.0
#: The smallest target norm the spectral convergence divides by (as :mod:`models.losses`).
_NORM_FLOOR = 1e-6


def octave_weights(n_fft, sample_rate, pivot_hz=OCTAVE_PIVOT_HZ):
    """Per-bin weights of an ``n_fft`` STFT: 1 up to ``pivot_hz``, ``pivot_hz / f`` above,
    scaled to a mean of 1 (so the weighted loss is on the unweighted one's scale).

    Returns
    -------
    np.ndarray, shape (n_fft // 2 + 1,), float32
    """
    freqs = np.fft.rfftfreq(int(n_fft), 1.0 / float(sample_rate))
    weights = np.minimum(1.0, pivot_hz / np.maximum(freqs, 1e-9))
    return (weights / weights.mean()).astype(np.float32)


def _sizes(fft_sizes, length):
    return tuple(n for n in fft_sizes if n <= length) or (length,)


def _weighted_magnitude(x, n_fft, weights):
    real, imag = ops.stft(x, n_fft, n_fft // 4, n_fft, window="hann", center=False)
    return ops.sqrt(real * real + imag * imag + 1e-10) * np.sqrt(weights)


def target_magnitudes(audio, fft_sizes, sample_rate, batch_size=64):
    """The weighted STFT magnitudes :func:`octave_weighted_error` takes of its targets,
    computed once for a whole training set (they never change; every step otherwise
    computes them again, about a fifth of a step here).

    Parameters
    ----------
    audio : np.ndarray, shape (N, length)
        The targets as the loss sees them (times the synthesiser's end fade).

    Returns
    -------
    dict of str to np.ndarray
        ``"stft_N"``: shape (N, frames, N // 2 + 1), float32, for each size used.
    """
    sizes = _sizes(fft_sizes, audio.shape[-1])
    out = {}
    for n_fft in sizes:
        weights = octave_weights(n_fft, sample_rate)
        parts = [
            ops.convert_to_numpy(_weighted_magnitude(ops.convert_to_tensor(audio[i : i + batch_size]), n_fft, weights))
            for i in range(0, len(audio), batch_size)
        ]
        out[f"stft_{n_fft}"] = np.concatenate(parts).astype(np.float32)
    return out


def octave_weighted_error(audio, reconstruction, fft_sizes, sample_rate, floor_db=FLOOR_DB, targets=None):
    """The floored multi-resolution STFT error with :func:`octave_weights` on every bin, per example.

    Both terms of :func:`models.stft_distance.multi_resolution_stft` are weighted: the
    log-magnitude L1 averages ``w |log X - log Y|`` and the spectral convergence is
    ``||sqrt(w) (|X| - |Y|)|| / ||sqrt(w) |X|||``.

    Parameters
    ----------
    audio, reconstruction : tensor, shape (batch, length)
    fft_sizes : sequence of int
        Sizes above the length are left out.
    targets : dict, optional
        ``audio``'s weighted magnitudes from :func:`target_magnitudes` (not computed again).

    Returns
    -------
    tensor, shape (batch,)
    """
    sizes = _sizes(fft_sizes, audio.shape[-1])
    weights = {n: octave_weights(n, sample_rate) for n in sizes}
    floor = 10.0 ** (floor_db / 20.0)

    def magnitude(x, n_fft):
        if targets is not None and x is audio:
            return targets[f"stft_{n_fft}"]
        return _weighted_magnitude(x, n_fft, weights[n_fft])

    def log_level(weighted, n_fft):
        w = weights[n_fft]
        return w * ops.log(weighted / np.sqrt(w) * (4.0 / n_fft) + floor)

    log_l1, convergence = multi_resolution_stft(
        audio, reconstruction, sizes, ops=ops, magnitude=magnitude, log_level=log_level, norm_floor=_NORM_FLOOR
    )
    return log_l1 + convergence


def synth_encoder(length, sample_rate, width, code_dim, name):
    """(batch, length) audio -> (batch, code_dim) code: log-mel frames (up to the Nyquist
    frequency, so the top octave is seen), three stride-2 ``Conv1D``, two dense layers.

    The frames are ``MEL_N_FFT`` long, or for a sound shorter than that (the tests' tiny
    models) the longest power of two that fits, with a hop of a quarter of it."""
    audio = keras.Input((length,), name="audio")
    n_fft = min(MEL_N_FFT, 2 ** int(np.log2(length)))
    mel = LogMel(sample_rate, n_fft, min(MEL_HOP, n_fft // 4), MEL_BANDS, name="log_mel")(audio)
    x = keras.layers.Flatten(name="flatten")(mel_convolutions(mel, width))
    x = dense_features(x, width)  # made before the code layer: the order draws their initial weights
    code = keras.layers.Dense(code_dim, name="code")(x)
    return keras.Model(audio, code, name=f"{name}_encoder")


def synth_decoder(code_dim, length, sample_rate, attack, hidden, seed, name):
    """(batch, code_dim) code -> (batch, length) audio: an MLP into :class:`FullBandSynth`
    (leaky ReLU between its layers, as the NumPy twin :func:`models.drumsynth.mlp` runs it)."""
    synth = FullBandSynth(sample_rate, length, attack, seed, name="synth")
    code = keras.Input((code_dim,), name="code")
    x = code
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, name=f"mlp_{i}")(x)
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"mlp_{i}_act")(x)
    x = keras.layers.Dense(synth.parameter_count, name="synth_parameters")(x)
    return keras.Model(code, synth(x), name=f"{name}_decoder")


@keras.saving.register_keras_serializable(package=PACKAGE)
class SynthAutoencoder(keras.Model):
    """Training model of stage 1: audio -> code -> synthesiser, on the octave-weighted loss.

    Its data are ``(audio, audio)`` or ``audio`` (batch, length), or :meth:`inputs`' dict,
    which also holds the targets' magnitudes, computed once; the target is the audio times
    the synthesiser's end fade, as the decoder's own sounds are.
    """

    def __init__(self, encoder, decoder, fft_sizes=(8192, 4096, 2048, 1024, 512, 256, 128), **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.fft_sizes = tuple(int(n) for n in fft_sizes)
        synth = next(layer for layer in decoder.layers if isinstance(layer, FullBandSynth))
        self.sample_rate = synth.sample_rate
        self.fade = ops.convert_to_tensor(synth._fade)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, audio, training=False):
        return self.decoder(self.encoder(audio, training=training), training=training)

    def inputs(self, audio):
        """What ``fit`` takes for ``audio`` (N, length): the audio and its targets'
        magnitudes (:func:`target_magnitudes`), as one dict; no separate target."""
        audio = np.asarray(audio, np.float32)
        faded = audio * ops.convert_to_numpy(self.fade)[None, :]
        return {"audio": audio, **target_magnitudes(faded, self.fft_sizes, self.sample_rate)}, None

    def reconstruction_loss(self, data, training):
        if isinstance(data, tuple):
            data = data[0]
        if isinstance(data, dict):
            audio, targets = data["audio"], data
        else:
            audio, targets = data, None
        target = audio * self.fade[None, :]
        error = octave_weighted_error(target, self(audio, training=training), self.fft_sizes, self.sample_rate, targets=targets)
        return ops.mean(error)

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = self.reconstruction_loss(data, training=True)
            scaled = loss * replica_scale()
        variables = self.encoder.trainable_weights + self.decoder.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        self.loss_tracker.update_state(self.reconstruction_loss(data, training=False))
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "fft_sizes": list(self.fft_sizes),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
