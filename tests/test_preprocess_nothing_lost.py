"""Preprocess: a dataset is complete or it is not there, whatever stops a run, and
the user's files survive every option and every damaged file.

Each test drives the real command (``python app.py preprocess ...``, in a process of its own
where it is killed, interrupted or runs without root's permission override) and checks its
exit status, its one line, and the files: the sources and the user's own files byte for byte,
and the dataset as exactly the old one, or exactly the one a clean run makes.
"""

import ctypes
import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from disks import tmpfs

from drums import hat, kick, snare

ROOT = Path(__file__).resolve().parents[1]
NOTES = b"the user's own notes, kept beside the dataset"

#: The file-system steps a run is stopped at: each one is counted, in every module that uses it.
STEPS = (
    ("os", "replace"),
    ("os", "rename"),
    ("os", "link"),
    ("os", "unlink"),
    ("os", "fsync"),
    ("os", "mkdir"),
    ("os", "chmod"),
    ("shutil", "rmtree"),
    ("safeio.folders", "_exchange"),
)


def _fill_the_disk_at(mode):
    """In the stopped run's child: "full-at-manifest" and "full-at-cache" make that write fail
    as a full disk does."""
    if mode == "full-at-manifest":
        import preprocessing.manifest as manifest
        from safeio import WriteFailed

        real_write = manifest.atomic_write_text

        def full_at_the_manifest(path, text):
            if os.path.basename(path) == "manifest.csv":
                raise WriteFailed(errno.ENOSPC, f"{path}: cannot write (No space left on device)")
            return real_write(path, text)

        manifest.atomic_write_text = full_at_the_manifest
    if mode == "full-at-cache":
        import preprocessing.dataset as dataset
        from safeio import WriteFailed

        real_atomic_write = dataset.atomic_write

        def full_at_the_cache(path, write, **kwargs):
            if os.path.basename(path).startswith("cache-"):
                raise WriteFailed(errno.ENOSPC, f"{path}: cannot write (No space left on device)")
            return real_atomic_write(path, write, **kwargs)

        dataset.atomic_write = full_at_the_cache


def stopped_run(argv, mode="none", at=0):
    """``app.main(argv)`` in a forked process that stops itself at file-system step ``at``.

    ``mode`` "kill" sends it SIGKILL there (kill -9), "int" SIGINT (Ctrl+C); "full-at-manifest"
    and "full-at-cache" make the manifest's or the array cache's write fail as a full disk does. A fork starts in milliseconds with
    everything imported, so a run can be stopped at every one of its steps.

    Returns
    -------
    (status, stderr, steps) : the exit status (-9 when killed), what it printed on stderr,
    and how many steps it took (None when killed).
    """
    import importlib

    import app

    for module in ("commands.preprocess", "preprocessing.pipeline", "preprocessing.workers", "preprocessing.dataset", "tqdm"):
        importlib.import_module(module)  # imported here once, not in every child
    argv = [str(a) for a in argv]
    report = tempfile.TemporaryFile()
    errors = tempfile.TemporaryFile(mode="w+")
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 99
        try:
            steps = [0]

            def hooked(function):
                def step(*args, **kwargs):
                    steps[0] += 1
                    if steps[0] == at:
                        os.kill(os.getpid(), signal.SIGKILL if mode == "kill" else signal.SIGINT)
                    return function(*args, **kwargs)

                return step

            for module, name in STEPS:
                module = importlib.import_module(module)
                # A killed process's writes stay in the page cache, so a kill never depends on an
                # fsync: it is counted as a step but not waited for (a run takes 30 ms, not 200).
                function = (lambda fd: None) if name == "fsync" else getattr(module, name)
                setattr(module, name, hooked(function))
            if mode == "kill-at-first-result":  # --jobs N: the main process dies, its workers work on
                import preprocessing.workers as workers

                real_start = workers._start_worker

                def logged_start(parent):
                    with open(os.environ["WORKERS_FILE"], "a") as handle:
                        handle.write(f"{os.getpid()}\n")
                    return real_start(parent)

                workers._start_worker = logged_start
                workers._checked = lambda result: os.kill(os.getpid(), signal.SIGKILL)
            _fill_the_disk_at(mode)
            sys.stdout, sys.stderr = open(os.devnull, "w"), errors
            status = app.main(argv)
            report.write(str(steps[0]).encode())
        except BaseException as error:  # noqa: BLE001 -- a bug: its traceback is the test's failure message
            import traceback

            traceback.print_exception(error, file=errors)
        finally:
            errors.flush()
            report.flush()
            os._exit(status)
    _, code = os.waitpid(pid, 0)
    report.seek(0)
    errors.seek(0)
    steps = report.read().decode()
    status = os.waitstatus_to_exitcode(code)
    return status, errors.read(), int(steps) if steps else None


