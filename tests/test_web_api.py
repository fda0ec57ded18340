"""The web app's HTTP API, through Starlette's TestClient on behavioural fake models: every
endpoint answers, every bad input gets a JSON 4xx with a one-line reason, and the same
query gives the same bytes."""

import io
import json

import numpy as np
import pytest
import soundfile
from starlette.testclient import TestClient

from tests.web_fakes import FakeCodes, FakeModel
from web.catalogue import Catalogue, serve_model
from web.decoding import ThreadDecoding
from web.requests import MAX_QUERY_BYTES
from web.server import create_app
from web.sound import MAX_VARIATION


@pytest.fixture
def models():
    return [
        FakeModel("ae_small_tanh", codes=FakeCodes()),
        FakeModel("gan", kind="gan"),
        FakeModel("vae_c", kind="vae", varies=True, codes=FakeCodes(seed=1)),
    ]


@pytest.fixture
def client(models):
    catalogue = Catalogue.of([serve_model(m) for m in models], default="vae_c")
    with TestClient(create_app(catalogue, decoding=ThreadDecoding(2)), raise_server_exceptions=False) as test_client:
        yield test_client


def sound_url(name="ae_small_tanh", **query):
    query = {"x": "0.25", "y": "-0.5", **query}
    return f"/api/models/{name}/sound.wav?" + "&".join(f"{k}={v}" for k, v in query.items())


def assert_refused(response, status):
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    reason = response.json()["error"]
    assert reason and "\n" not in reason and "Traceback" not in reason
    return reason


def test_models_lists_each_model_with_its_range_rate_and_the_default(client):
    body = client.get("/api/models").json()
    assert body["default"] == "vae_c"
    by_name = {m["name"]: m for m in body["models"]}
    assert list(by_name) == ["ae_small_tanh", "gan", "vae_c"]
    assert by_name["vae_c"]["default"] and not by_name["gan"]["default"]
    assert by_name["ae_small_tanh"]["latent_range"] == [-1.1, 1.1, -1.1, 1.1]
    assert by_name["gan"]["sample_rate"] == 8000 and by_name["gan"]["kind"] == "gan"
    assert by_name["vae_c"]["has_variation"] and not by_name["ae_small_tanh"]["has_variation"]
    assert not by_name["gan"]["has_codes"] and by_name["vae_c"]["has_codes"]
    assert all(m["description"] for m in body["models"])


def test_codes_are_compact_points_and_family_indices(client, models):
    body = client.get("/api/models/ae_small_tanh/codes").json()
    codes = models[0].codes
    assert body["families"] == ["hat", "kick", "snare"]
    assert len(body["points"]) == 2 * len(codes) and len(body["family"]) == len(codes)
    np.testing.assert_allclose(np.reshape(body["points"], (-1, 2)), codes.points, atol=1e-4)
    assert [body["families"][i] for i in body["family"]] == list(codes.families)


def test_codes_of_a_model_without_a_map_are_empty(client):
    assert client.get("/api/models/gan/codes").json() == {"families": [], "family": [], "points": []}


def test_sound_is_a_16_bit_44k1_wav_named_after_the_point(client, models):
    response = client.get(sound_url())
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    info = soundfile.info(io.BytesIO(response.content))
    assert rate == 44100 and info.subtype == "PCM_16" and info.channels == 1
    assert len(audio) == round(models[0].sample_length * 44100 / models[0].sample_rate)
    assert np.max(np.abs(audio)) > 0.5
    # named after what it holds: resampled from the model's own rate, and that rate said
    native = f"{models[0].sample_rate / 1000:g}"
    assert f'filename="ae_small_tanh_x+0.25_y-0.50_44.1kHz_from_{native}kHz.wav"' in response.headers["content-disposition"]
    from web.sound import SoundRequest

    at_its_rate = SoundRequest.rounded("ae_small_tanh", 0.25, -0.5, rate=22050)
    assert at_its_rate.file_name(22050) == "ae_small_tanh_x+0.25_y-0.50_22.05kHz.wav"  # as made: no "from"


