"""Train and evaluate: what a killed or starved run leaves is finished or removed by
the next one and said in one line, a stale lock never blocks for good, every number is
bounded, and evaluating other data never writes into the zoo (which may be read-only).

Each test runs ``python app.py ...`` as a user does and checks its exit status, its lines and
the user's files byte for byte. A kill or a full disk at one exact moment of a save is made
by a small wrapper that installs one hook and then runs the same ``app.py``.
"""

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from disks import remount_read_only, tmpfs

from drums import preprocessed_kits

ROOT = Path(__file__).resolve().parents[1]
NAME = "ae_small_tanh"
OTHER = "ae_small_relu"
LENGTH = 4096
SR = 22050
DEAD_PID = 999999999  # above any pid_max: never a running process

# Runs app.py with one hook, chosen by HOOK: "kill-after-marker" kills the process (SIGKILL)
# when a save's completion marker is written and the swap has not begun; "full-at-swap"
# fills the disk holding FILL just before the save's swap starts.
WRAPPER = textwrap.dedent("""
    import errno, os, runpy, signal, sys
    hook = os.environ["HOOK"]
    if hook == "kill-after-marker":
        import safeio.folders

        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        safeio.folders._complete = killed
    elif hook == "full-at-swap":
        import models.shipping as shipping
        real_swap_in = shipping.swap_in

        def full_then_swap(*args, **kwargs):
            fd = os.open(os.environ["FILL"], os.O_CREAT | os.O_WRONLY, 0o644)
            try:
                while True:
                    os.write(fd, b"\\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC
            finally:
                os.close(fd)
            return real_swap_in(*args, **kwargs)

        shipping.swap_in = full_then_swap
    sys.argv = [os.path.join(os.environ["ROOT"], "app.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A HOME and XDG_CACHE_HOME of the tests' own, so the user's cache is never touched."""
    root = tmp_path_factory.mktemp("home")
    (root / "cache").mkdir()
    return root


def environment(home, **extra):
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        **extra,
    }


def run_app(home, *args, hook=None, **extra):
    """Run ``python app.py ARGS`` (through the hook wrapper when ``hook``): (status, out, err)."""
    if hook is None:
        command = [sys.executable, str(ROOT / "app.py")]
    else:
        wrapper = home / "wrapper.py"
        wrapper.write_text(WRAPPER)
        command = [sys.executable, str(wrapper)]
        extra = {**extra, "HOOK": hook, "ROOT": str(ROOT)}
    done = subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=environment(home, **extra), timeout=900
    )
    return done.returncode, done.stdout, done.stderr


def one_line(stderr):
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def tree(folder):
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def card_epochs(zoo, name=NAME):
    return json.loads((zoo / name / "card.json").read_text())["epochs"]


def make_dataset(root, count, seed, kits):
    return preprocessed_kits(root / "sources", root / "data", count, LENGTH, seed=seed, kit_of=lambda i: f"{kits}_{i % 3}", sr=SR)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("own"), 24, seed=31, kits="kit")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    """Data no model of the zoo was trained on."""
    return make_dataset(tmp_path_factory.mktemp("foreign"), 18, seed=77, kits="other")


@pytest.fixture(scope="module")
def base_zoo(dataset, home, tmp_path_factory):
    """Two tiny dense autoencoders trained for one epoch by the real train verb."""
    zoo = tmp_path_factory.mktemp("base") / "zoo"
    status, _, err = run_app(
        home, "train", NAME, OTHER, "--data", dataset, "--out", zoo, "--epochs", 1, "--batch-size", 8, "--verbose", 0
    )
    assert status == 0, err
    return zoo


@pytest.fixture
def zoo(base_zoo, tmp_path):
    import shutil

    copy = tmp_path / "zoo"
    shutil.copytree(base_zoo, copy)
    return copy


def train(home, zoo, dataset, epochs, *extra, hook=None, **env):
    return run_app(
        home,
        "train",
        NAME,
        "--data",
        dataset,
        "--out",
        zoo,
        "--epochs",
        epochs,
        "--batch-size",
        8,
        "--verbose",
        0,
        *extra,
        hook=hook,
        **env,
    )


