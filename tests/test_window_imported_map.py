"""The map of an imported model with an 8-D latent, imported with an encoder and a dataset
(``import-model --encoder FILE --data DIR``), in the real window with real X input (issue
35): a tiny Keras 3 decoder and encoder are built here and a tiny dataset preprocessed here.
The map's dots are the training sounds' codes on the pad's two axes (their whole 8-D codes,
projected), and when the "which axes" combos put other axes on the pad, the dots follow; a
click on a dot goes to that sound's whole code.
Run under ``xvfb-run -a -s "-screen 0 1280x1024x24"``.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from import_fixtures import keras_decoder, keras_encoder, run_app, spread_matrix, tiny_dataset
from window_driver import REAL_INPUT_MARKS, choose_model, click, open_shipped_window, pick_in_combo

from gui import keys as k

pytestmark = REAL_INPUT_MARKS

SHIPPED = Path(__file__).resolve().parents[1] / "trained"
NAME = "coded8"


@pytest.fixture
def coded(tmp_path, monkeypatch):
    """``coded8`` (a Keras decoder and encoder, with the codes of a tiny dataset) imported into
    the test's user zoo, and the window over a zoo holding ae_small_tanh: (app, the codes (N, 8))."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tiny_dataset(tmp_path / "made", home)
    keras_decoder(tmp_path / "decoder.keras")
    keras_encoder(tmp_path / "encoder.keras", spread_matrix())
    status, out, err = run_app(
        "import-model", NAME, "--decoder", tmp_path / "decoder.keras", "--encoder", tmp_path / "encoder.keras",
        "--data", data, home=home,
    )  # fmt: skip
    assert status == 0, err
    assert "pad axes 5,2" in out
    from models.imported import user_models_folder

    with np.load(user_models_folder() / NAME / "codes.npz") as archive:
        full = np.asarray(archive["full"], np.float32)
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    shutil.copytree(SHIPPED / "ae_small_tanh", zoo / "ae_small_tanh")
    app, _ = open_shipped_window(tmp_path / "window", zoo, "ae_small_tanh")
    yield app, full
    app.close()


def drawn_dots(app):
    """The dots the map draws (every scatter of its axes), sorted, once it shows ``NAME``'s codes."""
    panel = app.panels["map"]
    collections = panel.current.axes.collections
    dots = np.concatenate([np.asarray(c.get_offsets(), np.float32) for c in collections if len(c.get_offsets())])
    return dots[np.lexsort(dots.T[::-1])]


def sorted_rows(points):
    points = np.asarray(points, np.float32)
    return points[np.lexsort(points.T[::-1])]


def map_shows(app, full, axes):
    """Whether the map now draws the codes on ``axes`` (and only them)."""
    panel = app.panels["map"]
    current = panel.current
    if current is None or current.codes is None or app.state.model.pad_axes != axes:
        return False
    expected = full[:, list(axes)]
    return (
        np.asarray(current.codes).shape == expected.shape
        and np.allclose(current.codes, expected, atol=1e-5)
        and np.allclose(drawn_dots(app), sorted_rows(expected), atol=1e-5)
    )


def test_the_maps_dots_are_the_codes_on_the_pad_axes_and_follow_the_which_axes_choice(coded):
    app, full = coded
    assert full.shape == (6, 8)
    choose_model(app, NAME)
    assert app.state.map.mode == "codes"
    assert app.run_until(lambda s: map_shows(app, full, (5, 2)), timeout=30), app.panels["map"].current
    xmin, xmax, ymin, ymax = app.panels["map"].current.axes.get_xlim() + app.panels["map"].current.axes.get_ylim()
    assert (xmin <= full[:, 5].min() and full[:, 5].max() <= xmax) and (ymin <= full[:, 2].min() and full[:, 2].max() <= ymax)

    combo = app.window[k.PAD_X_AXIS].Widget
    assert app.run_until(lambda s: bool(combo.winfo_viewable()) and combo.winfo_width() > 1, timeout=10)
    pick_in_combo(app, combo, 0)
    assert app.run_until(lambda s: map_shows(app, full, (0, 2)), timeout=30), app.state.model.pad_axes
    pick_in_combo(app, app.window[k.PAD_Y_AXIS].Widget, 7)
    assert app.run_until(lambda s: map_shows(app, full, (0, 7)), timeout=30), app.state.model.pad_axes
    # the pad's dots are the same projection
    assert np.allclose(app.state.model.codes.points, full[:, [0, 7]], atol=1e-5)

    # a click on a dot: the point goes to that training sound's whole code
    panel = app.panels["map"]
    axes, widget = panel.current.axes, panel.tk.get_tk_widget()
    app.window.TKroot.update()
    pixels = axes.transData.transform(full[:, [0, 7]])
    gaps = [np.delete(np.hypot(*(pixels - pixel).T), i).min() for i, pixel in enumerate(pixels)]
    index = int(np.argmax(gaps))  # the dot farthest from the others
    click(widget, round(pixels[index][0]), round(widget.winfo_height() - pixels[index][1]))
    assert app.run_until(lambda s: np.allclose(s.vector, full[index], atol=1e-5), timeout=20), (app.state.vector, full[index])
