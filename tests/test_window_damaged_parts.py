"""A model whose encoder or codes file is damaged still plays (issue 34, defect 9).

Its decoder is all a sound needs, as the GAN shows with no encoder at all. The window loads
the copy of a shipped model whose ``codes.npz`` or ``encoder.keras`` is cut to a third,
through the real backend (the NumPy runtime), and is driven with real X input: a click on
the pad is heard, and what needs the damaged part (the map's dots, a family pad, Open a
sample…) says why in one line. Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from window_driver import REAL_INPUT_MARKS, click, click_heard, file_dialog_open, open_shipped_window, press, status_line

from gui import keys as k
from gui.layout import MAP_MODE_LABELS

pytestmark = REAL_INPUT_MARKS

SHIPPED = Path(__file__).resolve().parent.parent / "trained"


def damaged_copy(zoo, name, filename):
    """``zoo/name``, a copy of the shipped model with ``filename`` cut to a third."""
    shutil.copytree(SHIPPED / name, zoo / name)
    path = zoo / name / filename
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return path


@pytest.mark.skipif(not (SHIPPED / "ddsp_vae" / "codes.npz").exists(), reason="no shipped ddsp_vae")
def test_ddsp_vae_with_damaged_codes_plays_and_says_why_it_has_no_dots_or_family_pads(tmp_path):
    from models.engine import load_runtime

    zoo = tmp_path / "zoo"
    codes = damaged_copy(zoo, "ddsp_vae", "codes.npz")
    runtime = load_runtime("ddsp_vae", zoo)
    reason = f"ddsp_vae has no training dots, family pads or nearest sounds: {codes.relative_to(zoo)}: damaged"
    app, capture = open_shipped_window(tmp_path / "window", zoo, "ddsp_vae")
    try:
        assert app.run_until(lambda s: reason in status_line(app)), status_line(app)
        assert "unavailable" not in status_line(app)
        assert "\n" not in status_line(app)
        click_heard(app, capture, runtime, 220, 120)
        # the map is a heat-map; asking for the dots says why there are none
        assert app.window[k.MAP_MODE].get() != MAP_MODE_LABELS["codes"]
        press("1")  # the kick pad needs the codes
        assert app.run_until(lambda s: reason in status_line(app)), status_line(app)
        assert app.state.family.text() is None
        button = app.window[k.FAMILY_BUTTONS["kick"]]
        assert str(button.Widget.cget("state")) == "disabled" and reason in button.TooltipObject.text
        # the card says which part is damaged
        assert app.run_until(lambda s: "damaged: ddsp_vae has no training dots" in str(app.window[k.CARD].get()))
    finally:
        app.close()


@pytest.mark.skipif(not (SHIPPED / "ae_small_tanh" / "encoder.keras").exists(), reason="no shipped ae_small_tanh")
def test_an_autoencoder_with_a_damaged_encoder_plays_shows_its_dots_and_open_a_sample_says_why(tmp_path):
    from models.engine import load_runtime

    zoo = tmp_path / "zoo"
    encoder = damaged_copy(zoo, "ae_small_tanh", "encoder.keras")
    runtime = load_runtime("ae_small_tanh", zoo)
    reason = f"ae_small_tanh cannot encode a sound: {encoder.relative_to(zoo)}: damaged"
    app, capture = open_shipped_window(tmp_path / "window", zoo, "ae_small_tanh")
    try:
        assert app.run_until(lambda s: reason in status_line(app)), status_line(app)
        click_heard(app, capture, runtime, 150, 200)
        # its codes are whole: the map shows its training sounds, and a family pad plays
        assert app.window[k.MAP_MODE].get() == MAP_MODE_LABELS["codes"]
        assert app.state.model.codes is not None and len(app.state.model.codes) == len(runtime.codes)
        app.state.message = ""  # so that the line's words are the click's
        open_button = app.window[k.OPEN].Widget
        click(open_button, open_button.winfo_width() // 2, open_button.winfo_height() // 2)
        assert app.run_until(lambda s: s.message.startswith(reason) and reason in status_line(app)), status_line(app)
        assert not file_dialog_open()  # no file is asked for that cannot be encoded
        assert np.isfinite(app.state.sound.audio).all()
    finally:
        app.close()
