"""The NumPy engine (models.engine) against the Keras models it replaces at inference:
every architecture at a tiny size (length 1024, width 2) with random weights and biases,
decode and encode within 1e-4; its errors; and that it never imports TensorFlow."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from drums import drum_batch
from models.errors import ModelInputError, ModelUnavailableError, NoEncoderError, UnknownModelError
from models.registry import MODEL_NAMES, REGISTRY, get_spec

ROOT = Path(__file__).resolve().parents[1]
#: The models whose decoder plays the pad's point itself (ddsp_cvae's own tests: test_models_ddsp_cvae.py)
PLANE_NAMES = tuple(name for name in MODEL_NAMES if not REGISTRY[name].conditioned)
LENGTH = 1024
TOLERANCE = 1e-4


def tiny(name):
    return {"width": 2} if "width" in REGISTRY[name].defaults else {}


def randomise(model, seed):
    """Give every weight, biases included, seeded random values of a sensible scale (the
    initialisers leave biases at zero, which would hide a bias bug)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 4
        variable.assign(rng.normal(0, 1.0 / np.sqrt(fan_in), shape).astype(np.float32))


def write_trained(folder, name, nets, *, float16=False, sample_length=LENGTH):
    """A model folder as training writes it: card.json, decoder/encoder.keras, codes.npz."""
    from models.saving import save_model_file

    model_dir = Path(folder) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    card = {"name": name, "kind": get_spec(name).kind, "sample_rate": 22050, "sample_length": sample_length}
    (model_dir / "card.json").write_text(json.dumps(card))
    save_model_file(nets.decoder, model_dir / "decoder.keras", float16=float16)
    if nets.encoder is not None:
        save_model_file(nets.encoder, model_dir / "encoder.keras", float16=float16)
        n = 6
        np.savez(
            model_dir / "codes.npz",
            points=np.random.default_rng(0).normal(size=(n, 2)),
            families=np.array(["kick"] * n),
            names=np.array([f"s{i}" for i in range(n)]),
            files=np.array([f"s{i}.wav" for i in range(n)]),
            is_validation=np.arange(n) % 3 == 0,
        )
    return model_dir


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    """Every registry model, tiny, with random weights, saved as training saves them; and
    the built Keras networks as the reference."""
    folder = tmp_path_factory.mktemp("tiny_zoo")
    built = {}
    for i, name in enumerate(PLANE_NAMES):
        nets = get_spec(name).build(length=LENGTH, **tiny(name))
        randomise(nets.decoder, seed=i)
        if nets.encoder is not None:
            randomise(nets.encoder, seed=100 + i)
        write_trained(folder, name, nets)
        built[name] = nets
    return folder, built


