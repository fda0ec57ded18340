"""The common inference interface (load_trained / TrainedModel), the polyphase decode path
and the zoo listing, on a tiny zoo trained once for the module."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drums import drum_batch
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError, UnknownModelError

ROOT = Path(__file__).resolve().parents[1]
LENGTH = 1024
TRAINED = ("ae_small_tanh", "vae_a", "gan")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from models.training import TrainingData, TrainOptions, train_model

    folder = tmp_path_factory.mktemp("zoo")
    audio, labels = drum_batch(48, LENGTH, seed=11)
    data = TrainingData.from_arrays(audio, 22050, is_validation=np.arange(48) % 6 == 0, families=labels, folder="synthetic")
    options = TrainOptions(epochs=1, batch_size=16, verbose=0)
    train_model("ae_small_tanh", data, folder, options)
    train_model("vae_a", data, folder, options, width=2)
    train_model("gan", data, folder, options, width=2, n_critic=1)
    return folder, data


@pytest.fixture
def copy_of(zoo, tmp_path):
    """A private copy of one trained model's folder, to damage."""

    def make(name):
        shutil.copytree(zoo[0] / name, tmp_path / name)
        return tmp_path

    return make


@pytest.mark.parametrize("name", TRAINED)
def test_decode_gives_float32_audio_equal_to_the_keras_decoder(zoo, name):
    from models.keras_loader import load_trained

    model = load_trained(name, zoo[0])
    points = np.random.default_rng(0).uniform(-1, 1, (6, 2)).astype(np.float32)
    audio = model.decode(points)
    assert audio.shape == (6, LENGTH) and audio.dtype == np.float32
    np.testing.assert_allclose(audio, np.asarray(model.decoder(points)), rtol=0, atol=1e-6)
    assert model.decode(points[0]).shape == (1, LENGTH)
    assert model.sample_rate == 22050 and model.sample_length == LENGTH
    assert model.card.name == name


def test_conv_decoders_take_the_polyphase_path_and_dense_ones_xla(zoo):
    from models.keras_loader import load_trained

    assert load_trained("gan", zoo[0]).decode_path == "polyphase"
    assert load_trained("vae_a", zoo[0]).polyphase
    assert load_trained("ae_small_tanh", zoo[0]).decode_path == "xla"


def test_a_fast_path_that_disagrees_with_keras_is_not_used(monkeypatch):
    from models import fastpath
    from models.registry import get_spec

    decoder = get_spec("conv_ae").build(length=LENGTH, width=2).decoder
    monkeypatch.setattr(fastpath, "MATCH_TOLERANCE", -1.0)  # nothing can match
    function, path = fastpath.compile_decoder(decoder)
    assert path == "graph"
    points = np.zeros((1, 2), np.float32)
    np.testing.assert_array_equal(function(points).numpy(), np.asarray(decoder(points)))


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), np.zeros((2, 2, 2)), np.array([[np.nan, 0.0]])])
def test_decode_refuses_points_of_the_wrong_shape_or_not_finite(zoo, bad):
    from models.keras_loader import load_trained

    with pytest.raises(ModelInputError):
        load_trained("ae_small_tanh", zoo[0]).decode(bad)


def test_encode_gives_the_training_codes_back(zoo):
    from models.keras_loader import load_trained

    folder, data = zoo
    for name in ("ae_small_tanh", "vae_a"):
        model = load_trained(name, folder)
        points = model.encode(data.audio)
        assert points.shape == (48, 2)
        np.testing.assert_allclose(points, model.codes.points, atol=1e-5)
        assert model.encode(data.audio[0]).shape == (1, 2)
        with pytest.raises(ModelInputError, match=f"\\(N, {LENGTH}\\)"):
            model.encode(np.zeros((1, LENGTH + 1)))


def test_gan_has_no_encoder_and_the_uniform_prior_as_its_range(zoo):
    from models.keras_loader import load_trained

    model = load_trained("gan", zoo[0])
    assert not model.has_encoder and model.codes is None
    with pytest.raises(NoEncoderError, match="gan has no encoder"):
        model.encode(np.zeros((1, LENGTH)))
    assert model.latent_range() == (-1.0, 1.0, -1.0, 1.0) and model.center == (0.0, 0.0)


def test_vae_range_is_three_sigma_of_the_prior(zoo):
    from models.keras_loader import load_trained

    model = load_trained("vae_a", zoo[0])
    assert model.latent_range() == (-3.0, 3.0, -3.0, 3.0) and model.center == (0.0, 0.0)


def test_autoencoder_range_holds_every_code_with_a_margin_and_centre_is_the_median(zoo):
    from models.keras_loader import load_trained

    model = load_trained("ae_small_tanh", zoo[0])
    xmin, xmax, ymin, ymax = model.latent_range()
    pts = model.codes.points
    assert xmin < pts[:, 0].min() and pts[:, 0].max() < xmax
    assert ymin < pts[:, 1].min() and pts[:, 1].max() < ymax
    assert model.center == pytest.approx(tuple(np.median(pts, axis=0)))
    assert list(model.codes.families[:3]) == ["snare", "kick", "hat"]
    assert model.codes.is_validation.sum() == 8


