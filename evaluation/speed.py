"""Decode speed: the time one point takes, as the GUI experiences it while dragging."""

import time

import numpy as np


def decode_speed(decode, point, sample_rate, repeats=30, warmup=3):
    """Median time of single-point decodes and the real-time factor it allows.

    Parameters
    ----------
    decode : callable
        ``decode(points (1, 2)) -> audio (1, L)``.
    point : sequence of float
        Where to decode (e.g. the centre of the latent range).
    sample_rate : int
    repeats : int
        Timed decodes; the median is reported so a stray context switch does not count.
    warmup : int
        Untimed decodes first (graph tracing, caches).

    Returns
    -------
    milliseconds : float
        Median wall time of one decode.
    real_time_factor : float
        Seconds of audio produced per second of decoding (above 1 is faster than real time).
    """
    points = np.asarray([point], dtype=np.float32)
    for _ in range(warmup):
        audio = decode(points)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        audio = decode(points)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    audio_seconds = np.asarray(audio).shape[-1] / sample_rate
    return seconds * 1000.0, audio_seconds / max(seconds, 1e-9)
