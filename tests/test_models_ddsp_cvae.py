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
    assert np.all(fade[: 32768 - 441 - round(0.03 * RATE)] == 1.0)
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
        assert spectrum[at - 1 : at + 2].max() < 0.1 * spectrum[at - 200 : at - 100].mean()
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
    train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=1, batch_size=7, verbose=0), length=length, width=8, hidden=(16, 16))
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
    # the NumPy engine (what the window, the page and the CLI play) plays the same sounds
    from models.engine import load_runtime

    runtime = load_runtime("ddsp_cvae", tmp_path)
    assert runtime.conditioned and runtime.sample_rate == RATE
    engine = runtime.decode(point, family=np.stack([kick, snare, mix]))
    assert np.max(np.abs(engine - sounds)) < 1e-4
    assert runtime.decode(point[:1], family="kick:0.6,snare:0.4").tobytes() == runtime.decode(point[:1], family=mix).tobytes()
    assert runtime.decode(point[:1], family="snare").tobytes() == runtime.decode(point[:1], family=snare).tobytes()
    codes = runtime.encode(audio[:3], family="kick")
    assert codes.shape == (3, 2) and np.all(np.isfinite(codes))


@pytest.mark.parametrize(
    "given, reason",
    [
        ("kik", "unknown family 'kik'; the families are kick, snare, clap, hat, tom, cymbal, percussion"),
        ("kick:0.6,tom:0.6", "family weights must sum to 1 (these sum to 1.2)"),
        ("kick:0.6,tom", "a mix is FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4), not 'kick:0.6,tom'"),
        ("kick:x,tom:1", "the weight of kick must be a number from 0 to 1, not 'x'"),
        ("kick:nan,tom:1", "the weight of kick must be a number from 0 to 1, not 'nan'"),
        ("kick:-0.5,tom:1.5", "the weight of kick must be a number from 0 to 1, not '-0.5'"),
        ("kick:0.5,kick:0.5", "family 'kick' is named twice in the mix"),
    ],
)
def test_a_family_that_is_not_one_is_refused_in_one_line(given, reason):
    from models.errors import ModelInputError
    from models.families import family_vector

    with pytest.raises(ModelInputError) as caught:
        family_vector(given)
    assert str(caught.value) == reason


def test_a_family_and_a_mix_read_back_as_they_were_written():
    from models.families import family_text, family_vector

    assert family_text(family_vector("snare")) == "snare"
    assert family_text(family_vector(" kick:0.6, tom:0.4 ")) == "kick:0.6,tom:0.4"
    assert np.allclose(family_vector({"hat": 0.25, "cymbal": 0.75}), [0, 0, 0, 0.25, 0, 0.75, 0])
