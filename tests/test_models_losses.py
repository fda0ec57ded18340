"""The reconstruction losses: what ``"spectral_floored"`` hears and what it ignores."""

import numpy as np
import pytest

from constants import LOSSES

LENGTH = 4096
RATE = 22050


def _sine(level_db, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH) / RATE
    phase = rng.uniform(0, 2 * np.pi)
    return (10 ** (level_db / 20) * np.sin(2 * np.pi * 440 * t + phase)).astype(np.float32)


def _hiss(level_db, seed=1):
    rng = np.random.default_rng(seed)
    return (10 ** (level_db / 20) * rng.standard_normal(LENGTH)).astype(np.float32)


def _loss(kind, reference, estimate):
    from models.losses import reconstruction_error

    value = reconstruction_error(kind, np.asarray(reference)[None], np.asarray(estimate)[None])
    return float(np.asarray(value)[0])


def test_floored_loss_ignores_hiss_below_minus_80_db_that_the_plain_loss_punishes():
    drum = _sine(-6)
    quiet_tail = drum + _hiss(-110)
    plain_gap = _loss("spectral", drum, quiet_tail) - _loss("spectral", drum, drum)
    floored_gap = _loss("spectral_floored", drum, quiet_tail) - _loss("spectral_floored", drum, drum)
    assert floored_gap < 0.01
    assert plain_gap > 20 * floored_gap


def test_floored_loss_still_hears_an_audible_difference():
    drum = _sine(-6)
    audible_hiss = drum + _hiss(-30)
    assert _loss("spectral_floored", drum, audible_hiss) > _loss("spectral_floored", drum, drum) + 0.5


def test_floored_loss_is_the_same_for_every_level_below_the_floor():
    drum = _sine(-6)
    below = _loss("spectral_floored", drum, drum + _hiss(-100))
    further_below = _loss("spectral_floored", drum, drum + _hiss(-140))
    assert abs(below - further_below) < 0.01


def test_unknown_loss_names_the_choices():
    from models.losses import reconstruction_error

    with pytest.raises(ValueError, match="unknown loss 'l1'.*spectral_floored"):
        reconstruction_error("l1", np.zeros((1, LENGTH), np.float32), np.zeros((1, LENGTH), np.float32))


def test_every_registered_loss_is_finite_on_silence_against_silence():
    silence = np.zeros(LENGTH, np.float32)
    for kind in LOSSES:
        assert np.isfinite(_loss(kind, silence, silence))


def test_the_loss_and_the_evaluation_measure_with_one_mr_stft(monkeypatch):
    import models.stft_distance as one
    from evaluation import spectral
    from models import losses

    callers = []
    original = one.multi_resolution_stft

    def counted(*args, **kwargs):
        callers.append("numpy" if kwargs["ops"] is np else "keras")
        return original(*args, **kwargs)

    monkeypatch.setattr(losses, "multi_resolution_stft", counted)
    monkeypatch.setattr(spectral, "multi_resolution_stft", counted)
    drum = _sine(-6)[None]
    _loss("spectral_floored", drum[0], drum[0])
    spectral.multi_resolution_stft_distance(drum, drum)
    assert callers == ["keras", "numpy"]


def test_the_one_mr_stft_is_zero_for_a_copy_and_one_for_silence_on_either_backend():
    from keras import ops

    from evaluation.spectral import multi_resolution_stft_distance
    from models.losses import spectral_reconstruction_error

    drum, silence = _sine(-6)[None], np.zeros((1, LENGTH), np.float32)
    log_l1, convergence = multi_resolution_stft_distance(drum, drum)
    assert log_l1[0] == 0 and convergence[0] == 0
    assert multi_resolution_stft_distance(drum, silence)[1][0] == pytest.approx(1.0)
    copy = spectral_reconstruction_error(ops.convert_to_tensor(drum), ops.convert_to_tensor(drum), waveform_weight=0.0)
    assert float(np.asarray(copy)[0]) == pytest.approx(0.0, abs=1e-6)
