"""Early stopping ships its best epoch's weights, and the card and the printed line say which.

Driven through the real CLI: ``train --patience 1 --min-delta 1000`` counts no epoch after the
first as better, so it stops after epoch 2 and puts epoch 1's weights back. Those must be the
weights that ``train --epochs 1`` ships (training is seeded and deterministic): ``generate``
plays the same samples from both.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drums import kick_and_snare_files

ROOT = Path(__file__).resolve().parents[1]
LENGTH = 1024

pytestmark = pytest.mark.slow


def run_app(*args):
    command = [sys.executable, str(ROOT / "app.py"), *map(str, args)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("best")
    sources = kick_and_snare_files(root / "sources")
    result = run_app("preprocess", sources, "-o", root / "dataset", "--length", LENGTH, "--jobs", 1)
    assert result.returncode == 0, result.stderr
    return root / "dataset"


def train(dataset, out, *extra):
    result = run_app("train", "ae_small_tanh", "--data", dataset, "--batch-size", 4, "--out", out, "--verbose", 0, *extra)
    assert result.returncode == 0, result.stderr
    return result


def played(zoo, out):
    result = run_app("generate", "ae_small_tanh", "--models", zoo, "--at", "0.3,-0.2", "-o", out)
    assert result.returncode == 0, result.stderr
    return sf.read(out, dtype="float32")[0]


def history_rows(folder):
    import csv

    with (folder / "history.csv").open(newline="") as handle:
        return [{key: float(value) for key, value in row.items() if value != "NA"} for row in csv.DictReader(handle)]


def test_early_stopping_ships_the_best_epochs_weights_and_says_so(dataset, tmp_path):
    stopped = train(dataset, tmp_path / "stopped", "--epochs", 4, "--patience", 1, "--min-delta", 1000)
    train(dataset, tmp_path / "one", "--epochs", 1)
    line = stopped.stdout.strip().splitlines()[-1]
    assert "ae_small_tanh: 2 epochs" in line and "early stopping after epoch 2" in line and "the weights are epoch 1's" in line, line

    folder = tmp_path / "stopped" / "ae_small_tanh"
    card = json.loads((folder / "card.json").read_text())
    assert card["epochs"] == 2 and card["training"]["kept_epoch"] == 1
    first = history_rows(folder)[0]
    assert first["epoch"] == 0 and card["losses"]["loss"] == pytest.approx(first["loss"])  # epoch 1's, not the last's
    assert card["losses"]["loss"] != pytest.approx(history_rows(folder)[-1]["loss"])

    best, one = played(tmp_path / "stopped", tmp_path / "best.wav"), played(tmp_path / "one", tmp_path / "one.wav")
    assert np.array_equal(best, one) and np.abs(best).max() > 0


def test_without_patience_the_last_epoch_is_shipped_and_the_card_says_nothing_more(dataset, tmp_path):
    train(dataset, tmp_path / "zoo", "--epochs", 2)
    folder = tmp_path / "zoo" / "ae_small_tanh"
    card = json.loads((folder / "card.json").read_text())
    assert "kept_epoch" not in card["training"] and card["training"]["stopped"] == "completed"
    assert card["losses"]["loss"] == pytest.approx(history_rows(folder)[-1]["loss"])
