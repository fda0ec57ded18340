"""ddsp_cvae: the synth autoencoder at 44.1 kHz with a wide code and a Gaussian per family
(its synthesiser, its NumPy twin, and a tiny two-stage model trained for a few steps)."""

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


def family_sounds(n_each=6, length=4096, seed=0):
    """Seven families of made-up one-shots that a code can tell apart: each family its own
    decay and its own band of noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    audio, labels = [], []
    for index, family in enumerate(DRUM_FAMILIES):
        for _ in range(n_each):
            noise = np.convolve(rng.standard_normal(length), np.ones(1 + 3 * index) / (1 + 3 * index), "same")
            audio.append(0.5 * noise * np.exp(-t / (150 + 250 * index)) / np.max(np.abs(noise)))
            labels.append(family)
    return np.asarray(audio, np.float32), np.array(labels)


@pytest.mark.slow
def test_a_tiny_two_stage_model_plays_each_family_its_own_sound_and_a_mix_between_them(tmp_path):
    """Issue 30 §2: stage 1 (a synth autoencoder with a 4-number code, no family in the
    network) trained for a few steps, stage 2 (a Gaussian per family over its codes) fitted
    as it loads."""
    import keras

    from models.training import TrainingData, TrainOptions, train_model

    audio, families = family_sounds()
    data = TrainingData.from_arrays(audio, RATE, families=families)
    settings = dict(length=4096, width=8, hidden=(16, 16), code_dim=4, fft_sizes=(1024, 512, 256))
    train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=2, batch_size=7, verbose=0), **settings)
    import models.ddsp_cvae  # noqa: F401  (registers the layers)

    decoder = keras.saving.load_model(tmp_path / "ddsp_cvae" / "decoder.keras", compile=False)
    assert [tuple(i.shape) for i in decoder.inputs] == [(None, 4)]  # a code: no family input
    codes = np.load(tmp_path / "ddsp_cvae" / "codes.npz")
    assert codes["full"].shape == (len(audio), 4) and codes["points"].shape == (len(audio), 2)

    from models.engine import load_runtime

    runtime = load_runtime("ddsp_cvae", tmp_path)
    assert runtime.conditioned and runtime.sample_rate == RATE and runtime.families == DRUM_FAMILIES
    point = np.array([[0.5, -0.4]], np.float32)
    sounds = {family: runtime.decode(point, family=family)[0] for family in ("kick", "snare")}
    assert np.max(np.abs(sounds["kick"] - sounds["snare"])) > 1e-3  # different families, different sounds
    assert runtime.decode(point, family="snare").tobytes() == sounds["snare"].tobytes()  # same pair, same bytes
    again = load_runtime("ddsp_cvae", tmp_path)  # the pads are refitted on load: still the same bytes
    assert again.decode(point, family="snare").tobytes() == sounds["snare"].tobytes()
    # a mix lies between its families: its code is between theirs, and its sound closer to each
    # than the two are to each other
    pads = runtime.family_pads
    kick, snare, mix = (pads.to_latent(point, f)[0] for f in ("kick", "snare", "kick:0.5,snare:0.5"))
    assert np.allclose(pads.axes("kick:0.5,snare:0.5").mean, (pads.axes("kick").mean + pads.axes("snare").mean) / 2)
    middle = runtime.decode(point, family="kick:0.5,snare:0.5")[0]
    apart = np.linalg.norm(sounds["kick"] - sounds["snare"])
    assert np.linalg.norm(middle - sounds["kick"]) < apart and np.linalg.norm(middle - sounds["snare"]) < apart
    assert kick.shape == snare.shape == mix.shape == (4,)
    # the NumPy engine plays what Keras plays for the same code
    assert np.max(np.abs(np.asarray(decoder(kick[None])) - sounds["kick"][None])) < 1e-4
    # a variation moves along the family's other axes, reproducibly; variation 0 is the pad itself
    varied = runtime.decode(point, variation=3, family="snare")
    assert np.max(np.abs(varied[0] - sounds["snare"])) > 1e-5
    assert runtime.decode(point, variation=3, family="snare").tobytes() == varied.tobytes()
    # encode: a sound's whole code, and its place on a family's pad
    assert runtime.encode_code(audio[:3]).shape == (3, 4)
    placed = runtime.encode(audio[:3], family="kick")
    assert placed.shape == (3, 2) and np.all(np.isfinite(placed))
    assert len(runtime.likeliest_families(audio[:3])) == 3


@pytest.mark.slow
def test_a_two_number_code_keeps_its_whole_codes_too(tmp_path):
    """D = 2 (the sweep's narrowest): codes.npz still holds the whole codes beside each sound's
    place on its family's pad, so the model loads and plays its families."""
    from models.engine import load_runtime
    from models.training import TrainingData, TrainOptions, train_model

    audio, families = family_sounds(n_each=3)
    data = TrainingData.from_arrays(audio, RATE, families=families)
    settings = dict(length=4096, width=8, hidden=(16, 16), code_dim=2, fft_sizes=(1024, 512, 256))
    train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=1, batch_size=7, verbose=0), **settings)
    codes = np.load(tmp_path / "ddsp_cvae" / "codes.npz")
    assert codes["full"].shape == codes["points"].shape == (len(audio), 2)
    runtime = load_runtime("ddsp_cvae", tmp_path)
    assert runtime.family_pads.latent_dim == 2
    kick, snare = (runtime.decode([[0.5, 0.5]], family=f)[0] for f in ("kick", "snare"))
    assert np.max(np.abs(kick - snare)) > 1e-5


