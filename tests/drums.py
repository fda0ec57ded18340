"""Seeded synthetic drum one-shots: the tests' own small data.

Every generator takes a ``numpy.random.Generator`` (or a seed) and returns float32 mono
audio whose absolute peak is at a known place, so tests can check alignment exactly.
"""

import numpy as np


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def snare(seed=0, sr=44100, seconds=0.5, onset=0.05):
    """A snare: a pitched body plus a noise burst, both decaying.

    Returns
    -------
    y : np.ndarray, shape (round(seconds * sr),), float32
    """
    rng = _rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    start = int(round(onset * sr))
    env_t = np.clip(t - onset, 0, None)
    body_hz = rng.uniform(160, 240)
    body = np.sin(2 * np.pi * body_hz * env_t) * np.exp(-env_t * rng.uniform(25, 40))
    noise = rng.standard_normal(n) * np.exp(-env_t * rng.uniform(12, 25)) * rng.uniform(0.3, 0.7)
    y = body + noise
    y[:start] = 0.0
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


def kick(seed=0, sr=44100, seconds=0.5, onset=0.02):
    """A kick: a sine sweeping down from about 150 Hz to 50 Hz with a fast decay."""
    rng = _rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    env_t = np.clip(t - onset, 0, None)
    f0, f1 = rng.uniform(120, 180), rng.uniform(40, 60)
    freq = f1 + (f0 - f1) * np.exp(-env_t * 30)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    y = np.sin(phase) * np.exp(-env_t * rng.uniform(6, 12))
    y[: int(round(onset * sr))] = 0.0
    return (0.9 * y / np.max(np.abs(y))).astype(np.float32)


def hat(seed=0, sr=44100, seconds=0.3, onset=0.01):
    """A closed hi-hat: high-passed noise with a very short decay."""
    rng = _rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    env_t = np.clip(t - onset, 0, None)
    noise = np.diff(rng.standard_normal(n + 1))  # first difference tilts the noise upward
    y = noise * np.exp(-env_t * rng.uniform(40, 80))
    y[: int(round(onset * sr))] = 0.0
    return (0.6 * y / np.max(np.abs(y))).astype(np.float32)


GENERATORS = {"snare": snare, "kick": kick, "hat": hat}


def drum_batch(count, length, seed=0, sr=22050):
    """A batch of mixed, already-aligned drums for model tests.

    Returns
    -------
    audio : np.ndarray, shape (count, length), float32
    labels : list of str, length count
    """
    rng = _rng(seed)
    kinds = list(GENERATORS)
    audio = np.zeros((count, length), dtype=np.float32)
    labels = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        y = GENERATORS[kind](rng, sr=sr, seconds=max(length / sr, 0.05), onset=0.01)
        audio[i, : min(length, y.size)] = y[:length]
        labels.append(kind)
    return audio, labels


def preprocessed_kits(sources, out, count, length, *, seed, kit_of=lambda i: f"kit_{i % 3}", sr=22050):
    """A real preprocessed dataset: :func:`drum_batch`'s sounds written as WAVs into kit
    folders under ``sources`` (``kit_of(i)`` names sound i's), preprocessed into ``out``.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    import soundfile as sf

    from preprocessing.pipeline import preprocess
    from preprocessing.settings import PreprocessSettings

    audio, labels = drum_batch(count, length, seed=seed)
    for i, (sound, label) in enumerate(zip(audio, labels)):
        kit = sources / kit_of(i)
        kit.mkdir(parents=True, exist_ok=True)
        sf.write(kit / f"{label}_{i}.wav", sound, sr, subtype="FLOAT")
    preprocess([sources], out, PreprocessSettings(sample_rate=sr, length=length), jobs=1)
    return out


def kick_and_snare_files(folder, count=12, sr=44100, seconds=0.1):
    """``count`` short one-shots written into ``folder`` as WAVs, kicks and snares in turn
    (``kick_00.wav``, ``snare_01.wav``, …): a user's sources for ``app.py preprocess``.

    Returns
    -------
    pathlib.Path
        ``folder``.
    """
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        make, name = (snare, "snare") if i % 2 else (kick, "kick")
        sf.write(folder / f"{name}_{i:02d}.wav", make(i, sr=sr, seconds=seconds), sr)
    return folder
