"""An imported model with an 8-D latent on the page, in real Chromium against a real
``app.py serve --models``: the pad plays two axes and the other six are sliders (named by axis
number, spanning each axis's range, starting at its centre). A drag on the pad and a drag of a
slider each ask for the sound of the whole vector; the download is those bytes; and the page's
address, reloaded, asks for the same sound URL again. A shipped 2-D model served beside it keeps
its x and y and has no sliders. The tiny Keras decoder, served on its own, plays the same way
(on the NumPy engine: no process of the server loads TensorFlow).
"""

from urllib.parse import parse_qs, urlparse

import pytest
from import_fixtures import DIM, imported_onnx_zoo, imported_zoo, module_cache  # noqa: F401 (module_cache: autouse)
from selenium.webdriver import ActionChains
from selenium.webdriver.support.ui import Select

from tests.test_web_browser import browser, desktop, open_page, shot, wait_for  # noqa: F401 (browser is a fixture)
from tests.web_server import get, serving, zoo_of

pytestmark = pytest.mark.browser

#: The sound URL on the page once it is the one asked for and nothing loads (else false).
SHOWN_URL = "!drumApp.loadingUrl && drumApp.shown && drumApp.shown.url === drumApp.wantedUrl && drumApp.shown.url"
SHOWN = f"return {SHOWN_URL}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imported")
    zoo, _ = imported_onnx_zoo(folder)
    zoo_of(zoo, "ae_small_relu")  # a shipped 2-D model beside it: the page opens on it
    with serving(["--models", str(zoo)], folder) as running:
        yield running


def vector_of(sound_url):
    """The z= of a sound URL, as numbers."""
    return [float(v) for v in parse_qs(urlparse(sound_url).query)["z"][0].split(",")]


def shown_after(driver, old_url):
    """The sound URL shown once it is not ``old_url`` and nothing is loading."""
    return wait_for(driver, f"const u = ({SHOWN_URL}); return u !== {old_url!r} && u")


