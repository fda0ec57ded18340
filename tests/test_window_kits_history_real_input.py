"""History, Vary and kits in the real window, driven with X input (xdotool): back/forward, Vary, the
nearest panel and Export kit…. The fakes of ``gui_fakes.py``, driven with ``window_driver.py``;
run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json
import tarfile

import numpy as np
import pytest
import soundfile
from window_driver import (
    REAL_INPUT_MARKS,
    answer_question,
    app,
    button_held,
    click,
    click_button,
    click_in_dialog_then_type,
    click_pad,
    make_app,
    models_loaded,
    near,
    one_pixel,
    pad_pixel_to_point,
    press,
    select_all_favourites,
    turn_vary_on,
    type_in_dialog,
    xdo,
)

from gui import keys as k
from gui_fakes import FakeBackend

pytestmark = REAL_INPUT_MARKS
app = app  # the window with the fake models, a fixture


def test_back_and_forward_by_buttons_and_alt_arrows(app):
    start = app.state.point
    first = click_pad(app, 100, 100)
    second = click_pad(app, 250, 220)
    click_button(app, k.BACK)
    assert app.run_until(lambda s: s.point == first and s.sound.point == first)
    press("alt+Left")
    assert app.run_until(lambda s: s.point == start and s.sound.point == start)
    press("alt+Right")
    assert app.run_until(lambda s: s.point == first)
    click_button(app, k.FORWARD)
    assert app.run_until(lambda s: s.point == second and s.sound.point == second)
    assert app.window[k.FORWARD].Widget.cget("state") == "disabled"


def test_a_drag_is_one_step(app):
    start = app.state.point
    pad = app.window[k.PAD].Widget
    with button_held(pad, 60, 200):
        for step in range(1, 5):
            xdo("mousemove", "--sync", pad.winfo_rootx() + 60 + 30 * step, pad.winfo_rooty() + 200)
            reached = pad_pixel_to_point(app, 60 + 30 * step, 200)
            assert app.run_until(lambda s, reached=reached: near(s.point, reached, one_pixel(app)))

    # the release is the step: wait for it (a fixed pause missed it once on a busy machine)
    def steps(s):
        return s.history.of(s.model.name).points

    assert app.run_until(lambda s: len(steps(s)) >= 2 and steps(s)[-1] == s.point)
    end = app.state.point
    assert steps(app.state)[-2:] == [start, end]
    press("alt+Left")
    assert app.run_until(lambda s: s.point == start)


def recording(player):
    heard = []
    play, swap = player.play, player.swap

    def play_(buffer, **options):
        heard.append(np.array(buffer))
        play(buffer, **options)

    def swap_(buffer, immediate=False, **options):
        heard.append(np.array(buffer))
        swap(buffer, immediate=immediate, **options)

    player.play, player.swap = play_, swap_
    return heard


def test_vary_each_play_and_each_loop_repetition_is_a_new_variation(app):
    heard = recording(app.workers.player)
    press("space")
    assert app.run_until(lambda s: len(heard) == 1)
    turn_vary_on(app)
    press("space")
    assert app.run_until(lambda s: len(heard) == 2)
    press("space")
    assert app.run_until(lambda s: len(heard) == 3)
    assert not np.allclose(heard[0], heard[1]) and not np.allclose(heard[1], heard[2])
    assert "variation" in app.window[k.PLAYING].get()
    press("l")
    swaps = lambda: [c for c in app.workers.player.calls if c[0] == "swap"]  # noqa: E731
    assert app.run_until(lambda s: len(swaps()) >= 2, timeout=10)
    assert all(call[2] is False for call in swaps())  # from the next repetition on
    assert not np.allclose(heard[-1], heard[-2])
    press("Escape")
    assert app.run_until(lambda s: not s.sound.looping)


def test_save_with_variations_writes_n_recallable_favourites(app, tmp_path):
    click_pad(app, 140, 90)
    click_button(app, k.SAVE_VARIATIONS)
    assert app.run_until(lambda s: len(s.favourites) == 4)
    sidecars = [json.loads(p.read_text()) for p in (tmp_path / "favs").glob("*.json")]
    assert sorted(s["settings"]["variation"]["index"] for s in sidecars) == [0, 1, 2, 3]
    from gui_fakes import FakeModel
    from models.variation import decode_recall

    model = FakeModel("ae_small_relu")
    sounds = []
    for wav in (tmp_path / "favs").glob("*.wav"):
        recall = json.loads(wav.with_suffix(".json").read_text())
        saved, rate = soundfile.read(wav, dtype="float32")
        again = FakeBackend().resample(decode_recall(model, recall), model.sample_rate, rate)
        length = min(len(saved), len(again))
        assert np.corrcoef(saved[:length], again[:length])[0, 1] > 0.999  # recalled exactly
        sounds.append(saved)
    assert len({round(float(np.abs(np.fft.rfft(s)).argmax())) for s in sounds}) > 1


def show_nearest_tab(app):
    tabs = app.window[k.TABS].Widget
    wanted = next(i for i in range(tabs.index("end")) if tabs.tab(i, "text") == "Nearest")
    spot = next(x for x in range(0, tabs.winfo_width(), 4) if tabs.identify(x, 10) and tabs.index(f"@{x},10") == wanted)
    click(tabs, spot + 10, 10)
    assert app.run_until(lambda s: tabs.index("current") == wanted)
    assert app.run_until(lambda s: app.window[k.NEAREST].Widget.winfo_viewable())


def double_click_row(app, row):
    table = app.window[k.NEAREST].Widget
    iid = table.get_children()[row]
    x, y, _, height = table.bbox(iid)
    xdo(
        "mousemove",
        "--sync",
        table.winfo_rootx() + x + 40,
        table.winfo_rooty() + y + height // 2,
        "click",
        "--repeat",
        "2",
        "--delay",
        "80",
        "1",
    )


def test_the_nearest_panel_lists_the_codes_and_says_the_dataset_is_missing(app):
    show_nearest_tab(app)
    point = click_pad(app, 200, 120)
    assert app.run_until(lambda s: s.nearest is not None and s.nearest.point == point)
    table = app.window[k.NEAREST].Widget
    # the codes fill the table where the sound features cannot be had
    assert app.run_until(lambda s: len(table.get_children()) == 10), table.get_children()
    assert app.run_until(lambda s: "not on this machine" in app.window[k.NEAREST_NOTE].get()), app.window[k.NEAREST_NOTE].get()
    codes = np.asarray(app.workers.cache.peek("ae_small_relu").codes.points)
    nearest = np.argsort(np.hypot(*(codes - np.asarray(point)).T))[0]
    assert app.state.nearest.plane[0].name == f"drum {nearest}"
    double_click_row(app, 0)  # the file is not here: its code's decode plays instead, and it says so
    assert app.run_until(lambda s: s.message.startswith("the dataset") and "decode of its code" in s.message), app.state.message


class BackendWithData(FakeBackend):
    def __init__(self, data):
        super().__init__()
        self.data = data

    def load(self, name, folder):
        model = super().load(name, folder)
        model.card.data["folder"] = str(self.data)
        return model


def test_a_double_click_on_a_nearest_row_plays_its_original(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(12):
        soundfile.write(data / f"{i:04d}.wav", np.full(2048, 0.1 * (i + 1), np.float32), 22050)
    app = make_app(tmp_path, backend=BackendWithData(data))
    try:
        assert app.run_until(lambda s: models_loaded(app))
        show_nearest_tab(app)
        table = app.window[k.NEAREST].Widget
        assert app.run_until(lambda s: s.nearest is not None and len(table.get_children()) == 10)  # by code: ten rows
        assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
        plays = len([c for c in app.workers.player.calls if c[0] == "play"])
        double_click_row(app, 0)
        assert app.run_until(lambda s: s.message.startswith("playing the original"))
        assert app.run_until(lambda s: app.workers.sound_room.idle)  # the player is called in its room
        assert len([c for c in app.workers.player.calls if c[0] == "play"]) == plays + 1
        assert "cannot be read" in app.window[k.NEAREST_NOTE].get()  # WAVs, not a dataset
    finally:
        app.close()


@pytest.mark.parametrize("answer", ["No", "Yes"])
def test_export_kit_writes_the_chosen_favourites_and_asks_before_replacing(app, tmp_path, answer):
    for px in (80, 160, 240):
        click_pad(app, px, 150)
        press("s")
        assert app.run_until(lambda s, n=px // 80: len(s.favourites) == n)
    select_all_favourites(app)
    kit = tmp_path / "My Kit.h2drumkit"
    typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "My Kit"))
    click_button(app, k.EXPORT_KIT)
    assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30)
    typing.join(5)
    with tarfile.open(kit) as archive:
        names = archive.getnames()
    assert sum(name.endswith(".wav") for name in names) == 3
    assert any(name.endswith("drumkit.xml") for name in names)
    before = kit.read_bytes()
    # again to the same file: the user is asked; "No" leaves it as it was
    typing = type_in_dialog("Export kit", "Return", text=str(kit))
    answering = answer_question("Replace?", "y" if answer == "Yes" else "n")
    app.state.message = ""
    click_button(app, k.EXPORT_KIT)
    expected = "exported" if answer == "Yes" else "kit not exported"
    assert app.run_until(lambda s: s.message.startswith(expected), timeout=30)
    typing.join(5)
    answering.join(5)
    if answer == "No":
        assert kit.read_bytes() == before
    else:
        with tarfile.open(kit) as archive:
            assert sum(name.endswith(".wav") for name in archive.getnames()) == 3


def test_a_click_in_the_save_dialogs_name_field_keeps_the_keyboard_there(app, tmp_path):
    click_pad(app, 120, 120)
    press("s")
    assert app.run_until(lambda s: len(s.favourites) == 1)
    select_all_favourites(app)
    favourites_before = len(app.state.favourites)
    outcome = {}
    typing = click_in_dialog_then_type(str(tmp_path / "MyKit"), outcome)
    click_button(app, k.EXPORT_KIT)
    assert app.run_until(lambda s: s.message.startswith(("exported", "kit not exported")) or "closed by Return" in outcome, timeout=40)
    typing.join(10)
    assert outcome.get("closed by Return"), "the dialog stayed open: the keys went elsewhere"
    assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30), app.state.message
    assert (tmp_path / "MyKit.h2drumkit").is_file()
    assert len(app.state.favourites) == favourites_before  # no letter of the name reached the pad as S
