"""Matplotlib figures on the window's Canvas elements (GUI thread only).

Each panel keeps one ``FigureCanvasTkAgg`` on its ``sg.Canvas`` (as in PySimpleGUI's
``Demo_Matplotlib_Browser.py``) and swaps in the figures the render worker finished. The
worker has already rendered a figure with Agg at the panel's size, so showing it copies
its pixels instead of drawing it again on the GUI thread; only a figure of another size
(the window was resized meanwhile) is drawn here. The output panel, redrawn at every move
of the point, receives only pixels (``gui.figures.OutputPainter``). The map's current-point marker is an
animated artist moved by blitting, so dragging the point never redraws the map.

Matplotlib is not imported with this module: a panel puts its ``FigureCanvasTkAgg`` on its
Canvas element when its first picture comes (:meth:`FigurePanel.attach`), and the render
worker has imported matplotlib by then (:func:`import_backend`, in its thread). So the
window opens, and makes its first sound, without waiting half a second for matplotlib.
"""

import time

import numpy as np

PICK_PIXELS = 6  # a click this close to a sample chooses it
DPI = 100  # matplotlib's default figure dpi, which gui.figures renders at too


def import_backend():
    """Import what the panels draw with (matplotlib's Tk backend); any thread may call it,
    since importing creates no Tk object."""
    from matplotlib.backends import _backend_tk, backend_tkagg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def marker_inside(axes, marker, point):
    """Where to draw the map's point marker: on the point, moved in just enough that all of
    it is inside the axes (a point clamped to the range's edge would show half a ring).

    Returns
    -------
    (float, float)
        Data coordinates.
    """
    x, y = axes.transData.transform((float(point[0]), float(point[1])))
    reach = (marker.get_markersize() / 2 + marker.get_markeredgewidth()) * axes.figure.dpi / 72
    box = axes.bbox
    x = min(max(x, box.x0 + reach), box.x1 - reach)
    y = min(max(y, box.y0 + reach), box.y1 - reach)
    inside = axes.transData.inverted().transform((x, y))
    return float(inside[0]), float(inside[1])


