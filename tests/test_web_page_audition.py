"""Auditioning on the page, in real Chromium (headless, through selenium) against a live server
on behavioural fake models: what the listener hears and keeps.

What is heard is read back from the page's Web Audio graph: a ScriptProcessor tapped onto the
page's master gain collects every rendered sample that is not silence (``heard``), and every
buffer the page starts is logged with the sound on the page at that moment (``started``). A
click or tap plays its point; a drag plays the points it reaches with one fetch at a time; the
first tap on a phone sounds; the volume scales what is heard; the level is heard and downloaded;
a sound that is not the one shown is never played or downloaded; the page says it is loading,
says what went wrong in words, and Play asks again once the server is back; the beat is
scheduled ahead on the audio clock, exactly on its tempo.
"""

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.test_web_browser import CHROMEDRIVER, CHROMIUM, free_port, wait_for
from tests.web_fakes import FakeCodes, FakeModel

WAIT_S = 30

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="chromium and chromium-driver are not installed (scripts/system-deps.sh test)",
    ),
]

# Installed before the page's own script: logs each buffer started (and whether it is the one
# on the page), and counts the sound fetches in flight at once.
INSTRUMENT = """
window.started = [];
const realStart = AudioBufferSourceNode.prototype.start;
AudioBufferSourceNode.prototype.start = function (when = 0, ...rest) {
  const shown = window.drumApp && window.drumApp.shown;
  window.started.push({ node: this, buffer: this.buffer, when, at: this.context.currentTime, loop: this.loop,
                        isShown: Boolean(shown && shown.buffer === this.buffer), url: shown ? shown.url : null });
  return realStart.call(this, when, ...rest);
};
const realStop = AudioBufferSourceNode.prototype.stop;
AudioBufferSourceNode.prototype.stop = function (...args) {
  const entry = window.started.find((s) => s.node === this);
  if (entry) entry.stopped = true;
  return realStop.apply(this, args);
};
window.soundFetches = { total: 0, inFlight: 0, most: 0 };
const realFetch = window.fetch;
window.fetch = async function (url, ...rest) {
  const counts = window.soundFetches, sound = String(url).includes("sound.wav");
  if (sound) { counts.total++; counts.inFlight++; counts.most = Math.max(counts.most, counts.inFlight); }
  try { return await realFetch.call(this, url, ...rest); } finally { if (sound) counts.inFlight--; }
};
"""

# What reaches the speakers: every non-silent block rendered after the page's master gain, with
# its time on the audio clock (large blocks: a busy machine's main thread still keeps up).
TAP = """
const app = window.drumApp, ctx = app.ctx;
window.heard = [];
const tap = ctx.createScriptProcessor(8192, 1, 1);
tap.onaudioprocess = (event) => {
  const data = event.inputBuffer.getChannelData(0);
  let peak = 0;
  for (let i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]));
  if (peak > 0) window.heard.push({ time: event.playbackTime, samples: Array.from(data) });
};
app.master.connect(tap);
tap.connect(ctx.destination);
window.keepTap = tap;
"""


