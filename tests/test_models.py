"""The registry, the fifteen architectures and training, all at tiny sizes
(length 1024, width 2, 64 samples)."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from drums import drum_batch
from models.errors import ModelSettingsError, ModelUnavailableError, TrainingError, UnknownModelError
from models.registry import DENSE_UNITS, MODEL_NAMES, REGISTRY, get_spec

LENGTH = 1024
TINY = {"width": 2}


#: The models whose decoder plays the pad's point itself: every one but ddsp_cvae, whose pad point
#: and family become a code of D numbers first (its own tests: test_models_ddsp_cvae.py).
PLANE_NAMES = tuple(name for name in MODEL_NAMES if not REGISTRY[name].conditioned)


def tiny(name):
    """Overrides that make a registry model tiny (dense AEs are tiny at length 1024)."""
    return dict(TINY) if "width" in REGISTRY[name].defaults else {}


@pytest.fixture(scope="module")
def data():
    from models.training import TrainingData

    audio, labels = drum_batch(64, LENGTH, seed=7)
    return TrainingData.from_arrays(audio, 22050, is_validation=np.arange(64) % 8 == 0, families=labels, folder="synthetic")


def options(**kwargs):
    from models.training import TrainOptions

    return TrainOptions(**{"epochs": 1, "batch_size": 16, "verbose": 0, **kwargs})


# ----------------------------------------------------------------------------- registry


def test_registry_names_the_zoo_in_display_order():
    assert MODEL_NAMES == (
        "ae_small_relu",
        "ae_small_tanh",
        "ae_small_sigmoid",
        "ae_medium_relu",
        "ae_medium_tanh",
        "ae_medium_sigmoid",
        "ae_big_relu",
        "ae_big_tanh",
        "ae_big_sigmoid",
        "conv_ae",
        "gan",
        "vae_a",
        "vae_b",
        "vae_c",
        "ddsp_vae",
        "ddsp_cvae",
    )
    from models.registry import TRAINABLE_NAMES

    assert TRAINABLE_NAMES == MODEL_NAMES and get_spec("ddsp_cvae").conditioned
    assert {spec.kind for spec in REGISTRY.values()} == {"dense_ae", "conv_ae", "gan", "vae", "synth_ae"}
    assert [REGISTRY[n].defaults["kl_factor"] for n in ("vae_a", "vae_b", "vae_c")] == [0.01, 0.001, 0.0001]
    assert all(REGISTRY[n].defaults["kl_ramp"] == 30000 for n in ("vae_a", "vae_b", "vae_c"))


def test_unknown_name_is_refused_with_the_valid_names():
    with pytest.raises(UnknownModelError) as caught:
        get_spec("ae_huge_relu")
    assert "ae_huge_relu" in str(caught.value) and "vae_c" in str(caught.value)


def test_unknown_setting_is_refused():
    with pytest.raises(ModelSettingsError, match="no setting depth"):
        get_spec("gan").settings(depth=3)


@pytest.mark.parametrize("name", ["conv_ae", "gan", "vae_a"])
def test_conv_length_that_strides_cannot_divide_is_refused(name):
    with pytest.raises(ModelSettingsError, match="multiple of 1024"):
        get_spec(name).build(length=1000, width=2)


# ----------------------------------------------------------------------------- architectures


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_every_model_builds_and_maps_audio_to_points_and_back(name):
    nets = get_spec(name).build(length=LENGTH, **tiny(name))
    audio, _ = drum_batch(3, LENGTH, seed=1)
    points = np.random.default_rng(0).uniform(-1, 1, (3, 2)).astype("float32")
    assert tuple(nets.decoder(points).shape) == (3, LENGTH)
    if nets.encoder is None:
        assert name == "gan"
        assert tuple(nets.trainer.discriminator(audio).shape) == (3, 1)
    else:
        out = nets.encoder(audio)
        mean = out[0] if isinstance(out, (list, tuple)) else out
        assert tuple(mean.shape) == (3, 2)


@pytest.mark.parametrize("size", sorted(DENSE_UNITS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_dense_autoencoders_have_the_seed_units(size, activation):
    import keras

    nets = get_spec(f"ae_{size}_{activation}").build(length=LENGTH)
    encoder = [l for l in nets.encoder.layers if isinstance(l, keras.layers.Dense)]
    decoder = [l for l in nets.decoder.layers if isinstance(l, keras.layers.Dense)]
    units = list(DENSE_UNITS[size])
    assert [l.units for l in encoder] == units
    assert [l.units for l in decoder] == units[::-1][1:] + [LENGTH]
    assert {l.activation.__name__ for l in encoder + decoder[:-1]} == {activation}
    assert decoder[-1].activation.__name__ == "linear"


@pytest.mark.slow
def test_full_size_models_fit_the_shipping_budget():
    # trained/ must stay under 120 MiB for all fifteen with float16 weights.
    total = sum(get_spec(n).build().shipped_parameters for n in MODEL_NAMES)
    assert total * 2 < 120 * 2**20 * 0.95


def test_phase_shuffle_shifts_within_radius_and_is_identity_at_inference():
    from models.layers import PhaseShuffle

    x = np.arange(2 * 16 * 3, dtype="float32").reshape(2, 16, 3)
    layer = PhaseShuffle(2, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    shifts = set()
    for _ in range(40):
        y = np.asarray(layer(x, training=True))
        middle = y[0, 4:12, 0]  # away from the reflected edges
        shift = int(round(x[0, 4, 0] - middle[0])) // 3
        np.testing.assert_array_equal(middle, x[0, 4 - shift : 12 - shift, 0])
        shifts.add(shift)
    assert shifts <= {-2, -1, 0, 1, 2} and len(shifts) > 2


def test_gan_gradient_penalty_is_finite():
    import tensorflow as tf

    nets = get_spec("gan").build(length=LENGTH, width=2)
    real, _ = drum_batch(4, LENGTH, seed=2)
    fake = nets.decoder(tf.random.uniform((4, 2), -1, 1))
    for a, b in ((real, fake), (real, real)):
        gp = float(nets.trainer.gradient_penalty(tf.constant(a), tf.constant(b)))
        assert np.isfinite(gp) and gp >= 0


def test_kl_weight_is_zero_at_start_half_at_halfway_full_after_the_ramp():
    from models.vae import kl_weight_at

    assert kl_weight_at(0, 0.01, 30000) == 0.0
    assert kl_weight_at(15000, 0.01, 30000) == pytest.approx(0.005)
    assert kl_weight_at(30000, 0.01, 30000) == pytest.approx(0.01)
    assert kl_weight_at(90000, 0.001, 30000) == pytest.approx(0.001)
    assert kl_weight_at(5, 0.01, 0) == pytest.approx(0.01)


# ----------------------------------------------------------------------------- training


@pytest.mark.parametrize("name", PLANE_NAMES)
@pytest.mark.slow  # trains
def test_one_epoch_on_64_samples_gives_finite_losses(name, data, tmp_path):
    from models.training import train_model

    result = train_model(name, data, tmp_path, options(), **tiny(name))
    assert result.epochs == 1
    keys = {"gan": {"d_loss", "g_loss", "val_w_distance"}}.get(name, {"loss", "val_loss"})
    assert keys <= set(result.losses)
    assert all(np.isfinite(v) for v in result.losses.values())
    folder = tmp_path / name
    expected = {"decoder.keras", "card.json", "history.csv", "loss.png", "checkpoint"}
    if name != "gan":
        expected |= {"encoder.keras", "codes.npz"}
    assert expected <= {p.name for p in folder.iterdir()}


@pytest.mark.slow  # trains
def test_vae_shows_and_advances_the_kl_weight_each_batch(data, tmp_path):
    from models.checkpoint import checkpoint_path
    from models.training import train_model

    # 56 training samples in batches of 16: 4 batches per epoch; ramp over 8 batches.
    result = train_model("vae_a", data, tmp_path, options(epochs=1), width=2, kl_ramp=8)
    # The metric is the epoch mean of the weights set before batches 0..3.
    assert result.losses["kl_weight"] == pytest.approx(0.01 * np.mean([0, 1, 2, 3]) / 8, rel=1e-5)
    with np.load(checkpoint_path(tmp_path, "vae_a")) as ckpt:
        state = json.loads(str(ckpt["state"]))
        stored = [ckpt[k] for k in ckpt.files if k.startswith("model/")]
    assert state["epoch"] == 1 and state["settings"]["kl_ramp"] == 8
    assert 4 in [int(a) for a in stored if a.dtype == np.int64]  # kl_batches


@pytest.mark.slow  # trains
def test_resume_continues_from_the_checkpoint_epoch_and_the_kl_ramp(data, tmp_path):
    import csv

    from models.checkpoint import checkpoint_path
    from models.training import train_model

    train_model("vae_b", data, tmp_path, options(epochs=2), width=2, kl_ramp=8)
    result = train_model("vae_b", data, tmp_path, options(epochs=3, resume=True))
    assert result.epochs == 3
    with open(tmp_path / "vae_b" / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    # Epoch 3 runs batches 8..11: past the ramp, so the full factor throughout.
    assert float(rows[2]["kl_weight"]) == pytest.approx(0.001)
    card = json.loads((tmp_path / "vae_b" / "card.json").read_text())
    assert card["epochs"] == 3 and card["training"]["resumed_from_epoch"] == 2
    with np.load(checkpoint_path(tmp_path, "vae_b")) as ckpt:
        assert json.loads(str(ckpt["state"]))["epoch"] == 3


@pytest.mark.slow  # trains
def test_restored_checkpoint_has_the_trained_weights_and_optimizer_state(data, tmp_path):
    from models.checkpoint import checkpoint_path, restore_checkpoint
    from models.training import train_model

    train_model("gan", data, tmp_path, options(), width=2, n_critic=1)
    with np.load(checkpoint_path(tmp_path, "gan")) as ckpt:
        saved = {k: ckpt[k] for k in ckpt.files}
    fresh = get_spec("gan").build(length=LENGTH, width=2, n_critic=1)
    restore_checkpoint(checkpoint_path(tmp_path, "gan"), fresh)
    for v in fresh.trainer.weights:
        np.testing.assert_array_equal(v.numpy(), saved[f"model/{v.path}"])
    assert int(fresh.optimizers["d_optimizer"].iterations.numpy()) == 4  # 4 batches, 1 critic step
    assert int(fresh.optimizers["g_optimizer"].iterations.numpy()) == 4


def _rewrite_checkpoint(path, change):
    """Rewrite a checkpoint's arrays through ``change(arrays) -> arrays``."""
    with np.load(path) as ckpt:
        arrays = change({k: ckpt[k] for k in ckpt.files})
    with open(path, "wb") as file:
        np.savez(file, **arrays)


