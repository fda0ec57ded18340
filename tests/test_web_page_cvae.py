"""ddsp_cvae on the page, in real Chromium against a real ``app.py serve --models``: a two-stage
model (a synth autoencoder with a 16-number code and a Gaussian per family, tiny, trained here
for two epochs at 44.1 kHz) served from a zoo of its own. Choosing snare and dragging on the pad
asks for that family's sound at the dragged point, and the download is a 44.1 kHz WAV of those
bytes whose spectrum reaches above 11 kHz (the 22.05 kHz models' files stop there)."""

import io
import time

import numpy as np
import pytest
import soundfile
from selenium.webdriver import ActionChains
from selenium.webdriver.support.ui import Select

from tests.test_web_browser import WAIT_S, browser, desktop, open_page, shot, wait_for  # noqa: F401 (browser is a fixture)
from tests.web_server import get, serving

pytestmark = pytest.mark.browser

SHOWN_URL = "!drumApp.loadingUrl && drumApp.shown && drumApp.shown.url === drumApp.wantedUrl && drumApp.shown.url"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_models_ddsp_cvae import RATE, family_sounds

    from models.training import TrainingData, TrainOptions, train_model

    folder = tmp_path_factory.mktemp("cvae")
    audio, families = family_sounds(length=8192)
    data = TrainingData.from_arrays(audio, RATE, families=families)
    settings = dict(length=8192, width=8, hidden=(16, 16), fft_sizes=(2048, 512, 128))
    train_model("ddsp_cvae", data, folder / "zoo", TrainOptions(epochs=2, batch_size=7, verbose=0), **settings)
    with serving(["--models", str(folder / "zoo")], folder) as running:
        yield running


def test_choose_snare_drag_and_download_a_44k_wav_that_reaches_above_11_khz(browser, server, tmp_path):  # noqa: F811
    desktop(browser)
    open_page(browser, server.url)
    first = wait_for(browser, f"const u = ({SHOWN_URL}); return u")
    assert browser.find_element("id", "model").get_attribute("value") == "ddsp_cvae"
    Select(browser.find_element("id", "family")).select_by_value("snare")
    snare_url = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u.includes('family=snare') && u")
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold().move_by_offset(
        width // 8, -width // 8
    ).move_by_offset(width // 8, -width // 8).release().perform()
    dragged = wait_for(browser, f"const u = ({SHOWN_URL}); return u && u !== {snare_url!r} && u")
    assert "family=snare" in dragged and dragged != first
    point = browser.execute_script("return drumApp.point")
    assert point[0] > 0 and point[1] > 0  # right and up of the centre
    browser.find_element("id", "download").click()
    deadline = time.monotonic() + WAIT_S
    while not (files := [p for p in browser.downloads.glob("*.wav")]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(files) == 1 and "snare" in files[0].name
    body = files[0].read_bytes()
    assert body == get(server.url + dragged)[2]  # the bytes of the sound dragged to
    samples, rate = soundfile.read(io.BytesIO(body), dtype="float32")
    assert rate == 44100 and "_from_" not in files[0].name  # made at 44.1 kHz, not resampled up
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    top = spectrum[freqs > 11025].sum() / spectrum.sum()
    assert top > 1e-4  # energy above 11.025 kHz: -40 dB of the whole or more
    shot(browser, tmp_path, "web-cvae-snare.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
