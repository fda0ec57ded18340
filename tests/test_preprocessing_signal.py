"""The pure steps of preprocessing: mono, peak alignment, length, normalisation, resampling."""

import numpy as np
import pytest

from drums import kick, snare
from preprocessing.errors import AudioInputError, SettingsError
from preprocessing.reader import prepare_audio, resample
from preprocessing.settings import PreprocessSettings
from preprocessing.signal import align_peak, fix_length, mix_to_mono, normalize_peak


@pytest.mark.parametrize("onset", [0.0, 0.002, 0.01, 0.05, 0.2])
def test_peak_lands_on_attack_index(onset):
    settings = PreprocessSettings()
    y = prepare_audio(snare(seed=3, sr=44100, seconds=0.4, onset=onset), 44100, settings)
    assert y.shape == (settings.length,) and y.dtype == np.float32
    assert int(np.argmax(np.abs(y))) == settings.attack_samples == 220


@pytest.mark.parametrize("peak, attack", [(0, 5), (3, 5), (5, 5), (9, 5), (9, 0)])
def test_align_peak_trims_or_pads_the_start(peak, attack):
    y = np.linspace(0.1, 0.2, 12)
    y[peak] = -1.0
    aligned = align_peak(y, attack)
    assert int(np.argmax(np.abs(aligned))) == attack
    assert aligned.size == y.size - peak + attack
    if attack > peak:
        assert np.all(aligned[: attack - peak] == 0)
    np.testing.assert_array_equal(aligned[attack:], y[peak:])


def test_align_peak_rejects_empty_signal():
    with pytest.raises(ValueError):
        align_peak(np.zeros(0), 3)


def test_fix_length_trims_and_pads_the_end():
    y = np.arange(1, 11, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(y, 4), [1, 2, 3, 4])
    padded = fix_length(y, 13)
    np.testing.assert_array_equal(padded, list(range(1, 11)) + [0, 0, 0])
    assert padded.dtype == np.float32
    assert fix_length(y, 10) is y or np.array_equal(fix_length(y, 10), y)


def test_long_and_short_sources_both_end_at_the_set_length():
    settings = PreprocessSettings(length=4096)
    short = prepare_audio(kick(seed=1, sr=22050, seconds=0.05, onset=0.01), 22050, settings)
    long = prepare_audio(kick(seed=1, sr=22050, seconds=2.0, onset=0.01), 22050, settings)
    assert short.shape == long.shape == (4096,)
    # the peak comes after the 10 ms onset, so the aligned 1102-sample source ends before 1102
    assert np.all(short[1102:] == 0) and np.any(short[:1102] != 0)  # padded tail
    assert np.any(long[-100:] != 0)  # cut, not padded


def test_normalize_peak_scales_to_one():
    y = np.array([0.1, -0.25, 0.2], dtype=np.float32)
    scaled = normalize_peak(y)
    assert scaled.dtype == np.float32 and np.max(np.abs(scaled)) == 1.0
    np.testing.assert_allclose(scaled, y / 0.25)
    np.testing.assert_array_equal(normalize_peak(np.zeros(3)), np.zeros(3))


def test_normalize_setting_applies_peak_scaling():
    y = 0.3 * snare(seed=2, sr=22050, seconds=0.3)
    out = prepare_audio(y, 22050, PreprocessSettings(normalize="peak"))
    assert np.max(np.abs(out)) == pytest.approx(1.0)
    assert np.max(np.abs(prepare_audio(y, 22050, PreprocessSettings()))) == pytest.approx(0.24, rel=1e-3)


def test_stereo_mixes_down_to_the_mean():
    left = np.array([1.0, 0.5, 0.0], dtype=np.float32)
    right = np.array([0.0, 0.5, -1.0], dtype=np.float32)
    mono = mix_to_mono(np.stack([left, right], axis=1))
    np.testing.assert_array_equal(mono, [0.5, 0.5, -0.5])
    assert mono.dtype == np.float32


def test_channel_option_takes_one_channel():
    block = np.stack([np.ones(4), 2 * np.ones(4), 3 * np.ones(4)], axis=1)
    np.testing.assert_array_equal(mix_to_mono(block, channel=2), 3 * np.ones(4))
    np.testing.assert_array_equal(mix_to_mono(block[:, :1], channel=5), np.ones(4))  # mono: the only channel


def test_missing_channel_is_a_reason_not_a_crash():
    with pytest.raises(AudioInputError, match="has 2 channels, so there is no channel 2") as caught:
        mix_to_mono(np.zeros((4, 2)), channel=2)
    assert caught.value.kind == "no such channel"


def _dominant_hz(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return np.fft.rfftfreq(y.size, 1 / sr)[int(np.argmax(spectrum))]


def test_1khz_sine_is_still_1khz_after_48k_to_22050():
    t = np.arange(48000) / 48000
    sine = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    out = resample(sine, 48000, 22050)
    assert out.shape == (22050,)
    assert _dominant_hz(out, 22050) == pytest.approx(1000, abs=1.0)
    # a wrong rate bookkeeping would move the tone by the ratio (e.g. to 2177 Hz)
    assert np.max(np.abs(out[1000:-1000])) == pytest.approx(0.5, abs=0.01)


def test_resample_matches_librosa_default_sample_for_sample():
    import librosa

    y = snare(seed=5, sr=48000, seconds=0.3)
    for orig, target in [(48000, 22050), (44100, 22050), (96000, 22050), (192000, 22050)]:
        ours = resample(y, orig, target)
        theirs = librosa.resample(y, orig_sr=orig, target_sr=target)
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


def test_settings_round_trip_and_attack_samples():
    settings = PreprocessSettings(sample_rate=16000, length=8192, attack_seconds=0.02, channel=1, normalize="peak")
    assert settings.attack_samples == 320
    assert PreprocessSettings.from_dict(settings.to_dict()) == settings
    assert PreprocessSettings.from_dict({"length": 100, "future_option": 1}) == PreprocessSettings(length=100)


@pytest.mark.parametrize(
    "values",
    [
        {"sample_rate": 0},
        {"length": -1},
        {"attack_seconds": -0.1},
        {"channel": -1},
        {"normalize": "rms"},
    ],
)
def test_impossible_settings_are_refused(values):
    with pytest.raises(SettingsError):
        PreprocessSettings(**values)