@pytest.mark.slow  # trains
def test_a_renamed_layer_fails_to_resume_with_its_name(data, tmp_path):
    from models.checkpoint import checkpoint_path, restore_checkpoint
    from models.training import train_model

    train_model("ae_small_relu", data, tmp_path, options())
    path = checkpoint_path(tmp_path, "ae_small_relu")
    # The checkpoint of a model whose first encoder layer had another name.
    _rewrite_checkpoint(path, lambda arrays: {k.replace("model/enc_dense_0/", "model/encoder_in/"): v for k, v in arrays.items()})
    fresh = get_spec("ae_small_relu").build(length=LENGTH)
    with pytest.raises(
        TrainingError,
        match=r"has no model variable enc_dense_0/kernel, enc_dense_0/bias "
        r"\(it holds encoder_in/bias, encoder_in/kernel instead\)",
    ):
        restore_checkpoint(path, fresh)


@pytest.mark.slow  # trains
def test_a_checkpoint_that_numbers_its_variables_still_resumes(data, tmp_path):
    # Version 1 checkpoints keyed each variable by its place in the model's list.
    import json

    from models.checkpoint import checkpoint_path
    from models.training import train_model

    train_model("ae_small_relu", data, tmp_path, options())
    path = checkpoint_path(tmp_path, "ae_small_relu")
    nets = get_spec("ae_small_relu").build(length=LENGTH)

    def numbered(arrays):
        old = {f"model/{i:05d}": arrays[f"model/{v.path}"] for i, v in enumerate(nets.trainer.weights)}
        for name, optimizer in nets.optimizers.items():
            for i, v in enumerate(optimizer.variables):
                old[f"opt/{name}/{i:05d}"] = arrays[f"opt/{name}/{v.path.split('/', 1)[1]}"]
        state = json.loads(str(arrays["state"]))
        return {**old, "state": np.array(json.dumps({**state, "version": 1}))}

    _rewrite_checkpoint(path, numbered)
    result = train_model("ae_small_relu", data, tmp_path, options(epochs=2, resume=True))
    assert result.epochs == 2
    with np.load(path) as ckpt:
        assert json.loads(str(ckpt["state"]))["version"] == 2 and "model/enc_dense_0/kernel" in ckpt.files


