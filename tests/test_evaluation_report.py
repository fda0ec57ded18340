"""The evaluation runner, the metrics cache and the report, driven through numpy test doubles
that implement the model contract (decode, encode, latent range, sample rate)."""

import numpy as np
import pytest

from drums import drum_batch
from evaluation.cache import cache_key, data_fingerprint, load_cached_metrics, model_fingerprint, readable_mode, save_metrics
from evaluation.columns import COLUMNS, Column, ranks
from evaluation.errors import EvaluationError
from evaluation.reference import EvaluationOptions, Reference, real_data_scores
from evaluation.report import csv_text, markdown_table, write_report
from evaluation.runner import evaluate_generator, evaluate_model

SR = 22050
LENGTH = 4096
OPTIONS = EvaluationOptions(grid=8, realism_grid=6, max_reference=60, ndb_bins=4, speed_repeats=3)


@pytest.fixture(scope="module")
def sounds():
    train = drum_batch(60, LENGTH, seed=21)[0]
    validation = drum_batch(18, LENGTH, seed=22)[0]
    return train, validation


@pytest.fixture(scope="module")
def families():
    """The family of each of ``sounds``: drum_batch cycles snare, kick, hat."""
    return drum_batch(60, LENGTH, seed=21)[1], drum_batch(18, LENGTH, seed=22)[1]


@pytest.fixture(scope="module")
def reference(sounds, families):
    return Reference(*sounds, SR, OPTIONS, *families)


class LookupAutoencoder:
    """A perfect autoencoder over a fixed bank of sounds: a sound's code is (its index, 0)."""

    name = "lookup"
    sample_rate = SR
    has_encoder = True

    def __init__(self, bank):
        self.bank = np.asarray(bank, dtype=np.float32)

    def latent_range(self):
        return (0.0, len(self.bank) - 1.0, -1.0, 1.0)

    def decode(self, points):
        index = np.clip(np.round(np.asarray(points)[:, 0]).astype(int), 0, len(self.bank) - 1)
        return self.bank[index]

    def encode(self, audio):
        distances = ((np.asarray(audio)[:, None, :] - self.bank[None]) ** 2).sum(axis=2)
        return np.stack([distances.argmin(axis=1), np.zeros(len(audio))], axis=1)


class SilentAutoencoder(LookupAutoencoder):
    """Decodes everything to silence: reconstructs worse than the mean training sample."""

    def decode(self, points):
        return np.zeros((len(points), self.bank.shape[1]), dtype=np.float32)


