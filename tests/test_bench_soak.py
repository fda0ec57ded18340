"""bench/soak.py: the window's memory over scripted random use.

The soak function drives a real window (on the test models of gui_fakes) for a few
seconds; the command is run as the user runs it, on a copy of one shipped model whose
card names a dataset folder that is not there (tests never read /work/data).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gui_fakes import FakeBackend

ROOT = Path(__file__).resolve().parents[1]
needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run")


@pytest.mark.gui
@needs_display
def test_the_soak_drives_the_window_and_reads_its_memory_at_rest(tmp_path):
    from bench.soak import soak
    from gui.window import GuiApp, GuiOptions

    app = GuiApp(
        GuiOptions(
            models_dir=str(tmp_path / "zoo"),
            favourites_dir=str(tmp_path / "favs"),
            settings_path=str(tmp_path / "settings.json"),
            seed=0,
        ),
        backend=FakeBackend(),
    ).open()
    lines = []
    try:
        readings = soak(app, minutes=0.03, warmup=0.5, every=0.9, settle=10, seed=3, load_timeout=30, out=lines.append)
        models = [app.workers.cache.peek(name) for name in FakeBackend.KINDS]
        decodes = sum(model.decode_calls for model in models if model is not None)
    finally:
        app.close()
    assert len(readings) == 3 and readings[0][0] == 0.0 and readings[-1][0] == pytest.approx(1.8)
    assert all(resident > 0 and highest >= resident for _, resident, highest in readings)
    assert lines[0].startswith("every model loaded after ")
    assert lines[1].startswith("after warm-up: ") and "MB resident at rest" in lines[1]
    assert lines[-1].startswith("gestures: ") and "click " in lines[-1]
    assert decodes > 3  # the gestures reached the models


def test_a_soak_of_no_minutes_is_refused_in_one_line():
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "bench", "soak", "--minutes", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(ROOT),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["app.py bench soak: --minutes and --every must be above 0, --warmup at least 0"]


@pytest.mark.gui
@needs_display
def test_bench_soak_runs_on_a_shipped_model_and_prints_the_growth(tmp_path):
    zoo = tmp_path / "zoo"
    shutil.copytree(ROOT / "trained" / "ae_small_relu", zoo / "ae_small_relu")
    card_path = zoo / "ae_small_relu" / "card.json"
    card = json.loads(card_path.read_text())
    card["data"]["folder"] = str(tmp_path / "no-data-here")
    card_path.write_text(json.dumps(card))
    before = {p: p.read_bytes() for p in zoo.rglob("*") if p.is_file()}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "app.py"),
            "bench",
            "soak",
            "--models",
            str(zoo),
            "--minutes",
            "0.02",
            "--warmup",
            "0.5",
            "--every",
            "0.6",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=str(ROOT),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("after warm-up: ") for line in lines)
    assert lines[-2].startswith("window memory at rest: ")
    assert lines[-1].startswith("target: growth <= 50 MB over the soak: ")
    assert {p: p.read_bytes() for p in zoo.rglob("*") if p.is_file()} == before
