"""The Help window (F1, the Help button): :data:`gui.glossary.HELP_TEXT` in a read-only,
scrolling text beside the main window. Plain Tk: it asks nothing of the event loop."""

import tkinter

from gui.glossary import HELP_TEXT, HELP_TITLE

HELP_SIZE = "760x620"


def show_help(root, shown=None):
    """Show the Help window, or bring ``shown`` (the one already open) to the front.

    Parameters
    ----------
    root : tkinter.Tk
        The main window.
    shown : tkinter.Toplevel or None

    Returns
    -------
    tkinter.Toplevel
    """
    if shown is not None and shown.winfo_exists():
        shown.deiconify()
        shown.lift()
        shown.focus_set()
        return shown
    window = tkinter.Toplevel(root)
    window.title(HELP_TITLE)
    window.geometry(HELP_SIZE)
    text = tkinter.Text(window, wrap="word", font=("Helvetica", 10), padx=10, pady=8, relief="flat")
    bar = tkinter.Scrollbar(window, command=text.yview)
    text.configure(yscrollcommand=bar.set)
    text.insert("1.0", HELP_TEXT)
    text.configure(state="disabled")  # read, not edited
    close = tkinter.Button(window, text="Close (Esc)", command=window.destroy, highlightthickness=2)
    close.pack(side="bottom", pady=4)
    bar.pack(side="right", fill="y")
    text.pack(side="left", fill="both", expand=True)
    window.bind("<Escape>", lambda _e: window.destroy())
    window.focus_set()
    return window
