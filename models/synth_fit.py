"""Fit ddsp_cvae's synthesiser to real sounds, one parameter vector per sound, by gradient descent.

Issue 30 §2 asks first whether :class:`models.ddsp_cvae.FullBandSynth` can render a clap at
all: if no parameter vector plays a clap, no decoder can. :func:`fit_synth` answers it
without any network: the raw parameter vector of each target is a variable, moved by Adam
on the training loss (the floored multi-resolution STFT of :mod:`models.losses`, with
ddsp_cvae's FFT sizes and no waveform term). The rows of a batch are independent fits (the
loss is a sum over rows and Adam's step is per coordinate), so fitting a batch is fitting
each sound alone, only faster.

A fit starts from what the target's own band envelopes say (:func:`initial_parameters`):
each noise band's gain at each knot from the target's level in that band there, the
modes' levels from its spectrum at their frequencies, the output level from its peak.
Gradient descent does the rest. The measures of a fit (against the real sounds' spread)
are :mod:`evaluation.synth_fit`'s; ``scripts/fit_synth.py`` runs both on the real kits.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from models import drumsynth
from models.ddsp_cvae import FullBandSynth
from models.fullband import DENSE_SECONDS, end_fade, fine_noise_knots
from models.losses import reconstruction_error

#: ddsp_cvae's loss (its registry defaults): FFT sizes 8192 to 128, no waveform term.
FIT_FFT_SIZES = (8192, 4096, 2048, 1024, 512, 256, 128)
FIT_LOSS = "spectral_floored"
#: Gains of the initial envelope are kept this far inside the gain range, so the sigmoid
#: that maps them is not saturated and gradient descent can still move them.
_RANGE_MARGIN = 0.02


def make_synth(sample_rate, length, attack, seed):
    """The synthesiser to fit: ddsp_cvae's :class:`FullBandSynth` with the noise of ``seed``."""
    return FullBandSynth(sample_rate, length, attack, seed, name="synth")


def render_with_noise(raw, synth, variation):
    """What ``raw`` plays with the noise realisation ``variation`` (0 or None: the synthesiser's own).

    Returns
    -------
    np.ndarray, shape (N, L), float32
    """
    return np.asarray(synth.render(np.asarray(raw, np.float32), synth.sources(variation)))


@dataclass(frozen=True)
class SynthFit:
    """What :func:`fit_synth` returns.

    Attributes
    ----------
    raw : np.ndarray, shape (N, P), float32
        The fitted raw parameter vectors (the decoder's output space).
    audio : np.ndarray, shape (N, L), float32
        What the synthesiser plays from them.
    history : np.ndarray, shape (steps + 1, N), float32
        The loss of each sound before the first step and after every step.
    target : np.ndarray, shape (N, L), float32
        The targets as the fit heard them: times the synthesiser's end fade.
    """

    raw: np.ndarray
    audio: np.ndarray
    history: np.ndarray
    target: np.ndarray


def _logit(share):
    share = np.clip(share, 1e-4, 1 - 1e-4)
    return np.log(share / (1 - share))


def _log_range_inverse(value, low_high):
    low, high = np.log(low_high[0]), np.log(low_high[1])
    return _logit((np.log(value) - low) / (high - low))


def band_split(audio, sample_rate, n_bands=drumsynth.N_BANDS):
    """``audio`` split into the synthesiser's noise bands (the same log-spaced edges as
    :func:`models.drumsynth.sources`), shape (N, n_bands, L); the bands sum to the audio."""
    audio = np.atleast_2d(np.asarray(audio, np.float64))
    length = audio.shape[1]
    spectrum = np.fft.rfft(audio, axis=1)
    freqs = np.fft.rfftfreq(length, 1.0 / sample_rate)
    edges = np.geomspace(drumsynth.NOISE_LOW_HZ, sample_rate / 2, n_bands + 1)
    edges[0], edges[-1] = 0.0, sample_rate
    return np.stack(
        [
            np.fft.irfft(np.where((freqs >= lo) & (freqs < hi), spectrum, 0.0), n=length, axis=1)
            for lo, hi in zip(edges[:-1], edges[1:])
        ],
        axis=1,
    )


