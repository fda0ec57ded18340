"""``app.py import-model``, as a researcher uses it: a tiny Keras decoder and a tiny ONNX
decoder (8-D latents, built here, never downloaded) imported through the real command, then
heard through ``app.py generate``, listed, put in a kit and evaluated. Every process runs with
its own XDG_DATA_HOME, so no test writes the user's zoo. The refusals are in
test_import_model_refusals.py."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from import_fixtures import (
    DEADLINE_S,
    DIM,
    FORMATS,
    LENGTH,
    ROOT,
    decoder_of,
    keras_decoder,
    listing,
    one_line,
    onnx_decoder,
    onnx_encoder,
    played_through_alsa,
    run_app,
    spread_matrix,
    tiny_dataset,
    tree,
)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """This process's XDG_CACHE_HOME is the test's: onnxruntime writes a telemetry device id
    there when it is first imported (a test never writes the user's home)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


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


def test_play_sounds_a_pad_point_and_a_whole_vector_of_an_imported_model(onnx_import, tmp_path):
    """What the real PortAudio stream played, read back from ALSA's file plugin: the model's
    sound (the player fades the first and last milliseconds in and out)."""
    from models.engine import load_runtime

    zoo = onnx_import[0]
    model = load_runtime("drums8", zoo)
    vector = [0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.0, 0.6]
    for at, decoded in (
        ("-0.5,1.25", model.decode(model.full_vectors([(-0.5, 1.25)]))[0]),
        (",".join(map(str, vector)), model.decode([vector])[0]),
    ):
        status, out, err, played = played_through_alsa(tmp_path, "drums8", "--models", zoo, "--at", at)
        assert status == 0, err
        assert one_line(out).startswith(f"drums8 at ({', '.join(f'{float(v):g}' for v in at.split(','))}): played once")
        start = np.flatnonzero(played)[0]
        heard = played[start : start + len(decoded)]
        assert len(heard) == len(decoded) and np.array_equal(heard[64:-64], decoded[64:-64])


def test_play_refuses_a_family_and_a_vector_of_another_size_for_an_imported_model(onnx_import, tmp_path):
    zoo = onnx_import[0]
    for args, reason in (
        (("--at", "1,2,3"), "--at '1,2,3': drums8 takes X,Y (its pad) or 8 numbers (a full latent vector), not 3"),
        (("--at", "0,0", "--family", "kick"), "--family: drums8 has no family pads (an imported model; its families are not known)"),
    ):
        status, out, err, played = played_through_alsa(tmp_path, "drums8", "--models", zoo, *args)
        assert status == 2 and out == "" and one_line(err) == f"app.py play: {reason}"
        assert not played.any()


def test_generate_variations_of_a_whole_vector_vary_every_axis_and_their_sidecars_play_them_again(onnx_import, tmp_path):
    import json

    from models.engine import load_runtime
    from models.variation import decode_variation, variation_from_recall

    zoo = onnx_import[0]
    vector = [0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.0, 0.6]
    at = ",".join(map(str, vector))
    status, out, err = run_app(
        "generate", "drums8", "--models", zoo, "--at", at, "--variations", "3", "--seed", "7", "-o", tmp_path, home=tmp_path
    )
    assert status == 0, err
    lines = out.strip().splitlines()
    shown = ",".join(f"{v:g}" for v in vector)
    assert len(lines) == 3
    assert all(f"(drums8 at {shown}, variation {i} of seed 7: offset " in line for i, line in zip((1, 2, 3), lines))
    model = load_runtime("drums8", zoo)
    wavs = sorted(tmp_path.glob("drums8_*.wav"))
    assert len(wavs) == 3
    offsets = []
    for wav in wavs:
        recall = json.loads(wav.with_suffix(".json").read_text())
        assert recall["point"] == [vector[a] for a in model.pad_axes] and recall["settings"]["latent"] == vector
        variation = variation_from_recall(recall)
        offsets.append(variation.offset)
        again = decode_variation(model, tuple(recall["settings"]["latent"]), variation)
        assert np.array_equal(sf.read(wav, dtype="float32")[0], again)  # the sidecar plays the same bytes
    offsets = np.asarray(offsets)
    assert offsets.shape == (3, DIM) and np.all(np.abs(offsets).max(axis=0) > 0)  # every axis varied


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


@pytest.mark.slow
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


def test_encoder_codes_of_data_give_the_range_and_the_pad_axes(tmp_path):
    from models.engine import load_runtime
    from models.trained_folder import read_codes
    from preprocessing.dataset import load_dataset

    assert tiny_dataset(tmp_path, tmp_path) == tmp_path / "data"
    matrix = spread_matrix()  # axes 5 and 2 spread the codes most
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
    np.testing.assert_allclose(read_codes(zoo / "coded" / "codes.npz").full, codes, atol=1e-5)  # the whole codes, for other axes
    assert model.has_encoder and model.codes is not None and len(model.codes) == 6
    np.testing.assert_allclose(model.encode(load_dataset(tmp_path / "data").audio), codes, atol=1e-5)
    x0, x1, y0, y1 = model.latent_range()
    assert (x0, x1, y0, y1) == (low[5], high[5], low[2], high[2])
    # a sound of the data encodes to its code, printed as generate --at takes it
    sound = sorted((tmp_path / "data").glob("*.wav"))[0]
    status, out, err = run_app("encode", "coded", sound, "--models", zoo, "-o", tmp_path / "recon.wav", home=tmp_path)
    assert status == 0, err
    printed = [float(v) for v in out.splitlines()[0].split(",")]
    expected = model.encode(sf.read(sound, dtype="float32")[0])[0]
    assert len(printed) == DIM and np.allclose(printed, expected, rtol=1e-5, atol=1e-5)
    assert np.array_equal(sf.read(tmp_path / "recon.wav", dtype="float32")[0], model.decode([expected])[0])
    assert model.card.preprocessing["length"] == LENGTH
    # data at another rate than the decoder's is refused, the model as it was
    before = tree(zoo)
    status, out, err = run_app(
        "import-model", "coded", "--decoder", tmp_path / "decoder.onnx", "--encoder", tmp_path / "encoder.onnx",
        "--data", tmp_path / "data", "--models", zoo, "--sample-rate", 44100, "--force", home=tmp_path,
    )  # fmt: skip
    assert status == 1 and out == ""
    assert one_line(err).endswith(
        "its sounds are at 22050 Hz, the decoder's at 44100 (give --sample-rate 22050 if that is the decoder's rate)"
    )
    assert tree(zoo) == before


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
@pytest.mark.parametrize("kind", FORMATS)
def test_evaluate_ranks_an_imported_model_from_its_zoo(kind, tmp_path):
    from drums import hat, kick, snare

    kit = tmp_path / "kit"
    kit.mkdir()
    for seed in range(4):
        for make in (kick, snare, hat):
            sf.write(kit / f"{make.__name__}_{seed}.wav", make(seed=seed, seconds=0.2), 44100)
    length = 4096
    status, _, err = run_app("preprocess", kit, "-o", tmp_path / "data", "--length", length, "--jobs", 1, home=tmp_path)
    assert status == 0, err
    decoder = tmp_path / f"decoder.{kind}"
    decoder_of(kind, decoder, length=length)
    zoo = tmp_path / "zoo"
    assert run_app("import-model", "wide", "--decoder", decoder, "--models", zoo, home=tmp_path)[0] == 0
    report = tmp_path / "report"
    args = ("evaluate", "wide", "--data", tmp_path / "data", "--models", zoo, "-o", report, "--grid", 4)
    status, out, err = run_app(*args, home=tmp_path)
    assert status == 0, err
    assert any(line.startswith("| wide |") for line in out.splitlines()), out
    assert "wide" in (report / "report.md").read_text()


def test_a_decoder_changed_after_import_is_unavailable_in_one_line(tmp_path):
    source, zoo = tmp_path / "d.onnx", tmp_path / "zoo"
    onnx_decoder(source)
    assert run_app("import-model", "m", "--decoder", source, "--models", zoo, home=tmp_path)[0] == 0
    onnx_decoder(zoo / "m" / "decoder.onnx", weights=np.full((DIM, LENGTH), 0.1, np.float32))  # swapped behind its card
    status, out, err = run_app("generate", "m", "--models", zoo, "--at", "0,0", "-o", tmp_path / "x.wav", home=tmp_path)
    assert status == 1 and out == ""
    decoder = zoo / "m" / "decoder.onnx"
    assert one_line(err) == (
        f"app.py generate: m is unavailable: {decoder}: changed since it was imported (its sha256 is not the card's); import it again"
    )
    assert not (tmp_path / "x.wav").exists()


def test_a_keras_decoder_the_numpy_engine_cannot_run_plays_on_keras(tmp_path):
    from models.engine import load_runtime

    source, zoo = tmp_path / "norm.keras", tmp_path / "zoo"
    keras_model = keras_decoder(source, normalized=True)
    status, _, err = run_app("import-model", "normed", "--decoder", source, "--models", zoo, home=tmp_path)
    assert status == 0, err
    model = load_runtime("normed", zoo)
    assert model.card.validation["runs_on"] == "keras" and model.decode_path == "keras"
    vector = [0.1, 0.2, -0.3, 0.4, -0.5, 0.6, -0.7, 0.8]
    status, _, err = run_app(
        "generate", "normed", "--models", zoo, "--at", ",".join(map(str, vector)), "-o", tmp_path / "n.wav", home=tmp_path
    )
    assert status == 0, err
    expected = np.asarray(keras_model(np.asarray([vector], np.float32)))[0]
    np.testing.assert_allclose(sf.read(tmp_path / "n.wav", dtype="float32")[0], expected, atol=1e-6)


def test_a_given_latent_range_is_the_pad_and_the_card(tmp_path):
    from models.engine import load_runtime

    source, zoo = tmp_path / "d.onnx", tmp_path / "zoo"
    onnx_decoder(source)
    status, _, err = run_app("import-model", "r", "--decoder", source, "--models", zoo, "--latent-range", "-2,1.5", home=tmp_path)
    assert status == 0, err
    model = load_runtime("r", zoo)
    assert model.card.latent["range_from"] == "given" and model.card.latent["low"] == [-2.0] * DIM
    assert model.latent_range() == (-2.0, 1.5, -2.0, 1.5) and model.center == (-0.25, -0.25)
