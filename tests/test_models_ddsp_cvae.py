"""ddsp_cvae: the family-conditioned synth VAE at 44.1 kHz (its synthesiser, its NumPy twin,
and a tiny model trained for a few steps)."""
import numpy as np
import pytest

from constants import DRUM_FAMILIES
from models import drumsynth, fullband

RATE = 44100


def test_the_knots_are_every_2_ms_over_the_first_100_ms_and_end_at_the_last_sample():
    length, attack = 32768, 441
    knots = fullband.fine_noise_knots(length, attack, RATE)
    assert knots[0] == 0 and knots[-1] == length - 1 and np.all(np.diff(knots) > 0)
    dense = knots[(knots > attack) & (knots <= attack + 0.1 * RATE)]
    assert len(dense) == 50 and np.allclose(np.diff(dense), 0.002 * RATE, atol=1)


def test_the_end_fade_leaves_the_last_10_ms_silent_and_starts_after_the_sound():
    fade = fullband.end_fade(32768, RATE)
    assert np.all(fade[-441:] == 0.0)
    assert np.all(fade[:32768 - 441 - round(0.03 * RATE)] == 1.0)
    assert np.all(np.diff(fade) <= 0)


@pytest.fixture(scope="module")
def synth():
    from models.ddsp_cvae import FullBandSynth

    return FullBandSynth(RATE, 8192, 441, seed=5, name="synth")


def raw_parameters(synth, count=4, seed=1):
    return (np.random.default_rng(seed).standard_normal((count, synth.parameter_count)) * 2).astype(np.float32)


def test_the_numpy_twin_plays_what_the_keras_layer_plays(synth):
    raw = raw_parameters(synth)
    keras_sound = np.asarray(synth(raw))
    noise = drumsynth.sources(5, None, sample_rate=RATE, length=8192, attack=441)
    numpy_sound = fullband.render(raw, noise, RATE, 8192, 441)
    assert numpy_sound.shape == keras_sound.shape == (4, 8192)
    assert np.max(np.abs(numpy_sound - keras_sound)) < 1e-4


def test_no_line_at_the_low_rate_nyquist_frequency_and_no_click_at_the_end(synth):
    raw = raw_parameters(synth, count=6, seed=2)
    tonal = np.asarray(synth.tonal(synth._split(raw)))
    freqs = np.fft.rfftfreq(8192, 1 / RATE)
    for sound in tonal:
        spectrum = np.abs(np.fft.rfft(sound))
        at = np.argmin(np.abs(freqs - RATE / 8))
        # ddsp_vae's brick wall left a peak here; the taper leaves less than the pass band
        assert spectrum[at - 1:at + 2].max() < 0.1 * spectrum[at - 200:at - 100].mean()
    sounds = np.asarray(synth(raw))
    peaks = np.max(np.abs(sounds), axis=1)
    assert np.all(peaks < 0.99) and np.all(np.max(np.abs(sounds[:, -441:]), axis=1) <= peaks * 1e-3)


def test_a_longer_render_keeps_its_decay_and_ends_in_silence(synth):
    raw = raw_parameters(synth, count=3, seed=3)
    long = 3 * 8192
    noise = drumsynth.sources(5, None, sample_rate=RATE, length=long, attack=441)
    sounds = fullband.render(raw, noise, RATE, 8192, 441, length=long)
    assert sounds.shape == (3, long) and np.all(np.isfinite(sounds))
    assert np.all(np.max(np.abs(sounds[:, -441:]), axis=1) == 0.0)
    assert np.all(np.max(np.abs(sounds), axis=1) < 0.99)


@pytest.mark.slow
def test_a_tiny_conditioned_model_hears_its_family_and_one_point_is_one_sound(tmp_path):
    from models.training import TrainingData, TrainOptions, train_model

    rng = np.random.default_rng(0)
    n, length = 28, 4096
    audio = (rng.standard_normal((n, length)) * np.exp(-np.arange(length) / 500)[None] * 0.5).astype(np.float32)
    families = np.array(list(DRUM_FAMILIES) * 4)
    data = TrainingData.from_arrays(audio, RATE, families=families)
    train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=1, batch_size=7, verbose=0),
                length=length, width=8, hidden=(16, 16))
    import keras

    import models.ddsp_cvae  # noqa: F401  (registers the layers)

    decoder = keras.saving.load_model(tmp_path / "ddsp_cvae" / "decoder.keras", compile=False)
    point = np.array([[0.3, -0.2]] * 3, np.float32)
    kick, snare = np.eye(7, dtype=np.float32)[[0, 1]]
    mix = 0.6 * kick + 0.4 * snare
    sounds = np.asarray(decoder.predict([point, np.stack([kick, snare, mix])], verbose=0))
    assert np.max(np.abs(sounds[0] - sounds[1])) > 1e-3  # the family reaches the decoder
    assert np.max(np.abs(sounds[2] - sounds[0])) > 1e-4 and np.max(np.abs(sounds[2] - sounds[1])) > 1e-4
    again = np.asarray(decoder.predict([point, np.stack([kick, snare, mix])], verbose=0))
    assert again.tobytes() == sounds.tobytes()  # one point and family, one sound
