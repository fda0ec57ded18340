"""The family selector in the real window, driven with real X input (xdotool).

The zoo holds a ``ddsp_cvae`` folder, so the window lists the conditioned model; it loads
as the fakes' conditioned model (``gui_fakes.FakeConditionedModel``), whose sound depends on
the family. The family pads of every model with training codes are tested on the shipped
``ddsp_vae`` itself, loaded by the real backend (:class:`gui.backend.PackageBackend`) from a
copy in the test's zoo. The window plays through a real player on the ALSA null device with a tap that
keeps what was heard (``window_driver.HeardCapture``). Run under
``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from window_driver import (
    REAL_INPUT_MARKS,
    HeardBackend,
    HeardCapture,
    choose_model,
    click,
    click_pad,
    click_wide_pad,
    file_bytes_of,
    is_heard,
    make_app,
    near,
    open_shipped_window,
    output_quiet,
    pick_in_combo,
    press,
    reopen_favourite,
    status_line,
    tooltip_text,
    wait_heard,
    wait_output_quiet,
    wait_workers_idle,
    xdo_hover,
)

from constants import DRUM_FAMILIES
from gui import keys as k
from gui.palette import FAMILY_COLOURS, GREYED
from gui.state import READY
from gui_fakes import FakeConditionedModel

pytestmark = REAL_INPUT_MARKS

NO_FAMILY = "gan takes no family: it has no encoder, so none of its training sounds has a place on its pad"
SHIPPED = Path(__file__).resolve().parent.parent / "trained"


@pytest.fixture
def window(tmp_path):
    (tmp_path / "zoo" / "ddsp_cvae").mkdir(parents=True)  # the zoo has it: the window lists it
    (tmp_path / "settings.json").write_text(json.dumps({"volume": 1.0}))
    capture = HeardCapture()
    app = make_app(tmp_path, backend=HeardBackend(capture))
    assert app.run_until(
        lambda s: s.model is not None and s.sound.audio is not None and s.player.ready and s.entries["ddsp_cvae"].state == READY
    )
    app.window.TKroot.update()
    wait_workers_idle(app)
    yield app, capture
    app.close()


def cvae_sound(point, family):
    return FakeConditionedModel().decode([point], family=family)[0]


def sounding(app, family):
    """Wait until the point's sound is decoded with ``family``; returns its samples."""
    assert app.run_until(lambda s: s.sound.family == family and s.sound.point == s.vector), app.state.sound.family
    return app.state.sound.audio


def test_press_3_click_the_pad_press_s_the_sidecar_says_clap_and_reopening_plays_those_bytes(window, tmp_path):
    app, capture = window
    choose_model(app, "ddsp_cvae")
    press("3")
    sounding(app, "clap")
    wait_output_quiet(app)  # the clap's sound at the point played out
    before = len(capture.sounds())
    point = click_pad(app, 200, 90)
    heard = wait_heard(app, capture, before + 1)
    clap = cvae_sound(point, "clap")
    assert is_heard(heard[-1], clap)
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    wav = next((tmp_path / "favs").glob("*.wav"))
    recall = json.loads(wav.with_suffix(".json").read_text())
    assert recall["model"] == "ddsp_cvae" and recall["settings"]["family"] == "clap"
    assert wav.read_bytes() == file_bytes_of(clap)
    press("1")  # another family and another point, so that reopening has both to restore
    click_pad(app, 60, 260)
    sounding(app, "kick")
    wait_output_quiet(app)
    before = len(capture.sounds())
    reopen_favourite(app, wav.name)
    heard = wait_heard(app, capture, before + 1)
    assert app.state.family.text() == "clap" and near(app.state.point, recall["point"], 1e-9)
    assert is_heard(heard[-1], clap)  # the very samples the file holds
    assert np.array_equal(app.state.sound.audio, clap)
    assert app.window[k.FAMILY_BUTTONS["clap"]].Widget.cget("background") == "#2e7d32"  # lit


def choose_hybrid(app, presses):
    """Open the hybrid combo with a click and click the entry ``presses`` rows down."""
    pick_in_combo(app, app.window[k.HYBRID].Widget, presses)


