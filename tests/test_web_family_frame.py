"""The page's API serves ddsp_cvae's whole code in the chosen family's frame (issue 35): the
catalogue gives its 16 axes and their bounds, the sound URL takes ``z=`` with a family or mix
(and still the pad point's x and y of the links made before), the codes answer draws the
training sounds in that family's frame, a dropped sample lands at its own code in the frame
asked for, and a kit records each whole vector with its family. The shipped model, through
the app, with the real catalogue and decoders."""

import io
import json
import zipfile

import numpy as np
import pytest
import soundfile
from starlette.testclient import TestClient

from models.families import DEFAULT_FAMILY
from tests.web_server import zoo_of
from web.catalogue import load_catalogue
from web.decoding import ThreadDecoding
from web.server import create_app

DIM = 16


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    zoo = zoo_of(tmp_path_factory.mktemp("zoo"), "ddsp_cvae", "ddsp_vae")
    with TestClient(
        create_app(load_catalogue(zoo), decoding=ThreadDecoding(1), folder=zoo), raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def models(client):
    return {m["name"]: m for m in client.get("/api/models").json()["models"]}


@pytest.fixture(scope="module")
def runtime():
    from models.engine import load_runtime

    return load_runtime("ddsp_cvae", "trained")


def z(*values):
    """A z= of 16 numbers: ``values`` then zeros."""
    numbers = [*values, *[0.0] * (DIM - len(values))]
    return ",".join(f"{v:.4f}" for v in numbers)


def get_sound(client, models, query):
    answer = client.get(f"{models['ddsp_cvae']['sound_url']}?{query}")
    assert answer.status_code == 200, answer.text
    return answer


def test_the_catalogue_gives_the_frames_sixteen_axes_the_pad_two_and_the_others_centred_at_0(models, runtime):
    latent = models["ddsp_cvae"]["latent"]
    assert latent["dim"] == DIM and latent["pad_axes"] == [0, 1] and latent["family_frame"] is True
    assert latent["low"][:2] == [-3.0, -3.0] and latent["high"][:2] == [3.0, 3.0]
    assert latent["low"][2:] == [-6.0] * (DIM - 2) and latent["high"][2:] == [6.0] * (DIM - 2)
    assert latent["center"] == pytest.approx([float(v) for v in runtime.middle])
    assert models["ddsp_cvae"]["families"][0] == DEFAULT_FAMILY and models["ddsp_cvae"]["family_optional"] is False
    assert models["ddsp_vae"]["latent_range"] and "latent" not in models["ddsp_vae"]  # a 2-D model as ever


def test_a_vector_plays_its_code_in_the_familys_frame_and_the_pad_point_is_its_other_axes_at_0(client, models, runtime):
    pad_point = get_sound(client, models, "x=0.5&y=-0.5&family=snare")  # a link made before the sliders
    centred = get_sound(client, models, f"z={z(0.5, -0.5)}&family=snare")
    assert centred.content == pad_point.content
    assert centred.headers["content-disposition"] == (
        'attachment; filename="ddsp_cvae_z+0.50_-0.50' + "_+0.00" * (DIM - 2) + '_snare_44.1kHz.wav"'
    )
    moved = get_sound(client, models, f"z={z(0.5, -0.5, 0, 0, 0, 4.5)}&family=snare")
    assert moved.content != centred.content
    assert moved.headers["x-point"] == "0.5,-0.5,0,0,0,4.5" + ",0" * (DIM - 6)
    # the same numbers in another family's frame are another code, so another sound
    kick = get_sound(client, models, f"z={z(0.5, -0.5, 0, 0, 0, 4.5)}&family=kick")
    assert kick.content != moved.content and kick.headers["content-disposition"].endswith('_kick_44.1kHz.wav"')
    mix = get_sound(client, models, f"z={z(0.5, -0.5, 0, 0, 0, 4.5)}&mix=kick:0.5,snare:0.5")
    assert mix.content not in (kick.content, moved.content)
    # what a vector plays is the code the frame stands for: one code, written in two frames, is one sound
    frames = [runtime.family_pads.to_frame(runtime.codes.full, family) for family in ("snare", "tom")]
    bounds = np.asarray(models["ddsp_cvae"]["latent"]["bounds"])
    within = np.all([(f > bounds[:, 0]).all(axis=1) & (f < bounds[:, 1]).all(axis=1) for f in frames], axis=0)
    index = int(np.flatnonzero(within)[0])  # a training sound inside both frames' bounds
    heard = []
    for family, frame in zip(("snare", "tom"), frames):
        vector = frame[index]
        body = get_sound(client, models, f"z={','.join(f'{v:.4f}' for v in vector)}&family={family}").content
        heard.append(soundfile.read(io.BytesIO(body), dtype="float32")[0])
    assert np.abs(heard[0] - heard[1]).max() < 2e-3 * np.abs(heard[0]).max()


@pytest.mark.parametrize(
    "query, reason",
    [
        (f"z={z()}&x=0.5&family=snare", "x: give z= (the 16 numbers of ddsp_cvae's frame) or x and y, not both"),
        ("z=1,2,3&family=snare", "z has 3 numbers; ddsp_cvae's latent has 16, one for each axis"),
        (f"z={z(0, 0, 19)}&family=snare", "z: axis 2 is 19; it must lie within -18 to 18 for ddsp_cvae"),
        (f"z={z()}&family=gong", "family: "),
        ("y=0.5", "x is missing (e.g. ?x=0.5&y=-1.2)"),
    ],
)
def test_a_bad_vector_or_family_is_a_400_in_one_line(client, models, query, reason):
    answer = client.get(f"{models['ddsp_cvae']['sound_url']}?{query}")
    assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text


def test_the_codes_are_drawn_in_the_chosen_familys_frame(client, models, runtime):
    url = models["ddsp_cvae"]["codes_url"]
    snare = client.get(f"{url}?family=snare").json()
    assert snare["dim"] == DIM
    full = np.asarray(snare["full"]).reshape(-1, DIM)
    assert full == pytest.approx(runtime.family_pads.to_frame(runtime.codes.full, "snare"), abs=1e-4)
    assert np.asarray(snare["points"]).reshape(-1, 2) == pytest.approx(full[:, :2], abs=1e-4)
    kick = np.asarray(client.get(f"{url}?family=kick").json()["full"]).reshape(-1, DIM)
    assert np.abs(kick - full).max() > 1.0  # another frame
    # without a family: the default family's frame, as the sound URL without one plays
    plain = client.get(url)
    assert plain.json() == client.get(f"{url}?family={DEFAULT_FAMILY}").json()
    mixed = client.get(f"{url}?mix=kick:0.5,snare:0.5").json()
    assert np.asarray(mixed["full"]).reshape(-1, DIM) == pytest.approx(
        runtime.family_pads.to_frame(runtime.codes.full, "kick:0.5,snare:0.5"), abs=1e-4
    )


def wav_bytes(audio, rate=44100):
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, rate, format="WAV")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def kick_file():
    from drums import kick

    return wav_bytes(kick(seed=4, seconds=0.5))


