"""An imported model with an 8-D latent served by the API: a tiny ONNX decoder built and
imported here (tests/import_fixtures.py), listed with its latent, and heard at a whole vector
(``z=``) as the model's own decode of it; each bad vector refused in one line. The 2-D models'
URLs are as they were (tests/test_web_api.py)."""

import io

import numpy as np
import pytest
import soundfile
from import_fixtures import DIM, ROOT, imported_onnx_zoo, module_cache  # noqa: F401 (module_cache: autouse)
from starlette.testclient import TestClient

from web.catalogue import load_catalogue
from web.decoding import ThreadDecoding
from web.server import create_app


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return imported_onnx_zoo(tmp_path_factory.mktemp("imported"))


@pytest.fixture(scope="module")
def client(zoo):
    folder, _ = zoo
    app = create_app(load_catalogue(folder), decoding=ThreadDecoding(1), folder=folder)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def listed(client):
    return {m["name"]: m for m in client.get("/api/models").json()["models"]}["drums8"]


def z_query(vector):
    return "z=" + ",".join(f"{v:.4f}" for v in vector)


def assert_refused(response):
    assert response.status_code == 400, response.text
    reason = response.json()["error"]
    assert reason and "\n" not in reason and "Traceback" not in reason
    return reason


def test_imported_model_is_listed_with_its_latent_and_versioned_urls(listed):
    latent = listed["latent"]
    assert latent["dim"] == DIM and latent["pad_axes"] == [0, 1]
    assert len(latent["low"]) == len(latent["high"]) == len(latent["center"]) == len(latent["bounds"]) == DIM
    assert all(lo < c < hi for lo, c, hi in zip(latent["low"], latent["center"], latent["high"]))
    assert listed["sound_url"] == f"/api/models/drums8/v/{listed['version']}/sound.wav"
    assert listed["kind"] == "imported" and listed["encode_url"] is None


def test_a_whole_vector_is_the_models_own_decode_of_it(client, listed, zoo):
    _, weights = zoo
    vector = np.linspace(-0.9, 0.8, DIM)
    response = client.get(f"{listed['sound_url']}?{z_query(vector)}&rate=22050&bits=24")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].endswith("immutable")
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 22050
    expected = np.tanh(np.round(vector, 4).astype(np.float32) @ weights)
    np.testing.assert_allclose(audio, expected, atol=2e-6)
    assert "drums8_z-0.90_" in response.headers["content-disposition"]


def test_every_axis_is_in_the_sound_its_bytes_and_its_etag(client, listed):
    vector = np.zeros(DIM)
    first = client.get(f"{listed['sound_url']}?{z_query(vector)}")
    again = client.get(f"{listed['sound_url']}?{z_query(vector)}")
    vector[5] = 0.5  # an axis the pad does not show
    other = client.get(f"{listed['sound_url']}?{z_query(vector)}")
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    assert other.content != first.content and other.headers["etag"] != first.headers["etag"]
    revalidated = client.get(f"{listed['sound_url']}?{z_query(vector)}", headers={"If-None-Match": other.headers["etag"]})
    assert revalidated.status_code == 304


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("z=0,0,0", "z has 3 numbers; drums8's latent has 8, one for each axis"),
        ("z=0,0,0,0,0,0,0,0,0", "z has 9 numbers; drums8's latent has 8, one for each axis"),
        ("z=0,0,nan,0,0,0,0,0", "z: axis 2 must be a finite number"),
        ("z=0,0,0,-inf,0,0,0,0", "z: axis 3 must be a finite number"),
        ("z=0,0,0,0,abc,0,0,0", "z: axis 4 must be a number, not 'abc'"),
        ("z=0,0,0,0,0,0,0,99", "z: axis 7 is 99; it must lie within"),
        ("z=", "z is missing: give the 8 numbers of drums8's latent"),
        ("x=0&y=0", "x: drums8's latent has 8 axes; give z= with its 8 numbers, not x and y"),
        ("z=0,0,0,0,0,0,0,0&x=0", "x: drums8's latent has 8 axes; give z= with its 8 numbers, not x and y"),
        ("z=0,0,0,0,0,0,0,0&z=1,0,0,0,0,0,0,0", "z is given more than once"),
        ("z=0,0,0,0,0,0,0,0&q=1", "unknown parameter 'q'; use z, variation, rate"),
    ],
)
def test_a_bad_vector_is_refused_in_one_line(client, listed, query, said):
    assert assert_refused(client.get(f"{listed['sound_url']}?{query}")).startswith(said)


def test_a_wide_models_pad_point_is_out_of_range_by_its_pad_axes(client, listed):
    low, high = listed["latent"]["bounds"][0]
    vector = [high + 1.0] + [0.0] * (DIM - 1)
    assert "z: axis 0 is" in assert_refused(client.get(f"{listed['sound_url']}?{z_query(vector)}"))
    assert low < 0 < high


def test_a_2d_model_still_takes_x_and_y_and_no_z():
    from tests.web_fakes import FakeModel
    from web.catalogue import Catalogue, serve_model

    catalogue = Catalogue.of([serve_model(FakeModel("ae_small_tanh"))])
    with TestClient(create_app(catalogue, decoding=ThreadDecoding(1)), raise_server_exceptions=False) as client:
        listed = client.get("/api/models").json()["models"][0]
        assert "latent" not in listed
        refused = client.get("/api/models/ae_small_tanh/sound.wav?z=0,0")
        assert assert_refused(refused) == "unknown parameter 'z'; use x, y, variation, rate, bits, level, family, mix, seconds"
        assert client.get("/api/models/ae_small_tanh/sound.wav?x=0.1&y=0.2").status_code == 200


