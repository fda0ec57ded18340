"""``app.py import-model``, as a researcher uses it: a tiny Keras decoder and a tiny ONNX
decoder (8-D latents, built here, never downloaded) imported through the real command, then
heard through ``app.py generate``; hostile files each refused in one line with nothing
written. Every process runs with its own XDG_DATA_HOME, so no test writes the user's zoo."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
DIM, LENGTH = 8, 256
#: Every command gets this long; a hung one fails the test instead of the suite.
DEADLINE_S = 300


def run_app(*args, home):
    """Run ``python app.py ARGS`` with ``home`` as its XDG_DATA_HOME (and its cache beside);
    (status, stdout, stderr)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(home),
        "XDG_CACHE_HOME": str(Path(home) / "cache"),
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=DEADLINE_S
    )
    return done.returncode, done.stdout, done.stderr


def one_line(text):
    text = text.strip()
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def listing(folder):
    """Every file under ``folder`` with its size and time (the shipped zoo, not read whole)."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(Path(folder).rglob("*"))}


def tree(folder):
    """Every file under ``folder`` with its bytes (hidden ones too); {} when it is not there."""
    folder = Path(folder)
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}


# ----------------------------------------------------------------------------- tiny decoders


def onnx_decoder(path, *, weights=None, output_shape=None, ops=("MatMul", "Tanh")):
    """An ONNX decoder z (N, 8) -> tanh(z @ W) (N, 256), built with onnx.helper; with
    ``output_shape`` (a tuple of ints) its output is reshaped to (N, *output_shape)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(0).normal(0, 0.3, (DIM, LENGTH)).astype(np.float32) if weights is None else weights
    nodes = [helper.make_node(ops[0], ["z", "W"], ["h"]), helper.make_node(ops[1], ["h"], ["a"])]
    initializers = [numpy_helper.from_array(weights, "W")]
    out_dims = ["N", LENGTH]
    if output_shape is not None:
        initializers.append(numpy_helper.from_array(np.array([-1, *output_shape], np.int64), "shape"))
        nodes.append(helper.make_node("Reshape", ["a", "shape"], ["audio"]))
        out_dims = ["N", *output_shape]
    else:
        nodes.append(helper.make_node("Identity", ["a"], ["audio"]))
    graph = helper.make_graph(
        nodes,
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", DIM])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, out_dims)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return weights


def keras_decoder(path, *, with_lambda=False):
    """A Keras 3 decoder z (N, 8) -> Dense 32 tanh -> Dense 256 tanh; with ``with_lambda``,
    a Lambda layer after it (Python code, which safe mode refuses)."""
    import keras

    keras.utils.set_random_seed(0)
    z = keras.Input((DIM,))
    audio = keras.layers.Dense(LENGTH, activation="tanh")(keras.layers.Dense(32, activation="tanh")(z))
    if with_lambda:
        audio = keras.layers.Lambda(lambda x: x * 0.5)(audio)
    model = keras.Model(z, audio)
    model.save(path)
    return model


@pytest.fixture(scope="module")
def onnx_import(tmp_path_factory):
    """A tiny ONNX decoder imported into a zoo: (zoo, source file, its bytes, W, the run)."""
    folder = tmp_path_factory.mktemp("onnx")
    source = folder / "my decoder.onnx"
    weights = onnx_decoder(source)
    before = source.read_bytes()
    done = run_app("import-model", "drums8", "--decoder", source, "--models", folder / "zoo", home=folder / "home")
    return folder / "zoo", source, before, weights, done


# ----------------------------------------------------------------------------- ONNX


def test_onnx_decoder_imports_in_one_line_and_keeps_the_source(onnx_import):
    zoo, source, before, _, (status, out, err) = onnx_import
    assert status == 0, err
    assert err == ""
    assert one_line(out).startswith(f"{zoo / 'drums8'}  (imported 8-D onnx decoder, {LENGTH} samples at 22050 Hz")
    assert source.read_bytes() == before
    assert sorted(p.name for p in (zoo / "drums8").iterdir()) == ["card.json", "decoder.onnx"]
    assert (zoo / "drums8" / "decoder.onnx").read_bytes() == before
    assert [p.name for p in zoo.iterdir()] == ["drums8"]  # no staging folder left


def test_onnx_card_says_imported_with_checksum_latent_and_validation(onnx_import):
    import hashlib

    from models.card import read_card

    zoo, source, before, _, _ = onnx_import
    card = read_card(zoo / "drums8" / "card.json")
    assert card.kind == "imported" and card.imported
    assert (card.sample_rate, card.sample_length) == (22050, LENGTH)
    decoder = card.files["decoder"]
    assert decoder["format"] == "onnx" and decoder["sha256"] == hashlib.sha256(before).hexdigest()
    assert decoder["source"] == str(source)
    assert card.latent["dim"] == DIM and card.latent["pad_axes"] == [0, 1]
    assert card.latent["low"] == [-3.0] * DIM and card.latent["high"] == [3.0] * DIM and card.latent["range_from"] == "default"
    checks = card.validation
    assert checks["operators"] == ["Identity", "MatMul", "Tanh"]
    assert 0 < checks["peak"] <= checks["peak_limit"] and checks["grid_points"] == 19
    assert 0 < checks["decode_ms_one_point"] <= checks["decode_ms_limit"]
    assert checks["runs_on"] == "onnxruntime"


def test_generate_with_a_full_vector_writes_the_models_own_decode(onnx_import, tmp_path):
    from models.engine import load_runtime

    zoo, _, _, weights, _ = onnx_import
    vector = [0.5, -1.0, 0.25, 0.0, 2.0, -0.75, 1.5, -2.5]
    wav = tmp_path / "hit.wav"
    status, out, err = run_app("generate", "drums8", "--models", zoo, "--at", ",".join(map(str, vector)), "-o", wav, home=tmp_path)
    assert status == 0, err
    assert one_line(out).startswith(f"{wav}  (drums8 at 0.5,-1,0.25,0,2,-0.75,1.5,-2.5; peak ")
    samples, rate = sf.read(wav, dtype="float32")
    from models.interface import ModelProtocol

    model = load_runtime("drums8", zoo)
    assert isinstance(model, ModelProtocol) and model.spec.kind == "imported" and not model.takes_family
    assert model.latent_dim == DIM and model.decode_path == "onnxruntime"
    assert rate == 22050 and np.array_equal(samples, model.decode([vector])[0])
    np.testing.assert_allclose(samples, np.tanh(np.asarray(vector, np.float32) @ weights), atol=1e-5)


def test_generate_with_a_pad_point_plays_the_full_vector_centred_elsewhere(onnx_import, tmp_path):
    from models.engine import load_runtime

    zoo, _, _, _, _ = onnx_import
    status, out, err = run_app("generate", "drums8", "--models", zoo, "--at", "-0.5,1.25", "-o", tmp_path / "pad.wav", home=tmp_path)
    assert status == 0, err
    assert "(drums8 at -0.5,1.25,0,0,0,0,0,0; peak" in out
    model = load_runtime("drums8", zoo)
    full = model.pad_to_latent([[-0.5, 1.25]])
    assert full.shape == (1, DIM) and list(full[0]) == [-0.5, 1.25, 0, 0, 0, 0, 0, 0]
    assert np.array_equal(sf.read(tmp_path / "pad.wav", dtype="float32")[0], model.decode(full)[0])


def test_generate_refuses_a_vector_of_another_size_in_one_line(onnx_import, tmp_path):
    zoo = onnx_import[0]
    status, out, err = run_app("generate", "drums8", "--models", zoo, "--at", "1,2,3", "-o", tmp_path / "x.wav", home=tmp_path)
    assert status == 2 and out == ""
    assert "drums8 takes X,Y (its pad) or 8 numbers (a full latent vector), not 3" in one_line(err)
    assert not (tmp_path / "x.wav").exists()


def test_decoding_an_onnx_model_imports_no_tensorflow(onnx_import):
    zoo = onnx_import[0]
    script = (
        "import sys\n"
        "from models.engine import load_runtime\n"
        f"model = load_runtime('drums8', {str(zoo)!r})\n"
        "audio = model.decode([[0.1] * 8, [0.2] * 8])\n"
        "assert audio.shape == (2, 256), audio.shape\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_models_lists_the_imported_model_by_its_card(onnx_import, tmp_path):
    zoo = onnx_import[0]
    status, out, err = run_app("models", "--models", zoo, home=tmp_path)
    assert status == 0, err
    assert any(line.startswith("drums8 ") and "yes (imported: 8-D onnx)" in line for line in out.splitlines()), out


def test_an_existing_name_needs_force(onnx_import, tmp_path):
    zoo, source, _, _, _ = onnx_import
    before = tree(zoo)
    status, out, err = run_app("import-model", "drums8", "--decoder", source, "--models", zoo, home=tmp_path)
    assert status == 1 and out == ""
    assert one_line(err) == f"app.py import-model: {zoo / 'drums8'}: already exists (pass --force to replace it)"
    assert tree(zoo) == before


def test_force_replaces_the_model_as_a_whole(tmp_path):
    zoo = tmp_path / "zoo"
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    onnx_decoder(first)
    onnx_decoder(second, weights=np.full((DIM, LENGTH), 0.05, np.float32))
    assert run_app("import-model", "m", "--decoder", first, "--models", zoo, home=tmp_path)[0] == 0
    status, _, err = run_app("import-model", "m", "--decoder", second, "--models", zoo, "--force", home=tmp_path)
    assert status == 0, err
    assert (zoo / "m" / "decoder.onnx").read_bytes() == second.read_bytes()
    assert [p.name for p in zoo.iterdir()] == ["m"]


def test_default_zoo_is_the_users_and_generate_finds_it_there(tmp_path):
    source = tmp_path / "d.onnx"
    onnx_decoder(source)
    shipped = listing(ROOT / "trained")
    status, out, err = run_app("import-model", "mine8", "--decoder", source, home=tmp_path / "data")
    assert status == 0, err
    user_zoo = tmp_path / "data" / "ml-sample-generator" / "models"
    assert (user_zoo / "mine8" / "card.json").is_file()
    status, out, err = run_app("generate", "mine8", "--at", "0,0", "-o", tmp_path / "m.wav", home=tmp_path / "data")
    assert status == 0, err
    assert listing(ROOT / "trained") == shipped


# ----------------------------------------------------------------------------- Keras


def test_keras_decoder_imports_and_generates_without_tensorflow(tmp_path):
    from models.engine import load_runtime

    source = tmp_path / "decoder.keras"
    keras_model = keras_decoder(source)
    before = source.read_bytes()
    zoo = tmp_path / "zoo"
    status, out, err = run_app("import-model", "kdrums", "--decoder", source, "--models", zoo, home=tmp_path)
    assert status == 0, err
    assert one_line(out).startswith(f"{zoo / 'kdrums'}  (imported 8-D keras decoder, {LENGTH} samples")
    assert source.read_bytes() == before
    vector = [0.3, -0.2, 1.0, 0.0, -1.5, 0.5, 0.25, 2.0]
    status, out, err = run_app(
        "generate", "kdrums", "--models", zoo, "--at", ",".join(map(str, vector)), "-o", tmp_path / "k.wav", home=tmp_path
    )
    assert status == 0, err
    samples = sf.read(tmp_path / "k.wav", dtype="float32")[0]
    model = load_runtime("kdrums", zoo)
    assert model.decode_path == "numpy" and model.card.validation["runs_on"] == "numpy"
    assert np.array_equal(samples, model.decode([vector])[0])
    np.testing.assert_allclose(samples, np.asarray(keras_model(np.asarray([vector], np.float32)))[0], atol=1e-4)


# ----------------------------------------------------------------------------- hostile imports


def refused(tmp_path, decoder, *extra, allow_missing=False):
    """Import ``decoder``; assert it is refused (exit 1) in one line with nothing written
    and the file unchanged; return the line."""
    small = not (allow_missing and not Path(decoder).exists()) and Path(decoder).stat().st_size < 2**20
    before = Path(decoder).read_bytes() if small else None
    zoo = tmp_path / "zoo"
    status, out, err = run_app("import-model", "bad", "--decoder", decoder, "--models", zoo, *extra, home=tmp_path / "home")
    assert status == 1, (out, err)
    assert out == ""
    assert tree(zoo) == {} and tree(tmp_path / "home") == {}
    if before is not None:
        assert Path(decoder).read_bytes() == before
    return one_line(err)


def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    source = tmp_path / "lambda.keras"
    keras_decoder(source, with_lambda=True)
    line = refused(tmp_path, source)
    reason = "has a Lambda layer (Python code); safe mode loads no code: rebuild it without Lambda layers"
    assert line == f"app.py import-model: {source}: {reason}"


def test_an_onnx_file_with_a_wrong_output_shape_is_refused(tmp_path):
    source = tmp_path / "cube.onnx"
    onnx_decoder(source, output_shape=(16, 16))
    line = refused(tmp_path, source)
    assert (
        line
        == f"app.py import-model: {source}: outputs shape (3, 16, 16) for 3 points; it must be (3, length), a row of audio a point"
    )


def test_an_onnx_file_that_outputs_nan_is_refused(tmp_path):
    source = tmp_path / "nan.onnx"
    onnx_decoder(source, weights=np.full((DIM, LENGTH), np.nan, np.float32))
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: decodes NaN or infinite samples (19 of 19 grid points)"


def test_a_silent_decoder_is_refused(tmp_path):
    source = tmp_path / "silent.onnx"
    onnx_decoder(source, weights=np.zeros((DIM, LENGTH), np.float32))
    assert refused(tmp_path, source) == f"app.py import-model: {source}: decodes silence at every one of 19 grid points (peak 0)"


def test_an_operator_outside_the_list_is_refused(tmp_path):
    source = tmp_path / "random.onnx"
    onnx_decoder(source, ops=("MatMul", "RandomNormalLike"))
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: uses operators outside the allowed list: RandomNormalLike"


def test_a_2_gb_file_is_refused_by_its_size(tmp_path):
    source = tmp_path / "huge.onnx"
    with open(source, "wb") as handle:  # sparse: 2 GB long, no block written
        handle.truncate(2 * 2**30)
    line = refused(tmp_path, source)
    assert line == f"app.py import-model: {source}: 2,048 MiB, larger than the 512 MiB a model file may be"


def test_a_file_of_another_format_is_refused(tmp_path):
    source = tmp_path / "decoder.pt"
    source.write_bytes(b"PK\x03\x04 a pickle inside")
    assert refused(tmp_path, source) == f"app.py import-model: {source}: not a .keras or .onnx file (the formats import-model reads)"


# ----------------------------------------------------------------------------- an encoder and data


def onnx_encoder(path, matrix):
    """An ONNX encoder audio (N, 256) -> audio @ matrix (N, 8)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["audio", "E"], ["z"])],
        "encoder",
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["N", LENGTH])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", DIM])],
        [numpy_helper.from_array(matrix, "E")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def test_encoder_codes_of_data_give_the_range_and_the_pad_axes(tmp_path):
    from drums import kick, snare
    from models.engine import load_runtime
    from models.trained_folder import read_codes
    from preprocessing.dataset import load_dataset

    kit = tmp_path / "kit"
    kit.mkdir()
    for seed in range(3):
        sf.write(kit / f"kick_{seed}.wav", kick(seed=seed, seconds=0.1), 44100)
        sf.write(kit / f"snare_{seed}.wav", snare(seed=seed, seconds=0.1), 44100)
    status, _, err = run_app("preprocess", kit, "-o", tmp_path / "data", "--length", LENGTH, "--jobs", 1, home=tmp_path)
    assert status == 0, err
    # axes 5 and 2 spread the codes most (their columns are scaled up)
    matrix = np.random.default_rng(1).normal(0, 0.05, (LENGTH, DIM)).astype(np.float32)
    matrix[:, 5] *= 40
    matrix[:, 2] *= 20
    onnx_decoder(tmp_path / "decoder.onnx")
    onnx_encoder(tmp_path / "encoder.onnx", matrix)
    zoo = tmp_path / "zoo"
    status, out, err = run_app(
        "import-model", "coded", "--decoder", tmp_path / "decoder.onnx", "--encoder", tmp_path / "encoder.onnx",
        "--data", tmp_path / "data", "--models", zoo, home=tmp_path,
    )  # fmt: skip
    assert status == 0, err
    assert "pad axes 5,2" in one_line(out)
    codes = np.asarray(load_dataset(tmp_path / "data").audio, np.float32) @ matrix
    model = load_runtime("coded", zoo)
    assert model.card.latent["range_from"] == "codes" and model.pad_axes == (5, 2)
    low, high = np.asarray(model.card.latent["low"]), np.asarray(model.card.latent["high"])
    assert (low < codes.min(axis=0)).all() and (codes.max(axis=0) < high).all()
    np.testing.assert_allclose(read_codes(zoo / "coded" / "codes.npz").points, codes[:, [5, 2]], atol=1e-5)
    assert model.has_encoder and model.codes is not None and len(model.codes) == 6
    np.testing.assert_allclose(model.encode(load_dataset(tmp_path / "data").audio), codes, atol=1e-5)
    x0, x1, y0, y1 = model.latent_range()
    assert (x0, x1, y0, y1) == (low[5], high[5], low[2], high[2])


def test_data_without_an_encoder_is_a_usage_error(tmp_path):
    onnx_decoder(tmp_path / "decoder.onnx")
    status, out, err = run_app(
        "import-model", "x", "--decoder", tmp_path / "decoder.onnx", "--data", tmp_path, "--models", tmp_path / "zoo", home=tmp_path
    )
    assert status == 2 and out == ""
    assert one_line(err) == "app.py import-model: --data needs --encoder (the codes of the data come from the encoder)"
    assert not (tmp_path / "zoo").exists()


def test_kit_of_an_imported_model_records_the_whole_vectors(onnx_import, tmp_path):
    import json

    zoo = onnx_import[0]
    vector = [0.5, -1.0, 0.25, 0.0, 2.0, -0.75, 1.5, -2.5]
    status, out, err = run_app(
        "kit", "drums8", "--models", zoo, "--at", ",".join(map(str, vector)), "--at", "1,-1", "-o", tmp_path / "Kit/", home=tmp_path
    )
    assert status == 0, err
    assert one_line(out).startswith(f"{tmp_path / 'Kit'}: kit folder 'Kit', 2 instruments, 2 samples")
    listing = json.loads((tmp_path / "Kit" / "kit.json").read_text())
    points = [instrument["point"] for instrument in listing["instruments"]]
    assert points == [vector, [1.0, -1.0, 0, 0, 0, 0, 0, 0]]
    assert all(instrument["model"] == "drums8" for instrument in listing["instruments"])
    assert len(list((tmp_path / "Kit").glob("*.wav"))) == 2


@pytest.mark.slow
def test_evaluate_ranks_an_imported_model_from_its_zoo(tmp_path):
    from drums import hat, kick, snare

    kit = tmp_path / "kit"
    kit.mkdir()
    for seed in range(4):
        for make in (kick, snare, hat):
            sf.write(kit / f"{make.__name__}_{seed}.wav", make(seed=seed, seconds=0.2), 44100)
    length = 4096
    status, _, err = run_app("preprocess", kit, "-o", tmp_path / "data", "--length", length, "--jobs", 1, home=tmp_path)
    assert status == 0, err
    decoder = tmp_path / "decoder.onnx"
    weights = np.random.default_rng(0).normal(0, 0.3, (DIM, length)).astype(np.float32)
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["z", "W"], ["h"]), helper.make_node("Tanh", ["h"], ["audio"])],
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", DIM])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["N", length])],
        [numpy_helper.from_array(weights, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, decoder)
    zoo = tmp_path / "zoo"
    assert run_app("import-model", "wide", "--decoder", decoder, "--models", zoo, home=tmp_path)[0] == 0
    report = tmp_path / "report"
    args = ("evaluate", "wide", "--data", tmp_path / "data", "--models", zoo, "-o", report, "--grid", 4)
    status, out, err = run_app(*args, home=tmp_path)
    assert status == 0, err
    assert any(line.startswith("| wide |") for line in out.splitlines()), out
    assert "wide" in (report / "report.md").read_text()


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (("--sample-rate", "5"), "--sample-rate: must be between 8000 and 192000 Hz (got 5)"),
        (("--latent-range", "3,1"), "--latent-range '3,1': LOW must be below HIGH, both finite"),
        (("--no-such-option",), None),
    ],
)
def test_bad_options_are_one_line_usage_errors(tmp_path, extra, line):
    source = tmp_path / "d.onnx"
    onnx_decoder(source)
    status, out, err = run_app("import-model", "x", "--decoder", source, "--models", tmp_path / "zoo", *extra, home=tmp_path)
    assert status == 2 and out == ""
    assert line is None or one_line(err) == f"app.py import-model: {line}"
    one_line(err)
    assert not (tmp_path / "zoo").exists()


@pytest.mark.parametrize("name", ["gan", "../up", ".hidden", "a b"])
def test_a_shipped_or_unsafe_name_is_refused(tmp_path, name):
    source = tmp_path / "d.onnx"
    onnx_decoder(source)
    status, out, err = run_app("import-model", name, "--decoder", source, "--models", tmp_path / "zoo", home=tmp_path)
    assert status == 2 and out == ""
    one_line(err)
    assert not (tmp_path / "zoo").exists()


def test_a_missing_or_non_onnx_file_is_refused(tmp_path):
    assert refused(tmp_path, tmp_path / "gone.onnx", allow_missing=True).endswith(f"{tmp_path / 'gone.onnx'}: missing")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf \xff\xff\xff")
    assert refused(tmp_path, junk).startswith(f"app.py import-model: {junk}: not an ONNX model (")