def test_resume_without_a_checkpoint_says_so(data, tmp_path):
    from models.training import train_model

    with pytest.raises(TrainingError, match="no checkpoint to resume"):
        train_model("ae_small_relu", data, tmp_path, options(resume=True))


@pytest.mark.slow
def test_resume_with_a_different_width_is_refused(data, tmp_path):
    from models.training import train_model

    train_model("conv_ae", data, tmp_path, options(), width=2)
    with pytest.raises(TrainingError, match="width=3"):
        train_model("conv_ae", data, tmp_path, options(epochs=2, resume=True), width=3)


@pytest.mark.slow  # trains
def test_nan_loss_stops_with_a_reason_and_keeps_the_last_good_checkpoint(data, tmp_path):
    from models.checkpoint import checkpoint_path
    from models.training import TrainingData, train_model

    train_model("ae_small_tanh", data, tmp_path, options())
    before = checkpoint_path(tmp_path, "ae_small_tanh").read_bytes()
    poisoned = TrainingData.from_arrays(np.full_like(data.audio, np.nan), 22050)
    with pytest.raises(TrainingError, match="NaN.*epoch 2, batch 1.*checkpoint of epoch 1"):
        train_model("ae_small_tanh", poisoned, tmp_path, options(epochs=3, resume=True))
    assert checkpoint_path(tmp_path, "ae_small_tanh").read_bytes() == before


