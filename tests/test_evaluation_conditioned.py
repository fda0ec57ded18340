"""Evaluating a family-conditioned model beside the others: its union grid, control accuracy
with the confusion table, and the top octave, through a NumPy double of a conditioned model at
44.1 kHz evaluated on 22.05 kHz data (as ddsp_cvae is beside the zoo)."""

import numpy as np
import pytest

import drums
from constants import DRUM_FAMILIES
from evaluation.conditioned import (
    AtRate,
    control_table,
    evaluate_conditioned,
    top_octave_share,
    top_octave_table,
    union_grid,
    union_side,
)
from evaluation.reference import EvaluationOptions, Reference
from evaluation.report_families import conditioned_lines

SR, LENGTH = 22050, 4096
NATIVE_SR, NATIVE_LENGTH = 44100, 8192
OPTIONS = EvaluationOptions(grid=6, realism_grid=6, max_reference=60, ndb_bins=4, speed_repeats=3)
MAKERS = {"snare": drums.snare, "kick": drums.kick, "hat": drums.hat}


class FamilyDrums:
    """A conditioned model that plays the family it is asked for (snare, kick or hat; any
    other family plays a snare), varied by the point."""

    name = "family_drums"
    conditioned = True
    has_encoder = True
    family_pads = None  # its point and family are its decoder's input (no wide code)
    sample_rate, sample_length = NATIVE_SR, NATIVE_LENGTH
    card = {"data": None}

    def latent_range(self):
        return (-1.0, 1.0, -1.0, 1.0)

    def decode(self, points, variation=None, family=None):
        from models.families import family_rows

        points = np.asarray(points, np.float32)
        rows = family_rows(family, len(points))
        out = np.zeros((len(points), NATIVE_LENGTH), np.float32)
        for i, (point, row) in enumerate(zip(points, rows)):
            name = DRUM_FAMILIES[int(np.argmax(row))]
            seed = int(abs(point[0] * 1000 + point[1] * 37))
            sound = MAKERS.get(name, drums.snare)(seed=seed, sr=NATIVE_SR, seconds=NATIVE_LENGTH / NATIVE_SR, onset=0.005)
            out[i, : len(sound)] = sound[:NATIVE_LENGTH]
        return out

    def encode(self, audio, family=None):
        assert np.asarray(audio).shape[1] == NATIVE_LENGTH  # resampled to the model's rate first
        return np.zeros((len(audio), 2), np.float32)


@pytest.fixture(scope="module")
def reference():
    train, train_families = drums.drum_batch(60, LENGTH, seed=21)
    validation, validation_families = drums.drum_batch(18, LENGTH, seed=22)
    return Reference(train, validation, SR, OPTIONS, train_families, validation_families)


def test_the_union_grid_gives_each_family_an_equal_square():
    assert union_side(16) == 6 and 7 * union_side(16) ** 2 == 252
    points, labels = union_grid((-1, 1, -1, 1), 3)
    assert points.shape == (63, 2) and labels == [f for f in DRUM_FAMILIES for _ in range(9)]


def test_the_top_octave_share_is_what_lies_above_11025_hz():
    t = np.arange(44100) / 44100
    low, high = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 15000 * t)
    share = top_octave_share(np.stack([low, high, 0.5 * low + 0.5 * high, 0 * t]), 44100)
    assert share == pytest.approx([0.0, 1.0, 0.5, 0.0], abs=1e-3)
    # a 22.05 kHz sound has no top octave at all
    assert top_octave_share(np.sin(2 * np.pi * 10000 * np.arange(22050) / 22050)[None], 22050)[0] == 0.0
    table = top_octave_table(np.stack([low, high, high]), ["hat", "hat", "kick"], 44100)
    assert table["hat"]["median"] == pytest.approx(0.5, abs=1e-3) and table["kick"]["sounds"] == 1


def test_the_control_table_is_each_asked_familys_share_of_readings():
    confusion, accuracy = control_table(["kick", "kick", "tom", "snare"], ["kick", "kick", "kick", "snare"])
    assert confusion["kick"]["kick"] == pytest.approx(2 / 3) and confusion["kick"]["tom"] == pytest.approx(1 / 3)
    assert accuracy == {"kick": pytest.approx(2 / 3), "snare": 1.0}


def test_at_rate_brings_sounds_to_the_references_rate_and_length():
    view = AtRate(FamilyDrums(), SR, LENGTH)
    audio = view.decode(np.zeros((2, 2), np.float32), ["kick", "hat"])
    assert audio.shape == (2, LENGTH)
    assert view.decode_native(np.zeros((1, 2), np.float32), ["hat"]).shape == (1, NATIVE_LENGTH)


def test_a_conditioned_model_is_evaluated_on_its_union_with_control_and_top_octave(reference):
    model = FamilyDrums()
    real = drums.drum_batch(9, NATIVE_LENGTH, seed=3, sr=NATIVE_SR)
    record = evaluate_conditioned(model, reference, trained_here=True, real_native=real)
    metrics, details = record["metrics"], record["details"]
    assert details["union"]["points_per_family"] == union_side(OPTIONS.realism_grid) ** 2
    # the reference classifier knows snare, kick and hat: the model plays them on demand
    assert details["control"]["kick"]["kick"] == 1.0 and details["control"]["hat"]["hat"] == 1.0
    assert metrics["control_kick"] == 1.0 and metrics["control_hat"] == 1.0
    assert metrics["control_clap"] == 0.0  # asked for a clap, it plays a snare
    assert metrics["recon_stft"] is not None and metrics["coverage"] is not None
    octave = details["top_octave"]
    assert octave["rate"] == NATIVE_SR and octave["model"]["hat"]["median"] > octave["model"]["kick"]["median"]
    assert set(octave["real"]) == {"snare", "kick", "hat"}
    text = "\n".join(conditioned_lines({"family_drums": record}))
    assert "### Control accuracy" in text and "| kick | **1.00** |" in text
    assert "### The top octave" in text and "| hat |" in text


class WideCodeDrums(FamilyDrums):
    """As FamilyDrums, with a whole code behind its pads (as ddsp_cvae has): a sound's code
    is its first 4 samples, and a code plays a 1 kHz tone at that level."""

    family_pads = "pads"  # not None: a wide code

    def encode_code(self, audio):
        assert np.asarray(audio).shape[1] == NATIVE_LENGTH
        return np.asarray(audio, np.float32)[:, :4]

    def decode_code(self, codes):
        t = np.arange(NATIVE_LENGTH) / NATIVE_SR
        return (np.abs(np.asarray(codes)).sum(axis=1, keepdims=True) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)


def test_a_wide_codes_reconstruction_plays_each_sound_from_its_whole_code(reference):
    from evaluation.reference import reconstruction_scores

    model = WideCodeDrums()
    record = evaluate_conditioned(
        model, reference, trained_here=True, real_native=drums.drum_batch(9, NATIVE_LENGTH, seed=3, sr=NATIVE_SR)
    )
    targets, _ = reference.reconstruction_set(True)
    expected = AtRate(model, reference.sample_rate, reference.length).replay(targets)
    assert record["metrics"]["recon_stft"] == pytest.approx(reconstruction_scores(targets, expected)["stft"])
    plain = evaluate_conditioned(FamilyDrums(), reference, trained_here=True, real_native=None)
    assert record["metrics"]["recon_stft"] != pytest.approx(plain["metrics"]["recon_stft"])
