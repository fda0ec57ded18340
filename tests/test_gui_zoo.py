"""The real window on real (tiny) trained models, driven through its events.

A session fixture trains a tiny zoo with the models package's own training API: a dense AE,
a VAE and the GAN at length 1024 (width 2, one epoch on tests/drums.py data), plus two
damaged models: one whose decoder is not a zip file (the zoo listing catches it) and one
whose decoder is a zip but not a Keras model (only loading catches it). Sound goes to the
ALSA null device of conftest.py. Needs a display: the suite runs under ``xvfb-run``.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drums import drum_batch, snare
from gui import keys as k
from gui.backend import PackageBackend
from gui.state import UNAVAILABLE

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run"),
]

ROOT = Path(__file__).resolve().parents[1]
RATE, LENGTH = 22050, 1024
TRAINED = ("ae_small_relu", "vae_a", "gan")
NOT_A_ZIP, NOT_KERAS = "ae_small_tanh", "ae_small_sigmoid"


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory):
    """A zoo folder with three trained tiny models and two damaged ones."""
    from models.training import TrainingData, TrainOptions, train_model

    root = tmp_path_factory.mktemp("gui-zoo")
    data_dir = root / "data"
    data_dir.mkdir()
    audio, labels = drum_batch(18, LENGTH, seed=11, sr=RATE)
    files = [f"{i:03d}_{label}.wav" for i, label in enumerate(labels)]
    for clip, name in zip(audio, files):  # the originals, so the map can play them
        soundfile.write(data_dir / name, clip, RATE, subtype="FLOAT")
    data = TrainingData.from_arrays(
        audio,
        RATE,
        is_validation=np.arange(18) % 6 == 0,
        families=labels,
        names=[f"{label} {i}" for i, label in enumerate(labels)],
        files=files,
        folder=str(data_dir),
        preprocessing={"sample_rate": RATE, "length": LENGTH, "attack_seconds": 0.01},
    )
    zoo = root / "zoo"
    options = TrainOptions(epochs=1, batch_size=8, verbose=0)
    train_model("ae_small_relu", data, zoo, options)
    train_model("vae_a", data, zoo, options, width=2, kl_ramp=8)
    train_model("gan", data, zoo, options, width=2, n_critic=1)
    for name in (NOT_A_ZIP, NOT_KERAS):
        shutil.copytree(zoo / "ae_small_relu", zoo / name)
        card = json.loads((zoo / name / "card.json").read_text())
        card["name"] = name
        (zoo / name / "card.json").write_text(json.dumps(card))
    (zoo / NOT_A_ZIP / "decoder.keras").write_bytes(b"this is not a zip archive")
    from evaluation.cache import save_metrics

    grid = np.linspace(-3, 3, 6)
    save_metrics(
        zoo / "vae_a",
        {"metrics": {"mr_stft_db": 12.5}, "continuity": {"grid_x": grid, "grid_y": grid, "values": np.arange(36.0).reshape(6, 6)}},
        key={},
    )
    with zipfile.ZipFile(zoo / NOT_KERAS / "decoder.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip, but no Keras model inside")
    return zoo


class SharedLoadsBackend(PackageBackend):
    """The real backend; loaded models are kept across the tests' windows (time budget)."""

    loaded = {}

    def load(self, name, folder):
        key = (name, str(folder))
        if key not in self.loaded:
            self.loaded[key] = super().load(name, folder)
        return self.loaded[key]


@pytest.fixture
def app(tiny_zoo, tmp_path):
    from gui.window import GuiApp, GuiOptions

    app = GuiApp(
        GuiOptions(
            models_dir=str(tiny_zoo), favourites_dir=str(tmp_path / "favs"), settings_path=str(tmp_path / "settings.json"), seed=0
        ),
        backend=SharedLoadsBackend(),
    ).open()
    assert app.run_until(
        lambda s: s.model is not None and s.sound.audio is not None and s.player.ready and s.redraw_ms is not None, timeout=60
    )
    yield app
    app.close()


