"""A kit leaves the page: ``POST /api/kit`` takes a list of sounds (as the sound URL's
parameters, with each model's version) and answers a zip of the kit folder or a Hydrogen
``.h2drumkit`` made by the CLI's kit code. Each sample is the sound URL's WAV byte for byte;
a bad list gets its reason in one line; the kit's decodes count in the client's limit and
are shed with 503 under overload. Against the shipped models, through the app."""

import asyncio
import io
import json
import tarfile
import zipfile

import httpx
import hydrogen
import pytest
from starlette.testclient import TestClient

from tests.web_server import zoo_of
from web.catalogue import load_catalogue
from web.decoding import DecodingBusy, ThreadDecoding
from web.kit import MAX_KIT_BODY_BYTES, MAX_KIT_SOUNDS
from web.limits import Limits
from web.server import create_app


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return zoo_of(tmp_path_factory.mktemp("zoo"), "ddsp_vae", "gan")


@pytest.fixture(scope="module")
def client(zoo):
    with TestClient(
        create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo), raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def models(client):
    return {m["name"]: m for m in client.get("/api/models").json()["models"]}


def sound(models, name, **params):
    return {"model": name, "version": models[name]["version"], **params}


def two_sounds(models):
    """A take of ddsp_vae on its snare pad, and the GAN normalised at 48 kHz."""
    return [
        sound(models, "ddsp_vae", x=0.5, y=-1.25, variation=3, family="snare"),
        sound(models, "gan", x=0.25, y=0, level="normalised", rate=48000),
    ]


def sound_bytes(client, models, entry):
    """What the page gets from the sound URL for one kit entry."""
    params = {k: v for k, v in entry.items() if k not in ("model", "version")}
    answer = client.get(models[entry["model"]]["sound_url"], params=params)
    assert answer.status_code == 200, answer.text
    return answer.content


def test_a_zip_kit_holds_each_sound_as_its_url_answers_it_with_kit_json(client, models):
    sounds = two_sounds(models)
    answer = client.post("/api/kit", json={"name": "Mein Kit ü", "format": "zip", "sounds": sounds})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"] == ("attachment; filename=\"Mein_Kit.zip\"; filename*=UTF-8''Mein%20Kit%20%C3%BC.zip")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    wavs = sorted(n for n in names if n.endswith(".wav"))
    assert wavs == ["Mein Kit ü/01_snare_ddsp_vae_x+0.50_y-1.25_var3.wav", "Mein Kit ü/02_sound_gan_x+0.25_y+0.00.wav"]
    assert {"Mein Kit ü/kit.json", "Mein Kit ü/drumkit.xml", "Mein Kit ü/README.txt"} <= set(names)
    for name, entry in zip(wavs, sounds):
        assert archive.read(name) == sound_bytes(client, models, entry)
    record = json.loads(archive.read("Mein Kit ü/kit.json"))
    assert record["as_heard"] is True and record["sample_rate"] is None and record["subtype"] == "PCM_16"
    first, second = (instrument["layers"][0] for instrument in record["instruments"])
    assert (first["sample_rate"], second["sample_rate"]) == (44100, 48000)
    assert first["recall"]["take"] == 3 and first["recall"]["family"] == "snare"
    assert second["recall"]["level"] == "normalised"
    # the recorded URL answers the same bytes again
    assert client.get(first["recall"]["sound_url"]).content == archive.read(wavs[0])
    assert "as they were heard, byte for byte" in archive.read("Mein Kit ü/README.txt").decode()


def test_an_h2drumkit_holds_the_same_sounds_and_h2cli_accepts_it(client, models, tmp_path):
    sounds = two_sounds(models)
    answer = client.post("/api/kit", json={"name": "Web Kit", "format": "h2drumkit", "sounds": sounds})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/gzip"
    assert 'filename="Web_Kit.h2drumkit"' in answer.headers["content-disposition"]
    path = tmp_path / "Web Kit.h2drumkit"
    path.write_bytes(answer.content)
    with tarfile.open(path) as archive:
        wavs = sorted(n for n in archive.getnames() if n.endswith(".wav"))
        assert [archive.extractfile(n).read() for n in wavs] == [sound_bytes(client, models, e) for e in sounds]
        assert "Web Kit/drumkit.xml" in archive.getnames()
    if hydrogen.H2CLI is None:
        pytest.skip("h2cli (Debian package hydrogen) is not installed")
    checked = hydrogen.h2cli(tmp_path / "home", "--check", path)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert f"Provided drumkit [{path}] is valid" in checked.stdout + checked.stderr


