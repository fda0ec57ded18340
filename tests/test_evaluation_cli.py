"""`app.py evaluate`: exit statuses, skipped models, the report and the cache, end to end."""

import pytest

import app
from drums import preprocessed_kits

pytestmark = pytest.mark.slow  # trains a zoo and evaluates it end to end

LENGTH = 4096
SR = 22050


@pytest.fixture(scope="module", autouse=True)
def user_cache(tmp_path_factory):
    """The user cache of these tests (metrics of data other than a model's own land there)."""
    import os

    folder = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)  # the processes these tests start inherit it
    yield folder
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory):
    """A real preprocessed dataset: three small 'kits' of synthetic drums."""
    root = tmp_path_factory.mktemp("evaluate-cli")
    return preprocessed_kits(root / "sources", root / "data", 36, LENGTH, seed=31, sr=SR)


def test_unknown_model_name_is_a_usage_error(tmp_path, capsys):
    status = app.main(["evaluate", "ae_tiny_nonsense", "--data", str(tmp_path)])
    assert status == 2
    assert "ae_tiny_nonsense" in capsys.readouterr().err


def test_grid_below_two_is_a_usage_error(tmp_path, capsys):
    assert app.main(["evaluate", "--data", str(tmp_path), "--grid", "1"]) == 2
    assert "--grid" in capsys.readouterr().err


