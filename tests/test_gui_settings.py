"""The window's settings file: written atomically, and a damaged one never stops the window.

The window tests need a display (``xvfb-run``); the file tests do not.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gui.settings import Settings
from safeio import leftover_temporaries

ROOT = Path(__file__).resolve().parents[1]
needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run")


def test_settings_are_written_whole_and_read_back(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"volume": 0.5, "future_key": [1, 2]}))
    settings = Settings(path)
    assert settings.read() == {"volume": 0.5}
    assert settings.store({"volume": 0.25, "point": [1.0, -2.0], "not_a_key": 3}) is True
    assert json.loads(path.read_text()) == {"volume": 0.25, "point": [1.0, -2.0], "future_key": [1, 2]}
    assert leftover_temporaries(tmp_path) == [] and settings.note is None


def test_a_failed_write_keeps_the_old_file_and_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "settings.json"
    path.write_text('{"volume": 0.5}\n')
    before = path.read_bytes()
    settings = Settings(path)
    settings.read()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert settings.store({"volume": 0.1}) is False
    monkeypatch.undo()
    err = capsys.readouterr().err.strip()
    assert err == f"settings not saved: {path}: cannot write (No space left on device)"
    assert path.read_bytes() == before and leftover_temporaries(tmp_path) == []


_WRITER = """
import sys
from gui.settings import Settings
settings = Settings(sys.argv[1])
big = ["x" * 200] * 2000  # a file of some 400 kB, so a kill lands mid-write
print("ready", flush=True)
n = 0
while True:
    n += 1
    settings.store({"model": "ae_small_relu" if n % 2 else "vae_a", "device": big})
"""


def test_a_process_killed_while_saving_never_leaves_half_a_file(tmp_path):
    path = tmp_path / "settings.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(6):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.04 * round_)  # somewhere in a write: not an assertion on time
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        if path.exists():
            values = Settings(path).read()  # a whole file, old or new
            assert values["model"] in ("ae_small_relu", "vae_a") and len(values["device"]) == 2000
        for leftover in leftover_temporaries(tmp_path):  # what a killed writer leaves is its own
            leftover.unlink()
    assert path.exists()


@pytest.mark.parametrize(
    "damage, reason",
    [
        (b'{"volume": 0.3, "mod', "not JSON: "),
        (b"[0.3, 1]", "not a JSON object but list"),
        (b"\xff\xfe garbage", "not JSON: "),
    ],
)
def test_a_damaged_file_is_kept_and_said_in_one_line(tmp_path, capsys, damage, reason):
    path = tmp_path / "settings.json"
    path.write_bytes(damage)
    settings = Settings(path)
    assert settings.read() == {}
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"settings: {path} is damaged ({reason}")
    assert err.endswith("; starting with the defaults; it is kept as settings.json.damaged")
    assert (tmp_path / "settings.json.damaged").read_bytes() == damage
    assert path.read_bytes() == damage  # replaced only when the window saves


@pytest.mark.gui
@needs_display
def test_the_window_opens_with_the_defaults_on_a_damaged_settings_file(tmp_path, capsys):
    from test_gui_window import make_app

    damage = b'{"volume": 0.3, "model": "vae_a", "poi'
    (tmp_path / "settings.json").write_bytes(damage)
    app = make_app(tmp_path)
    try:
        assert app.run_until(lambda s: s.model is not None)
        assert app.state.model.name == "ae_small_relu"  # the first model, not the damaged "vae_a"
        assert app.state.sound.volume == 0.8
    finally:
        app.close()
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("settings")]
    assert len(notes) == 1 and "is damaged (not JSON" in notes[0]
    assert (tmp_path / "settings.json.damaged").read_bytes() == damage
    saved = json.loads((tmp_path / "settings.json").read_text())  # whole again after closing
    assert saved["model"] == "ae_small_relu" and saved["volume"] == 0.8
