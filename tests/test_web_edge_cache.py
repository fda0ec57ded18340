"""Caching at the edge, against two real ``app.py serve`` processes on the same
zoo: versioned URLs served immutable, the same bytes and ETags from either, If-None-Match with
weak tags and ``*``, the page's files versioned, and a version that follows the model's files."""

import json
import re
import shutil

import pytest

from tests.web_server import TRAINED, get, serving, zoo_of
from web.caching import IMMUTABLE, model_version


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    zoo = zoo_of(tmp_path_factory.mktemp("zoo"), "ae_small_tanh", "vae_c")
    logs = tmp_path_factory.mktemp("logs")
    with serving(["--models", str(zoo)], logs) as one, serving(["--models", str(zoo)], logs) as two:
        yield one, two


def test_sound_and_map_urls_carry_the_models_version(two_servers):
    one, two = two_servers
    listed = one.models()
    assert listed == two.models()
    for model in listed["models"]:
        assert re.fullmatch(r"[0-9a-f]{16}", model["version"])
        assert model["version"] == model_version(TRAINED, model["name"])
        assert model["sound_url"] == f"/api/models/{model['name']}/v/{model['version']}/sound.wav"
        assert model["codes_url"] == f"/api/models/{model['name']}/v/{model['version']}/codes"


def test_the_same_url_gives_the_same_bytes_and_etag_from_either_server_immutable(two_servers):
    one, two = two_servers
    for model in one.models()["models"]:
        for path in (f"{model['sound_url']}?x=0.3&y=-0.2", model["codes_url"]):
            first, second = get(one.url + path), get(two.url + path)
            assert first[0] == second[0] == 200
            assert first[2] == second[2] and first[1]["etag"] == second[1]["etag"]
            assert first[1]["cache-control"] == second[1]["cache-control"] == IMMUTABLE
            assert IMMUTABLE == "public, max-age=31536000, immutable"


def test_if_none_match_with_strong_weak_and_star(two_servers):
    one, two = two_servers
    model = one.models()["models"][0]
    path = f"{model['sound_url']}?x=0.1&y=0.1"
    etag = get(one.url + path)[1]["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        status, headers, body = get(two.url + path, headers={"If-None-Match": header})
        assert status == 304 and body == b"" and headers["etag"] == etag, header
    assert get(two.url + path, headers={"If-None-Match": '"other", W/"else"'})[0] == 200
    codes_tag = get(one.url + model["codes_url"])[1]["etag"]
    assert get(two.url + model["codes_url"], headers={"If-None-Match": f"W/{codes_tag}"})[0] == 304


def test_another_version_is_not_found_and_unversioned_urls_are_revalidated(two_servers):
    one, _ = two_servers
    model = one.models()["models"][0]
    stale = model["sound_url"].replace(model["version"], "0123456789abcdef")
    status, _, body = get(f"{one.url}{stale}?x=0&y=0")
    assert status == 404
    assert json.loads(body)["error"] == (
        f"{model['name']} is not at version '0123456789abcdef' here; GET /api/models gives its current URLs"
    )
    status, headers, _ = get(f"{one.url}/api/models/{model['name']}/sound.wav?x=0&y=0")
    assert status == 200 and headers["cache-control"] == "public, no-cache" and headers["etag"]


def test_the_page_names_its_script_and_style_by_version(two_servers):
    one, two = two_servers
    status, headers, page = get(one.url + "/")
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert get(two.url + "/")[1]["etag"] == headers["etag"]
    assert get(one.url + "/", headers={"If-None-Match": headers["etag"]})[0] == 304
    links = re.findall(r'"(/static/(?:app\.js|style\.css)\?v=[0-9a-f]{16})"', page.decode())
    assert len(links) == 2
    for link in links:
        first, second = get(one.url + link), get(two.url + link)
        assert first[0] == 200 and first[1]["cache-control"] == IMMUTABLE
        assert first[2] == second[2] and first[1]["etag"] == second[1]["etag"]
        assert get(two.url + link, headers={"If-None-Match": first[1]["etag"]})[0] == 304
        plain = get(one.url + link.split("?")[0])
        assert plain[1]["cache-control"] == "public, no-cache" and plain[1]["etag"] == first[1]["etag"]


def test_a_retrained_model_gets_a_new_version_and_its_pictures_do_not(tmp_path):
    zoo = zoo_of(tmp_path / "zoo", "ae_small_tanh", copy=True)
    before = model_version(zoo, "ae_small_tanh")
    (zoo / "ae_small_tanh" / "loss.png").write_bytes(b"another picture")
    assert model_version(zoo, "ae_small_tanh") == before
    weights = next(p for p in (zoo / "ae_small_tanh").iterdir() if p.suffix in (".keras", ".npz"))
    shutil.copyfile(weights, tmp_path / "saved")
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert model_version(zoo, "ae_small_tanh") != before
