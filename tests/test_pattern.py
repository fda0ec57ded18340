"""The step pattern: its arithmetic, its file beside the favourites, and the mixer playing it
frame by frame (no device: the mixer renders into arrays)."""

import json

import numpy as np
import pytest
from test_gui_handlers import decoded, info_of, of_type, report, send

from audio.errors import AudioError
from audio.mixer import PATTERN_VOICES, Mixer
from audio.pattern import (
    CURRENT,
    LANES,
    PATTERN_FILE,
    STEPS,
    Pattern,
    bar_frames,
    check_tempo,
    read_pattern,
    step_frame,
    write_pattern,
)
from gui import effects as fx
from gui import events as ev
from gui import keys as k
from gui.state import AppState, ModelEntry

RATE = 44100


def four_on_the_floor():
    pattern = Pattern()
    for step in (0, 4, 8, 12):
        pattern = pattern.toggled(0, step)
    for step in (4, 12):
        pattern = pattern.toggled(1, step)
    return pattern.toggled(2, 2).with_tempo(120)


def test_steps_are_sixteenths_counted_from_the_start_without_drift():
    assert step_frame(1, 120, RATE) == 5513  # 5512.5 frames, rounded half up
    assert bar_frames(120, RATE) == 2 * RATE  # a 4/4 bar at 120 BPM is two seconds
    # 7 minutes at 133 BPM: the step is where the exact tempo puts it, to the frame
    index = 133 * 4 * 7
    assert step_frame(index + 1, 133, RATE) == int((index + 1) * RATE * 60 / (133 * 4) + 0.5)
    assert step_frame(index, 133, RATE) == 7 * 60 * RATE


def test_tempo_outside_40_to_300_is_refused_with_the_range():
    assert check_tempo("90") == 90
    for bad in (39, 301, 120.5, "fast", None, float("nan")):
        with pytest.raises(AudioError, match="from 40 to 300 BPM"):
            check_tempo(bad)


def test_a_pattern_round_trips_through_its_file(tmp_path):
    pattern = four_on_the_floor().with_source(3, "vae_a_x+0.10_y-0.20_001.wav")
    path = write_pattern(tmp_path, pattern)
    assert path == tmp_path / PATTERN_FILE
    record = json.loads(path.read_text())
    assert [lane["name"] for lane in record["lanes"]] == list(LANES)
    assert record["lanes"][0]["steps"] == "x...x...x...x..."
    assert read_pattern(tmp_path) == (pattern, None)
    assert read_pattern(tmp_path / "none") == (None, None)


def test_a_users_pattern_json_is_never_replaced(tmp_path):
    theirs = tmp_path / PATTERN_FILE
    theirs.write_text('{"my": "notes"}')
    pattern, reason = read_pattern(tmp_path)
    assert pattern is None and reason == "pattern.json: not a pattern this program wrote"
    with pytest.raises(AudioError, match="not replaced"):
        write_pattern(tmp_path, four_on_the_floor())
    assert theirs.read_text() == '{"my": "notes"}'


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda r: r.update(tempo=500), "from 40 to 300"),
        (lambda r: r["lanes"][1].update(steps="x" * 15), "16 of 'x' or '.'"),
        (lambda r: r["lanes"][2].update(sound="../../etc/passwd"), "favourite's file name"),
        (lambda r: r["lanes"].pop(), "kick, snare, hat, free"),
    ],
)
def test_a_damaged_pattern_says_what_is_wrong(tmp_path, change, reason):
    record = four_on_the_floor().to_dict()
    change(record)
    (tmp_path / PATTERN_FILE).write_text(json.dumps(record))
    pattern, said = read_pattern(tmp_path)
    assert pattern is None and reason in said and "\n" not in said


def click_sound(n=300, value=0.25):
    return np.full(n, value, dtype=np.float32)


def render(mixer, frames, block=256, start=0):
    out = np.zeros(frames, dtype=np.float32)
    for i in range(0, frames, block):
        mixer.render(out[i : i + block], start + i)
    return out


