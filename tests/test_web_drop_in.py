"""The page's drop-in API: a user's own sample posted to ``POST /api/models/{name}/encode``
finds its place (its point, its likeliest family, its nearest training sounds, the sound of
its point); a bad file gets its reason in one line; nothing is kept. Against the shipped
models, through the app and through the real ``app.py serve`` with its decoding processes."""

import io
import json
import socket
import urllib.request

import numpy as np
import pytest
import soundfile
from starlette.testclient import TestClient

from drums import snare
from tests.web_server import parse_answer, serving, zoo_of
from web.catalogue import load_catalogue
from web.decoding import ThreadDecoding
from web.requests import MAX_UPLOAD_BYTES
from web.server import create_app


def wav_bytes(audio, rate=44100, channels=1):
    buffer = io.BytesIO()
    data = np.repeat(np.asarray(audio, np.float32)[:, None], channels, axis=1) if channels > 1 else audio
    soundfile.write(buffer, data, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ddsp_vae", "gan")


@pytest.fixture(scope="module")
def client(zoo):
    with TestClient(
        create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo), raise_server_exceptions=False
    ) as test_client:
        yield test_client


def listed(client, name):
    return next(m for m in client.get("/api/models").json()["models"] if m["name"] == name)


def test_a_dropped_snare_finds_its_point_family_neighbours_and_sound(client, zoo):
    from models.engine import load_runtime
    from preprocessing.reader import prepare_bytes
    from preprocessing.settings import settings_of_model

    model = listed(client, "ddsp_vae")
    data = wav_bytes(snare(seed=4, seconds=0.4))
    answer = client.post(model["encode_url"], content=data, headers={"Content-Type": "audio/wav"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    placed = answer.json()
    runtime = load_runtime("ddsp_vae", zoo)
    expected = runtime.encode(prepare_bytes(data, settings_of_model(runtime))[None, :])[0]
    assert np.allclose(placed["point"], expected, atol=1e-5)  # what `app.py encode` gives, from one code path
    assert placed["family"] in model["families"]
    assert len(placed["nearest"]) == 5 and all(n["name"] and n["family"] for n in placed["nearest"])
    assert [n["distance"] for n in placed["nearest"]] == sorted(n["distance"] for n in placed["nearest"])
    sound = client.get(placed["sound_url"])
    assert sound.status_code == 200 and sound.content[:4] == b"RIFF"


@pytest.mark.parametrize(
    "make, status, reason",
    [
        (lambda: b"", 400, "no file: post the sample's bytes as the request body"),
        (lambda: b"RIFF1234 not a wave at all", 422, "this file cannot be encoded: not an audio file"),
        (lambda: wav_bytes(np.zeros(22050)), 422, "this file cannot be encoded: silent"),
        (lambda: wav_bytes(snare(seed=1, seconds=0.2))[:200], 422, "this file cannot be encoded: truncated"),
        (lambda: wav_bytes(np.tile(snare(seed=2, seconds=0.5), 80), rate=44100), 422, "this file cannot be encoded: too long"),
    ],
)
def test_a_file_that_cannot_be_a_sample_is_refused_in_one_line(client, make, status, reason):
    answer = client.post(listed(client, "ddsp_vae")["encode_url"], content=make())
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error.startswith(reason) and "\n" not in error


def test_the_gan_an_unknown_model_and_a_get_are_refused(client):
    assert listed(client, "gan")["encode_url"] is None
    answer = client.post("/api/models/gan/encode", content=wav_bytes(snare(seed=1, seconds=0.2)))
    assert answer.status_code == 400 and answer.json()["error"].startswith("gan has no encoder")
    assert client.post("/api/models/nope/encode", content=b"x").status_code == 404
    assert client.get("/api/models/ddsp_vae/encode").status_code == 405


def test_a_file_over_the_limit_is_refused_before_it_is_read(zoo, tmp_path):
    """The real server: a Content-Length over the limit is a 413 at once; chunked bodies are
    counted as they arrive."""
    with serving(["--models", str(zoo)], tmp_path) as server:
        model = next(m for m in server.models()["models"] if m["name"] == "ddsp_vae")
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(
                f"POST {model['encode_url']} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_UPLOAD_BYTES + 1}\r\n\r\n".encode()
            )
            data = b""
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(parse_answer(data)[1].get("content-length", 0)):
                chunk = connection.recv(65536)
                assert chunk, data
                data += chunk
            status, _, body = parse_answer(data)
        assert status == 413 and json.loads(body)["error"] == f"the request body is larger than {MAX_UPLOAD_BYTES} bytes"
        # and a real drop through the decoding processes
        data = wav_bytes(snare(seed=5, seconds=0.3), rate=48000, channels=2)
        request = urllib.request.Request(server.url + model["encode_url"], method="POST", data=data)
        placed = json.loads(urllib.request.urlopen(request, timeout=60).read())
        assert len(placed["point"]) == 2 and placed["family"] and len(placed["nearest"]) == 5
        assert server.process.poll() is None