@pytest.mark.slow  # trains
def test_same_seed_trains_the_same_weights(data, tmp_path):
    from models.saving import load_model_file
    from models.training import train_model

    for run in ("a", "b"):
        train_model("ae_small_sigmoid", data, tmp_path / run, options(seed=5))
    a, b = (load_model_file(tmp_path / r / "ae_small_sigmoid" / "decoder.keras") for r in "ab")
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())


@pytest.mark.slow  # trains
def test_card_and_codes_record_the_run(data, tmp_path):
    from models.training import train_model

    train_model("ae_medium_relu", data, tmp_path, options(float16=True))
    folder = tmp_path / "ae_medium_relu"
    card = json.loads((folder / "card.json").read_text())
    assert card["name"] == "ae_medium_relu" and card["kind"] == "dense_ae"
    assert card["config"]["units"] == [96, 24, 2] and card["config"]["length"] == LENGTH
    # the card records the dataset relative to the zoo, and reads back as the folder itself
    from models.card import read_card

    assert Path(read_card(folder / "card.json").data_folder).resolve() == Path("synthetic").resolve()
    assert card["data"] == {**card["data"], "train_samples": 56, "validation_samples": 8}
    assert card["training"]["float16"] is True and card["training"]["batch_size"] == 16
    assert card["parameters"] > 0 and set(card["versions"]) >= {"tensorflow", "keras", "numpy"}
    assert np.isfinite(card["losses"]["loss"]) and np.isfinite(card["losses"]["val_loss"])
    with np.load(folder / "codes.npz", allow_pickle=False) as codes:
        assert codes["points"].shape == (64, 2)
        assert list(codes["families"][:3]) == ["snare", "kick", "hat"]
        assert codes["is_validation"].sum() == 8


