"""Auditioning in the real window: what the user hears and what is kept, with real X input.

The window plays through a real :class:`audio.player.Player` on the ALSA null device (see
conftest), with a tap that keeps every non-silent block the stream delivered: the sounds
the user heard, in order. Clicks, drags, keys and the level combo are real X events
(xdotool). Each test checks the samples heard against the fake model's decode of the point
(or the variation), and the saved file's bytes against those samples. Run under
``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""
import json

import numpy as np
import pytest
import soundfile
from test_window_real_input import (
    button_held,
    click,
    click_middle,
    make_app,
    near,
    one_pixel,
    pad_pixel_to_point,
    pick_in_combo,
    press,
    pytestmark,
    settle,
    xdo,
)

from audio.export import render_for_file, wav_bytes
from audio.level import AS_MADE, NORMALISED, apply_level, loudness_db
from audio.mixer import EDGE_FADE_SECONDS
from gui import keys as k
from gui.state import READY
from gui_fakes import FakeBackend, FakeModel
from models.variation import decode_recall

pytestmark = pytestmark  # the same markers: a display and xdotool

RATE = 22050  # the fake models' rate, and so the player's
EDGE = int(round(EDGE_FADE_SECONDS * RATE))


class HeardCapture:
    """A player tap that keeps the non-silent blocks and their frame numbers (preallocated)."""

    def __init__(self, capacity=1 << 21):
        self._samples = np.zeros(capacity, dtype=np.float32)
        self._frames = np.zeros(capacity, dtype=np.int64)
        self._count = 0

    def __call__(self, block, frame_index):
        n = block.shape[0]
        if self._count + n > self._samples.shape[0] or not block.any():
            return
        self._samples[self._count:self._count + n] = block
        self._frames[self._count:self._count + n] = np.arange(frame_index, frame_index + n)
        self._count += n

    def sounds(self):
        """The runs of non-silent blocks, each one sound as the user heard it."""
        count = self._count
        samples, frames = self._samples[:count].copy(), self._frames[:count].copy()
        breaks = np.flatnonzero(np.diff(frames) != 1) + 1
        return [s for s in np.split(samples, breaks) if s.size]


class HeardBackend(FakeBackend):
    """The fakes' models, with a real player whose output is captured."""

    def __init__(self, capture, **options):
        super().__init__(**options)
        self.capture = capture

    def make_player(self, sample_rate, device):
        from audio.player import Player

        player = Player(sample_rate, tap=self.capture)
        self.players.append(player)
        return player


def open_app(tmp_path, **remembered):
    """The window at full volume (so what is heard is the samples themselves)."""
    settings = tmp_path / "settings.json"
    if not settings.exists():
        settings.write_text(json.dumps({"volume": 1.0, **remembered}))
    capture = HeardCapture()
    app = make_app(tmp_path, backend=HeardBackend(capture))
    assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None
                         and s.player.ready and s.entries["gan"].state == READY)
    app.window.TKroot.update()
    settle(app)
    return app, capture


@pytest.fixture
def window(tmp_path):
    app, capture = open_app(tmp_path)
    yield app, capture
    app.close()


def model_sound(point, level=AS_MADE):
    return apply_level(FakeModel("ae_small_relu").decode([point])[0], level)


def is_heard(heard, expected):
    """Whether a heard sound is ``expected`` (its faded edges aside), wherever it starts."""
    core = expected[EDGE:-EDGE]
    if heard.size < core.size:  # a sound cut short by the next one is not all of it
        return False
    starts = np.flatnonzero(np.abs(heard[:heard.size - core.size + 1] - core[0]) <= 1e-6)
    return any(np.allclose(heard[start:start + core.size], core, atol=1e-6) for start in starts)


def wait_heard(app, capture, count):
    assert app.run_until(lambda s: len(capture.sounds()) >= count, timeout=20), len(capture.sounds())
    settle(app, 0.3)
    return capture.sounds()


def click_pad(app, px, py):
    pad = app.window[k.PAD].Widget
    expected = pad_pixel_to_point(app, px, py)
    click(pad, px, py)
    assert app.run_until(lambda s: near(s.sound.point, expected, one_pixel(app)))
    return app.state.point


def file_bytes_of(samples, rate=RATE):
    """The bytes a favourite holding ``samples`` has (44.1 kHz 16-bit WAV)."""
    data, file_rate = render_for_file(samples, rate)
    return wav_bytes(data, file_rate, "PCM_16")


