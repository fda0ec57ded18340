"""The page in a real browser: Debian's Chromium (headless) through selenium, against a live
``app.py serve`` on a free localhost port, serving three of the shipped models.

A user drags on the pad and the page fetches and shows the sound for the new point; Play
starts the audio context; Loop keeps a voice that follows the point; arrow keys move the
point; Download saves a valid WAV; on a phone's width a tap moves the point and nothing
overflows. Screenshots go to ``$WEB_SCREENSHOTS`` (or the test's temporary folder).
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import soundfile
from selenium import webdriver

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# vae_c is the best of these three by evaluation.ranking.choose_best (the page opens on it)
SERVED = ("ae_small_relu", "gan", "vae_c")
START_TIMEOUT_S = 90
WAIT_S = 30

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
        reason="chromium and chromium-driver are not installed (scripts/system-deps.sh test)",
    ),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    zoo = tmp_path_factory.mktemp("zoo")
    for name in SERVED:
        (zoo / name).symlink_to(ROOT / "trained" / name, target_is_directory=True)
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "serve.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "app.py", "serve", "--port", str(port), "--models", str(zoo)],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/models", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"app.py serve did not start: {log.read_text()}")
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = Options()
    options.binary_location = CHROMIUM
    # No network here (and none wanted in CI): without these Chromium tries to call home.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1280,800",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1280, 800)
    driver.downloads = downloads
    yield driver
    driver.quit()


def shot(driver, tmp_path, name):
    folder = Path(os.environ.get("WEB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / name))
    return folder / name


def wait_for(driver, script, timeout=WAIT_S):
    """Run ``script`` (returning a value) until it is truthy; the value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


def open_page(driver, url):
    driver.get(url)
    return wait_for(driver, "return document.getElementById('wave').dataset.soundUrl")


def url_point(sound_url):
    query = parse_qs(urlparse(sound_url).query)
    return float(query["x"][0]), float(query["y"][0])


