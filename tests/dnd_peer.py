"""Another program for the drag-and-drop tests (no tests here): a small Tk window of its own.

``python tests/dnd_peer.py drop OUT`` shows a drop target; each file dropped on it is copied
into the folder OUT at once (``received_1.wav``, …, then ``received.json`` naming the paths
as they came), as a DAW or a file manager would take them. ``python tests/dnd_peer.py drag
FILE`` shows a drag source that offers FILE, as a file manager does. Either prints its
window's place on the screen as one JSON line (``{"x":..,"y":..,"width":..,"height":..}``)
once it is up, and runs until it is killed. While a drag from it goes on, it prints
``accepted`` once the window under the pointer has said it takes the drop
(:func:`watch_acceptance`), as a user waits for the cursor to change before letting go.
"""

import json
import shutil
import sys
import tkinter
from pathlib import Path

from tkinterdnd2 import COPY, DND_FILES, TkinterDnD

GEOMETRY = "240x160+1000+600"  # the bottom right of a 1280x800 screen, clear of the window

#: True while this program's drag is over a target that answered "I take it" (XdndStatus
#: with accept): tkdnd's own state, from which it decides, at the release, to drop or to
#: cancel. Released before, the drop is cancelled, which is what a busy machine showed.
ACCEPTED = (
    "expr {[info exists ::tkdnd::xdnd::_dragging] && $::tkdnd::xdnd::_dragging"
    " && [info exists ::tkdnd::xdnd::_dodragdrop_drop_target_accepts_drop]"
    " && $::tkdnd::xdnd::_dodragdrop_drop_target_accepts_drop}"
)


def watch_acceptance(root, then):
    """Call ``then()`` once, when a drag from this Tk program is over a target that takes it.

    Polled by Tk's own timer, which runs inside tkdnd's wait for the drag's end. What an
    earlier drag left is cleared first. Returns a function that stops the watch.
    """
    root.tk.eval(
        "if {[info exists ::tkdnd::xdnd::_dodragdrop_drop_target_accepts_drop]}"
        " {set ::tkdnd::xdnd::_dodragdrop_drop_target_accepts_drop 0}"
    )
    pending = []

    def look():
        if int(root.tk.eval(ACCEPTED)):
            then()
        else:
            pending[:] = [root.after(10, look)]

    def stop():
        for one in pending:
            root.after_cancel(one)
        pending.clear()

    look()
    return stop


def received(out, tk, data):
    paths = tk.splitlist(data)
    for i, path in enumerate(paths, 1):
        shutil.copyfile(path, out / f"received_{i}.wav")
    # written last: the test waits for this one
    (out / "received.json").write_text(json.dumps(list(paths)), encoding="utf-8")


def say_accepted():
    print("accepted", flush=True)


def main(mode, argument):
    root = TkinterDnD.Tk()
    root.title(f"dnd peer ({mode})")
    root.geometry(GEOMETRY)
    label = tkinter.Label(root, text=f"{mode} here", bg="light yellow")
    label.pack(fill="both", expand=True)
    if mode == "drop":
        label.drop_target_register(DND_FILES)
        label.dnd_bind("<<Drop>>", lambda event: (received(Path(argument), root.tk, event.data), COPY)[1])
    else:
        label.drag_source_register(1, DND_FILES)
        label.dnd_bind("<<DragInitCmd>>", lambda _event: (COPY, DND_FILES, (argument,)))
        watch_acceptance(root, say_accepted)
    root.update()
    print(
        json.dumps({"x": label.winfo_rootx(), "y": label.winfo_rooty(), "width": label.winfo_width(), "height": label.winfo_height()}),
        flush=True,
    )
    root.mainloop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
