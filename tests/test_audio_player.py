"""The player on a real PortAudio stream (conftest points ALSA at a null device).

The null device takes samples as fast as the callback makes them, so these tests wait for
conditions (with generous time-outs) and then check the samples the callback delivered,
captured by a BlockCapture tap, frame by frame.
"""

import importlib.abc
import sys
import time

import numpy as np
import pytest

from audio import player as player_module
from audio.capture import BlockCapture
from audio.errors import AudioError
from audio.mixer import CROSSFADE_SECONDS, EDGE_FADE_SECONDS, Mixer
from audio.player import Player, list_output_devices

RATE = 22050


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.0005)
    return True


def sine(hz, seconds, amplitude=0.5, phase=0.0):
    t = np.arange(int(round(seconds * RATE))) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t + phase)).astype(np.float32)


def max_step(y):
    return float(np.max(np.abs(np.diff(y))))


@pytest.fixture
def capture():
    return BlockCapture(1 << 19)


@pytest.fixture
def player(capture):
    p = Player(RATE, tap=capture)
    assert p.available, p.reason
    yield p
    p.close()


def latest_is_sounding(player):
    """Whether the latest request has begun leaving the callback."""
    stats = player.stats()
    return stats.sounding[0] == stats.requested_serial


def captured_from(capture, frame, count):
    """``count`` captured frames from absolute frame index ``frame``."""
    assert wait_for(lambda: capture.start_frame is not None and capture.samples().shape[0] >= frame - capture.start_frame + count)
    offset = frame - capture.start_frame
    assert offset >= 0
    return capture.samples()[offset : offset + count]


def test_null_device_gives_a_real_stream():
    with Player(RATE) as p:
        assert p.available and p.reason == ""
        assert p.stats().block_frames == 256 and p.stream_rate == RATE
    assert (0, "default") in list_output_devices()


def test_play_once_delivers_the_sound_then_silence(player, capture):
    sound = sine(440, 0.1)
    capture.arm()
    player.play(sound)
    assert not player.is_looping
    assert wait_for(lambda: not player.is_playing)
    stats = player.stats()
    serial, frame, _ = stats.sounding
    assert serial == stats.requested_serial
    y = captured_from(capture, frame, sound.shape[0] + 2000)
    edge = int(round(EDGE_FADE_SECONDS * RATE))
    np.testing.assert_array_equal(y[edge : sound.shape[0] - edge], sound[edge:-edge])
    assert np.all(y[sound.shape[0] :] == 0)
    assert player.stats().frames_delivered >= frame + sound.shape[0]
    assert player.stats().callback_seconds_max > 0 and player.stats().callback_error is None


def test_loop_repeats_the_sound_then_the_gap(player, capture):
    sound = sine(330, 0.05)
    gap = 0.01
    period = sound.shape[0] + int(round(gap * RATE))
    capture.arm()
    player.loop(sound, gap_seconds=gap)
    assert wait_for(lambda: latest_is_sounding(player))
    start = player.stats().sounding[1]
    y = captured_from(capture, start, 4 * period)
    assert player.is_looping
    first = y[:period]
    for k in range(1, 4):
        np.testing.assert_array_equal(y[k * period : (k + 1) * period], first)
    assert np.all(first[sound.shape[0] :] == 0) and np.max(np.abs(first)) > 0.4
    assert player.stats().frames_delivered >= start + 4 * period


def test_swap_while_looping_lands_on_the_next_loop_start_without_a_jump(player, capture):
    # Both sounds stop and start far from zero: only the edge fades keep the seam smooth.
    a = sine(220, 0.0511, amplitude=0.6, phase=0.5)
    b = sine(330, 0.0437, amplitude=0.6, phase=-2.0)
    assert abs(a[-1] - b[0]) > 0.5
    player.loop(a)
    assert wait_for(lambda: latest_is_sounding(player))
    a_start = player.stats().sounding[1]
    capture.arm()
    assert wait_for(lambda: capture.samples().shape[0] > a.shape[0])
    player.swap(b)
    assert wait_for(lambda: latest_is_sounding(player))
    seam = player.stats().sounding[1]
    assert (seam - a_start) % a.shape[0] == 0, "the new sound must start exactly at a loop start"
    y = captured_from(capture, seam - a.shape[0], a.shape[0] + 2 * b.shape[0])
    np.testing.assert_array_equal(y[a.shape[0] + 50 : a.shape[0] + b.shape[0] - 50], b[50:-50])
    np.testing.assert_array_equal(y[50 : a.shape[0] - 50], a[50:-50])
    window = y[a.shape[0] - 100 : a.shape[0] + 100]
    assert max_step(window) <= max(max_step(a), max_step(b))
    assert player.is_looping