def desktop(driver):
    """A 1280x800 viewport exactly (the window's size includes its frame)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
    )


def test_page_opens_on_the_best_model_with_its_map_and_legend(browser, server, tmp_path):
    desktop(browser)
    open_page(browser, server)
    legend_bottom = browser.execute_script("return document.getElementById('legend').getBoundingClientRect().bottom")
    assert legend_bottom <= 800  # the whole map and its legend are on screen
    assert browser.find_element("id", "model").get_attribute("value") == "vae_c"
    assert "Best overall" in browser.find_element("id", "description").text
    legend = [item.text for item in browser.find_elements("css selector", "#legend li")]
    assert any(text.startswith("kick (") for text in legend) and any(text.startswith("snare (") for text in legend)
    assert browser.execute_script("return drumApp.codes.family.length") > 100
    shot(browser, tmp_path, "web-desktop.png")
    # No script error, no refused load (the page's content policy), nothing fetched elsewhere.
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(name.startswith(server) for name in fetched)


def test_drag_on_the_pad_fetches_and_shows_the_sound_for_the_new_point(browser, server, tmp_path):
    from selenium.webdriver import ActionChains

    desktop(browser)
    first_url = open_page(browser, server)
    pad = browser.find_element("id", "pad")
    width = pad.size["width"]
    ActionChains(browser).move_to_element_with_offset(pad, 0, 0).click_and_hold().move_by_offset(
        width // 8, -width // 8
    ).move_by_offset(width // 8, -width // 8).release().perform()
    sound_url = wait_for(
        browser, f"const u = document.getElementById('wave').dataset.soundUrl; return u !== {first_url!r} && !drumApp.loadingUrl && u;"
    )
    x, y = url_point(sound_url)
    point = browser.execute_script("return drumApp.point")
    assert (x, y) == pytest.approx(point, abs=1e-4)
    # A quarter of the pad right and up from the centre of vae_c's -3..3 square.
    assert x == pytest.approx(1.5, abs=0.15) and y == pytest.approx(1.5, abs=0.15)
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('sound.wav'))"
    )
    assert any(name.endswith(sound_url) for name in fetched)
    shown = browser.find_element("id", "point").text
    assert shown == f"vae_c at x +{x:.2f}, y +{y:.2f}"
    shot(browser, tmp_path, "web-desktop-dragged.png")


def test_arrow_keys_move_the_point_on_the_focused_pad(browser, server):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, server)
    pad = browser.find_element("id", "pad")
    pad.click()
    before = browser.execute_script("return drumApp.point")
    pad.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_DOWN)
    after = browser.execute_script("return drumApp.point")
    assert after[0] == pytest.approx(before[0] + 2 * 6 / 50, abs=1e-6)
    assert after[1] == pytest.approx(before[1] - 6 / 50, abs=1e-6)
    sound_url = wait_for(browser, "return !drumApp.loadingUrl && drumApp.shown.url")
    assert url_point(sound_url) == pytest.approx(after, abs=1e-4)


def test_play_starts_the_audio_context(browser, server):
    open_page(browser, server)
    browser.find_element("id", "play").click()
    assert wait_for(browser, "return drumApp.ctx.state === 'running' && drumApp.ctx.state")


def test_loop_follows_the_point_with_a_new_voice(browser, server):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, server)
    browser.find_element("id", "loop").click()
    assert browser.find_element("id", "loop").get_attribute("aria-pressed") == "true"
    wait_for(browser, "return drumApp.voice && drumApp.ctx.state === 'running'")
    browser.execute_script("drumApp.firstVoice = drumApp.voice")
    browser.find_element("id", "pad").send_keys(Keys.ARROW_UP)
    assert wait_for(browser, "return drumApp.voice !== drumApp.firstVoice && drumApp.voice.source.buffer === drumApp.shown.buffer")
    assert browser.execute_script("return drumApp.voice.source.loop")
    browser.find_element("id", "loop").click()
    assert browser.execute_script("return drumApp.voice") is None


def test_vary_is_hidden_for_models_that_cannot_vary(browser, server):
    from selenium.webdriver.support.ui import Select

    open_page(browser, server)
    assert not browser.find_element("id", "vary").is_displayed()
    Select(browser.find_element("id", "model")).select_by_value("gan")
    wait_for(browser, "return drumApp.shown && drumApp.shown.model === 'gan' && !drumApp.loadingUrl")
    assert browser.find_elements("css selector", "#legend li") == []
    assert "invents" in browser.find_element("id", "description").text


def test_download_saves_the_sound_as_a_44k1_16_bit_wav_named_after_what_it_holds(browser, server):
    sound_url = open_page(browser, server)
    browser.find_element("id", "download").click()
    deadline = time.monotonic() + WAIT_S
    while not (files := [p for p in browser.downloads.glob("*.wav")]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(files) == 1, list(browser.downloads.iterdir())
    x, y = url_point(sound_url)
    # vae_c makes 22.05 kHz sound: the 44.1 kHz file says it was resampled from that
    assert files[0].name == f"vae_c_x{x:+.2f}_y{y:+.2f}_44.1kHz_from_22.05kHz.wav".replace("-0.00", "+0.00")
    assert browser.find_element("id", "native").text == (
        "vae_c makes 22.05 kHz sound; the file is resampled to 44.1 kHz (nothing above 11.025 kHz)."
    )
    info = soundfile.info(str(files[0]))
    assert (info.samplerate, info.subtype, info.channels) == (44100, "PCM_16", 1)
    served = urllib.request.urlopen(server + sound_url).read()
    assert files[0].read_bytes() == served
    assert len(soundfile.read(io.BytesIO(served))[0]) == 32768


def test_on_a_phone_a_tap_moves_the_point_and_nothing_overflows(browser, server, tmp_path):
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    )
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    first_url = open_page(browser, server)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    box = browser.execute_script(
        "const r = document.getElementById('pad').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]"
    )
    assert box[2] >= 300  # the pad takes the phone's width
    tap = {"x": box[0] + box[2] * 0.25, "y": box[1] + box[3] * 0.75}
    for kind, points in (("touchStart", [tap]), ("touchEnd", [])):
        browser.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    sound_url = wait_for(
        browser, f"const u = drumApp.shown && drumApp.shown.url; return u !== {first_url!r} && !drumApp.loadingUrl && u;"
    )
    assert url_point(sound_url) == pytest.approx((-1.5, -1.5), abs=0.1)
    for button in ("play", "loop", "download"):
        assert browser.find_element("id", button).is_displayed()
    shot(browser, tmp_path, "web-phone.png")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    shot(browser, tmp_path, "web-phone-bottom.png")


@pytest.fixture
def varying_server():
    """A live server (uvicorn in a thread) on a fake model whose takes differ, as ddsp_vae's do."""
    import threading

    import uvicorn

    from tests.web_fakes import FakeCodes, FakeModel
    from web.catalogue import Catalogue, serve_model
    from web.server import create_app

    catalogue = Catalogue.of([serve_model(FakeModel("vae_c", "vae", varies=True, codes=FakeCodes()))])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(catalogue), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_vary_fetches_a_new_take_of_the_same_point(browser, varying_server):
    first_url = open_page(browser, varying_server)
    vary = browser.find_element("id", "vary")
    assert vary.is_displayed()
    vary.click()
    sound_url = wait_for(
        browser, f"const u = drumApp.shown && drumApp.shown.url; return u !== {first_url!r} && !drumApp.loadingUrl && u;"
    )
    take = int(parse_qs(urlparse(sound_url).query)["variation"][0])
    assert url_point(sound_url) == url_point(first_url)
    assert browser.find_element("id", "point").text.endswith(f", take {take}")
    assert browser.execute_script("return drumApp.shown.fileName").endswith(f"_v{take}_44.1kHz_from_8kHz.wav")


