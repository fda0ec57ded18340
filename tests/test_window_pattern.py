"""The Beat tab driven as a user drives it: xdotool clicks steps, presses Play beat, moves
the point; what the user hears is read back from the real player's stream (a BlockCapture
tap on the ALSA null device), frame by frame.

Needs a display and xdotool: run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json

import hydrogen
import numpy as np
import pytest
import soundfile
from window_driver import (
    REAL_INPUT_MARKS,
    click,
    click_middle,
    make_app,
    pad_pixel_to_point,
    pick_in_combo,
    press,
    select_all_favourites,
    type_in_dialog,
    wait_pad_settled,
)

from audio.capture import BlockCapture
from audio.level import DEFAULT_LEVEL, apply_level
from audio.pattern import PATTERN_FILE, STEPS, step_frame
from audio.player import Player
from gui import keys as k
from gui.state import READY
from gui_fakes import FakeBackend

pytestmark = REAL_INPUT_MARKS

BEAT_TAB = 5
KICKS = (0, 4, 8, 12)
HATS = (2, 6, 10, 14)


class HeardBackend(FakeBackend):
    """The fakes' models with the real player, its blocks captured."""

    def __init__(self, capture):
        super().__init__()
        self.capture = capture

    def make_player(self, sample_rate, device):
        player = Player(sample_rate, tap=self.capture)
        self.players.append(player)
        return player


@pytest.fixture
def heard(tmp_path):
    capture = BlockCapture(1 << 20)
    app = make_app(tmp_path, backend=HeardBackend(capture))
    assert app.run_until(
        lambda s: (
            s.model is not None and s.sound.audio is not None and s.player.ready and s.entries["gan"].state == READY and s.pattern.read
        )
    )
    app.window[k.TABS].Widget.select(BEAT_TAB)  # choosing a tab is not under test
    app.window.TKroot.update()
    yield app, capture
    app.close()


def click_step(app, lane, step):
    click_middle(app.window[(k.STEP, lane * STEPS + step)].Widget)


def captured(capture, start, count):
    """``count`` frames heard from absolute frame ``start``, once they have been heard."""

    def enough(_state):
        return capture.start_frame is not None and capture.samples().shape[0] >= start - capture.start_frame + count

    return enough, lambda: capture.samples()[start - capture.start_frame : start - capture.start_frame + count]


def expected_mix(hits, bars, tempo, rate, sound_of):
    """What the pattern sounds like: each hit's prepared sound added at its step's frame."""
    total = step_frame(bars * STEPS, tempo, rate)
    out = np.zeros(total + 1 << 14, dtype=np.float64)
    for bar in range(bars):
        for step, data in hits:
            at = step_frame(bar * STEPS + step, tempo, rate)
            sound = sound_of(bar, step, data)
            out[at : at + sound.shape[0]] += sound
    return out[:total]