def test_perfect_autoencoder_reconstructs_closer_than_the_mean_training_sample(sounds, reference):
    model = LookupAutoencoder(np.concatenate(sounds))
    metrics = evaluate_model(model, reference)["metrics"]
    assert metrics["recon_stft"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["recon_stft_db"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["recon_snr_db"] > 100
    assert metrics["mean_sample_stft"] > 0.5 and metrics["mean_sample_stft_db"] > 1.0
    assert metrics["mean_sample_snr_db"] < 10
    silent = evaluate_model(SilentAutoencoder(sounds[0]), reference)["metrics"]
    assert silent["recon_stft"] > metrics["mean_sample_stft"]
    assert silent["recon_sc"] == pytest.approx(1.0)
    assert silent["recon_stft"] == pytest.approx(1.0 + silent["recon_stft_db"] * np.log(10) / 20)


def test_record_has_every_table_metric_and_a_heat_map(sounds, reference):
    record = evaluate_model(LookupAutoencoder(sounds[0]), reference)
    assert {column.key for column in COLUMNS} <= set(record["metrics"])
    assert all(record["metrics"][c.key] is not None for c in COLUMNS)
    assert record["continuity"]["values"].shape == (OPTIONS.grid, OPTIONS.grid)
    assert len(record["jumps"]) == 5
    assert record["reference"]["held_out_sounds"] == 18


def test_generator_without_encoder_has_no_reconstruction_but_keeps_the_baseline(sounds, reference):
    model = LookupAutoencoder(sounds[0])
    record = evaluate_generator(model.decode, None, model.latent_range(), SR, reference)
    assert record["metrics"]["recon_stft"] is None
    assert record["metrics"]["mean_sample_stft"] is not None
    assert record["metrics"]["frechet"] >= 0


def test_progress_reports_every_stage_in_order(sounds, reference):
    seen = []
    model = LookupAutoencoder(sounds[0])
    evaluate_model(model, reference, progress=lambda stage, fraction: seen.append((stage, fraction)))
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [s for s, _ in seen if s != "continuity"] == ["reconstruction", "realism", "speed", "done"]


def test_sounds_at_another_sample_rate_are_refused(sounds, reference):
    model = LookupAutoencoder(sounds[0])
    with pytest.raises(EvaluationError, match="16000 Hz"):
        evaluate_generator(model.decode, None, model.latent_range(), 16000, reference)


def test_sounds_of_another_length_are_refused(sounds, reference):
    model = LookupAutoencoder(sounds[0][:, :2048])
    with pytest.raises(EvaluationError, match="2048-sample"):
        evaluate_model(model, reference)


def test_reference_needs_two_training_sounds(sounds):
    with pytest.raises(EvaluationError, match="fewer than 2"):
        Reference(sounds[0][:1], sounds[1], SR, OPTIONS)


def test_held_out_real_sounds_score_like_a_good_generator(reference):
    scores = real_data_scores(reference)
    assert 0.5 < scores["diversity"] < 1.5
    assert scores["memorisation"] > 0.5
    assert scores["ndb_k"] <= 0.5


# --- cache -------------------------------------------------------------------------------------


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "trained" / "ae_small_relu"
    folder.mkdir(parents=True)
    (folder / "decoder.keras").write_bytes(b"decoder weights v1")
    (folder / "encoder.keras").write_bytes(b"encoder weights v1")
    return folder


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "data" / "manifest.csv"
    path.parent.mkdir()
    path.write_text("file,source\nkick.wav,/kits/a/kick.flac\n")
    return path


SETTINGS = {"sample_rate": 22050, "length": 16384}


def _key(folder, manifest, settings=SETTINGS, options=OPTIONS):
    return cache_key(model_fingerprint(folder), data_fingerprint(manifest, settings), options.to_dict())


def _record():
    return {
        "metrics": {"frechet": 1.5, "recon_stft_db": None, "nonfinite": np.float64(0.0)},
        "jumps": [{"distance": 3.0, "start": [0.0, 1.0], "end": [0.5, 1.0]}],
        "continuity": {
            "grid_x": np.arange(3.0),
            "grid_y": np.arange(3.0),
            "values": np.array([[0.0, 1.0, np.nan], [2, 3, 4], [5, 6, 7]]),
        },
    }


def test_cached_metrics_come_back_with_arrays(model_folder, manifest):
    key = _key(model_folder, manifest)
    save_metrics(model_folder, _record(), key)
    cached = load_cached_metrics(model_folder, key)
    assert cached["metrics"] == {"frechet": 1.5, "recon_stft_db": None, "nonfinite": 0.0}
    assert cached["continuity"]["values"].shape == (3, 3)
    assert np.isnan(cached["continuity"]["values"][0, 2])  # NaN is stored as null, read back
    assert cached["jumps"][0]["start"] == [0.0, 1.0]
    assert "computed" in cached and load_cached_metrics(model_folder) is not None
    # a plain file's mode (not mkstemp's 0o600), so another user's GUI can read it
    assert (model_folder / "metrics.json").stat().st_mode & 0o777 == readable_mode()


def test_retrained_model_invalidates_the_cache(model_folder, manifest):
    save_metrics(model_folder, _record(), _key(model_folder, manifest))
    (model_folder / "decoder.keras").write_bytes(b"decoder weights v2")
    assert load_cached_metrics(model_folder, _key(model_folder, manifest)) is None


def test_changed_data_invalidates_the_cache(model_folder, manifest):
    save_metrics(model_folder, _record(), _key(model_folder, manifest))
    manifest.write_text(manifest.read_text() + "snare.wav,/kits/a/snare.flac\n")
    assert load_cached_metrics(model_folder, _key(model_folder, manifest)) is None


def test_changed_settings_or_options_invalidate_the_cache(model_folder, manifest):
    save_metrics(model_folder, _record(), _key(model_folder, manifest))
    other_settings = {**SETTINGS, "sample_rate": 16000}
    assert load_cached_metrics(model_folder, _key(model_folder, manifest, other_settings)) is None
    other_options = EvaluationOptions(grid=9)
    assert load_cached_metrics(model_folder, _key(model_folder, manifest, options=other_options)) is None
    assert load_cached_metrics(model_folder, _key(model_folder, manifest)) is not None


def test_checkpoints_do_not_change_the_model_fingerprint(model_folder):
    before = model_fingerprint(model_folder)
    (model_folder / "checkpoint").mkdir()
    (model_folder / "checkpoint" / "last.keras").write_bytes(b"resume state")
    assert model_fingerprint(model_folder) == before


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]", '{"no": "metrics"}'])
def test_missing_or_damaged_cache_reads_as_none(model_folder, content):
    if content is not None:
        (model_folder / "metrics.json").write_text(content)
    assert load_cached_metrics(model_folder) is None


# --- report ------------------------------------------------------------------------------------


def test_ranks_follow_each_column_direction():
    metrics = {"a": {"x": 1.0}, "b": {"x": 3.0}, "c": {"x": 0.9}, "d": {"x": None}}
    assert ranks(metrics, Column("x", "x", "lower")) == {"a": 2, "b": 3, "c": 1, "d": None}
    assert ranks(metrics, Column("x", "x", "higher")) == {"a": 2, "b": 1, "c": 3, "d": None}
    assert ranks(metrics, Column("x", "x", "one")) == {"a": 1, "b": 3, "c": 2, "d": None}
    tied = {"a": {"x": 2.0}, "b": {"x": 2.0}, "c": {"x": 5.0}}
    assert ranks(tied, Column("x", "x", "lower")) == {"a": 1, "b": 1, "c": 3}


def test_table_shows_value_and_rank_with_baseline_and_real_rows():
    metrics = {"good": {"frechet": 1.0, "recon_snr_db": 9.0}, "bad": {"frechet": 4.0, "recon_snr_db": None}}
    table = markdown_table(metrics, baseline={"recon_snr_db": 2.0}, real={"frechet": 0.5})
    lines = table.splitlines()
    assert "Fréchet ↓" in lines[0] and "recon SNR dB ↑" in lines[0]
    assert "| good |" in lines[2] and "1.00 (1)" in lines[2] and "9.00 (1)" in lines[2]
    assert "4.00 (2)" in lines[3] and "| – |" in lines[3]
    assert lines[4].startswith("| *mean training sample* |") and "2.00" in lines[4]
    assert lines[5].startswith("| *real held-out sounds* |") and "0.50" in lines[5]
    assert csv_text(metrics).splitlines()[1].startswith("good,1,9,")


def test_report_writes_markdown_csv_and_charts(tmp_path, sounds, reference):
    records = {
        "lookup": evaluate_model(LookupAutoencoder(np.concatenate(sounds)), reference),
        "silent": evaluate_model(SilentAutoencoder(sounds[0]), reference),
    }
    paths = write_report(
        tmp_path / "report",
        records,
        {"gan": "gan: decoder.keras is missing"},
        {"folder": "data", **reference.describe()},
        real_data_scores(reference),
    )
    names = {path.name for path in paths}
    assert {"report.md", "metrics.csv", "metrics.png", "heatmaps.png", "continuity_lookup.png", "continuity_silent.png"} <= names
    assert all(path.stat().st_size > 0 for path in paths)
    text = (tmp_path / "report" / "report.md").read_text()
    assert "- gan: gan: decoder.keras is missing" in text
    assert "closer than the mean training sample (MR-STFT distance): lookup; not closer: silent" in text
    header = (tmp_path / "report" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "model" and "rank_frechet" in header


def test_non_finite_sounds_are_counted_and_the_metrics_stay_finite(sounds, reference):
    model = LookupAutoencoder(sounds[0])

    def decode(points):
        audio = model.decode(points).copy()
        audio[np.asarray(points)[:, 0] < 30] = np.nan  # the left half of the range diverged
        return audio

    record = evaluate_generator(decode, model.encode, model.latent_range(), SR, reference)
    assert record["metrics"]["nonfinite"] == pytest.approx(0.5)
    assert all(np.isfinite(record["metrics"][c.key]) for c in COLUMNS)


def test_data_without_held_out_sounds_has_no_reconstruction_or_baseline(sounds):
    reference = Reference(sounds[0], np.zeros((0, LENGTH), np.float32), SR, OPTIONS)
    model = LookupAutoencoder(sounds[0])
    metrics = evaluate_model(model, reference)["metrics"]
    assert metrics["recon_stft"] is None and "mean_sample_stft" not in metrics
    assert real_data_scores(reference) is None


def test_replace_report_refuses_a_report_that_appeared_and_keeps_it(tmp_path, sounds, reference):
    """The command checks before its work; the write refuses a report made meanwhile."""
    from evaluation.report import replace_report
    from safeio import FileExistsRefused

    records = {"silent": evaluate_model(SilentAutoencoder(sounds[0]), reference)}
    out = tmp_path / "report"
    out.mkdir()
    (out / "metrics.csv").write_text("someone else's,report\n")
    with pytest.raises(FileExistsRefused, match="holds a previous report"):
        replace_report(out, records)
    assert [p.name for p in out.iterdir()] == ["metrics.csv"]
    assert (out / "metrics.csv").read_text() == "someone else's,report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.slow
def test_a_report_that_fails_midway_leaves_the_old_one_whole(tmp_path, sounds, reference, monkeypatch):
    import evaluation.report as report_module
    from safeio import WriteFailed

    records = {"silent": evaluate_model(SilentAutoencoder(sounds[0]), reference)}
    out = tmp_path / "report"
    report_module.replace_report(out, records)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written = []
    real_write = report_module.atomic_write_bytes

    def fail_on_the_third(path, data):
        if len(written) == 2:
            raise WriteFailed(28, f"{path}: cannot write (No space left on device)")
        written.append(path)
        real_write(path, data)

    monkeypatch.setattr(report_module, "atomic_write_bytes", fail_on_the_third)
    with pytest.raises(WriteFailed, match="No space left on device"):
        report_module.replace_report(out, records, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging left


def test_a_report_folder_another_run_is_writing_is_left_alone(tmp_path, sounds, reference):
    import subprocess

    from evaluation.report import replace_report
    from safeio import FolderBusy

    records = {"silent": evaluate_model(SilentAutoencoder(sounds[0]), reference)}
    out = tmp_path / "report"
    other_run = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / ".report.lock").write_text(f"{other_run.pid}\n")
        with pytest.raises(FolderBusy) as caught:
            replace_report(out, records)
        assert str(caught.value) == (
            f"{out}: in use by another evaluate run (pid {other_run.pid}, lock file "
            f"{tmp_path / '.report.lock'}; remove that file if no such run is going)"
        )
    finally:
        other_run.kill()
        other_run.wait()
    assert not out.exists() or list(out.iterdir()) == []
