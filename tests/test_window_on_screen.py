"""The window on real screens under a real window manager (issue 34, layout).

Each test starts an Xvfb of the screen size under test with twm managing it (a title bar on
every window), opens the window there in a process of its own (``window_on_screen.py``) and
reads where its parts are: at 1280x800 the whole window, title bar included, leaves room for a
desktop panel and the status line is on the screen, X is a white field, and a long favourites
folder is cut to its label with its end kept; resized through the window manager to
1600x1000, the pad grows (square) with the window and the map with it, and the models list
shows every model without empty rows.
"""

import json
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gui.layout import PAD_PIXELS

HERE = Path(__file__).resolve().parent
pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
    pytest.mark.skipif(shutil.which("twm") is None, reason="twm is not installed (scripts/system-deps.sh test)"),
    pytest.mark.skipif(
        shutil.which("xdotool") is None or shutil.which("xwininfo") is None, reason="xdotool and xwininfo are not installed"
    ),
]

PANEL = 32  # a desktop panel's height, which the window manager keeps windows off
OLD_PAD = 330  # the pad's fixed side before it grew with the window
#: twm with the server's own "fixed" font (its default fontset is not on every machine) and
#: windows placed without asking the user where
TWMRC = """TitleFont "fixed"
ResizeFont "fixed"
MenuFont "fixed"
IconFont "fixed"
IconManagerFont "fixed"
RandomPlacement
NoGrabServer
"""
START_S = 30


def start_display(size, tmp_path):
    """An Xvfb of ``size`` with twm on it: (DISPLAY, processes to stop)."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as answer:  # Xvfb writes its number once it takes clients
        ready, _, _ = select.select([answer], [], [], START_S)
        number = answer.readline().strip() if ready else ""
    if not number.isdigit():
        server.kill()
        pytest.fail(f"Xvfb did not start within {START_S} s")
    rc = tmp_path / "twmrc"
    rc.write_text(TWMRC)
    display = f":{number}"
    manager = subprocess.Popen(
        ["twm", "-display", display, "-f", str(rc)],
        env={**os.environ, "LANG": "C"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return display, (manager, server)


@pytest.fixture
def screen(tmp_path):
    """Open the window on a screen of a size under twm: ``open(size, resize=None)`` -> report."""
    started = []

    def open_window(size, resize=None):
        display, processes = start_display(size, tmp_path)
        started.extend(processes)
        shot = tmp_path / f"screen-{size[0]}x{size[1]}.png"
        command = [sys.executable, str(HERE / "window_on_screen.py"), str(shot), *map(str, resize or ())]
        done = subprocess.run(command, env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["frame"][3] > report["window"][3]  # twm framed it, with a title bar
        return report

    yield open_window
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def bottom(part):
    return part[1] + part[3]


def test_at_1280_by_800_with_a_title_bar_the_status_line_is_on_screen_with_room_for_a_panel(screen):
    report = screen((1280, 800))
    width, height = report["screen"]
    frame, status = report["frame"], report["status"]
    assert frame[2] <= width and frame[3] <= height - PANEL, frame  # title bar and all, beside a panel
    assert 0 <= status[1] and bottom(status) <= height, status  # the status line, on the screen
    assert bottom(report["help"]) <= height and report["help"][0] + report["help"][2] <= width
    assert report["pad"][2] == report["pad"][3] >= PAD_PIXELS
    assert report["x_field_colour"] == [255, 255, 255]  # a field to type in, not a grey disabled one
    favourites = report["favourites"]  # cut to its label, its end kept, the whole in the tooltip
    assert favourites["text_width"] <= favourites["width"] and favourites["shown"].startswith("in …")
    assert favourites["shown"].endswith("/kicks and snares") and favourites["folder"] in favourites["tooltip"]


def test_at_1600_by_1000_the_pad_and_map_grow_with_the_window_and_no_model_row_is_empty(screen):
    report = screen((1920, 1080), resize=(1600, 1000))
    assert report["window"][2:] == [1600, 1000]
    pad = report["pad"]
    assert pad[2] == pad[3] and pad[2] > OLD_PAD + 100, pad  # square, and grown with the window
    assert bottom(report["status"]) <= report["window"][1] + 1000  # nothing pushed out of the window
    assert report["map"][2] > 515 and report["map"][3] > 341, report["map"]  # the map grew too
    models = report["models"]
    assert models["shown"] == models["rows"]  # every model in view...
    assert models["height"] <= (models["rows"] + 2) * models["row_height"], models  # ...and no empty rows below
