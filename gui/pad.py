"""The latent pad: the ``sg.Graph`` the user clicks and drags on, drawn from the state.

The graph's coordinates are the model's latent range, and it reports floats
(``float_values=True`` in :mod:`gui.layout`), so the point of a click is the one under the
cursor. The grid and the training codes are drawn once per model; the marker (the point,
its cross-hairs, A and B) is moved on its own.
"""

import numpy as np
import PySimpleGUI as sg

from gui.wide import pad_spot

MAX_FAMILY_DOTS = 2000  # more dots than this are thinned (the map shows them all)
GRID_LINES = 8
MARKER_SHARE = 45  # the marker circle's radius: this share of the range's width
MARKER_LINE = 2  # its line, in pixels


class PadView:
    """Draws the pad of one window.

    Parameters
    ----------
    graph : PySimpleGUI.Graph
    """

    def __init__(self, graph):
        self.graph = graph
        self._marker = []

    def draw(self, state):
        """Everything: the model's range, its grid and codes, then the marker."""
        graph = self.graph
        graph.erase()
        self._marker = []
        info = state.model
        if info is None:
            graph.change_coordinates((-1, -1), (1, 1))
            if state.zoo_empty:
                graph.draw_text("no trained models in this folder", (0, 0.1), color="grey")
                graph.draw_text("start without --models for the shipped ones", (0, -0.1), color="grey", font=("Helvetica", 8))
            else:
                graph.draw_text("loading…", (0, 0), color="grey")
            return
        xmin, xmax, ymin, ymax = info.latent_range
        graph.change_coordinates((xmin, ymin), (xmax, ymax))
        for i in range(1, GRID_LINES):
            x = xmin + i * (xmax - xmin) / GRID_LINES
            y = ymin + i * (ymax - ymin) / GRID_LINES
            colour = "#c8c8c8" if i == GRID_LINES // 2 else "#ececec"
            graph.draw_line((x, ymin), (x, ymax), color=colour)
            graph.draw_line((xmin, y), (xmax, y), color=colour)
        codes = info.codes
        if codes is not None and len(codes.points):
            from gui.family import highlighted_families, shown_code_points
            from gui.palette import family_colour

            highlight = highlighted_families(state)
            step = max(1, len(codes.points) // MAX_FAMILY_DOTS)
            size = (xmax - xmin) / 70
            shown = shown_code_points(state)  # on a family's pad: where that pad puts them
            for point, family in zip(shown[::step], list(codes.families)[::step]):
                if not (xmin <= point[0] <= xmax and ymin <= point[1] <= ymax):
                    continue  # off this family's pad
                graph.draw_point(tuple(map(float, point)), size, color=family_colour(str(family), highlight))
        font = ("Helvetica", 7)
        graph.draw_text(f"{xmin:.2g}", (xmin, ymin), color="grey", font=font, text_location=sg.TEXT_LOCATION_BOTTOM_LEFT)
        graph.draw_text(f"{xmax:.2g}", (xmax, ymin), color="grey", font=font, text_location=sg.TEXT_LOCATION_BOTTOM_RIGHT)
        graph.draw_text(f"{ymax:.2g}", (xmin, ymax), color="grey", font=font, text_location=sg.TEXT_LOCATION_TOP_LEFT)
        self.draw_marker(state)

    def _on_the_canvas(self, point, latent_range):
        """The point, moved in by a pixel where it lies on the range's edge: the edge itself
        falls one pixel past the canvas, and a point clamped there would show no cross-hair."""
        xmin, xmax, ymin, ymax = latent_range
        widget = self.graph.Widget
        width, height = max(widget.winfo_width(), 2), max(widget.winfo_height(), 2)
        dx, dy = (xmax - xmin) / width, (ymax - ymin) / height
        return (float(np.clip(point[0], xmin + dx, xmax - dx)), float(np.clip(point[1], ymin + dy, ymax - dy)))

    def _circle_inside(self, point, latent_range, radius):
        """Where the marker's circle goes: on the point, moved in just enough that all of it
        is on the pad (a point clamped to the range's edge would show half a circle). The
        cross-hairs stay on the point itself."""
        xmin, xmax, ymin, ymax = latent_range
        widget = self.graph.Widget
        width, height = max(widget.winfo_width(), 2), max(widget.winfo_height(), 2)
        pixels = radius * width / (xmax - xmin) + MARKER_LINE  # the circle's reach, in pixels
        dx, dy = pixels * (xmax - xmin) / width, pixels * (ymax - ymin) / height
        return (float(np.clip(point[0], xmin + dx, xmax - dx)), float(np.clip(point[1], ymin + dy, ymax - dy)))

    def draw_marker(self, state):
        """The point (a circle and cross-hairs) and the morph's A and B."""
        graph = self.graph
        for figure_id in self._marker:
            graph.delete_figure(figure_id)
        info = state.model
        if info is None:
            self._marker = []
            return
        xmin, xmax, ymin, ymax = info.latent_range
        x, y = self._on_the_canvas(state.point, info.latent_range)
        radius = (xmax - xmin) / MARKER_SHARE
        ids = [
            graph.draw_line((x, ymin), (x, ymax), color="#9fb7d0"),
            graph.draw_line((xmin, y), (xmax, y), color="#9fb7d0"),
            graph.draw_circle(
                self._circle_inside(state.point, info.latent_range, radius), radius, line_color="black", line_width=MARKER_LINE
            ),
        ]
        for label, spot in (("A", pad_spot(info, state.morph.a)), ("B", pad_spot(info, state.morph.b))):
            if spot is not None:
                ids.append(graph.draw_text(label, spot, color="#d00000", font=("Helvetica", 11, "bold")))
        self._marker = ids