def points_for(runtime, count=9, seed=0):
    xmin, xmax, ymin, ymax = runtime.latent_range()
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)]).astype(np.float32)


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_engine_decodes_every_architecture_as_keras_does(tiny_zoo, name):
    from models.engine import load_runtime

    folder, built = tiny_zoo
    runtime = load_runtime(name, folder)
    points = points_for(runtime)
    audio = runtime.decode(points)
    want = np.asarray(built[name].decoder(points))
    assert audio.shape == (9, LENGTH) and audio.dtype == np.float32
    assert np.max(np.abs(want)) > 0.01  # the check means something
    np.testing.assert_allclose(audio, want, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(runtime.decode(points[0]), want[:1], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", [n for n in PLANE_NAMES if REGISTRY[n].has_encoder])
def test_engine_encodes_every_architecture_as_keras_does(tiny_zoo, name):
    from models.engine import load_runtime

    folder, built = tiny_zoo
    runtime = load_runtime(name, folder)
    audio, _ = drum_batch(5, LENGTH, seed=4)
    out = built[name].encoder(audio)
    want = np.asarray(out[0] if isinstance(out, (list, tuple)) else out)  # a VAE's mean
    got = runtime.encode(audio)
    assert got.shape == (5, 2) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    assert runtime.encode(audio[0]).shape == (1, 2)


def test_engine_reads_float16_weights_as_keras_does(tmp_path):
    from models.engine import load_runtime
    from models.saving import load_model_file

    nets = get_spec("conv_ae").build(length=LENGTH, width=2)
    randomise(nets.decoder, seed=5)
    write_trained(tmp_path, "conv_ae", nets, float16=True)
    keras_decoder = load_model_file(tmp_path / "conv_ae" / "decoder.keras")
    points = np.random.default_rng(3).normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(
        load_runtime("conv_ae", tmp_path).decode(points), np.asarray(keras_decoder(points)), rtol=0, atol=TOLERANCE
    )


def test_runtime_answers_what_trained_model_answers(tiny_zoo):
    from models.engine import load_runtime
    from models.registry import get_spec
    from models.trained_folder import latent_center, latent_range, read_codes

    folder, _ = tiny_zoo
    ae = load_runtime("ae_small_tanh", folder)
    assert ae.name == "ae_small_tanh" and ae.kind == "dense_ae" and ae.has_encoder
    assert ae.sample_rate == 22050 and ae.sample_length == LENGTH and ae.card.name == ae.name
    codes = read_codes(folder / "ae_small_tanh" / "codes.npz")
    prior = get_spec("ae_small_tanh").prior
    assert ae.latent_range() == latent_range(prior, codes)
    assert ae.center == latent_center(prior, codes) and len(ae.codes) == 6
    vae = load_runtime("vae_a", folder)
    assert vae.latent_range() == (-3.0, 3.0, -3.0, 3.0) and vae.center == (0.0, 0.0)
    gan = load_runtime("gan", folder)
    assert not gan.has_encoder and gan.codes is None
    assert gan.latent_range() == (-1.0, 1.0, -1.0, 1.0)


def test_many_points_decode_in_chunks_to_the_same_audio(tiny_zoo):
    from models.engine import DECODE_CHUNK, load_runtime

    runtime = load_runtime("vae_b", tiny_zoo[0])
    points = points_for(runtime, count=2 * DECODE_CHUNK + 5, seed=2)
    together = runtime.decode(points)
    one_by_one = np.concatenate([runtime.decode(p) for p in points])
    assert together.shape == (len(points), LENGTH)
    np.testing.assert_allclose(together, one_by_one, rtol=0, atol=1e-6)


def test_decode_leaves_the_callers_points_alone(tmp_path):
    import keras

    from models.engine import load_runtime
    from models.saving import save_model_file

    # An activation straight on the input: the engine must not work on the caller's array.
    point = keras.Input((2,))
    decoder = keras.Model(point, keras.layers.Dense(LENGTH)(keras.layers.Activation("relu")(point)))
    model_dir = tmp_path / "gan"
    model_dir.mkdir()
    (model_dir / "card.json").write_text(json.dumps({"name": "gan", "kind": "gan", "sample_rate": 22050, "sample_length": LENGTH}))
    save_model_file(decoder, model_dir / "decoder.keras")
    points = np.array([[-1.0, 0.5], [0.25, -2.0]], np.float32)
    given = points.copy()
    audio = load_runtime("gan", tmp_path).decode(points)
    np.testing.assert_array_equal(points, given)
    np.testing.assert_allclose(audio, np.asarray(decoder(given)), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), np.zeros((2, 2, 2)), np.array([[np.nan, 0.0]]), np.array([[np.inf, 0.0]])])
def test_decode_refuses_points_of_the_wrong_shape_or_not_finite(tiny_zoo, bad):
    from models.engine import load_runtime

    with pytest.raises(ModelInputError, match="points must"):
        load_runtime("ae_small_tanh", tiny_zoo[0]).decode(bad)


def test_encode_refuses_audio_of_the_wrong_length_or_not_finite(tiny_zoo):
    from models.engine import load_runtime

    runtime = load_runtime("conv_ae", tiny_zoo[0])
    with pytest.raises(ModelInputError, match=rf"\(N, {LENGTH}\)"):
        runtime.encode(np.zeros((1, LENGTH + 1)))
    with pytest.raises(ModelInputError, match="finite"):
        runtime.encode(np.full((1, LENGTH), np.nan))


def test_gan_has_no_encoder(tiny_zoo):
    from models.engine import load_runtime

    with pytest.raises(NoEncoderError, match="gan has no encoder"):
        load_runtime("gan", tiny_zoo[0]).encode(np.zeros((1, LENGTH)))


def test_unknown_name_is_refused(tiny_zoo):
    from models.engine import load_runtime

    with pytest.raises(UnknownModelError, match="valid names"):
        load_runtime("ae_tiny", tiny_zoo[0])


def test_untrained_model_is_unavailable_naming_its_card(tmp_path):
    from models.engine import load_runtime

    with pytest.raises(ModelUnavailableError, match=r"vae_c/card\.json: missing \(not trained"):
        load_runtime("vae_c", tmp_path)


@pytest.fixture
def copy_of(tiny_zoo, tmp_path):
    import shutil

    def make(name):
        shutil.copytree(tiny_zoo[0] / name, tmp_path / name)
        return tmp_path

    return make


@pytest.mark.parametrize("filename", ["decoder.keras", "card.json"])
def test_damaged_file_makes_the_model_unavailable_naming_the_file(copy_of, filename):
    from models.engine import load_runtime

    folder = copy_of("vae_a")
    path = folder / "vae_a" / filename
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(ModelUnavailableError, match=rf"vae_a/{filename.replace('.', '[.]')}: damaged"):
        load_runtime("vae_a", folder)


