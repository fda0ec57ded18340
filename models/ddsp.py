"""ddsp_vae's networks: a log-mel encoder and a decoder that plays a percussive synthesiser.

- Encoder: :class:`LogMel` frames (1024-point STFT, hop 256, 64 mel bands, dB) normalised
  per band by a mean and standard deviation fixed from the training data before training
  (:func:`set_band_statistics`; an unnormalised input made an earlier trial collapse to one
  sound), three stride-2 ``Conv1D`` over time, a dense layer, then a mean and log-variance
  in 2-D and :class:`~models.layers.Sampling`.
- Decoder: an MLP from the 2-D point to the raw parameters of :class:`DrumSynth`, the
  synthesiser of :mod:`models.drumsynth` (tonal modes with a shared glide, band noise with
  frame-wise gains, a click) rendered with Keras ops at the dataset's rate and length, its
  peak at the attack sample and always below full scale.

The synthesiser's noise is fixed per model (its ``seed``), so a point always plays the same
sound; :meth:`DrumSynth.render` with the sources of another variation gives a new
realisation. :func:`numpy_decoder_weights` exports the MLP for :func:`models.synth_weights.decode`.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from constants import ATTACK_SECONDS, LATENT_DIM, SAMPLE_LENGTH, SAMPLE_RATE
from models import drumsynth, synth_settings
from models.layers import PACKAGE, gaussian_latent

# The encoder's log-mel frames (the filterbank is NumPy, shared with the engine).
N_FFT = drumsynth.MEL_N_FFT
HOP = drumsynth.MEL_HOP
N_MELS = drumsynth.MEL_BANDS
mel_filterbank = drumsynth.mel_filterbank


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogMel(keras.layers.Layer):
    """(batch, length) audio -> (batch, frames, n_mels) log-mel in dB, normalised per band.

    The per-band ``band_mean`` and ``band_std`` are non-trainable weights (saved with the
    model); :func:`set_band_statistics` fixes them from training data.
    """

    def __init__(self, sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop=HOP, n_mels=N_MELS, **kwargs):
        # Checked before anything is built: these come from the model's file when it loads.
        settings = synth_settings.checked_log_mel_settings({"sample_rate": sample_rate, "n_fft": n_fft, "hop": hop, "n_mels": n_mels})
        super().__init__(**kwargs)
        self.sample_rate = settings["sample_rate"]
        self.n_fft = settings["n_fft"]
        self.hop = settings["hop"]
        self.n_mels = settings["n_mels"]
        self.bank = ops.convert_to_tensor(mel_filterbank(self.sample_rate, self.n_fft, self.n_mels))
        self.band_mean = self.add_weight(shape=(self.n_mels,), initializer="zeros", trainable=False, name="band_mean")
        self.band_std = self.add_weight(shape=(self.n_mels,), initializer="ones", trainable=False, name="band_std")

    def decibels(self, audio):
        """The unnormalised log-mel (dB re full scale), (batch, frames, n_mels)."""
        real, imag = ops.stft(audio, self.n_fft, self.hop, self.n_fft, window="hann", center=False)
        power = (real * real + imag * imag) * (4.0 / self.n_fft) ** 2
        mel = ops.matmul(power, self.bank)
        return 10.0 * ops.log(mel + 1e-10) / np.log(10.0)

    def call(self, audio):
        return (self.decibels(audio) - self.band_mean) / self.band_std

    def compute_output_shape(self, input_shape):
        frames = (input_shape[-1] - self.n_fft) // self.hop + 1
        return (input_shape[0], frames, self.n_mels)

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop, "n_mels": self.n_mels}


def set_band_statistics(encoder, audio, batch_size=64):
    """Fix the encoder's :class:`LogMel` normalisation from ``audio`` (N, length)."""
    layer = next(l for l in encoder.layers if isinstance(l, LogMel))
    batches = [
        ops.convert_to_numpy(layer.decibels(ops.convert_to_tensor(audio[i : i + batch_size])))
        for i in range(0, len(audio), batch_size)
    ]
    frames = np.concatenate(batches).reshape(-1, layer.n_mels)
    layer.band_mean.assign(frames.mean(axis=0).astype(np.float32))
    layer.band_std.assign(np.maximum(frames.std(axis=0), 1.0).astype(np.float32))


