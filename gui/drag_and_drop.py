"""The window's drag and drop: tkdnd (through tkinterdnd2) wired to the window's widgets.

Out: the "drag this sound out" label carries the current sound as a WAV, the favourites list
its chosen favourites' files (what a drag carries is :mod:`gui.drag`). In: a sound file
dropped on the pad or the drop zone is opened as a sample. The callbacks here answer tkdnd
and post events to the loop; what the window says of a drag is :mod:`gui.handlers.drag`.
"""

import tkinter

import tkinterdnd2

from gui import keys as k
from gui.drag import NothingToDrag, current_sound_file, dropped_paths, favourite_files
from gui.handlers.drag import dragging_message


class DragAndDrop:
    """The drag and drop of one window.

    Parameters
    ----------
    app : gui.window.GuiApp
        Its ``window`` and ``state`` are read, and ``post`` tells the loop.
    """

    def __init__(self, app):
        self.app = app

    def enable(self):
        """Sounds out of the window and files into it, by drag and drop (tkdnd, through tkinterdnd2).

        Out: the "drag this sound out" label carries the current sound as a WAV (written
        when the drag starts, see gui.drag), the favourites list its chosen favourites'
        files. In: a sound file dropped on the pad or the drop zone is opened as a sample,
        as "Open a sample…" does. Returns whether it is on; where tkdnd cannot load (a Tk
        without it), the status line says why and the buttons do the rest.
        """
        window = self.app.window
        try:
            tkinterdnd2.TkinterDnD._require(window.TKroot)  # load tkdnd into our Tk
        except (RuntimeError, tkinter.TclError) as error:
            window[k.DROP].update(visible=False)
            window[k.DRAG_OUT].update(visible=False)
            self.app.post((k.DRAG, "refused"), f"drag and drop is off: tkdnd did not load ({error})")
            return False
        for widget in (window[k.DROP].Widget, window[k.PAD].Widget):
            widget.drop_target_register(tkinterdnd2.DND_FILES)
            widget.dnd_bind("<<Drop>>", self.dropped)
        sources = ((window[k.DRAG_OUT].Widget, self._drag_sound), (window[k.FAVOURITES].Widget, self._drag_favourites))
        for widget, start in sources:
            widget.drag_source_register(1, tkinterdnd2.DND_FILES)
            widget.dnd_bind("<<DragInitCmd>>", start)
            widget.dnd_bind("<<DragEndCmd>>", self._drag_ended)
        return True

    def dropped(self, tk_event):
        """tkdnd's drop callback: the first dropped file is opened as a sample."""
        paths = dropped_paths(str(tk_event.data), self.app.window.TKroot.tk.splitlist)
        if paths:
            self.app.window.write_event_value((k.FILE, "open-sample"), str(paths[0]))
        return getattr(tk_event, "action", None)

    def _drag_sound(self, _tk_event):
        """tkdnd asks what the drag carries: the current sound, written to a file now.

        Written here on the GUI thread, because the protocol wants the file's name before
        the drag goes on (a sound is a few hundred kilobytes at most).
        """
        try:
            path = current_sound_file(self.app.state)
        except NothingToDrag as reason:
            return self._refuse_drag(str(reason))
        return self._start_drag([path])

    def _drag_favourites(self, _tk_event):
        """tkdnd asks what the drag carries: the favourites chosen in the list (their files)."""
        listbox = self.app.window[k.FAVOURITES]
        try:
            paths = favourite_files(self.app.state, listbox.get())
        except NothingToDrag as reason:
            return self._refuse_drag(str(reason))
        return self._start_drag(paths)

    def _start_drag(self, paths):
        self.app.post((k.DRAG, "out"), [str(path) for path in paths])
        # Shown now: tkdnd holds this callback until the drop, so the loop cannot say it
        # before then (Tk still redraws meanwhile).
        self.app.window[k.STATUS].update(dragging_message(paths))
        return (tkinterdnd2.COPY, tkinterdnd2.DND_FILES, tuple(str(path) for path in paths))

    def _drag_ended(self, tk_event):
        """tkdnd says the drag is over (dropped, or let go where nothing takes it)."""
        self.app.post((k.DRAG, "ended"), str(getattr(tk_event, "action", "") or ""))
        return getattr(tk_event, "action", None)

    def _refuse_drag(self, reason):
        self.app.post((k.DRAG, "refused"), reason)
        return tkinterdnd2.REFUSE_DROP
