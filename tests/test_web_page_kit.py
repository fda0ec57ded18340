"""A kit leaves the page (issue 32), in real Chromium (headless, through selenium) against a
live server on behavioural fake models: Download kit saves the favourites or the beat's set
lanes as a zip of WAVs or a Hydrogen kit, and each WAV in it is the sound the page fetched
and played, byte for byte. A kit that cannot be made says why, in one line.

Every wait is for what is asserted; nothing sleeps a fixed time before looking.
"""

import json
import tarfile
import zipfile
from pathlib import Path

import hydrogen
import pytest

from tests.test_web_browser import CHROMEDRIVER, CHROMIUM, wait_for
from tests.test_web_page_audition import GatedModel, LiveServer, desktop, downloaded, make_browser, open_ready, wait_download
from tests.test_web_page_keep import choose, click_pad, page_bytes, settled, settled_where, shot
from tests.web_fakes import FakeCodes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="chromium and chromium-driver are not installed (scripts/system-deps.sh test)",
    ),
]


@pytest.fixture
def live():
    server = LiveServer([GatedModel("vae_c", "vae", codes=FakeCodes()), GatedModel("gan", "gan")], default="vae_c").start()
    yield server
    for model in server.models.values():
        model.gate.set()
    server.stop()


@pytest.fixture
def browser(tmp_path):
    driver = make_browser(tmp_path)
    desktop(driver)
    yield driver
    driver.quit()


def keep_at(driver, fx, fy, previous=None):
    """Click the pad at a fraction of it, wait for that sound, keep it; (its URL, its bytes)."""
    click_pad(driver, fx, fy)
    url = settled(driver, previous)
    driver.find_element("id", "keep").click()
    wait_for(driver, "return document.getElementById('keep').getAttribute('aria-pressed') === 'true'")
    return url, page_bytes(driver)


def download_kit(driver, source, kind, pattern):
    """Choose what and how, press Download kit, and wait for the file; its path."""
    choose(driver, "kit-source", source)
    choose(driver, "kit-format", kind)
    driver.find_element("id", "kit-download").click()
    files = wait_download(driver, pattern)
    assert files, f"no {pattern} downloaded; the page says {driver.find_element('id', 'kit-note').text!r}"
    return driver.downloads / files[0]


def test_two_favourites_download_as_a_zip_whose_wavs_are_the_sounds_the_page_fetched(browser, live):
    open_ready(browser, live.url)
    first_url, first = keep_at(browser, 0.25, 0.3)
    choose(browser, "level", "normalised")
    settled_where(browser, "drumApp.shown.level === 'normalised'")
    second_url, second = keep_at(browser, 0.7, 0.65, first_url)
    assert len(browser.find_elements("css selector", "#favourites .favourite")) == 2
    path = download_kit(browser, "favourites", "zip", "*.zip")
    assert path.name == "Favourites.zip"
    archive = zipfile.ZipFile(path)
    wavs = sorted(n for n in archive.namelist() if n.endswith(".wav"))
    # the newest favourite is the kit's first sound
    assert [archive.read(n) for n in wavs] == [second, first]
    record = json.loads(archive.read("Favourites/kit.json"))
    assert record["as_heard"] is True
    assert [i["layers"][0]["recall"]["level"] for i in record["instruments"]] == ["normalised", "as made"]
    note = browser.find_element("id", "kit-note").text
    assert note == "Favourites.zip: 2 sounds, each the WAV heard here."
    shot(browser, "kit-desktop.png")


def test_the_beats_set_lanes_download_as_a_hydrogen_kit_that_h2cli_accepts(browser, live, tmp_path):
    open_ready(browser, live.url)
    lanes = {}
    previous = None
    for lane, (fx, fy) in (("kick", (0.2, 0.8)), ("snare", (0.8, 0.2))):
        click_pad(browser, fx, fy)
        previous = settled(browser, previous)
        browser.find_element("id", f"set-{lane}").click()
        lanes[lane] = page_bytes(browser)
    path = download_kit(browser, "beat", "h2drumkit", "*.h2drumkit")
    assert path.name == "Beat.h2drumkit"
    with tarfile.open(path) as archive:
        wavs = sorted(n for n in archive.getnames() if n.endswith(".wav"))
        assert [archive.extractfile(n).read() for n in wavs] == [lanes["kick"], lanes["snare"]]
    if hydrogen.H2CLI is None:
        pytest.skip("h2cli (Debian package hydrogen) is not installed")
    checked = hydrogen.h2cli(tmp_path / "home", "--check", path)
    assert checked.returncode == 0 and "is valid" in checked.stdout + checked.stderr, checked.stdout[-2000:]


