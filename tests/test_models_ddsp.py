"""ddsp_vae at tiny sizes: it builds, trains a step, saves and loads, decodes variations,
stays below full scale, and its NumPy twin (models/drumsynth.py) plays the same audio."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from drums import drum_batch
from models.errors import ModelInputError, ModelSettingsError

pytestmark = pytest.mark.slow  # trains the synthesiser models

LENGTH = 2048
RATE = 22050
TINY = {"width": 4, "hidden": (8,), "length": LENGTH}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny ddsp_vae trained for one epoch on 32 synthetic drums, and its folder."""
    from models.training import TrainingData, TrainOptions, train_model

    audio, labels = drum_batch(32, LENGTH, seed=3)
    data = TrainingData.from_arrays(
        audio, RATE, is_validation=np.arange(32) % 8 == 0, families=labels, preprocessing={"attack_seconds": 0.01}
    )
    out = tmp_path_factory.mktemp("zoo")
    result = train_model("ddsp_vae", data, out, TrainOptions(epochs=1, batch_size=8, verbose=0), width=4, hidden=(8,))
    return result, out


def test_one_epoch_gives_finite_losses_and_the_spread_columns(trained):
    result, _ = trained
    assert np.isfinite(result.losses["loss"]) and np.isfinite(result.losses["val_loss"])
    assert result.losses["code_std"] >= 0 and result.losses["grid_centroid_octaves"] >= 0


def test_card_records_the_synth_and_the_files(trained):
    _, out = trained
    folder = out / "ddsp_vae"
    card = json.loads((folder / "card.json").read_text())
    assert card["kind"] == "vae" and card["group"] == "Synth-decoder VAE"
    assert card["config"]["noise_seed"] == 13 and card["files"]["synth"] == "synth.npz"
    assert 4096 in card["config"]["fft_sizes"]
    for name in ("decoder.keras", "encoder.keras", "codes.npz", "synth.npz"):
        assert (folder / name).is_file()