def test_pad_and_sliders_play_the_whole_vector_and_a_reload_plays_it_again(browser, server, tmp_path):  # noqa: F811
    models = {m["name"]: m for m in server.models()["models"]}
    latent = models["drums8"]["latent"]
    assert "latent" not in models["ae_small_relu"]
    desktop(browser)
    open_page(browser, server.url)
    two_d_url = wait_for(browser, SHOWN)
    assert browser.find_element("id", "model").get_attribute("value") == "ae_small_relu"
    assert not browser.find_element("id", "axes").is_displayed() and "?x=" in two_d_url and "z=" not in two_d_url
    Select(browser.find_element("id", "model")).select_by_value("drums8")
    first_url = shown_after(browser, two_d_url)
    assert vector_of(first_url) == pytest.approx(latent["center"], abs=1e-4)

    # the six axes the pad does not show are sliders, by number, over their range, at their centre
    sliders = browser.find_elements("css selector", "#axes input[type=range]")
    assert [s.get_attribute("id") for s in sliders] == [f"axis-{axis}" for axis in range(2, DIM)]
    labels = [slider.find_element("xpath", "..").text.split()[:2] for slider in sliders]
    assert labels == [["Axis", str(axis)] for axis in range(2, DIM)]
    for axis, slider in zip(range(2, DIM), sliders):
        low, high, value = (float(slider.get_attribute(key)) for key in ("min", "max", "value"))
        assert (low, high) == pytest.approx((latent["low"][axis], latent["high"][axis]), abs=1e-6)
        assert value == pytest.approx(latent["center"][axis], abs=(high - low) / 200)

    # a drag on the pad: the pad's two axes move, the others stay at their centre
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold().move_by_offset(
        width // 8, -width // 8
    ).move_by_offset(width // 8, -width // 8).release().perform()
    dragged_url = shown_after(browser, first_url)
    dragged = vector_of(dragged_url)
    assert dragged[:2] == pytest.approx(browser.execute_script("return drumApp.point"), abs=1e-4)
    assert dragged[0] > latent["center"][0] and dragged[1] > latent["center"][1]
    assert dragged[2:] == pytest.approx(latent["center"][2:], abs=1e-4)

    # a slider dragged to near its top: the sound of the pad's point with that axis moved
    slider = browser.find_element("id", "axis-5")
    ActionChains(browser).move_to_element(slider).click_and_hold().move_by_offset(slider.size["width"] // 2 - 4, 0).release().perform()
    moved_url = shown_after(browser, dragged_url)
    moved = vector_of(moved_url)
    assert moved[:2] == pytest.approx(dragged[:2], abs=1e-4)
    assert moved[5] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4)
    assert moved[5] > latent["center"][5] + 0.5 * (latent["high"][5] - latent["center"][5])
    assert [moved[axis] for axis in (2, 3, 4, 6, 7)] == pytest.approx([latent["center"][a] for a in (2, 3, 4, 6, 7)], abs=1e-4)
    shot(browser, tmp_path, "web-imported-sliders.png")
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(name.endswith(moved_url) for name in fetched)
    status, _, served_bytes = get(server.url + moved_url)
    assert status == 200

    # the download is the bytes of that URL
    browser.find_element("id", "download").click()
    downloaded = _wait_for_file(browser.downloads)
    assert downloaded.read_bytes() == served_bytes
    assert "_z" in downloaded.name

    # the page's address holds the whole vector: reloading it asks for the same sound URL
    address = wait_for(browser, "return location.hash.includes('z=') && location.hash.includes(drumApp.shown.query) && location.href")
    browser.get("about:blank")
    browser.get(address)
    reopened = wait_for(browser, SHOWN)
    assert reopened == moved_url
    assert float(browser.find_element("id", "axis-5").get_attribute("value")) == pytest.approx(moved[5], abs=1e-4)
    assert browser.execute_script("return drumApp.point") == pytest.approx(moved[:2], abs=1e-4)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    # back to the 2-D model: no sliders, and its sound URL is x and y as ever
    Select(browser.find_element("id", "model")).select_by_value("ae_small_relu")
    back_url = shown_after(browser, reopened)
    assert "?x=" in back_url and "z=" not in back_url
    assert not browser.find_element("id", "axes").is_displayed()
    assert browser.find_elements("css selector", "#axes input") == []


def test_the_pad_shows_the_two_axes_chosen_and_a_drag_moves_those(browser, server, tmp_path):  # noqa: F811
    latent = {m["name"]: m for m in server.models()["models"]}["drums8"]["latent"]
    desktop(browser)
    open_page(browser, server.url)
    two_d_url = wait_for(browser, SHOWN)
    Select(browser.find_element("id", "model")).select_by_value("drums8")
    first_url = shown_after(browser, two_d_url)
    start = vector_of(first_url)
    across, up = Select(browser.find_element("id", "pad-x")), Select(browser.find_element("id", "pad-y"))
    assert [o.text for o in across.options] == [f"Axis {axis}" for axis in range(DIM)]
    assert (across.first_selected_option.text, up.first_selected_option.text) == ("Axis 0", "Axis 1")

    # the pad shows axis 3 across: the sound is the same vector, axis 0 becomes a slider
    across.select_by_value("3")
    wait_for(browser, "return drumApp.padAxes[0] === 3")
    assert browser.execute_script("return drumApp.point") == pytest.approx([start[3], start[1]], abs=1e-4)
    sliders = [s.get_attribute("id") for s in browser.find_elements("css selector", "#axes input[type=range]")]
    assert sliders == [f"axis-{axis}" for axis in (0, 2, 4, 5, 6, 7)]
    assert browser.execute_script(SHOWN) == first_url and browser.execute_script("return drumApp.wantedUrl") == first_url

    # choosing up the axis shown across swaps the two
    Select(browser.find_element("id", "pad-y")).select_by_value("3")
    wait_for(browser, "return drumApp.padAxes[0] === 1 && drumApp.padAxes[1] === 3")
    assert Select(browser.find_element("id", "pad-x")).first_selected_option.text == "Axis 1"

    # a drag right and up moves axes 1 and 3, over their own ranges; the others stay
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold().move_by_offset(
        width // 8, -width // 8
    ).move_by_offset(width // 8, -width // 8).release().perform()
    dragged = vector_of(shown_after(browser, first_url))
    assert dragged[1] > start[1] and dragged[3] > start[3]
    assert dragged[1] <= latent["high"][1] + 1e-4 and dragged[3] <= latent["high"][3] + 1e-4
    assert [dragged[a] for a in (0, 2, 4, 5, 6, 7)] == pytest.approx([start[a] for a in (0, 2, 4, 5, 6, 7)], abs=1e-4)
    assert browser.execute_script("return drumApp.point") == pytest.approx([dragged[1], dragged[3]], abs=1e-4)
    said = wait_for(browser, "const t = document.getElementById('point').textContent; return t.includes('axis 7') && t")
    assert said == "drums8 at " + ", ".join(f"axis {a} {'+' if v >= 0 else chr(0x2212)}{abs(v):.2f}" for a, v in enumerate(dragged))
    shot(browser, tmp_path, "web-imported-axes.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.fixture(scope="module")
def coded_server(tmp_path_factory):
    """An imported model with an encoder and the codes of a tiny dataset (pad axes 5 and 2)."""
    from import_fixtures import onnx_decoder, onnx_encoder, run_app, spread_matrix, tiny_dataset

    folder = tmp_path_factory.mktemp("coded")
    data = tiny_dataset(folder, folder)
    onnx_decoder(folder / "decoder.onnx")
    onnx_encoder(folder / "encoder.onnx", spread_matrix())
    zoo = folder / "zoo"
    status, _, err = run_app(
        "import-model", "coded", "--decoder", folder / "decoder.onnx", "--encoder", folder / "encoder.onnx",
        "--data", data, "--models", zoo, home=folder,
    )  # fmt: skip
    assert status == 0, err
    with serving(["--models", str(zoo)], folder) as running:
        yield running


def test_a_sample_dropped_on_a_wide_model_plays_its_whole_code(browser, coded_server, tmp_path):  # noqa: F811
    import soundfile as sf

    from drums import snare

    sample = tmp_path / "my snare.wav"
    sf.write(sample, snare(seed=9, seconds=0.1), 44100)
    desktop(browser)
    open_page(browser, coded_server.url)
    first_url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('z=') && u")
    browser.find_element("id", "sample-file").send_keys(str(sample))
    said = wait_for(browser, "const p = document.getElementById('placed'); return !p.hidden && p.textContent")
    placed = browser.execute_script("return drumApp.placed")
    assert said.startswith("my snare.wav: at axis 0 ") and "axis 7 " in said and "nearest: snare_" in said
    heard_url = shown_after(browser, first_url)
    assert heard_url.startswith(placed["sound_url"] + "&")  # the sound of its whole code
    assert vector_of(heard_url) == pytest.approx(placed["shown_vector"], abs=1e-4)
    assert browser.execute_script("return drumApp.point") == pytest.approx(
        [placed["shown_vector"][5], placed["shown_vector"][2]], abs=1e-4
    )
    assert float(browser.find_element("id", "axis-7").get_attribute("value")) == pytest.approx(placed["shown_vector"][7], abs=0.05)
    shot(browser, tmp_path, "web-imported-drop-in.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def _wait_for_file(folder, timeout=30, suffix=".wav"):
    """The one finished download in ``folder`` (a ``suffix`` file), polled for until ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        assert time.monotonic() < deadline, f"no download within {timeout} s: {sorted(p.name for p in folder.iterdir())}"
        time.sleep(0.1)


def test_on_a_phone_the_sliders_fit_and_a_tap_on_one_asks_for_its_axis(browser, server, tmp_path):  # noqa: F811
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    )
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    open_page(browser, server.url)
    Select(browser.find_element("id", "model")).select_by_value("drums8")
    first_url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('z=') && u")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('#axes input')]"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    assert len(boxes) == DIM - 2 and all(0 <= left and right <= 390 for left, right in boxes), boxes
    slider = browser.find_element("id", "axis-2")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    ActionChains(browser).move_to_element_with_offset(slider, -slider.size["width"] // 2 + 6, 0).click().perform()
    tapped = vector_of(shown_after(browser, first_url))
    assert tapped[2] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4) and tapped[2] < vector_of(first_url)[2]
    shot(browser, tmp_path, "web-imported-phone.png")


def test_a_sample_dropped_on_a_wide_model_without_an_encoder_is_said_to_have_no_place(browser, server, tmp_path):  # noqa: F811
    import numpy as np
    import soundfile

    sample = tmp_path / "snare.wav"
    soundfile.write(sample, np.sin(np.arange(4410) / 3.0).astype(np.float32) * 0.5, 44100)
    open_page(browser, server.url)
    Select(browser.find_element("id", "model")).select_by_value("drums8")
    wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('z=')")
    browser.find_element("id", "sample-file").send_keys(str(sample))
    said = wait_for(browser, "const t = document.getElementById('status').textContent; return t.includes('no encoder') && t")
    assert said == "drums8 has no encoder (it only generates): a sample has no place on its map. Pick another model."


def test_download_kit_of_wide_favourites_records_each_whole_vector_and_its_bytes(browser, server, tmp_path):  # noqa: F811
    import io
    import json
    import zipfile

    desktop(browser)
    open_page(browser, server.url)
    two_d_url = wait_for(browser, SHOWN)
    Select(browser.find_element("id", "model")).select_by_value("drums8")
    kept, url = [], shown_after(browser, two_d_url)
    for axis, offset in ((3, 0.4), (6, -0.3)):  # a slider moved, then the sound kept
        slider = browser.find_element("id", f"axis-{axis}")
        ActionChains(browser).move_to_element(slider).click_and_hold().move_by_offset(
            int(slider.size["width"] * offset), 0
        ).release().perform()
        url = shown_after(browser, url)
        browser.find_element("id", "keep").click()
        wait_for(browser, "return document.getElementById('keep').getAttribute('aria-pressed') === 'true'")
        kept.append(url)
    assert len(browser.find_elements("css selector", "#favourites .favourite")) == 2
    Select(browser.find_element("id", "kit-source")).select_by_value("favourites")
    Select(browser.find_element("id", "kit-format")).select_by_value("zip")
    browser.find_element("id", "kit-download").click()
    path = _wait_for_file(browser.downloads, suffix=".zip")
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    record = json.loads(archive.read("Favourites/kit.json"))
    # the newest favourite is the kit's first sound; each is its whole vector and its URL's bytes
    assert [instrument["point"] for instrument in record["instruments"]] == [vector_of(u) for u in reversed(kept)]
    for instrument, sound_url in zip(record["instruments"], reversed(kept)):
        status, _, served_bytes = get(server.url + sound_url)
        assert status == 200 and archive.read(f"Favourites/{instrument['layers'][0]['file']}") == served_bytes
        assert "_d8-" in instrument["layers"][0]["file"] and instrument["model"] == "drums8"
    assert browser.find_element("id", "kit-note").text == "Favourites.zip: 2 sounds, each the WAV heard here."


@pytest.fixture(scope="module")
def keras_server(tmp_path_factory):
    """``app.py serve`` of a zoo with the tiny Keras decoder imported as kdrums8 (and a
    shipped 2-D model beside it)."""
    folder = tmp_path_factory.mktemp("imported-keras")
    zoo, _ = imported_zoo(folder, "keras", "kdrums8")
    zoo_of(zoo, "ae_small_relu")
    with serving(["--models", str(zoo)], folder) as running:
        yield running


def tensorflow_in(group):
    """The processes of process group ``group`` (the server and its decoders): {pid: whether
    it has TensorFlow's libraries mapped}."""
    import os
    from pathlib import Path

    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.getpgid(int(proc.name)) == group:
                found[int(proc.name)] = "tensorflow" in (proc / "maps").read_text()
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def test_a_keras_decoder_plays_on_the_page_from_pad_and_slider_and_its_download_is_the_urls_bytes(
    browser,  # noqa: F811
    keras_server,
    tmp_path,
):
    latent = {m["name"]: m for m in keras_server.models()["models"]}["kdrums8"]["latent"]
    desktop(browser)
    open_page(browser, keras_server.url)
    Select(browser.find_element("id", "model")).select_by_value("kdrums8")
    first_url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('z=') && u")
    assert vector_of(first_url) == pytest.approx(latent["center"], abs=1e-4)
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold().move_by_offset(
        width // 6, width // 8
    ).release().perform()
    dragged = vector_of(dragged_url := shown_after(browser, first_url))
    assert dragged[0] > latent["center"][0] and dragged[1] < latent["center"][1]
    assert dragged[2:] == pytest.approx(latent["center"][2:], abs=1e-4)
    slider = browser.find_element("id", "axis-3")
    ActionChains(browser).move_to_element(slider).click_and_hold().move_by_offset(-slider.size["width"] // 3, 0).release().perform()
    moved_url = shown_after(browser, dragged_url)
    moved = vector_of(moved_url)
    assert moved[:2] == pytest.approx(dragged[:2], abs=1e-4) and moved[3] < latent["center"][3]
    assert moved[3] == pytest.approx(float(slider.get_attribute("value")), abs=1e-4)
    status, _, served_bytes = get(keras_server.url + moved_url)
    assert status == 200
    browser.find_element("id", "download").click()
    assert _wait_for_file(browser.downloads).read_bytes() == served_bytes
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    group = tensorflow_in(keras_server.process.pid)
    assert len(group) >= 2 and not any(group.values()), group  # the server and its decoding processes