def test_weights_that_are_not_hdf5_make_the_model_unavailable(copy_of):
    from models.engine import load_runtime

    folder = copy_of("gan")
    path = folder / "gan" / "decoder.keras"
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["model.weights.h5"] = b"not hdf5 at all" * 10
    with zipfile.ZipFile(path, "w") as archive:
        for n, payload in members.items():
            archive.writestr(n, payload)
    with pytest.raises(ModelUnavailableError, match=r"gan/decoder\.keras: damaged"):
        load_runtime("gan", folder)


@pytest.mark.parametrize("name", ["vae_a", "ae_small_tanh"])
def test_a_damaged_encoder_leaves_the_model_playing_and_encode_says_why(copy_of, name):
    from models.engine import load_runtime

    folder = copy_of(name)
    whole = load_runtime(name, folder)
    path = folder / name / "encoder.keras"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    runtime = load_runtime(name, folder)
    points = points_for(runtime)
    np.testing.assert_array_equal(runtime.decode(points), whole.decode(points))
    assert not runtime.has_encoder and runtime.no_codes_reason is None
    assert runtime.no_encoder_reason == f"{name} cannot encode a sound: {path}: damaged (not a .keras archive)"
    with pytest.raises(NoEncoderError) as raised:
        runtime.encode(np.zeros((1, runtime.sample_length), np.float32))
    assert str(raised.value) == runtime.no_encoder_reason
    # its codes are whole: the dots, the range and the family pads are the whole model's
    assert len(runtime.codes) == len(whole.codes) and runtime.latent_range() == whole.latent_range()
    assert (runtime.family_pads is None) == (whole.family_pads is None)


def test_a_missing_encoder_is_said_by_name(copy_of):
    from models.engine import load_runtime

    folder = copy_of("ae_small_tanh")
    (folder / "ae_small_tanh" / "encoder.keras").unlink()
    runtime = load_runtime("ae_small_tanh", folder)
    assert re.search(r"^ae_small_tanh cannot encode a sound: .*encoder\.keras: missing", runtime.no_encoder_reason)


@pytest.mark.parametrize("name", ["vae_a", "ae_small_tanh"])
def test_damaged_codes_leave_the_model_playing_and_encoding_and_say_why(copy_of, name):
    from models.engine import load_runtime

    folder = copy_of(name)
    whole = load_runtime(name, folder)
    path = folder / name / "codes.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    runtime = load_runtime(name, folder)
    audio = whole.decode(points_for(whole))
    np.testing.assert_array_equal(runtime.encode(audio), whole.encode(audio))
    assert runtime.codes is None and runtime.has_encoder and runtime.family_pads is None
    reason = f"{name} has no training dots, family pads or nearest sounds: {path}: damaged"
    assert runtime.no_codes_reason.startswith(reason)
    assert runtime.no_family_reason == runtime.no_codes_reason
    with pytest.raises(ModelInputError, match=re.escape(reason)):
        runtime.decode([[0.0, 0.0]], family="kick")
    if name == "vae_a":  # a VAE's range is its prior's; an autoencoder's came from its codes
        assert runtime.latent_range() == whole.latent_range()
    else:
        assert runtime.latent_range() == (-1.0, 1.0, -1.0, 1.0)
        assert runtime.no_codes_reason.endswith("its pad spans -1 to 1, not its codes' range")
        np.testing.assert_array_equal(runtime.decode([[0.5, 0.5]]), whole.decode([[0.5, 0.5]]))


def test_card_of_another_length_is_refused(copy_of):
    from models.engine import load_runtime

    folder = copy_of("gan")
    card_path = folder / "gan" / "card.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "sample_length": 2048}))
    with pytest.raises(ModelUnavailableError, match="makes 1024 samples, the card says 2048"):
        load_runtime("gan", folder)


def test_a_layer_the_engine_lacks_makes_the_model_unavailable_naming_it(tmp_path):
    import keras

    from models.engine import load_runtime
    from models.saving import save_model_file

    point = keras.Input((2,))
    x = keras.layers.BatchNormalization(name="odd_norm")(keras.layers.Dense(8)(point))
    model_dir = tmp_path / "gan"
    model_dir.mkdir()
    (model_dir / "card.json").write_text(json.dumps({"name": "gan", "kind": "gan", "sample_rate": 22050, "sample_length": LENGTH}))
    save_model_file(keras.Model(point, keras.layers.Dense(LENGTH)(x)), model_dir / "decoder.keras")
    with pytest.raises(ModelUnavailableError, match=r"decoder\.keras: layer 'odd_norm' of class BatchNormalization is not supported"):
        load_runtime("gan", tmp_path)


