"""The window's colours that more than one part draws with (the pad, the map's figure).

A leaf module: the pad draws the training samples' families on the GUI thread as soon as a
model is ready, and importing these from :mod:`gui.figures` would pull matplotlib in there.
"""

#: One colour per family of preprocessing.labels.FAMILIES (tab10), so every map agrees.
FAMILY_COLOURS = {
    "kick": "#1f77b4", "snare": "#ff7f0e", "clap": "#2ca02c", "hat": "#d62728",
    "tom": "#9467bd", "cymbal": "#8c564b", "percussion": "#e377c2", "other": "#7f7f7f",
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
