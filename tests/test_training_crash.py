"""A model folder is replaced as a whole set and kept by a lock: kill -9 at several moments
of a training's final save leaves the old model or the new one (never a mix) that `models`
reports correctly and `--resume` continues; a second run into a busy folder refuses at once."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import app
from drums import kick

ROOT = Path(__file__).resolve().parents[1]
NAME = "ae_small_tanh"
SET = ("decoder.keras", "encoder.keras", "codes.npz", "card.json", "history.csv")

# Trains NAME on tiny seeded data; with KILL_AT=k it kills itself (SIGKILL) just before the
# k-th file-system step (fsync, rename, link, unlink, exchange, rmtree) of the final save.
CHILD = textwrap.dedent("""
    import os, shutil, signal, sys
    import numpy as np
    out, epochs, resume, kill_at = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
    steps, armed = [0], [False]

    def hooked(function):
        def step(*args, **kwargs):
            if armed[0]:
                steps[0] += 1
                if steps[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)
        return step

    for module, name in ((os, "replace"), (os, "rename"), (os, "link"), (os, "unlink"),
                         (os, "fsync"), (shutil, "rmtree")):
        setattr(module, name, hooked(getattr(module, name)))
    import safeio.folders
    safeio.folders._exchange = hooked(safeio.folders._exchange)
    import models.training as training
    export = training.export_trained

    def armed_export(*args, **kwargs):
        armed[0] = True
        return export(*args, **kwargs)

    training.export_trained = armed_export
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((16, 1024)) * 0.1).astype(np.float32)
    data = training.TrainingData.from_arrays(audio, 22050, is_validation=np.arange(16) >= 12)
    training.train_model("ae_small_tanh", data, out,
                         training.TrainOptions(epochs=epochs, batch_size=4, resume=resume, verbose=0))
    print("STEPS", steps[0])
""")


def train_child(tmp_path, out, epochs, resume, kill_at=0):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, str(script), str(out), str(epochs), "1" if resume else "0", str(kill_at)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in SET}


@pytest.mark.slow  # trains
def test_kill_at_any_moment_of_the_final_save_leaves_a_whole_model(tmp_path):
    from models.checkpoint import read_checkpoint_state
    from models.zoo import model_status

    base = tmp_path / "base"
    first = train_child(tmp_path, base, epochs=1, resume=False)
    assert first.returncode == 0, first.stderr[-2000:]
    (base / NAME / "notes.txt").write_text("my notes")  # a user's file in the folder
    old = snapshot(base / NAME)

    full = tmp_path / "full"
    shutil.copytree(base, full)
    done = train_child(tmp_path, full, epochs=2, resume=True)
    assert done.returncode == 0, done.stderr[-2000:]
    steps = int(done.stdout.split("STEPS")[-1])
    assert steps >= 8
    moments = sorted({1, steps // 3, steps // 2, (2 * steps) // 3, steps})

    outcomes = {}
    for moment in moments:
        zoo = tmp_path / f"kill{moment}"
        shutil.copytree(base, zoo)
        killed = train_child(tmp_path, zoo, epochs=2, resume=True, kill_at=moment)
        assert killed.returncode == -9, (moment, killed.stderr[-2000:])
        status = model_status(NAME, zoo)
        assert status.trained, (moment, status.reason)
        now = snapshot(zoo / NAME)
        if status.epochs == 1:
            assert now == old, f"kill at step {moment}: an old card beside new files"
        else:
            assert status.epochs == 2
            assert all(now[name] != old[name] for name in ("decoder.keras", "encoder.keras")), moment
        assert (zoo / NAME / "notes.txt").read_text() == "my notes"
        state = read_checkpoint_state(zoo / NAME / "checkpoint" / "checkpoint.npz")
        assert state["epoch"] == 2  # the last epoch's checkpoint was written before the save
        outcomes[moment] = status.epochs
    assert set(outcomes.values()) == {1, 2}, outcomes  # both sides of the swap were hit

    # A run killed with the old model showing: --resume to the same epochs finishes the save,
    # and one more epoch continues from the checkpoint.
    moment = min(m for m, epochs in outcomes.items() if epochs == 1)
    zoo = tmp_path / f"kill{moment}"
    again = train_child(tmp_path, zoo, epochs=2, resume=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert model_status(NAME, zoo).epochs == 2
    more = train_child(tmp_path, zoo, epochs=3, resume=True)
    assert more.returncode == 0, more.stderr[-2000:]
    status = model_status(NAME, zoo)
    assert status.trained and status.epochs == 3
    assert not [p for p in zoo.iterdir() if p.name.startswith(f".{NAME}.")]  # no staging left


@pytest.fixture
def live_pid():
    sleeper = subprocess.Popen(["sleep", "120"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def write_lock(path, pid):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n")


def test_a_second_training_run_refuses_at_once_naming_the_folder(tmp_path, live_pid):
    from models.training import TrainingData, TrainOptions, train_model
    from safeio import FolderBusy

    write_lock(tmp_path / f".{NAME}.lock", live_pid)
    data = TrainingData.from_arrays(np.zeros((4, 1024), np.float32), 22050)
    with pytest.raises(FolderBusy) as caught:
        train_model(NAME, data, tmp_path, TrainOptions(epochs=1, verbose=0))
    lock = tmp_path / f".{NAME}.lock"
    assert str(caught.value) == (
        f"{tmp_path / NAME}: in use by another training run (pid {live_pid}, "
        f"lock file {lock}; remove that file if no such run is going)"
    )
    assert not (tmp_path / NAME / "checkpoint").exists()


def make_sources(folder, count=3):
    import soundfile as sf

    folder.mkdir(parents=True)
    for i in range(count):
        sf.write(folder / f"kick_{i}.wav", kick(seed=i, seconds=0.1), 44100)
    return folder


def test_a_second_preprocess_run_into_one_folder_refuses_with_one_line(tmp_path, live_pid, capsys):
    sources = make_sources(tmp_path / "kit")
    out = tmp_path / "data"
    write_lock(out / ".lock", live_pid)
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"app.py preprocess: {out}: in use by another preprocess run (pid {live_pid}, "
        f"lock file {out / '.lock'}; remove that file if no such run is going)"
    )
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path, capsys):
    sources = make_sources(tmp_path / "kit")
    out = tmp_path / "data"
    dead = subprocess.Popen(["true"])
    dead.wait()
    write_lock(out / ".lock", dead.pid)
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 0
    assert len(list(out.glob("*.wav"))) == 3 and not (out / ".lock").exists()