def split_raw(raw, n_modes, n_bands, n_knots):
    """Named synth parameters (physical units) from the raw tensor (batch, P): the table of
    :mod:`models.drumsynth`, in Keras ops (both synthesiser layers read it)."""
    m, b, k = n_modes, n_bands, n_knots
    parts = tf.split(raw, [m, m, 1, 1, 1, b * k, 1, 3, 1], axis=-1)

    def log_range(s, low_high):
        low, high = np.log(low_high[0]), np.log(low_high[1])
        return ops.exp(low + s * (high - low))

    low_db, high_db = drumsynth.NOISE_DB_RANGE
    return {
        "levels": ops.softmax(parts[0], axis=-1),
        "decays": log_range(ops.sigmoid(parts[1]), drumsynth.DECAY_RANGE),
        "ratio": 1.0 + (drumsynth.GLIDE_RATIO_MAX - 1.0) * ops.sigmoid(parts[2]),
        "glide": log_range(ops.sigmoid(parts[3]), drumsynth.GLIDE_TIME_RANGE),
        "tune": ops.power(2.0, ops.tanh(parts[4]) / 12.0),
        "gains_db": ops.reshape(low_db + (high_db - low_db) * ops.sigmoid(parts[5]), (-1, b, k)),
        "brightness": ops.sigmoid(parts[6]),
        "mix": ops.softmax(parts[7], axis=-1),
        "output": log_range(ops.sigmoid(parts[8]), drumsynth.OUTPUT_RANGE),
    }


def knot_matrix(length, knots):
    """The linear interpolation of gains at ``knots`` to every sample, as a (knots, length) matrix."""
    left, weight = drumsynth.knot_interpolation(length, knots)
    interpolation = np.zeros((len(knots), length), np.float32)
    samples = np.arange(length)
    interpolation[left, samples] = 1.0 - weight
    interpolation[left + 1, samples] += weight
    return interpolation