def test_a_family_on_a_model_with_codes_plays_its_pad_and_redraws_the_map(browser, server, tmp_path):
    """Issue 30 §1 on the page: vae_c has training codes, so its family selector is live: "All
    families" is the plain pad; choosing kick plays family=kick and redraws the training sounds
    where the kick pad puts them, the kicks in colour around its centre."""
    from selenium.webdriver.support.ui import Select

    desktop(browser)
    open_page(browser, server)
    selector = browser.find_element("id", "family")
    assert selector.is_enabled()
    options = [option.text for option in Select(selector).options]
    assert options[0] == "All families" and "kick" in options and "hat" in options
    plain_url = browser.execute_script("return drumApp.shown.url")
    assert "family" not in parse_qs(urlparse(plain_url).query)
    wait_for(browser, "return drumApp.codes && drumApp.codes.points.length > 0")
    plain_points = browser.execute_script("return drumApp.codes.points.slice(0, 20)")
    Select(selector).select_by_value("kick")
    wait_for(browser, "return drumApp.shown && drumApp.shown.url.includes('family=kick') && !drumApp.loadingUrl")
    moved = wait_for(
        browser,
        f"""const p = drumApp.codes && drumApp.codes.points.slice(0, 20);
        return p && JSON.stringify(p) !== {repr(str(plain_points).replace(" ", ""))} && p""",
    )
    assert moved != plain_points
    # the kicks sit around the pad's centre, as the kick pad spans their region
    centre = browser.execute_script("""
        const { points, family, families } = drumApp.codes, kick = families.indexOf('kick');
        let x = 0, y = 0, n = 0;
        for (let i = 0; i < family.length; i++) if (family[i] === kick) { x += points[2 * i]; y += points[2 * i + 1]; n++; }
        return [x / n, y / n, drumApp.model.center[0], drumApp.model.center[1],
                drumApp.model.latent_range[1] - drumApp.model.latent_range[0]];""")
    assert abs(centre[0] - centre[2]) < 0.25 * centre[4] and abs(centre[1] - centre[3]) < 0.25 * centre[4]
    wav = urllib.request.urlopen(server + browser.execute_script("return drumApp.shown.url")).read()
    plain = urllib.request.urlopen(server + plain_url).read()
    assert wav[:4] == b"RIFF" and wav != plain
    shot(browser, tmp_path, "web-family-pad.png")
    Select(selector).select_by_value("")
    wait_for(browser, "return drumApp.shown && !drumApp.shown.url.includes('family=') && !drumApp.loadingUrl")