def run_app(*args, preexec_fn=None):
    """``python app.py ARGS`` as the user runs it: (status, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        preexec_fn=preexec_fn,
    )
    return done.returncode, done.stdout, done.stderr


def one_line(stderr):
    text = stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, stderr
    return text


def files(folder):
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def dataset(folder):
    """The dataset's own files, without what a killed run leaves that the next one removes:
    the lock, its temporaries, and the marker of a swap it had got past."""
    return {name: data for name, data in files(folder).items() if name != ".lock" and not name.startswith(("..lock.", ".complete-"))}


def beside(folder):
    """What a run put next to the folder (staging folders): nothing once a run is over."""
    return sorted(p.name for p in Path(folder).parent.iterdir() if p.name.startswith(f".{Path(folder).name}."))


@pytest.fixture
def sources(tmp_path):
    """Two small kits (so there is a held-out kit), four one-shots."""
    root = tmp_path / "src"
    for kit, makers in (("Kit A", (kick, snare)), ("Kit B", (hat, kick))):
        (root / kit).mkdir(parents=True)
        for i, make in enumerate(makers):
            sf.write(root / kit / f"{make.__name__}_{i}.wav", make(seed=i, seconds=0.1), 44100)
    return root


def preprocess(sources, out, length, *extra):
    return run_app("preprocess", sources, "-o", out, "--length", length, "--jobs", 1, *extra)


@pytest.fixture
def references(sources, tmp_path):
    """What clean runs make: the dataset at length 1024 (A) and at 2048 (B)."""
    made = {}
    for length in (1024, 2048):
        folder = tmp_path / f"clean-{length}"
        assert preprocess(sources, folder, length)[0] == 0
        made[length] = files(folder)
    return made


def _content(name, data):
    """What a file holds: a WAV's samples and rate (libsndfile stamps the time into its PEAK
    chunk), the cache's array, any other file's bytes."""
    if name.endswith(".wav"):
        samples, rate = sf.read(io.BytesIO(data), dtype="float32")
        return samples.tobytes(), rate
    if name.startswith("cache-"):
        return np.load(io.BytesIO(data), allow_pickle=False).tobytes()
    return data


def same_dataset(found, reference):
    """The same files with the same contents; the cache's name hashes the WAVs' times, so it may differ."""

    def named(files):
        return {("cache.npy" if n.startswith("cache-") else n): _content(n, d) for n, d in files.items()}

    return named(found) == named(reference)


def check_rerun_is_clean(sources, out, length, reference, user_files=None):
    """The next run makes exactly what a clean run makes, and says in at most one line what it cleaned."""
    status, err, _ = stopped_run(["preprocess", sources, "-o", out, "--length", length, "--jobs", 1])
    assert status == 0, err
    assert not err.strip() or (err.startswith("note: ") and "\n" not in err.strip()), err
    found, wanted = dataset(out), {**reference, **(user_files or {})}
    assert same_dataset(found, wanted), (sorted(found), sorted(wanted))
    assert not (out / ".lock").exists() and beside(out) == []
    return err.strip()


# ----------------------------------------------------------------------------- 1. --preview


def test_preview_never_replaces_a_file_in_a_source_folder_even_with_force(sources, tmp_path):
    before = files(sources)
    target = sources / "Kit A" / "kick_0.wav"
    status, out, err = preprocess(sources, tmp_path / "data", 1024, "--preview", target, "--force")
    assert status == 1 and out == ""
    assert one_line(err) == (
        f"app.py preprocess: {target}: is an input of this command; it is never replaced (pick another --preview)"
    )
    assert files(sources) == before and not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "name", [".lock", "manifest.csv", "settings.json", "Kit_A__kick_0.wav", "my-notes.txt", "cache", "./sub/../.lock"]
)
def test_preview_never_replaces_a_file_of_the_dataset_folder_even_with_force(name, sources, tmp_path):
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    (data / "my-notes.txt").write_bytes(NOTES)
    (data / "sub").mkdir()
    if name == "cache":
        name = next(p.name for p in data.glob("cache-*.npy"))
    before = files(data)
    status, _, err = preprocess(sources, data, 1024, "--preview", f"{data}/{name}", "--force")
    assert status == 1
    assert one_line(err) == (
        f"app.py preprocess: {data}/{name}: is a file of the dataset folder; it is never replaced (pick another --preview)"
    )
    assert files(data) == before  # no .lock made of a PNG either


def test_preview_through_a_link_to_the_dataset_folder_is_caught(sources, tmp_path):
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    (tmp_path / "link").symlink_to(data)
    before = files(data)
    status, _, err = preprocess(sources, data, 1024, "--preview", tmp_path / "link" / "settings.json", "--force")
    assert status == 1 and "is a file of the dataset folder" in one_line(err)
    assert files(data) == before


# ----------------------------------------------------------------------------- 2. kill -9, Ctrl+C


@pytest.mark.slow
def test_kill_9_at_any_step_of_a_first_run_leaves_no_dataset_and_the_next_run_is_clean(sources, references, tmp_path):
    out = tmp_path / "data"
    args = ("preprocess", sources, "-o", out, "--length", 1024, "--jobs", 1)
    _, _, steps = stopped_run(args)
    assert steps and steps > 20
    for at in range(1, steps + 1):
        shutil.rmtree(out)
        status, err, _ = stopped_run(args, "kill", at)
        assert status == -signal.SIGKILL, (at, err)
        left = dataset(out) if out.exists() else {}
        # Never WAVs without their manifest (the old code's orphans): none of it, or all of it.
        assert left == {} or same_dataset(left, references[1024]), (at, sorted(left))
        anything_left = bool(out.exists() and os.listdir(out)) or bool(beside(out))
        note = check_rerun_is_clean(sources, out, 1024, references[1024])
        assert bool(note) == anything_left, (at, note)


@pytest.mark.slow
def test_kill_9_of_a_rerun_with_other_settings_keeps_the_old_dataset_or_the_new_one(sources, references, tmp_path):
    out = tmp_path / "data"
    args = ("preprocess", sources, "-o", out, "--length", 2048, "--jobs", 1)
    old = tmp_path / "clean-1024"  # dataset A, copied in (times kept) before each run
    shutil.copytree(old, out, copy_function=shutil.copy2)
    (out / "my-notes.txt").write_bytes(NOTES)
    _, _, steps = stopped_run(args)  # the steps of a re-run with other settings
    assert steps and steps > 20
    notes = {"my-notes.txt": NOTES}
    said = []
    for at in range(1, steps + 1):
        shutil.rmtree(out)
        shutil.copytree(old, out, copy_function=shutil.copy2)
        (out / "my-notes.txt").write_bytes(NOTES)
        status, err, _ = stopped_run(args, "kill", at)
        assert status == -signal.SIGKILL, (at, err)
        left = dataset(out)
        left.pop("my-notes.txt", None)  # mid-swap it waits in the marked staging folder
        assert same_dataset(left, references[1024]) or same_dataset(left, references[2048]), (at, sorted(left))
        assert (out / "my-notes.txt").is_file() or any((out.parent / staged / "my-notes.txt").is_file() for staged in beside(out)), at
        said.append(check_rerun_is_clean(sources, out, 2048, references[2048], notes))
    assert any("removed a stale lock" in line for line in said)
    assert any("removed an unfinished save" in line for line in said)


@pytest.mark.slow
def test_ctrl_c_of_a_rerun_with_other_settings_keeps_the_old_dataset(sources, references, tmp_path):
    out = tmp_path / "data"
    args = ("preprocess", sources, "-o", out, "--length", 2048, "--jobs", 1)
    old = tmp_path / "clean-1024"  # dataset A, copied in (times kept) before each run
    shutil.copytree(old, out, copy_function=shutil.copy2)
    (out / "my-notes.txt").write_bytes(NOTES)
    _, _, steps = stopped_run(args)  # the steps of a re-run with other settings
    notes = {"my-notes.txt": NOTES}
    for at in range(1, steps + 1):
        shutil.rmtree(out)
        shutil.copytree(old, out, copy_function=shutil.copy2)
        (out / "my-notes.txt").write_bytes(NOTES)
        status, err, _ = stopped_run(args, "int", at)
        if status == 0:  # the interrupt came after the work (the lock's release): the new dataset
            assert same_dataset(dataset(out), {**references[2048], **notes}), at
        else:
            assert status == 130 and one_line(err) == "app.py preprocess: interrupted", (at, err)
            assert same_dataset(dataset(out), {**references[1024], **notes}) or same_dataset(
                dataset(out), {**references[2048], **notes}
            ), (at, sorted(dataset(out)))
            assert beside(out) == [], at  # an interrupted run takes its staging folder with it
        check_rerun_is_clean(sources, out, 2048, references[2048], notes)


def _gone(pid):
    """True once ``pid`` has ended (a zombie that no one has reaped yet counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_kill_9_of_a_parallel_run_takes_its_workers_with_it(sources, references, tmp_path, monkeypatch):
    for i in range(12):  # enough files that the workers have more to do when the main process dies
        sf.write(sources / "Kit A" / f"snare_{10 + i}.wav", snare(seed=10 + i, seconds=0.1), 44100)
    workers = tmp_path / "workers"
    monkeypatch.setenv("WORKERS_FILE", str(workers))
    out = tmp_path / "data"
    status, err, _ = stopped_run(["preprocess", sources, "-o", out, "--length", 1024, "--jobs", 2], "kill-at-first-result")
    assert status == -signal.SIGKILL, err
    pids = [int(line) for line in workers.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 30  # a wait for the kernel, not a measure of speed
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    outlived = [pid for pid in pids if not _gone(pid)]
    for pid in outlived:  # this test's own: they would wait for work, holding pytest's pipes, for good
        os.kill(pid, signal.SIGKILL)
    assert not outlived, "a worker outlived the killed run"
    assert dataset(out) == {}
    status, out_text, err = run_app("preprocess", sources, "-o", out, "--length", 1024, "--jobs", 2)
    assert status == 0 and "16 of 16 audio files ready" in out_text and err.startswith("note: "), err
    assert sorted(dataset(out)) == sorted(p.name for p in out.iterdir()) and beside(out) == []


# ----------------------------------------------------------------------------- 2. full disks


def _leave_free(disk, free):
    """Fill ``disk`` with a ballast file until about ``free`` bytes are left."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(ballast, max(0, ballast.stat().st_size - free))
    return ballast


@pytest.fixture
def disk(tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as point:
        yield point


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_disk_mid_way_keeps_the_old_dataset_and_the_next_run_is_clean(jobs, sources, references, disk):
    out = disk / "data"
    assert preprocess(sources, out, 1024)[0] == 0
    (out / "my-notes.txt").write_bytes(NOTES)
    before = files(out)
    ballast = _leave_free(disk, 20 * 1024)  # room for the lock and one 2048-sample WAV, not four
    status, stdout, err = run_app("preprocess", sources, "-o", out, "--length", 2048, "--jobs", jobs)
    assert status == 1 and stdout == ""
    assert one_line(err) == (
        f"app.py preprocess: {out}: cannot write the dataset (No space left on device); the dataset there is as it was"
    )
    assert files(out) == before and beside(out) == []
    ballast.unlink()
    assert check_rerun_is_clean(sources, out, 2048, references[2048], {"my-notes.txt": NOTES}) == ""


def test_a_full_disk_in_a_first_run_makes_no_dataset_and_no_orphans(sources, references, disk):
    out = disk / "data"
    ballast = _leave_free(disk, 20 * 1024)  # the lock and two 1024-sample WAVs fit, not four
    status, _, err = preprocess(sources, out, 1024)
    assert status == 1
    assert one_line(err) == (f"app.py preprocess: {out}: cannot write the dataset (No space left on device); no dataset was made")
    assert files(out) == {} and beside(out) == []
    ballast.unlink()
    check_rerun_is_clean(sources, out, 1024, references[1024])  # no hashed suffixes: the names are free


def test_a_mount_point_as_the_dataset_folder_is_refused_with_one_line(sources, disk):
    (disk / "mine.txt").write_bytes(NOTES)
    status, _, err = preprocess(sources, disk, 1024)
    assert status == 1
    assert one_line(err) == (
        f"app.py preprocess: {disk}: is a mount point; a dataset is replaced as a whole "
        f"folder, so give a folder inside it (for example {disk / 'dataset'})"
    )
    assert files(disk) == {"mine.txt": NOTES}


def test_a_full_disk_at_the_manifest_keeps_the_old_dataset(sources, references, tmp_path):
    out = tmp_path / "data"
    assert preprocess(sources, out, 1024)[0] == 0
    before = files(out)
    status, err, _ = stopped_run(["preprocess", sources, "-o", out, "--length", 2048, "--jobs", 1], "full-at-manifest")
    assert status == 1
    assert one_line(err) == (
        f"app.py preprocess: {out}: cannot write the dataset (No space left on device); the dataset there is as it was"
    )
    assert files(out) == before and beside(out) == []
    check_rerun_is_clean(sources, out, 2048, references[2048])


def test_a_file_of_the_user_that_appears_under_a_new_output_name_is_kept(sources, tmp_path, monkeypatch, capsys):
    import app
    import preprocessing.pipeline as pipeline

    out = tmp_path / "data"
    assert preprocess(sources, out, 1024)[0] == 0
    sf.write(sources / "Kit A" / "snare_2.wav", snare(seed=2, seconds=0.1), 44100)  # a new output: Kit_A__snare_2.wav
    real_run = pipeline.run_tasks
    appearing = {}

    def the_user_saves_meanwhile(tasks, jobs, progress):
        results = real_run(tasks, jobs, progress)
        for name, data in appearing.items():
            (out / name).write_bytes(data)
        return results

    monkeypatch.setattr(pipeline, "run_tasks", the_user_saves_meanwhile)
    before = files(out)
    appearing = {"Kit_A__snare_2.wav": NOTES}  # the name the new set needs: the swap would lose it
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"app.py preprocess: {out / 'Kit_A__snare_2.wav'}: a file of that name appeared in the dataset "
        "folder during the run; it is kept, and the dataset is as it was (run again)"
    )
    assert files(out) == {**before, **appearing} and beside(out) == []
    (out / "Kit_A__snare_2.wav").unlink()
    appearing = {"mine.txt": NOTES}  # any other name is the user's, carried into the new set
    assert app.main(["preprocess", str(sources), "-o", str(out), "--length", "1024", "--jobs", "1"]) == 0
    capsys.readouterr()
    assert files(out)["mine.txt"] == NOTES and "Kit_A__snare_2.wav" in files(out)


# ----------------------------------------------------------------------------- incremental re-runs


def test_a_rerun_links_the_unchanged_wavs_and_one_with_nothing_changed_touches_nothing(sources, tmp_path):
    out = tmp_path / "data"
    assert preprocess(sources, out, 1024)[0] == 0
    inodes = {p.name: p.stat().st_ino for p in out.iterdir()}
    folder = out.stat().st_ino
    status, stdout, err = preprocess(sources, out, 1024)
    assert status == 0 and err == "" and "(0 made, 4 up to date)" in stdout
    assert {p.name: p.stat().st_ino for p in out.iterdir()} == inodes and out.stat().st_ino == folder
    sf.write(sources / "Kit B" / "hat_0.wav", hat(seed=9, seconds=0.1), 44100)
    status, stdout, err = preprocess(sources, out, 1024)
    assert status == 0 and "(1 made, 3 up to date)" in stdout
    now = {p.name: p.stat().st_ino for p in out.iterdir()}
    changed = {name for name in inodes if now.get(name) != inodes[name]}
    # the same files, not copies: only the remade WAV, the manifest and the cache are new
    assert changed == {"Kit_B__hat_0.wav", "manifest.csv", "settings.json", next(n for n in inodes if n.startswith("cache-"))}


# ----------------------------------------------------------------------------- 3. bounds


@pytest.mark.parametrize(
    "option, value, line",
    [
        (
            "--length",
            "1000000000",
            "--length: must be a whole number of samples between 256 and 661500 (30 s at 22050 Hz) (got 1000000000)",
        ),
        ("--length", "-5", "--length: must be a whole number of samples between 256 and 661500 (30 s at 22050 Hz) (got -5)"),
        ("--length", "1e4", "--length: must be a whole number of samples between 256 and 661500 (30 s at 22050 Hz) (got 1e4)"),
        (
            "--attack",
            "inf",
            "--attack: must be a number of seconds from 0 to less than 0.743 (the 16384-sample output at 22050 Hz) (got inf)",
        ),
        (
            "--attack",
            "nan",
            "--attack: must be a number of seconds from 0 to less than 0.743 (the 16384-sample output at 22050 Hz) (got nan)",
        ),
        (
            "--attack",
            "-0.001",
            "--attack: must be a number of seconds from 0 to less than 0.743 (the 16384-sample output at 22050 Hz) (got -0.001)",
        ),
        (
            "--attack",
            "1e308",
            "--attack: must be a number of seconds from 0 to less than 0.743 (the 16384-sample output at 22050 Hz) (got 1e308)",
        ),
        ("--sr", "1", "--sr: must be a whole number of Hz between 8000 and 192000 (got 1)"),
        ("--sr", "2000000000", "--sr: must be a whole number of Hz between 8000 and 192000 (got 2000000000)"),
        ("--sr", "nan", "--sr: must be a whole number of Hz between 8000 and 192000 (got nan)"),
        ("--channel", "-1", "--channel: must be a whole number between 0 and 255 (got -1)"),
        ("--channel", "99999999999999999999", "--channel: must be a whole number between 0 and 255 (got 99999999999999999999)"),
        ("--jobs", "0", "--jobs: must be a whole number between 1 and 256 (got 0)"),
        ("--jobs", "100000", "--jobs: must be a whole number between 1 and 256 (got 100000)"),
        ("--normalize", "rms", "--normalize: must be peak (got rms)"),
    ],
)
def test_every_number_is_bounded_with_one_line_naming_the_range(option, value, line, sources, tmp_path):
    status, stdout, err = run_app("preprocess", sources, "-o", tmp_path / "data", f"{option}={value}")
    assert status == 2 and stdout == ""
    assert one_line(err) == f"app.py preprocess: {line}"
    assert not (tmp_path / "data").exists()


def test_the_edges_of_the_ranges_are_accepted(sources, tmp_path):
    status, _, err = run_app(
        "preprocess", sources, "-o", tmp_path / "data", "--sr", 8000, "--length", 256, "--attack", 0, "--channel", 0, "--jobs", 1
    )
    assert status == 0, err
    assert "--attack" in one_line(
        run_app("preprocess", sources, "-o", tmp_path / "x", "--sr", 8000, "--length", 256, "--attack", 0.032)[2]
    )  # sample 256 of 256: past the end


# ----------------------------------------------------------------------------- 4. unreadable files


def _without_root_override():
    """For a child run as root: drop the capabilities that let root read any file."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unreadable_runner():
    """How to run the CLI so that chmod 000 holds: as it is, or as root without its override."""
    if os.geteuid() != 0:
        return None
    probe = subprocess.run(
        [sys.executable, "-c", "import os; os.listdir('/proc/self/fd')"], preexec_fn=_without_root_override, capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip("cannot drop root's permission override here")
    return _without_root_override


def make_damaged(data, damage):
    """Damage one file of the dataset folder ``data`` as ``damage`` says."""
    if damage == "manifest unreadable":
        (data / "manifest.csv").chmod(0)
        return "manifest.csv: cannot be read (Permission denied)"
    if damage == "settings unreadable":
        (data / "settings.json").chmod(0)
        return "settings.json: cannot read (Permission denied)"
    if damage == "manifest a folder":
        (data / "manifest.csv").unlink()
        (data / "manifest.csv").mkdir()
        (data / "manifest.csv" / "mine.txt").write_bytes(NOTES)
        return "manifest.csv: is not a file"
    if damage == "settings nested":
        (data / "settings.json").write_text("[" * 200_000 + "]" * 200_000)
        return "settings.json: nested deeper than 64 levels"
    if damage == "settings huge":
        (data / "settings.json").write_bytes(b'{"length": 1024' + b" " * (17 * 1024 * 1024) + b"}")
        return "settings.json: too large"
    raise AssertionError(damage)


@pytest.mark.parametrize("damage", ["manifest unreadable", "settings unreadable", "manifest a folder"])
def test_a_rerun_on_an_unreadable_dataset_file_is_one_line_and_touches_nothing(damage, sources, tmp_path):
    preexec = _unreadable_runner() if "unreadable" in damage else None
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    reason = make_damaged(data, damage)
    names = sorted(p.name for p in data.iterdir())
    status, _, err = run_app("preprocess", sources, "-o", data, "--length", 1024, "--jobs", 1, preexec_fn=preexec)
    assert status == 1
    assert one_line(err).startswith(f"app.py preprocess: {data}/{reason}")
    assert sorted(p.name for p in data.iterdir()) == names and beside(data) == []
    if damage == "manifest a folder":
        assert (data / "manifest.csv" / "mine.txt").read_bytes() == NOTES


@pytest.mark.parametrize("damage", ["settings nested", "settings huge"])
def test_a_rerun_on_damaged_settings_says_why_and_makes_everything_again(damage, sources, references, tmp_path):
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    reason = make_damaged(data, damage)
    status, stdout, err = preprocess(sources, data, 1024)
    assert status == 0 and "(4 made, 0 up to date)" in stdout
    assert one_line(err).startswith(f"warning: {data}/{reason}") and err.strip().endswith("every sample is made again")
    assert same_dataset(files(data), references[1024])


@pytest.mark.parametrize(
    "damage", ["manifest unreadable", "settings unreadable", "manifest a folder", "settings nested", "settings huge"]
)
def test_loading_an_unreadable_or_damaged_dataset_is_one_line(damage, sources, tmp_path):
    """What train --data and evaluate --data meet: preprocessing.dataset.load_dataset's DatasetError."""
    preexec = _unreadable_runner() if "unreadable" in damage else None
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    reason = make_damaged(data, damage)
    script = (
        "import sys\nfrom preprocessing.dataset import DatasetError, load_dataset\ntry:\n"
        "    load_dataset(sys.argv[1])\nexcept DatasetError as error:\n    sys.exit(f'{error}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=preexec,
        timeout=120,
    )
    assert done.returncode == 1 and one_line(done.stderr).startswith(f"{data}: ")
    assert reason in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["manifest unreadable", "settings nested"])
def test_train_and_evaluate_on_an_unreadable_or_damaged_dataset_say_so_in_one_line(damage, sources, tmp_path):
    preexec = _unreadable_runner() if "unreadable" in damage else None
    data = tmp_path / "data"
    assert preprocess(sources, data, 1024)[0] == 0
    reason = make_damaged(data, damage)
    zoo = tmp_path / "zoo"
    for argv in (
        ["train", "ae_small_tanh", "--data", data, "--out", zoo, "--epochs", 1, "--verbose", 0],
        ["evaluate", "ae_small_tanh", "--data", data, "-o", tmp_path / "report"],
    ):
        status, _, err = run_app(*argv, preexec_fn=preexec)
        assert status == 1, (argv[0], err)
        line = one_line(err)
        assert line.startswith(f"app.py {argv[0]}: ") and reason in line, line
    assert not (tmp_path / "report").exists()


# ----------------------------------------------------------------------------- --preview is checked first
# It is written last, so what would stop it is said before any file is read or written.


def test_a_preview_named_like_the_dataset_folder_is_refused_before_the_dataset_is_made(sources, tmp_path):
    data = tmp_path / "data"
    status, out, err = preprocess(sources, data, 1024, "--preview", data)
    assert status == 2 and out == ""
    assert one_line(err) == f"app.py preprocess: --preview {data}: is the dataset folder (give a PNG file name)"
    assert not data.exists()


def test_a_preview_in_a_folder_that_does_not_exist_is_refused_before_the_dataset_is_made(sources, tmp_path):
    data = tmp_path / "data"
    status, out, err = preprocess(sources, data, 1024, "--preview", tmp_path / "nowhere" / "p.png")
    assert status == 1 and out == ""
    assert one_line(err) == (f"app.py preprocess: --preview {tmp_path}/nowhere/p.png: no such folder {tmp_path}/nowhere")
    assert not data.exists()


@pytest.fixture
def read_only_folder(tmp_path):
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as point:
        yield point


def test_a_preview_in_a_read_only_place_is_refused_before_the_dataset_is_made(sources, read_only_folder, tmp_path):
    data = tmp_path / "data"
    before = files(sources)
    status, out, err = preprocess(sources, data, 1024, "--preview", read_only_folder / "p.png")
    assert status == 1 and out == ""
    assert one_line(err) == (
        f"app.py preprocess: --preview {read_only_folder}/p.png: cannot write in "
        f"{read_only_folder} (read-only or not yours; pick another --preview)"
    )
    assert not data.exists() and files(sources) == before


def test_a_preview_inside_a_dataset_folder_not_made_yet_is_written(sources, tmp_path):
    data = tmp_path / "data"
    status, out, err = preprocess(sources, data, 1024, "--preview", data / "look.png")
    assert status == 0, err
    assert (data / "look.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_dataset_written_without_its_cache_on_a_full_disk_says_so_in_one_line(sources, tmp_path):
    from preprocessing.dataset import load_dataset

    out = tmp_path / "data"
    status, err, _ = stopped_run(["preprocess", sources, "-o", out, "--length", 1024, "--jobs", 1], "full-at-cache")
    assert status == 0, err
    assert one_line(err) == (
        f"warning: {out}: no room for the array cache (the disk is full); the dataset is "
        "complete and loads from its WAVs, more slowly, until a run can write it"
    )
    assert not list(out.glob("cache-*.npy"))
    assert load_dataset(out).audio.shape[0] == 4


# ----------------------------------------------------------------------------- issue 29: nothing stuck


@pytest.mark.slow
def test_a_run_killed_while_it_moves_a_source_folder_inside_out_is_finished_before_the_sources_are_checked(sources, tmp_path):
    """Item 4: a source folder inside OUT is one of the user's files that a swap moves into the
    new set. Killed then, the source sat in the hidden staging folder, and the same command
    refused ("src: no such file or folder") because it checked its sources before finishing."""
    out = tmp_path / "data"
    inside = out / "src"
    shutil.copytree(sources, inside)
    assert preprocess(inside, out, 1024)[0] == 0
    source_files = files(inside)
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine, copy_function=shutil.copy2)
    args = ("preprocess", inside, "-o", out, "--length", 2048, "--jobs", 1)
    _, _, steps = stopped_run(args)
    assert steps and steps > 20
    hidden = 0
    for at in range(1, steps + 1):
        for name in [out.name, *beside(out)]:
            shutil.rmtree(out.parent / name)
        shutil.copytree(pristine, out, copy_function=shutil.copy2)
        status, err, _ = stopped_run(args, "kill", at)
        assert status == -signal.SIGKILL, (at, err)
        if inside.exists():
            continue
        hidden += 1
        status, err, _ = stopped_run(args)  # the same command, again
        assert status == 0, (at, err)
        assert err.startswith("note: ") and "finished an interrupted save" in err and "Traceback" not in err, err
        assert files(inside) == source_files and beside(out) == []
    assert hidden, "no step of the swap had moved the source folder: the test no longer tests it"


def test_a_run_that_changes_nothing_succeeds_on_a_read_only_dataset(sources, disk):
    """A no-op re-run exited 1 because it could not write its .lock; it writes nothing."""
    out = disk / "data"
    assert preprocess(sources, out, 1024)[0] == 0
    before = files(out)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    status, stdout, err = preprocess(sources, out, 1024)
    assert (status, err) == (0, ""), err
    assert "4 of 4 audio files ready" in stdout and "(0 made, 4 up to date)" in stdout
    assert files(out) == before
    # a run that would change the dataset still says in one line why it cannot
    status, _, err = preprocess(sources, out, 2048)
    assert status == 1 and one_line(err) == f"app.py preprocess: {out / '.lock'}: cannot write (Read-only file system)"
    assert files(out) == before


def test_a_link_as_the_dataset_folder_is_written_through_and_stays_a_link(sources, references, tmp_path):
    """preprocess resolves OUT first (a link names the folder that holds the dataset), so the
    swap happens beside the real folder: the link stays, and the user's files stay in it."""
    real = tmp_path / "store" / "data"
    real.mkdir(parents=True)
    (real / "my-notes.txt").write_bytes(NOTES)
    link = tmp_path / "data"
    link.symlink_to(real)
    status, _, err = preprocess(sources, link, 1024)
    assert status == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert same_dataset(dataset(real), {**references[1024], "my-notes.txt": NOTES})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean-1024", "clean-2048", "data", "src", "store"]
    assert beside(real) == []


@pytest.mark.slow
def test_ctrl_c_in_the_swap_is_held_until_it_is_done_with_another_thread_alive():
    """The kernel gives a process's Ctrl-C to any thread that does not block it: with another
    thread alive (tqdm's monitor), blocking it in the main thread held nothing. Run as the
    program runs, in a process of its own (with one BLAS thread: the signal given to a sleeping
    BLAS thread came seconds late, so the old way failed only now and then)."""
    program = """
import os, signal, threading, time
from safeio import interrupts_held
stop = threading.Event()
threading.Thread(target=stop.wait, daemon=True).start()
reached = []
try:
    with interrupts_held():
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # the interrupt would come here, if not held
            sum(range(100))
        reached.append(1)
except KeyboardInterrupt:
    print("interrupted after the swap" if reached else "interrupted in the swap")
"""
    one_blas_thread = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=60, env=one_blas_thread)
    assert done.stdout.strip() == "interrupted after the swap", done.stdout + done.stderr
