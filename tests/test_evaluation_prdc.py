"""Metrics that tell a drum from noise: PRDC, reference rows, foreign data, ranking, pictures."""

import numpy as np
import pytest

from drums import drum_batch
from evaluation.distribution import precision_recall_density_coverage
from evaluation.reference import REFERENCE_ROWS, EvaluationOptions, Reference, noise_bursts, reference_rows
from evaluation.runner import evaluate_generator, trained_on

SR = 22050
LENGTH = 4096
OPTIONS = EvaluationOptions(grid=6, realism_grid=6, max_reference=40, ndb_bins=4, speed_repeats=2)


def test_identical_sets_score_one_everywhere():
    points = np.random.default_rng(0).normal(size=(200, 8))
    result = precision_recall_density_coverage(points, points.copy(), k=5)
    assert result.precision == 1.0 and result.recall == 1.0 and result.coverage == 1.0
    assert result.density == pytest.approx(1.0, abs=0.25) and result.k == 5


def test_disjoint_sets_score_zero_everywhere():
    rng = np.random.default_rng(1)
    real, generated = rng.normal(size=(100, 8)), rng.normal(size=(100, 8)) + 100.0
    result = precision_recall_density_coverage(real, generated)
    assert (result.precision, result.recall, result.density, result.coverage) == (0, 0, 0, 0)


def test_generator_filling_half_the_data_has_full_precision_and_half_the_coverage():
    rng = np.random.default_rng(2)
    real = rng.uniform(0, 1, (2000, 2))
    generated = rng.uniform(0, 1, (1000, 2)) * [0.5, 1.0]  # the left half of the square
    result = precision_recall_density_coverage(real, generated)
    assert result.precision > 0.95
    assert result.coverage == pytest.approx(0.5, abs=0.05)
    assert result.recall == pytest.approx(0.5, abs=0.05)


def test_generator_returning_one_sound_has_no_recall():
    real = np.random.default_rng(3).normal(size=(100, 4))
    generated = np.repeat(real[:1], 50, axis=0)  # a copy of one real sound, 50 times
    result = precision_recall_density_coverage(real, generated)
    assert result.precision == 1.0 and result.recall == 0.0
    assert 0 < result.coverage <= 0.1  # only the balls around that one sound


def test_sets_no_larger_than_k_are_refused():
    with pytest.raises(ValueError, match="k=5 need more than 5 sounds per set, got 5 real"):
        precision_recall_density_coverage(np.zeros((5, 2)), np.zeros((10, 2)))


def test_noise_bursts_start_at_the_attack_and_stay_below_full_scale():
    length = 16384  # 0.74 s: long enough for the slowest decay to show
    audio = noise_bursts(12, length, SR, seed=4)
    attack = round(0.01 * SR)
    assert audio.shape == (12, length) and audio.dtype == np.float32
    assert np.all(audio[:, :attack] == 0.0) and np.all(np.abs(audio[:, attack]) > 0)
    peaks = np.abs(audio).max(axis=1)
    assert np.all((peaks >= 0.3 - 1e-6) & (peaks <= 0.9 + 1e-6))
    # decaying: the last quarter is much quieter than the first
    quarter = length // 4

    def rms(part):
        return np.sqrt(np.mean(part**2, axis=1))

    assert np.all(rms(audio[:, -quarter:]) < 0.5 * rms(audio[:, attack : attack + quarter]))


@pytest.fixture(scope="module")
def sounds():
    train, train_families = drum_batch(90, LENGTH, seed=51)
    validation, validation_families = drum_batch(24, LENGTH, seed=52)
    return train, validation, train_families, validation_families


@pytest.fixture(scope="module")
def reference(sounds):
    train, validation, train_families, validation_families = sounds
    return Reference(train, validation, SR, OPTIONS, train_families, validation_families)


def test_real_drums_beat_noise_bursts_on_recall_coverage_and_family_spread(reference):
    rows = reference_rows(reference)
    assert list(rows) == list(REFERENCE_ROWS)
    ceiling, noise = rows["real training sounds"]["metrics"], rows["noise bursts"]["metrics"]
    assert ceiling["recall"] > noise["recall"] and ceiling["coverage"] > noise["coverage"]
    assert ceiling["precision"] > noise["precision"] and ceiling["frechet"] < noise["frechet"]
    families = rows["real training sounds"]["details"]["families"]
    assert sum(families.values()) == pytest.approx(1.0)
    assert sum(share > 0.1 for share in families.values()) == 3  # kick, snare and hat
    assert 0 < ceiling["recognisable"] <= 1


def test_ceiling_row_offers_training_sounds_outside_the_reference(reference, sounds):
    train = sounds[0]
    assert len(reference.ceiling_audio) == min(OPTIONS.realism_grid**2, 90 - 40)
    in_train = [np.any(np.all(train == sound, axis=1)) for sound in reference.ceiling_audio]
    in_reference = [np.any(np.all(reference.real_audio == sound, axis=1)) for sound in reference.ceiling_audio]
    assert all(in_train) and not any(in_reference)


