"""What a drag out carries and how a drop's data is read (gui/drag.py), without a window."""

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from audio.level import NORMALISED, apply_level
from gui.drag import NothingToDrag, current_sound_file, dropped_paths, favourite_files
from gui.state import AppState


def splitlist(data):
    import tkinter

    return tkinter.Tcl().splitlist(data)


def test_one_dropped_path_with_spaces_is_one_file(tmp_path):
    mine = tmp_path / "my sounds" / "my snare.wav"
    mine.parent.mkdir()
    mine.write_bytes(b"RIFF")
    assert dropped_paths(str(mine), splitlist) == [str(mine)]
    assert dropped_paths("{/a b/c.wav} /d.wav", splitlist) == ["/a b/c.wav", "/d.wav"]


def sounding_state(level=None):
    state = AppState()
    state.model = SimpleNamespace(name="vae_a", sample_rate=22050)
    t = np.arange(2048) / 22050
    state.sound.audio = (0.05 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    state.sound.point = (0.25, -0.5)
    if level is not None:
        state.sound.level = level  # the window's level choice, where it has one
    return state


def test_the_dragged_sound_is_written_at_the_chosen_level(tmp_path):
    plain = current_sound_file(sounding_state(), tmp_path)
    louder = current_sound_file(sounding_state(NORMALISED), tmp_path)
    assert plain.name == "vae_a_x+0.25_y-0.50.wav" and louder.name == "vae_a_x+0.25_y-0.50_normalised.wav"
    quiet, _ = soundfile.read(plain, dtype="float32")
    loud, _ = soundfile.read(louder, dtype="float32")
    expected = np.max(np.abs(apply_level(sounding_state().sound.audio, NORMALISED)))
    assert np.max(np.abs(loud)) == pytest.approx(expected, rel=0.02)
    assert np.max(np.abs(loud)) > 2 * np.max(np.abs(quiet))


def test_with_vary_on_the_drag_carries_the_variation_heard_under_a_new_name_each_time(tmp_path):
    from gui.state import Heard

    state = sounding_state()
    varied = (0.5 * state.sound.audio[::-1]).copy()
    state.sound.heard = Heard("vae_a", state.sound.point, varied, {"index": 3})
    first = current_sound_file(state, tmp_path)
    again = current_sound_file(state, tmp_path)
    assert first.name == "vae_a_x+0.25_y-0.50_v3.wav" and again.name == "vae_a_x+0.25_y-0.50_v3_2.wav"
    before = first.read_bytes()
    state.sound.heard = Heard("vae_a", state.sound.point, state.sound.audio[::-1].copy(), {"index": 4})
    assert current_sound_file(state, tmp_path).name.endswith("_v4.wav")
    assert first.read_bytes() == before == again.read_bytes()  # an earlier drag's file is never replaced
    dragged, rate = soundfile.read(first, dtype="float32")
    import soxr

    heard = soxr.resample(varied, 22050, rate)
    assert np.corrcoef(dragged[: heard.size], heard[: dragged.size])[0, 1] > 0.999


def test_nothing_to_drag_says_why(tmp_path):
    with pytest.raises(NothingToDrag, match="choose a model and a point first"):
        current_sound_file(AppState(), tmp_path)
    state = AppState()
    state.favourites = [SimpleNamespace(path=tmp_path / "gone.wav", recall={"model": "gan"}, reason=None)]
    with pytest.raises(NothingToDrag, match="gone.wav: no longer in"):
        favourite_files(state, ["gone.wav"])
    with pytest.raises(NothingToDrag, match="choose a favourite"):
        favourite_files(state, [])