def tree_label(app, name):
    tree = app.window[k.MODELS]
    return tree.Widget.item(tree.KeyToID[name])["values"][0]


def choose(app, name, timeout=30):
    app.post(k.MODELS, [name])
    return app.run_until(lambda s: s.model.name == name and s.sound.audio is not None and s.sound.point == s.point, timeout=timeout)


def test_each_model_of_the_zoo_can_be_chosen_and_heard(app):
    assert app.state.model.name == "ae_small_relu"
    for name in ("vae_a", "gan", "ae_small_relu"):
        assert choose(app, name), name
        info = app.state.model
        assert app.state.point == pytest.approx(info.center)
        assert app.state.sound.audio.shape == (LENGTH,)
        assert tree_label(app, name) == "ready"
        assert app.run_until(lambda s: app.panels["output"].current is not None)
        status = app.window[k.STATUS].get()
        assert "sound: " in status and " ms" in status
    assert app.window[k.CARD].get().startswith("ae_small_relu  (dense_ae)")
    assert "\n  parameters " in app.window[k.CARD].get()
    # the evaluation's cached metrics and discontinuity map come with the model
    assert choose(app, "vae_a")
    assert "12.5 dB" in app.window[k.CARD].get()  # mr_stft_db, with its unit
    assert app.state.map.heatmaps[("vae_a", "discontinuity")].shape == (6, 6)


def test_damaged_models_are_unavailable_with_their_reasons(app):
    assert app.state.entries[NOT_A_ZIP].state == UNAVAILABLE
    assert tree_label(app, NOT_A_ZIP).startswith(f"unavailable: {NOT_A_ZIP}/decoder.keras: damaged (")
    app.post(k.MODELS, [NOT_KERAS])
    assert app.run_until(lambda s: f"{NOT_KERAS} is unavailable" in s.message, timeout=30)
    assert app.state.entries[NOT_KERAS].state == UNAVAILABLE
    assert "decoder.keras" in app.state.entries[NOT_KERAS].reason
    assert f"{NOT_KERAS} is unavailable" in app.window[k.STATUS].get()
    assert app.state.model.name == "ae_small_relu"
    assert tree_label(app, "conv_ae") == "not trained"


def test_move_loop_save_open_and_compare(app, tmp_path):
    player = app.workers.player
    assert player.available
    # move the point: a drag, then arrow keys
    for x in np.linspace(0.0, 1.0, 10):
        app.post(k.PAD, (float(x), 0.0))
    app.post(k.PAD_UP, (1.0, 0.0))
    assert app.run_until(lambda s: s.sound.point == s.point and s.decode_ms is not None)
    target = app.state.point
    # loop on, move while looping (the buffer is swapped live), loop off
    app.post((k.KEY, "l"))
    assert app.run_until(lambda s: s.sound.looping and player.is_looping, timeout=5)
    served = player.stats().requested_serial
    app.post((k.KEY, "Left"))
    assert app.run_until(lambda s: s.point != target and s.sound.point == s.point)
    assert app.run_until(lambda s: player.stats().requested_serial > served, timeout=5)
    assert player.is_looping
    app.post((k.KEY, "l"))
    assert app.run_until(lambda s: not s.sound.looping)
    assert app.window[k.LOOP].get_text() == "Loop L: off"
    # save: the WAV and its sidecar, listed in the favourites
    app.post((k.KEY, "s"))
    assert app.run_until(lambda s: len(s.favourites) == 1, timeout=10)
    wav = next((tmp_path / "favs").glob("*.wav"))
    recall = json.loads(wav.with_suffix(".json").read_text())
    assert recall["model"] == "ae_small_relu"
    assert recall["point"] == pytest.approx(list(app.state.point))
    assert soundfile.info(wav).frames > 0
    # open a sample: encoded, the point moves to it, reconstruction and original shown
    sample = tmp_path / "my snare.wav"
    soundfile.write(sample, snare(5, sr=44100, seconds=0.1), 44100)
    app.post((k.FILE, "open-sample"), str(sample))
    assert app.run_until(lambda s: s.sound.original is not None, timeout=20)
    assert app.state.sound.original.shape == (LENGTH,) and "my snare.wav is at" in app.state.message
    # a bad file says why
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    app.post((k.FILE, "open-sample"), str(bad))
    assert app.run_until(lambda s: s.message.startswith("notes.wav"), timeout=10)
    # compare three models at this point
    app.window[k.COMPARE_LIST].set_value(list(TRAINED))
    app.window[k.COMPARE].click()
    assert app.run_until(lambda s: s.compare is not None, timeout=30)
    assert app.state.compare.models == ["ae_small_relu", "gan", "vae_a"]  # the list's order
    assert all(s is not None and s.shape == (LENGTH,) for s in app.state.compare.sounds)
    assert app.run_until(lambda s: app.panels["compare"].current is not None)
    # reopen the favourite after moving away
    app.post(k.RESET)
    app.window[k.FAVOURITES].set_value([wav.name])
    app.window[k.REOPEN].click()
    assert app.run_until(lambda s: s.point == pytest.approx(tuple(recall["point"])))