def test_clicked_steps_play_on_their_frames_loop_after_loop_and_the_point_swaps_at_the_next_hit(heard, tmp_path):
    app, capture = heard
    for step in KICKS:
        click_step(app, 0, step)
    for step in HATS:
        click_step(app, 2, step)
    assert app.run_until(lambda s: s.pattern.pattern.hits() == sorted([(st, 0) for st in KICKS] + [(st, 2) for st in HATS]))
    assert app.run_until(
        lambda s: json.loads((tmp_path / "favs" / PATTERN_FILE).read_text())["lanes"][0]["steps"] == "x...x...x...x..."
    )  # kept beside the favourites
    player = app.workers.player
    first_sound = app.state.sound.audio
    capture.arm()
    click_middle(app.window[k.PATTERN_PLAY].Widget)
    assert app.run_until(lambda s: player.mixer.pattern_began[0] != 0)
    assert app.window[k.PATTERN_PLAY].get_text() == "Stop beat"
    origin = player.mixer.pattern_began[1]
    rate, tempo = player.stream_rate, app.state.pattern.pattern.tempo
    data = player.mixer.prepare(apply_level(first_sound, DEFAULT_LEVEL), app.state.model.sample_rate)
    volume = player.volume
    bars = 3
    enough, heard_frames = captured(capture, origin, step_frame(bars * STEPS, tempo, rate))
    assert app.run_until(enough, timeout=60)
    expected = expected_mix([(s, data) for s in sorted(KICKS + HATS)], bars, tempo, rate, lambda _bar, _step, sound: sound)
    # three whole bars, every hit on its frame, each bar straight after the one before: no
    # gap. (A new stream's first frames glide from full gain to the volume, over 10 ms: the
    # comparison starts after the first hit.)
    glide = data.shape[0]
    assert np.max(np.abs(heard_frames()[:glide])) > 0.1  # the first hit is there, at once
    np.testing.assert_allclose(heard_frames()[glide:], volume * expected[glide:], atol=2e-6)

    # move the point while the beat plays: the lanes on the current sound change at their next hit
    pad = app.window[k.PAD].Widget
    click(pad, 40, 40)
    target = pad_pixel_to_point(app, 40, 40)
    assert app.run_until(
        lambda s: s.sound.point is not None and abs(s.sound.point[0] - target[0]) < 0.05 and s.sound.audio is not first_sound
    )
    # the click's decode and the release's are done, and the state's point is the one sounding
    assert app.run_until(lambda s: app.workers.idle and s.sound.point == s.point, timeout=30)
    new_data = player.mixer.prepare(apply_level(app.state.sound.audio, DEFAULT_LEVEL), app.state.model.sample_rate)
    assert not np.allclose(new_data[: data.shape[0]], data[: new_data.shape[0]])
    request = player.mixer.pattern_request
    assert request.serial > 1 and not request.restart  # an update of the beat, not a new one
    assert app.run_until(lambda s: player.mixer.pattern_seen is request, timeout=30)
    # The null device plays far faster than real time, so listen afresh from here: the next
    # whole bar, on the pattern's own timeline (its origin never moved), has the new sound
    # in every lane that follows the point. (That it comes at the very next hit is
    # test_pattern.py's, frame by frame.)
    capture.arm()
    assert app.run_until(lambda s: capture.start_frame is not None)
    bar_length = step_frame(STEPS, tempo, rate)
    bar = (capture.start_frame - origin) // bar_length + 1
    start = origin + step_frame(bar * STEPS, tempo, rate)
    enough, heard_frames = captured(capture, start, bar_length)
    assert app.run_until(enough, timeout=60)
    assert player.mixer.pattern_began[1] == origin  # the beat was kept, not restarted
    expected = np.zeros(bar_length + (1 << 14))
    for step in sorted(KICKS + HATS):
        at = step_frame(bar * STEPS + step, tempo, rate) - step_frame(bar * STEPS, tempo, rate)
        expected[at : at + new_data.shape[0]] += new_data
    np.testing.assert_allclose(heard_frames(), volume * expected[:bar_length], atol=2e-6)

    click_middle(app.window[k.PATTERN_PLAY].Widget)
    assert app.run_until(lambda s: not player.mixer.pattern_playing)
    assert app.window[k.PATTERN_PLAY].get_text() == "Play beat"


def test_the_kept_beat_comes_back_in_the_next_session(tmp_path):
    app = make_app(tmp_path)
    try:
        assert app.run_until(lambda s: s.model is not None and s.pattern.read)
        app.window[k.TABS].Widget.select(BEAT_TAB)
        app.window.TKroot.update()
        click_step(app, 1, 4)
        click_step(app, 1, 12)
        tempo = app.window[k.PATTERN_TEMPO].Widget
        click(tempo, tempo.winfo_width() - 5, 4)  # its up arrow: 121 BPM
        assert app.run_until(lambda s: s.pattern.pattern.tempo == 121)
        path = tmp_path / "favs" / PATTERN_FILE
        assert app.run_until(lambda s: path.exists() and json.loads(path.read_text())["tempo"] == 121)
    finally:
        app.close()
    again = make_app(tmp_path)
    try:
        assert again.run_until(lambda s: s.pattern.read and s.pattern.pattern.tempo == 121)
        assert again.state.pattern.pattern.hits() == [(4, 1), (12, 1)]
        assert again.run_until(lambda s: int(again.window[k.PATTERN_TEMPO].get()) == 121), again.window[
            k.PATTERN_TEMPO
        ].get()  # the box shows it
    finally:
        again.close()


