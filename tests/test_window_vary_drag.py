"""With Vary on, a drag out of the real window carries the very sound that was heard.

The window plays through a real player whose stream is tapped (``window_driver.HeardCapture``), and
another program (``dnd_peer.py``) takes the drops. xdotool clicks the pad, turns Vary on,
presses space and drags "drag this sound out" onto the other program; the test compares the
file it received with the samples the output delivered, checks that every drag got a file of
its own, and that the Sound tab shows the heard sound. Run under ``xvfb-run -a -s "-screen 0
1280x800x24"``.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr
from window_driver import (
    EDGE,
    REAL_INPUT_MARKS,
    centre_of,
    click_pad,
    drag,
    file_bytes_of,
    is_heard,
    model_sound,
    open_app,
    peer,
    screenshot,
    turn_vary_on,
    wait_for_file,
    wait_heard,
    xdo,
)

from gui import keys as k
from gui.drag import drag_folder

pytestmark = REAL_INPUT_MARKS
peer = peer  # the other program, a fixture

RATE = 22050


@pytest.fixture
def window(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the drags' folder: this test's
    (tmp_path / "tmp").mkdir()
    app, capture = open_app(tmp_path)
    yield app, capture
    app.close()


def correlation(a, b, lags=64, edge=2 * EDGE):
    """The correlation of two sounds at 44.1 kHz, at the best of small shifts (the heard one
    starts wherever its block began), the output's faded edges (2 ms) left out."""
    a, b = a[edge:-edge], b[edge:-edge]
    best = -1.0
    for lag in range(-lags, lags + 1):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(x.size, y.size)
        best = max(best, float(np.corrcoef(x[:n], y[:n])[0, 1]))
    return best


def press_over(app, key):
    """A key press with the pointer over the pad (the keys go where the pointer is)."""
    x, y = centre_of(app.window[k.PAD].Widget)
    xdo("mousemove", "--sync", x, y, "key", key)


def drag_out(app, target, inbox):
    """Drag the current sound onto the other program: the path it got and the samples."""
    (inbox / "received.json").unlink(missing_ok=True)
    drag(app, centre_of(app.window[k.DRAG_OUT].Widget), target.centre)
    wait_for_file(app, inbox / "received.json")
    [sent] = json.loads((inbox / "received.json").read_text())
    samples, rate = soundfile.read(inbox / "received_1.wav", dtype="float32")
    return Path(sent), (inbox / "received_1.wav").read_bytes(), samples, rate


def test_with_vary_on_each_drag_carries_the_heard_variation_in_a_file_of_its_own(window, peer, tmp_path):
    app, capture = window
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    target = peer("drop", inbox)
    point = click_pad(app, 250, 80)
    wait_heard(app, capture, 1)  # the click's own sound
    turn_vary_on(app)
    dragged = []
    for press in (True, True, False):  # a new variation, another, then the same one again
        if press:
            before = len(capture.sounds())
            press_over(app, "space")
            heard = wait_heard(app, capture, before + 1)[-1]
            assert app.run_until(lambda s, h=heard: s.sound.heard is not None and is_heard(h, s.sound.heard.audio))
        kept = app.state.sound.heard
        assert kept.variation and not is_heard(heard, model_sound(point))  # a variation sounded
        path, received, samples, rate = drag_out(app, target, inbox)
        assert received == file_bytes_of(kept.audio)  # the file holds what was heard...
        as_heard = soxr.resample(heard, RATE, rate)
        assert correlation(samples, as_heard) > 0.99  # ...and sounds like it
        dragged.append(
            (path, received, correlation(samples, as_heard), correlation(samples, soxr.resample(model_sound(point), RATE, rate)))
        )
        index = kept.variation["index"]
        assert f"_v{index}" in path.name and path.parent == drag_folder()
    names = [path.name for path, *_ in dragged]
    assert len(set(names)) == 3, names  # each drag its own file: a DAW's reference stays good
    for path, received, *_ in dragged:
        assert path.read_bytes() == received  # no later drag replaced an earlier one
    print("dragged vs heard, vs the plain decode:", [(round(h, 4), round(p, 4)) for *_, h, p in dragged])


def test_the_sound_tab_draws_the_variation_that_was_heard(window):
    from gui.figures import OutputPainter

    app, capture = window
    point = click_pad(app, 120, 220)
    wait_heard(app, capture, 1)  # the click's own sound
    turn_vary_on(app)
    before = len(capture.sounds())
    press_over(app, "space")
    wait_heard(app, capture, before + 1)
    heard = app.state.sound.heard
    panel = app.panels["output"]
    widget = panel.tk.get_tk_widget()
    painter = OutputPainter()

    def painted(audio, title):
        return painter.paint(audio, RATE, panel.size_px(), title=title).pixels[..., :3]

    title = f"variation {heard.variation['index']}: ae_small_relu at ({point[0]:.3f}, {point[1]:.3f})"
    expected, plain = painted(heard.audio, title), painted(model_sound(point), title)

    def differing(picture):
        return int(np.count_nonzero(np.any(screenshot(widget) != picture, axis=2)))

    assert app.run_until(lambda s: differing(expected) == 0, timeout=10), differing(expected)
    assert differing(plain) > 1000  # the unvaried sound looks different
