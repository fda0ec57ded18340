"""One "best model" rule (``evaluation.ranking.choose_best``) for the report, the
window and the web page, and importable without TensorFlow."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluation.ranking import cached_metrics, choose_best, rank_models
from models.registry import MODEL_NAMES

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
needs_zoo = pytest.mark.skipif(
    not (ZOO / "ddsp_vae" / "metrics.json").is_file(), reason="the shipped zoo (trained/) is not in this checkout"
)
SHIPPED_REASON = "the best mean rank of 16 evaluated models (2.4 over 7 measures, 1 is best; MR-STFT 1.100, Fréchet 22.8)"


def test_the_reason_names_the_measure_when_one_decides():
    best = choose_best({"gan": {"frechet": 76.0, "recon_stft": None}, "x": {"frechet": 80.0}, "y": None})
    assert best.name == "gan" and best.measures == ("frechet",) and best.evaluated == 2
    assert best.reason == ("the lowest distance to real drums of 2 evaluated models (Fréchet 76.0, lower is better)")
    higher = choose_best({"a": {"recall": 0.2}, "b": {"recall": 0.4}})
    assert higher.reason == "the highest recall of 2 evaluated models (recall 0.400, higher is better)"


def test_a_lone_evaluated_model_is_said_to_be_the_only_one():
    best = choose_best({"vae_a": {"recon_stft": 1.17, "frechet": 70.04}, "gan": None})
    assert best.name == "vae_a" and best.reason == "the only evaluated model (MR-STFT 1.170, Fréchet 70.0)"
    assert choose_best({"a": {"recall": 0.3}}).reason == "the only evaluated model"


def test_values_that_cannot_be_ranked_are_left_out():
    metrics = {
        "nan": {"recon_stft": float("nan")},
        "text": {"recon_stft": "1.0"},
        "flag": {"recon_stft": True},
        "fine": {"recon_stft": 1.5},
    }
    assert choose_best(metrics).name == "fine"
    assert choose_best({"a": {"recon_stft": None}, "b": "not a dict"}) is None


@needs_zoo
def test_the_shipped_zoo_opens_on_ddsp_cvae_with_the_reason_everywhere():
    metrics = cached_metrics(ZOO, MODEL_NAMES)
    best = choose_best(metrics)
    assert best.name == "ddsp_cvae" and best.reason == SHIPPED_REASON
    assert rank_models(metrics)[:2] == ["ddsp_cvae", "ddsp_vae"]  # the report's "Overall" order


@needs_zoo
def test_the_window_chooses_by_the_one_rule_on_the_shipped_zoo():
    from gui.backend import PackageBackend
    from gui.events import ZooListed
    from gui.handlers import on_zoo
    from gui.state import AppState, ModelEntry

    backend = PackageBackend()
    entries = tuple(backend.list_models(str(ZOO)))
    listed = ZooListed(
        entries,
        {
            e.name: backend.cached_metrics(e.name, str(ZOO))["metrics"]
            for e in entries
            if e.trained and backend.cached_metrics(e.name, str(ZOO)) is not None
        },
    )
    state = AppState(models_dir=str(ZOO), favourites_dir="favs", rng=np.random.default_rng(0))
    for name in MODEL_NAMES:
        state.entries[name] = ModelEntry(name, group="g")
    on_zoo(state, listed)
    assert state.wanted == "ddsp_cvae"
    assert state.why_model == f"opened ddsp_cvae: {SHIPPED_REASON}"


@needs_zoo
def test_the_web_catalogue_chooses_by_the_one_rule_on_the_shipped_zoo():
    from tests.web_fakes import FakeCodes, FakeModel
    from web.catalogue import load_catalogue

    def fake_loader(name, folder):  # the choice reads metrics.json only, not the networks
        return FakeModel(name, "vae", codes=FakeCodes())

    catalogue = load_catalogue(ZOO, loader=fake_loader)
    assert catalogue.default == "ddsp_cvae" and catalogue.why_default == SHIPPED_REASON
    assert "Best overall" in catalogue.models["ddsp_cvae"].description
    assert "Ranked 2 of 16" in catalogue.models[rank_models(cached_metrics(ZOO, MODEL_NAMES))[1]].description


def test_the_rule_imports_no_tensorflow_for_the_window_or_the_web():
    script = (
        "import sys\n"
        "import evaluation.ranking, gui.handlers, web.catalogue\n"
        "bad = [m for m in ('tensorflow', 'keras', 'PySimpleGUI') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