def test_a_users_pattern_json_is_left_as_it_was_and_the_window_says_so(tmp_path):
    favs = tmp_path / "favs"
    favs.mkdir()
    (favs / PATTERN_FILE).write_text("my notes, not a beat")
    app = make_app(tmp_path)
    try:
        assert app.run_until(lambda s: s.pattern.read)
        app.window[k.TABS].Widget.select(BEAT_TAB)
        app.window.TKroot.update()
        click_step(app, 0, 0)
        assert app.run_until(lambda s: s.pattern.pattern.hits() == [(0, 0)])
        # a save the step had asked for is written by the time the workers are idle
        assert app.run_until(lambda s: app.workers.idle)
        assert (favs / PATTERN_FILE).read_text() == "my notes, not a beat"
        assert app.run_until(lambda s: app.window[k.PATTERN_NOTE].get().startswith("not kept: pattern.json")), app.window[
            k.PATTERN_NOTE
        ].get()
    finally:
        app.close()


def choose_in_combo(app, key, downs):
    """Open a combo with a click and pick the entry ``downs`` below the shown one."""
    combo = app.window[key].Widget
    pick_in_combo(app, combo, list(combo.cget("values")).index(combo.get()) + downs)


@pytest.mark.skipif(hydrogen.H2CLI is None, reason="h2cli (Debian package hydrogen) is not installed")
def test_export_kit_writes_the_beat_as_a_song_that_hydrogen_plays_on_its_steps(tmp_path):
    app = make_app(tmp_path)
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None and s.pattern.read)
        wait_pad_settled(app)
        for px in (80, 240):
            x = pad_pixel_to_point(app, px, 150)[0]
            click(app.window[k.PAD].Widget, px, 150)
            assert app.run_until(lambda s, x=x: s.sound.point is not None and abs(s.sound.point[0] - x) < 0.05)
            press("s")
            assert app.run_until(lambda s, n=px // 80: len(s.favourites) == min(n, 2))
        names = [f.path.name for f in app.state.favourites]
        xs = [f.point[0] for f in app.state.favourites]  # the kick lane's, the hat lane's
        app.window[k.TABS].Widget.select(BEAT_TAB)
        app.window.TKroot.update()
        choose_in_combo(app, (k.LANE_SOUND, 0), 1)
        choose_in_combo(app, (k.LANE_SOUND, 2), 2)
        assert app.run_until(lambda s: s.pattern.pattern.sources[0] == names[0] and s.pattern.pattern.sources[2] == names[1])
        for lane, step in ((0, 0), (0, 8), (2, 4), (2, 12), (1, 6)):  # snare: the current sound
            click_step(app, lane, step)
        assert app.run_until(lambda s: len(s.pattern.pattern.hits()) == 5)
        select_all_favourites(app)
        typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "Beat"))
        click_middle(app.window[k.EXPORT_KIT].Widget)
        assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30)
        typing.join(5)
        assert "the beat as Beat.h2song" in app.state.message
        assert "snare: follows the current sound" in app.state.message
    finally:
        app.close()
    home = tmp_path / "home"
    installed = hydrogen.h2cli(home, "--install", tmp_path / "Beat.h2drumkit")
    assert installed.returncode == 0, installed.stderr[-2000:]
    rendered = tmp_path / "beat.wav"
    result = hydrogen.h2cli(home, "-s", tmp_path / "Beat.h2song", "-k", "Beat", "-o", rendered)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    audio, rate = soundfile.read(rendered)
    found = hydrogen.onsets(audio, rate)
    step = 60 / 120 / 4
    assert len(found) == 4, found  # the snare lane's current sound is not in the kit
    for expected, onset in zip((0, 4, 8, 12), found):
        assert abs(onset - expected * step) < 0.02
    mono = audio.mean(axis=1) if audio.ndim > 1 else audio
    crossings = [int(np.count_nonzero(np.diff(np.signbit(mono[int(t * rate) : int((t + 0.05) * rate)])))) for t in found]
    # each lane plays its own favourite: the one further right on the pad is the higher (the
    # fakes' x sets the pitch)
    assert crossings[0] == crossings[2] and crossings[1] == crossings[3]
    high, low = (crossings[0], crossings[1]) if xs[0] > xs[1] else (crossings[1], crossings[0])
    assert high > 1.5 * low
