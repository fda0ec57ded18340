"""The metrics of evaluation/, each on a controlled case whose answer is known."""

import numpy as np
import pytest

from drums import drum_batch, kick
from evaluation.artefacts import artefact_features, artefact_scores, distribution_distance
from evaluation.continuity import continuity_map, latent_continuity, latent_grid
from evaluation.distribution import coverage_spectra, diversity_ratio, frechet_distance, memorisation_ratio, ndb_k
from evaluation.features import FEATURE_NAMES, audio_features, standardise
from evaluation.spectral import amplitude_db, log_mel_db, multi_resolution_stft_distance, snr_db, stft_magnitude
from evaluation.speed import decode_speed

SR = 22050
LENGTH = 8192


@pytest.fixture(scope="module")
def real():
    return drum_batch(60, LENGTH, seed=11)[0]


@pytest.fixture(scope="module")
def held_out():
    return drum_batch(36, LENGTH, seed=12)[0]


@pytest.fixture(scope="module")
def real_artefacts(real):
    return artefact_features(real, SR)


# --- spectral distances and SNR -------------------------------------------------------------


@pytest.mark.parametrize("hz", [440.0, 1000.0, 3000.0])
def test_full_scale_sine_reads_about_zero_db(hz):
    sine = np.sin(2 * np.pi * hz * np.arange(LENGTH) / SR)[None]
    middle = slice(4, -4)  # away from the zero padding at both ends
    assert amplitude_db(stft_magnitude(sine, 1024))[0, middle].max() == pytest.approx(0, abs=1.5)
    assert log_mel_db(sine, SR)[0, middle].max() == pytest.approx(0, abs=1.5)
    assert log_mel_db(np.zeros((1, LENGTH)), SR).max() == pytest.approx(-80.0)  # the floor


def test_perfect_copy_has_zero_stft_distance_and_silence_has_convergence_one(real):
    log_l1, convergence = multi_resolution_stft_distance(real[:4], real[:4])
    assert np.allclose(log_l1, 0) and np.allclose(convergence, 0)
    log_l1, convergence = multi_resolution_stft_distance(real[:4], np.zeros((1, LENGTH)))
    assert np.allclose(convergence, 1.0)
    assert np.all(log_l1 > 1)  # dB, averaged over a spectrogram that is mostly decayed tail


def test_stft_distance_grows_with_the_error(real, rng):
    noise = rng.standard_normal(real[:6].shape).astype(np.float32)
    small = multi_resolution_stft_distance(real[:6], real[:6] + 0.001 * noise)
    large = multi_resolution_stft_distance(real[:6], real[:6] + 0.05 * noise)
    assert np.all(small[0] < large[0]) and np.all(small[1] < large[1])


def test_snr_matches_the_known_noise_power(rng):
    t = np.arange(LENGTH) / SR
    signal = (0.5 * np.sin(2 * np.pi * 440 * t))[None]
    noise = rng.standard_normal((1, LENGTH))
    noise *= np.sqrt(np.sum(signal**2) / np.sum(noise**2) / 100.0)  # exactly 20 dB below
    assert snr_db(signal, signal + noise)[0] == pytest.approx(20.0, abs=1e-6)
    assert snr_db(signal, signal)[0] > 150


# --- features, Fréchet distance ---------------------------------------------------------------


def test_features_of_a_sound_do_not_depend_on_its_batch(real):
    features = audio_features(real[:9], SR)
    assert features.shape == (9, len(FEATURE_NAMES))
    assert np.allclose(audio_features(real[2:4], SR), features[2:4], atol=1e-9)


def test_identical_sets_have_frechet_distance_near_zero(real):
    z_real, z_same = standardise(audio_features(real, SR), audio_features(real, SR))
    assert frechet_distance(z_real, z_same) < 1e-3


def test_frechet_distance_of_a_mean_shift_is_its_squared_length(rng):
    a = rng.standard_normal((400, 5))
    shift = np.array([3.0, 0, 4.0, 0, 0])
    assert frechet_distance(a, a + shift) == pytest.approx(25.0, rel=1e-4)


