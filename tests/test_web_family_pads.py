"""The page's API plays family pads for every model with training codes (issue 30 §1): the
shipped ddsp_vae with family=/mix=, the plain pad without, refusals in words (the real
catalogue and decoders on a copy of the shipped zoo)."""

import json

import pytest
from starlette.testclient import TestClient

from tests.web_server import zoo_of
from web.catalogue import load_catalogue
from web.decoding import ThreadDecoding
from web.server import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    zoo = zoo_of(tmp_path_factory.mktemp("zoo"), "ddsp_vae", "gan")
    catalogue = load_catalogue(zoo)
    with TestClient(create_app(catalogue, decoding=ThreadDecoding(1), folder=zoo), raise_server_exceptions=False) as test_client:
        yield test_client


def listed(client, name):
    return next(m for m in client.get("/api/models").json()["models"] if m["name"] == name)


def test_a_model_with_codes_lists_its_families_and_the_plain_pad_as_a_choice(client):
    ddsp = listed(client, "ddsp_vae")
    assert ddsp["families"] == ["kick", "snare", "clap", "hat", "tom", "cymbal", "percussion"]
    assert ddsp["family_optional"] is True and ddsp["no_family_reason"] is None
    gan = listed(client, "gan")
    assert gan["families"] is None
    assert gan["no_family_reason"] == ("gan takes no family: it has no encoder, so none of its training sounds has a place on its pad")
    assert "ddsp_cvae" not in json.dumps(client.get("/api/models").json())


def test_a_family_plays_its_own_sound_the_same_bytes_each_time(client):
    url = listed(client, "ddsp_vae")["sound_url"]
    plain = client.get(f"{url}?x=0&y=0")
    kick = client.get(f"{url}?x=0&y=0&family=kick")
    hat = client.get(f"{url}?x=0&y=0&family=hat")
    mix = client.get(f"{url}?x=0&y=0&mix=kick:0.5,hat:0.5")
    assert {r.status_code for r in (plain, kick, hat, mix)} == {200}
    assert len({plain.content, kick.content, hat.content, mix.content}) == 4
    assert client.get(f"{url}?x=0&y=0&family=kick").content == kick.content
    assert kick.headers["content-disposition"] == 'attachment; filename="ddsp_vae_x+0.00_y+0.00_kick_44.1kHz_from_22.05kHz.wav"'
    assert mix.headers["content-disposition"].endswith('_kick0.5-hat0.5_44.1kHz_from_22.05kHz.wav"')


@pytest.mark.parametrize(
    "query, reason",
    [
        ("family=gong", "family: "),
        ("family=kick&mix=kick:0.5,hat:0.5", "give family= or mix=, not both"),
        ("mix=kick", "mix must be FAMILY:WEIGHT,FAMILY:WEIGHT"),
    ],
)
def test_a_bad_family_is_a_400_in_words(client, query, reason):
    url = listed(client, "ddsp_vae")["sound_url"]
    response = client.get(f"{url}?x=0&y=0&{query}")
    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)


def test_a_family_for_the_gan_is_refused_with_its_reason(client):
    url = listed(client, "gan")["sound_url"]
    response = client.get(f"{url}?x=0&y=0&family=kick")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "family: gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"
    )


def test_the_codes_on_a_familys_pad_put_that_familys_training_sounds_around_its_centre(client):
    import numpy as np

    model = listed(client, "ddsp_vae")
    plain = client.get(model["codes_url"]).json()
    on_kick = client.get(f"{model['codes_url']}?family=kick").json()
    assert on_kick["families"] == plain["families"] and on_kick["family"] == plain["family"]
    kick = plain["families"].index("kick")
    chosen = np.array(on_kick["family"]) == kick
    points = np.array(on_kick["points"]).reshape(-1, 2)
    train_mean = points[chosen].mean(axis=0)
    assert np.allclose(train_mean, model["center"], atol=0.25 * np.ptp(model["latent_range"][:2])), train_mean
    assert not np.allclose(points, np.array(plain["points"]).reshape(-1, 2))
    again = client.get(f"{model['codes_url']}?family=kick")
    assert again.content == client.get(f"{model['codes_url']}?family=kick").content
    assert client.get(f"{listed(client, 'gan')['codes_url']}?family=kick").status_code == 400
    assert client.get(f"{model['codes_url']}?x=1").status_code == 400
