"""The window's modal dialogs: the file dialogs and the Yes/No question.

Each carries out one effect (``gui.effects.AskFile``, ``AskSaveFile``, ``AskConfirm``): it asks
the user, then hands the answer to the loop as the ``(FILE, purpose)`` or ``(CONFIRM,
purpose)`` event, which the handlers turn into what was asked for (None: cancelled, no).
"""

from pathlib import Path

import PySimpleGUI as sg

from constants import AUDIO_SUFFIXES, KIT_SUFFIX
from gui import keys as k


def ask_file(app, effect):
    """The open dialog for a sample (``gui.effects.AskFile``)."""
    purpose = effect.purpose
    path = sg.popup_get_file(
        "Open a sample",
        no_window=True,
        keep_on_top=True,
        initial_folder=start_folder(app.state),
        file_types=(("Sound files", " ".join(f"*{suffix}" for suffix in AUDIO_SUFFIXES)), ("All files", "*.*")),
    )
    event = (k.FILE, purpose)
    app.dispatch(event, {event: path or None})


def ask_save_file(app, effect):
    """The save dialog for a kit; its own overwrite question is off (the export asks)."""
    from tkinter import filedialog

    purpose = effect.purpose
    path = filedialog.asksaveasfilename(
        parent=app.window.TKroot,
        title="Export kit",
        defaultextension=KIT_SUFFIX,
        initialdir=start_folder(app.state, app.state.kit.folder),
        filetypes=(("Hydrogen kits", f"*{KIT_SUFFIX}"), ("All files", "*.*")),
        confirmoverwrite=False,
    )
    event = (k.FILE, purpose)
    app.dispatch(event, {event: path or None})


def ask_confirm(app, effect):
    """The question of a ``gui.effects.AskConfirm`` (replace a file?)."""
    event = (k.CONFIRM, effect.purpose)
    app.dispatch(event, {event: ask_yes_no(effect.question, title="Replace?")})


def ask_yes_no(question, title):
    """A modal Yes/No question; True for Yes. The desktop's keys answer it wherever its focus
    is: Y (or Enter on Yes) is Yes; N, Esc, Enter on No, or closing it is No. No has the focus
    at first, so a stray Enter replaces nothing."""
    window = sg.Window(
        title,
        [[sg.Text(question)], [sg.Button("Yes", key="Yes", tooltip="Y"), sg.Button("No", key="No", tooltip="N or Esc")]],
        modal=True,
        keep_on_top=True,
        font=("Helvetica", 9),
        finalize=True,
    )
    for sequence, answer in (("<Key-y>", "Yes"), ("<Key-Y>", "Yes"), ("<Key-n>", "No"), ("<Key-N>", "No"), ("<Escape>", "No")):
        window.bind(sequence, answer)
    for key in ("Yes", "No"):
        window[key].Widget.bind("<Return>", lambda _event, widget=window[key].Widget: widget.invoke())
    window["No"].set_focus()
    try:
        while True:
            event, _ = window.read()
            if event in ("Yes", "No", sg.WIN_CLOSED):
                return event == "Yes"
    finally:
        window.close()


def start_folder(state, preferred=None):
    """Where a file dialog opens: ``preferred`` (the last kit's folder), else the favourites
    folder, else the home folder; the first that exists, never the program's own folder."""
    for folder in (preferred, state.favourites_dir, Path.home()):
        if folder and Path(folder).is_dir():
            return str(folder)
    return str(Path.home())