def test_a_click_on_the_pad_plays_that_point_at_once(window):
    app, capture = window
    assert capture.sounds() == []  # opening the window is silent
    point = click_pad(app, 200, 90)
    heard = wait_heard(app, capture, 1)
    assert len(heard) == 1 and is_heard(heard[0], model_sound(point))


def test_a_drag_auditions_each_new_point_as_it_is_reached(window):
    app, capture = window
    pad = app.window[k.PAD].Widget
    reached = []
    with button_held(pad, 40, 260):
        for step in range(1, 7):
            px, py = 40 + 40 * step, 260 - 30 * step
            expected = pad_pixel_to_point(app, px, py)
            xdo("mousemove", "--sync", pad.winfo_rootx() + px, pad.winfo_rooty() + py)
            assert app.run_until(lambda s, e=expected: near(s.sound.point, e, one_pixel(app)))
            reached.append(app.state.sound.point)
            assert app.run_until(lambda s, n=len(reached): any(
                is_heard(h, model_sound(reached[-1])) for h in capture.sounds()[n - 1:]))
    settle(app)
    heard = capture.sounds()
    # each point reached was heard, in the order reached; the release added no sound
    order = [next(i for i, h in enumerate(heard) if is_heard(h, model_sound(p))) for p in reached]
    assert order == sorted(order) and len(set(order)) == 6
    assert len(heard) <= 7  # the press's point, then one per point reached: no backlog


def test_audition_off_keeps_the_pad_silent_and_is_remembered(tmp_path):
    app, capture = open_app(tmp_path)
    try:
        assert app.window[k.AUDITION].get() is True  # on by default
        click_middle(app.window[k.AUDITION].Widget)
        assert app.run_until(lambda s: s.sound.audition is False)
        click_pad(app, 120, 200)
        settle(app, 0.6)
        assert capture.sounds() == []
        press("space")  # Play still plays
        assert len(wait_heard(app, capture, 1)) == 1
    finally:
        app.close()
    assert json.loads((tmp_path / "settings.json").read_text())["audition"] is False
    app, capture = open_app(tmp_path)
    try:
        assert app.state.sound.audition is False and app.window[k.AUDITION].get() is False
        click_pad(app, 220, 100)
        settle(app, 0.6)
        assert capture.sounds() == []
    finally:
        app.close()


def choose_level(app, level):
    combo = app.window[k.LEVEL].Widget
    pick_in_combo(app, combo, list(combo.cget("values")).index(level), x=combo.winfo_width() - 8)
    assert app.run_until(lambda s: s.sound.level == level)
    assert app.window[k.LEVEL].get() == level


def test_the_normalised_level_is_heard_saved_recorded_and_remembered(tmp_path):
    app, capture = open_app(tmp_path)
    try:
        choose_level(app, NORMALISED)
        point = click_pad(app, 60, 300)  # a quiet corner: a short, fast-decaying sound
        heard = wait_heard(app, capture, 1)
        expected = model_sound(point, NORMALISED)
        assert is_heard(heard[0], expected) and not is_heard(heard[0], model_sound(point))
        assert abs(loudness_db(heard[0]) - loudness_db(expected)) < 0.5
        press("s")
        assert app.run_until(lambda s: len(s.favourites) == 1)
        wav = next((tmp_path / "favs").glob("*.wav"))
        assert wav.read_bytes() == file_bytes_of(expected)
        assert json.loads(wav.with_suffix(".json").read_text())["level"] == NORMALISED
        click_middle(app.window[k.SAVE_VARIATIONS].Widget)
        assert app.run_until(lambda s: len(s.favourites) == 5)
        for sidecar in (tmp_path / "favs").glob("*.json"):
            recall = json.loads(sidecar.read_text())
            assert recall["level"] == NORMALISED
            saved, _ = soundfile.read(sidecar.with_suffix(".wav"), dtype="float32")
            assert abs(loudness_db(saved) - (-18.0)) < 0.5  # each file at the common loudness
    finally:
        app.close()
    assert json.loads((tmp_path / "settings.json").read_text())["level"] == NORMALISED
    app, _ = open_app(tmp_path)
    try:
        assert app.state.sound.level == NORMALISED and app.window[k.LEVEL].get() == NORMALISED
    finally:
        app.close()