def staging(zoo, name=NAME):
    return sorted(p.name for p in zoo.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".new"))


# ----------------------------------------------------------------------------- nothing more to train


@pytest.mark.slow
def test_a_save_killed_after_its_marker_is_finished_and_nothing_more_is_success(zoo, dataset, home):
    """Kill -9 past the marker; --resume --epochs SAME finishes the save, rc 0."""
    status, _, err = train(home, zoo, dataset, 2, "--resume", hook="kill-after-marker")
    assert status == -signal.SIGKILL, err[-2000:]
    assert len(staging(zoo)) == 1 and card_epochs(zoo) == 1  # the new set waits beside the old

    status, out, err = train(home, zoo, dataset, 2, "--resume")
    assert status == 0, err
    assert err.strip() == ""
    lines = out.splitlines()
    assert f"{zoo / NAME}: finished an interrupted save" in lines
    (result,) = [line for line in lines if line.startswith(f"{NAME}: ")]
    assert "nothing to train: the checkpoint has 2 epochs already" in result
    assert card_epochs(zoo) == 2 and staging(zoo) == []
    assert not (zoo / f".{NAME}.lock").exists()


@pytest.mark.slow
def test_resume_to_the_epochs_a_finished_run_has_changes_nothing_and_succeeds(zoo, dataset, home):
    before = tree(zoo)
    status, out, err = train(home, zoo, dataset, 1, "--resume")
    assert status == 0, err
    assert err.strip() == ""
    (result,) = [line for line in out.splitlines() if line.startswith(f"{NAME}: ")]
    assert result.startswith(f"{NAME}: 1 epochs, 0 s, loss ")
    assert result.endswith(f"(nothing to train: the checkpoint has 1 epochs already; ask for more with --epochs) -> {zoo / NAME}")
    assert tree(zoo) == before


# ----------------------------------------------------------------------------- a full disk at the swap


@pytest.fixture
def small_disk(tmp_path):
    with tmpfs(tmp_path / "disk", "16m") as point:
        yield point


@pytest.mark.slow
def test_a_full_disk_at_the_swap_keeps_the_old_model_and_leaves_no_set_to_swap_in(base_zoo, dataset, home, small_disk):
    """The old code left the staged set with an empty marker; the next run took it."""
    import shutil

    zoo = small_disk / "zoo"
    shutil.copytree(base_zoo / NAME, zoo / NAME)
    old = tree(zoo / NAME)
    filler = small_disk / "filler"
    status, out, err = train(home, zoo, dataset, 2, "--resume", hook="full-at-swap", FILL=str(filler))
    assert status == 1
    assert one_line(err) == (f"app.py train: {zoo / NAME}: cannot replace the folder (No space left on device)")
    assert staging(zoo) == []
    now = tree(zoo / NAME)
    shipped = {k: v for k, v in now.items() if not k.startswith("checkpoint/")}
    assert shipped == {k: v for k, v in old.items() if not k.startswith("checkpoint/")}
    assert card_epochs(zoo) == 1

    filler.unlink()
    status, out, err = train(home, zoo, dataset, 2, "--resume")
    assert status == 0, err
    assert "interrupted save" not in out  # nothing was waiting to be swapped in
    assert card_epochs(zoo) == 2 and staging(zoo) == []


# ----------------------------------------------------------------------------- leftovers