@pytest.mark.parametrize(
    "stride,size,padding", [(4, 25, "same"), (1, 3, "same"), (2, 5, "valid"), (4, 4, "same"), (3, 7, "same"), (2, 4, "valid")]
)
def test_numpy_conv1d_is_keras_conv1d(stride, size, padding):
    import keras

    from models.numpy_layers import LAYER_BUILDERS

    layer = keras.layers.Conv1D(3, size, strides=stride, padding=padding, activation="tanh")
    x = np.random.default_rng(size).normal(size=(2, 37, 5)).astype(np.float32)
    layer.build(x.shape)
    randomise(layer, seed=stride)
    function = LAYER_BUILDERS["Conv1D"](layer.get_config(), [w.numpy() for w in layer.weights])
    np.testing.assert_allclose(function(x), np.asarray(layer(x)), rtol=0, atol=1e-5)


@pytest.mark.parametrize("stride,size", [(4, 25), (4, 4), (2, 5), (4, 8), (2, 3), (1, 3)])
def test_numpy_transposed_convolution_is_keras_conv1d_transpose(stride, size):
    import keras

    from models.numpy_layers import LAYER_BUILDERS

    layer = keras.layers.Conv1DTranspose(3, size, strides=stride, padding="same")
    x = np.random.default_rng(stride + size).normal(size=(2, 9, 5)).astype(np.float32)
    layer.build(x.shape)
    randomise(layer, seed=size)
    function = LAYER_BUILDERS["Conv1DTranspose"](layer.get_config(), [w.numpy() for w in layer.weights])
    np.testing.assert_allclose(function(x), np.asarray(layer(x)), rtol=0, atol=1e-5)


def test_engine_runs_the_tiny_zoo_with_tensorflow_unimportable(tiny_zoo, tmp_path):
    blocker = tmp_path / "no_tensorflow"
    for package in ("tensorflow", "keras"):
        (blocker / package).mkdir(parents=True)
        (blocker / package / "__init__.py").write_text(f"raise ImportError('{package} is blocked for this test')\n")
    script = (
        "import sys, numpy as np; from models.engine import load_runtime; "
        f"models = [load_runtime(n, {str(tiny_zoo[0])!r}) for n in {list(PLANE_NAMES)!r}]; "
        "[m.decode(np.zeros((2, 2))) for m in models]; "
        f"[m.encode(np.zeros((1, {LENGTH}))) for m in models if m.has_encoder]; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; print('ok')"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=str(ROOT), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_no_points_give_no_audio_and_no_sounds_no_points(tiny_zoo):
    from models.engine import load_runtime

    runtime = load_runtime("vae_a", tiny_zoo[0])
    assert runtime.decode(np.zeros((0, 2))).shape == (0, LENGTH)
    assert runtime.encode(np.zeros((0, LENGTH))).shape == (0, 2)


def test_loading_a_model_runs_blas_on_one_thread(tiny_zoo):
    import threadpoolctl

    from models.engine import BLAS_THREADS, load_runtime

    load_runtime("gan", tiny_zoo[0])
    blas = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == BLAS_THREADS for pool in blas)


def test_a_layer_working_in_place_never_changes_an_array_another_layer_reads(tmp_path):
    import keras

    from models.engine import load_runtime
    from models.saving import save_model_file

    # relu on a reshape (a view) of a tensor that Add reads as well: relu must get a copy.
    point = keras.Input((2,))
    hidden = keras.layers.Dense(8)(point)
    rectified = keras.layers.Activation("relu")(keras.layers.Reshape((8,))(hidden))
    mixed = keras.layers.Concatenate()([keras.layers.Add()([rectified, hidden]), hidden])
    decoder = keras.Model(point, keras.layers.Dense(LENGTH)(mixed))
    randomise(decoder, seed=9)
    model_dir = tmp_path / "gan"
    model_dir.mkdir()
    (model_dir / "card.json").write_text(json.dumps({"name": "gan", "kind": "gan", "sample_rate": 22050, "sample_length": LENGTH}))
    save_model_file(decoder, model_dir / "decoder.keras")
    points = np.random.default_rng(4).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(load_runtime("gan", tmp_path).decode(points), np.asarray(decoder(points)), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("batch,stride", [(1, 1), (3, 1), (1, 2)])
def test_convolution_windows_are_a_matrix_blas_takes_as_it_is(batch, stride):
    from models.numpy_layers import padded_windows

    x = np.random.default_rng(batch).normal(size=(batch, 11, 4)).astype(np.float32)
    windows, count = padded_windows(x, 3, 3, 7, stride)
    # rows that overlap in memory (a strided view) send NumPy's matmul to a slower loop
    assert windows.flags.c_contiguous
    padded = np.pad(x, ((0, 0), (3, 3), (0, 0)))
    expected = np.stack([padded[b, i * stride : i * stride + 7].ravel() for b in range(batch) for i in range(count)])
    np.testing.assert_array_equal(windows, expected)