def kit_note(driver):
    return wait_for(
        driver, "const note = document.getElementById('kit-note');return note.classList.contains('error') && note.textContent"
    )


def test_nothing_to_put_in_a_kit_and_a_kit_the_server_refuses_are_said_in_one_line(browser, live):
    open_ready(browser, live.url)
    choose(browser, "kit-source", "favourites")
    browser.find_element("id", "kit-download").click()
    assert kit_note(browser) == "No favourites yet: Keep a sound to put it in the kit."
    choose(browser, "kit-source", "beat")
    browser.find_element("id", "kit-download").click()
    wait_for(browser, "return document.getElementById('kit-note').textContent.startsWith('No lane')")
    assert kit_note(browser) == "No lane is set: press Set on a lane to put its sound in the kit."
    # a favourite kept before the model's range changed: its point is outside it now
    browser.execute_script(
        "localStorage.setItem('drumApp.favourites', JSON.stringify("
        "[{model: 'vae_c', query: 'x=99.0000&y=0.0000&rate=44100', label: 'far away'}]))"
    )
    open_ready(browser, live.url)
    choose(browser, "kit-source", "favourites")
    browser.find_element("id", "kit-download").click()
    note = kit_note(browser)
    assert note.startswith("The kit cannot be made: sound 1: the point must lie within x") and "\n" not in note
    assert downloaded(browser) == []


# ----------------------------------------------------------------------------- the beat as a WAV loop


def test_the_beat_downloads_as_one_bar_that_loops_and_is_the_lanes_mixed_through_the_limiter(browser, live):
    import numpy as np
    import soundfile

    open_ready(browser, live.url)
    previous = None
    for lane, (fx, fy) in (("kick", (0.2, 0.8)), ("snare", (0.8, 0.2))):
        click_pad(browser, fx, fy)
        previous = settled(browser, previous)
        browser.find_element("id", f"set-{lane}").click()
    browser.execute_script("drumApp.beat.lanes[3].muted = true; drumApp.beat.lanes[1].volume = 0.5")
    browser.find_element("id", "swing").send_keys("\ue014")  # arrow right: swing 5%
    wait_for(browser, "return drumApp.beat.swing > 0")
    browser.find_element("id", "beat-download").click()
    files = wait_download(browser, "beat_*.wav")
    assert files, f"no loop downloaded; the page says {browser.find_element('id', 'notice').text!r}"
    beat = browser.execute_script(
        "const b = drumApp.beat; return {bpm: b.bpm, swing: b.swing, curve: Array.from(limitCurve()),"
        " lanes: b.lanes.map(l => ({steps: l.steps, volume: l.volume, muted: l.muted,"
        " audio: l.muted ? [] : Array.from((l.spec ? l.sound : drumApp.shown).buffer.getChannelData(0)),"
        " rate: (l.spec ? l.sound : drumApp.shown).buffer.sampleRate}))}"
    )
    rate = beat["lanes"][0]["rate"]
    assert files == [f"beat_{beat['bpm']}bpm_swing{round(beat['swing'] * 100)}_{rate / 1000:g}kHz.wav"]
    loop, file_rate = soundfile.read(browser.downloads / files[0], dtype="float32")
    step = 60 / beat["bpm"] / 4
    assert file_rate == rate and len(loop) == round(16 * step * rate)  # exactly one bar
    # what it should be: each hit at its (swung) step, the bar before's tails from the start,
    # each lane at its volume, through the limiter's curve
    mix = np.zeros(len(loop))
    for lane in beat["lanes"]:
        audio = np.asarray(lane["audio"])
        for index, on in enumerate(lane["steps"]):
            if not on or lane["muted"]:
                continue
            start = round((index + (beat["swing"] if index % 2 else 0)) * step * rate)
            for at in (start, start - len(loop)):
                begin, end = max(at, 0), min(at + len(audio), len(loop))
                if end > begin:
                    mix[begin:end] += lane["volume"] * audio[begin - at : end - at]
    curve = np.asarray(beat["curve"])
    expected = np.interp(mix / 4, np.linspace(-1, 1, len(curve)), curve)
    assert np.max(np.abs(loop)) <= 1.0 and np.max(np.abs(expected)) > 0.1
    assert np.corrcoef(loop, expected)[0, 1] > 0.999, np.max(np.abs(loop - expected))
    assert np.max(np.abs(loop - expected)) < 0.02
    assert browser.find_element("id", "notice").text.startswith(files[0] + ": one bar,")


