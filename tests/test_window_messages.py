"""What the status line says, in the real window driven with real X input (xdotool).

Exporting a kit over an existing kit and song, answering No, cancelling the save dialog, and a
machine with no sound output: each test reads the status line and the Output box as the user
sees them. Run under ``xvfb-run -a -s "-screen 0 1280x800x24"``.
"""

import json
import tkinter.font

from window_driver import (
    REAL_INPUT_MARKS,
    HeardBackend,
    HeardCapture,
    answer_question,
    app,
    click_button,
    click_middle,
    click_pad,
    make_app,
    press,
    select_all_favourites,
    type_in_dialog,
)

from gui import effects as fx
from gui import keys as k
from gui.state import READY
from gui.view import NO_OUTPUT

pytestmark = REAL_INPUT_MARKS
app = app  # the window with the fake models, a fixture

BEAT_TAB, SOUND_TAB = 5, 0


def status_line(app):
    return app.window[k.STATUS].get()


def test_replacing_a_kit_and_its_song_names_both_and_no_and_cancel_say_so(app, tmp_path):
    for px in (80, 200):
        click_pad(app, px, 150)
        press("s")
        assert app.run_until(lambda s, n=px // 80: len(s.favourites) == n)
    app.window[k.TABS].Widget.select(BEAT_TAB)  # choosing a tab is not under test
    app.window.TKroot.update()
    click_middle(app.window[(k.STEP, 0)].Widget)  # a beat: the kit takes it along as a song
    assert app.run_until(lambda s: s.pattern.pattern.hits() == [(0, 0)])
    app.window[k.TABS].Widget.select(SOUND_TAB)
    select_all_favourites(app)
    typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "MyKit"))
    click_button(app, k.EXPORT_KIT)
    assert app.run_until(lambda s: s.message.startswith("exported"), timeout=30), app.state.message
    typing.join(5)
    kit, song = tmp_path / "MyKit.h2drumkit", tmp_path / "MyKit.h2song"
    before = kit.read_bytes(), song.read_bytes()

    asked = []  # what the status line and the question said as the question opened
    ask = app._effects[fx.AskConfirm]
    app._effects[fx.AskConfirm] = lambda effect: (asked.append((status_line(app), effect.question)), ask(effect))
    typing = type_in_dialog("Export kit", "Return", text=str(tmp_path / "MyKit"))
    answering = answer_question("Replace?", "n")
    click_button(app, k.EXPORT_KIT)
    assert app.run_until(lambda s: s.message.startswith("kit not exported"), timeout=30), app.state.message
    typing.join(5)
    answering.join(5)
    [(status, question)] = asked
    assert "exporting" not in status and "MyKit.h2drumkit and MyKit.h2song exist" in status, status
    assert question == "MyKit.h2drumkit and MyKit.h2song exist already. Replace both?"
    assert app.run_until(
        lambda s: status_line(app).endswith("kit not exported: MyKit.h2drumkit and MyKit.h2song are left as they were")
    ), status_line(app)
    assert (kit.read_bytes(), song.read_bytes()) == before

    cancelling = type_in_dialog("Export kit", "Escape")
    click_button(app, k.EXPORT_KIT)
    assert app.run_until(lambda s: s.message == "" and "kit not exported" not in status_line(app), timeout=30), status_line(app)
    cancelling.join(5)


def test_no_sound_output_is_said_in_words_and_the_output_box_agrees(tmp_path, monkeypatch):
    import sounddevice as sd

    def no_default(device=None, kind=None):
        raise sd.PortAudioError("Error querying device -1")  # PortAudio on a machine with no output

    monkeypatch.setattr(sd, "query_devices", no_default)
    monkeypatch.setattr(HeardBackend, "output_devices", lambda self: [])  # and lists none
    (tmp_path / "settings.json").write_text(json.dumps({"volume": 1.0}))
    app = make_app(tmp_path, backend=HeardBackend(HeardCapture()))
    try:
        assert app.run_until(
            lambda s: (
                s.model is not None
                and s.sound.audio is not None
                and s.player.text.startswith("no sound device")
                and s.entries["gan"].state == READY
            )
        )
        assert app.run_until(lambda s: status_line(app).startswith("no sound device: no sound output was found on this machine")), (
            status_line(app)
        )
        assert "-1" not in status_line(app)
        assert app.window[k.DEVICE].get() == NO_OUTPUT
        # and the box shows all of it, not "none (no s"
        box = app.window[k.DEVICE].Widget
        shown = tkinter.font.Font(root=box, font=box.cget("font")).measure(NO_OUTPUT)
        assert app.run_until(lambda s: box.winfo_width() > shown + 20), (box.winfo_width(), shown)
        press("space")
        assert app.run_until(lambda s: status_line(app).endswith("cannot play without a sound device (Save still works)"))
        press("s")
        assert app.run_until(lambda s: len(s.favourites) == 1)  # saving still works
    finally:
        app.close()