def test_a_zip_kit_folder_is_a_hydrogen_kit_too(client, models, tmp_path):
    answer = client.post("/api/kit", json={"name": "Zip Kit", "sounds": two_sounds(models)})
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path)
    if hydrogen.H2CLI is None:
        pytest.skip("h2cli (Debian package hydrogen) is not installed")
    checked = hydrogen.h2cli(tmp_path / "home", "--check", tmp_path / "Zip Kit")
    assert checked.returncode == 0 and "is valid" in checked.stdout + checked.stderr, checked.stdout[-2000:]


def refused(client, body, status, reason):
    answer = client.post("/api/kit", content=body if isinstance(body, bytes) else json.dumps(body))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error.startswith(reason), error
    assert "\n" not in error
    return error


@pytest.mark.parametrize(
    "make, status, reason",
    [
        (lambda m: b"{not json", 400, "the body is not JSON"),
        (lambda m: b"", 400, "the body is not JSON"),
        (lambda m: [1, 2], 400, "the body must be a JSON object"),
        (lambda m: {"sounds": [], "colour": "red"}, 400, "unknown field 'colour'; use name, format, sounds"),
        (lambda m: {"name": "", "sounds": two_sounds(m)}, 400, "name must be text of 1 to 60 characters"),
        (lambda m: {"name": "x" * 61, "sounds": two_sounds(m)}, 400, "name must be text of 1 to 60 characters"),
        (lambda m: {"format": "rar", "sounds": two_sounds(m)}, 400, "format must be one of zip, h2drumkit"),
        (lambda m: {"sounds": []}, 400, "sounds must be a list of 1 to 16 sounds"),
        (lambda m: {"sounds": {"model": "gan"}}, 400, "sounds must be a list of 1 to 16 sounds"),
        (
            lambda m: {"sounds": [sound(m, "gan", x=0, y=0)] * (MAX_KIT_SOUNDS + 1)},
            413,
            f"a kit holds at most {MAX_KIT_SOUNDS} sounds, not {MAX_KIT_SOUNDS + 1}",
        ),
        (lambda m: {"sounds": ["gan"]}, 400, "sound 1: must be an object with model, version, x and y"),
        (
            lambda m: {"sounds": [sound(m, "gan", x=0, y=0, z=1)]},
            400,
            "sound 1: unknown field 'z'; gan's latent has 2 axes: give x and y",
        ),
        (lambda m: {"sounds": [{"model": "gan", "x": 0, "y": 0}]}, 400, "sound 1: version is missing"),
        (lambda m: {"sounds": [{"version": "1", "x": 0, "y": 0}]}, 400, "sound 1: model is missing"),
        (lambda m: {"sounds": [sound(m, "gan", x=True, y=0)]}, 400, "sound 1: x must be a number or text"),
        (lambda m: {"sounds": [sound(m, "gan", x=[0], y=0)]}, 400, "sound 1: x must be a number or text"),
        (
            lambda m: {"sounds": [sound(m, "gan", x=0, y=0), {"model": "nope", "version": "1", "x": 0, "y": 0}]},
            400,
            "sound 2: unknown model 'nope'; GET /api/models lists the ones served",
        ),
        (
            lambda m: {"sounds": [{"model": "gan", "version": "0ld", "x": 0, "y": 0}]},
            400,
            "sound 1: gan is not at version '0ld' here; GET /api/models gives its current version",
        ),
        (lambda m: {"sounds": [sound(m, "gan", x=0, y=99)]}, 400, "sound 1: the point must lie within x"),
        (lambda m: {"sounds": [sound(m, "gan", x="nan", y=0)]}, 400, "sound 1: x must be a finite number"),
        (lambda m: {"sounds": [sound(m, "gan", y=0)]}, 400, "sound 1: x is missing"),
        (lambda m: {"sounds": [sound(m, "gan", x=0, y=0, rate=8000)]}, 400, "sound 1: rate must be one of"),
        (lambda m: {"sounds": [sound(m, "gan", x=0, y=0, level="loud")]}, 400, "sound 1: level must be one of"),
        (lambda m: {"sounds": [sound(m, "gan", x=0, y=0, family="snare")]}, 400, "sound 1: family:"),
        (lambda m: {"sounds": [sound(m, "ddsp_vae", x=0, y=0, family="banjo")]}, 400, "sound 1: family:"),
        (
            lambda m: {"sounds": [sound(m, "ddsp_vae", x=0, y=0, variation=10000)]},
            400,
            "sound 1: variation must be a whole number from 0 to 9999",
        ),
    ],
)
def test_a_list_that_cannot_be_a_kit_is_refused_in_one_line(client, models, make, status, reason):
    refused(client, make(models), status, reason)


