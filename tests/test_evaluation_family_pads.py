"""The evaluation's family pads (evaluation.family_pads): each encoder model's pads measured
as a conditioned model's union grid is, and the report's table across models.

The double below plays a kick left of x = -1, a hat right of x = 1 and a snare between, and
its training codes put its kicks at x = -2, its hats at x = 2 and its snares at 0: its pads
obey, so its control is high; a double whose codes put every family in one cloud is told
apart by a low control."""

import numpy as np
import pytest

import drums
from constants import DRUM_FAMILIES
from evaluation.conditioned import union_side
from evaluation.family_pads import family_pad_scores
from evaluation.reference import EvaluationOptions, Reference
from evaluation.report_families import family_pad_lines
from models.trained_folder import LatentCodes

SR, LENGTH = 22050, 4096
OPTIONS = EvaluationOptions(grid=6, realism_grid=12, max_reference=60, ndb_bins=4, speed_repeats=3)
MAKERS = {"kick": drums.kick, "snare": drums.snare, "hat": drums.hat}
CENTRES = {"kick": -2.0, "snare": 0.0, "hat": 2.0}


def _codes(spread_families):
    rng = np.random.default_rng(3)
    families = [family for family in CENTRES for _ in range(20)]
    x = [CENTRES[f] if spread_families else 0.0 for f in families] + rng.normal(0, 0.3, len(families))
    points = np.stack([x, rng.normal(0, 0.3, len(families))], axis=1).astype(np.float32)
    names = np.array([f"s{i}" for i in range(len(families))])
    return LatentCodes(
        points=points, families=np.array(families), names=names, files=names, is_validation=np.zeros(len(families), bool)
    )


class PlacedDrums:
    """An encoder model double: a kick, snare or hat by where the point lies along x."""

    has_encoder = True

    def __init__(self, codes):
        self.codes = codes

    def latent_range(self):
        return (-3.0, 3.0, -3.0, 3.0)

    def decode(self, points):
        out = np.zeros((len(points), LENGTH), np.float32)
        for i, (x, y) in enumerate(np.asarray(points, np.float64)):
            family = "kick" if x < -1 else "hat" if x > 1 else "snare"
            sound = MAKERS[family](seed=int(abs(x * 1000 + y * 37)), sr=SR, seconds=LENGTH / SR, onset=0.005)
            out[i, : len(sound)] = sound[:LENGTH]
        return out


@pytest.fixture(scope="module")
def reference():
    train, train_families = drums.drum_batch(60, LENGTH, seed=21)
    validation, validation_families = drums.drum_batch(18, LENGTH, seed=22)
    return Reference(train, validation, SR, OPTIONS, train_families, validation_families)


def test_pads_over_separated_codes_are_obeyed_and_a_family_without_codes_has_no_row(reference):
    scores = family_pad_scores("placed", PlacedDrums(_codes(spread_families=True)), reference)
    assert scores["families"] == ["kick", "snare", "hat"]
    assert set(scores["missing"]) == set(DRUM_FAMILIES) - {"kick", "snare", "hat"}
    assert scores["points_per_family"] == union_side(12) ** 2 == 16  # a square per family
    assert set(scores["control"]) == {"kick", "snare", "hat"}  # a row per pad, every family a column
    assert all(set(row) == set(DRUM_FAMILIES) for row in scores["control"].values())
    assert scores["accuracy"]["kick"] >= 0.75 and scores["accuracy"]["hat"] >= 0.75
    assert 0.0 <= scores["precision"] <= 1.0 and 0.0 <= scores["coverage"] <= 1.0


def test_pads_over_one_cloud_play_one_family_and_the_control_says_so(reference):
    scores = family_pad_scores("cloud", PlacedDrums(_codes(spread_families=False)), reference)
    # every pad sits in |x| < 1: all snares, whatever was asked
    assert scores["accuracy"]["kick"] == 0.0 and scores["accuracy"]["hat"] == 0.0
    assert scores["control"]["kick"]["snare"] == 1.0


def test_a_model_without_an_encoder_or_without_a_classifier_gets_its_reason_or_nothing(reference):
    no_encoder = PlacedDrums(None)
    no_encoder.has_encoder = False
    assert "no encoder" in family_pad_scores("gan", no_encoder, reference)["reason"]
    one_family = Reference(
        *drums.drum_batch(30, LENGTH, seed=5)[:1], drums.drum_batch(9, LENGTH, seed=6)[0], SR, OPTIONS, ["kick"] * 30, ["kick"] * 9
    )
    assert family_pad_scores("placed", PlacedDrums(_codes(True)), one_family) is None


def test_the_report_compares_the_models_pads_and_names_those_without(reference):
    records = {
        "placed": {"details": {"family_pads": family_pad_scores("placed", PlacedDrums(_codes(True)), reference)}},
        "cloud": {"details": {"family_pads": family_pad_scores("cloud", PlacedDrums(_codes(False)), reference)}},
        "gan": {"details": {"family_pads": {"reason": "gan takes no family: it has no encoder"}}},
        "old": {"details": {}},
    }
    text = "\n".join(family_pad_lines(records, {"real training sounds": {"metrics": {"precision": 0.9, "coverage": 0.8}}}))
    assert "## Family pads: which model separates the families" in text
    assert "precision 0.90, coverage 0.80" in text
    placed = next(line for line in text.splitlines() if line.startswith("| placed |"))
    cells = [cell.strip() for cell in placed.strip("|").split("|")]
    assert cells[3 + DRUM_FAMILIES.index("clap")] == "–"  # no clap pad
    assert float(cells[3 + DRUM_FAMILIES.index("kick")]) >= 0.75
    assert "- gan takes no family: it has no encoder" in text
    assert "### cloud: family pads, asked and read" in text and "| old |" not in text
    assert family_pad_lines({"old": {"details": {}}}) == []
