"""ddsp_cvae's whole code on the page (issue 35), in real Chromium against a real ``app.py serve``
of the shipped model: with a family chosen the pad plays that family's pad and the code's other
14 axes are sliders in the family's frame. A slider asks for the whole vector with the family;
another family keeps the numbers and draws the training sounds in its own frame; the download
is the URL's bytes; a link from before the sliders (x and y) plays what it played; a dropped
sample lands at its own code in the family's frame; and a kit of favourites records each whole
vector and its family. On a phone the sliders fit the screen."""

import io
import json
import zipfile
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.support.ui import Select

from tests.test_web_browser import browser, desktop, open_page, shot, wait_for  # noqa: F401 (browser is a fixture)
from tests.test_web_page_imported import _wait_for_file
from tests.web_server import get, serving, zoo_of

pytestmark = pytest.mark.browser

DIM = 16
SHOWN_URL = "!drumApp.loadingUrl && drumApp.shown && drumApp.shown.url === drumApp.wantedUrl && drumApp.shown.url"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frame")
    zoo = zoo_of(folder / "zoo", "ddsp_cvae")
    with serving(["--models", str(zoo)], folder) as running:
        yield running


@pytest.fixture(scope="module")
def runtime():
    from models.engine import load_runtime

    return load_runtime("ddsp_cvae", "trained")


def query_of(sound_url):
    return {key: values[0] for key, values in parse_qs(urlparse(sound_url).query).items()}


def vector_of(sound_url):
    return [float(v) for v in query_of(sound_url)["z"].split(",")]


def shown_after(driver, old_url, also="true"):
    """The sound URL shown once it is not ``old_url`` (and ``also`` holds of ``u``), nothing loading."""
    return wait_for(driver, f"const u = ({SHOWN_URL}); return u && u !== {old_url!r} && ({also}) && u")


def drag_slider(driver, axis, fraction):
    """Drag axis ``axis``'s slider from its middle by ``fraction`` of its width (real pointer input)."""
    slider = driver.find_element("id", f"axis-{axis}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    ActionChains(driver).move_to_element(slider).click_and_hold().move_by_offset(
        int(slider.size["width"] * fraction), 0
    ).release().perform()
    return slider