def expected_bar_hits(pattern, data, rate, bars, origin=0):
    """The mix the pattern should make: each lane's data added at its steps' frames."""
    total = origin + step_frame(bars * STEPS, pattern.tempo, rate) + 4096
    out = np.zeros(total, dtype=np.float64)
    for bar in range(bars):
        for step, lane in pattern.hits():
            at = origin + step_frame(bar * STEPS + step, pattern.tempo, rate)
            out[at : at + data[lane].shape[0]] += data[lane]
    return out


def prepared_lanes(mixer):
    return [mixer.prepare(click_sound(300 + 50 * lane, 0.1 * (lane + 1)), RATE) for lane in range(len(LANES))]


def test_the_mixer_starts_every_hit_on_its_steps_frame_bar_after_bar():
    mixer = Mixer(RATE)
    pattern = four_on_the_floor().with_tempo(133)  # a step is 4973.68 frames: rounding matters
    data = prepared_lanes(mixer)
    mixer.start_pattern(
        data, [[lane for step, lane in pattern.hits() if step == s] for s in range(STEPS)], pattern.tempo, restart=True
    )
    bars = 3
    frames = step_frame(bars * STEPS, pattern.tempo, RATE)
    out = render(mixer, frames, start=1000)
    assert mixer.pattern_began[1] == 1000
    expected = expected_bar_hits(pattern, data, RATE, bars)[:frames]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_a_changed_sound_is_heard_from_the_lanes_next_hit_and_the_beat_keeps():
    mixer = Mixer(RATE)
    pattern = four_on_the_floor()
    hits = [[lane for step, lane in pattern.hits() if step == s] for s in range(STEPS)]
    data = prepared_lanes(mixer)
    mixer.start_pattern(data, hits, 120, restart=True)
    first = render(mixer, 10 * 256)
    new_kick = mixer.prepare(click_sound(400, 0.5), RATE)
    mixer.start_pattern([new_kick, *data[1:]], hits, 120, restart=False)
    rest = render(mixer, bar_frames(120, RATE), start=10 * 256)
    out = np.concatenate([first, rest])
    step = step_frame(1, 120, RATE)
    assert out[0] == pytest.approx(data[0][0] + 0.0)  # the old kick at step 0
    kick_at_4 = out[4 * step + 150]  # step 4: kick and snare, the new kick's level
    assert kick_at_4 == pytest.approx(0.5 + data[1][150], abs=1e-6)
    assert out[16 * step + 150] == pytest.approx(0.5, abs=1e-6)  # the next bar, on the beat