def test_loaded_model_decodes_its_range_below_full_scale_never_silent(trained):
    from models.keras_loader import load_trained

    _, out = trained
    model = load_trained("ddsp_vae", out)
    assert model.latent_range() == (-3.0, 3.0, -3.0, 3.0) and model.has_variations
    axis = np.linspace(-3, 3, 16, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    audio = model.decode(grid)
    peaks = np.max(np.abs(audio), axis=1)
    assert audio.shape == (256, LENGTH) and np.all(np.isfinite(audio))
    assert np.all(peaks < 1.0) and np.all(peaks > 0.005)
    assert int(np.argmax(np.abs(model.decode(np.zeros((1, 2), np.float32))[0]))) < LENGTH


def test_same_variation_same_audio_another_variation_new_noise(trained):
    from models.keras_loader import load_trained

    _, out = trained
    model = load_trained("ddsp_vae", out)
    point = np.array([[0.5, -1.0]], np.float32)
    own = model.decode(point)
    assert np.array_equal(own, model.decode(point, variation=None))
    assert np.allclose(own, model.decode(point, variation=0), atol=1e-6)
    first = model.decode(point, variation=3)
    assert np.array_equal(first, model.decode(point, variation=3))
    assert not np.allclose(first, model.decode(point, variation=4), atol=1e-4)
    assert not np.allclose(first, own, atol=1e-4)


@pytest.mark.parametrize("variation", [-1, 1.5, True, "2"])
def test_bad_variation_is_refused(trained, variation):
    from models.keras_loader import load_trained

    model = load_trained("ddsp_vae", trained[1])
    with pytest.raises(ModelInputError, match="variation must be a whole number"):
        model.decode(np.zeros((1, 2), np.float32), variation=variation)


def test_other_models_ignore_the_variation(tmp_path):
    from models.keras_loader import TrainedModel
    from models.registry import get_spec

    nets = get_spec("ae_small_tanh").build(length=1024)
    card = {"name": "ae_small_tanh", "kind": "dense_ae", "sample_rate": RATE, "sample_length": 1024}
    model = TrainedModel("ae_small_tanh", card, nets.decoder, nets.encoder, warm_up=False)
    point = np.zeros((1, 2), np.float32)
    assert not model.has_variations
    assert np.array_equal(model.decode(point), model.decode(point, variation=5))


def test_numpy_twin_matches_the_keras_decoder(trained):
    from models import synth_weights
    from models.keras_loader import load_trained

    _, out = trained
    model = load_trained("ddsp_vae", out)
    layers, config = synth_weights.read_weights(out / "ddsp_vae" / "synth.npz")
    points = np.random.default_rng(1).uniform(-3, 3, (6, 2)).astype(np.float32)
    for variation in (None, 2):
        want = model.decode(points, variation=variation)
        got = synth_weights.decode(points, layers, config, variation=variation)
        assert np.max(np.abs(got - want)) <= 1e-4


def test_numpy_twin_matches_the_synth_layer_on_loud_parameters():
    from models import drumsynth
    from models.ddsp import DrumSynth

    synth = DrumSynth(RATE, LENGTH, 220, seed=5)
    raw = np.random.default_rng(2).normal(0, 3, (4, synth.parameter_count)).astype(np.float32)
    want = np.asarray(synth(raw))
    got = drumsynth.render(raw, drumsynth.sources(5, None, sample_rate=RATE, length=LENGTH, attack=220), RATE, LENGTH, 220)
    assert np.max(np.abs(got - want)) <= 1e-4
    assert np.all(np.max(np.abs(got), axis=1) < 1.0)


def test_noise_bands_sum_back_to_the_noise_and_clap_knots_are_dense():
    from models import drumsynth

    made = drumsynth.sources(1, 7, sample_rate=RATE, length=LENGTH, attack=220)
    noise, _ = drumsynth.white_noise(1, 7, LENGTH)
    assert np.allclose(made["bands"].sum(axis=0), noise, atol=1e-5)
    knots = drumsynth.noise_knots(16384, 220, RATE)
    first_30ms = knots[(knots > 220) & (knots <= 220 + 0.03 * RATE)]
    assert len(first_30ms) >= 11  # a knot every 2.5 ms: room for a clap's three bursts


def test_attack_outside_the_sample_is_refused():
    from models.registry import get_spec

    with pytest.raises(ModelSettingsError, match="attack"):
        get_spec("ddsp_vae").build(length=LENGTH, attack_seconds=1.0, width=4, hidden=(8,))


def imported_modules(module):
    tree = ast.parse((ROOT / "models" / f"{module}.py").read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_drumsynth_imports_only_numpy():
    # and the bounds of its settings, which import only the standard library and the project's
    # leaf of constants (which imports nothing)
    assert imported_modules("drumsynth") <= {"numpy", "json", "itertools", "functools", "threading", "models.synth_settings"}
    assert imported_modules("synth_settings") <= {"math", "constants"}
    assert imported_modules("synth_weights") <= {"numpy", "json", "models.drumsynth", "models.synth_settings"}


def test_the_window_lists_ddsp_vae_in_a_group_of_its_own():
    from gui.backend import model_groups
    from models.registry import REGISTRY

    assert model_groups("ddsp_vae", REGISTRY["ddsp_vae"]) == ("Synth decoders", "")
    assert model_groups("vae_a", REGISTRY["vae_a"]) == ("VAEs", "")


def _loud_parameters(rows, seed=2):
    from models import drumsynth

    count = drumsynth.parameter_count(LENGTH, 220, RATE)
    return np.random.default_rng(seed).normal(0, 3, (rows, count)).astype(np.float32)


def test_a_batch_renders_as_its_points_one_by_one():
    from models import drumsynth

    raw = _loud_parameters(5)
    noise = drumsynth.sources(5, None, sample_rate=RATE, length=LENGTH, attack=220)
    together = drumsynth.render(raw, noise, RATE, LENGTH, 220)
    alone = np.concatenate([drumsynth.render(raw[i : i + 1], noise, RATE, LENGTH, 220) for i in range(5)])
    assert np.max(np.abs(together - alone)) <= 1e-6


def test_skipped_tails_stay_within_their_tolerance_even_for_a_quiet_sound():
    from models import drumsynth

    raw = _loud_parameters(6, seed=4)
    noise = drumsynth.sources(5, None, sample_rate=RATE, length=LENGTH, attack=220)
    renderer = drumsynth.renderer(RATE, LENGTH, 220)
    p = drumsynth.split_parameters(raw)
    one = {key: value[:1] for key, value in p.items()}
    cut, full = renderer.tonal(one), renderer.tonal(one, truncate=False)
    assert not np.array_equal(cut, full)  # some tail was skipped
    bound = drumsynth.MODE_FLOOR * drumsynth.N_MODES * drumsynth.UPSAMPLE_GAIN  # in the mix
    assert np.max(np.abs(one["mix"][0, 0] * (cut - full))) <= bound
    # a floor far too high for this sound: the bound trips and the sound is rendered exactly
    exact = drumsynth.render(raw, noise, RATE, LENGTH, 220)
    saved = drumsynth.MODE_FLOOR
    try:
        drumsynth.MODE_FLOOR = 1e-2
        assert np.max(np.abs(drumsynth.render(raw, noise, RATE, LENGTH, 220) - exact)) <= 1e-6
    finally:
        drumsynth.MODE_FLOOR = saved


def test_the_half_length_upsampling_is_the_layers_full_length_one():
    from models import drumsynth

    renderer = drumsynth.renderer(RATE, LENGTH, 220)
    half = np.random.default_rng(6).standard_normal(LENGTH // 2).astype(np.float32)
    spectrum = np.pad(np.fft.rfft(half)[:-1], (0, LENGTH // 2 + 1 - LENGTH // 4))
    want = 2.0 * np.fft.irfft(spectrum, n=LENGTH)
    assert np.max(np.abs(renderer.upsample(half) - want)) <= 1e-5


def test_threads_rendering_at_once_get_their_own_sounds():
    from concurrent.futures import ThreadPoolExecutor

    from models import drumsynth

    raw = _loud_parameters(8, seed=7)
    noise = drumsynth.sources(5, None, sample_rate=RATE, length=LENGTH, attack=220)
    want = [drumsynth.render(raw[i : i + 1], noise, RATE, LENGTH, 220) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        got = list(
            pool.map(lambda i: drumsynth.render(raw[i : i + 1], noise, RATE, LENGTH, 220), [i for _ in range(5) for i in range(8)])
        )
    for k, sound in enumerate(got):
        assert np.array_equal(sound, want[k % 8])