def test_reference_reports_the_classifiers_held_out_accuracy(reference):
    facts = reference.describe()
    assert facts["prdc_k"] == 5
    assert 0.0 <= facts["family_classifier_held_out_accuracy"] <= 1.0


def test_without_labels_the_family_columns_stay_empty(sounds):
    train, validation, _, _ = sounds
    bare = Reference(train, validation, SR, OPTIONS)
    scores, details = bare.realism_scores(train[:36])
    assert scores["recognisable"] is None and "families" not in details
    assert scores["recall"] is not None
    assert bare.describe()["family_classifier_held_out_accuracy"] is None


class LookupAutoencoder:
    """Codes are (index in a bank, 0): a perfect autoencoder for the bank's sounds."""

    sample_rate = SR
    has_encoder = True

    def __init__(self, bank):
        self.bank = bank

    def latent_range(self):
        return (0.0, float(len(self.bank) - 1), -1.0, 1.0)

    def decode(self, points):
        index = np.clip(np.rint(np.asarray(points)[:, 0]).astype(int), 0, len(self.bank) - 1)
        return self.bank[index]

    def encode(self, audio):
        matches = [int(np.argmin(np.abs(self.bank - sound).sum(axis=1))) for sound in audio]
        return np.stack([np.asarray(matches, float), np.zeros(len(audio))], axis=1)


def _evaluate(model, reference, trained_here):
    return evaluate_generator(model.decode, model.encode, model.latent_range(), SR, reference, trained_here=trained_here)


def test_data_a_model_never_trained_on_is_reconstructed_whole(reference, sounds):
    train, validation, _, _ = sounds
    model = LookupAutoencoder(np.concatenate([train, validation]))
    own = _evaluate(model, reference, trained_here=True)
    foreign = _evaluate(model, reference, trained_here=False)
    assert own["reconstruction"] == {"sounds": len(validation), "set": "held-out kits"}
    assert foreign["reconstruction"] == {"sounds": len(train) + len(validation), "set": "every sound"}
    assert foreign["metrics"]["recon_stft"] == pytest.approx(0.0, abs=1e-6)
    # the baseline is measured on the same sounds as the model
    assert foreign["metrics"]["mean_sample_stft"] != own["metrics"]["mean_sample_stft"]


def test_data_without_held_out_kits_is_reconstructed_whole_by_a_stranger(sounds):
    train = sounds[0]
    reference = Reference(train, np.zeros((0, LENGTH), np.float32), SR, OPTIONS)
    model = LookupAutoencoder(train)
    assert _evaluate(model, reference, trained_here=True)["metrics"]["recon_stft"] is None
    foreign = _evaluate(model, reference, trained_here=False)
    assert foreign["metrics"]["recon_stft"] == pytest.approx(0.0, abs=1e-6)
    assert foreign["reconstruction"]["sounds"] == len(train)


def test_a_card_names_its_training_data_by_folder_or_by_name_size_and_kits(tmp_path):
    data = tmp_path / "kits"
    data.mkdir()
    card = {"folder": str(data), "samples": 30, "validation_kits": ["b", "a"]}
    assert trained_on(card, data, 30, ["a", "b"])
    moved = dict(card, folder="/elsewhere/kits")
    assert trained_on(moved, data, 30, ["a", "b"])
    assert not trained_on(moved, data, 31, ["a", "b"])
    assert not trained_on(moved, data, 30, ["a"])
    assert not trained_on(dict(card, folder="/elsewhere/other"), data, 30, ["a", "b"])
    assert not trained_on(None, data, 30, [])
    assert not trained_on({"samples": 30}, data, 30, [])


def test_ranking_puts_the_model_better_in_every_column_first():
    from evaluation.ranking import best_model, overall_scores, rank_models

    metrics = {
        "noise": {
            "recall": 0.0,
            "coverage": 0.0,
            "precision": 0.1,
            "frechet": 90.0,
            "recognisable": 0.5,
            "recon_stft": 2.0,
            "decode_ms": 0.1,
        },
        "drums": {
            "recall": 0.3,
            "coverage": 0.4,
            "precision": 0.6,
            "frechet": 20.0,
            "recognisable": 0.8,
            "recon_stft": 1.0,
            "decode_ms": 9.0,
        },
        # no encoder: its missing reconstruction does not count against it
        "gan": {"recall": 0.2, "coverage": 0.3, "precision": 0.5, "frechet": 30.0, "recognisable": 0.7, "recon_stft": None},
        "empty": {},
    }
    assert rank_models(metrics) == ["drums", "gan", "noise", "empty"]
    scores = overall_scores(metrics)
    assert scores["drums"] == 1.0 and scores["gan"] == 2.0 and scores["empty"] is None
    assert best_model(metrics) == "drums"
    assert best_model({"empty": {}}) is None and best_model({}) is None


