"""Drag and drop between the real window and another program, with real X input (XDND).

Each test starts a small Tk program of its own (``dnd_peer.py``, tkinterdnd2 as the window
uses it): a drop target that copies what it receives, or a drag source that offers a file.
xdotool then presses, moves and releases the real pointer from one window to the other,
while the window's own loop runs, and the test checks what arrived: the bytes of the file the
other program received, or the sound file the window opened. Run under ``xvfb-run -a -s
"-screen 0 1280x800x24"``.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from window_driver import (
    REAL_INPUT_MARKS,
    centre_of,
    click,
    drag,
    make_app,
    pad_pixel_to_point,
    peer,
    wait_for_file,
    wait_pad_settled,
    xdo,
)

from gui import keys as k
from gui.state import READY

pytestmark = REAL_INPUT_MARKS
peer = peer  # the other program, a fixture


@pytest.fixture
def app(tmp_path, monkeypatch):
    # the dragged sound goes to the system's temporary folder: this test's own, here
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    app = make_app(tmp_path)
    assert app.run_until(
        lambda s: s.model is not None and s.sound.audio is not None and s.player.ready and s.entries["gan"].state == READY
    )
    app.window.TKroot.update()
    yield app
    app.close()


def saved_wavs(folder):
    return sorted(folder.glob("*.wav"))


def test_the_current_sound_dragged_to_another_program_arrives_as_the_wav_s_saves(app, peer, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    target = peer("drop", inbox)
    pad = app.window[k.PAD].Widget
    wait_pad_settled(app)
    expected = pad_pixel_to_point(app, 250, 80)
    click(pad, 250, 80)
    assert app.run_until(lambda s: s.sound.point is not None and abs(s.sound.point[0] - expected[0]) < 0.05)
    # the click's own events are handled first: its sound was sent to the output (its audition),
    # and nothing more waits to sound (a fixed 0.5 s was not enough under two busy loops)
    assert app.run_until(
        lambda s: s.sound.heard is not None and s.sound.heard.point == s.sound.point and not s.sound.play_when_decoded, timeout=30
    )
    messages = []
    drag(app, centre_of(app.window[k.DRAG_OUT].Widget), target.centre, messages=messages)
    wait_for_file(app, inbox / "received.json")
    received = (inbox / "received_1.wav").read_bytes()
    [sent] = json.loads((inbox / "received.json").read_text())
    assert Path(sent).name.startswith("ae_small_relu_x")
    assert any(str(m).startswith("dragging ae_small_relu_x") for m in messages), sorted(set(map(str, messages)))
    # once dropped, the status line no longer says a drag goes on
    assert app.run_until(lambda s: "dragging" not in app.window[k.STATUS].get()), app.window[k.STATUS].get()
    # what arrived is the very file S saves of this sound (the keys go where the pointer is)
    pad_x, pad_y = centre_of(pad)
    xdo("mousemove", "--sync", pad_x, pad_y, "key", "s")
    assert app.run_until(lambda s: len(saved_wavs(tmp_path / "favs")) == 1)
    assert received == saved_wavs(tmp_path / "favs")[0].read_bytes()
    samples, rate = soundfile.read(inbox / "received_1.wav", dtype="float32")
    assert rate == 44100 and np.max(np.abs(samples)) > 0.1  # a sound, not silence


def test_a_favourite_dragged_to_another_program_arrives_byte_for_byte(app, peer, tmp_path):
    pad = app.window[k.PAD].Widget
    for px, py in ((60, 60), (270, 250)):
        click(pad, px, py)
        xdo("key", "s")
    assert app.run_until(lambda s: len(s.favourites) == 2)
    app.window.TKroot.update()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    target = peer("drop", inbox)
    listbox = app.window[k.FAVOURITES].Widget
    x, y, width, height = listbox.bbox(1)  # the second row: the older favourite
    chosen = Path(str(app.state.favourites[1].path))
    start = (listbox.winfo_rootx() + x + 20, listbox.winfo_rooty() + y + height // 2)
    drag(app, start, target.centre)
    wait_for_file(app, inbox / "received.json")
    assert json.loads((inbox / "received.json").read_text()) == [str(chosen)]
    assert (inbox / "received_1.wav").read_bytes() == chosen.read_bytes()


def test_a_sound_file_dropped_on_the_pad_from_another_program_is_encoded(app, peer, tmp_path):
    rng = np.random.default_rng(7)
    t = np.arange(2048) / 22050
    snare = (0.6 * rng.standard_normal(2048) * np.exp(-30 * t)).astype(np.float32)
    mine = tmp_path / "my sounds" / "my snare.wav"  # a space in the path, as users have
    mine.parent.mkdir()
    soundfile.write(mine, snare, 22050, subtype="FLOAT")
    before = mine.read_bytes()
    source = peer("drag", mine)
    drag(app, source.centre, centre_of(app.window[k.PAD].Widget), source=source)
    assert app.run_until(
        lambda s: s.sound.opened == str(mine) and s.sound.point == s.point and s.sound.original is not None, timeout=20
    )
    # the fake encoder's point for this very sound: the drop opened this file, no other
    audio = app.backend.prepare_file(mine, app.backend.load("ae_small_relu", "zoo"))
    encoded = app.backend.load("ae_small_relu", "zoo").encode(audio[None, :])[0]
    assert np.allclose(app.state.point, encoded, atol=1e-4)
    assert mine.read_bytes() == before  # the user's file is untouched


def test_a_dropped_six_channel_file_is_told_what_the_window_takes(tmp_path, peer, monkeypatch):
    from gui.backend import PackageBackend
    from gui_fakes import FakeBackend

    class ReadingBackend(FakeBackend):
        prepare_file = PackageBackend.prepare_file  # the window's own reader, with its reasons

        def __init__(self):
            super().__init__()
            self._user_errors = PackageBackend().user_errors + self._user_errors

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    app = make_app(tmp_path, backend=ReadingBackend())
    try:
        assert app.run_until(lambda s: s.model is not None and s.sound.audio is not None and s.player.ready)
        app.window.TKroot.update()
        surround = tmp_path / "surround hit.wav"
        t = np.arange(4410) / 44100
        hit = 0.5 * np.sin(2 * np.pi * 200 * t) * np.exp(-20 * t)
        soundfile.write(surround, np.stack([hit] * 6, axis=1), 44100)
        source = peer("drag", surround)
        drag(app, source.centre, centre_of(app.window[k.PAD].Widget), source=source)
        expected = (
            "surround hit.wav: 6 channels: the window opens mono and stereo files only; save one channel as a mono WAV and open that"
        )
        assert app.run_until(lambda s: s.message == expected, timeout=20), app.state.message
        assert "--channel" not in app.window[k.STATUS].get()
    finally:
        app.close()