# ----------------------------------------------------------------------------- saving


def test_save_load_round_trip_decodes_identically(tmp_path):
    from models.saving import load_model_file, save_model_file

    nets = get_spec("vae_c").build(length=LENGTH, width=2)
    save_model_file(nets.decoder, tmp_path / "decoder.keras")
    save_model_file(nets.encoder, tmp_path / "encoder.keras")
    points = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    audio, _ = drum_batch(5, LENGTH, seed=3)
    decoder = load_model_file(tmp_path / "decoder.keras")
    encoder = load_model_file(tmp_path / "encoder.keras")
    np.testing.assert_array_equal(np.asarray(decoder(points)), np.asarray(nets.decoder(points)))
    np.testing.assert_array_equal(np.asarray(encoder(audio)[0]), np.asarray(nets.encoder(audio)[0]))


def test_float16_weights_halve_the_file_and_decode_close(tmp_path):
    from models.saving import load_model_file, save_model_file

    nets = get_spec("ae_medium_tanh").build(length=4096)
    save_model_file(nets.decoder, tmp_path / "f32.keras")
    save_model_file(nets.decoder, tmp_path / "f16.keras", float16=True)
    ratio = (tmp_path / "f16.keras").stat().st_size / (tmp_path / "f32.keras").stat().st_size
    assert 0.45 < ratio < 0.6
    points = np.random.default_rng(2).uniform(-1, 1, (8, 2)).astype("float32")
    full = np.asarray(nets.decoder(points))
    half_model = load_model_file(tmp_path / "f16.keras")
    assert half_model.weights[0].dtype == "float32"  # computes in float32
    half = np.asarray(half_model(points))
    snr = 10 * np.log10(np.sum(full**2) / np.sum((full - half) ** 2))
    assert snr > 50


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "empty"])
def test_damaged_model_file_raises_unavailable_naming_the_file(tmp_path, damage):
    from models.saving import load_model_file, save_model_file

    path = tmp_path / "decoder.keras"
    save_model_file(get_spec("ae_small_relu").build(length=LENGTH).decoder, path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "not a zip": b"RIFF" + data[4:200], "empty": b""}[damage])
    with pytest.raises(ModelUnavailableError, match=r"decoder\.keras: damaged"):
        load_model_file(path)


def test_model_file_with_damaged_weights_inside_raises_unavailable(tmp_path):
    from models.saving import load_model_file, save_model_file

    path = tmp_path / "decoder.keras"
    save_model_file(get_spec("ae_small_relu").build(length=LENGTH).decoder, path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["model.weights.h5"] = b"not hdf5 at all" * 10
    with zipfile.ZipFile(path, "w") as archive:
        for n, payload in members.items():
            archive.writestr(n, payload)
    with pytest.raises(ModelUnavailableError, match=r"decoder\.keras: damaged"):
        load_model_file(path)


def test_missing_model_file_raises_unavailable_naming_the_file(tmp_path):
    from models.saving import load_model_file

    with pytest.raises(ModelUnavailableError, match=r"encoder\.keras: missing"):
        load_model_file(tmp_path / "encoder.keras")


@pytest.mark.slow
def test_card_names_the_validation_loss_that_early_stopping_watched(data, tmp_path):
    from models.training import train_model

    train_model("ae_small_tanh", data, tmp_path, options(epochs=2, patience=1))
    card = json.loads((tmp_path / "ae_small_tanh" / "card.json").read_text())
    assert card["training"]["early_stopping"]["monitor"] == "val_loss"