def test_best_cached_model_reads_metrics_json_without_tensorflow(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from evaluation.cache import save_metrics

    for name, recall in (("a", 0.1), ("b", 0.5)):
        (tmp_path / name).mkdir()
        save_metrics(tmp_path / name, {"metrics": {"recall": recall}}, {"version": 0})
    root = Path(__file__).resolve().parents[1]
    script = (
        "import sys\n"
        "from evaluation.ranking import best_cached_model\n"
        f"print(best_cached_model({str(tmp_path)!r}, ['a', 'b', 'missing']))\n"
        "assert 'tensorflow' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        check=False,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "b"


def test_contact_sheet_reads_like_the_plane_and_needs_a_square():
    from evaluation.pictures import contact_sheet_figure, contact_sheet_points

    points = contact_sheet_points((-3.0, 3.0, -1.0, 1.0))
    assert points.shape == (25, 2)
    assert tuple(points[0]) == (-3.0, 1.0) and tuple(points[4]) == (3.0, 1.0)
    assert tuple(points[-1]) == (3.0, -1.0)
    audio = drum_batch(25, LENGTH, seed=7)[0]
    figure = contact_sheet_figure(audio, SR, points, title="bank")
    assert len(figure.axes) == 50  # a spectrogram and a waveform per cell
    with pytest.raises(ValueError, match="square number of sounds, got 24"):
        contact_sheet_figure(audio[:24], SR)


def test_family_figure_stacks_one_bar_per_row():
    from evaluation.pictures import families_figure

    figure = families_figure({"a": {"kick": 0.5, "hat": 0.5}, "b": {"snare": 1.0}})
    bars = figure.axes[0].patches
    assert len(bars) == 2 * 7
    assert sum(bar.get_width() for bar in bars) == pytest.approx(2.0)


def test_grid_sounds_beyond_full_scale_or_silent_are_counted(reference, sounds):
    bank = sounds[0][:36] / np.abs(sounds[0][:36]).max(axis=1, keepdims=True) * 0.5
    bank[:12] *= 3.0  # peaks of 1.5
    bank[12:18] *= 1e-4  # -86 dB: silence
    model = LookupAutoencoder(bank)
    metrics = evaluate_generator(model.decode, None, model.latent_range(), SR, reference)["metrics"]
    column = np.clip(np.rint(np.linspace(0, 35, 6)).astype(int), 0, 35)  # the grid's x indices
    assert metrics["beyond_full_scale"] == pytest.approx(np.mean(column < 12))
    assert metrics["silent"] == pytest.approx(np.mean((column >= 12) & (column < 18)))


def _targets_records(candidate_metrics, families):
    seed = {"recall": 0.1, "coverage": 0.1, "frechet": 80.0, "recon_stft": 1.2}
    return {
        "vae_c": {"metrics": seed, "details": {}},
        "ddsp_vae": {"metrics": candidate_metrics, "details": {"families": families}},
    }


def test_targets_hold_for_a_candidate_that_meets_them():
    from evaluation.targets import target_checks

    good = {
        "recall": 0.5,
        "coverage": 0.5,
        "frechet": 20.0,
        "recognisable": 0.8,
        "recon_stft": 1.1,
        "nonfinite": 0.0,
        "silent": 0.0,
        "beyond_full_scale": 0.0,
        "decode_ms": 1.0,
    }
    spread = {"kick": 0.2, "snare": 0.2, "clap": 0.05, "hat": 0.2, "tom": 0.2, "cymbal": 0.1, "percussion": 0.05}
    references = {"real training sounds": {"metrics": {"recall": 0.9, "coverage": 0.8}}}
    checks = target_checks(_targets_records(good, spread), references)
    assert len(checks) == 10 and all(check.holds is True for check in checks), checks
    assert checks[0].line() == "- recall: better than each of the other 1 models: 0.5 against vae_c's 0.1 (holds)"


def test_targets_name_what_a_noise_model_misses():
    from evaluation.targets import target_checks

    noisy = {
        "recall": 0.0,
        "coverage": 0.05,
        "frechet": 90.0,
        "recognisable": 0.7,
        "recon_stft": 1.3,
        "nonfinite": 0.0,
        "silent": 0.0,
        "beyond_full_scale": 0.2,
        "decode_ms": 9.0,
    }
    checks = target_checks(_targets_records(noisy, {"hat": 1.0}), None)
    by_target = {check.target: check for check in checks}
    assert all(check.holds is not True for check in checks if "ceiling" not in check.target)
    family = next(c for c in checks if "families hold" in c.target)
    assert family.value == "1 (hat)" and family.holds is False
    half = [c for c in checks if "half the real training sounds" in c.target]
    assert half and all(c.holds is None for c in half)  # no ceiling row given
    assert "beyond_full_scale 20.0%" in next(c.value for t, c in by_target.items() if "NaN" in t)
    assert target_checks({"vae_c": {"metrics": {}}}) == []
