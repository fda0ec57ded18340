"""The percussive synthesiser of ``ddsp_vae``, in NumPy only (the twin of the Keras layer).

This module imports nothing but NumPy (and :mod:`models.synth_settings`, the standard
library only), so a TensorFlow-free engine can decode ddsp_vae points with it.
:class:`models.ddsp.DrumSynth` renders the same sound in the Keras graph and takes its
constants (mode frequencies, noise knots, noise sources) from here, so the two cannot
drift apart; a test holds them equal to 1e-4. Both check their settings with
:mod:`models.synth_settings` before building anything.

The sound is three parts, mixed, then peak-scaled to a learned level below full scale:

- **tonal**: ``N_MODES`` sinusoidal modes at fixed log-spaced frequencies ``f_k`` (30 Hz
  to 4 kHz), each with a learned level (a softmax over the modes) and decay time. One
  shared pitch glide bends them all: the instantaneous frequency is
  ``f_k * tune * (1 + (ratio - 1) * exp(-t / glide))`` and the phase is its running
  integral, in closed form ``f_k * tune * (t + (ratio - 1) * glide * (1 - exp(-t / glide)))``
  (float32, in the same order of operations as the Keras layer). Each mode's glide depth
  ``ratio - 1`` is capped so that it never sweeps above ``0.475 * sample_rate`` (no
  aliasing): the high modes glide less than the low ones.
  The modes start ``ONSET_SECONDS`` before the attack sample, rise linearly to it and
  decay exponentially after it. They are rendered at half the sample rate (every other
  sample of the time axis; the glide is capped at ``0.475 * sample_rate / 2``) and
  upsampled band-limited: the spectrum without its Nyquist bin, zero-padded, ``irfft``
  at full length, times 2. This halves the cost of training. ``length`` must be even.
- **noise**: white noise split into ``N_BANDS`` log-spaced bands (a partition of the
  spectrum, so the bands sum back to the noise), each band multiplied by a gain that is
  interpolated linearly between ``knots`` (sample positions; dense, every 2.5 ms, over the
  first 40 ms after the attack so a clap's bursts fit, log-spaced after). Gains are given
  in dB, -60 to 0.
- **transient**: a click, a mix of a bright 1.5 ms noise burst and a dark 6 ms half-sine
  pulse, by a learned brightness.

The noise source is fixed per model: white noise from ``numpy.random.default_rng`` seeded
with ``SeedSequence([seed, variation])``; ``variation=None`` is the model's own noise
(variation 0). A point therefore always plays the same sound, and another variation gives
a new realisation of it.

Parameters, in the order of the decoder's raw output vector (``parameter_count``):

====================  =========  ==============================================
slice                 size       meaning
====================  =========  ==============================================
mode levels           N_MODES    softmax over modes
mode decays           N_MODES    sigmoid -> decay time, 5 ms to 2 s (log)
glide ratio           1          sigmoid -> 1 to 4
glide time            1          sigmoid -> 2 ms to 200 ms (log)
tune                  1          tanh -> +-1 semitone
noise gains           N_BANDS*K  sigmoid -> -60 to 0 dB, band-major (K knots)
brightness            1          sigmoid -> click mix
mix                   3          softmax -> tonal, noise, click weights
output level          1          sigmoid -> 0.01 to 0.99 (log), the peak
====================  =========  ==============================================

How the Keras decoder's weights map (see :func:`models.ddsp.numpy_decoder_weights`, which
writes them, ``trained/ddsp_vae/synth.npz``, and :mod:`models.synth_weights`, which reads
them): the decoder is ``Input(2)`` followed by
``Dense`` layers; layer ``i`` gives ``dense/{i}/kernel`` (in, out) and ``dense/{i}/bias``,
and the hidden layers use leaky ReLU (slope 0.2), the last one is linear. ``config`` (a
JSON string in the npz) holds ``seed``, ``sample_rate``, ``length``, ``attack``, each checked
against sane bounds (:mod:`models.synth_settings`) before anything is built. Decoding is
``render(mlp(points, layers), sources(seed, variation, ...), ...)``; see
:func:`models.synth_weights.decode`.
"""