@pytest.mark.slow
def test_a_dead_runs_leftovers_are_removed_and_each_said_in_one_line(zoo, dataset, home):
    """The lock's temporary in the zoo folder, a marker and a temporary in the model."""
    from safeio import TEMPORARY_PATTERN

    lock_temporary = zoo / f"..{NAME}.lock.{DEAD_PID}.deadbeef.tmp"
    marker = zoo / NAME / f".complete-.{NAME}.{DEAD_PID}.deadbeef.new"
    card_temporary = zoo / NAME / f".card.json.{DEAD_PID}.0badf00d.tmp"
    assert TEMPORARY_PATTERN.match(lock_temporary.name) and TEMPORARY_PATTERN.match(card_temporary.name)
    lock_temporary.write_text(f"{DEAD_PID} 1\n")
    marker.write_bytes(b"decoder.keras\n# complete\n")
    card_temporary.write_bytes(b"half a card")
    status, out, err = train(home, zoo, dataset, 2, "--resume")
    assert status == 0, err
    lines = out.splitlines()
    assert (f"{zoo}: removed 1 leftover file of a run that is no longer running ({lock_temporary.name})") in lines
    assert f"{zoo / NAME}: removed a leftover marker of a finished save ({marker.name})" in lines
    assert (f"{zoo / NAME}: removed 1 leftover file of a run that is no longer running ({card_temporary.name})") in lines
    assert not lock_temporary.exists() and not marker.exists() and not card_temporary.exists()
    assert card_epochs(zoo) == 2
    assert sorted(p.name for p in zoo.iterdir()) == [OTHER, NAME]


# ----------------------------------------------------------------------------- stale and live locks


