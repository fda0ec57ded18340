"""The render thread: the matplotlib figures of the window's panels (the output, the map,
the sequences), built off the GUI thread with one latest slot per panel; the window only
copies their pixels (:mod:`gui.canvas`).
"""

import sys
import traceback

from gui import events
from gui.threads import JobGroup, LatestWorker


class FigureRenderer(JobGroup):
    """The render thread: a panel's newer picture replaces the one still waiting.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    """

    def __init__(self, backend, post):
        super().__init__(backend, post)
        self._painter = None  # gui.figures.OutputPainter, made in the render thread
        self.thread = LatestWorker("render", self._render)

    def render(self, effect, size_px):
        """Build ``effect``'s figure at ``size_px`` (the panel's size, read on the GUI thread)."""
        self.thread.submit(effect.panel, (effect.request, size_px))

    def prepare_figures(self):
        """Import matplotlib in the render thread now, ahead of the first picture."""
        self.thread.submit(None, None)

    def _figures(self):
        """:mod:`gui.figures`, imported in the render thread (with the Tk backend that
        :mod:`gui.canvas` shows its pictures with): matplotlib takes half a second to
        import, which must hold up neither the GUI thread nor the first sound."""
        from gui import canvas, figures

        canvas.import_backend()
        if self._painter is None:
            self._painter = figures.OutputPainter()
        return figures

    def _render(self, panel, job):
        try:
            figures = self._figures()
            if panel is None:
                return  # prepare_figures: the import was the job
            request, size_px = job
            if panel == "output":
                result = self._painter.paint(
                    request.audio, request.sample_rate, size_px, title=request.title, original=request.original
                )
            elif panel == "map":
                result = figures.map_figure(size_px, request)
                result.key = request.key
            else:
                result = figures.sequence_figure(
                    panel, size_px, request.sounds, request.labels, request.sample_rate, title=request.title
                )
        except Exception as error:  # noqa: BLE001 - a drawing bug must not kill the thread
            traceback.print_exc(file=sys.stderr)
            self.post(events.JobFailed(f"drawing the {panel}", f"internal error: {error!r}"))
            return
        self.post(events.FigureReady(result))