def test_codes_are_latent_codes_of_train_and_validation(zoo):
    from models.keras_loader import load_trained

    codes = load_trained("vae_a", zoo[0]).codes
    assert len(codes) == 48 and codes.names.shape == codes.files.shape == (48,)


@pytest.mark.parametrize("stride,size", [(4, 25), (4, 4), (2, 5), (4, 8)])
def test_polyphase_weights_reproduce_a_transposed_convolution(stride, size):
    import keras
    import tensorflow as tf

    from models.fastpath import polyphase_weights

    layer = keras.layers.Conv1DTranspose(3, size, strides=stride, padding="same")
    x = np.random.default_rng(stride + size).normal(size=(2, 9, 5)).astype(np.float32)
    layer.build(x.shape)
    layer.bias.assign(np.arange(3, dtype=np.float32))
    want = np.asarray(layer(x))
    weights, bias, pad = polyphase_weights(layer.kernel.numpy(), layer.bias.numpy(), stride)
    y = tf.nn.conv1d(tf.pad(x, [[0, 0], list(pad), [0, 0]]), weights, 1, "VALID") + bias
    got = tf.reshape(y, [2, 9 * stride, 3]).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_unknown_name_is_refused(zoo):
    from models.keras_loader import load_trained

    with pytest.raises(UnknownModelError, match="valid names"):
        load_trained("ae_tiny", zoo[0])


def test_untrained_model_is_unavailable_naming_its_card(zoo):
    from models.keras_loader import load_trained

    with pytest.raises(ModelUnavailableError, match=r"conv_ae/card\.json: missing \(not trained"):
        load_trained("conv_ae", zoo[0])


@pytest.mark.parametrize("filename", ["decoder.keras", "card.json"])
def test_damaged_file_makes_the_model_unavailable_naming_the_file(copy_of, filename):
    from models.keras_loader import load_trained

    folder = copy_of("vae_a")
    path = folder / "vae_a" / filename
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(ModelUnavailableError, match=rf"vae_a/{filename.replace('.', '[.]')}: damaged"):
        load_trained("vae_a", folder)


def test_a_missing_encoder_leaves_the_model_playing_and_encode_says_why(copy_of):
    from models.errors import NoEncoderError
    from models.keras_loader import load_trained

    folder = copy_of("ae_small_tanh")
    whole = load_trained("ae_small_tanh", folder, warm_up=False)
    (folder / "ae_small_tanh" / "encoder.keras").unlink()
    model = load_trained("ae_small_tanh", folder, warm_up=False)
    np.testing.assert_array_equal(model.decode([[0.1, 0.2]]), whole.decode([[0.1, 0.2]]))
    assert not model.has_encoder and len(model.codes) == len(whole.codes)
    with pytest.raises(NoEncoderError, match=r"^ae_small_tanh cannot encode a sound: .*encoder\.keras: missing"):
        model.encode(np.zeros((1, model.sample_length), np.float32))


def test_damaged_codes_leave_the_model_playing_and_encoding(copy_of):
    from models.keras_loader import load_trained

    folder = copy_of("vae_a")
    whole = load_trained("vae_a", folder, warm_up=False)
    path = folder / "vae_a" / "codes.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    model = load_trained("vae_a", folder, warm_up=False)
    audio = whole.decode([[0.1, 0.2]])
    np.testing.assert_array_equal(model.decode([[0.1, 0.2]]), audio)
    np.testing.assert_allclose(model.encode(audio), whole.encode(audio), atol=1e-6)
    assert model.codes is None and model.no_codes_reason.startswith(
        f"vae_a has no training dots, family pads or nearest sounds: {path}: damaged"
    )


def test_card_of_another_kind_is_refused(copy_of):
    from models.keras_loader import load_trained

    folder = copy_of("gan")
    card_path = folder / "gan" / "card.json"
    card = json.loads(card_path.read_text())
    card["kind"] = "vae"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelUnavailableError, match="card.json: kind is .vae., the registry.s model is .gan."):
        load_trained("gan", folder)


def test_zoo_lists_all_sixteen_from_cards_without_tensorflow(zoo, copy_of):
    folder = copy_of("ae_small_tanh")
    (folder / "ae_small_tanh" / "decoder.keras").write_bytes(b"junk")
    shutil.copytree(zoo[0] / "gan", folder / "gan")
    script = (
        "import sys, json; from models.zoo import list_models; "
        f"rows = list_models({str(folder)!r}); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
        "print(json.dumps([[r.name, r.trained, r.reason, r.parameters, r.epochs, r.data, r.size_bytes] for r in rows]))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=str(ROOT))
    rows = {r[0]: r for r in json.loads(out.stdout.strip().splitlines()[-1])}
    assert len(rows) == 16
    assert rows["gan"][1] is True and rows["gan"][3] > 0 and rows["gan"][4] == 1
    # the data folder the card names, read back as a path (it is recorded relative to the zoo)
    assert Path(rows["gan"][5]).name == "synthetic" and rows["gan"][6] > 0
    assert rows["ae_small_tanh"][1] is False and "decoder.keras: damaged" in rows["ae_small_tanh"][2]
    assert rows["vae_c"][1] is False and rows["vae_c"][2] == "not trained"