def test_serving_an_imported_onnx_model_loads_no_tensorflow(zoo, tmp_path):
    import os
    import subprocess
    import sys

    folder, _ = zoo
    code = (
        "import sys\n"
        "from web.catalogue import load_catalogue\n"
        "from web.server import create_app\n"
        "import commands.serve\n"
        "catalogue = load_catalogue(sys.argv[1])\n"
        "create_app(catalogue)\n"
        "print(list(catalogue.models), sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'onnxruntime'}))\n"
    )
    root = ROOT
    env = {"PYTHONPATH": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=root, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['drums8'] ['onnxruntime']"


def test_the_query_limit_leaves_room_for_the_widest_vector(client, listed):
    from web.requests import MAX_QUERY_BYTES, QUERY_BYTES_PER_AXIS

    most = MAX_QUERY_BYTES + QUERY_BYTES_PER_AXIS * (DIM - 2)
    widest = "z=" + ",".join(["-1.2345"] * DIM) + "&rate=44100&level=normalised&bits=24"
    assert len(widest) < MAX_QUERY_BYTES  # 8 axes fit the 2-D models' limit; a 64-D vector would not
    assert client.get(f"{listed['sound_url']}?{widest}").status_code == 200
    too_long = f"{listed['sound_url']}?z=" + "0" * most
    response = client.get(too_long)
    assert response.status_code == 414 and response.json()["error"] == f"the query string is longer than {most} bytes"


def test_a_sample_posted_to_a_wide_model_without_an_encoder_is_refused_in_one_line(client, listed):
    base = listed["sound_url"].rsplit("/", 1)[0]
    response = client.post(f"{base}/encode", content=b"RIFF....WAVE")
    assert assert_refused(response) == (
        "drums8 has no encoder (it was imported without --encoder): a sample has no place on its map; pick another model"
    )


def test_a_sample_dropped_on_a_wide_model_is_placed_at_its_whole_code(tmp_path):
    """An imported model with an encoder and training codes: the answer is the sample's whole
    code, its pad point on the model's pad axes, the sound of that code, and the nearest
    training sounds by whole codes."""
    import soundfile as sf
    from import_fixtures import onnx_decoder, onnx_encoder, run_app, spread_matrix, tiny_dataset

    from drums import snare
    from preprocessing.dataset import load_dataset
    from preprocessing.reader import prepare_file
    from preprocessing.settings import settings_of_model

    data = tiny_dataset(tmp_path, tmp_path)
    matrix = spread_matrix()
    onnx_decoder(tmp_path / "decoder.onnx")
    onnx_encoder(tmp_path / "encoder.onnx", matrix)
    zoo = tmp_path / "zoo"
    status, _, err = run_app(
        "import-model", "coded", "--decoder", tmp_path / "decoder.onnx", "--encoder", tmp_path / "encoder.onnx",
        "--data", data, "--models", zoo, home=tmp_path,
    )  # fmt: skip
    assert status == 0, err
    sample = tmp_path / "my snare.wav"
    sf.write(sample, snare(seed=9, seconds=0.1), 44100)
    app = create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo)
    with TestClient(app, raise_server_exceptions=False) as client:
        model = {m["name"]: m for m in client.get("/api/models").json()["models"]}["coded"]
        base = model["sound_url"].rsplit("/", 1)[0]
        answer = client.post(f"{base}/encode", content=sample.read_bytes())
        assert answer.status_code == 200, answer.text
        placed = answer.json()
        from models.engine import load_runtime

        coded = load_runtime("coded", zoo)
        code = coded.encode(prepare_file(sample, settings_of_model(coded))[None, :])[0]
        assert placed["vector"] == pytest.approx(code.tolist(), abs=1e-5)
        assert placed["point"] == pytest.approx([code[5], code[2]], abs=1e-5)  # its pad axes are 5 and 2
        assert placed["inside"] and placed["shown_vector"] == pytest.approx(code.tolist(), abs=1e-5)
        assert placed["sound_url"] == f"{model['sound_url']}?z={','.join(f'{v:.4f}' for v in placed['shown_vector'])}"
        heard = client.get(placed["sound_url"])
        assert heard.status_code == 200
        samples, _ = soundfile.read(io.BytesIO(heard.content), dtype="float32")
        assert samples.shape[0] > 0
        # the nearest training sounds by whole code: a snare first
        codes = np.asarray(load_dataset(data).audio, np.float32) @ matrix
        names = list(load_dataset(data).names)
        nearest = [names[i] for i in np.argsort(np.linalg.norm(codes - code, axis=1), kind="stable")[: len(placed["nearest"])]]
        assert len(nearest) >= 3 and [n["name"] for n in placed["nearest"]] == nearest and placed["nearest"][0]["family"] == "snare"


def test_a_wide_models_codes_carry_their_whole_vectors_for_the_pads_other_axes():
    from models.trained_folder import LatentCodes
    from web.answers import compact_codes

    full = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    names = np.array(["a", "b", "c"])
    codes = LatentCodes(full[:, :2], np.array(["kick", "snare", "kick"]), names, names, np.zeros(3, bool), full=full)
    wide = compact_codes(codes, 4)
    assert wide["dim"] == 4 and wide["full"] == [round(float(v), 4) for v in full.reshape(-1)]
    assert wide["points"] == [round(float(v), 4) for v in full[:, :2].reshape(-1)] and wide["family"] == [0, 1, 0]
    assert "full" not in compact_codes(codes)  # a 2-D model's codes are its points alone
    plain = LatentCodes(full[:, :2], codes.families, names, names, codes.is_validation)
    assert "full" not in compact_codes(plain, 4)