def test_sliders_play_the_whole_vector_in_the_chosen_familys_frame(browser, server, runtime, tmp_path):  # noqa: F811
    latent = server.models()["models"][0]["latent"]
    desktop(browser)
    open_page(browser, server.url)
    Select(browser.find_element("id", "family")).select_by_value("snare")
    first = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('family=snare') && u")
    assert vector_of(first) == pytest.approx(latent["center"], abs=1e-4)
    sliders = browser.find_elements("css selector", "#axes input[type=range]")
    assert [s.get_attribute("id") for s in sliders] == [f"axis-{axis}" for axis in range(2, DIM)]
    assert [(float(s.get_attribute("min")), float(s.get_attribute("max"))) for s in sliders] == [(-6.0, 6.0)] * (DIM - 2)
    # the training sounds are drawn in the snare's frame
    drawn = wait_for(browser, "return drumApp.codes && drumApp.codes.dim === 16 && drumApp.codes.full")
    assert np.asarray(drawn).reshape(-1, DIM) == pytest.approx(runtime.family_pads.to_frame(runtime.codes.full, "snare"), abs=1e-4)

    slider = drag_slider(browser, 4, 0.4)
    moved_url = shown_after(browser, first)
    moved = vector_of(moved_url)
    assert moved[4] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4) and moved[4] > 2.0
    assert moved[:4] == pytest.approx([0, 0, 0, 0], abs=1e-4) and moved[5:] == pytest.approx([0] * 11, abs=1e-4)
    assert query_of(moved_url)["family"] == "snare"
    status, _, served_bytes = get(server.url + moved_url)
    assert status == 200
    browser.find_element("id", "download").click()
    downloaded = _wait_for_file(browser.downloads)
    assert downloaded.read_bytes() == served_bytes and "_z" in downloaded.name and downloaded.name.endswith("_snare_44.1kHz.wav")
    shot(browser, tmp_path, "web-frame-sliders.png")

    # another family keeps the numbers (so plays another code) and draws the sounds in its frame
    Select(browser.find_element("id", "family")).select_by_value("kick")
    kick_url = shown_after(browser, moved_url, "u.includes('family=kick')")
    assert vector_of(kick_url) == pytest.approx(moved, abs=1e-4)
    kick_full = wait_for(
        browser,
        "return drumApp.codes && drumApp.codes.full && drumApp.codes.full[0] !== arguments[0] && drumApp.codes.full".replace(
            "arguments[0]", repr(drawn[0])
        ),
    )
    assert np.asarray(kick_full).reshape(-1, DIM) == pytest.approx(runtime.family_pads.to_frame(runtime.codes.full, "kick"), abs=1e-4)
    assert get(server.url + kick_url)[2] != served_bytes
    # the pad shows axis 4 across: the training sounds have places there too (their frame's column)
    Select(browser.find_element("id", "pad-x")).select_by_value("4")
    assert wait_for(browser, "return drumApp.padAxes[0] === 4")
    assert browser.find_element("id", "pad-note").is_displayed() is False
    assert browser.execute_script("return drumApp.point")[0] == pytest.approx(moved[4], abs=1e-4)

    # the page's address holds the vector and the family: reloading it asks for the same URL
    address = wait_for(browser, "return location.hash.includes('family=kick') && location.hash.includes('z=') && location.href")
    browser.get("about:blank")
    browser.get(address)
    assert wait_for(browser, f"return {SHOWN_URL}") == kick_url
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_link_from_before_the_sliders_plays_its_pad_point_as_it_did(browser, server, runtime):  # noqa: F811
    desktop(browser)
    browser.get(server.url + "/#model=ddsp_cvae&x=0.5&y=-1.25&family=tom")
    url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('family=tom') && u")
    assert vector_of(url) == pytest.approx([0.5, -1.25] + [0] * (DIM - 2), abs=1e-4)
    assert browser.find_element("id", "notice").text == ""
    sound_url = server.models()["models"][0]["sound_url"]
    assert get(server.url + url)[2] == get(f"{server.url}{sound_url}?x=0.5&y=-1.25&family=tom&rate=44100")[2]