def knot_levels(audio, knots, sample_rate, n_bands=drumsynth.N_BANDS):
    """The RMS of each band of ``audio`` around each knot (from the midpoint to the knot
    before to the midpoint to the knot after), shape (N, n_bands, K)."""
    bands = band_split(audio, sample_rate, n_bands)
    middles = np.concatenate([[0], (knots[:-1] + knots[1:]) // 2 + 1, [bands.shape[-1]]])
    power = np.cumsum(np.concatenate([np.zeros(bands.shape[:2] + (1,)), bands**2], axis=-1), axis=-1)
    begin, end = middles[:-1], np.maximum(middles[1:], middles[:-1] + 1)
    return np.sqrt(np.maximum(power[..., end] - power[..., begin], 0.0) / (end - begin))


def initial_parameters(target, synth):
    """Raw parameters (N, P) that start a fit where the target's own envelopes point.

    - noise gains: each band's level around each knot over the noise source's level in that
      band, in dB re the loudest band and knot, inside the gain range;
    - mode levels: the target's magnitude spectrum at each mode frequency (a softmax of
      their logs); mode decays 100 ms, no glide, no detune;
    - mix: tonal and noise alike, the click a tenth of them; output level: the target's peak.
    """
    target = np.atleast_2d(np.asarray(target, np.float32))
    n, length = target.shape
    knots = fine_noise_knots(length, synth.attack, synth.sample_rate)
    noise = drumsynth.sources(
        synth.seed, None, sample_rate=synth.sample_rate, length=length, attack=synth.attack, n_bands=synth.n_bands
    )["bands"]
    noise_level = np.sqrt(np.mean(noise.astype(np.float64) ** 2, axis=1))  # (bands,)
    levels = knot_levels(target, knots, synth.sample_rate, synth.n_bands) / noise_level[None, :, None]
    db = 20 * np.log10(np.maximum(levels, 1e-12))
    db -= db.max(axis=(1, 2), keepdims=True)
    low, high = drumsynth.NOISE_DB_RANGE
    share = np.clip((db - low) / (high - low), _RANGE_MARGIN, 1 - _RANGE_MARGIN)
    gains = _logit(share).reshape(n, -1)
    spectrum = np.abs(np.fft.rfft(target.astype(np.float64), axis=1))
    freqs = np.fft.rfftfreq(length, 1.0 / synth.sample_rate)
    at_modes = np.stack([np.interp(drumsynth.mode_frequencies(synth.n_modes), freqs, row) for row in spectrum])
    mode_levels = np.log(np.maximum(at_modes, 1e-9 * at_modes.max(axis=1, keepdims=True) + 1e-30))
    decays = np.full((n, synth.n_modes), _log_range_inverse(0.1, drumsynth.DECAY_RANGE))
    peak = np.clip(np.max(np.abs(target), axis=1), drumsynth.OUTPUT_RANGE[0] * 1.01, drumsynth.OUTPUT_RANGE[1] * 0.99)
    columns = [
        mode_levels,
        decays,
        np.full((n, 1), -8.0),  # glide ratio near 1: no glide
        np.zeros((n, 1)),
        np.zeros((n, 1)),  # glide time, tune
        gains,
        np.zeros((n, 1)),  # brightness
        np.tile([[0.0, 0.0, -np.log(10.0)]], (n, 1)),  # mix: tonal, noise, click
        _log_range_inverse(peak, drumsynth.OUTPUT_RANGE)[:, None],
    ]
    raw = np.concatenate(columns, axis=1).astype(np.float32)
    if raw.shape[1] != synth.parameter_count:
        raise ValueError(f"initial parameters have {raw.shape[1]} values, the synthesiser takes {synth.parameter_count}")
    return raw


def fit_synth(target, synth, *, steps=400, learning_rate=0.05, fft_sizes=FIT_FFT_SIZES, initial=None):
    """Fit the synthesiser's raw parameters to each target sound by gradient descent.

    Parameters
    ----------
    target : np.ndarray, shape (N, L) or (L,)
        Real sounds at the synthesiser's rate, ``L == synth.length``, peak at its attack
        sample (as preprocessing places it).
    synth : models.ddsp_cvae.FullBandSynth
        Its noise sources stay fixed: the fit is of the parameters, not the noise.
    steps : int
        Adam steps.
    learning_rate : float
        Adam's step size in the raw (pre-sigmoid) parameter space.
    fft_sizes : sequence of int
        The loss's FFT sizes (ddsp_cvae's by default).
    initial : np.ndarray, shape (N, P), optional
        Where to start (default :func:`initial_parameters`).

    Returns
    -------
    SynthFit
    """
    target = np.atleast_2d(np.asarray(target, np.float32))
    if target.shape[1] != synth.length:
        raise ValueError(f"the targets have {target.shape[1]} samples, the synthesiser renders {synth.length}")
    faded = target * end_fade(synth.length, synth.sample_rate)[None, :]
    start = initial_parameters(faded, synth) if initial is None else np.asarray(initial, np.float32)
    raw = tf.Variable(start, name="raw_parameters")
    goal = tf.constant(faded)
    optimizer = keras.optimizers.Adam(learning_rate)
    sizes = tuple(n for n in fft_sizes if n <= synth.length)

    def loss_per_sound():
        return reconstruction_error(FIT_LOSS, goal, synth(raw), sizes, waveform_weight=0.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            losses = loss_per_sound()
            total = tf.reduce_sum(losses)
        optimizer.apply_gradients([(tape.gradient(total, raw), raw)])
        return losses

    # each step returns the losses before its update: entry k of the history is the loss
    # after k steps, and the last one is measured after the loop
    history = [np.asarray(step()) for _ in range(int(steps))]
    audio = np.asarray(synth(raw))
    history.append(np.asarray(loss_per_sound()))
    return SynthFit(raw=raw.numpy(), audio=audio, history=np.stack(history).astype(np.float32), target=faded)


def smooth_noise_gains(raw, synth, seconds=0.02):
    """The raw parameters with each band's gains averaged over ``seconds`` across the knots
    of the first ``DENSE_SECONDS`` after the attack: the same decay, without its bursts.

    What the measures say of a clap without its bursts tells how much they hear the bursts.

    Returns
    -------
    np.ndarray, shape (N, P), float32
    """
    raw = np.array(raw, np.float32)
    knots = fine_noise_knots(synth.length, synth.attack, synth.sample_rate)
    begin = 2 * synth.n_modes + 3
    gains = raw[:, begin : begin + synth.n_bands * synth.n_knots].reshape(len(raw), synth.n_bands, synth.n_knots)
    dense = np.flatnonzero((knots >= synth.attack) & (knots <= synth.attack + DENSE_SECONDS * synth.sample_rate))
    width = max(1, round(seconds * synth.sample_rate / np.median(np.diff(knots[dense]))))
    padded = np.concatenate(
        [np.repeat(gains[:, :, dense[:1]], width, axis=2), gains[:, :, dense], np.repeat(gains[:, :, dense[-1:]], width, axis=2)],
        axis=2,
    )
    totals = np.cumsum(np.concatenate([np.zeros(padded.shape[:2] + (1,)), padded], axis=2), axis=2)
    half = width // 2
    centre = np.arange(len(dense)) + width
    gains[:, :, dense] = (totals[:, :, centre - half + width] - totals[:, :, centre - half]) / width
    raw[:, begin : begin + synth.n_bands * synth.n_knots] = gains.reshape(len(raw), -1)
    return raw