def turn_vary_on(app):
    slider = app.window[k.VARY].Widget
    click(slider, slider.winfo_width() - 4, slider.winfo_height() - 7)  # the trough: one step up
    assert app.run_until(lambda s: s.vary.amount > 0)


def test_s_with_vary_on_saves_the_variation_that_is_sounding(window, tmp_path):
    app, capture = window
    point = click_pad(app, 150, 150)
    settle(app, 0.5)
    turn_vary_on(app)
    before = len(capture.sounds())
    for count in (before + 1, before + 2):  # two presses: two variations, the second one sounding
        press("space")
        heard = wait_heard(app, capture, count)
    assert not is_heard(heard[-1], model_sound(point))
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    wav = next((tmp_path / "favs").glob("*.wav"))
    recall = json.loads(wav.with_suffix(".json").read_text())
    index = recall["settings"]["variation"]["index"]
    assert index == app.state.vary.repetition and wav.stem.endswith(f"_v{index}")
    kept = decode_recall(FakeModel("ae_small_relu"), recall)
    assert is_heard(heard[-1], kept)  # the sidecar recalls what was heard...
    assert wav.read_bytes() == file_bytes_of(kept)  # ...and the file holds it


def reopen_favourite(app, name):
    favourites = app.window[k.FAVOURITES].Widget
    row = next(i for i in range(favourites.size()) if favourites.get(i).startswith(name))
    favourites.see(row)
    app.window.TKroot.update()
    x, y, _, height = favourites.bbox(row)
    click(favourites, x + 20, y + height // 2)
    click_middle(app.window[k.REOPEN].Widget)


def test_reopening_a_favourite_plays_exactly_its_saved_sound_even_with_vary_on(window, tmp_path):
    app, capture = window
    click_pad(app, 250, 60)
    click_middle(app.window[k.SAVE_VARIATIONS].Widget)
    assert app.run_until(lambda s: len(s.favourites) == 4)
    names = sorted(p.name for p in (tmp_path / "favs").glob("*.wav"))
    assert [n.rsplit("_", 1)[1] for n in names] == ["001.wav", "v1.wav", "v2.wav", "v3.wav"]
    click_pad(app, 40, 40)  # elsewhere, so reopening has to move
    turn_vary_on(app)
    model = FakeModel("ae_small_relu")
    for name in (names[2], names[0]):  # a variation, then the sound itself
        settle(app, 0.5)
        before = len(capture.sounds())
        reopen_favourite(app, name)
        heard = wait_heard(app, capture, before + 1)
        assert len(heard) == before + 1  # one sound: the favourite's, not also a fresh variation
        wav = tmp_path / "favs" / name
        recall = json.loads(wav.with_suffix(".json").read_text())
        saved = decode_recall(model, recall)
        assert is_heard(heard[-1], saved)
        assert wav.read_bytes() == file_bytes_of(saved)  # what is heard is what the file holds
        assert near(app.state.point, recall["point"], 1e-9)


def test_a_kit_of_variations_names_each_apart_and_takes_the_level(tmp_path):
    import io
    import tarfile
    import xml.etree.ElementTree as ET

    from test_window_kits_history_real_input import select_all_favourites, type_in_dialog

    app, _ = open_app(tmp_path, level=NORMALISED)
    try:
        click_pad(app, 90, 230)
        click_middle(app.window[k.SAVE_VARIATIONS].Widget)
        assert app.run_until(lambda s: len(s.favourites) == 4)
        settle(app)
        select_all_favourites(app)
        typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "Variations"))
        click_middle(app.window[k.EXPORT_KIT].Widget)
        assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30), app.state.message
        typing.join(5)
    finally:
        app.close()
    with tarfile.open(tmp_path / "Variations.h2drumkit") as archive:
        members = {m.name.split("/", 1)[1]: archive.extractfile(m).read()
                   for m in archive.getmembers() if m.isfile()}
    xml = ET.fromstring(members["drumkit.xml"])
    names = [e.text for e in xml.iter() if e.tag.endswith("}instrument")
             for e in e if e.tag.endswith("}name")]
    assert len(names) == 4 and len(set(names)) == 4, names
    wavs = [name for name in members if name.endswith(".wav")]
    assert len(wavs) == 4
    for name in wavs:
        samples, _ = soundfile.read(io.BytesIO(members[name]), dtype="float32")
        assert abs(loudness_db(samples) - (-18.0)) < 0.5  # the normalised level, not one peak