class SynthLayer(keras.layers.Layer):
    """What the synthesiser layers share (:class:`DrumSynth`, :class:`models.ddsp_cvae.FullBandSynth`):
    their checked settings, their noise sources and their config. A subclass renders.

    Parameters
    ----------
    sample_rate, length, attack : int
        The dataset's rate, sample length and attack sample.
    seed : int
        The model's noise seed (its sources are made once, by the subclass).
    n_modes, n_bands : int
        The synthesiser's tonal modes and noise bands.
    """

    def __init__(self, sample_rate, length, attack, seed, n_modes, n_bands, **kwargs):
        # Checked before anything is built (synth_settings.SynthSettingsError, a ValueError):
        # these come from the model's file when it loads, and size what is allocated here.
        settings = synth_settings.checked_settings(
            {"sample_rate": sample_rate, "length": length, "attack": attack, "seed": seed, "n_modes": n_modes, "n_bands": n_bands}
        )
        super().__init__(**kwargs)
        self.sample_rate, self.length, self.attack = (settings[k] for k in ("sample_rate", "length", "attack"))
        self.seed, self.n_modes, self.n_bands = (settings[k] for k in ("seed", "n_modes", "n_bands"))

    def sources(self, variation):
        """The noise sources of ``variation`` (None: the model's own), as tensors."""
        made = drumsynth.sources(
            self.seed, variation, sample_rate=self.sample_rate, length=self.length, attack=self.attack, n_bands=self.n_bands
        )
        # the layer shapes the bands itself; the NumPy renderer's stacked copy is not needed
        return {k: tf.constant(made[k]) for k in ("bands", "bright", "dark")}

    def _split(self, raw):
        return split_raw(raw, self.n_modes, self.n_bands, self.n_knots)

    def render(self, raw, noise):
        """Audio from raw parameters with the given noise sources (see :meth:`sources`)."""
        raise NotImplementedError

    def call(self, raw):
        return self.render(raw, self._own)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "length": self.length,
            "attack": self.attack,
            "seed": self.seed,
            "n_modes": self.n_modes,
            "n_bands": self.n_bands,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class DrumSynth(SynthLayer):
    """Raw synth parameters (batch, P) -> audio (batch, length), as :func:`drumsynth.render`.

    Parameters
    ----------
    sample_rate, length, attack : int
        The dataset's rate, sample length and attack sample.
    seed : int
        The model's noise seed (its sources are made once, at construction).
    """

    def __init__(
        self,
        sample_rate=SAMPLE_RATE,
        length=SAMPLE_LENGTH,
        attack=round(ATTACK_SECONDS * SAMPLE_RATE),
        seed=0,
        n_modes=drumsynth.N_MODES,
        n_bands=drumsynth.N_BANDS,
        **kwargs,
    ):
        super().__init__(sample_rate, length, attack, seed, n_modes, n_bands, **kwargs)
        knots = drumsynth.noise_knots(self.length, self.attack, self.sample_rate)
        self.n_knots = len(knots)
        self.parameter_count = drumsynth.parameter_count(self.length, self.attack, self.sample_rate, self.n_modes, self.n_bands)
        onset = self.attack - round(drumsynth.ONSET_SECONDS * self.sample_rate)
        t = (np.arange(self.length) - onset).astype(np.float32) / np.float32(self.sample_rate)
        self._t = t
        self._late = np.maximum(t - np.float32(drumsynth.ONSET_SECONDS), 0.0)
        self._ramp = np.clip(t / np.float32(drumsynth.ONSET_SECONDS), 0.0, 1.0)
        self._interpolation = tf.constant(knot_matrix(self.length, knots))
        self._freqs = drumsynth.mode_frequencies(self.n_modes).astype(np.float32)
        self._own = self.sources(None)

    def render(self, raw, noise):
        """Audio from raw parameters with the given noise sources (see :meth:`sources`)."""
        p = self._split(ops.cast(raw, "float32"))
        t = tf.constant(self._t[::2])
        t_pos = tf.maximum(t, 0.0)[None, None, :]
        late = tf.constant(self._late[::2])[None, None, :]
        freqs = tf.constant(self._freqs)[None, :]
        glide = p["glide"]
        # angular speed at rest and the glide's extra phase, per mode: (batch, modes, 1)
        pitch = np.float32(2.0 * np.pi) * freqs * p["tune"]
        depth = ops.minimum(
            p["ratio"] - 1.0, np.float32(drumsynth.NYQUIST_GUARD * self.sample_rate / 2) / (pitch / np.float32(2.0 * np.pi)) - 1.0
        )
        depth = ops.maximum(depth, 0.0)
        extra = (pitch * depth * glide)[:, :, None]
        bend = 1.0 - ops.exp(-t_pos / glide[:, :, None])
        carrier = ops.sin(pitch[:, :, None] * t_pos + extra * bend)
        decay = ops.exp(ops.log(p["levels"])[:, :, None] - late / p["decays"][:, :, None])
        ramp = tf.constant(self._ramp)[None, :]
        half = ops.sum(decay * carrier, axis=1)
        # rendered at half the rate (the modes end at 4 kHz), then band-limited upsampling
        spectrum = tf.signal.rfft(half)
        spectrum = tf.pad(spectrum[:, :-1], [[0, 0], [0, self.length // 2 + 1 - self.length // 4]])
        tonal = ramp * (2.0 * tf.signal.irfft(spectrum, fft_length=[self.length]))
        gains = ops.power(10.0, p["gains_db"] / 20.0)
        # (batch, bands, knots) @ (knots, length): the linear interpolation as one matmul
        # (its gradient is a matmul too; a gather's is a slow scatter on CPU)
        envelope = ops.matmul(gains, self._interpolation)
        shaped = ops.sum(envelope * noise["bands"][None], axis=1)
        bright = p["brightness"]
        click = bright * noise["bright"][None] + (1.0 - bright) * noise["dark"][None]
        mix = p["mix"]
        x = mix[:, 0:1] * tonal + mix[:, 1:2] * shaped + mix[:, 2:3] * click
        peak = ops.max(ops.abs(x), axis=1, keepdims=True)
        return p["output"] * x / (peak + drumsynth.PEAK_EPS)


def mel_convolutions(mel, width, prefix=""):
    """Three stride-2 ``Conv1D`` (leaky ReLU 0.2) over log-mel frames, named ``{prefix}conv_{i}``."""
    x = mel
    for i in range(3):
        x = keras.layers.Conv1D(width, 3, strides=2, padding="same", name=f"{prefix}conv_{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"{prefix}conv_{i}_act")(x)
    return x


def dense_features(x, width, prefix=""):
    """A dense layer of ``width`` (leaky ReLU 0.2), named ``{prefix}dense``."""
    x = keras.layers.Dense(width, name=f"{prefix}dense")(x)
    return keras.layers.LeakyReLU(0.2, name=f"{prefix}dense_act")(x)


def ddsp_encoder(length, sample_rate, width, name):
    """(batch, length) -> [z_mean, z_log_var, z], each (batch, 2)."""
    audio = keras.Input((length,), name="audio")
    x = keras.layers.Flatten(name="flatten")(mel_convolutions(LogMel(sample_rate, name="log_mel")(audio), width))
    return keras.Model(audio, gaussian_latent(dense_features(x, width)), name=f"{name}_encoder")


def ddsp_decoder(length, sample_rate, attack, hidden, seed, name):
    """(batch, 2) -> (batch, length): a leaky-ReLU MLP into :class:`DrumSynth`."""
    synth = DrumSynth(sample_rate, length, attack, seed, name="synth")
    points = keras.Input((LATENT_DIM,), name="point")
    x = points
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, name=f"mlp_{i}")(x)
        x = keras.layers.LeakyReLU(drumsynth.LEAKY_SLOPE, name=f"mlp_{i}_act")(x)
    x = keras.layers.Dense(synth.parameter_count, name="synth_parameters")(x)
    return keras.Model(points, synth(x), name=f"{name}_decoder")


def synth_layer(decoder):
    """The :class:`DrumSynth` of a decoder, or None when it has none."""
    return next((l for l in decoder.layers if isinstance(l, DrumSynth)), None)


def parameter_model(decoder):
    """The decoder's MLP alone: (batch, 2) -> raw synth parameters."""
    synth = synth_layer(decoder)
    return keras.Model(decoder.inputs, synth.input)


def numpy_decoder_weights(decoder, float16=False):
    """The arrays of :func:`models.synth_weights.read_weights` (npz keys to arrays); with
    ``float16`` the kernels and biases are stored as float16 (the values the float16
    .keras file holds, so both decoders play the same sound)."""
    import json

    synth = synth_layer(decoder)
    dense = [l for l in decoder.layers if isinstance(l, keras.layers.Dense)]
    arrays = {}
    dtype = np.float16 if float16 else np.float32
    for i, layer in enumerate(dense):
        arrays[f"dense/{i}/kernel"] = np.asarray(layer.kernel.numpy()).astype(dtype)
        arrays[f"dense/{i}/bias"] = np.asarray(layer.bias.numpy()).astype(dtype)
    config = {"seed": synth.seed, "sample_rate": synth.sample_rate, "length": synth.length, "attack": synth.attack}
    arrays["config"] = np.array(json.dumps(config))
    return arrays


class LatentSpread(keras.callbacks.Callback):
    """Log how spread the codes are and how diverse a 5x5 grid sounds, after every epoch.

    ``code_std`` is the smaller of the two axes' standard deviation of the codes of a
    fixed subset of the training audio (0 means the encoder collapsed);
    ``grid_centroid_octaves`` is the standard deviation, in octaves, of the spectral
    centroids of the 25 sounds of a 5x5 grid over +-2 (0 means one sound everywhere).
    """

    def __init__(self, sample_rate):
        super().__init__()
        self.sample_rate = sample_rate
        self.audio = None

    def on_epoch_end(self, epoch, logs=None):
        if self.audio is None or logs is None:
            return
        z_mean = self.model.encoder(self.audio, training=False)[0]
        codes = ops.convert_to_numpy(z_mean)
        axis = np.linspace(-2.0, 2.0, 5, dtype=np.float32)
        grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
        sounds = ops.convert_to_numpy(self.model.decoder(grid, training=False))
        logs["code_std"] = float(codes.std(axis=0).min())
        logs["grid_centroid_octaves"] = float(np.std(np.log2(spectral_centroids(sounds, self.sample_rate))))
        logs["grid_peak"] = float(np.max(np.abs(sounds)))
        print(
            f"  codes std {codes.std(axis=0).round(3)}, grid centroid spread "
            f"{logs['grid_centroid_octaves']:.2f} octaves, grid peak {logs['grid_peak']:.3f}",
            flush=True,
        )


def spectral_centroids(audio, sample_rate):
    """Spectral centroid in Hz of each row of ``audio`` (N, length)."""
    magnitude = np.abs(np.fft.rfft(audio, axis=1))
    freqs = np.fft.rfftfreq(audio.shape[1], 1.0 / sample_rate)
    return (magnitude @ freqs + 1e-9) / (magnitude.sum(axis=1) + 1e-9)
