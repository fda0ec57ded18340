"""The gui package's error: ``str(error)`` is a one-line reason meant for the user."""


class GuiError(Exception):
    """The window cannot be opened (no display, no Tk); the message says why."""