def test_a_dropped_sample_lands_at_its_own_code_in_the_frame_asked_for(client, models, runtime, kick_file):
    encode_url = models["ddsp_cvae"]["encode_url"]
    answer = client.post(f"{encode_url}?family=snare", content=kick_file)
    assert answer.status_code == 200, answer.text
    placed = answer.json()
    assert len(placed["vector"]) == DIM and placed["point"] == placed["vector"][:2]
    from preprocessing.reader import prepare_bytes
    from preprocessing.settings import settings_of_model

    code = runtime.encode_code(prepare_bytes(kick_file, settings_of_model(runtime))[None, :])
    assert runtime.family_pads.from_frame([placed["vector"]], "snare") == pytest.approx(code, abs=1e-4)
    assert placed["family"] == runtime.family_pads.likeliest(code)[0]
    distances = np.linalg.norm(runtime.codes.full - code, axis=1)
    assert placed["nearest"][0]["name"] == str(runtime.codes.names[int(np.argmin(distances))])
    # its sound is the vector's in that family's frame, kept within the bounds
    assert placed["sound_url"].endswith("&family=snare") and "?z=" in placed["sound_url"]
    assert client.get(placed["sound_url"]).status_code == 200
    # the same sample in the kick's frame: other numbers, the same code
    kick_frame = client.post(f"{encode_url}?family=kick", content=kick_file).json()
    assert runtime.family_pads.from_frame([kick_frame["vector"]], "kick") == pytest.approx(code, abs=1e-4)
    assert kick_frame["nearest"] == placed["nearest"] and kick_frame["vector"] != placed["vector"]
    assert placed["frame_family"] == "snare" and kick_frame["frame_family"] == "kick"
    # no family asked: the frame of the family it is likeliest under, where it lands among its own
    own = client.post(encode_url, content=kick_file).json()
    assert own["frame_family"] == own["family"] == placed["family"]
    assert own["vector"] == pytest.approx(runtime.family_pads.to_frame(code, own["family"])[0], abs=1e-4)
    assert own["inside"] is True and own["shown_vector"] == own["vector"]  # its own code plays
    assert own["sound_url"].endswith(f"&family={own['family']}")