def test_rate_from_the_allow_list_is_honoured(client):
    response = client.get(sound_url(rate=22050))
    assert soundfile.info(io.BytesIO(response.content)).samplerate == 22050
    assert "22.05kHz" in response.headers["content-disposition"]


def test_identical_queries_give_identical_bytes_and_etags(client, models):
    first, second = client.get(sound_url()), client.get(sound_url())
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"  # unversioned: revalidated by its ETag
    other = client.get(sound_url(x="0.3"))
    assert other.content != first.content and other.headers["etag"] != first.headers["etag"]


def test_same_point_written_two_ways_is_one_sound(client):
    assert client.get(sound_url(x="0.25")).content == client.get(sound_url(x="2.5e-1")).content


def test_identical_bytes_from_a_fresh_server(models):
    catalogue = Catalogue.of([serve_model(m) for m in models])
    bodies = []
    for _ in range(2):
        with TestClient(create_app(catalogue)) as fresh:
            bodies.append(fresh.get(sound_url(variation=7)).content)
    assert bodies[0] == bodies[1]


def test_matching_etag_gets_not_modified(client):
    etag = client.get(sound_url()).headers["etag"]
    again = client.get(sound_url(), headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content


def test_variation_changes_the_sound_of_a_model_that_varies(client):
    one, two = (client.get(sound_url("vae_c", variation=v)).content for v in (1, 2))
    assert one != two
    assert "_v1_" in client.get(sound_url("vae_c", variation=1)).headers["content-disposition"]


def test_variation_is_ignored_by_a_model_that_does_not_vary(client):
    plain, varied = client.get(sound_url()), client.get(sound_url(variation=5))
    assert plain.content == varied.content
    assert "_v5" not in varied.headers["content-disposition"]


def test_page_and_its_scripts_are_served_without_anything_external(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    text = page.text + client.get("/static/app.js").text + client.get("/static/style.css").text
    assert "http://" not in text and "https://" not in text


def test_page_may_load_only_from_this_server(client):
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get(sound_url()).headers["x-content-type-options"] == "nosniff"


def test_no_cors_headers_unless_asked(client, models):
    response = client.get("/api/models", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in response.headers
    catalogue = Catalogue.of([serve_model(m) for m in models])
    with TestClient(create_app(catalogue, cors_origins=["https://elsewhere.example"])) as allowed:
        response = allowed.get("/api/models", headers={"Origin": "https://elsewhere.example"})
        assert response.headers["access-control-allow-origin"] == "https://elsewhere.example"


@pytest.mark.parametrize(
    "url, status, words",
    [
        ("/api/models/nope/sound.wav?x=0&y=0", 404, "unknown model"),
        ("/api/models/nope/codes", 404, "unknown model"),
        ("/api/models/..%2Ftrained/sound.wav?x=0&y=0", 404, ""),
        ("/api/models/..%2F..%2Fetc%2Fpasswd/codes", 404, ""),
        ("/api/models/%2E%2E/codes", 404, "unknown model"),
        ("/api/models/ae_small_tanh%00/codes", 404, "unknown model"),
        ("/static/../web/server.py", 404, ""),
        ("/static/%2E%2E/server.py", 404, ""),
        (sound_url(x="nan"), 400, "finite"),
        (sound_url(x="NaN"), 400, "finite"),
        (sound_url(y="inf"), 400, "finite"),
        (sound_url(x="-Infinity"), 400, "finite"),
        (sound_url(x="1e300"), 400, "within"),
        (sound_url(y="-1e300"), 400, "within"),
        (sound_url(x="3.4"), 400, "within"),
        (sound_url(x="abc"), 400, "number"),
        (sound_url(x="0x10"), 400, "number"),
        ("/api/models/ae_small_tanh/sound.wav?y=0", 400, "x is missing"),
        ("/api/models/ae_small_tanh/sound.wav?x=0", 400, "y is missing"),
        ("/api/models/ae_small_tanh/sound.wav", 400, "missing"),
        (sound_url(x=""), 400, "missing"),
        (sound_url(rate="-44100"), 400, "rate must be one of"),
        (sound_url(rate="8000"), 400, "rate must be one of"),
        (sound_url(rate="44100.0"), 400, "rate must be one of"),
        (sound_url(rate="abc"), 400, "rate must be one of"),
        (sound_url(variation="-1"), 400, "variation"),
        (sound_url(variation=str(MAX_VARIATION + 1)), 400, "variation"),
        (sound_url(variation="1.5"), 400, "variation"),
        (sound_url(variation="9" * 400), 400, "variation"),
        (sound_url(path="../trained"), 400, "unknown parameter"),
        (sound_url(level="loud"), 400, "level must be one of as made, normalised"),
        (sound_url(level="As+Made"), 400, "level must be one of as made, normalised"),
        (sound_url(level="normalized"), 400, "level must be one of as made, normalised"),
        ("/api/nothing", 404, "not found"),
        ("/api/models/../trained/codes", 404, "not found"),
        ("/index.html", 404, "not found"),
    ],
)
def test_bad_input_is_refused_with_a_one_line_json_reason(client, url, status, words):
    reason = assert_refused(client.get(url), status)
    assert words in reason


def test_huge_query_string_is_refused(client):
    reason = assert_refused(client.get(sound_url(x="0." + "1" * (MAX_QUERY_BYTES + 10))), 414)
    assert "longer than" in reason


def test_request_body_over_the_limit_is_refused(client):
    reason = assert_refused(client.request("GET", "/api/models", content=b"x" * 5000), 413)
    assert "larger than" in reason


def test_other_methods_are_refused(client):
    assert_refused(client.post("/api/models"), 405)
    assert_refused(client.delete(sound_url()), 405)


def test_a_failing_decoder_is_a_500_without_a_traceback(models):
    class Broken(FakeModel):
        def decode(self, points, variation=None):
            if np.any(np.asarray(points) != 0):
                raise RuntimeError("secret internal detail at /srv/models")
            return super().decode(points, variation)

    catalogue = Catalogue.of([serve_model(Broken("ae_small_tanh"))])
    with TestClient(create_app(catalogue), raise_server_exceptions=False) as broken:
        response = broken.get(sound_url())
    reason = assert_refused(response, 500)
    assert "secret" not in response.text and "/srv" not in reason


def test_decoding_runs_off_the_event_loop(models):
    import threading

    seen = []

    class Recording(FakeModel):
        def decode(self, points, variation=None):
            seen.append(threading.current_thread().name)
            return super().decode(points, variation)

    served = serve_model(Recording("ae_small_tanh"))
    seen.clear()
    with TestClient(create_app(Catalogue.of([served]))) as recording:
        assert recording.get(sound_url()).status_code == 200
    assert seen and all(name.startswith("decode") for name in seen)


def test_models_body_is_json_without_nan(client):
    json.loads(client.get("/api/models").text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def test_a_sound_over_full_scale_is_limited_not_clipped():
    class Loud(FakeModel):
        def decode(self, points, variation=None):
            return 3 * super().decode(points, variation)

    from web.sound import SoundRequest, render_wav

    audio, _ = soundfile.read(io.BytesIO(render_wav(Loud(), SoundRequest.rounded("ae_small_tanh", 0.2, 0.1))))
    peak = np.max(np.abs(audio))
    assert 0.99 < peak <= 1.0 and np.mean(np.abs(audio) > 0.999) < 0.001


def test_models_lists_the_levels_a_sound_can_be_asked_at(client):
    body = client.get("/api/models").json()
    assert body["levels"] == ["as made", "normalised"] and body["default_level"] == "as made"


def test_normalised_level_is_a_sound_at_the_common_loudness_named_and_cached_apart(client, models):
    from audio.level import TARGET_DB, loudness_db

    as_made = client.get(sound_url())
    spelled_out = client.get(sound_url(level="as+made"))
    decoded = models[0].decoded
    normalised = client.get(sound_url(level="normalised"))
    assert spelled_out.content == as_made.content and spelled_out.headers["etag"] == as_made.headers["etag"]
    # The level is part of the cache's key: the normalised sound is decoded, not the as-made one reused.
    assert models[0].decoded == decoded + 1
    assert normalised.status_code == 200 and normalised.headers["x-level"] == "normalised"
    assert normalised.headers["etag"] != as_made.headers["etag"]
    assert 'filename="ae_small_tanh_x+0.25_y-0.50_normalised_44.1kHz_from_' in normalised.headers["content-disposition"]
    assert 'filename="ae_small_tanh_x+0.25_y-0.50_44.1kHz_from_' in as_made.headers["content-disposition"]
    loud, _ = soundfile.read(io.BytesIO(normalised.content), dtype="float32")
    plain, _ = soundfile.read(io.BytesIO(as_made.content), dtype="float32")
    # (measured again after resampling to 44.1 kHz, so within a dB rather than exactly)
    assert loudness_db(loud) == pytest.approx(TARGET_DB, abs=1.0)
    assert abs(loudness_db(plain) - TARGET_DB) > 3  # the fake is loud: normalising changes it
    again = client.get(sound_url(level="normalised"))
    assert again.content == normalised.content and models[0].decoded == decoded + 1


# ----------------------------------------------------------------- a conditioned model's family


@pytest.fixture
def family_client():
    from tests.web_fakes import FakeFamilyModel

    catalogue = Catalogue.of([serve_model(FakeFamilyModel()), serve_model(FakeModel("gan", kind="gan"))], default="ddsp_cvae")
    with TestClient(create_app(catalogue, decoding=ThreadDecoding(2)), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_conditioned_model_lists_its_families_and_the_others_none(family_client):
    by_name = {m["name"]: m for m in family_client.get("/api/models").json()["models"]}
    assert by_name["ddsp_cvae"]["families"] == ["kick", "snare", "clap", "hat", "tom", "cymbal", "percussion"]
    assert by_name["gan"]["families"] is None


def test_family_and_mix_reach_the_decoder_and_name_the_download(family_client):
    plain = family_client.get(sound_url("ddsp_cvae"))
    kick = family_client.get(sound_url("ddsp_cvae", family="kick"))
    snare = family_client.get(sound_url("ddsp_cvae", family="snare"))
    mix = family_client.get(sound_url("ddsp_cvae", mix="kick:0.6,tom:0.4"))
    assert {r.status_code for r in (plain, kick, snare, mix)} == {200}
    assert plain.content == kick.content  # kick is the default family
    assert len({kick.content, snare.content, mix.content}) == 3 and kick.headers["etag"] != snare.headers["etag"]
    assert 'filename="ddsp_cvae_x+0.25_y-0.50_snare_44.1kHz' in snare.headers["content-disposition"]
    assert "_kick0.6-tom0.4_" in mix.headers["content-disposition"]
    again = family_client.get(sound_url("ddsp_cvae", mix="tom:0.4,kick:0.6"))  # the same mix, other order
    assert again.content == mix.content and again.headers["etag"] == mix.headers["etag"]


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"family": "bell"}, "family: unknown family 'bell'; the families are kick, snare, clap, hat, tom, cymbal, percussion"),
        ({"mix": "kick:0.6,tom:0.6"}, "mix: family weights must sum to 1 (these sum to 1.2)"),
        (
            {"mix": "snare"},
            "mix must be FAMILY:WEIGHT,FAMILY:WEIGHT (e.g. kick:0.6,tom:0.4) of kick, snare, clap, hat, "
            "tom, cymbal, percussion, not 'snare'",
        ),
        ({"family": "kick", "mix": "kick:1"}, "give family= or mix=, not both"),
    ],
)
def test_a_bad_family_is_a_400_listing_the_allowed_values(family_client, query, reason):
    assert assert_refused(family_client.get(sound_url("ddsp_cvae", **query)), 400) == reason


def test_a_family_for_a_model_without_one_is_a_400(family_client):
    reason = assert_refused(family_client.get(sound_url("gan", family="snare")), 400)
    assert reason == "family: gan takes no family"


@pytest.mark.parametrize(
    "query, reason",
    [
        ("x=9999&x=0&y=0", "x is given more than once; give each parameter once"),
        ("x=0&y=0&level=normalised&level=as-made", "level is given more than once; give each parameter once"),
        ("x=1_0&y=0", "x must be a number, not '1_0'"),
        ("x=%EF%BC%91&y=0", "x must be a number, not '１'"),
        ("x=%D9%A1&y=0", "x must be a number, not '١'"),
        ("x=%200.5&y=0", "x must be a number, not ' 0.5'"),
        ("x=0.5%20&y=0", "x must be a number, not '0.5 '"),
        ("x=0x1&y=0", "x must be a number, not '0x1'"),
    ],
)
def test_a_point_is_plain_ascii_numbers_each_given_once(client, query, reason):
    response = client.get(f"/api/models/ae_small_tanh/sound.wav?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": reason}


@pytest.mark.parametrize("query", ["x=0.5&y=-1", "x=%2B.5&y=1e-1", "x=-0&y=5E-1"])
def test_plain_numbers_with_sign_point_and_exponent_are_taken(client, query):
    assert client.get(f"/api/models/ae_small_tanh/sound.wav?{query}").status_code == 200


def test_a_trailing_slash_is_a_404_and_no_redirect_reflects_the_host_header(client):
    response = client.get("/api/models/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "evil.example" not in response.headers.get("location", "") + response.text


@pytest.fixture(scope="module")
def any_length_client():
    from tests.web_fakes import FakeAnyLengthModel

    catalogue = Catalogue.of([serve_model(FakeAnyLengthModel()), serve_model(FakeModel())], default="ddsp_cvae")
    with TestClient(create_app(catalogue, decoding=ThreadDecoding(2)), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_model_that_renders_any_length_takes_seconds_and_the_others_say_why_not(any_length_client):
    by_name = {m["name"]: m for m in any_length_client.get("/api/models").json()["models"]}
    assert by_name["ddsp_cvae"]["seconds_range"] == [0.05, 6.0] and by_name["ae_small_tanh"]["seconds_range"] is None
    window = any_length_client.get(sound_url("ddsp_cvae"))
    longer = any_length_client.get(sound_url("ddsp_cvae", seconds="1.5"))
    assert window.status_code == longer.status_code == 200
    audio, rate = soundfile.read(io.BytesIO(longer.content), dtype="float32")
    assert rate == 44100 and abs(len(audio) / rate - 1.5) < 0.01  # 1.5 s, resampled from 8 kHz
    assert len(soundfile.read(io.BytesIO(window.content))[0]) < len(audio)
    assert "_1.5s_44.1kHz" in longer.headers["content-disposition"]
    assert any_length_client.get(sound_url("ddsp_cvae", seconds="1.50")).content == longer.content
    reason = assert_refused(any_length_client.get(sound_url("ae_small_tanh", seconds="1")), 400)
    assert reason == "seconds: ae_small_tanh renders only its 0.26 s window"
    assert assert_refused(any_length_client.get(sound_url("ddsp_cvae", seconds="7")), 400) == "seconds must be from 0.05 to 6"
    assert "seconds must be a number" in assert_refused(any_length_client.get(sound_url("ddsp_cvae", seconds="1s")), 400)


def test_bits_24_gives_a_24_bit_file_named_so_and_other_bits_are_refused(client, models):
    listing = client.get("/api/models").json()
    assert listing["bits"] == [16, 24]
    deep = client.get(sound_url(bits="24"))
    plain = client.get(sound_url())
    assert deep.status_code == 200 and soundfile.info(io.BytesIO(deep.content)).subtype == "PCM_24"
    assert soundfile.info(io.BytesIO(plain.content)).subtype == "PCM_16"
    assert "_44.1kHz_24bit_from_" in deep.headers["content-disposition"]
    a, _ = soundfile.read(io.BytesIO(deep.content), dtype="float32")
    b, _ = soundfile.read(io.BytesIO(plain.content), dtype="float32")
    assert len(a) == len(b) and np.max(np.abs(a - b)) < 1e-4  # the same sound, finer steps
    assert client.get(sound_url(bits="16")).content == plain.content
    assert assert_refused(client.get(sound_url(bits="8")), 400) == "bits must be one of 16, 24"
