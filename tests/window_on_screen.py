"""Open the real window on this display (one with a window manager), optionally have it resized
through the window manager, and print where its parts are on the screen as JSON (no test here).

``tests/test_window_on_screen.py`` runs it in a process of its own, on an Xvfb of the screen
size under test with twm managing it: Tk's hidden root belongs to one display per process.

usage: python tests/window_on_screen.py SHOT.png [WIDTH HEIGHT]
"""

import json
import subprocess
import sys
import tempfile
import time
import tkinter.font
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WAIT_S = 60


def wait_for(app, condition, what):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.run_until(lambda s: False, timeout=0.1)


def xwininfo(window_id):
    """The absolute geometry (x, y, width, height) of an X window, as xwininfo reads it."""
    text = subprocess.run(["xwininfo", "-id", str(window_id)], capture_output=True, text=True, timeout=20).stdout
    fields = dict(line.strip().split(":", 1) for line in text.splitlines() if ":" in line)
    return tuple(int(fields[name].strip()) for name in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"))


def box(widget):
    return [widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height()]


def main(shot, size=None):
    from PIL import ImageGrab

    from gui import keys as k
    from gui.state import READY
    from gui.window import GuiApp, GuiOptions
    from gui_fakes import FakeBackend

    folder = Path(tempfile.mkdtemp(prefix="mlsg-screen-"))
    favourites = folder / "a folder with a rather long name for a producer's favourites" / "kicks and snares"
    app = GuiApp(
        GuiOptions(
            models_dir=str(folder / "zoo"), favourites_dir=str(favourites), settings_path=str(folder / "settings.json"), seed=0
        ),
        backend=FakeBackend(),
    ).open()
    root = app.window.TKroot
    wait_for(
        app,
        lambda: app.state.model is not None and app.state.sound.audio is not None and app.state.entries["gan"].state == READY,
        "the first model",
    )
    # the window manager has put it in a frame of its own (with a title bar)
    wait_for(app, lambda: int(root.wm_frame(), 16) != root.winfo_id(), "the window manager's frame")
    if size is not None:
        client = subprocess.run(
            ["xdotool", "search", "--name", "ML Sample Generator"], capture_output=True, text=True, timeout=20
        ).stdout.split()[0]
        subprocess.run(["xdotool", "windowsize", client, *map(str, size)], check=True, timeout=20)
        wait_for(app, lambda: (root.winfo_width(), root.winfo_height()) == tuple(size), "the new size")
    pad = app.window[k.PAD].Widget
    wait_for(app, lambda: not app.sizing.fit_pending and pad.winfo_width() == pad.winfo_reqwidth(), "the pad fitted")
    wait_for(app, lambda: app.workers.idle, "the workers idle (every model listed and loaded)")
    tree = app.window[k.MODELS].Widget
    rows = [iid for parent in ("", *tree.get_children("")) for iid in tree.get_children(parent)]
    rows += [iid for iid in list(rows) for iid in tree.get_children(iid) if iid not in rows]
    shown = [iid for iid in rows if tree.bbox(iid)]
    report = {
        "screen": [root.winfo_screenwidth(), root.winfo_screenheight()],
        "frame": xwininfo(root.wm_frame()),
        "window": box(root),
        "status": box(app.window[k.STATUS].Widget),
        "help": box(app.window[k.HELP].Widget),
        "pad": box(pad),
        "map": box(app.window[k.MAP_CANVAS].Widget),
        "models": {
            "rows": len(rows),
            "shown": len(shown),
            "height": tree.winfo_height(),
            "row_height": tree.bbox(shown[0])[3] if shown else 0,
        },
        "minsize": list(root.minsize()),
    }
    picture = ImageGrab.grab(xdisplay=None)
    picture.save(shot)
    field = app.window[k.X].Widget
    report["x_field_colour"] = list(
        picture.getpixel((field.winfo_rootx() + field.winfo_width() - 6, field.winfo_rooty() + field.winfo_height() // 2))[:3]
    )
    label = app.window[k.FAVOURITES_DIR]
    report["favourites"] = {
        "folder": str(favourites),
        "shown": label.Widget.cget("text"),
        "width": label.Widget.winfo_width(),
        "tooltip": label.TooltipObject.text,
        "text_width": tkinter.font.Font(font=label.Widget.cget("font")).measure(label.Widget.cget("text")),
    }
    print(json.dumps(report))
    app.close()


if __name__ == "__main__":
    main(sys.argv[1], tuple(int(v) for v in sys.argv[2:4]) if len(sys.argv) > 2 else None)