def test_a_body_over_the_limit_is_refused_whether_its_length_is_said_or_not(client, models):
    big = json.dumps({"name": "x", "sounds": [sound(models, "gan", x="0." + "0" * MAX_KIT_BODY_BYTES, y=0)]}).encode()
    answer = client.post("/api/kit", content=big)  # Content-Length: refused before it is read
    assert answer.status_code == 413
    assert answer.json()["error"] == f"the request body is larger than {MAX_KIT_BODY_BYTES} bytes"
    answer = client.post("/api/kit", content=iter([big[:8000], big[8000:]]))  # chunked: counted as it comes
    assert answer.status_code == 413
    assert answer.json()["error"] == f"the kit's list is larger than {MAX_KIT_BODY_BYTES} bytes"
    assert client.get("/api/kit").status_code == 405


def test_a_body_that_does_not_arrive_in_time_is_refused(zoo, models, monkeypatch):
    import web.requests

    monkeypatch.setattr(web.requests, "UPLOAD_TIMEOUT_S", 0.2)
    app = create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo)

    async def post():
        never = asyncio.Event()

        async def stalled():
            yield b'{"sounds": ['
            await never.wait()

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://kit") as http:
            return await http.post("/api/kit", content=stalled())

    answer = asyncio.run(post())
    assert answer.status_code == 408 and answer.json()["error"] == "the kit's list did not arrive within 0.2 s"


class GatedDecoding(ThreadDecoding):
    """Decodes as ThreadDecoding does, once ``gate`` is open; ``entered`` is set when a
    decode is waiting at it."""

    def __init__(self):
        super().__init__(1)
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def wav(self, served, request, version=None):
        self.entered.set()
        await self.gate.wait()
        return await super().wav(served, request, version)


def test_a_kits_decodes_count_in_the_clients_limit(zoo, models):
    decoding = GatedDecoding()
    app = create_app(load_catalogue(zoo), decoding=decoding, folder=zoo, limits=Limits(decodes_per_client=1, proxies=""))
    body = {"sounds": [sound(models, "gan", x=0.5, y=0.5)]}

    async def kit_while_another_sound_is_asked():
        transport = httpx.ASGITransport(app, client=("192.0.2.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as http:
            kit = asyncio.create_task(http.post("/api/kit", json=body))
            await decoding.entered.wait()
            other = await http.get(models["gan"]["sound_url"], params={"x": 0.75, "y": 0})
            decoding.gate.set()
            return await kit, other

    kit, other = asyncio.run(kit_while_another_sound_is_asked())
    decoding.close()
    assert other.status_code == 429 and other.headers["retry-after"]
    assert other.json()["error"].startswith("this client already has 1 sounds decoding (at most 1 at once)")
    assert kit.status_code == 200 and kit.content[:2] == b"PK"


class BusyDecoding(ThreadDecoding):
    async def wav(self, served, request, version=None):
        raise DecodingBusy("32 sounds are waiting for 1 decoders")


def test_a_kit_is_shed_with_503_when_the_decoders_queue_is_full(zoo, models):
    with TestClient(create_app(load_catalogue(zoo), decoding=BusyDecoding(1), folder=zoo)) as busy:
        answer = busy.post("/api/kit", json={"sounds": [sound(models, "gan", x=0.1, y=0.1)]})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1" and answer.headers["cache-control"] == "no-store"
    assert answer.json()["error"] == "too busy right now (32 sounds are waiting for 1 decoders); try again in a moment"


def test_the_real_server_answers_a_kit_from_its_decoding_processes(zoo, tmp_path):
    """``app.py serve``: the kit's samples come from the decoding processes, as the sound URL's do."""
    import urllib.request

    from tests.web_server import get, serving

    with serving(["--models", str(zoo)], tmp_path) as server:
        served = {m["name"]: m for m in server.models()["models"]}
        entry = sound(served, "ddsp_vae", x=-0.5, y=0.75, variation=1)
        request = urllib.request.Request(
            server.url + "/api/kit",
            method="POST",
            data=json.dumps({"sounds": [entry]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            archive = zipfile.ZipFile(io.BytesIO(answer.read()))
        status, _, heard = get(f"{server.url}{served['ddsp_vae']['sound_url']}?x=-0.5&y=0.75&variation=1", timeout=60)
        assert status == 200
        wavs = [n for n in archive.namelist() if n.endswith(".wav")]
        assert [archive.read(n) for n in wavs] == [heard]
        assert server.process.poll() is None