def test_began_and_seen_serials_say_when_a_next_repetition_swap_sounds_or_never_will(player):
    a, b = sine(220, 0.05), sine(330, 0.05)
    player.loop(a)
    assert wait_for(lambda: (stats := player.stats()).began_serial == stats.requested_serial)
    player.swap(b)
    swapped = player.stats().requested_serial
    assert wait_for(lambda: player.stats().began_serial == swapped)  # the loop came round to it
    assert player.stats().seen_serial == swapped
    player.swap(a)
    waiting = player.stats().requested_serial
    player.stop()
    assert wait_for(lambda: (stats := player.stats()).seen_serial == stats.requested_serial)
    assert player.stats().began_serial in (swapped, waiting)  # a stop begins nothing
    assert waiting < player.stats().seen_serial  # seen past it: if it has not begun, it never will


def test_immediate_swap_crossfades_within_5_ms_at_the_same_loop_position(player, capture):
    a = sine(220, 0.5)
    b = sine(330, 0.5, phase=1.0)
    player.loop(a)
    assert wait_for(lambda: latest_is_sounding(player))
    a_start = player.stats().sounding[1]
    capture.arm()
    assert wait_for(lambda: capture.samples().shape[0] > 3000)
    player.swap(b, immediate=True)
    assert wait_for(lambda: latest_is_sounding(player))
    swap_frame = player.stats().sounding[1]
    first = swap_frame - 2000
    y = captured_from(capture, first, 6000)
    positions = (np.arange(first, first + 6000) - a_start) % a.shape[0]
    a_played, b_played = player.mixer.prepare(a), player.mixer.prepare(b)  # edges faded
    # Outside the crossfade the samples are copies, so they compare exactly.
    fade_start = np.flatnonzero(y != a_played[positions])[0]
    fade_end = np.flatnonzero(y != b_played[positions])[-1]
    # (a crossfade sample can match a sound by chance where the two nearly agree: +-2)
    assert 0 <= first + fade_start - swap_frame <= 2
    crossfade = fade_end - fade_start + 1
    assert int(round(CROSSFADE_SECONDS * RATE)) - 2 <= crossfade <= 0.005 * RATE
    assert max_step(y) <= 1.2 * max(max_step(a), max_step(b))


def test_stop_fades_out_within_5_ms_and_goes_silent(player, capture):
    a = sine(200, 0.5, amplitude=0.8)
    player.loop(a)
    assert wait_for(lambda: latest_is_sounding(player))
    a_start = player.stats().sounding[1]
    wait_for(lambda: player.stats().frames_delivered > a_start + 3000)
    capture.arm()
    player.stop()
    assert not player.is_playing and not player.is_looping
    first = wait_for(lambda: capture.samples().shape[0] > 8000) and capture.start_frame
    y = capture.samples()[:8000]
    positions = (np.arange(first, first + 8000) - a_start) % a.shape[0]
    fade_start = np.flatnonzero(np.abs(y - player.mixer.prepare(a)[positions]) > 1e-6)[0]
    last_sound = np.flatnonzero(y)[-1]
    assert 1 <= last_sound - fade_start + 1 <= 0.005 * RATE
    assert max_step(y) <= max_step(a)