class FigurePanel:
    """One Canvas element showing the latest figure of a panel.

    Parameters
    ----------
    element : PySimpleGUI.Canvas
    on_click : callable(payload) or None
        Called with ``{"point": (x, y), "sample": index or None}`` for a click on the axes.
    on_resize : callable() or None
        Called when the panel changes size (a pixels-only panel then needs a new picture).
    """

    def __init__(self, element, on_click=None, on_resize=None):
        self.element = element
        self.on_click = on_click
        self.on_resize = on_resize
        self.current = None  # gui.figures.PanelFigure
        self._background = None
        self._cids = []
        self.tk = None  # the FigureCanvasTkAgg, once attached
        self._tooltip_text = None
        self._tooltip = None  # PySimpleGUI's ToolTip on the matplotlib widget, once attached
        element.TKCanvas.pack_propagate(False)

    @property
    def attached(self):
        return self.tk is not None

    def attach(self):
        """Put the matplotlib canvas on the element (once), at the element's size."""
        if self.tk is not None:
            return
        from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg
        from matplotlib.figure import Figure

        width, height = self.size_px()
        master = self.element.TKCanvas
        self.tk = FigureCanvasTkAgg(Figure(figsize=(width / DPI, height / DPI), dpi=DPI), master=master)
        self.tk.get_tk_widget().pack(side="top", fill="both", expand=True)
        self._connect()
        if self._tooltip_text is not None:
            self.set_tooltip(self._tooltip_text)

    def set_tooltip(self, text):
        """The tooltip shown while the pointer rests on the panel's picture (its text may change).

        It is on the matplotlib widget, which covers the whole element once attached
        (:func:`gui.tooltip.steady_tooltip`, beside matplotlib's own bindings)."""
        self._tooltip_text = text
        if self.tk is None:
            return  # given to the picture's widget when it comes (an empty canvas explains nothing)
        if self._tooltip is not None:
            self._tooltip.text = text
            return
        from gui.tooltip import steady_tooltip

        self._tooltip = steady_tooltip(self.tk.get_tk_widget(), text)

    def _connect(self):
        # callbacks live on the figure, so they are connected again after each swap
        for cid in self._cids:
            self.tk.mpl_disconnect(cid)
        self._cids = [self.tk.mpl_connect("draw_event", self._on_draw)]
        if self.on_click is not None:
            self._cids.append(self.tk.mpl_connect("button_press_event", self._on_press))
        if self.on_resize is not None:
            self._cids.append(self.tk.mpl_connect("resize_event", lambda _e: self.on_resize()))

    def size_px(self):
        """The panel's size on screen in pixels (what the next figure should be made at)."""
        master = self.element.TKCanvas
        for widget in (self.tk.get_tk_widget(), master) if self.tk is not None else (master,):
            width, height = widget.winfo_width(), widget.winfo_height()
            if width >= 20 and height >= 20:
                return int(width), int(height)
        # Not on screen (a hidden tab): the layout's size. The matplotlib widget is not mapped
        # until its first picture is drawn; meanwhile the panel's own canvas has its final size,
        # which may differ from the size the layout asked for (fonts differ between machines).
        return int(master.winfo_reqwidth()), int(master.winfo_reqheight())

    def show(self, result):
        """Put a finished figure (or its pixels) on the canvas.

        Returns
        -------
        float or None
            The GUI-thread time in ms; None when the pixels no longer fit (resized).
        """
        started = time.perf_counter()
        self.attach()
        if result.figure is None:
            if not self._show_pixels(result):
                return None
            return 1000 * (time.perf_counter() - started)
        figure = result.figure
        figure.set_canvas(self.tk)
        self.tk.figure = figure
        self._background = None
        self._let_go(self.current, figure)
        self.current = result
        self._connect()
        if not self._use_prerendered(result):
            self.tk.draw()
        return 1000 * (time.perf_counter() - started)

    @staticmethod
    def _let_go(result, new_figure):
        """Empty a figure the panel no longer shows: its artists and pixels are freed now,
        not at the next full garbage collection (a figure is a web of reference cycles)."""
        if result is None or result.figure is None or result.figure is new_figure:
            return
        result.figure.clear()
        agg = result.agg
        if agg is not None and getattr(agg, "renderer", None) is not None:
            agg.renderer = None  # its pixel buffer: width x height x 4 bytes

    def _show_pixels(self, result):
        """Copy a painted picture onto the canvas; one of another size waits for a new one."""
        height, width = result.pixels.shape[:2]
        if (width, height) != self.tk.get_width_height(physical=True):
            return False  # resized meanwhile: on_resize has asked for a picture at the new size
        self.current = result
        from matplotlib.backends import _backend_tk

        # the same copy FigureCanvasTkAgg.blit makes from its renderer's buffer
        _backend_tk.blit(self.tk._tkphoto, result.pixels, (0, 1, 2, 3))
        return True

    def _use_prerendered(self, result):
        """Show the worker's pixels when they fit the canvas (no second render here)."""
        agg = result.agg
        renderer = getattr(agg, "renderer", None)
        if renderer is None or not hasattr(agg, "_lastKey"):
            return False
        width, height = self.tk.get_width_height(physical=True)
        if (int(renderer.width), int(renderer.height)) != (width, height):
            return False
        self.tk.renderer = renderer
        self.tk._lastKey = agg._lastKey  # the renderer cache key: same size and dpi
        self._on_draw(None)
        self.tk.blit()
        return True

    # -- the map's moving point

    def _on_draw(self, _event):
        result = self.current
        if result is None or result.marker is None or result.axes is None:
            return
        self._background = self.tk.copy_from_bbox(result.axes.bbox)
        result.axes.draw_artist(result.marker)

    def move_marker(self, point):
        """Move the map's current-point marker by blitting only its axes."""
        result = self.current
        if result is None or result.marker is None:
            return
        x, y = marker_inside(result.axes, result.marker, point)
        result.marker.set_data([x], [y])
        if self._background is None:
            self.tk.draw_idle()
            return
        self.tk.restore_region(self._background)
        result.axes.draw_artist(result.marker)
        self.tk.blit(result.axes.bbox)

    def _on_press(self, event):
        result = self.current
        if result is None or event.inaxes is not result.axes or event.xdata is None:
            return
        sample = None
        if result.codes is not None and len(result.codes):
            pixels = result.axes.transData.transform(result.codes)
            distances = np.hypot(pixels[:, 0] - event.x, pixels[:, 1] - event.y)
            nearest = int(np.argmin(distances))
            if distances[nearest] <= PICK_PIXELS:
                sample = nearest
        self.on_click({"point": (float(event.xdata), float(event.ydata)), "sample": sample})
