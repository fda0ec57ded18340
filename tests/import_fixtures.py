"""The import-model tests' helpers: the command run as a user runs it (with its own
XDG_DATA_HOME and cache), and tiny decoders and encoders built here (8-D latents; never a
download)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DIM, LENGTH = 8, 256
#: Every command gets this long; a hung one fails the test instead of the suite.
DEADLINE_S = 300


def run_app(*args, home, cwd=ROOT):
    """Run ``python app.py ARGS`` in ``cwd`` with ``home`` as its XDG_DATA_HOME (and its
    cache beside); (status, stdout, stderr)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(home),
        "XDG_CACHE_HOME": str(Path(home) / "cache"),
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=DEADLINE_S
    )
    return done.returncode, done.stdout, done.stderr


def played_through_alsa(tmp_path, *args):
    """Run ``app.py play ARGS`` with ALSA's default device writing what PortAudio plays to a
    file (the file plugin over the null device); (status, stdout, stderr, the left channel)."""
    raw, conf = tmp_path / "played.raw", tmp_path / "asound.conf"
    conf.write_text(
        f'pcm.!default {{ type file slave.pcm "null" file "{raw}" format "raw" }}\npcm.null {{ type null }}\n'
        "ctl.!default { type hw card 0 }\n"
    )
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf), "XDG_DATA_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "play", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=DEADLINE_S,
    )
    frames = np.frombuffer(raw.read_bytes(), "<f4").reshape(-1, 2) if raw.exists() else np.zeros((0, 2), np.float32)
    return done.returncode, done.stdout, done.stderr, frames[:, 0]


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


def onnx_decoder(path, *, weights=None, output_shape=None, ops=("MatMul", "Tanh"), length=LENGTH, external_data=False):
    """An ONNX decoder z (N, 8) -> tanh(z @ W) (N, length), built with onnx.helper; with
    ``output_shape`` (a tuple of ints) its output is reshaped to (N, *output_shape); with
    ``external_data`` its weights in a file of their own beside it (``NAME.data``), as
    PyTorch's exporter writes them by default."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(0).normal(0, 0.3, (DIM, length)).astype(np.float32) if weights is None else weights
    nodes = [helper.make_node(ops[0], ["z", "W"], ["h"]), helper.make_node(ops[1], ["h"], ["a"])]
    initializers = [numpy_helper.from_array(weights, "W")]
    out_dims = ["N", length]
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
    if external_data:
        onnx.save(model, path, save_as_external_data=True, location=f"{Path(path).name}.data", size_threshold=0)
    else:
        onnx.save(model, path)
    return weights


def keras_decoder(path, *, with_lambda=False, normalized=False, length=LENGTH):
    """A Keras 3 decoder z (N, 8) -> Dense 32 tanh -> Dense ``length`` tanh; with ``with_lambda``,
    a Lambda layer after it (Python code, which safe mode refuses); with ``normalized``, a
    LayerNormalization between the two (a layer the NumPy engine does not run)."""
    import keras

    keras.utils.set_random_seed(0)
    z = keras.Input((DIM,))
    hidden = keras.layers.Dense(32, activation="tanh")(z)
    if normalized:
        hidden = keras.layers.LayerNormalization()(hidden)
    audio = keras.layers.Dense(length, activation="tanh")(hidden)
    if with_lambda:
        audio = keras.layers.Lambda(lambda x: x * 0.5)(audio)
    model = keras.Model(z, audio)
    model.save(path)
    return model


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


def keras_encoder(path, matrix):
    """A Keras 3 encoder audio (N, 256) -> audio @ matrix (N, 8): one Dense layer, no bias."""
    import keras

    audio = keras.Input((LENGTH,))
    dense = keras.layers.Dense(DIM, use_bias=False)
    model = keras.Model(audio, dense(audio))
    dense.set_weights([np.asarray(matrix, np.float32)])
    model.save(path)


def spread_matrix(seed=1):
    """An encoder's matrix (256, 8) whose codes spread most on axes 5, then 2 (their columns scaled up)."""
    matrix = np.random.default_rng(seed).normal(0, 0.05, (LENGTH, DIM)).astype(np.float32)
    matrix[:, 5] *= 40
    matrix[:, 2] *= 20
    return matrix


def tiny_dataset(folder, home):
    """A preprocessed dataset of three kicks and three snares of LENGTH samples, made by
    ``app.py preprocess`` under ``folder``: its folder."""
    import soundfile as sf

    from drums import kick, snare

    kit = Path(folder) / "kit"
    kit.mkdir(parents=True)
    for seed in range(3):
        sf.write(kit / f"kick_{seed}.wav", kick(seed=seed, seconds=0.1), 44100)
        sf.write(kit / f"snare_{seed}.wav", snare(seed=seed, seconds=0.1), 44100)
    status, _, err = run_app("preprocess", kit, "-o", Path(folder) / "data", "--length", LENGTH, "--jobs", 1, home=home)
    assert status == 0, err
    return Path(folder) / "data"


@pytest.fixture(scope="module", autouse=True)
def module_cache(tmp_path_factory):
    """XDG_CACHE_HOME is a module's own while it runs (import it into a test module that
    imports onnxruntime in its own process: onnxruntime writes a telemetry device id there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


#: The two formats every surface is tested on (issue 35: a tiny decoder of each).
FORMATS = ("onnx", "keras")


def decoder_of(kind, path, **options):
    """The tiny decoder of ``kind`` ("onnx" or "keras") written to ``path``: the ONNX one's
    weights W, or the Keras model."""
    return (onnx_decoder if kind == "onnx" else keras_decoder)(path, **options)


def imported_zoo(folder, kind="onnx", name="drums8"):
    """A zoo under ``folder`` with the tiny decoder of ``kind`` ("onnx" or "keras") imported
    as ``name`` (in this process, by the import's own checks and write): (zoo, what
    :func:`decoder_of` returned)."""
    from models.importing import prepare_import, write_import

    source = Path(folder) / f"decoder.{kind}"
    made = decoder_of(kind, source)
    card, files, codes = prepare_import(name, source)
    zoo = Path(folder) / "zoo"
    write_import(zoo, card, files, codes, force=False)
    return zoo, made


def imported_onnx_zoo(folder, name="drums8"):
    """A zoo under ``folder`` with the tiny ONNX decoder imported as ``name``: (zoo, W)."""
    return imported_zoo(folder, "onnx", name)


def refused(tmp_path, decoder, *extra, allow_missing=False, cwd=ROOT):
    """Import ``decoder`` (from ``cwd``); assert it is refused (exit 1) in one line with
    nothing written and the file unchanged; return the line."""
    small = not (allow_missing and not Path(decoder).exists()) and Path(decoder).stat().st_size < 2**20
    before = Path(decoder).read_bytes() if small else None
    zoo = tmp_path / "zoo"
    status, out, err = run_app("import-model", "bad", "--decoder", decoder, "--models", zoo, *extra, home=tmp_path / "home", cwd=cwd)
    assert status == 1, (out, err)
    assert out == ""
    # the user's zoo is not made; the cache is left out: onnxruntime (1.29 on) writes a
    # telemetry device id under XDG_CACHE_HOME/Microsoft/DeveloperTools when it is imported
    assert tree(zoo) == {} and [path for path in tree(tmp_path / "home") if path.parts[0] != "cache"] == []
    if before is not None:
        assert Path(decoder).read_bytes() == before
    return one_line(err)
