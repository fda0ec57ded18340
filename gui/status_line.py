"""How the window's one-line texts fit: the status line cut to its width, the sound's state.

Pure functions (the text measure is passed in), so they are tested without a window.
"""

from gui.state import Playing

ELLIPSIS = "…"

#: The sound state line's colour for each state.
PLAYING_COLOURS = {Playing.PLAYING: "#1b5e20", Playing.LOOPING: "#0d47a1", Playing.STOPPED: "#616161"}


def shorten(text, width_px, measure):
    """``text`` cut with "…" so that ``measure(result) <= width_px``.

    Parameters
    ----------
    text : str
    width_px : int
        The room in pixels.
    measure : callable(str) -> int
        The width in pixels of a text in the element's font.

    Returns
    -------
    str
        ``text`` itself when it fits, else its longest head that fits, then "…".
    """
    if measure(text) <= width_px:
        return text
    low, high = 0, len(text)  # the longest head that fits lies in [low, high)
    while low < high - 1:
        middle = (low + high) // 2
        if measure(text[:middle].rstrip() + ELLIPSIS) <= width_px:
            low = middle
        else:
            high = middle
    return text[:low].rstrip() + ELLIPSIS


def shorten_head(text, width_px, measure, keep=""):
    """``text`` with its middle cut ("in …/the/end"): ``keep`` (its first words), "…", then
    the longest tail that fits, so that ``measure(result) <= width_px``; a folder's end says
    more than its start."""
    if measure(text) <= width_px:
        return text
    rest = text[len(keep) :] if text.startswith(keep) else text
    low, high = 0, len(rest)  # the shortest cut from the start that fits lies in (low, high]
    while low < high - 1:
        middle = (low + high) // 2
        if measure(keep + ELLIPSIS + rest[middle:]) <= width_px:
            high = middle
        else:
            low = middle
    return keep + ELLIPSIS + rest[high:]