import functools
import itertools
import threading

import numpy as np

# The settings' defaults and bounds (standard library only, so the zoo listing checks them
# without NumPy).
from models.synth_settings import N_BANDS, N_MODES

MODE_LOW_HZ = 30.0
MODE_HIGH_HZ = 4000.0
NOISE_LOW_HZ = 40.0
ONSET_SECONDS = 0.002
DECAY_RANGE = (0.005, 2.0)
GLIDE_RATIO_MAX = 4.0
GLIDE_TIME_RANGE = (0.002, 0.2)
NOISE_DB_RANGE = (-60.0, 0.0)
OUTPUT_RANGE = (0.01, 0.99)
NYQUIST_GUARD = 0.475
NOISE_STD = 0.25
CLICK_BRIGHT_SECONDS = 0.0015
CLICK_DARK_SECONDS = 0.006
LEAKY_SLOPE = 0.2
PEAK_EPS = 1e-4


def mode_frequencies(n_modes=N_MODES, low=MODE_LOW_HZ, high=MODE_HIGH_HZ):
    """The fixed mode frequencies in Hz, log-spaced, shape (n_modes,)."""
    return np.geomspace(low, high, n_modes)


def noise_knots(length, attack, sample_rate):
    """Sample positions of the noise gain knots, strictly increasing, from 0 to length - 1.

    Five before the attack (so the noise can fill the lead-in), every 2.5 ms over the first
    40 ms after it, then log-spaced to the end.
    """
    return spaced_knots(
        length, attack, step=0.0025 * sample_rate, dense=16, first_late=0.05 * sample_rate, shortest_late=0.06 * sample_rate, late=21
    )