def test_a_sample_chosen_or_dropped_on_the_map_plays_from_where_the_model_places_it(browser, server, tmp_path):
    """Issue 32's drop-in in a real Chromium: a WAV chosen with the file field, then one dropped
    on the map (a real drop event carrying a File), each moves the point to where the server's
    encoder placed it, plays that point, and names its likeliest family and nearest sounds."""
    import numpy as np

    from drums import snare

    desktop(browser)
    open_page(browser, server)
    wait_for(browser, "return drumApp.model && drumApp.model.encode_url && !drumApp.loadingUrl")
    mine = tmp_path / "my snare.wav"
    soundfile.write(mine, snare(seed=7, seconds=0.4), 44100)
    browser.find_element("id", "sample-file").send_keys(str(mine))
    placed = wait_for(browser, "return drumApp.placed")
    assert placed["file"] == "my snare.wav" and len(placed["nearest"]) == 5
    at_placed = """const p = drumApp.placed, s = drumApp.shown;
        return s && s.url === drumApp.wantedUrl && !drumApp.loadingUrl
          && Math.abs(s.point[0] - p.shown[0]) < 1e-4 && Math.abs(s.point[1] - p.shown[1]) < 1e-4 && s;"""
    shown = wait_for(browser, at_placed)
    assert np.allclose(url_point(shown["url"]), placed["shown"], atol=1e-4)
    text = browser.find_element("id", "placed").text
    assert text.startswith("my snare.wav: at x ") and "nearest: " in text
    assert (placed["family"] is None) or f"most like a {placed['family']}" in text
    # a drop on the map: the page's own sound of another point, as a file the user drags in
    browser.set_script_timeout(30)
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(drumApp.model.sound_url + '?x=0.9&y=-0.9').then((r) => r.arrayBuffer()).then((bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([bytes], 'dropped.wav', { type: 'audio/wav' }));
          for (const type of ['dragenter', 'dragover', 'drop'])
            pad.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          done(true);
        });""")
    dropped = wait_for(browser, "return drumApp.placed && drumApp.placed.file === 'dropped.wav' && drumApp.placed")
    wait_for(browser, at_placed)
    assert dropped["point"] != placed["point"]
    shot(browser, tmp_path, "web-drop-in.png")
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_files_that_cannot_be_samples_get_one_line_each_and_the_server_keeps_none(browser, tmp_path):
    """A text file named .wav, a 10-minute WAV and a 50 MB file chosen on the page (at phone
    size): each gets its reason in one line, and the server, run with a temporary folder of
    its own, leaves nothing there."""
    import numpy as np

    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "vae_c").symlink_to(ROOT / "trained" / "vae_c", target_is_directory=True)
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "serve", "--port", str(port), "--models", str(zoo)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(server_tmp)},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/models", timeout=2).read()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        before = sorted(p.name for p in server_tmp.rglob("*"))
        browser.set_window_size(390, 844)
        open_page(browser, url)
        wait_for(browser, "return drumApp.model && drumApp.model.encode_url && !drumApp.loadingUrl")
        text = tmp_path / "notes.wav"
        text.write_text("these are my notes, not a sound\n")
        long = tmp_path / "ten minutes.wav"
        # 10 minutes at 22,050 Hz in 8 bits: 13 MB, under the upload limit, so its length is what is refused
        soundfile.write(long, 0.1 * np.sin(np.arange(600 * 22050) * 0.05), 22050, subtype="PCM_U8")
        big = tmp_path / "big.wav"
        with open(big, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
        reasons = {}
        for path in (text, long, big):
            browser.find_element("id", "sample-file").send_keys(str(path))
            reasons[path.name] = wait_for(
                browser,
                f"const s = document.getElementById('status');return s.textContent.startsWith({path.name + ': '!r}) && s.textContent",
                timeout=60,
            )
            browser.execute_script("document.getElementById('sample-file').value = ''")
        assert all("\n" not in reason for reason in reasons.values()), reasons
        assert "not an audio file" in reasons["notes.wav"], reasons
        assert "too long" in reasons["ten minutes.wav"], reasons
        assert "larger than 16777216 bytes" in reasons["big.wav"], reasons
        assert browser.execute_script("return drumApp.placed") is None
        assert sorted(p.name for p in server_tmp.rglob("*")) == before  # nothing of them kept
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=20)