def test_a_dropped_sample_lands_at_its_own_code_in_the_familys_frame(browser, server, runtime, tmp_path):  # noqa: F811
    import soundfile

    from drums import kick

    sample = tmp_path / "my kick.wav"
    soundfile.write(sample, kick(seed=4, seconds=0.5), 44100)
    desktop(browser)
    open_page(browser, server.url)
    Select(browser.find_element("id", "family")).select_by_value("snare")
    first = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('family=snare') && u")
    browser.find_element("id", "sample-file").send_keys(str(sample))
    said = wait_for(browser, "const p = document.getElementById('placed'); return !p.hidden && p.textContent")
    placed = browser.execute_script("return drumApp.placed")
    assert said.startswith("my kick.wav: at axis 0 ") and "axis 15 " in said and "most like a " in said
    from preprocessing.reader import prepare_bytes
    from preprocessing.settings import settings_of_model

    code = runtime.encode_code(prepare_bytes(sample.read_bytes(), settings_of_model(runtime))[None, :])
    likeliest = runtime.family_pads.likeliest(code)[0]
    assert likeliest != "snare" and placed["family"] == placed["frame_family"] == likeliest
    # the page plays the family the sample is likeliest under, at its own code in that family's frame
    heard = shown_after(browser, first)
    assert heard.startswith(placed["sound_url"] + "&") and query_of(heard)["family"] == likeliest
    assert browser.find_element("id", "family").get_attribute("value") == likeliest
    assert placed["vector"] == pytest.approx(runtime.family_pads.to_frame(code, likeliest)[0], abs=1e-4)
    assert vector_of(heard) == pytest.approx(placed["vector"], abs=1e-4) and placed["inside"] is True
    first_code = runtime.family_pads.to_frame(runtime.codes.full[:1], likeliest)[0][0]  # the map is in its frame
    wait_for(browser, f"return drumApp.codes && drumApp.codes.full && Math.abs(drumApp.codes.full[0] - {first_code:.4f}) < 1e-3")
    shown = [axis for axis in range(2, DIM) if -6 <= placed["shown_vector"][axis] <= 6]
    for axis in shown:  # every slider the vector fits stands at its number
        value = float(browser.find_element("id", f"axis-{axis}").get_attribute("value"))
        assert value == pytest.approx(placed["shown_vector"][axis], abs=0.07)
    # the marker is on the pad, at the edge the point lies beyond where it is outside the square
    marked = browser.execute_script(
        """const pad = document.getElementById('pad'), [xmin, xmax, ymin, ymax] = drumApp.model.latent_range;
        const [x, y] = drumApp.point, fx = Math.min(Math.max((x - xmin) / (xmax - xmin), 0), 1);
        const fy = Math.min(Math.max(1 - (y - ymin) / (ymax - ymin), 0), 1);
        const px = Math.round(fx * (pad.width - 1)), py = Math.round(fy * (pad.height - 1)), r = 12;
        const data = pad.getContext('2d').getImageData(Math.max(px - r, 0), Math.max(py - r, 0), 2 * r, 2 * r).data;
        for (let i = 0; i < data.length; i += 4) if (data[i] > 200 && data[i + 1] > 140 && data[i + 2] < 60) return true;
        return false;"""
    )
    assert marked
    shot(browser, tmp_path, "web-frame-drop-in.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_kit_of_favourites_records_each_vector_with_its_family(browser, server, tmp_path):  # noqa: F811
    desktop(browser)
    open_page(browser, server.url)
    Select(browser.find_element("id", "family")).select_by_value("hat")
    url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('family=hat') && u")
    kept = []
    for axis, offset, family in ((3, 0.3, "hat"), (7, -0.35, "clap")):
        if family != "hat":
            Select(browser.find_element("id", "family")).select_by_value(family)
            url = shown_after(browser, url, f"u.includes('family={family}')")
        drag_slider(browser, axis, offset)
        url = shown_after(browser, url)
        browser.find_element("id", "keep").click()
        wait_for(browser, "return document.getElementById('keep').getAttribute('aria-pressed') === 'true'")
        kept.append(url)
    Select(browser.find_element("id", "kit-source")).select_by_value("favourites")
    Select(browser.find_element("id", "kit-format")).select_by_value("zip")
    browser.find_element("id", "kit-download").click()
    archive = zipfile.ZipFile(io.BytesIO(_wait_for_file(browser.downloads, suffix=".zip").read_bytes()))
    record = json.loads(archive.read("Favourites/kit.json"))
    instruments = record["instruments"]  # the newest favourite first
    assert [i["point"] for i in instruments] == [pytest.approx(vector_of(u), abs=1e-4) for u in reversed(kept)]
    assert [i["layers"][0]["recall"]["family"] for i in instruments] == ["clap", "hat"]
    for instrument, sound_url in zip(instruments, reversed(kept)):
        assert archive.read(f"Favourites/{instrument['layers'][0]['file']}") == get(server.url + sound_url)[2]


def test_on_a_phone_the_fourteen_sliders_fit_and_a_tap_moves_its_axis(browser, server, tmp_path):  # noqa: F811
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    )
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    open_page(browser, server.url)
    first = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('z=') && u")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('#axes input, #axes select')]"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    assert len(boxes) == DIM and all(0 <= left and right <= 390 for left, right in boxes), boxes
    slider = browser.find_element("id", "axis-9")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    ActionChains(browser).move_to_element_with_offset(slider, slider.size["width"] // 2 - 6, 0).click().perform()
    tapped = vector_of(shown_after(browser, first))
    assert tapped[9] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4) and tapped[9] > 4.0
    shot(browser, tmp_path, "web-frame-phone.png")
