"""Sound features drawn as heat-maps over a model's latent range (pure NumPy).

Each feature maps a batch of sounds to one number per sound, cheap enough for a grid of a
thousand sounds in a worker thread. The local discontinuity (how fast the sound changes
around a point) belongs to the evaluation package (``evaluation.continuity.continuity_map``);
the heat-map worker calls it there.
"""

import numpy as np

#: Points per side of the heat-map grid.
GRID = 32
#: Points per side of the "made here" map's grid: each point is decoded and classified, which
#: costs far more than a feature (16 x 16 takes about 2 s of one core for ddsp_vae)
MADE_GRID = 16

FRAME = 512
HOP = 256
#: The heat-maps' names, written once: the map's modes, the workers' jobs and the labels
#: all use these.
BRIGHTNESS, DECAY, LOUDNESS, DISCONTINUITY = "brightness", "decay", "loudness", "discontinuity"
#: Computed per sound; the discontinuity compares neighbours instead.
PER_SOUND_NAMES = (BRIGHTNESS, DECAY, LOUDNESS)
HEATMAPS = (*PER_SOUND_NAMES, DISCONTINUITY)
#: The map of what the model makes: the family the project's classifier hears at each point
#: of a coarse grid (``evaluation.families``, the one that names a kit's instruments)
MADE = "made"
#: What the made map calls a point whose sound is silent (no family to hear)
SILENT = "silent"
SILENT_PEAK = 1e-4

DECAY_DB = 20.0  # decay time: from the loudest frame until 20 dB below it
FLOOR = 1e-10

#: feature -> (low, high, "log" or "linear"): one colour scale for every model, so that the
#: same colour is the same value whichever model's map is shown ([ and ] flip between them);
#: values beyond it take the end colours. Brightness spans drums' centroids from a low kick to
#: a cymbal, on a log scale (as pitch is heard).
FEATURE_SCALES = {
    BRIGHTNESS: (0.05, 12.0, "log"),
    DECAY: (0.0, 1.0, "linear"),
    LOUDNESS: (-60.0, 0.0, "linear"),
    DISCONTINUITY: (0.0, 30.0, "linear"),
}

#: feature -> (label for the map's colour bar, unit)
FEATURE_LABELS = {
    BRIGHTNESS: ("brightness: spectral centroid", "kHz"),
    DECAY: (f"decay time to -{DECAY_DB:g} dB", "s"),
    LOUDNESS: ("loudness: RMS", "dBFS"),
    DISCONTINUITY: ("local discontinuity: largest change to a neighbour", "dB"),
}


def grid_points(latent_range, n=GRID):
    """The centres of an n-by-n grid over the latent range, row by row from the bottom.

    Returns
    -------
    points : np.ndarray, shape (n * n, 2), float32
        Row ``i`` (y) and column ``j`` (x) is ``points[i * n + j]``.
    """
    xmin, xmax, ymin, ymax = latent_range
    xs = np.linspace(xmin, xmax, n, dtype=np.float32)
    ys = np.linspace(ymin, ymax, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def frame_rms(audio):
    """RMS of overlapping frames.

    Parameters
    ----------
    audio : np.ndarray, shape (N, L)

    Returns
    -------
    rms : np.ndarray, shape (N, T)
    """
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if audio.shape[1] < FRAME:
        audio = np.pad(audio, ((0, 0), (0, FRAME - audio.shape[1])))
    frames = np.lib.stride_tricks.sliding_window_view(audio, FRAME, axis=1)[:, ::HOP]
    return np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=2))


def brightness(audio, sample_rate):
    """Spectral centroid of each whole sound in kHz (0 for silence)."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    magnitude = np.abs(np.fft.rfft(audio, axis=1))
    freqs = np.fft.rfftfreq(audio.shape[1], 1.0 / sample_rate) / 1000.0
    total = magnitude.sum(axis=1)
    return np.where(total > FLOOR, magnitude @ freqs / np.maximum(total, FLOOR), 0.0)


def decay(audio, sample_rate):
    """Seconds from the loudest frame until the RMS is ``DECAY_DB`` below it (or the end)."""
    rms = frame_rms(audio)
    peak_frame = np.argmax(rms, axis=1)
    threshold = rms[np.arange(len(rms)), peak_frame] * 10 ** (-DECAY_DB / 20)
    frames = np.arange(rms.shape[1])
    after_peak = frames[None, :] > peak_frame[:, None]
    below = after_peak & (rms < threshold[:, None])
    end = np.where(below.any(axis=1), np.argmax(below, axis=1), rms.shape[1] - 1)
    return (end - peak_frame) * HOP / sample_rate


def loudness(audio, sample_rate):
    """RMS level of each whole sound in dBFS (floored at -100)."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    return 10 * np.log10(np.maximum(np.mean(audio**2, axis=1), FLOOR))


#: The features computed per sound (the discontinuity compares neighbours instead).
PER_SOUND = {BRIGHTNESS: brightness, DECAY: decay, LOUDNESS: loudness}


def spectrogram_db(audio, n_fft=512, hop=128):
    """Magnitude spectrogram in dB relative to full scale, for drawing.

    Returns
    -------
    image : np.ndarray, shape (n_fft // 2 + 1, T), float32, floored at -100 dB
    """
    audio = np.asarray(audio, dtype=np.float32).ravel()
    if audio.size < n_fft:
        audio = np.pad(audio, (0, n_fft - audio.size))
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop]
    window = np.hanning(n_fft).astype(np.float32)
    magnitude = np.abs(np.fft.rfft(frames * window, axis=1)) / (window.sum() / 2)
    return (20 * np.log10(np.maximum(magnitude, 1e-5))).T.astype(np.float32)


def envelope(audio, columns):
    """Min and max of the sound over ``columns`` equal slices, for drawing a long waveform.

    Returns
    -------
    lower, upper : np.ndarray, shape (columns,)
    """
    audio = np.asarray(audio, dtype=np.float32).ravel()
    columns = max(1, min(columns, audio.size))
    usable = audio[: audio.size // columns * columns].reshape(columns, -1)
    return usable.min(axis=1), usable.max(axis=1)
