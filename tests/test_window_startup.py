"""The window's start-up order: the first model's first sound comes before anything else.

Until then, drawing figures (and importing matplotlib for them), heat-maps, the nearest
sounds and loading the other models wait; they all start once the first sound is decoded,
or once it is clear that none will come soon. Needs a display (xvfb-run).
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gui import effects as fx
from gui.state import READY, UNAVAILABLE
from gui_fakes import FakeBackend, FakeModel

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run"),
]

ROOT = Path(__file__).resolve().parents[1]
OTHERS = ("vae_a", "gan")  # FakeBackend's other trained models (ae_big_tanh is damaged)


class GatedModel(FakeModel):
    """A fake model whose decodes wait until the test opens the gate."""

    def __init__(self, name, kind, gate):
        super().__init__(name, kind=kind)
        self.gate = gate

    def decode(self, points):
        self.gate.wait(30)
        return super().decode(points)


class GatedBackend(FakeBackend):
    """The first model (ae_small_relu) decodes only once ``gate`` is set."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gate = threading.Event()

    def load(self, name, folder):
        model = super().load(name, folder)
        return GatedModel(name, model.kind, self.gate) if name == "ae_small_relu" else model


def make_app(tmp_path, backend):
    from gui.window import GuiApp, GuiOptions

    return GuiApp(
        GuiOptions(
            models_dir=str(tmp_path / "zoo"),
            favourites_dir=str(tmp_path / "favs"),
            settings_path=str(tmp_path / "settings.json"),
            seed=0,
        ),
        backend=backend,
    ).open()


def test_only_the_first_sound_is_made_before_the_first_sound(tmp_path):
    backend = GatedBackend()
    app = make_app(tmp_path, backend)
    try:
        assert app.run_until(lambda s: s.model is not None and s.model.name == "ae_small_relu")

        def held():
            return {type(effect) for effect in app.startup.held or ()}

        # the other models' loads and the figures are asked for, and held (the gate is shut)
        assert app.run_until(lambda s: fx.LoadModel in held() and fx.Render in held()), held()
        assert app.state.sound.audio is None
        assert all(app.state.entries[name].state != READY for name in OTHERS)
        assert not any(panel.attached for panel in app.panels.values())
        backend.gate.set()
        assert app.run_until(lambda s: s.sound.audio is not None)
        assert app.run_until(lambda s: all(s.entries[name].state == READY for name in OTHERS))
        assert app.run_until(lambda s: app.panels["output"].current is not None and app.panels["map"].current is not None)
        assert app.startup.held is None
    finally:
        backend.gate.set()
        app.close()


def test_the_other_models_load_when_the_first_one_fails(tmp_path):
    app = make_app(tmp_path, FakeBackend(damaged=("ae_small_relu", "ae_big_tanh")))
    try:
        assert app.run_until(lambda s: s.entries["ae_small_relu"].state == UNAVAILABLE)
        assert app.run_until(lambda s: all(s.entries[name].state == READY for name in OTHERS))
    finally:
        app.close()


def test_the_held_work_starts_anyway_when_the_first_sound_is_late(tmp_path, monkeypatch):
    import gui.window

    monkeypatch.setattr(gui.window, "STARTUP_HOLD_MS", 300)
    backend = GatedBackend()  # the gate stays shut: no sound
    app = make_app(tmp_path, backend)
    try:
        assert app.run_until(lambda s: all(s.entries[name].state == READY for name in OTHERS))
        assert app.state.sound.audio is None and app.startup.held is None
    finally:
        backend.gate.set()
        app.close()


def test_matplotlib_is_imported_by_the_render_thread_after_the_first_sound(tmp_path):
    script = f"""
import sys, threading
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
imports = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib":
            app = globals().get("app")
            imports.append((threading.current_thread().name,
                            app is not None and app.state.sound.audio is not None))
        return None
sys.meta_path.insert(0, Spy())
from gui_fakes import FakeBackend
from gui.window import GuiApp, GuiOptions
app = GuiApp(GuiOptions(models_dir="zoo", favourites_dir={str(tmp_path / "favs")!r},
                        settings_path={str(tmp_path / "settings.json")!r}, seed=0),
             backend=FakeBackend())
app.open()
assert app.run_until(lambda s: app.panels["output"].current is not None), "no picture"
app.close()
print(imports)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('gui-render', True)]"