def test_a_beat_with_nothing_to_play_says_so_and_downloads_nothing(browser, live):
    open_ready(browser, live.url)
    browser.execute_script("drumApp.beat.lanes.forEach(l => { l.muted = true; })")
    browser.find_element("id", "beat-download").click()
    note = wait_for(
        browser, "const n = document.getElementById('notice');return n.classList.contains('error') && !n.hidden && n.textContent"
    )
    assert note == "The beat has nothing to play: switch steps on in a lane that is not muted and has a sound."
    assert downloaded(browser) == []


# ----------------------------------------------------------------------------- the beat as MIDI


def midi_notes(data):
    """(tempo in µs a quarter, ticks a quarter, [(tick, note, velocity)] of the note-ons, the
    end's tick) of a format 0 Standard MIDI File, read by hand."""
    assert data[:4] == b"MThd" and int.from_bytes(data[4:8], "big") == 6
    fmt, tracks, division = (int.from_bytes(data[i : i + 2], "big") for i in (8, 10, 12))
    assert (fmt, tracks) == (0, 1) and data[14:18] == b"MTrk"
    end = 22 + int.from_bytes(data[18:22], "big")
    assert end == len(data)
    at, tick, tempo, notes, offs = 22, 0, None, [], 0
    while at < end:
        delta = 0
        while True:
            byte = data[at]
            at += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        status = data[at]
        if status == 0xFF:
            kind, length = data[at + 1], data[at + 2]
            if kind == 0x51:
                tempo = int.from_bytes(data[at + 3 : at + 6], "big")
            if kind == 0x2F:
                return tempo, division, notes, tick, offs
            at += 3 + length
        else:
            assert status in (0x99, 0x89), hex(status)  # channel 10 only
            if status == 0x99:
                notes.append((tick, data[at + 1], data[at + 2]))
            else:
                offs += 1
            at += 3
    raise AssertionError("no end of track")


def test_the_beat_downloads_as_one_bar_of_general_midi_drums_as_it_plays(browser, live):
    open_ready(browser, live.url)
    browser.execute_script("const b = drumApp.beat; b.lanes[1].muted = true; b.lanes[2].volume = 0.5;b.lanes[3].steps[3] = true")
    browser.find_element("id", "swing").send_keys("\ue014")  # arrow right: swing 5%
    wait_for(browser, "return drumApp.beat.swing > 0")
    beat = browser.execute_script(
        "const b = drumApp.beat; return {bpm: b.bpm, swing: b.swing,"
        " lanes: b.lanes.map(l => ({name: l.name, steps: l.steps, volume: l.volume, muted: l.muted}))}"
    )
    browser.find_element("id", "beat-midi").click()
    files = wait_download(browser, "beat_*.mid")
    assert files == [f"beat_{beat['bpm']}bpm_swing{round(beat['swing'] * 100)}.mid"]
    tempo, division, notes, end, offs = midi_notes((browser.downloads / files[0]).read_bytes())
    assert tempo == round(60e6 / beat["bpm"]) and division == 96 and end == 16 * 24  # one bar: it loops
    number = {"kick": 36, "snare": 38, "hat": 42, "free": 39}
    expected = sorted(
        (round((i + (beat["swing"] if i % 2 else 0)) * 24), number[lane["name"]], max(1, round(127 * lane["volume"])))
        for lane in beat["lanes"]
        if not lane["muted"]
        for i, on in enumerate(lane["steps"])
        if on
    )
    assert sorted(notes) == expected and offs == len(expected)
    assert not any(note == 38 for _, note, _ in notes)  # the muted snare
    assert (round((3 + beat["swing"]) * 24), 39, max(1, round(127 * beat["lanes"][3]["volume"]))) in notes
    assert browser.find_element("id", "notice").text == f"{files[0]}: one bar on General MIDI drums (channel 10)."


def test_a_beat_without_a_step_says_so_and_writes_no_midi(browser, live):
    open_ready(browser, live.url)
    browser.execute_script("drumApp.beat.lanes.forEach(l => { l.steps = l.steps.map(() => false); })")
    browser.find_element("id", "beat-midi").click()
    note = wait_for(
        browser, "const n = document.getElementById('notice');return n.classList.contains('error') && !n.hidden && n.textContent"
    )
    assert note == "The beat has no step to write: switch steps on in a lane that is not muted."
    assert downloaded(browser) == []