def test_frechet_distance_ranks_a_noisy_generator_behind_held_out_data(real, held_out, rng):
    noisy = held_out + 0.05 * rng.standard_normal(held_out.shape).astype(np.float32)
    z_real, z_held, z_noisy = standardise(*(audio_features(x, SR) for x in (real, held_out, noisy)))
    assert frechet_distance(z_real, z_noisy) > 5 * frechet_distance(z_real, z_held)


# --- coverage, diversity, memorisation --------------------------------------------------------


def test_decoder_returning_one_training_sample_has_no_diversity_and_is_memorised(real, held_out):
    copies = np.repeat(real[:1], 36, axis=0)  # what a "decoder" that ignores its point returns
    z_real, z_copies, z_held = standardise(*(audio_features(x, SR) for x in (real, copies, held_out)))
    assert diversity_ratio(z_real, z_copies) < 0.01
    assert memorisation_ratio(z_real, z_copies).median_ratio < 0.01
    assert ndb_k(coverage_spectra(real, SR), coverage_spectra(copies, SR), k=5).ndb_over_k >= 0.8
    # held-out real sounds: as diverse as the data, not copies, same coverage
    assert 0.7 < diversity_ratio(z_real, z_held) < 1.3
    assert memorisation_ratio(z_real, z_held).median_ratio > 0.5
    assert ndb_k(coverage_spectra(real, SR), coverage_spectra(held_out, SR), k=5).ndb_over_k <= 0.2


def test_ndb_counts_the_bins_a_generator_over_and_under_fills(rng):
    # two well-separated clusters of real data; the generator only produces the first one
    centres = np.array([[0.0, 0.0], [10.0, 10.0]])
    real = np.concatenate([c + rng.standard_normal((100, 2)) for c in centres])
    one_sided = centres[0] + rng.standard_normal((100, 2))
    balanced = np.concatenate([c + rng.standard_normal((50, 2)) for c in centres])
    assert ndb_k(real, one_sided, k=2).ndb_over_k == 1.0
    assert ndb_k(real, balanced, k=2).ndb_over_k == 0.0


def test_memorisation_ratio_is_in_units_of_the_training_spacing():
    training = np.array([[0.0], [1.0], [2.0], [3.0]])  # nearest neighbours all 1 apart
    result = memorisation_ratio(training, np.array([[0.5], [2.0], [10.0]]))
    assert result.typical_spacing == 1.0
    assert np.allclose(result.ratios, [0.5, 0.0, 7.0])
    assert result.median_ratio == 0.5


# --- continuity --------------------------------------------------------------------------------


def _two_sound_decoder(first, second, axis, at):
    """A decoder that returns ``first`` below ``at`` on ``axis`` and ``second`` from there on,
    with a gentle level change along the other axis so that nothing else is exactly still."""

    def decode(points):
        points = np.asarray(points, dtype=np.float32)
        level = 0.6 + 0.1 * np.tanh(points[:, 1 - axis])[:, None]
        return np.where(points[:, axis : axis + 1] < at, first, second) * level

    return decode


def test_decoder_jumping_halfway_across_the_range_is_found_at_that_place(real):
    latent_range = (-2.0, 4.0, -1.0, 1.0)  # halfway along x is x = 1
    snare_, kick_ = real[1], real[0]
    decode = _two_sound_decoder(snare_, kick_, axis=0, at=1.0)
    result = latent_continuity(decode, latent_range, resolution=16, sample_rate=SR)
    step = result.grid_x[1] - result.grid_x[0]
    assert all(abs(jump.midpoint[0] - 1.0) < step for jump in result.jumps)
    assert all(jump.start[1] == jump.end[1] for jump in result.jumps)  # a jump along x
    assert result.maximum > 20 * np.median(result.horizontal)
    # the heat-map lights up in the two columns on either side of x = 1, on every row
    hottest_columns = np.argsort(result.cell_map.mean(axis=0))[-2:]
    assert np.all(np.abs(result.grid_x[hottest_columns] - 1.0) < step)


def test_smooth_decoder_has_no_outstanding_jump(real):
    def decode(points):
        points = np.asarray(points, dtype=np.float32)
        return real[1] * 0.5 * np.exp(0.3 * points[:, :1])  # the same dB step everywhere

    result = latent_continuity(decode, (-1.0, 1.0, -1.0, 1.0), resolution=16, sample_rate=SR)
    assert 0 < result.maximum < 1.5 * np.mean(result.horizontal)
    assert np.allclose(result.vertical, 0.0)