@pytest.mark.slow
def test_a_stopped_two_stage_run_resumes_from_its_checkpoint(tmp_path):
    """A run of 1 epoch, then --resume to 2: the second epoch starts from the first's weights
    (the encoder's input statistics kept, not fitted again) and its optimizer state."""
    import csv
    import json

    from models.checkpoint import checkpoint_path, restore_checkpoint
    from models.registry import get_spec
    from models.training import TrainingData, TrainOptions, train_model

    audio, families = family_sounds(n_each=3)
    data = TrainingData.from_arrays(audio, RATE, families=families)
    settings = dict(length=4096, width=8, hidden=(16, 16), code_dim=4, fft_sizes=(1024, 512, 256))
    train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=1, batch_size=7, verbose=0), **settings)
    first = get_spec("ddsp_cvae").build(**settings)
    restore_checkpoint(checkpoint_path(tmp_path, "ddsp_cvae"), first)
    steps = int(first.optimizers["optimizer"].iterations.numpy())
    result = train_model("ddsp_cvae", data, tmp_path, TrainOptions(epochs=2, batch_size=7, verbose=0, resume=True), **settings)
    assert result.epochs == 2 and steps == 3  # 21 sounds in batches of 7
    with open(tmp_path / "ddsp_cvae" / "history.csv", newline="") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1]
    card = json.loads((tmp_path / "ddsp_cvae" / "card.json").read_text())
    assert card["epochs"] == 2 and card["training"]["resumed_from_epoch"] == 1
    second = get_spec("ddsp_cvae").build(**settings)
    restore_checkpoint(checkpoint_path(tmp_path, "ddsp_cvae"), second)
    assert int(second.optimizers["optimizer"].iterations.numpy()) == 2 * steps
    mel = next(layer for layer in first.encoder.layers if layer.name == "log_mel")
    again = next(layer for layer in second.encoder.layers if layer.name == "log_mel")
    assert np.array_equal(mel.band_mean.numpy(), again.band_mean.numpy()) and np.any(mel.band_mean.numpy() != 0)


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


def test_a_sound_shorter_than_the_encoders_frames_gets_frames_that_fit_and_a_too_short_one_is_refused():
    from models.errors import ModelSettingsError
    from models.registry import get_spec

    nets = get_spec("ddsp_cvae").build(length=1024, sample_rate=22050, width=4, hidden=(8,), code_dim=3)
    mel = next(layer for layer in nets.encoder.layers if layer.name == "log_mel")
    assert (mel.n_fft, mel.hop) == (1024, 256)
    audio = np.random.default_rng(0).standard_normal((2, 1024)).astype(np.float32) * 0.1
    assert tuple(nets.encoder(audio).shape) == (2, 3) and tuple(nets.decoder(np.zeros((2, 3), np.float32)).shape) == (2, 1024)
    full = get_spec("ddsp_cvae").build(width=4, hidden=(8,))
    assert next(layer for layer in full.encoder.layers if layer.name == "log_mel").n_fft == 2048  # the real model's
    with pytest.raises(ModelSettingsError, match="at least 512"):
        get_spec("ddsp_cvae").build(length=256, sample_rate=22050, attack_seconds=0.001)