def spaced_knots(length, attack, *, step, dense, first_late, shortest_late, late):
    """Knots, strictly increasing, from 0 to length - 1: five before the attack, ``dense``
    every ``step`` samples after it, then ``late`` log-spaced from ``first_late`` samples
    after it to the end (or ``shortest_late``, were the end nearer).

    Returns
    -------
    np.ndarray, int64
    """
    before = [0, attack // 2, (3 * attack) // 4, attack - attack // 8, attack]
    close = [attack + round(step * i) for i in range(1, dense + 1)]
    spread = np.geomspace(first_late, max(length - 1 - attack, shortest_late), late)
    knots = np.array(before + close + [attack + round(v) for v in spread])
    knots = np.unique(np.clip(knots, 0, length - 1))
    if knots[0] != 0:
        knots = np.concatenate([[0], knots])
    if knots[-1] != length - 1:
        knots = np.concatenate([knots, [length - 1]])
    return knots.astype(np.int64)


def knot_interpolation(length, knots):
    """For each sample, the knot on its left and the weight of the knot on its right.

    Returns
    -------
    left : np.ndarray, shape (length,), int64
        In ``[0, K - 2]``.
    weight : np.ndarray, shape (length,), float32
    """
    n = np.arange(length)
    left = np.clip(np.searchsorted(knots, n, side="right") - 1, 0, len(knots) - 2)
    weight = (n - knots[left]) / (knots[left + 1] - knots[left])
    return left.astype(np.int64), weight.astype(np.float32)


def parameter_count(length, attack, sample_rate, n_modes=N_MODES, n_bands=N_BANDS):
    """Size of the raw parameter vector for this sample length, attack and rate."""
    n_knots = len(noise_knots(length, attack, sample_rate))
    return 2 * n_modes + 3 + n_bands * n_knots + 1 + 3 + 1


def white_noise(seed, variation, length):
    """The model's white noise source (std ``NOISE_STD``) and its click noise, float32.

    Parameters
    ----------
    seed : int
        The model's noise seed.
    variation : int or None
        None is the model's own noise (the same as 0).

    Returns
    -------
    noise, click_noise : np.ndarray, shape (length,)
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(variation or 0)]))
    noise = rng.standard_normal(length) * NOISE_STD
    click = rng.standard_normal(length)
    return noise.astype(np.float32), click.astype(np.float32)


def sources(seed, variation, *, sample_rate, length, attack, n_bands=N_BANDS):
    """The fixed signals the synthesiser shapes: band-split noise and the two clicks.

    Returns
    -------
    dict
        ``bands`` (n_bands, length), ``bright`` (length,), ``dark`` (length,), float32;
        ``stacked`` (2 * n_bands, length), the bands and the bands weighted by their place
        between two knots (:func:`stack_bands`, for :meth:`Renderer.shaped_noise`), of which
        ``bands`` is a view.
    """
    noise, click_noise = white_noise(seed, variation, length)
    spectrum = np.fft.rfft(noise.astype(np.float64))
    freqs = np.fft.rfftfreq(length, 1.0 / sample_rate)
    edges = np.geomspace(NOISE_LOW_HZ, sample_rate / 2, n_bands + 1)
    edges[0], edges[-1] = 0.0, sample_rate  # the bands partition the whole spectrum
    bands = np.stack(
        [np.fft.irfft(np.where((freqs >= lo) & (freqs < hi), spectrum, 0.0), n=length) for lo, hi in itertools.pairwise(edges)]
    )
    onset = attack - round(ONSET_SECONDS * sample_rate)
    after = np.arange(length) - onset
    bright = np.where(after >= 0, click_noise * np.exp(-np.maximum(after, 0) / (CLICK_BRIGHT_SECONDS * sample_rate)), 0)
    bright = bright / max(np.max(np.abs(bright)), 1e-9)
    width = CLICK_DARK_SECONDS * sample_rate
    dark = np.where((after >= 0) & (after < width), np.sin(np.pi * after / width), 0.0)
    stacked = stack_bands(bands.astype(np.float32), length, attack, sample_rate)
    return {"bands": stacked[:n_bands], "stacked": stacked, "bright": bright.astype(np.float32), "dark": dark.astype(np.float32)}


F32 = np.float32
#: The tonal part leaves out a mode where its level times its decay envelope (in units of
#: the mixed sound, before peak scaling) has fallen below this. The error this makes is
#: bounded (:data:`UPSAMPLE_GAIN` times this per mode) and checked against the peak after
#: rendering; a sound where the bound exceeds ``TRUNCATION_TOLERANCE`` is rendered again
#: without truncation.
MODE_FLOOR = 3e-9
#: A bound on how much the band-limited upsampling can amplify an error (the Lebesgue
#: constant of periodic sinc interpolation over 8192 points is about 6.7).
UPSAMPLE_GAIN = 8.0
#: Largest error the truncation may add to the output (the twin test allows 1e-4 in all).
TRUNCATION_TOLERANCE = 2e-5
#: Modes are rendered in this many groups of similar lengths (each group as long as its
#: longest mode); more groups cut more of the decayed tails but cost more calls.
MODE_GROUPS = 4
#: Samples per block of the separable decay envelope.
DECAY_BLOCK = 128


def _sigmoid(x):
    return F32(1.0) / (F32(1.0) + np.exp(-x))


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_range(s, low_high):
    low, high = F32(np.log(low_high[0])), F32(np.log(low_high[1]))
    return np.exp(low + s * (high - low))


def split_parameters(raw, n_modes=N_MODES, n_bands=N_BANDS):
    """Named synth parameters (physical units) from raw vectors, shape (N, P), in float32.

    Returns
    -------
    dict of np.ndarray
        levels (N, M), decays s (N, M), ratio (N, 1), glide s (N, 1), tune (N, 1),
        gains dB (N, B, K), brightness (N, 1), mix (N, 3), output (N, 1).
    """
    raw = np.asarray(raw, dtype=F32)
    m, b = n_modes, n_bands
    n_knots = (raw.shape[1] - 2 * m - 8) // b
    i = 0

    def take(size):
        nonlocal i
        part = raw[:, i : i + size]
        i += size
        return part

    levels = _softmax(take(m))
    decays = _log_range(_sigmoid(take(m)), DECAY_RANGE)
    ratio = F32(1.0) + F32(GLIDE_RATIO_MAX - 1.0) * _sigmoid(take(1))
    glide = _log_range(_sigmoid(take(1)), GLIDE_TIME_RANGE)
    tune = F32(2.0) ** (np.tanh(take(1)) / F32(12.0))
    low, high = F32(NOISE_DB_RANGE[0]), F32(NOISE_DB_RANGE[1])
    gains = (low + (high - low) * _sigmoid(take(b * n_knots))).reshape(-1, b, n_knots)
    brightness = _sigmoid(take(1))
    mix = _softmax(take(3))
    output = _log_range(_sigmoid(take(1)), OUTPUT_RANGE)
    return {
        "levels": levels,
        "decays": decays,
        "ratio": ratio,
        "glide": glide,
        "tune": tune,
        "gains_db": gains,
        "brightness": brightness,
        "mix": mix,
        "output": output,
    }


class Renderer:
    """Renders raw synth parameters for one rate, length and attack (see :func:`render`).

    Everything that depends only on those (time axes, knots, the decay blocks) is made
    once here. All arithmetic is float32, in the Keras layer's order where rounding
    matters (the phase). Three things make it fast without changing the sound beyond
    ``TRUNCATION_TOLERANCE``:

    - **decayed tails are skipped**: each mode is rendered only as long as its level times
      its decay envelope stays above ``MODE_FLOOR`` (a 20 ms mode is over in a fifth of
      the sample), modes grouped by length;
    - **the decay is separable**: ``exp(-late / d)`` on a uniform time axis is the outer
      product of its values at block starts and within a block, so it costs two short
      exponentials per mode instead of one per sample;
    - **the noise envelope is a matrix product per knot segment**: between two knots the
      gain is ``g_k + (g_k+1 - g_k) w``, so the shaped noise is ``[g_k, g_k+1 - g_k]``
      times the bands stacked on the bands weighted by ``w`` (:func:`sources` keeps both).
    """

    def __init__(self, sample_rate, length, attack, n_modes=N_MODES):
        self.sample_rate, self.length, self.attack = int(sample_rate), int(length), int(attack)
        self.n_modes = int(n_modes)
        onset = attack - round(ONSET_SECONDS * sample_rate)
        t = (np.arange(length) - onset).astype(F32) / F32(sample_rate)
        self.t_pos = np.maximum(t, F32(0.0))[::2]
        late = np.maximum(t - F32(ONSET_SECONDS), F32(0.0))[::2]
        self.half = len(self.t_pos)
        # the decay starts at sample first_late of the half-rate axis, then grows by step
        self.first_late = int(np.argmax(late > 0)) if np.any(late > 0) else self.half
        self.late0 = F32(late[self.first_late]) if self.first_late < self.half else F32(0.0)
        self.step = F32(2.0) / F32(sample_rate)
        blocks = -(-(self.half - self.first_late) // DECAY_BLOCK)
        self.block_late = (np.arange(blocks) * DECAY_BLOCK).astype(F32) * self.step
        self.offset_late = np.arange(DECAY_BLOCK).astype(F32) * self.step
        self.ramp = np.clip(t / F32(ONSET_SECONDS), 0.0, 1.0).astype(F32)[None, :]
        self.freqs = mode_frequencies(self.n_modes).astype(F32)[None, :]
        self.alternating = np.where(np.arange(self.half) % 2, -1.0, 1.0).astype(F32)
        delay = np.exp(1j * np.pi * np.arange(self.half // 2 + 1) / self.half).astype(np.complex64)
        delay[-1] = 0.0  # the Nyquist bin is dropped
        self.half_sample_delay = delay
        self._local = threading.local()
        knots = noise_knots(length, attack, sample_rate)
        self.segments = [(int(knots[k]), int(knots[k + 1]), k) for k in range(len(knots) - 1)]
        # the last sample belongs to the last segment (its weight is 1)
        last_start, _, last = self.segments[-1]
        self.segments[-1] = (last_start, self.length, last)

    def active_lengths(self, p):
        """Half-rate samples each mode is rendered for: (N, M) int, 0 for a silent mode."""
        amplitude = p["levels"] * p["mix"][:, :1]
        with np.errstate(divide="ignore"):
            late_cut = p["decays"] * np.log(amplitude / F32(MODE_FLOOR))
        samples = self.first_late + np.ceil((late_cut - self.late0) / self.step) + 1
        samples = np.where(amplitude > MODE_FLOOR, np.clip(samples, 1, self.half), 0)
        return samples.astype(np.int64)

    def tonal(self, p, truncate=True):
        """The modes of one point (``p`` holds one row), band-limited upsampled: (1, length)."""
        two_pi = F32(2.0 * np.pi)
        pitch = (two_pi * self.freqs * p["tune"])[0]
        depth = np.minimum(p["ratio"][0] - F32(1.0), F32(NYQUIST_GUARD * self.sample_rate / 2) / (pitch / two_pi) - F32(1.0))
        depth = np.maximum(depth, F32(0.0))
        glide = p["glide"][0]
        extra = pitch * depth * glide
        bend = F32(1.0) - np.exp(-self.t_pos / glide)
        levels = p["levels"][0]
        rate = F32(-1.0) / p["decays"][0]
        start = levels * np.exp(rate * self.late0)
        lengths = self.active_lengths(p)[0] if truncate else np.full(self.n_modes, self.half)
        order = np.argsort(-lengths, kind="stable")
        order = order[lengths[order] > 0]
        phase_buffer, product_buffer, envelope_buffer = self._scratch()
        half = np.zeros(self.half, F32)
        bounds = [len(order) * i // MODE_GROUPS for i in range(MODE_GROUPS + 1)]
        for begin, end in itertools.pairwise(bounds):
            if begin == end:
                continue
            group = order[begin:end]
            size, upto = end - begin, int(lengths[group[0]])
            # the phase as the Keras layer rounds it: pitch * t + extra * bend, in float32
            phase = np.multiply(pitch[group, None], self.t_pos[:upto], out=phase_buffer[:size, :upto])
            product = np.multiply(extra[group, None], bend[:upto], out=product_buffer[:size, :upto])
            wave = np.sin(np.add(phase, product, out=phase), out=phase)
            head = min(self.first_late, upto)
            wave[:, :head] *= levels[group, None]
            if upto > head:
                blocks = -(-(upto - head) // DECAY_BLOCK)
                r = rate[group, None]
                envelope = envelope_buffer[: size * blocks * DECAY_BLOCK].reshape(size, blocks, -1)
                np.multiply(
                    (start[group, None] * np.exp(r * self.block_late[:blocks]))[:, :, None],
                    np.exp(r * self.offset_late)[:, None, :],
                    out=envelope,
                )
                wave[:, head:] *= envelope.reshape(size, -1)[:, : upto - head]
            half[:upto] += wave.sum(axis=0)
        return self.upsample(half)[None, :] * self.ramp

    def upsample(self, half):
        """Band-limited upsampling by 2 of the half-rate tonal part, as the Keras layer does:
        the spectrum without its Nyquist bin, zero-padded, ``irfft`` at full length, times 2.

        Done in two half-length transforms: the even samples are the input less its Nyquist
        component, the odd ones the spectrum delayed by half a sample.
        """
        spectrum = np.fft.rfft(half)
        out = np.empty(self.length, F32)
        np.multiply(self.alternating, -spectrum[-1].real / F32(self.half), out=out[0::2])
        out[0::2] += half
        spectrum *= self.half_sample_delay
        out[1::2] = np.fft.irfft(spectrum, n=self.half)
        return out

    def _scratch(self):
        """This thread's three (modes, half-rate length) float32 work arrays."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            blocks = len(self.block_late)
            buffers = (
                np.empty((self.n_modes, self.half), F32),
                np.empty((self.n_modes, self.half), F32),
                np.empty(self.n_modes * blocks * DECAY_BLOCK, F32),
            )
            self._local.buffers = buffers
        return buffers

    def shaped_noise(self, p, noise):
        """The bands times their interpolated gains, summed: (N, length)."""
        stacked = noise.get("stacked")
        if stacked is None:
            stacked = stack_bands(noise["bands"], self.length, self.attack, self.sample_rate)
        gains = F32(10.0) ** (p["gains_db"] / F32(20.0))
        both = np.concatenate([gains[:, :, :-1], np.diff(gains, axis=2)], axis=1)
        out = np.empty((gains.shape[0], self.length), F32)
        for begin, end, k in self.segments:
            np.matmul(both[:, :, k], stacked[:, begin:end], out=out[:, begin:end])
        return out

    def render(self, params, noise):
        """Audio from raw synth parameters and noise sources: (N, length), float32."""
        p = split_parameters(params, n_modes=self.n_modes, n_bands=noise["bands"].shape[0])
        shaped = self.shaped_noise(p, noise)
        bright = p["brightness"]
        click = bright * noise["bright"][None] + (F32(1.0) - bright) * noise["dark"][None]
        mix = p["mix"]
        rest = mix[:, 1:2] * shaped + mix[:, 2:3] * click
        # one point at a time: each skips its own tails, and the arrays stay in cache
        rows = [{key: value[i : i + 1] for key, value in p.items()} for i in range(len(mix))]
        x = mix[:, 0:1] * np.concatenate([self.tonal(row) for row in rows]) + rest
        peak = np.max(np.abs(x), axis=1, keepdims=True)
        # what the skipped tails can add, relative to the peak the output is scaled to
        bound = 2.0 * p["output"][:, 0] * self.n_modes * MODE_FLOOR * UPSAMPLE_GAIN / peak[:, 0]
        for i in np.flatnonzero(bound > TRUNCATION_TOLERANCE):
            x[i] = mix[i, 0] * self.tonal(rows[i], truncate=False)[0] + rest[i]
            peak[i] = np.max(np.abs(x[i]))
        return (p["output"] * x / (peak + F32(PEAK_EPS))).astype(F32)


@functools.lru_cache(maxsize=8)
def renderer(sample_rate, length, attack, n_modes=N_MODES):
    """The :class:`Renderer` of these settings (made once)."""
    return Renderer(sample_rate, length, attack, n_modes)


def stack_bands(bands, length, attack, sample_rate):
    """The bands stacked on the bands times their position within each knot segment
    (0 at its left knot, 1 at its right): (2 * n_bands, length), float32."""
    _, weight = knot_interpolation(length, noise_knots(length, attack, sample_rate))
    return np.concatenate([bands, bands * weight[None, :]]).astype(F32)


def render(params, noise, sample_rate, length, attack, n_modes=N_MODES):
    """Audio from raw synth parameters.

    Parameters
    ----------
    params : np.ndarray, shape (N, P)
        The decoder MLP's raw output (see the module table).
    noise : dict
        :func:`sources` of the model's seed and the wanted variation.
    sample_rate, length, attack : int
        The dataset's rate, length and attack sample (the peak's position).

    Returns
    -------
    np.ndarray, shape (N, length), float32
        Peak ``output`` (below 0.99), never beyond full scale.
    """
    return renderer(int(sample_rate), int(length), int(attack), int(n_modes)).render(params, noise)


#: ddsp_vae's encoder frames: FFT size, hop and mel bands.
MEL_N_FFT = 1024
MEL_HOP = 256
MEL_BANDS = 64


def mel_filterbank(sample_rate, n_fft=1024, n_mels=64, low=30.0):
    """Triangular mel filters (HTK mel scale), shape (n_fft // 2 + 1, n_mels), float32."""

    def to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m):
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = to_hz(np.linspace(to_mel(low), to_mel(sample_rate / 2), n_mels + 2))
    bank = np.zeros((len(freqs), n_mels), np.float32)
    for i in range(n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        rise = (freqs - lo) / max(mid - lo, 1e-9)
        fall = (hi - freqs) / max(hi - mid, 1e-9)
        bank[:, i] = np.maximum(0.0, np.minimum(rise, fall))
    # a band narrower than one FFT bin still sees its nearest bin
    for i in np.where(bank.sum(axis=0) == 0)[0]:
        bank[np.argmin(np.abs(freqs - edges[i + 1])), i] = 1.0
    return bank