def test_volume_glides_to_its_new_value(player, capture):
    level = np.full(RATE // 10, 0.5, dtype=np.float32)
    player.loop(level)
    assert wait_for(lambda: latest_is_sounding(player))
    start = player.stats().sounding[1]
    capture.arm()
    assert wait_for(lambda: capture.samples().shape[0] > 3000)
    player.volume = 0.25
    assert player.volume == 0.25
    assert wait_for(lambda: capture.full)
    y = capture.samples()
    positions = (capture.start_frame + np.arange(y.shape[0]) - start) % level.shape[0]
    played = player.mixer.prepare(level)[positions]
    inside = played > 0.4  # away from the faded loop seams
    gain = np.where(inside, y / np.where(inside, played, 1.0), np.nan)
    assert gain[inside][0] == pytest.approx(1.0) and gain[inside][-1] == pytest.approx(0.25)
    gliding = np.flatnonzero(inside & (gain < 1 - 1e-6) & (gain > 0.25 + 1e-6))
    # No zipper: the drop is spread over at least 5 ms, in steps of at most 1/40 of it.
    assert gliding[-1] - gliding[0] + 1 >= 0.005 * RATE
    steps = np.abs(np.diff(gain))[inside[1:] & inside[:-1]]
    assert np.max(steps) < 0.75 / 40
    player.volume = 7
    assert player.volume == 1.0
    with pytest.raises(AudioError, match="volume"):
        player.volume = float("nan")


def test_stream_stops_when_idle_and_restarts_for_the_next_sound(player, monkeypatch):
    monkeypatch.setattr(player_module, "IDLE_CHECK_SECONDS", 0.02)
    player.play(sine(440, 0.05))
    assert wait_for(lambda: not player._stream.active)
    delivered = player.stats().frames_delivered
    player.play(sine(440, 0.05))
    assert player._stream.active
    assert wait_for(lambda: not player.is_playing)
    assert player.stats().frames_delivered > delivered


class _Status:
    def __init__(self, underflow=False):
        self.output_underflow = underflow


@pytest.fixture
def mixer():
    """The player's mixer with no device: the test renders each block itself, so what the
    mixer sees between two requests is decided by the test, not by the scheduler."""
    return Mixer(RATE)


class Rendered:
    """Renders ``blocks`` blocks of 256 frames, counting frames as a stream would."""

    def __init__(self, mixer):
        self.mixer = mixer
        self.frame = 0

    def __call__(self, blocks):
        out = np.zeros(256 * blocks, dtype=np.float32)
        for k in range(blocks):
            self.mixer.render(out[256 * k : 256 * (k + 1)], self.frame)
            self.frame += 256
        return out


def play(mixer, sound, looping=False):
    mixer.start(mixer.prepare(sound), looping=looping, gap_frames=0)


def swap(mixer, sound, immediate=False):
    base = mixer.replaceable()
    if base is not None:
        mixer.swap(base, mixer.prepare(sound, None, base.gap_frames), immediate=immediate)


def test_swap_before_the_mixer_saw_the_play_plays_the_new_sound(mixer):
    a, b = sine(440, 0.05), sine(330, 0.05, amplitude=0.3)
    play(mixer, a)
    swap(mixer, b)
    y = Rendered(mixer)(8)
    assert (mixer.began_serial, mixer.began_frame) == (mixer.request.serial, 0)
    np.testing.assert_array_equal(y[100 : b.shape[0] - 100], b[100:-100])
    assert not mixer.playing


def test_swap_of_a_sound_that_just_ended_is_dropped(mixer):
    render = Rendered(mixer)
    play(mixer, sine(440, 0.01))
    render(2)
    assert not mixer.playing
    assert mixer.replaceable() is None  # the GUI sees the end: nothing to replace
    swap(mixer, sine(330, 0.05))
    assert mixer.request.serial == 1
    # The race the GUI cannot see: its swap arrives just after the mixer ended the sound.
    mixer.swap(mixer.request, mixer.prepare(sine(330, 0.05)), immediate=True)
    assert mixer.playing
    y = render(4)
    assert not np.any(y) and not mixer.playing and mixer.began_serial == 1


def test_a_swap_beyond_the_end_of_a_shorter_one_shot_ends_it(mixer):
    render = Rendered(mixer)
    play(mixer, sine(440, 0.1))
    render(4)
    swap(mixer, sine(330, 0.01), immediate=True)
    y = render(4)
    assert not mixer.playing
    assert np.all(y[int(CROSSFADE_SECONDS * RATE) + 1 :] == 0)


def test_latest_swap_wins_at_the_loop_start(mixer):
    a, b, c = sine(440, 0.05), sine(330, 0.05, amplitude=0.2), sine(550, 0.05, amplitude=0.3)
    render = Rendered(mixer)
    play(mixer, a, looping=True)
    render(1)
    swap(mixer, b)
    render(1)
    swap(mixer, c)
    y = render(8)
    start = a.shape[0] - 512
    assert (mixer.began_serial, mixer.began_frame) == (mixer.request.serial, a.shape[0])
    np.testing.assert_array_equal(y[start + 100 : start + c.shape[0] - 100], c[100:-100])


def test_a_stop_handed_over_is_rendered_as_a_short_fade(mixer):
    render = Rendered(mixer)
    play(mixer, np.full(RATE, 0.5, dtype=np.float32), looping=True)
    render(2)
    mixer.stop()
    assert not mixer.playing and not mixer.settled
    y = render(2)
    assert mixer.settled and np.all(y[int(CROSSFADE_SECONDS * RATE) + 1 :] == 0)
    render(4)
    assert mixer.silent_frames >= 4 * 256


def test_swap_when_nothing_plays_does_nothing(player):
    player.swap(sine(440, 0.05))
    assert player.stats().requested_serial == 0 and not player.is_playing


def test_underruns_are_counted(monkeypatch):
    # The one test that calls the stream's callback itself: PortAudio's underflow flag
    # cannot be provoked on the null device.
    monkeypatch.setattr(Player, "_ensure_running", lambda self: None)
    with Player(RATE) as driven:
        assert driven.available, driven.reason
        out = np.zeros((256, 2), dtype=np.float32)
        driven._callback(out, 256, None, _Status(underflow=True))
        driven._callback(out, 256, None, _Status(underflow=False))
        driven._callback(out, 256, None, _Status(underflow=True))
        assert driven.stats().underruns == 2


def test_a_failing_callback_plays_silence_and_keeps_the_stream():
    calls = []

    def tap_failing_once(block, frame_index):
        calls.append(frame_index)
        if len(calls) == 1:
            raise RuntimeError("tap bug")

    with Player(RATE, tap=tap_failing_once) as p:
        p.loop(sine(440, 0.05))
        assert wait_for(lambda: p.stats().callback_error is not None)
        assert "tap bug" in str(p.stats().callback_error)
        p.play(sine(330, 0.05))
        assert wait_for(lambda: latest_is_sounding(p))
        assert wait_for(lambda: not p.is_playing)
        assert p.stats().frames_delivered > 0.05 * RATE


def test_bad_buffers_and_gaps_are_refused_with_a_reason(player):
    with pytest.raises(AudioError, match="non-empty"):
        player.play(np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioError, match="non-empty"):
        player.play(np.zeros((2, 2, 2), dtype=np.float32))
    with pytest.raises(AudioError, match="gap"):
        player.loop(sine(440, 0.05), gap_seconds=-1)


def test_nan_plays_as_silence_and_loud_samples_clip(mixer):
    data = mixer.prepare(np.array([np.nan, 3.0, -3.0] * 100, dtype=np.float32), None, 10)
    assert data.shape == (310,) and not data.flags.writeable
    assert np.all(np.isfinite(data)) and np.max(np.abs(data)) <= 1.0 and np.all(data[-10:] == 0)


def test_stereo_and_other_rates_are_mixed_and_resampled(mixer):
    stereo = np.stack([sine(440, 0.1), -sine(440, 0.1)], axis=1)
    assert np.all(mixer.prepare(stereo) == 0)
    assert abs(mixer.prepare(sine(440, 0.1), 44100).shape[0] - 0.1 * RATE / 2) <= 1


def test_a_missing_device_makes_the_player_unavailable_without_raising():
    p = Player(RATE, device="no such device 4711")
    assert not p.available
    assert "no such device 4711" in p.reason
    p.play(sine(440, 0.05))
    p.loop(sine(440, 0.05))
    p.swap(sine(440, 0.05), immediate=True)
    p.stop()
    p.volume = 0.5
    assert not p.is_playing and p.stats().frames_delivered == 0
    p.close()


def test_no_default_output_is_said_in_words_not_portaudios(monkeypatch):
    import sounddevice as sd

    def no_default(device=None, kind=None):
        raise sd.PortAudioError("Error querying device -1")  # what PortAudio says with no output

    monkeypatch.setattr(sd, "query_devices", no_default)
    p = Player(RATE)
    assert not p.available and p.reason == "no sound output was found on this machine"
    p.close()


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Imports of sounddevice fail as they do when libportaudio2 is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_missing_portaudio_makes_the_player_unavailable_without_raising(monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    p = Player(RATE)
    assert not p.available and "PortAudio" in p.reason
    p.loop(sine(440, 0.05))
    assert not p.is_playing
    assert list_output_devices() == []
    p.close()


def test_stream_rate_falls_back_to_the_device_default(monkeypatch):
    import sounddevice

    real_stream = sounddevice.OutputStream

    def picky_stream(*args, samplerate, **kwargs):
        if samplerate != 44100:
            raise sounddevice.PortAudioError("Invalid sample rate")
        return real_stream(*args, samplerate=samplerate, **kwargs)

    monkeypatch.setattr(sounddevice, "OutputStream", picky_stream)
    with Player(RATE) as p:
        assert p.available and p.stream_rate == 44100
        p.play(sine(440, 0.1))
        assert p.mixer.request.data.shape[0] == 2 * round(0.1 * RATE)
        assert wait_for(lambda: not p.is_playing)


def test_a_device_that_cannot_be_opened_is_reported(monkeypatch):
    import sounddevice

    def broken_stream(*args, **kwargs):
        raise sounddevice.PortAudioError("Device unavailable")

    monkeypatch.setattr(sounddevice, "OutputStream", broken_stream)
    p = Player(RATE)
    assert not p.available and "Device unavailable" in p.reason and "cannot be opened" in p.reason