def test_continuity_map_rows_follow_y(real):
    latent_range = (0.0, 1.0, 10.0, 20.0)  # halfway along y is y = 15
    decode = _two_sound_decoder(real[1], real[0], axis=1, at=15.0)
    grid_x, grid_y, values = continuity_map(decode, latent_range, resolution=12, sample_rate=SR)
    assert grid_x.shape == (12,) and grid_y.shape == (12,) and values.shape == (12, 12)
    assert grid_y[0] == 10.0 and grid_y[-1] == 20.0
    hottest_rows = np.argsort(values.mean(axis=1))[-2:]
    assert np.all(np.abs(grid_y[hottest_rows] - 15.0) < grid_y[1] - grid_y[0])


def test_latent_grid_is_row_major_over_the_range():
    grid_x, grid_y, points = latent_grid((0, 2, -1, 1), 3)
    assert points.shape == (9, 2)
    assert tuple(points[1]) == (1.0, -1.0) and tuple(points[3]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        latent_grid((0, 1, 0, 1), 1)


# --- artefacts ---------------------------------------------------------------------------------


def test_white_noise_added_raises_the_noise_floor(held_out, real_artefacts, rng):
    noisy = held_out + 0.003 * rng.standard_normal(held_out.shape).astype(np.float32)
    clean = artefact_scores(artefact_features(held_out, SR), real_artefacts)
    raised = artefact_scores(artefact_features(noisy, SR), real_artefacts)
    assert raised["noise_floor"] > 10 * clean["noise_floor"]
    # most tails are quieter than the noise, so the median tail now sits at the noise's level
    assert raised["tail_db_generated"] == pytest.approx(20 * np.log10(0.003), abs=1.5)
    assert clean["tail_db_generated"] < raised["tail_db_generated"] - 5


def test_leading_step_raises_the_click_measure(held_out, real_artefacts):
    stepped = held_out.copy()
    stepped[:, :100] += 0.5  # the sound starts on a step of half full scale
    clean = artefact_scores(artefact_features(held_out, SR), real_artefacts)
    clicky = artefact_scores(artefact_features(stepped, SR), real_artefacts)
    assert clicky["clicks"] > 1.0 > 10 * clean["clicks"]
    assert clicky["first_sample_db_generated"] == pytest.approx(20 * np.log10(0.5), abs=0.2)


def test_requantised_kicks_raise_the_bitcrush_measure():
    kicks = np.stack([kick(seed, sr=SR, seconds=LENGTH / SR, onset=0.01) for seed in range(24)])
    real, generated = kicks[:12], kicks[12:]
    crushed = np.round(generated * 32) / 32  # 6 bits
    real_features = artefact_features(real, SR)
    clean = artefact_scores(artefact_features(generated, SR), real_features)
    bitcrushed = artefact_scores(artefact_features(crushed, SR), real_features)
    assert bitcrushed["bitcrush"] > 1.0 > 10 * clean["bitcrush"]
    assert bitcrushed["hf_ratio_db_generated"] > clean["hf_ratio_db_generated"] + 20


def test_distribution_distance_uses_the_floor_when_real_data_does_not_spread():
    assert distribution_distance(np.full(5, 0.3), np.zeros(5), floor=0.1) == pytest.approx(3.0)
    real = np.arange(100.0)  # IQR 49.5
    assert distribution_distance(real + 49.5, real, floor=0.1) == pytest.approx(1.0)


# --- speed -------------------------------------------------------------------------------------


def test_decode_speed_reports_time_per_point_and_real_time_factor():
    calls = []

    def decode(points):
        calls.append(len(points))
        return np.zeros((len(points), LENGTH), dtype=np.float32)

    milliseconds, factor = decode_speed(decode, (0.0, 0.0), SR, repeats=5, warmup=2)
    assert calls == [1] * 7
    assert milliseconds > 0
    assert factor * milliseconds / 1000 == pytest.approx(LENGTH / SR)
    print(f"zeros decoder: {milliseconds:.4f} ms per point, real-time factor {factor:.0f}")