@pytest.fixture
def unrelated_process():
    sleeper = subprocess.Popen(["sleep", "300"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def start_ticks(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


@pytest.mark.slow
@pytest.mark.parametrize("form", ["pid and another start time", "pid only, older than the process"])
def test_a_lock_whose_pid_now_belongs_to_another_process_is_taken_over(form, zoo, dataset, home, unrelated_process):
    """The old code refused for good ("in use by another training run (pid N)")."""
    if not Path(f"/proc/{unrelated_process}/stat").exists():
        pytest.skip("no /proc: a lock is judged by its pid alone")
    lock = zoo / f".{NAME}.lock"
    if form.startswith("pid and"):
        lock.write_text(f"{unrelated_process} {start_ticks(unrelated_process) + 12345}\n")
    else:  # an older version's lock, written before this process started
        lock.write_text(f"{unrelated_process}\n")
        an_hour_ago = time.time() - 3600
        os.utime(lock, (an_hour_ago, an_hour_ago))
    status, out, err = train(home, zoo, dataset, 2, "--resume")
    assert status == 0, err
    assert card_epochs(zoo) == 2
    assert f"{lock}: removed a stale lock (pid {unrelated_process} is not that run)" in out.splitlines()
    assert not lock.exists()


LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from safeio import FolderLock
    lock = FolderLock(sys.argv[1], what="training run", beside=True)
    lock.acquire()
    print("held", flush=True)
    time.sleep(300)
""")


@pytest.mark.slow
def test_a_lock_held_by_a_live_training_run_refuses_naming_the_lock_file(zoo, dataset, home):
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(zoo / NAME)], stdout=subprocess.PIPE, text=True, env=environment(home), cwd=ROOT
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = tree(zoo)
        status, out, err = train(home, zoo, dataset, 2, "--resume")
        assert status == 1
        lock = zoo / f".{NAME}.lock"
        assert one_line(err) == (
            f"app.py train: {zoo / NAME}: in use by another training run (pid "
            f"{holder.pid}, lock file {lock}; remove that file if no such run "
            "is going)"
        )
        assert tree(zoo) == before
    finally:
        holder.kill()
        holder.wait()


# ----------------------------------------------------------------------------- bounds

TRAIN_BOUNDS = [
    (["--learning-rate", "-1"], "--learning-rate: must be between 1e-08 and 1 (got -1)"),
    (["--learning-rate", "nan"], "--learning-rate: must be between 1e-08 and 1 (got nan)"),
    (["--learning-rate", "inf"], "--learning-rate: must be between 1e-08 and 1 (got inf)"),
    (["--learning-rate", "0"], "--learning-rate: must be between 1e-08 and 1 (got 0)"),
    (["--patience", "-1"], "--patience: must be between 0 and 100000 (got -1)"),
    (["--min-delta", "nan"], "--min-delta: must be between 0 and 1000 (got nan)"),
    (["--min-delta", "-0.5"], "--min-delta: must be between 0 and 1000 (got -0.5)"),
    (["--min-delta", "1e300"], "--min-delta: must be between 0 and 1000 (got 1e+300)"),
    (["--epochs", "0"], "--epochs: must be between 1 and 100000 (got 0)"),
    (["--epochs", "1000000000000"], "--epochs: must be between 1 and 100000 (got 1000000000000)"),
    (["--batch-size", "-3"], "--batch-size: must be between 1 and 1024 (got -3)"),
    (["--batch-size", "100000"], "--batch-size: must be between 1 and 1024 (got 100000)"),
    (["--width", "0"], "--width: must be between 1 and 256 (got 0)"),
    (["--width", "99999"], "--width: must be between 1 and 256 (got 99999)"),
    (["--kl-ramp", "-1"], "--kl-ramp: must be between 0 and 100000000 (got -1)"),
    (["--seed", "-1"], "--seed: must be between 0 and 4294967295 (got -1)"),
    (["--seed", "4294967296"], "--seed: must be between 0 and 4294967295 (got 4294967296)"),
]


@pytest.mark.slow
def test_every_number_train_takes_is_bounded_with_one_line(home, tmp_path):
    """Item 3: --learning-rate -1 trained a diverging model and shipped it as completed."""
    data = tmp_path / "no-data"  # refused before the data is even looked at
    for extra, message in TRAIN_BOUNDS:
        status, out, err = run_app(home, "train", NAME, "--data", data, "--out", tmp_path / "zoo", *extra)
        assert (status, one_line(err)) == (2, f"app.py train: {message}"), extra
    assert not (tmp_path / "zoo").exists()


@pytest.mark.slow
def test_evaluate_grid_is_bounded_with_one_line(home, tmp_path):
    """Item 3: --grid 100000 ended in a memory traceback."""
    for grid in ("100000", "513", "1", "-4"):
        status, _, err = run_app(home, "evaluate", "--data", tmp_path, "--grid", grid, "-o", tmp_path / "report")
        assert (status, one_line(err)) == (2, f"app.py evaluate: --grid: must be between 2 and 512 (got {grid})")
    assert not (tmp_path / "report").exists()


# ----------------------------------------------------------------------------- evaluate and the zoo


def user_cache_files(home):
    folder = home / "cache" / "ml-sample-generator" / "metrics"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def evaluate(home, zoo, data, report, *extra, **env):
    return run_app(home, "evaluate", NAME, OTHER, "--data", data, "--models", zoo, "-o", report, "--grid", 6, *extra, **env)


@pytest.fixture
def own_home(tmp_path):
    """A fresh HOME with an empty cache for one test."""
    (tmp_path / "home" / "cache").mkdir(parents=True)
    return tmp_path / "home"


@pytest.mark.slow
def test_evaluating_other_data_leaves_the_zoo_as_it_is_and_caches_in_the_user_cache(zoo, foreign, own_home, tmp_path):
    """Item 4: the other data's entries went into trained/*/metrics.json."""
    before = tree(zoo)
    status, out, err = evaluate(own_home, zoo, foreign, tmp_path / "first")
    assert status == 0, err
    assert err.strip() == ""
    assert tree(zoo) == before
    cached = user_cache_files(own_home)
    assert sorted(p.name.split("-")[0] for p in cached) == [OTHER, NAME]
    # the cache is what the next run reads: a value no real run gives shows in its report
    for path in cached:
        content = json.loads(path.read_text())
        assert content["entry"]["training_data"] is False and content["entry"]["data_folder"] == str(foreign)
        content["entry"]["metrics"]["frechet"] = 12345.0
        path.write_text(json.dumps(content))
    status, _, err = evaluate(own_home, zoo, foreign, tmp_path / "second")
    assert status == 0, err
    assert (tmp_path / "second" / "report.md").read_text().count("12345") == 2
    assert tree(zoo) == before


@pytest.fixture
def read_only_zoo(base_zoo, tmp_path):
    """A copy of the zoo on a file system mounted read-only (root can write through chmod)."""
    import shutil

    with tmpfs(tmp_path / "ro", "32m") as point:
        shutil.copytree(base_zoo, point / "zoo")
        remount_read_only(point)
        yield point / "zoo"


@pytest.mark.slow
def test_a_read_only_zoo_is_evaluated_on_other_data_with_its_cache(read_only_zoo, foreign, own_home, tmp_path):
    before = tree(read_only_zoo)
    with pytest.raises(OSError) as caught:
        (read_only_zoo / "probe").write_text("x")
    assert caught.value.errno == errno.EROFS
    status, out, err = evaluate(own_home, read_only_zoo, foreign, tmp_path / "report")
    assert status == 0, err
    assert "not cached" not in err and err.strip() == ""
    assert len(user_cache_files(own_home)) == 2
    assert "| ae_small_tanh |" in (tmp_path / "report" / "report.md").read_text()
    assert tree(read_only_zoo) == before


@pytest.mark.slow
def test_a_hostile_metrics_file_makes_only_that_cache_unusable(zoo, foreign, own_home, tmp_path):
    """Item 4: a metrics.json nested 200,000 levels deep or 1.5 GB long (a sparse file here)."""
    deep = zoo / NAME / "metrics.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    large = zoo / OTHER / "metrics.json"
    with open(large, "wb") as handle:
        handle.truncate(1_500_000_000)
    status, out, err = evaluate(own_home, zoo, foreign, tmp_path / "report")
    assert status == 0, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert f"{NAME}: cached metrics not used ({deep}: nested deeper than 64 levels)" in lines
    assert (f"{OTHER}: cached metrics not used ({large}: too large (1,500,000,000 bytes; at most 16,777,216))") in lines
    report = (tmp_path / "report" / "report.md").read_text()
    assert f"| {NAME} |" in report and f"| {OTHER} |" in report
    assert large.stat().st_size == 1_500_000_000  # other data's cache never replaces the zoo's file


def test_the_user_cache_keeps_one_file_per_key_and_drops_those_of_replaced_networks(tmp_path, monkeypatch):
    from evaluation.cache import cache_key, load_cached_metrics, save_metrics, user_cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder, twin = tmp_path / "zoo" / NAME, tmp_path / "other-zoo" / NAME
    options = {"grid": 6}
    first, other_data = cache_key("net 1", "data A", options), cache_key("net 1", "data B", options)
    save_metrics(folder, {"metrics": {"frechet": 1.0}}, first, training_data=False)
    save_metrics(folder, {"metrics": {"frechet": 2.0}}, other_data, training_data=False)
    save_metrics(twin, {"metrics": {"frechet": 3.0}}, first, training_data=False)
    assert not folder.exists() and not twin.exists()  # nothing is written beside the model
    assert len(list(user_cache_folder().glob("*.json"))) == 3
    assert load_cached_metrics(folder, first)["metrics"] == {"frechet": 1.0}
    assert load_cached_metrics(twin, first)["metrics"] == {"frechet": 3.0}

    retrained = cache_key("net 2", "data A", options)
    assert load_cached_metrics(folder, retrained) is None
    save_metrics(folder, {"metrics": {"frechet": 4.0}}, retrained, training_data=False)
    assert load_cached_metrics(folder, first) is None and load_cached_metrics(folder, other_data) is None
    assert load_cached_metrics(folder, retrained)["metrics"] == {"frechet": 4.0}
    assert load_cached_metrics(twin, first)["metrics"] == {"frechet": 3.0}  # another folder's
    assert len(list(user_cache_folder().glob("*.json"))) == 2


# ----------------------------------------------------------------------------- issue 29: nothing stuck

MOUNT_LINE = "is a mount point; {what} is replaced as a whole folder, so give a folder inside it (nothing was changed)"
LINK_LINE = "is a link; {what} is replaced as a whole folder, so it must be the folder itself, not a link to it (nothing was changed)"


@pytest.fixture
def mounted(tmp_path):
    """``mount(point)``: a small tmpfs at ``point``, unmounted at the end."""
    with contextlib.ExitStack() as mounts:
        yield lambda point: mounts.enter_context(tmpfs(point, "16m"))


def hidden_beside(folder):
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.mark.slow
def test_a_model_folder_that_is_a_mount_point_is_refused_before_training_on_every_run(zoo, dataset, home, mounted):
    """Item 2: train failed at the swap after all the work, left a finished staging folder, and
    every later train ended in an OSError traceback from _carry_over."""
    import shutil

    saved = zoo.parent / "saved"
    shutil.move(zoo / NAME, saved)
    shutil.copytree(saved, mounted(zoo / NAME), dirs_exist_ok=True)
    (zoo / NAME / "notes.txt").write_bytes(b"my notes")
    before = tree(zoo)
    line = f"app.py train: {zoo / NAME}: " + MOUNT_LINE.format(what="a model folder")
    for _ in range(2):  # the next run says the same, and nothing is left to retry
        status, out, err = train(home, zoo, dataset, 2, "--resume")
        assert (status, one_line(err)) == (1, line)
        assert f"== {NAME}" not in out  # refused before the data was even read
        assert tree(zoo) == before and staging(zoo) == []


@pytest.mark.slow
def test_a_model_folder_that_is_a_link_is_refused_and_the_files_it_names_stay_there(zoo, dataset, home):
    """Item 3: train --resume on ZOO/NAME -> ../STORE/NAME moved notes.txt and checkpoint/ into a
    new plain folder and left the link under a hidden name ("removed an unfinished save" on
    every later run, which it could not)."""
    store = zoo.parent / "STORE"
    store.mkdir()
    (zoo / NAME).rename(store / NAME)
    (zoo / NAME).symlink_to(Path("..") / "STORE" / NAME, target_is_directory=True)
    (store / NAME / "notes.txt").write_bytes(b"my notes")
    stored, listed = tree(store), sorted(p.name for p in zoo.iterdir())
    line = f"app.py train: {zoo / NAME}: " + LINK_LINE.format(what="a model folder")
    for _ in range(2):
        status, _, err = train(home, zoo, dataset, 2, "--resume")
        assert (status, one_line(err)) == (1, line)
        assert tree(store) == stored and (zoo / NAME).is_symlink()
        assert sorted(p.name for p in zoo.iterdir()) == listed


# Moves the old folder's first entry into the new set, then fails the next move as a failing
# disk would (EIO): the swap cannot be done, after its marker, with a user's folder moved.
CARRY_FAILS = textwrap.dedent("""
    import errno, os, runpy, sys
    import safeio.folders
    real_rename, moved = os.rename, []

    def rename(source, destination, *args, **kwargs):
        if ".new" in os.fspath(destination) and ".new" not in os.fspath(source):
            if moved:
                raise OSError(errno.EIO, "Input/output error", os.fspath(source))
            moved.append(source)
        return real_rename(source, destination, *args, **kwargs)

    safeio.folders.os = type("os", (), {**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")},
                                        "rename": staticmethod(rename)})
    sys.argv = [os.path.join(os.environ["ROOT"], "app.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def run_carry_fails(home, *args):
    wrapper = home / "carry_fails.py"
    wrapper.write_text(CARRY_FAILS)
    done = subprocess.run(
        [sys.executable, str(wrapper), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(home, ROOT=str(ROOT)),
        timeout=900,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.slow
def test_a_swap_and_a_recovery_that_cannot_complete_put_the_files_back_and_say_so_once(zoo, dataset, home):
    """Item 2's mechanism: a recovery that failed was retried, and failed, on every later run."""
    (zoo / NAME / "notes.txt").write_bytes(b"my notes")
    status, _, err = train(home, zoo, dataset, 2, "--resume", hook="kill-after-marker")
    assert status == -signal.SIGKILL, err[-2000:]
    assert len(staging(zoo)) == 1 and staging(zoo)[0].startswith(f".{NAME}.train.")
    before = tree(zoo / NAME)

    args = ("train", NAME, "--data", dataset, "--out", zoo, "--epochs", 2, "--batch-size", 8, "--verbose", 0, "--resume")
    status, out, err = run_carry_fails(home, *args)
    assert status == 1
    assert (
        f"{zoo / NAME}: gave up an interrupted save that cannot be finished here (Input/output error); "
        "the folder is as it was before it"
    ) in out.splitlines()
    # this run's own save meets the same disk: its files go back too, and nothing waits
    assert one_line(err) == f"app.py train: {zoo / NAME}: cannot replace the folder (Input/output error)"
    assert staging(zoo) == []
    now = tree(zoo / NAME)
    assert {k: v for k, v in now.items() if not k.startswith("checkpoint/")} == {
        k: v for k, v in before.items() if not k.startswith("checkpoint/")
    }
    assert now["notes.txt"] == b"my notes" and any(k.startswith("checkpoint/") for k in now)

    status, out, err = train(home, zoo, dataset, 2, "--resume")  # the disk is well again
    assert status == 0, err
    assert "interrupted save" not in out and err.strip() == ""
    assert card_epochs(zoo) == 2 and (zoo / NAME / "notes.txt").read_bytes() == b"my notes"


@pytest.mark.slow
@pytest.mark.parametrize("form", ["mount point", "link"])
def test_a_report_folder_that_cannot_be_swapped_is_refused_before_evaluating(form, zoo, dataset, home, mounted, tmp_path):
    """Items 2 and 3: evaluate -o MOUNTPOINT failed after all the work, then printed [Errno 16]
    on every run; evaluate -o LINK moved the files out of the folder the link names."""
    report = tmp_path / "report"
    if form == "mount point":
        mounted(report)
        (report / "notes.txt").write_bytes(b"my notes")
        watched, line = report, MOUNT_LINE.format(what="a report folder")
    else:
        watched = tmp_path / "store"
        watched.mkdir()
        (watched / "notes.txt").write_bytes(b"my notes")
        report.symlink_to(watched, target_is_directory=True)
        line = LINK_LINE.format(what="a report folder")
    before = tree(watched)
    for _ in range(2):
        status, out, err = run_app(home, "evaluate", NAME, "--data", dataset, "--models", zoo, "-o", report, "--grid", 6)
        assert (status, out, one_line(err)) == (1, "", f"app.py evaluate: {report}: {line}")
        assert tree(watched) == before and hidden_beside(report) == []


@pytest.mark.slow
def test_evaluate_leaves_a_staging_folder_that_kit_left_to_kit(zoo, dataset, home, tmp_path):
    """Every verb named its staging folders alike, so evaluate -o K "finished" the kit that a
    killed kit -o K/ had staged, and carried it into its report."""
    kit_folder = tmp_path / "K"
    make_kit = ("kit", NAME, "--at", "0,0", "--seed", 1, "-o", f"{kit_folder}/", "--models", zoo)
    status, _, err = run_app(home, *make_kit, hook="kill-after-marker")
    assert status == -signal.SIGKILL, err
    (staged,) = [tmp_path / name for name in hidden_beside(kit_folder) if name.endswith(".new")]
    assert staged.name.startswith(".K.kit.")
    staged_files = tree(staged)

    status, out, err = run_app(home, "evaluate", NAME, "--data", dataset, "--models", zoo, "-o", kit_folder, "--grid", 6)
    assert status == 0, err
    assert "interrupted" not in out + err
    assert tree(staged) == staged_files and not (kit_folder / "kit.json").exists()

    status, _, err = run_app(home, *make_kit, "--force")  # kit finishes its own, then writes anew
    assert status == 0, err
    assert f"{kit_folder}: finished an interrupted save" in err.splitlines()
    assert not staged.exists() and (kit_folder / "kit.json").is_file() and (kit_folder / "report.md").is_file()
