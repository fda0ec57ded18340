"""Vary's amount on ddsp_vae, the default model, in the real window (issue 34, defect 10).

The slider is dragged with the real pointer (xdotool) to a small and then a large amount;
each Play (space) is heard through a real player on the ALSA null device, and the heard
variations are measured against the point's plain sound: a larger amount moves further.
The window runs a copy of the shipped ddsp_vae on the real backend (the NumPy runtime).
Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_variation import spectral_distance
from window_driver import (
    REAL_INPUT_MARKS,
    click_heard,
    open_shipped_window,
    press,
    status_line,
    tooltip_text,
    wait_heard,
    xdo,
    xdo_hover,
)

from gui import keys as k
from gui.layout import VARY_TIP

pytestmark = [
    *REAL_INPUT_MARKS,
    pytest.mark.skipif(
        not (Path(__file__).resolve().parent.parent / "trained" / "ddsp_vae" / "card.json").exists(), reason="no shipped ddsp_vae"
    ),
]

SHIPPED = Path(__file__).resolve().parent.parent / "trained"
PLAYS = 4


def drag_slider_to(app, value):
    """Drag the Vary slider's handle with the real pointer to ``value``."""
    slider = app.window[k.VARY].Widget
    start_x, start_y = slider.coords(float(slider.get()))
    end_x, _ = slider.coords(value)
    root_x, root_y = slider.winfo_rootx(), slider.winfo_rooty()
    xdo("mousemove", "--sync", root_x + start_x, root_y + start_y, "mousedown", "1")
    try:
        xdo("mousemove", "--sync", root_x + (start_x + end_x) // 2, root_y + start_y)
        xdo("mousemove", "--sync", root_x + end_x, root_y + start_y)
    finally:
        xdo("mouseup", "1")
    assert app.run_until(lambda s: s.vary.amount == value), app.state.vary.amount


def heard_distances(app, capture, plain):
    """Press space PLAYS times; the heard variations' spectral distances from ``plain``."""
    distances = []
    for _ in range(PLAYS):
        before = len(capture.sounds())
        press("space")
        heard = wait_heard(app, capture, before + 1)[-1]
        core = heard[: plain.size]
        distances.append(spectral_distance(core, plain[: core.size]))
    return distances


def test_dragging_vary_from_half_to_three_moves_each_play_further_from_the_plain_sound(tmp_path):
    from models.engine import load_runtime

    zoo = tmp_path / "zoo"
    shutil.copytree(SHIPPED / "ddsp_vae", zoo / "ddsp_vae")
    runtime = load_runtime("ddsp_vae", zoo)
    app, capture = open_shipped_window(tmp_path / "window", zoo, "ddsp_vae")
    try:
        point = click_heard(app, capture, runtime, 200, 140)
        plain = runtime.decode([point])[0]
        xdo_hover(app.window[k.VARY].Widget)  # its tooltip says the unit and what it does
        assert app.run_until(lambda s: tooltip_text(app.window[k.VARY]) == VARY_TIP, timeout=10)
        drag_slider_to(app, 0.5)
        assert app.run_until(lambda s: "vary 0.5: each hit moves about 1.5% of the range" in status_line(app))
        small = heard_distances(app, capture, plain)
        drag_slider_to(app, 3.0)
        assert app.run_until(
            lambda s: "vary 3: each hit moves about 9.0% of the range from the point, with new noise" in status_line(app)
        ), status_line(app)
        large = heard_distances(app, capture, plain)
        assert min(small) > 0.01  # amount 0.5 is heard as a change, a small one
        assert np.mean(large) > 2 * np.mean(small), (small, large)
    finally:
        app.close()
