"""Fitting ddsp_cvae's synthesiser to one sound by gradient descent (issue 30 §2, claps first)."""

import numpy as np
import pytest

from evaluation.synth_fit import fit_distance, pairwise_distances, spread
from models import drumsynth, fullband
from models.synth_fit import fit_synth, initial_parameters

RATE, LENGTH, ATTACK = 44100, 4096, 441
SIZES = (1024, 512, 256, 128)


@pytest.fixture(scope="module")
def synth():
    from models.ddsp_cvae import FullBandSynth

    return FullBandSynth(RATE, LENGTH, ATTACK, seed=3, n_modes=8, n_bands=8, name="synth")


def clap_like(seed=0):
    """Three short noise bursts 10 ms apart (the loudest on the attack sample), then a decay."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH)
    sound = np.zeros(LENGTH)
    for onset, level in ((ATTACK - 20, 0.5), (ATTACK - 20 + 441, 0.35), (ATTACK - 20 + 882, 0.3)):
        after = t - onset
        sound += np.where(after >= 0, level * np.exp(-np.maximum(after, 0) / (0.002 * RATE)), 0.0)
    tail = np.where(t > ATTACK + 882, 0.1 * np.exp(-(t - ATTACK - 882) / (0.03 * RATE)), 0.0)
    sound = (sound + tail) * rng.standard_normal(LENGTH)
    sound[ATTACK] = 1.2 * np.max(np.abs(sound))  # the peak where preprocessing puts it
    return (0.8 * sound / np.max(np.abs(sound))).astype(np.float32)


@pytest.mark.slow
def test_a_fit_brings_the_synthesiser_closer_to_three_noise_bursts(synth):
    target = clap_like()[None]
    faded = target * fullband.end_fade(LENGTH, RATE)[None]
    before = fit_distance(faded, np.asarray(synth(initial_parameters(faded, synth))))
    fit = fit_synth(target, synth, steps=25, fft_sizes=SIZES)
    assert fit.history.shape == (26, 1) and np.all(np.isfinite(fit.history))
    assert fit.history[-1, 0] < 0.8 * fit.history[0, 0]
    assert np.array_equal(fit.target, faded)
    assert fit_distance(faded, fit.audio)[0] < before[0]
    assert fit.audio.shape == (1, LENGTH) and np.max(np.abs(fit.audio)) < 0.99


@pytest.mark.slow
def test_the_numpy_twin_plays_the_fitted_parameters_as_the_keras_layer_does(synth):
    fit = fit_synth(np.stack([clap_like(1), clap_like(2)]), synth, steps=5, fft_sizes=SIZES)
    noise = drumsynth.sources(3, None, sample_rate=RATE, length=LENGTH, attack=ATTACK, n_bands=8)
    numpy_sound = fullband.render(fit.raw, noise, RATE, LENGTH, ATTACK, n_modes=8)
    assert np.max(np.abs(numpy_sound - fit.audio)) < 1e-4


@pytest.mark.slow
def test_sounds_fitted_together_are_fitted_as_if_alone(synth):
    pair = np.stack([clap_like(3), clap_like(4)])
    together = fit_synth(pair, synth, steps=8, fft_sizes=SIZES)
    alone = fit_synth(pair[1:], synth, steps=8, fft_sizes=SIZES)
    assert np.allclose(together.history[:, 1], alone.history[:, 0], rtol=1e-3)
    assert np.max(np.abs(together.raw[1] - alone.raw[0])) < 1e-3


def test_a_target_of_the_wrong_length_is_refused_in_one_line(synth):
    with pytest.raises(ValueError, match="the targets have 100 samples, the synthesiser renders 4096"):
        fit_synth(np.zeros((1, 100), np.float32), synth, steps=1)


def test_the_spread_of_real_sounds_leaves_out_each_sound_with_itself():
    sounds = np.stack([clap_like(5), clap_like(5), clap_like(6)])
    distances = pairwise_distances(sounds)
    assert np.all(np.isnan(np.diag(distances)))
    assert distances[0, 1] == pytest.approx(0.0, abs=1e-6) and distances[0, 2] > 0.1
    assert spread(distances)["pairs"] == 6


def test_smoothing_takes_the_bursts_out_of_the_first_100_ms_and_leaves_the_rest(synth):
    from evaluation.synth_fit import burst_correlation
    from models.synth_fit import smooth_noise_gains

    knots = fullband.fine_noise_knots(LENGTH, ATTACK, RATE)
    dense = (knots >= ATTACK) & (knots <= ATTACK + 0.1 * RATE)
    begin = 2 * synth.n_modes + 3
    raw = np.zeros((1, synth.parameter_count), np.float32)
    gains = np.zeros((synth.n_bands, synth.n_knots), np.float32)
    gains[:, dense] = np.where(np.arange(dense.sum()) % 5 == 0, 4.0, -4.0)  # a burst every 10 ms
    raw[0, begin : begin + gains.size] = gains.ravel()
    raw[0, :begin] = np.arange(begin)
    smoothed = smooth_noise_gains(raw, synth)
    assert np.array_equal(smoothed[0, :begin], raw[0, :begin])
    assert np.array_equal(smoothed[0, begin + gains.size :], raw[0, begin + gains.size :])
    after = smoothed[0, begin : begin + gains.size].reshape(gains.shape)
    assert np.ptp(after[:, dense][:, 5:-5]) < 0.2 * np.ptp(gains[:, dense])
    target = clap_like()[None]
    assert burst_correlation(target, target, RATE, ATTACK, seconds=0.04)[0] == pytest.approx(1.0)