def test_folder_that_is_not_a_dataset_fails_with_its_reason(tmp_path, capsys):
    # its own report folder: the checkout's out/evaluation may hold a report of the user's
    status = app.main(["evaluate", "ae_small_relu", "--data", str(tmp_path / "nowhere"), "-o", str(tmp_path / "report")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("app.py evaluate: ") and "nowhere" in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def zoo(dataset_folder, tmp_path_factory):
    """Two tiny dense autoencoders trained for one epoch by the real train verb."""
    out = tmp_path_factory.mktemp("zoo")
    status = app.main(
        [
            "train",
            "ae_small_relu",
            "ae_small_tanh",
            "--data",
            str(dataset_folder),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--verbose",
            "0",
        ]
    )
    assert status == 0
    return out


def _evaluate(dataset_folder, zoo, report, *names, extra=()):
    return app.main(
        ["evaluate", *names, "--data", str(dataset_folder), "--models", str(zoo), "-o", str(report), "--grid", "6", *extra]
    )


def test_evaluate_writes_the_report_and_skips_unavailable_models(dataset_folder, zoo, tmp_path, capsys):
    status = _evaluate(dataset_folder, zoo, tmp_path / "report", "ae_small_relu", "ae_small_tanh", "gan")
    assert status == 0
    captured = capsys.readouterr()
    assert "skipped gan:" in captured.err and "card.json" in captured.err
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| ae_small_relu |" in report and "| ae_small_tanh |" in report
    assert "| *mean training sample* |" in report and "- gan: " in report
    assert "| ae_small_relu |" in captured.out  # the table is printed too
    for name in ("ae_small_relu", "ae_small_tanh"):
        assert (zoo / name / "metrics.json").is_file() and (zoo / name / "continuity.png").is_file()
        assert (tmp_path / "report" / f"continuity_{name}.png").is_file()
    rows = (tmp_path / "report" / "metrics.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:3]] == ["ae_small_relu", "ae_small_tanh"]


def test_cached_metrics_are_reused_until_the_model_changes(dataset_folder, zoo, tmp_path):
    import json
    import shutil

    from evaluation.cache import load_cached_metrics

    assert _evaluate(dataset_folder, zoo, tmp_path / "first", "ae_small_relu") == 0
    path = zoo / "ae_small_relu" / "metrics.json"
    record = json.loads(path.read_text())
    (entry,) = record["entries"].values()  # one entry per dataset; one dataset here
    entry["metrics"]["frechet"] = 12345.0  # a value no real run gives: proves the cache is read
    path.write_text(json.dumps(record))
    assert _evaluate(dataset_folder, zoo, tmp_path / "second", "ae_small_relu") == 0
    assert "12345" in (tmp_path / "second" / "report.md").read_text()
    assert _evaluate(dataset_folder, zoo, tmp_path / "forced", "ae_small_relu", extra=["--force"]) == 0
    assert "12345" not in (tmp_path / "forced" / "report.md").read_text()

    path.write_text(json.dumps(record))
    other = zoo / "ae_small_relu_copy"
    shutil.copytree(zoo / "ae_small_relu", other)
    try:
        # other weights of the same architecture: a retrained model
        shutil.copy(zoo / "ae_small_tanh" / "decoder.keras", zoo / "ae_small_relu" / "decoder.keras")
        assert _evaluate(dataset_folder, zoo, tmp_path / "retrained", "ae_small_relu") == 0
        assert "12345" not in (tmp_path / "retrained" / "report.md").read_text()
        assert load_cached_metrics(zoo / "ae_small_relu")["metrics"]["frechet"] != 12345.0
    finally:
        shutil.rmtree(zoo / "ae_small_relu")
        other.rename(zoo / "ae_small_relu")


def test_no_available_model_fails(dataset_folder, tmp_path, capsys):
    status = app.main(
        [
            "evaluate",
            "gan",
            "vae_a",
            "--data",
            str(dataset_folder),
            "--models",
            str(tmp_path / "empty"),
            "-o",
            str(tmp_path / "report"),
        ]
    )
    assert status == 1
    err = capsys.readouterr().err
    assert "skipped gan:" in err and "skipped vae_a:" in err
    assert err.strip().splitlines()[-1] == ("app.py evaluate: no model could be evaluated (2 unavailable, listed above)")
    assert not (tmp_path / "report").exists()


def test_unwritable_model_folder_still_gets_a_report(dataset_folder, zoo, tmp_path, capsys, monkeypatch):
    import evaluation.cache

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(evaluation.cache, "save_metrics", refuse)
    status = _evaluate(dataset_folder, zoo, tmp_path / "report", "ae_small_tanh", extra=["--force"])
    assert status == 0
    assert "ae_small_tanh: metrics not cached (Permission denied)" in capsys.readouterr().err
    assert "| ae_small_tanh |" in (tmp_path / "report" / "report.md").read_text()


def test_evaluating_other_data_keeps_the_training_data_entry(dataset_folder, zoo, tmp_path):
    """One cache entry per dataset; the window's stays the training data's. The other data's
    entry goes to the user cache, and the model folder is not written."""
    from evaluation.cache import load_cached_metrics

    assert _evaluate(dataset_folder, zoo, tmp_path / "own", "ae_small_tanh") == 0
    folder = zoo / "ae_small_tanh"
    shown = load_cached_metrics(folder)
    heatmap = (folder / "continuity.png").read_bytes()
    other = preprocessed_kits(
        tmp_path / "other-sources", tmp_path / "other", 24, LENGTH, seed=77, kit_of=lambda i: f"other_{i % 2}", sr=SR
    )
    shipped = _tree(folder)
    assert _evaluate(other, zoo, tmp_path / "elsewhere", "ae_small_tanh") == 0
    after = load_cached_metrics(folder)
    assert after["key"] == shown["key"] and after["metrics"] == shown["metrics"]
    assert (folder / "continuity.png").read_bytes() == heatmap
    assert _tree(folder) == shipped
    entry = _entry_of(folder, other)
    assert entry["training_data"] is False


@pytest.fixture(scope="module")
def foreign_folder(tmp_path_factory):
    """Another preprocessed data set, of sounds no model in the zoo was trained on."""
    root = tmp_path_factory.mktemp("foreign")
    return preprocessed_kits(root / "sources", root / "foreign", 24, LENGTH, seed=77, kit_of=lambda i: f"other_kit_{i // 6}", sr=SR)


def _entry_of(model_folder, data_folder):
    """The cached entry of one dataset: in the model's metrics.json (its own training data)
    or in the user cache (any other data)."""
    import json

    from evaluation.cache import user_cache_folder

    entries = list(json.loads((model_folder / "metrics.json").read_text())["entries"].values())
    for path in sorted(user_cache_folder().glob(f"{model_folder.name}-*.json")):
        entries.append(json.loads(path.read_text())["entry"])
    return max((e for e in entries if e["data_folder"] == str(data_folder)), key=lambda e: e["computed"])


def _tree(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_data_no_model_trained_on_is_reconstructed_whole(foreign_folder, zoo, tmp_path, capsys):

    before = _tree(foreign_folder)
    status = _evaluate(foreign_folder, zoo, tmp_path / "report", "ae_small_relu", extra=["--force"])
    assert status == 0
    record = _entry_of(zoo / "ae_small_relu", foreign_folder)
    assert record["reconstruction"] == {"sounds": 24, "set": "every sound"}
    assert record["training_data"] is False
    assert record["metrics"]["recon_stft"] is not None
    report = (tmp_path / "report" / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| ae_small_relu |"))
    assert row.split("|")[2].strip() != "–"  # the recon MR-STFT cell is filled
    assert "Not trained on this data, so every sound of it was reconstructed: ae_small_relu" in report
    assert _tree(foreign_folder) == before


def test_training_data_reconstructs_only_the_held_out_kits(dataset_folder, zoo, tmp_path):

    from preprocessing.dataset import load_dataset

    held_out = len(load_dataset(dataset_folder).validation())
    assert _evaluate(dataset_folder, zoo, tmp_path / "report", "ae_small_relu", extra=["--force"]) == 0
    record = _entry_of(zoo / "ae_small_relu", dataset_folder)
    assert record["reconstruction"] == {"sounds": held_out, "set": "held-out kits"}
    assert record["training_data"] is True
    assert "Not trained on this data" not in (tmp_path / "report" / "report.md").read_text()


def test_report_has_the_drum_columns_reference_rows_and_pictures(dataset_folder, zoo, tmp_path, capsys):
    assert _evaluate(dataset_folder, zoo, tmp_path / "report", "ae_small_relu", "ae_small_tanh") == 0
    out = capsys.readouterr().out
    report_folder = tmp_path / "report"
    report = (report_folder / "report.md").read_text()
    header = next(line for line in report.splitlines() if line.startswith("| model |"))
    for title in ("precision ↑", "recall ↑", "density →1", "coverage ↑", "recognisable ↑"):
        assert title in header
    for label in ("real training sounds", "real held-out sounds", "noise bursts"):
        assert f"| *{label}* |" in report and f"| *{label}* |" in out
    assert "k = 5 neighbours" in report
    # the held-out kit holds one family the classifier never saw: it says so
    assert "accuracy is unknown" in report or "accuracy on the held-out kits" in report
    assert "Overall (mean rank over recall" in report
    assert "![families](families.png)" in report
    for name in ("ae_small_relu", "ae_small_tanh"):
        assert f"![{name}](contact_{name}.png)" in report
        assert (report_folder / f"contact_{name}.png").stat().st_size > 0
    assert (report_folder / "families.png").stat().st_size > 0
    rows = [row.split(",")[0] for row in (report_folder / "metrics.csv").read_text().splitlines()]
    assert "noise bursts" in rows and "real training sounds" in rows


# ----------------------------------------------------------------------------- the REPORT folder
# -o REPORT never replaces a previous report without --force. Driven as real processes.


def _run_app(*args):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(root / "app.py"), *map(str, args)], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    return done.returncode, done.stdout, done.stderr


def _evaluate_process(dataset_folder, zoo, report, *extra):
    return _run_app("evaluate", "ae_small_relu", "--data", dataset_folder, "--models", zoo, "-o", report, "--grid", "6", *extra)


def _one_line(stderr):
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def _everything(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def previous_report(dataset_folder, zoo, tmp_path):
    """A report folder from an earlier run, with a note of the user's beside the report."""
    report = tmp_path / "report"
    assert _evaluate(dataset_folder, zoo, report, "ae_small_relu") == 0
    (report / "my notes.txt").write_text("relu sounds best at (0.2, 0.1)\n")
    (report / "contact_gan.png").write_bytes(b"an older report's picture")
    return report


def test_a_previous_report_is_kept_without_force(dataset_folder, zoo, previous_report):
    before = _everything(previous_report.parent)
    status, out, err = _evaluate_process(dataset_folder, zoo, previous_report)
    assert status == 1
    assert _one_line(err) == (f"app.py evaluate: {previous_report}: holds a previous report (pass --force to replace it)")
    assert out == "" and _everything(previous_report.parent) == before


def test_force_replaces_the_report_as_one_set_and_keeps_the_users_files(dataset_folder, zoo, previous_report):
    notes = (previous_report / "my notes.txt").read_bytes()
    (previous_report / "report.md").write_text("stale")
    status, out, err = _evaluate_process(dataset_folder, zoo, previous_report, "--force")
    assert status == 0, err
    assert f"report: {previous_report / 'report.md'}" in out
    assert (previous_report / "my notes.txt").read_bytes() == notes
    assert "| ae_small_relu |" in (previous_report / "report.md").read_text()
    assert not (previous_report / "contact_gan.png").exists()  # the old report's, not the new
    assert sorted(p.name for p in previous_report.parent.iterdir()) == ["report"]  # no staging, no lock


def test_a_folder_without_a_report_is_written_into_and_its_files_kept(dataset_folder, zoo, tmp_path):
    report = tmp_path / "mine"
    report.mkdir()
    (report / "todo.md").write_text("listen to every model\n")
    status, _, err = _evaluate_process(dataset_folder, zoo, report)
    assert status == 0, err
    assert (report / "todo.md").read_text() == "listen to every model\n"
    assert (report / "report.md").is_file() and (report / "metrics.csv").is_file()


def test_a_report_that_is_a_file_or_holds_the_inputs_is_refused(dataset_folder, zoo, tmp_path):
    a_file = tmp_path / "report.md"
    a_file.write_text("mine")
    status, _, err = _evaluate_process(dataset_folder, zoo, a_file, "--force")
    assert status == 2
    assert _one_line(err) == f"app.py evaluate: -o {a_file}: exists and is not a folder"
    assert a_file.read_text() == "mine"
    for inputs in (dataset_folder, zoo, zoo / "ae_small_relu", dataset_folder.parent):
        before = _everything(inputs)
        status, _, err = _evaluate_process(dataset_folder, zoo, inputs, "--force")
        assert status == 1
        assert _one_line(err) == (
            f"app.py evaluate: {inputs}: holds the data, the models or the "
            "current folder; the report needs a folder of its own "
            "(pick another -o)"
        )
        assert _everything(inputs) == before


def test_the_report_compares_family_pads_and_a_cached_record_gets_them_without_writing_the_zoo(dataset_folder, zoo, tmp_path):
    import json

    assert _evaluate(dataset_folder, zoo, tmp_path / "first", "ae_small_relu", "ae_small_tanh") == 0
    report = (tmp_path / "first" / "report.md").read_text()
    assert "## Family pads: which model separates the families" in report
    for name in ("ae_small_relu", "ae_small_tanh"):
        assert any(line.startswith(f"| {name} |") and line.count("|") == 12 for line in report.splitlines())
        assert f"### {name}: family pads, asked and read" in report
    # a record cached before family pads were measured: measured now, the zoo left as it is
    path = zoo / "ae_small_relu" / "metrics.json"
    record = json.loads(path.read_text())
    (entry,) = record["entries"].values()
    assert entry["details"]["family_pads"]["families"]
    del entry["details"]["family_pads"]
    path.write_text(json.dumps(record))
    before = path.read_bytes()
    assert _evaluate(dataset_folder, zoo, tmp_path / "second", "ae_small_relu") == 0
    assert "### ae_small_relu: family pads, asked and read" in (tmp_path / "second" / "report.md").read_text()
    assert path.read_bytes() == before
