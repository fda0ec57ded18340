"""Outputs that once replaced a user's file without --force, each driven as a
real ``python app.py ...`` process: its exit status, its one line, and the user's files
byte for byte as they were."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from drums import kick, snare

ROOT = Path(__file__).resolve().parents[1]
USERS_PNG = b"\x89PNG\r\n\x1a\nthe user's own picture"


def run_app(*args, cwd=None):
    """Run ``python app.py ARGS`` as the user does; returns (status, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=600
    )
    return done.returncode, done.stdout, done.stderr


def one_line(stderr):
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def tree(folder):
    """Every file under ``folder`` with its bytes (hidden ones too)."""
    return {path.relative_to(folder): path.read_bytes() for path in sorted(Path(folder).rglob("*")) if path.is_file()}


# ----------------------------------------------------------------------------- preprocess --preview


@pytest.fixture
def kit(tmp_path):
    folder = tmp_path / "kit"
    folder.mkdir()
    sf.write(folder / "kick_0.wav", kick(seed=0, seconds=0.1), 44100)
    sf.write(folder / "snare_1.wav", snare(seed=1, seconds=0.1), 44100)
    return folder


def preprocess(kit, out, *extra):
    return run_app("preprocess", kit, "-o", out, "--length", 1024, "--jobs", 1, *extra)


def test_preview_keeps_an_existing_file_without_force(kit, tmp_path):
    preview = tmp_path / "preview.png"
    preview.write_bytes(USERS_PNG)
    status, out, err = preprocess(kit, tmp_path / "data", "--preview", preview)
    assert status == 1
    assert one_line(err) == f"app.py preprocess: {preview}: already exists (pass --force to replace it)"
    assert preview.read_bytes() == USERS_PNG
    assert not (tmp_path / "data").exists()  # refused before any work
    assert out == ""


def test_preview_replaces_an_existing_file_with_force_atomically(kit, tmp_path):
    preview = tmp_path / "preview.png"
    preview.write_bytes(USERS_PNG)
    status, out, err = preprocess(kit, tmp_path / "data", "--preview", preview, "--force")
    assert status == 0, err
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and preview.read_bytes() != USERS_PNG
    assert f"preview: {preview} (2 samples)" in out
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_preview_never_replaces_a_source_even_with_force(kit, tmp_path):
    source = kit / "kick_0.wav"
    before = tree(kit)
    for extra in ([], ["--force"]):
        status, _, err = preprocess(source, tmp_path / "data", "--preview", source, *extra)
        assert status == 1
        assert one_line(err) == (
            f"app.py preprocess: {source}: is an input of this command; it is never replaced (pick another --preview)"
        )
    assert tree(kit) == before


def test_preview_never_takes_the_name_of_a_dataset_file(kit, tmp_path):
    data = tmp_path / "data"
    assert preprocess(kit, data)[0] == 0
    before = tree(data)
    status, _, err = preprocess(kit, data, "--preview", data / "manifest.csv", "--force")
    assert status == 1
    assert one_line(err) == (
        f"app.py preprocess: {data / 'manifest.csv'}: is a file of the dataset folder; it is never replaced (pick another --preview)"
    )
    assert tree(data) == before


def test_preview_that_is_a_folder_is_refused(kit, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "mine.png").write_bytes(USERS_PNG)
    status, _, err = preprocess(kit, tmp_path / "data", "--preview", folder, "--force")
    assert status == 1
    assert one_line(err) == f"app.py preprocess: {folder}: is a folder, not a file"
    assert tree(folder) == {Path("mine.png"): USERS_PNG}


def test_preview_that_appears_while_preprocessing_is_kept(kit, tmp_path, monkeypatch, capsys):
    """The check is made before the work; the write itself refuses a file made meanwhile."""
    import app
    import preprocessing.preview as preview_module

    preview = tmp_path / "preview.png"
    real_pick = preview_module.pick_examples

    def pick_while_the_user_saves(*args, **kwargs):
        preview.write_bytes(USERS_PNG)
        return real_pick(*args, **kwargs)

    monkeypatch.setattr(preview_module, "pick_examples", pick_while_the_user_saves)
    status = app.main(
        ["preprocess", str(kit), "-o", str(tmp_path / "data"), "--length", "1024", "--jobs", "1", "--preview", str(preview)]
    )
    assert status == 1
    assert one_line(capsys.readouterr().err) == (
        f"app.py preprocess: cannot write the preview: {preview}: already exists (pass --force to replace it)"
    )
    assert preview.read_bytes() == USERS_PNG