def test_hits_ring_out_over_the_next_and_a_stop_leaves_them_to_end():
    mixer = Mixer(RATE)
    long = mixer.prepare(np.full(RATE, 0.01, dtype=np.float32), RATE)  # one second, 8 steps
    steps = [[0] for _ in range(STEPS)]
    mixer.start_pattern([long, None, None, None], steps, 120, restart=True)
    out = render(mixer, bar_frames(120, RATE) // 2)
    assert out[RATE - 1000] == pytest.approx(0.01 * 8, abs=1e-5)  # eight hits overlap
    mixer.stop_pattern()
    tail = render(mixer, 2 * RATE, start=out.shape[0])
    assert mixer.pattern is None and not mixer.pattern_playing
    assert tail[0] > 0 and np.all(tail[RATE:] == 0)  # rang out, no new hits
    assert len(mixer._voice_data) == PATTERN_VOICES and mixer._voices == 0


def test_a_cut_stop_fades_the_ringing_hits_out_within_the_crossfade():
    mixer = Mixer(RATE)
    long = mixer.prepare(np.full(RATE, 0.01, dtype=np.float32), RATE)
    mixer.start_pattern([long, None, None, None], [[0] for _ in range(STEPS)], 120, restart=True)
    out = render(mixer, RATE // 2)
    mixer.stop_pattern(cut=True)
    tail = render(mixer, RATE, start=out.shape[0])
    assert 0 < tail[0] <= out[-1]  # no jump: it fades from where it was
    assert np.all(tail[mixer.crossfade_frames :] == 0) and mixer._voices == 0
    assert mixer.silent_frames > 0  # the player's idle watcher may stop the stream


def test_a_tempo_change_takes_effect_from_the_next_step():
    mixer = Mixer(RATE)
    click = mixer.prepare(click_sound(100, 0.5), RATE)
    steps = [[0] for _ in range(STEPS)]
    mixer.start_pattern([click, None, None, None], steps, 120, restart=True)
    first = render(mixer, 256)
    mixer.start_pattern([click, None, None, None], steps, 60, restart=False)
    rest = render(mixer, 4 * step_frame(1, 60, RATE), start=256)
    out = np.concatenate([first, rest])
    onsets = np.flatnonzero((out[1:] > 0) & (out[:-1] == 0)) + 1
    step_120, step_60 = step_frame(1, 120, RATE), step_frame(1, 60, RATE)
    assert onsets[0] == step_120  # the step that was due came at the old tempo
    assert np.all(np.diff(onsets) == step_60)


def test_the_sound_and_the_pattern_play_together():
    mixer = Mixer(RATE)
    click = mixer.prepare(click_sound(300, 0.5), RATE)
    mixer.start(mixer.prepare(np.full(1000, 0.1, dtype=np.float32), RATE), looping=False, gap_frames=0)
    mixer.start_pattern([click, None, None, None], [[0]] + [[]] * (STEPS - 1), 120, restart=True)
    out = render(mixer, 1024)
    assert out[150] == pytest.approx(0.6, abs=1e-6)


def test_an_empty_pattern_default_follows_the_current_sound():
    pattern = Pattern()
    assert pattern.empty and pattern.sources == (CURRENT,) * 4 and pattern.tempo == 120


# ----------------------------------------------------------------------------- the Beat tab's handlers


@pytest.fixture
def ready():
    """The window's state with a model loaded and a player that works (no window)."""
    state = AppState(models_dir="zoo", favourites_dir="favs", rng=np.random.default_rng(0))
    state.entries["ae_small_relu"] = ModelEntry("ae_small_relu", group="g")
    send(state, k.MODELS, **{k.MODELS: ["ae_small_relu"]})
    report(state, ev.ModelReady(info_of("ae_small_relu")))
    report(state, ev.PlayerOpened(True, "", "null"))
    return state


def beat_ready(state):
    report(state, ev.PatternRead(None))
    send(state, (k.STEP, 0))
    send(state, (k.STEP, 8))
    return state


def test_steps_are_kept_only_once_the_kept_beat_was_read(ready):
    effects = send(ready, (k.STEP, 3))
    assert not of_type(effects, fx.SavePattern)  # pattern.json not read yet: never written over
    effects = report(ready, ev.PatternRead(None))
    effects = send(ready, (k.STEP, STEPS + 5))
    (saved,) = of_type(effects, fx.SavePattern)
    assert saved.pattern.hits() == [(3, 0), (5, 1)]


def test_play_beat_sends_the_current_sound_and_a_change_keeps_the_beat(ready):
    beat_ready(ready)
    decoded(ready, np.full(2048, 0.5, np.float32))
    (start,) = of_type(send(ready, k.PATTERN_PLAY), fx.PlayPattern)
    assert start.restart and start.tempo == 120 and start.steps[0][0] and start.steps[0][8]
    assert start.sounds[0][0][100] == pytest.approx(0.5) and start.sounds[0][1] == ready.model.sample_rate
    (update,) = of_type(send(ready, (k.STEP, 2 * STEPS + 4)), fx.PlayPattern)
    assert not update.restart and update.steps[2][4]
    new = np.full(2048, 0.25, np.float32)
    (follow,) = of_type(decoded(ready, new), fx.PlayPattern)  # the point moved
    assert not follow.restart and follow.sounds[0][0][100] == pytest.approx(0.25)
    assert of_type(send(ready, k.PATTERN_PLAY), fx.StopPattern)
    assert not of_type(decoded(ready, np.ones(2048, np.float32)), fx.PlayPattern)  # stopped: nothing


def test_an_empty_beat_or_no_sound_device_says_why_and_plays_nothing(ready):
    assert not of_type(send(ready, k.PATTERN_PLAY), fx.PlayPattern)
    assert ready.message.startswith("the beat has no steps yet")
    beat_ready(ready)
    report(ready, ev.PlayerOpened(False, "no device", "null"))
    assert not of_type(send(ready, k.PATTERN_PLAY), fx.PlayPattern)
    assert "sound device" in ready.message


def test_stop_and_esc_stop_the_beat_and_the_line_shows_a_running_beat(ready):
    from gui.handlers import playing_text

    beat_ready(ready)
    decoded(ready, np.full(2048, 0.5, np.float32))
    send(ready, k.PATTERN_PLAY)
    assert playing_text(ready) == "♫ beat at 120 BPM"  # the Beat tab may be hidden: the line says so
    send(ready, (k.KEY, "space"))
    assert playing_text(ready).startswith("▶ playing ae_small_relu at") and playing_text(ready).endswith("· ♫ beat")
    token = ready.sound.token
    send(ready, (k.PLAYER, "ended"), token)
    assert playing_text(ready) == "♫ beat at 120 BPM"  # the sound ended, the beat goes on: not "stopped"
    for stop in (k.STOP, (k.KEY, "Escape")):
        if not ready.pattern.playing:
            send(ready, k.PATTERN_PLAY)
        effects = send(ready, stop)
        assert fx.StopPattern(cut=True) in effects and fx.Stop() in effects
        assert not ready.pattern.playing and playing_text(ready) == "■ stopped"


def test_a_tempo_out_of_range_is_said_and_the_tempo_kept(ready):
    beat_ready(ready)
    send(ready, k.PATTERN_TEMPO, **{k.PATTERN_TEMPO: 500})
    assert ready.pattern.pattern.tempo == 120 and "from 40 to 300 BPM" in ready.message
    send(ready, k.PATTERN_TEMPO, **{k.PATTERN_TEMPO: 96})
    assert ready.pattern.pattern.tempo == 96


def test_a_lane_on_a_favourite_plays_its_samples_once_read(ready):
    beat_ready(ready)
    send(ready, k.PATTERN_PLAY)
    effects = send(ready, (k.LANE_SOUND, 0), "kick_001.wav")
    (read,) = of_type(effects, fx.ReadLaneSound)
    assert read.lane == 0 and read.path.endswith("favs/kick_001.wav")
    samples = np.full(4410, 0.3, np.float32)
    (update,) = of_type(report(ready, ev.LaneSoundRead(0, read.path, samples, 44100)), fx.PlayPattern)
    assert update.sounds[0][1] == 44100 and update.sounds[0][0][2000] == pytest.approx(0.3)
    (follow,) = of_type(decoded(ready, np.ones(2048, np.float32)), fx.PlayPattern)  # the others follow the point
    assert follow.sounds[0][0][2000] == pytest.approx(0.3) and follow.sounds[1][0][1000] == pytest.approx(1.0)
    said = report(ready, ev.LaneSoundRead(0, read.path, None, 0, "kick_001.wav: cannot be read (gone)"))
    assert ready.message == "kick lane: kick_001.wav: cannot be read (gone)" and not of_type(said, fx.PlayPattern)


def test_a_new_sound_device_starts_the_beat_again_on_it(ready):
    beat_ready(ready)
    send(ready, k.PATTERN_PLAY)
    (again,) = of_type(report(ready, ev.PlayerOpened(True, "", "other")), fx.PlayPattern)
    assert again.restart
    report(ready, ev.PlayerOpened(False, "gone", "other"))
    assert not ready.pattern.playing


def test_export_kit_takes_the_beat_along(ready):
    beat_ready(ready)
    ready.kit.sources = ("favs/a.wav",)
    (export,) = of_type(send(ready, (k.FILE, "export-kit"), "/tmp/Beat"), fx.ExportKit)
    assert export.pattern == ready.pattern.pattern and export.path == "/tmp/Beat.h2drumkit"


def test_rendering_the_pattern_allocates_no_sample_buffers():
    import tracemalloc

    mixer = Mixer(RATE)
    data = prepared_lanes(mixer)
    mixer.start_pattern(data, [[0, 1, 2, 3]] * STEPS, 300, restart=True)  # every lane, every step
    out = np.zeros(1024, dtype=np.float32)
    for i in range(20):
        mixer.render(out, i * 1024)  # warm up: the request is taken, the voices are filled
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(20, 400):
            mixer.render(out, i * 1024)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert mixer.pattern is not None and mixer._next_step > 100
    assert peak < out.nbytes  # a temporary array of one block would be 4096 bytes
