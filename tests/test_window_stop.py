"""Stop and Esc silence everything, the beat included, in the real window with real X input.

The window plays through a real :class:`audio.player.Player` on the ALSA null device (see
conftest) with a tap that notes every non-silent frame the stream delivered. xdotool clicks
the beat's steps and Play beat, presses L for the loop and then Esc; the test checks the
frames that reached the output after the window handled Esc, and what the sound line said
meanwhile (the Beat tab hidden). Run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json

import numpy as np
import pytest
from window_driver import REAL_INPUT_MARKS, HeardBackend, click_middle, make_app, press, wait_workers_idle

from audio.pattern import STEPS
from gui import keys as k
from gui.state import READY

pytestmark = REAL_INPUT_MARKS

SOUND_TAB, BEAT_TAB = 0, 5


class LoudFrames:
    """A player tap that notes the non-silent frames it delivered: how many, and the last."""

    def __init__(self):
        self.loud = []  # (first frame, non-silent frames) per block

    def __call__(self, block, frame_index):
        count = int(np.count_nonzero(block))
        if count:
            self.loud.append((frame_index, int(np.flatnonzero(block)[-1]) + frame_index, count))

    def after(self, frame):
        """The non-silent frames delivered from absolute frame ``frame`` on."""
        return sum(count for first, last, count in self.loud if first >= frame)

    def last(self):
        return self.loud[-1][1] if self.loud else -1


@pytest.fixture
def window(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"volume": 1.0}))
    frames = LoudFrames()
    app = make_app(tmp_path, backend=HeardBackend(frames))
    assert app.run_until(
        lambda s: (
            s.model is not None and s.sound.audio is not None and s.player.ready and s.entries["gan"].state == READY and s.pattern.read
        )
    )
    app.window.TKroot.update()
    wait_workers_idle(app)
    yield app, frames
    app.close()


def sound_line(app):
    return app.window[k.PLAYING].get()


def test_esc_stops_the_loop_and_the_beat_and_nothing_reaches_the_output_after_it(window):
    app, frames = window
    app.window[k.TABS].Widget.select(BEAT_TAB)  # choosing a tab is not under test
    app.window.TKroot.update()
    for step in (0, 4, 8, 12):
        click_middle(app.window[(k.STEP, step)].Widget)  # the kick lane: the current sound
    assert app.run_until(lambda s: s.pattern.pattern.hits() == [(0, 0), (4, 0), (8, 0), (12, 0)])
    click_middle(app.window[k.PATTERN_PLAY].Widget)
    player = app.workers.player
    assert app.run_until(lambda s: s.pattern.playing and player.mixer.pattern_began[0] != 0)
    app.window[k.TABS].Widget.select(SOUND_TAB)  # the Beat tab hidden: the line still says so
    assert app.run_until(lambda s: sound_line(app) == "♫ beat at 120 BPM"), sound_line(app)
    press("l")
    assert app.run_until(
        lambda s: s.sound.looping and sound_line(app).startswith("⟳ looping ae_small_relu at") and sound_line(app).endswith("· ♫ beat")
    ), sound_line(app)
    heard_before = frames.last()
    assert app.run_until(lambda s: frames.last() > heard_before + player.stream_rate // 2), "nothing heard"
    press("Escape")
    assert app.run_until(lambda s: not s.sound.looping and not s.pattern.playing and app.workers.sound_room.idle)
    escaped = player.stats().frames_delivered  # every block from here on renders the stop
    assert sound_line(app) == "■ stopped"
    # half a second in which the mixer had nothing to play (no sound, no beat, no hit ringing);
    # the player stops its stream after a second of that, so no count of frames delivered after
    # Esc is waited for: on a busy machine the stream may have stopped before 'escaped' was read
    assert app.run_until(lambda s: player.mixer.silent_frames >= player.stream_rate // 2, timeout=20), (
        frames.after(escaped),
        player.stats().frames_delivered - escaped,
    )
    # the stop's and the beat's fades (4 ms) may still fall in the block after Esc: no more
    fade_end = escaped + player.stats().block_frames + player.mixer.crossfade_frames
    assert frames.after(fade_end) == 0 and frames.last() < fade_end, (frames.after(escaped), frames.last() - escaped)
    assert frames.after(escaped) <= player.stats().block_frames + player.mixer.crossfade_frames
    assert app.run_until(lambda s: sound_line(app) == "■ stopped" and app.window[k.PATTERN_PLAY].get_text() == "Play beat"), (
        sound_line(app)
    )


def test_the_stop_button_stops_the_beat_too(window):
    app, frames = window
    app.window[k.TABS].Widget.select(BEAT_TAB)
    app.window.TKroot.update()
    click_middle(app.window[(k.STEP, 2 * STEPS + 2)].Widget)  # the hat lane, on the current sound
    assert app.run_until(lambda s: s.pattern.pattern.hits() == [(2, 2)])
    click_middle(app.window[k.PATTERN_PLAY].Widget)
    player = app.workers.player
    assert app.run_until(lambda s: s.pattern.playing and frames.last() > 0)
    app.window[k.TABS].Widget.select(SOUND_TAB)
    app.window.TKroot.update()
    click_middle(app.window[k.STOP].Widget)
    assert app.run_until(lambda s: not s.pattern.playing and app.workers.sound_room.idle)
    stopped = player.stats().frames_delivered
    # half a second with nothing to play (as after Esc above)
    assert app.run_until(lambda s: player.mixer.silent_frames >= player.stream_rate // 2, timeout=20)
    assert frames.after(stopped + player.stats().block_frames + player.mixer.crossfade_frames) == 0
    assert sound_line(app) == "■ stopped"