class GatedModel(FakeModel):
    """A fake whose decoding waits while ``gate`` is closed, and fails while ``broken``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.gate.set()
        self.broken = None

    def decode(self, points, variation=None):
        from models.errors import ModelError

        if not self.gate.wait(timeout=60):
            raise ModelError(f"{self.name}: the test never opened the gate")
        if self.broken:
            raise ModelError(self.broken)
        return super().decode(points, variation=variation)


class LiveServer:
    """The app on uvicorn in a thread, on one port, that a test can stop and start again."""

    def __init__(self, models, default):
        from web.catalogue import Catalogue, serve_model

        self.models = {m.name: m for m in models}
        self.catalogue = Catalogue.of([serve_model(m, getattr(m, "description", None)) for m in models], default)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = self.thread = None

    def start(self):
        import uvicorn

        from web.server import create_app

        config = uvicorn.Config(create_app(self.catalogue), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self.server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.05)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=20)


def fake_models():
    synth = GatedModel("ddsp_vae", "vae", varies=True, codes=FakeCodes(seed=2))
    return [GatedModel("vae_c", "vae", codes=FakeCodes()), GatedModel("gan", "gan"), synth]


@pytest.fixture
def live():
    server = LiveServer(fake_models(), default="vae_c").start()
    yield server
    for model in server.models.values():
        model.gate.set()
    server.stop()


def make_browser(tmp_path, autoplay=True):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir(exist_ok=True)
    options = Options()
    options.binary_location = CHROMIUM
    flags = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    # Without the flag, Chromium holds Web Audio until a user activation, as a phone does.
    flags.append("--autoplay-policy=no-user-gesture-required" if autoplay else "--autoplay-policy=document-user-activation-required")
    for flag in flags:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
    return driver


@pytest.fixture
def browser(tmp_path):
    driver = make_browser(tmp_path)
    desktop(driver)
    yield driver
    driver.quit()


def desktop(driver):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
    )


def phone(driver):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})


def open_ready(driver, url, tap=True):
    """Open the page, wait for its first sound, and tap its output."""
    driver.get(url)
    wait_for(driver, "return drumApp.shown && drumApp.shown.url === drumApp.wantedUrl && !drumApp.loadingUrl")
    if tap:
        driver.execute_script(TAP)


def started(driver):
    return driver.execute_script(
        "return window.started.map(s => ({isShown: s.isShown, url: s.url, when: s.when,"
        " at: s.at, loop: s.loop, stopped: Boolean(s.stopped)}))"
    )


def heard_blocks(driver):
    """The blocks the tap heard since the tap (silent ones are not kept), in order."""
    blocks = driver.execute_script("return window.heard.map(b => b.samples)")
    return [np.asarray(b, np.float32) for b in blocks]


def shown_samples(driver):
    """The samples of the sound on the page, as the page decoded them."""
    return np.asarray(driver.execute_script("return Array.from(drumApp.shown.buffer.getChannelData(0))"), np.float32)


def wait_heard(driver, samples):
    """Wait until at least ``samples`` non-silent samples have been heard."""
    wait_for(driver, f"return window.heard.length * 8192 >= {samples}")


CHUNK = 512  # a tap block (8192 samples) is 16 of them


def assert_heard(driver, expected, gain):
    """What was heard is ``expected`` (a buffer's samples) times ``gain``, sample for sample.

    Each non-silent chunk of each block the tap heard must be a run of the sound at some
    sample: on a busy machine the tap (on the page's main thread) may miss a block that the
    speakers did play, so where a block sits in the sound is not taken from the one before it,
    and a missed block must not pass for a wrong sound.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    wait_heard(driver, int(np.count_nonzero(expected)))
    silence = np.zeros(CHUNK, np.float32)
    runs = sliding_window_view(np.concatenate([silence, gain * expected, silence]), CHUNK)
    matched = total = 0
    for block in heard_blocks(driver):
        for chunk in block[: len(block) // CHUNK * CHUNK].reshape(-1, CHUNK):
            if not chunk.any():
                continue
            total += 1
            matched += bool((np.abs(runs - chunk).max(axis=1) < 2e-4).any())
    assert total >= len(expected) // CHUNK // 2 and matched >= 0.9 * total, (matched, total)


def pad_point(driver, fx, fy):
    """Viewport coordinates of a fraction of the pad (0, 0 is its top left)."""
    box = driver.execute_script(
        "const r = document.getElementById('pad').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]"
    )
    return box[0] + box[2] * fx, box[1] + box[3] * fy


def click_pad(driver, fx, fy):
    from selenium.webdriver import ActionChains

    pad = driver.find_element("id", "pad")
    width, height = pad.size["width"], pad.size["height"]
    ActionChains(driver).move_to_element_with_offset(pad, int((fx - 0.5) * width), int((fy - 0.5) * height)).click().perform()


def query(url):
    from urllib.parse import parse_qs, urlparse

    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


# ----------------------------------------------------------------------------- sound on touch


def test_a_click_on_the_map_plays_that_point_at_once(browser, live):
    open_ready(browser, live.url)
    click_pad(browser, 0.75, 0.25)  # right and up of the centre: x, y > 0
    wait_for(browser, "return window.started.length >= 1 && drumApp.shown && !drumApp.loadingUrl")
    played = started(browser)
    assert len(played) == 1 and played[0]["isShown"] and not played[0]["loop"]
    x, y = float(query(played[0]["url"])["x"]), float(query(played[0]["url"])["y"])
    assert x == pytest.approx(0.55, abs=0.05) and y == pytest.approx(0.55, abs=0.05)  # 1/4 of -1.1..1.1
    assert_heard(browser, shown_samples(browser), gain=0.8)  # the default volume


def test_a_drag_auditions_the_points_it_reaches_fetching_one_at_a_time(browser, live):
    from selenium.webdriver import ActionChains

    open_ready(browser, live.url)
    before = browser.execute_script("return window.soundFetches.total")
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    chain = ActionChains(browser).move_to_element_with_offset(pad, -width // 3, width // 3).click_and_hold()
    for _ in range(30):
        chain = chain.move_by_offset(width // 50, -width // 50)
    chain.release().perform()
    final = browser.execute_script("return drumApp.point")
    wait_for(browser, "return !drumApp.loadingUrl && drumApp.shown && drumApp.shown.url === drumApp.wantedUrl")
    played = started(browser)
    fetches = browser.execute_script("return window.soundFetches")
    assert fetches["most"] == 1  # never a queue: one fetch at a time, the newest point next
    assert 1 <= len(played) <= fetches["total"] - before <= 31  # the press and 30 moves
    assert all(p["isShown"] for p in played)  # every sound heard was the one on the page
    assert all(p["stopped"] for p in played[:-1]) and not played[-1]["stopped"]  # each cut by the next
    last = query(played[-1]["url"])
    assert (float(last["x"]), float(last["y"])) == pytest.approx(final, abs=1e-4)
    wait_heard(browser, 1024)


def test_audition_off_keeps_a_click_silent_and_is_remembered(browser, live):
    open_ready(browser, live.url)
    browser.find_element("id", "audition").click()
    browser.get(live.url)  # a new visit
    open_ready(browser, live.url)
    assert not browser.find_element("id", "audition").is_selected()
    click_pad(browser, 0.2, 0.8)
    wait_for(browser, "return drumApp.shown && drumApp.shown.point[0] < -0.3 && !drumApp.loadingUrl")
    assert started(browser) == []
    browser.find_element("id", "play").click()
    wait_for(browser, "return window.started.length === 1")
    assert started(browser)[0]["isShown"]


def test_the_first_tap_on_a_phone_is_heard(tmp_path, live):
    driver = make_browser(tmp_path, autoplay=False)
    try:
        phone(driver)
        open_ready(driver, live.url)
        # Chromium holds the sound until a user activation, as a phone does ...
        assert driver.execute_script("return drumApp.ctx.state") == "suspended"
        x, y = pad_point(driver, 0.25, 0.75)
        for kind, points in (("touchStart", [{"x": x, "y": y}]), ("touchEnd", [])):
            driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
        # ... and the tap's own pointerup lets it go: the first tap's sound is heard.
        wait_for(driver, "return drumApp.ctx.state === 'running' && window.started.length === 1")
        assert started(driver)[0]["isShown"]
        point = query(started(driver)[0]["url"])
        assert float(point["x"]) == pytest.approx(-0.55, abs=0.05) and float(point["y"]) == pytest.approx(-0.55, abs=0.05)
        assert_heard(driver, shown_samples(driver), gain=0.8)
    finally:
        driver.quit()


def test_volume_scales_what_is_heard_and_is_remembered(browser, live):
    from selenium.webdriver.common.keys import Keys

    open_ready(browser, live.url)
    volume = browser.find_element("id", "volume")
    volume.send_keys(Keys.HOME, *[Keys.ARROW_RIGHT] * 25)
    assert float(volume.get_attribute("value")) == pytest.approx(0.25)
    wait_for(browser, "return Math.abs(drumApp.master.gain.value - 0.25) < 1e-6")
    browser.find_element("id", "play").click()
    assert_heard(browser, shown_samples(browser), gain=0.25)
    browser.get(live.url)
    open_ready(browser, live.url, tap=False)
    assert float(browser.find_element("id", "volume").get_attribute("value")) == pytest.approx(0.25)
    assert browser.execute_script("return drumApp.master.gain.value") == pytest.approx(0.25)


def test_the_normalised_level_is_heard_downloaded_and_remembered(browser, live):
    from selenium.webdriver.support.ui import Select

    from audio.level import TARGET_DB, loudness_db
    from tests.web_server import get

    open_ready(browser, live.url)
    as_made_url = browser.execute_script("return drumApp.shown.url")
    Select(browser.find_element("id", "level")).select_by_value("normalised")
    wait_for(browser, "return drumApp.shown && drumApp.shown.level === 'normalised' && !drumApp.loadingUrl")
    url = browser.execute_script("return drumApp.shown.url")
    assert query(url)["level"] == "normalised" and "level" not in query(as_made_url)
    assert browser.find_element("id", "point").text.endswith(", normalised")
    played = started(browser)
    assert len(played) == 1 and played[0]["isShown"] and played[0]["url"] == url  # heard on choosing it
    assert_heard(browser, shown_samples(browser), gain=0.8)
    browser.find_element("id", "download").click()
    deadline = time.monotonic() + WAIT_S
    while not (files := list(browser.downloads.glob("*.wav"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    # the fake makes 8 kHz sound: the 44.1 kHz file says so
    assert [f.name for f in files] == ["vae_c_x+0.00_y+0.00_normalised_44.1kHz_from_8kHz.wav"]
    assert files[0].read_bytes() == get(live.url + url)[2]
    kept, _ = soundfile.read(io.BytesIO(files[0].read_bytes()), dtype="float32")
    plain, _ = soundfile.read(io.BytesIO(get(live.url + as_made_url)[2]), dtype="float32")
    assert loudness_db(kept) == pytest.approx(TARGET_DB, abs=1.0)
    assert abs(loudness_db(plain) - TARGET_DB) > 3
    browser.get(live.url)
    open_ready(browser, live.url, tap=False)
    assert browser.find_element("id", "level").get_attribute("value") == "normalised"


# ----------------------------------------------------------------------------- what is shown


def downloaded(driver, pattern="*"):
    return sorted(p.name for p in driver.downloads.glob(pattern) if not p.name.endswith(".crdownload"))


def wait_download(driver, pattern):
    deadline = time.monotonic() + WAIT_S
    while not (files := downloaded(driver, pattern)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return files


def enter_on(driver, element_id):
    """Focus the element as a user would reach it (if it can take focus), then press Enter."""
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script(f"document.body.focus(); document.getElementById({element_id!r}).focus()")
    ActionChains(driver).send_keys(Keys.ENTER).perform()


def assert_nothing_to_play_or_keep(driver):
    """The page has no sound: no waveform, no point line, Download inert."""
    link = driver.find_element("id", "download")
    assert link.get_attribute("href") is None and link.get_attribute("aria-disabled") == "true"
    assert driver.find_element("id", "point").text == ""
    assert driver.execute_script("return document.getElementById('wave').dataset.soundUrl") == ""


def test_after_a_model_fails_the_previous_sound_is_neither_played_nor_downloaded(browser, live):
    from selenium.webdriver.support.ui import Select

    live.models["gan"].broken = "gan/decoder.keras: damaged (not a zip file)"
    open_ready(browser, live.url)
    Select(browser.find_element("id", "model")).select_by_value("gan")
    wait_for(browser, "return drumApp.failure && !drumApp.loadingUrl")
    status = browser.find_element("id", "status").text
    assert status == (
        "Gan cannot be served right now: gan/decoder.keras: damaged (not a zip file). Press Play to try again in a moment."
    )
    assert_nothing_to_play_or_keep(browser)
    enter_on(browser, "download")
    play = browser.find_element("id", "play")
    assert play.is_enabled()  # it asks again
    play.click()
    wait_for(browser, "return drumApp.failure && !drumApp.loadingUrl")
    assert started(browser) == []  # vae_c's sound, still decoded in the page, is never heard
    assert_nothing_to_play_or_keep(browser)
    # The model is mended: Play asks again, and plays gan's sound.
    live.models["gan"].broken = None
    play.click()
    wait_for(browser, "return window.started.length === 1")
    assert started(browser)[0]["isShown"] and "/gan/" in started(browser)[0]["url"]
    assert browser.find_element("id", "point").text == "gan at x +0.00, y +0.00"
    assert downloaded(browser) == []


def test_while_the_first_sound_loads_the_page_says_so_and_waits(browser, live):
    from selenium.webdriver.common.keys import Keys

    live.models["vae_c"].gate.clear()
    browser.get(live.url)
    wait_for(browser, "return drumApp.model && drumApp.loadingUrl")
    assert browser.find_element("id", "status").text == "Loading vae_c\u2026"
    assert not browser.find_element("id", "play").is_enabled()
    assert_nothing_to_play_or_keep(browser)
    # Enter on the Download link before the first sound: nothing (it was the page, download.html).
    enter_on(browser, "download")
    browser.find_element("id", "pad").send_keys(Keys.SPACE)  # Space on the pad: play once it is here
    live.models["vae_c"].gate.set()
    wait_for(browser, "return window.started.length === 1")
    assert started(browser)[0]["isShown"]
    assert browser.find_element("id", "status").text.startswith("Ready")
    assert browser.find_element("id", "play").is_enabled()
    enter_on(browser, "download")
    assert wait_download(browser, "*.wav") == ["vae_c_x+0.00_y+0.00_44.1kHz_from_8kHz.wav"]
    assert downloaded(browser) == ["vae_c_x+0.00_y+0.00_44.1kHz_from_8kHz.wav"]  # and no download.html


def test_a_new_models_first_sound_replaces_the_old_one_only_when_it_is_here(browser, live):
    from selenium.webdriver.support.ui import Select

    open_ready(browser, live.url)
    browser.find_element("id", "loop").click()
    wait_for(browser, "return drumApp.voice && window.started.length === 1")
    live.models["ddsp_vae"].gate.clear()
    Select(browser.find_element("id", "model")).select_by_value("ddsp_vae")
    wait_for(browser, "return drumApp.model.name === 'ddsp_vae' && drumApp.loadingUrl")
    assert browser.execute_script("return drumApp.voice") is None  # vae_c's loop stopped
    assert browser.find_element("id", "status").text == "Loading ddsp_vae\u2026"
    assert not browser.find_element("id", "play").is_enabled()
    assert_nothing_to_play_or_keep(browser)
    live.models["ddsp_vae"].gate.set()
    wait_for(browser, "return drumApp.voice && window.started.length === 2")
    assert started(browser)[1]["isShown"] and started(browser)[1]["loop"] and "/ddsp_vae/" in started(browser)[1]["url"]


def test_play_asks_again_once_the_server_is_back_and_errors_are_in_words(browser, live):
    from selenium.webdriver.common.keys import Keys

    open_ready(browser, live.url)
    live.stop()
    browser.find_element("id", "pad").send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, "return drumApp.failure && !drumApp.loadingUrl")
    assert browser.find_element("id", "status").text == (
        "The server cannot be reached. Check the connection, then press Play to try again."
    )
    assert_nothing_to_play_or_keep(browser)
    browser.find_element("id", "play").click()  # still gone: the same words, nothing played
    wait_for(browser, "return drumApp.failure && !drumApp.loadingUrl")
    assert started(browser) == []
    live.start()
    browser.find_element("id", "play").click()
    wait_for(browser, "return window.started.length === 1")
    assert started(browser)[0]["isShown"]
    assert float(query(started(browser)[0]["url"])["x"]) == pytest.approx(2.2 / 50, abs=1e-4)
    assert_heard(browser, shown_samples(browser), gain=0.8)


def test_a_page_that_cannot_reach_the_server_starts_when_play_is_pressed(browser, live):
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/models"]})
    browser.get(live.url)
    wait_for(browser, "return drumApp.failure")
    assert browser.find_element("id", "status").text == (
        "The server cannot be reached. Check the connection, then press Play to try again."
    )
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.find_element("id", "play").click()
    wait_for(browser, "return window.started.length === 1")
    assert started(browser)[0]["isShown"] and "/vae_c/" in started(browser)[0]["url"]


def test_on_a_phone_the_status_line_is_on_screen(browser, live):
    phone(browser)
    open_ready(browser, live.url, tap=False)
    for scroll in (0, 300, 10_000):
        browser.execute_script(f"window.scrollTo(0, {scroll})")
        top, bottom, height = browser.execute_script(
            "const r = document.getElementById('status').getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]"
        )
        assert 0 <= top < bottom <= height
        assert browser.find_element("id", "status").text.startswith("Ready")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390


def test_the_map_says_it_is_loading_and_a_model_without_one_says_so(browser, live):
    from selenium.webdriver.support.ui import Select

    browser.execute_cdp_cmd("Network.enable", {})
    # The probe's slow network: 400 ms each way, 50 kB/s.
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000},
    )
    browser.get(live.url)
    wait_for(browser, "return drumApp.model", timeout=60)
    Select(browser.find_element("id", "model")).select_by_value("ddsp_vae")
    note = wait_for(
        browser, "return drumApp.model.name === 'ddsp_vae' && !drumApp.codes && document.getElementById('pad-note').textContent"
    )
    assert note == "Loading the map\u2026"
    assert browser.find_element("id", "description").text.startswith("A drum synthesiser steered")
    wait_for(browser, "return drumApp.codes && drumApp.shown", timeout=60)
    assert not browser.find_element("id", "pad-note").is_displayed()
    Select(browser.find_element("id", "model")).select_by_value("gan")
    assert browser.find_element("id", "pad-note").text == "Every point is a new sound."


# ----------------------------------------------------------------------------- the beat


def beat_log(driver):
    return driver.execute_script(
        "return drumApp.beat.log.map(h => ({n: h.n, step: h.step, lane: h.lane, when: h.when, at: h.at, url: h.url}))"
    )


def set_tempo(driver, bpm):
    from selenium.webdriver.common.keys import Keys

    tempo = driver.find_element("id", "tempo")
    tempo.send_keys(Keys.CONTROL, "a")
    tempo.send_keys(str(bpm), Keys.TAB)  # the change event, as a user leaving the field
    assert driver.execute_script("return drumApp.beat.bpm") == bpm


def clear_steps(driver):
    for cell in driver.find_elements("css selector", ".step[aria-pressed='true']"):
        cell.click()


def click_step(driver, lane, step):
    driver.find_element("css selector", f".step[data-lane='{lane}'][data-step='{step}']").click()


def test_the_beat_plays_the_clicked_steps_scheduled_ahead_on_the_tempo_for_a_minute(browser, live):
    """300 BPM sixteenths are 50 ms apart: 1200 steps in a minute, each exactly on its time."""
    open_ready(browser, live.url)
    clear_steps(browser)
    for step in range(16):
        click_step(browser, "hat", step)
    for step in (0, 8):
        click_step(browser, "kick", step)
    set_tempo(browser, 300)
    browser.find_element("id", "beat-play").click()
    origin = wait_for(browser, "return drumApp.beat.playing && drumApp.beat.log.length && drumApp.beat.origin")
    wait_for(browser, f"return drumApp.ctx.currentTime > {origin + 60.5}", timeout=120)
    browser.find_element("id", "beat-play").click()
    log = beat_log(browser)
    hats = [h for h in log if h["lane"] == 2]
    kicks = [h for h in log if h["lane"] == 0]
    skipped = browser.execute_script("return drumApp.beat.skipped")
    # every step played or, where the browser's timer was held up past the lead (a machine
    # under heavy load), skipped and counted: none lost unsaid, and nearly all played
    steps = sorted([h["n"] for h in hats] + skipped)
    assert steps == list(range(len(steps))) and len(steps) >= 1200, skipped
    assert len(skipped) <= len(steps) // 100, skipped
    assert {h["step"] for h in kicks} == {0, 8}
    assert [h["n"] for h in kicks] == [n for n in range(0, len(steps), 8) if n not in skipped]
    step_s = 60 / 300 / 4
    drift = max(abs(h["when"] - (origin + h["n"] * step_s)) for h in log)
    assert drift < 1e-9  # on the audio clock, not a timer's: no drift after a minute
    assert all(h["at"] < h["when"] for h in log)  # every hit scheduled ahead of its time
    url = browser.execute_script("return drumApp.shown.url")
    assert {h["url"] for h in log} == {url}
    # What was started on the audio clock is what was logged (the same times, the sound shown).
    starts = [s for s in started(browser) if s["when"] > 0]
    assert [s["when"] for s in starts] == [h["when"] for h in log] and all(s["isShown"] for s in starts)


def test_a_tempo_change_while_the_beat_plays_keeps_it_continuous(browser, live):
    open_ready(browser, live.url)
    clear_steps(browser)
    for step in range(16):
        click_step(browser, "free", step)
    browser.find_element("id", "beat-play").click()
    wait_for(browser, "return drumApp.beat.log.length >= 8")
    set_tempo(browser, 240)
    # the step from which the new tempo counts, as the page set it (its scheduler may have gone
    # on between the change and this question)
    changed_at = browser.execute_script("return drumApp.beat.originStep")
    wait_for(browser, f"return drumApp.beat.log.length >= {changed_at + 16}")
    browser.find_element("id", "beat-play").click()
    log = beat_log(browser)
    skipped = set(browser.execute_script("return drumApp.beat.skipped"))
    steps = [h["n"] for h in log]
    # every step was played or, held up past its time on a busy machine, counted as skipped
    # (the scheduler never rushes a late one): none is lost without a word
    assert set(range(steps[0], steps[-1] + 1)) <= set(steps) | skipped
    assert sum(n >= changed_at for n in steps) >= 12

    def step_seconds(n):
        return 60 / 120 / 4 if n < changed_at else 60 / 240 / 4

    # each hit lies on the grid: the gap to the next is the length of the steps between them,
    # at 120 bpm before the change and 240 after, with no jump at the change
    expected = [sum(step_seconds(k) for k in range(a, b)) for a, b in zip(steps, steps[1:])]
    np.testing.assert_allclose(np.diff([h["when"] for h in log]), expected, atol=1e-9)


def test_beat_lanes_follow_the_point_unless_set(browser, live):
    from selenium.webdriver.common.keys import Keys

    open_ready(browser, live.url)
    first_url = browser.execute_script("return drumApp.shown.url")
    browser.find_element("id", "set-kick").click()
    assert browser.find_element("id", "lane-kick").text == "vae_c at x +0.00, y +0.00"
    set_tempo(browser, 240)
    browser.find_element("id", "beat-play").click()
    wait_for(browser, "return drumApp.beat.log.length >= 6")
    browser.find_element("id", "pad").send_keys(Keys.ARROW_UP)
    moved = wait_for(browser, f"return drumApp.shown.url !== {first_url!r} && !drumApp.loadingUrl && drumApp.shown.url")
    moved_at = browser.execute_script("return drumApp.beat.next")
    wait_for(browser, f"return drumApp.beat.next >= {moved_at + 16}")
    browser.find_element("id", "beat-play").click()
    after = [h for h in beat_log(browser) if h["n"] >= moved_at]
    by_lane = {lane: {h["url"] for h in after if h["lane"] == lane} for lane in (0, 1, 2)}
    assert by_lane == {0: {first_url}, 1: {moved}, 2: {moved}}  # the kick kept its sound
    assert {h["step"] for h in after if h["lane"] == 1} == {4, 12}  # the default pattern's snare


# ----------------------------------------------------------------------------- families


@pytest.fixture
def family_live():
    from tests.web_fakes import FakeFamilyModel

    conditioned = FakeFamilyModel(codes=FakeCodes(seed=3), sample_rate=44100, sample_length=4096)
    server = LiveServer([conditioned, GatedModel("gan", "gan")], default="ddsp_cvae").start()
    yield server
    server.stop()


def test_choose_snare_drag_and_download_a_44_1_khz_snare(browser, family_live):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import Select

    from tests.web_server import get

    open_ready(browser, family_live.url)
    assert query(browser.execute_script("return drumApp.shown.url"))["family"] == "kick"  # the default
    Select(browser.find_element("id", "family")).select_by_value("snare")
    wait_for(browser, "return drumApp.shown && drumApp.shown.url.includes('family=snare') && !drumApp.loadingUrl")
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    chain = ActionChains(browser).move_to_element_with_offset(pad, -width // 4, width // 4).click_and_hold()
    for _ in range(10):
        chain = chain.move_by_offset(width // 40, -width // 40)
    chain.release().perform()
    wait_for(browser, "return !drumApp.loadingUrl && drumApp.shown && drumApp.shown.url === drumApp.wantedUrl")
    url = browser.execute_script("return drumApp.shown.url")
    assert query(url)["family"] == "snare"
    assert all(p["isShown"] and "family=snare" in p["url"] for p in started(browser)[1:])  # the drag's sounds
    # the map greys the other families' training sounds, and keeps the snares' colours
    shades = browser.execute_script("""
        const app = drumApp, { points, family, families } = app.codes, g = pad.getContext('2d');
        const out = {};
        for (let i = 0; i < family.length; i++) {
          const [px, py] = toPixels(points[2 * i], points[2 * i + 1]);
          const [r, gr, b] = g.getImageData(Math.round(px), Math.round(py), 1, 1).data;
          (out[families[family[i]]] = out[families[family[i]]] || []).push([r, gr, b]);
        }
        return out;""")

    def greyed(rgb):  # GREYED, #4a4f58, give or take the canvas's smoothing
        return max(abs(a - b) for a, b in zip(rgb, (0x4A, 0x4F, 0x58))) <= 3

    assert sum(map(greyed, shades["kick"])) >= len(shades["kick"]) // 2
    assert not any(map(greyed, shades["snare"]))
    browser.find_element("id", "download").click()
    files = wait_download(browser, "*.wav")
    assert len(files) == 1 and "_snare_44.1kHz.wav" in files[0]
    kept = (browser.downloads / files[0]).read_bytes()
    assert kept == get(family_live.url + url)[2]
    audio, rate = soundfile.read(io.BytesIO(kept), dtype="float32")
    assert rate == 44100
    kick, _ = soundfile.read(io.BytesIO(get(family_live.url + url.replace("family=snare", "family=kick"))[2]), dtype="float32")
    assert np.max(np.abs(audio - kick)) > 1e-3  # a snare, not the kick of the same point


def test_a_hybrid_mixes_two_families_and_a_model_without_families_disables_the_selector(browser, family_live):
    from selenium.webdriver.support.ui import Select

    open_ready(browser, family_live.url)
    Select(browser.find_element("id", "family2")).select_by_value("tom")
    wait_for(browser, "return drumApp.shown && drumApp.shown.url.includes('mix=') && !drumApp.loadingUrl")
    assert query(browser.execute_script("return drumApp.shown.url"))["mix"] == "kick:0.50,tom:0.50"
    assert browser.find_element("id", "mix-text").text == "kick 0.50 + tom 0.50"
    assert browser.find_element("id", "mix").is_enabled()
    Select(browser.find_element("id", "model")).select_by_value("gan")
    wait_for(browser, "return drumApp.shown && drumApp.shown.model === 'gan' && !drumApp.loadingUrl")
    selector = browser.find_element("id", "family")
    assert not selector.is_enabled()
    assert selector.get_attribute("title") == "gan takes no family"
    url = browser.execute_script("return drumApp.shown.url")
    assert "family" not in query(url) and "mix" not in query(url)
