"""The percussive synthesiser of ``ddsp_vae``, in NumPy only (the twin of the Keras layer).

This module imports nothing but NumPy, so a TensorFlow-free engine can decode ddsp_vae
points with it. :class:`models.ddsp.DrumSynth` renders the same sound in the Keras graph
and takes its constants (mode frequencies, noise knots, noise sources) from here, so the
two cannot drift apart; a test holds them equal to 1e-4.

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
writes them, and ``trained/ddsp_vae/synth.npz``): the decoder is ``Input(2)`` followed by
``Dense`` layers; layer ``i`` gives ``dense/{i}/kernel`` (in, out) and ``dense/{i}/bias``,
and the hidden layers use leaky ReLU (slope 0.2), the last one is linear. ``config`` (a
JSON string in the npz) holds ``seed``, ``sample_rate``, ``length``, ``attack``. Decoding is
``render(mlp(points, layers), sources(seed, variation, ...), ...)``; see :func:`decode`.
"""
import itertools
import json

import numpy as np

N_MODES = 48
MODE_LOW_HZ = 30.0
MODE_HIGH_HZ = 4000.0
N_BANDS = 32
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
    before = [0, attack // 2, (3 * attack) // 4, attack - attack // 8, attack]
    step = 0.0025 * sample_rate
    dense = [attack + round(step * i) for i in range(1, 17)]
    late = np.geomspace(0.05 * sample_rate, max(length - 1 - attack, 0.06 * sample_rate), 21)
    knots = np.array(before + dense + [attack + round(v) for v in late])
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
        ``bands`` (n_bands, length), ``bright`` (length,), ``dark`` (length,), float32.
    """
    noise, click_noise = white_noise(seed, variation, length)
    spectrum = np.fft.rfft(noise.astype(np.float64))
    freqs = np.fft.rfftfreq(length, 1.0 / sample_rate)
    edges = np.geomspace(NOISE_LOW_HZ, sample_rate / 2, n_bands + 1)
    edges[0], edges[-1] = 0.0, sample_rate  # the bands partition the whole spectrum
    bands = np.stack([
        np.fft.irfft(np.where((freqs >= lo) & (freqs < hi), spectrum, 0.0), n=length)
        for lo, hi in itertools.pairwise(edges)
    ])
    onset = attack - round(ONSET_SECONDS * sample_rate)
    after = np.arange(length) - onset
    bright = np.where(after >= 0, click_noise * np.exp(-np.maximum(after, 0)
                                                        / (CLICK_BRIGHT_SECONDS * sample_rate)), 0)
    bright = bright / max(np.max(np.abs(bright)), 1e-9)
    width = CLICK_DARK_SECONDS * sample_rate
    dark = np.where((after >= 0) & (after < width), np.sin(np.pi * after / width), 0.0)
    return {"bands": bands.astype(np.float32), "bright": bright.astype(np.float32),
            "dark": dark.astype(np.float32)}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_range(s, low_high):
    low, high = np.log(low_high[0]), np.log(low_high[1])
    return np.exp(low + s * (high - low))


def split_parameters(raw, n_modes=N_MODES, n_bands=N_BANDS):
    """Named synth parameters (physical units) from raw vectors, shape (N, P).

    Returns
    -------
    dict of np.ndarray
        levels (N, M), decays s (N, M), ratio (N, 1), glide s (N, 1), tune (N, 1),
        gains dB (N, B, K), brightness (N, 1), mix (N, 3), output (N, 1).
    """
    raw = np.asarray(raw, dtype=np.float32)
    m, b = n_modes, n_bands
    n_knots = (raw.shape[1] - 2 * m - 8) // b
    i = 0

    def take(size):
        nonlocal i
        part = raw[:, i:i + size]
        i += size
        return part

    levels = _softmax(take(m))
    decays = _log_range(_sigmoid(take(m)), DECAY_RANGE)
    ratio = 1.0 + (GLIDE_RATIO_MAX - 1.0) * _sigmoid(take(1))
    glide = _log_range(_sigmoid(take(1)), GLIDE_TIME_RANGE)
    tune = 2.0 ** (np.tanh(take(1)) / 12.0)
    low, high = NOISE_DB_RANGE
    gains = (low + (high - low) * _sigmoid(take(b * n_knots))).reshape(-1, b, n_knots)
    brightness = _sigmoid(take(1))
    mix = _softmax(take(3))
    output = _log_range(_sigmoid(take(1)), OUTPUT_RANGE)
    return {"levels": levels, "decays": decays, "ratio": ratio, "glide": glide, "tune": tune,
            "gains_db": gains, "brightness": brightness, "mix": mix, "output": output}


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
    p = split_parameters(params, n_modes=n_modes, n_bands=noise["bands"].shape[0])
    onset = attack - round(ONSET_SECONDS * sample_rate)
    t = (np.arange(length) - onset).astype(np.float32) / np.float32(sample_rate)
    t_pos = np.maximum(t, 0.0)[None, None, ::2]
    late = np.maximum(t - np.float32(ONSET_SECONDS), 0.0)[None, None, ::2]
    # tonal
    freqs = mode_frequencies(n_modes).astype(np.float32)[None, :]
    glide = p["glide"]
    two_pi = np.float32(2.0 * np.pi)
    pitch = two_pi * freqs * p["tune"]
    depth = np.minimum(p["ratio"] - 1.0,
                       np.float32(NYQUIST_GUARD * sample_rate / 2) / (pitch / two_pi) - 1.0)
    depth = np.maximum(depth, 0.0)
    extra = (pitch * depth * glide)[:, :, None]
    bend = 1.0 - np.exp(-t_pos / glide[:, :, None])
    carrier = np.sin(pitch[:, :, None] * t_pos + extra * bend)
    decay = np.exp(np.log(p["levels"])[:, :, None] - late / p["decays"][:, :, None])
    ramp = np.clip(t / np.float32(ONSET_SECONDS), 0.0, 1.0)[None, :]
    half = np.sum(decay * carrier, axis=1)
    spectrum = np.fft.rfft(half, axis=1)[:, :-1]
    spectrum = np.pad(spectrum, [(0, 0), (0, length // 2 + 1 - length // 4)])
    tonal = ramp * (2.0 * np.fft.irfft(spectrum, n=length, axis=1)).astype(np.float32)
    # noise
    knots = noise_knots(length, attack, sample_rate)
    left, weight = knot_interpolation(length, knots)
    gains = 10.0 ** (p["gains_db"] / 20.0)
    envelope = gains[:, :, left] * (1.0 - weight) + gains[:, :, left + 1] * weight
    shaped = np.sum(envelope * noise["bands"][None], axis=1)
    # transient
    bright = p["brightness"]
    click = bright * noise["bright"][None] + (1.0 - bright) * noise["dark"][None]
    mix = p["mix"]
    x = mix[:, 0:1] * tonal + mix[:, 1:2] * shaped + mix[:, 2:3] * click
    peak = np.max(np.abs(x), axis=1, keepdims=True)
    return (p["output"] * x / (peak + PEAK_EPS)).astype(np.float32)


def mlp(points, layers):
    """The decoder's MLP: leaky ReLU between ``Dense`` layers, the last one linear.

    Parameters
    ----------
    points : np.ndarray, shape (N, 2)
    layers : list of (kernel, bias)
    """
    x = np.asarray(points, dtype=np.float32)
    for i, (kernel, bias) in enumerate(layers):
        x = x @ kernel.astype(np.float32) + bias.astype(np.float32)
        if i < len(layers) - 1:
            x = np.where(x >= 0, x, LEAKY_SLOPE * x)
    return x


def read_weights(path):
    """Load a synth.npz: ``(layers, config)`` for :func:`decode`."""
    with np.load(path, allow_pickle=False) as archive:
        config = json.loads(str(archive["config"]))
        count = len([k for k in archive.files if k.endswith("/kernel")])
        layers = [(archive[f"dense/{i}/kernel"], archive[f"dense/{i}/bias"]) for i in range(count)]
    return layers, config


def decode(points, layers, config, variation=None, noise=None):
    """Audio for latent points with NumPy only.

    Parameters
    ----------
    points : np.ndarray, shape (N, 2)
    layers, config : from :func:`read_weights`
    variation : int or None
    noise : dict, optional
        Precomputed :func:`sources` (saves their FFTs on repeated calls).
    """
    if noise is None:
        noise = sources(config["seed"], variation, sample_rate=config["sample_rate"],
                        length=config["length"], attack=config["attack"])
    return render(mlp(points, layers), noise, config["sample_rate"], config["length"],
                  config["attack"])


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
