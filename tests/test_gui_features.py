"""The heat-map features and drawing helpers of the window (pure NumPy)."""

import numpy as np
import pytest

from gui import features

RATE = 22050


def tone(freq, seconds=0.5, decay=0.0, amplitude=0.5):
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t)).astype(np.float32)


def test_brightness_is_the_spectral_centroid_in_khz():
    values = features.brightness(np.stack([tone(500), tone(4000)]), RATE)
    assert values == pytest.approx([0.5, 4.0], rel=0.05)


def test_silence_has_zero_brightness_and_the_floor_loudness():
    silence = np.zeros((1, 4096), np.float32)
    assert features.brightness(silence, RATE)[0] == 0.0
    assert features.loudness(silence, RATE)[0] == pytest.approx(-100.0)


def test_a_slower_decay_lasts_longer():
    fast, slow = features.decay(np.stack([tone(300, decay=40), tone(300, decay=8)]), RATE)
    assert fast < slow
    # 20 dB down is exp(-decay * t) = 0.1: t = ln(10) / decay
    assert slow == pytest.approx(np.log(10) / 8, abs=0.03)


def test_half_the_amplitude_is_six_db_quieter():
    loud, quiet = features.loudness(np.stack([tone(300), tone(300, amplitude=0.25)]), RATE)
    assert loud - quiet == pytest.approx(20 * np.log10(2), abs=0.01)


def test_grid_points_go_row_by_row_from_the_bottom_left():
    points = features.grid_points((-1, 1, 10, 20), n=3)
    assert points.shape == (9, 2)
    assert points[0].tolist() == [-1, 10] and points[2].tolist() == [1, 10]
    assert points[3].tolist() == [-1, 15] and points[-1].tolist() == [1, 20]


def test_spectrogram_peaks_at_the_tone_frequency():
    image = features.spectrogram_db(tone(2000), n_fft=512, hop=128)
    assert image.shape[0] == 257
    peak_bin = int(np.argmax(image.mean(axis=1)))
    assert peak_bin * RATE / 512 == pytest.approx(2000, abs=RATE / 512)


def test_envelope_keeps_the_extremes_of_each_column():
    lower, upper = features.envelope(np.array([0, 1, -2, 3, 0, -1], np.float32), 2)
    assert lower.tolist() == [-2, -1] and upper.tolist() == [1, 3]