def test_keys_1_to_7_and_the_hybrid_slider_reach_the_decode(window):
    app, capture = window
    choose_model(app, "ddsp_cvae")
    model = app.workers.cache.peek("ddsp_cvae")
    sounds = {}
    for number, family in enumerate(DRUM_FAMILIES, start=1):
        press(str(number))
        sounds[family] = sounding(app, family)
        assert model.families_asked[-1] == family  # the decode was asked for it
        assert np.array_equal(sounds[family], cvae_sound(app.state.point, family))
    assert len({s.tobytes() for s in sounds.values()}) == 7  # seven families, seven sounds
    press("1")
    sounding(app, "kick")
    choose_hybrid(app, 5)  # none, kick, snare, clap, hat, tom
    half = sounding(app, "kick:0.5,tom:0.5")
    assert app.window[k.FAMILY_MIX].get() == "kick 0.5 + tom 0.5"
    slider = app.window[k.BLEND].Widget
    click(slider, slider.winfo_width() - 4, slider.winfo_height() // 2)  # the trough: one step up
    more_tom = sounding(app, "kick:0.45,tom:0.55")
    assert np.array_equal(more_tom, cvae_sound(app.state.point, "kick:0.45,tom:0.55"))
    assert len({sounds["kick"].tobytes(), sounds["tom"].tobytes(), half.tobytes(), more_tom.tobytes()}) == 4
    # heard, as a click on the pad is
    assert app.run_until(lambda s: output_quiet(app) and is_heard(capture.sounds()[-1], more_tom), timeout=20)


def test_the_selector_is_off_for_a_model_that_takes_no_family_and_its_tooltip_says_why(window):
    app, _ = window
    choose_model(app, "gan")
    button = app.window[k.FAMILY_BUTTONS["clap"]]
    assert app.run_until(lambda s: str(button.Widget.cget("state")) == "disabled")
    assert str(app.window[k.BLEND].Widget.cget("state")) == "disabled"
    xdo_hover(button.Widget)
    assert app.run_until(lambda s: tooltip_text(button) is not None, timeout=5)
    assert tooltip_text(button) == NO_FAMILY
    # the GAN's map is a heat-map, decoded in chunks behind: counted once it is done
    assert app.run_until(lambda s: ("gan", s.map.mode) in s.map.heatmaps, timeout=30)
    decodes = app.workers.cache.peek("gan").decode_calls
    press("3")
    assert app.run_until(lambda s: s.message == NO_FAMILY)
    wait_workers_idle(app)  # a decode the key had asked for would be done by now
    assert app.workers.cache.peek("gan").decode_calls == decodes  # nothing decoded
    choose_model(app, "ddsp_cvae")
    assert app.run_until(lambda s: str(button.Widget.cget("state")) == "normal")
    assert button.TooltipObject.text == "clap (key 3)"


def test_the_map_and_the_pad_grey_the_families_not_chosen(window):
    app, _ = window
    choose_model(app, "ddsp_cvae")
    press("2")
    sounding(app, "snare")
    assert app.run_until(lambda s: getattr(app.panels["map"].current, "key", None) == ("ddsp_cvae", "codes", "snare"))
    axes = app.panels["map"].current.axes
    colours = {c.get_label().split(" ")[0]: tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in axes.collections}
    assert set(colours) == set(DRUM_FAMILIES)
    from matplotlib.colors import to_rgb

    assert colours["snare"] == tuple(np.round(to_rgb(FAMILY_COLOURS["snare"]), 3))
    assert all(colours[f] == tuple(np.round(to_rgb(GREYED), 3)) for f in DRUM_FAMILIES if f != "snare")
    canvas = app.window[k.PAD].Widget
    fills = [canvas.itemcget(item, "fill") for item in canvas.find_all() if canvas.type(item) == "oval"]
    assert fills.count(FAMILY_COLOURS["snare"]) == 2 and fills.count(GREYED) == 12  # 2 codes a family


def test_alt_left_and_right_go_back_and_forward_to_each_steps_family(window):
    app, capture = window
    choose_model(app, "ddsp_cvae")
    press("1")
    kick = sounding(app, "kick")
    press("3")
    clap = sounding(app, "clap")
    point = app.state.point
    press("alt+Left")  # back: the same point, with the family it had
    assert np.array_equal(sounding(app, "kick"), kick) and app.state.point == point
    assert app.state.family.text() == "kick"
    assert app.window[k.FAMILY_BUTTONS["kick"]].Widget.cget("background") == "#2e7d32"  # lit
    press("alt+Right")
    assert np.array_equal(sounding(app, "clap"), clap)
    assert app.window[k.FAMILY_BUTTONS["clap"]].Widget.cget("background") == "#2e7d32"


def test_on_the_shipped_ddsp_vae_1_plays_the_kick_pad_s_saves_it_and_a_model_without_claps_refuses_3(tmp_path):
    from models.engine import load_runtime

    zoo = tmp_path / "zoo"
    shutil.copytree(SHIPPED / "ddsp_vae", zoo / "ddsp_vae")
    runtime = load_runtime("ddsp_vae", zoo)
    app, capture = open_shipped_window(tmp_path / "first", zoo, "ddsp_vae")
    try:
        assert app.state.family.text() is None  # a model with family pads opens on All families
        assert app.window[k.FAMILY_MIX].get() == "All families"
        press("1")
        sounding(app, "kick")
        point = click_pad(app, 200, 90)
        kick = runtime.decode([point], family="kick")[0]
        assert app.run_until(lambda s: s.sound.family == "kick" and s.sound.point == point)
        assert np.array_equal(app.state.sound.audio, kick)  # the window decoded the kick pad's point
        press("s")
        assert app.run_until(lambda s: len(s.favourites) == 1)
        favs = tmp_path / "first" / "favs"
        wav = next(favs.glob("*.wav"))
        recall = json.loads(wav.with_suffix(".json").read_text())
        assert recall["model"] == "ddsp_vae" and recall["settings"]["family"] == "kick"
        assert tuple(recall["point"]) == point
        assert wav.read_bytes() == file_bytes_of(kick)
        press("0")  # the plain pad and another point, so that reopening has both to restore
        click_pad(app, 60, 260)
        sounding(app, None)
        before = len(capture.sounds())
        reopen_favourite(app, wav.name)
        # the reopening is handled when the loop gets to it (the plain pad's click may still be
        # heard first on a busy machine): wait for its family and point, then for its sound
        assert app.run_until(lambda s: s.family.text() == "kick" and s.point == point, timeout=30), app.state.family
        assert app.run_until(lambda s: any(is_heard(h, kick) for h in capture.sounds()[before:]), timeout=30)
        assert np.array_equal(app.state.sound.audio, kick)
        assert app.window[k.FAMILY_BUTTONS["kick"]].Widget.cget("background") == "#2e7d32"  # lit
    finally:
        app.close()

    without_claps = tmp_path / "without_claps"
    shutil.copytree(SHIPPED / "ddsp_vae", without_claps / "ddsp_vae")
    with np.load(SHIPPED / "ddsp_vae" / "codes.npz") as archive:
        arrays = dict(archive)
    arrays["families"] = np.where(arrays["families"] == "clap", "unknown", arrays["families"])
    np.savez(without_claps / "ddsp_vae" / "codes.npz", **arrays)
    app, _ = open_shipped_window(tmp_path / "second", without_claps, "ddsp_vae")
    try:
        reason = "ddsp_vae has no clap among its training sounds"
        heard_before = app.state.sound.audio
        press("3")
        assert app.run_until(lambda s: reason in status_line(app)), status_line(app)
        assert app.state.family.text() is None and app.state.sound.audio is heard_before  # nothing decoded
        assert "ddsp_cvae" not in status_line(app)
        button = app.window[k.FAMILY_BUTTONS["clap"]]
        assert str(button.Widget.cget("state")) == "disabled" and button.TooltipObject.text == reason
    finally:
        app.close()


def test_a_two_stage_ddsp_cvae_3_plays_its_clap_pad_s_saves_it_and_reopening_plays_those_bytes(tmp_path):
    """Issue 30 §2's ddsp_cvae (a synth autoencoder with a wide code and a Gaussian per family,
    trained here for two epochs at a tiny size) on the real backend: press 3, click, S; the
    sidecar says clap and the file holds the 44.1 kHz sound of that point on the clap pad;
    reopened after another family and point, the window plays those samples again."""
    from test_models_ddsp_cvae import RATE as CVAE_RATE
    from test_models_ddsp_cvae import family_sounds

    from models.engine import load_runtime
    from models.training import TrainingData, TrainOptions, train_model

    zoo = tmp_path / "zoo"
    audio, families = family_sounds()
    data = TrainingData.from_arrays(audio, CVAE_RATE, families=families)
    settings = dict(length=4096, width=8, hidden=(16, 16), code_dim=4, fft_sizes=(1024, 512, 256))
    train_model("ddsp_cvae", data, zoo, TrainOptions(epochs=2, batch_size=7, verbose=0), **settings)
    runtime = load_runtime("ddsp_cvae", zoo)
    app, capture = open_shipped_window(tmp_path / "window", zoo, "ddsp_cvae")
    try:
        press("3")
        sounding(app, "clap")
        # its code of 4 numbers is a family's frame: the pad's two and a slider each for the others
        vector = click_wide_pad(app, 200, 90)
        point = app.state.point
        assert vector == (*point, 0.0, 0.0)
        clap = runtime.decode([point], family="clap")[0]
        assert app.run_until(lambda s: s.sound.family == "clap" and s.sound.point == vector)
        assert np.array_equal(app.state.sound.audio, clap)  # the window decoded the clap pad's point
        assert not np.array_equal(clap, runtime.decode([point], family="kick")[0])
        press("s")
        assert app.run_until(lambda s: len(s.favourites) == 1)
        wav = next((tmp_path / "window" / "favs").glob("*.wav"))
        recall = json.loads(wav.with_suffix(".json").read_text())
        assert recall["model"] == "ddsp_cvae" and recall["settings"]["family"] == "clap" and recall["sample_rate"] == CVAE_RATE
        assert tuple(recall["point"]) == point
        assert wav.read_bytes() == file_bytes_of(clap, CVAE_RATE)
        press("1")  # another family and another point, so that reopening has both to restore
        click_wide_pad(app, 60, 260)
        sounding(app, "kick")
        before = len(capture.sounds())
        reopen_favourite(app, wav.name)
        assert app.run_until(lambda s: s.family.text() == "clap" and s.point == point, timeout=30), app.state.family
        assert app.run_until(lambda s: s.sound.audio is not None and np.array_equal(s.sound.audio, clap), timeout=30)
        # it was played: the player (at its own stream rate) sounded something after the reopening
        assert app.run_until(lambda s: len(capture.sounds()) > before, timeout=30)
    finally:
        app.close()
