"""The window's colours that more than one part draws with (the pad, the map's figure).

A leaf module: the pad draws the training samples' families on the GUI thread as soon as a
model is ready, and importing these from :mod:`gui.figures` would pull matplotlib in there.
"""

#: One colour per family of preprocessing.labels.FAMILIES (tab10), so every map agrees.
FAMILY_COLOURS = {
    "kick": "#1f77b4",
    "snare": "#ff7f0e",
    "clap": "#2ca02c",
    "hat": "#d62728",
    "tom": "#9467bd",
    "cymbal": "#8c564b",
    "percussion": "#e377c2",
    "other": "#7f7f7f",
    # not a family, but the map shows them: a colour apart from "other" (tab10's olive)
    "unknown": "#bcbd22",
}
POINT_COLOUR = "#000000"
#: The training samples of the families not chosen (a conditioned model's map and pad).
GREYED = "#cfcfcf"


def family_colour(family, highlight=None):
    """A family's colour, or :data:`GREYED` when ``highlight`` (the chosen families) lacks it."""
    if highlight is not None and family not in highlight:
        return GREYED
    return FAMILY_COLOURS.get(family, FAMILY_COLOURS["other"])


#: The "made here" map paints each family's region in its colour mixed with this much white,
#: so the training sounds' dots (in the full colour) stand out on it.
MADE_WHITE = 0.55
#: A point whose sound is silent: no family is heard there.
SILENT_COLOUR = "#f4f4f4"


def made_colour(family):
    """The colour of a region of the "made here" map where ``family`` is heard (``#rrggbb``)."""
    if family == "silent":
        return SILENT_COLOUR
    full = family_colour(family)
    channels = (int(full[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * MADE_WHITE):02x}" for c in channels)
