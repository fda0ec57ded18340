"""The level choice: "as made" leaves a sound alone, "normalised" brings models to one loudness."""

import numpy as np
import pytest

from audio.level import AS_MADE, NORMALISED, PEAK_CEILING_DB, TARGET_DB, LevelError, apply_level, check_level, loudness_db


def _drum(peak, decay=8.0, n=16384, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 22050
    return (peak * np.exp(-decay * t) * rng.uniform(-1, 1, n)).astype(np.float32)


def test_as_made_returns_the_sound_untouched():
    sound = _drum(0.3)
    assert apply_level(sound, AS_MADE) is sound


def test_normalised_brings_quiet_and_loud_models_to_one_loudness():
    quiet, loud = _drum(0.02, seed=1), _drum(0.5, seed=2)
    levels = [loudness_db(apply_level(sound, NORMALISED)) for sound in (quiet, loud)]
    assert levels == pytest.approx([TARGET_DB, TARGET_DB], abs=0.05)


def test_a_long_quiet_tail_does_not_change_the_normalised_level():
    short = _drum(0.4, decay=30.0, n=16384, seed=3)
    long_tail = np.concatenate([short, 1e-4 * np.ones(32768, np.float32)])
    assert loudness_db(apply_level(long_tail, NORMALISED)) == pytest.approx(loudness_db(apply_level(short, NORMALISED)), abs=0.1)


def test_normalising_a_click_is_capped_below_full_scale():
    click = np.zeros(16384, np.float32)
    click[100] = 0.05
    out = apply_level(click, NORMALISED)
    assert 20 * np.log10(np.max(np.abs(out))) == pytest.approx(PEAK_CEILING_DB, abs=1e-3)


def test_silence_stays_silent():
    silence = np.zeros(4096, np.float32)
    assert not np.any(apply_level(silence, NORMALISED))


def test_an_unknown_level_is_one_line_listing_the_choices():
    with pytest.raises(LevelError, match="unknown level 'loud'; choose from 'as made', 'normalised'"):
        check_level("loud")
