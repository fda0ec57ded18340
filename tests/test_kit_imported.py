"""A kit of an imported model with an 8-D latent (the tiny ONNX decoder and the tiny Keras
one of tests/import_fixtures.py, each imported here: every test runs on both): made by ``app.py kit NAME --models DIR --at <8
numbers>`` and by the page's ``POST /api/kit`` with each sound's whole vector (``z``), each
recorded whole in kit.json, named readably, and accepted by the real Hydrogen
(``h2cli --check``). A 2-D model's sound still may not give ``z`` (tests/test_web_kit.py)."""

import io
import json
import tarfile
import zipfile

import hydrogen
import numpy as np
import pytest
from import_fixtures import DIM, FORMATS, imported_zoo, module_cache, one_line, run_app  # noqa: F401 (module_cache: autouse)
from starlette.testclient import TestClient

from audio.export import vector_tag
from web.catalogue import load_catalogue
from web.decoding import ThreadDecoding
from web.server import create_app

VECTOR = [0.5, -1.0, 0.25, 0.0, 2.0, -0.75, 1.5, -2.5]
OTHER = [-1.25, 0.75, 0.0, 1.0, -2.0, 0.5, 0.0, 1.25]


@pytest.fixture(scope="module", params=FORMATS)
def zoo(request, tmp_path_factory):
    return imported_zoo(tmp_path_factory.mktemp("imported"), request.param)[0]


@pytest.fixture(scope="module")
def client(zoo):
    app = create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def listed(client):
    return {m["name"]: m for m in client.get("/api/models").json()["models"]}["drums8"]


def z_text(vector):
    return ",".join(f"{v:.4f}" for v in vector)


def wide_sounds(listed):
    """One sound by its vector as the page sends it (the sound URL's text), one as a list of numbers."""
    return [
        {"model": "drums8", "version": listed["version"], "z": z_text(VECTOR), "rate": 44100},
        {"model": "drums8", "version": listed["version"], "z": OTHER, "level": "normalised"},
    ]


def sound_bytes(client, listed, entry):
    params = {k: (z_text(v) if k == "z" and isinstance(v, list) else v) for k, v in entry.items() if k not in ("model", "version")}
    answer = client.get(listed["sound_url"], params=params)
    assert answer.status_code == 200, answer.text
    return answer.content


def h2cli_accepts(home, path):
    if hydrogen.H2CLI is None:
        pytest.skip("h2cli (Debian package hydrogen) is not installed")
    checked = hydrogen.h2cli(home, "--check", path)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "is valid" in checked.stdout + checked.stderr, checked.stdout[-2000:]


def test_the_cli_kit_of_an_8d_model_records_each_vector_and_hydrogen_accepts_it(zoo, tmp_path):
    at = ["--at", ",".join(map(str, VECTOR)), "--at", ",".join(map(str, OTHER))]
    status, out, err = run_app("kit", "drums8", "--models", zoo, *at, "-o", tmp_path / "Wide Kit/", home=tmp_path / "home")
    assert status == 0, err
    assert one_line(out).startswith(f"{tmp_path / 'Wide Kit'}: kit folder 'Wide Kit', 2 instruments, 2 samples")
    record = json.loads((tmp_path / "Wide Kit" / "kit.json").read_text())
    assert [instrument["point"] for instrument in record["instruments"]] == [VECTOR, OTHER]
    files = [instrument["layers"][0]["file"] for instrument in record["instruments"]]
    assert files[0].endswith(f"_drums8_x+0.50_y-1.00_{vector_tag(VECTOR)}.wav"), files
    assert files[1].endswith(f"_drums8_x-1.25_y+0.75_{vector_tag(OTHER)}.wav"), files
    assert all((tmp_path / "Wide Kit" / name).is_file() for name in files)
    h2cli_accepts(tmp_path / "h2home", tmp_path / "Wide Kit")


def test_a_page_kit_of_an_8d_model_holds_each_vectors_sound_as_its_url_answers_it(client, listed):
    sounds = wide_sounds(listed)
    answer = client.post("/api/kit", json={"name": "Wide", "format": "zip", "sounds": sounds})
    assert answer.status_code == 200, answer.text
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    wavs = sorted(n for n in archive.namelist() if n.endswith(".wav"))
    assert wavs == [
        f"Wide/01_sound_drums8_x+0.50_y-1.00_{vector_tag(VECTOR)}.wav",
        f"Wide/02_sound_drums8_x-1.25_y+0.75_{vector_tag(OTHER)}.wav",
    ]
    for name, entry in zip(wavs, sounds):
        assert archive.read(name) == sound_bytes(client, listed, entry)
    record = json.loads(archive.read("Wide/kit.json"))
    first, second = record["instruments"]
    assert first["point"] == VECTOR and second["point"] == OTHER
    assert first["name"] == f"sound drums8 (0.50, -1.00) {vector_tag(VECTOR)}"
    recall = first["layers"][0]["recall"]
    assert recall["point"] == VECTOR and f"z={z_text(VECTOR).replace(',', '%2C')}" in recall["sound_url"]
    # the recorded URL answers the same bytes again
    assert client.get(recall["sound_url"]).content == archive.read(wavs[0])
    assert second["layers"][0]["recall"]["level"] == "normalised"


def test_a_page_h2drumkit_of_an_8d_model_is_accepted_by_hydrogen(client, listed, tmp_path):
    answer = client.post("/api/kit", json={"name": "Wide Web", "format": "h2drumkit", "sounds": wide_sounds(listed)})
    assert answer.status_code == 200, answer.text
    path = tmp_path / "Wide Web.h2drumkit"
    path.write_bytes(answer.content)
    with tarfile.open(path) as archive:
        assert len([n for n in archive.getnames() if n.endswith(".wav")]) == 2
        assert "Wide Web/drumkit.xml" in archive.getnames()
    h2cli_accepts(tmp_path / "home", path)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"z": None, "x": 0, "y": 0}, "sound 1: x: drums8's latent has 8 axes; give z= with its 8 numbers, not x and y"),
        ({"z": VECTOR[:3]}, "sound 1: z has 3 numbers; drums8's latent has 8, one for each axis"),
        ({"z": [99.0, *VECTOR[1:]]}, "sound 1: z: axis 0 is 99; it must lie within"),
        ({"z": [True, *VECTOR[1:]]}, "sound 1: z must be a list of numbers or their text"),
        ({"z": "nan," + z_text(VECTOR[1:])}, "sound 1: z: axis 0 must be a finite number"),
        ({"z": None}, "sound 1: z is missing: give the 8 numbers of drums8's latent"),
    ],
)
def test_a_bad_vector_in_a_kit_is_refused_in_one_line(client, listed, change, reason):
    entry = {"model": "drums8", "version": listed["version"], "z": z_text(VECTOR), **change}
    answer = client.post("/api/kit", json={"sounds": [{k: v for k, v in entry.items() if v is not None}]})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error.startswith(reason), error
    assert "\n" not in error


def test_the_vector_is_rounded_as_the_sound_url_rounds_it(client, listed):
    vector = list(np.linspace(-0.9, 0.8, DIM) + 1e-6)
    entry = {"model": "drums8", "version": listed["version"], "z": vector}
    answer = client.post("/api/kit", json={"sounds": [entry]})
    assert answer.status_code == 200, answer.text
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    record = json.loads(archive.read("Page Kit/kit.json"))
    assert record["instruments"][0]["point"] == [round(v, 4) + 0.0 for v in vector]