@pytest.mark.parametrize(
    "model, query, reason",
    [
        ("ddsp_cvae", "rate=48000", "unknown parameter 'rate'; ddsp_cvae's encode takes family or mix (the frame to place it in)"),
        ("ddsp_cvae", "family=gong", "family: "),
        ("ddsp_vae", "family=kick", "unknown parameter 'family'; ddsp_vae's encode takes none: a sample lands on the plain pad"),
    ],
)
def test_a_drop_in_with_a_query_it_cannot_take_is_refused_in_one_line(client, models, kick_file, model, query, reason):
    answer = client.post(f"{models[model]['encode_url']}?{query}", content=kick_file)
    assert answer.status_code == 400 and answer.json()["error"].startswith(reason), answer.text


def test_a_kit_records_each_whole_vector_with_its_family_and_holds_its_urls_bytes(client, models):
    version = models["ddsp_cvae"]["version"]
    sounds = [
        {"model": "ddsp_cvae", "version": version, "z": z(0.5, -0.5, 0, 3.25), "family": "snare"},
        {"model": "ddsp_cvae", "version": version, "z": z(-1, 1, 0, 0, -2.5), "mix": "kick:0.6,tom:0.4"},
        {"model": "ddsp_cvae", "version": version, "x": 0.25, "y": 0.75, "family": "hat"},  # a pad point
    ]
    answer = client.post("/api/kit", json={"name": "Frames", "format": "zip", "sounds": sounds})
    assert answer.status_code == 200, answer.text
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    record = json.loads(archive.read("Frames/kit.json"))
    points = [instrument["point"] for instrument in record["instruments"]]
    assert points[0] == pytest.approx([0.5, -0.5, 0, 3.25] + [0] * 12) and len(points[1]) == DIM
    recalls = [instrument["layers"][0]["recall"] for instrument in record["instruments"]]
    assert [recall["family"] for recall in recalls] == ["snare", "kick:0.6,tom:0.4", "hat"]
    for instrument, recall, entry in zip(record["instruments"], recalls, sounds):
        params = {k: v for k, v in entry.items() if k not in ("model", "version")}
        expected = client.get(models["ddsp_cvae"]["sound_url"], params=params)
        assert archive.read(f"Frames/{instrument['layers'][0]['file']}") == expected.content
        assert client.get(recall["sound_url"]).content == expected.content  # the recorded URL plays it again