def test_map_click_on_a_sample_plays_it_and_its_original(app):
    codes = app.state.model.codes
    app.post((k.MAP, "click"), {"point": (0.0, 0.0), "sample": 2})
    assert app.run_until(lambda s: "the decoded point, then the original" in s.message)
    assert app.state.point == pytest.approx(tuple(codes.points[2]))
    served = app.workers.player.stats().requested_serial
    assert app.run_until(lambda s: app.workers.player.stats().requested_serial > served, timeout=10)
    assert "not played" not in app.state.message


def test_heat_maps_and_morph(app):
    app.post(k.MAP_MODE, "decay-time heat-map")
    assert app.run_until(lambda s: ("ae_small_relu", "decay") in s.map.heatmaps, timeout=30)
    assert app.run_until(lambda s: app.panels["map"].current.key == ("ae_small_relu", "decay"))
    assert app.state.map.heatmaps[("ae_small_relu", "decay")].shape == (32, 32)
    app.post(k.SET_A)
    app.post(k.PAD, app.state.model.latent_range[1::2])  # the top right corner
    app.post(k.SET_B)
    app.post(k.MORPH, None)
    assert app.run_until(lambda s: s.morph.sequence is not None, timeout=20)
    assert len(app.state.morph.sequence.sounds) == app.state.morph.steps == 8
    app.post(k.MORPH_SAVE)
    assert app.run_until(lambda s: len(s.favourites) == 8, timeout=20)


def test_the_window_makes_sound_without_ever_importing_tensorflow(tiny_zoo, tmp_path):
    """In a fresh process: the window decodes on the NumPy engine; nothing imports TensorFlow."""
    script = f"""
import sys, threading
sys.path.insert(0, {str(ROOT)!r})
importer = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" and not importer:
            importer.append(threading.current_thread().name)
        return None

sys.meta_path.insert(0, Watch())
from gui.window import GuiApp, GuiOptions
app = GuiApp(GuiOptions(models_dir={str(tiny_zoo)!r}, favourites_dir={str(tmp_path / "f")!r},
                        settings_path={str(tmp_path / "s.json")!r})).open()
print("tensorflow at window:", "tensorflow" in sys.modules)
ok = app.run_until(lambda s: s.model is not None and s.sound.audio is not None, timeout=90)
print("ready:", ok, "imported by:", importer)
app.close()
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=150, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    assert "tensorflow at window: False" in done.stdout, done.stdout + done.stderr
    assert "ready: True imported by: []" in done.stdout, done.stdout + done.stderr
