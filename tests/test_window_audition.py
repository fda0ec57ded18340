"""Auditioning in the real window: what the user hears and what is kept, with real X input.

The window plays through a real :class:`audio.player.Player` on the ALSA null device (see
conftest), with a tap that keeps every non-silent block the stream delivered: the sounds
the user heard, in order. Clicks, drags, keys and the level combo are real X events
(xdotool). Each test checks the samples heard against the fake model's decode of the point
(or the variation), and the saved file's bytes against those samples. Run under
``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json

import pytest
import soundfile
from window_driver import (
    REAL_INPUT_MARKS,
    button_held,
    click_middle,
    click_pad,
    file_bytes_of,
    is_heard,
    model_sound,
    near,
    one_pixel,
    open_app,
    output_quiet,
    pad_pixel_to_point,
    pick_in_combo,
    press,
    reopen_favourite,
    select_all_favourites,
    turn_vary_on,
    type_in_dialog,
    wait_heard,
    wait_output_quiet,
    xdo,
)

from audio.level import NORMALISED, loudness_db
from gui import keys as k
from gui_fakes import FakeModel
from models.variation import decode_recall

pytestmark = REAL_INPUT_MARKS


@pytest.fixture
def window(tmp_path):
    app, capture = open_app(tmp_path)
    yield app, capture
    app.close()


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
            assert app.run_until(
                lambda s, n=len(reached): any(is_heard(h, model_sound(reached[-1])) for h in capture.sounds()[n - 1 :])
            )

    def steps(s):
        return s.history.of(s.model.name).points

    # the release is handled (the drag's step in the history), and all the window asked the
    # output for since has been played out
    assert app.run_until(lambda s: len(steps(s)) >= 2 and near(steps(s)[-1], reached[-1], one_pixel(app)) and output_quiet(app))
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
        point = click_pad(app, 120, 200)
        wait_output_quiet(app)  # the click's sound, had it been sent, would have been played
        assert capture.sounds() == []
        press("space")  # Play still plays, and it is the first sound heard
        heard = wait_heard(app, capture, 1)
        assert len(heard) == 1 and is_heard(heard[0], model_sound(point))
    finally:
        app.close()
    assert json.loads((tmp_path / "settings.json").read_text())["audition"] is False
    app, capture = open_app(tmp_path)
    try:
        assert app.state.sound.audition is False and app.window[k.AUDITION].get() is False
        point = click_pad(app, 220, 100)
        wait_output_quiet(app)
        assert capture.sounds() == []
        press("space")  # a sound whose coming is certain: nothing was heard before it
        heard = wait_heard(app, capture, 1)
        assert len(heard) == 1 and is_heard(heard[0], model_sound(point))
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


def test_s_with_vary_on_saves_the_variation_that_is_sounding(window, tmp_path):
    app, capture = window
    point = click_pad(app, 150, 150)
    wait_heard(app, capture, 1)  # the click's own sound
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
        wait_output_quiet(app)  # the click's sound, or the favourite before, played out
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

    app, _ = open_app(tmp_path, level=NORMALISED)
    try:
        click_pad(app, 90, 230)
        click_middle(app.window[k.SAVE_VARIATIONS].Widget)
        assert app.run_until(lambda s: len(s.favourites) == 4)
        select_all_favourites(app)
        typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "Variations"))
        click_middle(app.window[k.EXPORT_KIT].Widget)
        assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30), app.state.message
        typing.join(5)
    finally:
        app.close()
    with tarfile.open(tmp_path / "Variations.h2drumkit") as archive:
        members = {m.name.split("/", 1)[1]: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    xml = ET.fromstring(members["drumkit.xml"])
    names = [e.text for e in xml.iter() if e.tag.endswith("}instrument") for e in e if e.tag.endswith("}name")]
    assert len(names) == 4 and len(set(names)) == 4, names
    wavs = [name for name in members if name.endswith(".wav")]
    assert len(wavs) == 4
    for name in wavs:
        samples, _ = soundfile.read(io.BytesIO(members[name]), dtype="float32")
        assert abs(loudness_db(samples) - (-18.0)) < 0.5  # the normalised level, not one peak
