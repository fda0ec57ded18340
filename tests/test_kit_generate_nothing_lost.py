"""Nothing lost by `kit`, `generate` and `play`, each driven as a real ``python app.py ...`` process
on the shipped zoo: a kit folder replaced with --force keeps the user's files; kill -9 at each
step of its swap (a real SIGKILL at the system call, by strace) loses nothing and the next run
finishes it; what a killed export or generate left is removed by the next run, in one line;
every number those verbs take is bounded (exit 2, one line naming the range); ``kit -o .`` is a
usage error; a kit's name keeps any language's letters, and Hydrogen (h2cli) takes it."""

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import hydrogen
import pytest
import soundfile
from disks import tmpfs

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
MODEL = "ae_small_tanh"  # a dense model: decoded by the NumPy engine in milliseconds
needs_zoo = pytest.mark.skipif(not (ZOO / MODEL / "card.json").is_file(), reason="the shipped zoo is not here")
needs_h2cli = pytest.mark.skipif(hydrogen.H2CLI is None, reason="h2cli (Debian package hydrogen) is not installed")
pytestmark = needs_zoo


def _environment():
    # No .pyc writes: the kill points below count file-system calls, and imports must not add any.
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def run_app(*args, cwd, prefix=()):
    """Run ``python app.py ARGS`` as the user does; the CompletedProcess."""
    return subprocess.run(
        [*prefix, sys.executable, str(ROOT / "app.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_environment(),
        timeout=300,
    )


def kit(*args, cwd):
    return run_app("kit", MODEL, *args, "--models", ZOO, cwd=cwd)


def lines(text):
    found = text.strip().splitlines()
    assert all("Traceback" not in line for line in found), text
    return found


def one_line(text):
    found = lines(text)
    assert len(found) == 1, text
    return found[0]


def tree(folder):
    """Every file under ``folder`` (hidden ones too), relative name -> bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def dead_pid():
    """The pid of a process that has exited (a killed run's, for a leftover's name)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


NOTES = "my-notes.txt"
NOTES_BYTES = "groove ideas for the kick, take 3\n".encode()


@pytest.fixture
def old_kit(tmp_path):
    """``tmp_path/K``: a two-instrument kit folder (seed 1) holding the user's notes."""
    done = kit("--at", "0,0", "--at", "1,1", "--seed", "1", "-o", "K/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (tmp_path / "K" / NOTES).write_bytes(NOTES_BYTES)
    return tmp_path / "K"


NEW_KIT = ("--at", "0.5,0.5", "--seed", "2", "-o", "K/")


def reference_kit(tmp_path):
    """The files ``kit NEW_KIT`` writes, made in a folder of its own."""
    other = tmp_path / "reference"
    other.mkdir()
    assert kit(*NEW_KIT, cwd=other).returncode == 0
    return tree(other / "K")


def without_notes(files):
    return {name: data for name, data in files.items() if name != NOTES}


# ----------------------------------------------------------------------------- kit -o FOLDER/ --force


def test_force_keeps_the_files_the_user_put_in_the_kit_folder(old_kit, tmp_path):
    (old_kit / "takes").mkdir()
    (old_kit / "takes" / "take1.txt").write_bytes(b"mine too")
    old_wavs = sorted(p.name for p in old_kit.glob("*.wav"))
    done = kit(*NEW_KIT, "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stdout).startswith("K: kit folder 'K', 1 instruments, 1 samples (seed 2")
    assert done.stderr == ""
    assert (old_kit / NOTES).read_bytes() == NOTES_BYTES
    assert (old_kit / "takes" / "take1.txt").read_bytes() == b"mine too"
    wavs = sorted(p.name for p in old_kit.glob("*.wav"))
    assert wavs == ["01_snare_ae_small_tanh_x+0.50_y+0.50.wav"] and not set(wavs) & set(old_wavs)
    assert without_notes(tree(old_kit)) == {**reference_kit(tmp_path), "takes/take1.txt": b"mine too"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K", "reference"]  # nothing hidden left


def _strace_prefix():
    """strace arguments that run a command and SIGKILL it at a system call; None where strace
    is missing or cannot inject a signal (no ptrace in this container)."""
    if shutil.which("strace") is None:
        return None
    prefix = ["strace", "-f", "-qq", "-o", os.devnull]
    probe = subprocess.run(
        [*prefix, "-e", "trace=uname", "-e", "inject=uname:signal=SIGKILL", sys.executable, "-c", "import os; os.uname()"],
        capture_output=True,
    )
    return prefix if probe.returncode in (-9, 137) else None


STRACE = _strace_prefix()
needs_strace = pytest.mark.skipif(STRACE is None, reason="strace cannot trace here (not installed or no ptrace)")


def killed_at(syscall, when, *args, cwd, path=None):
    """Run ``app.py ARGS`` and kill -9 it at the ``when``-th call of ``syscall`` (on ``path``
    only, if given), as a crash would."""
    prefix = [
        *STRACE,
        *(["-P", str(path)] if path else []),
        "-e",
        f"trace={syscall}",
        "-e",
        f"inject={syscall}:signal=SIGKILL:when={when}",
    ]
    return run_app(*args, cwd=cwd, prefix=prefix)


@needs_strace
@pytest.mark.parametrize(
    "syscall, when, step",
    [
        ("rename", 1, "writing the swap's marker"),
        ("rename", 2, "moving the user's file into the new set"),
        ("renameat2", 1, "exchanging the old and the new folder"),
        ("unlink", 4, "removing the marker after the exchange"),
        ("unlinkat", 1, "removing the old kit"),
    ],
)
def test_kill_9_at_each_step_of_the_swap_loses_nothing_and_the_next_run_finishes(old_kit, tmp_path, syscall, when, step):
    old = without_notes(tree(old_kit))
    new = reference_kit(tmp_path)
    killed = killed_at(syscall, when, "kit", MODEL, *NEW_KIT, "--force", "--models", ZOO, cwd=tmp_path)
    assert killed.returncode in (-9, 137), f"not killed while {step}: {killed.returncode} {killed.stderr}"
    # The next run (without --force) finishes or undoes what the killed one left, says so, and
    # then refuses to replace the kit, as it would any kit.
    after = kit(*NEW_KIT, cwd=tmp_path)
    assert after.returncode == 1
    said = lines(after.stderr)
    assert said[-1] == "app.py kit: K: already exists (pass --force to replace it)"
    assert len(said) >= 2 and all(line.startswith(("K: ", ".K.lock: ", ".: ")) for line in said[:-1]), said
    assert (old_kit / NOTES).read_bytes() == NOTES_BYTES
    assert without_notes(tree(old_kit)) in (old, new)  # one kit whole, never a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K", "reference"]  # nothing hidden left
    again = kit(*NEW_KIT, "--force", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""  # nothing left to clear
    assert without_notes(tree(old_kit)) == new and (old_kit / NOTES).read_bytes() == NOTES_BYTES


def test_the_two_hidden_folders_an_earlier_version_left_are_put_back(old_kit, tmp_path):
    """An earlier version, killed between its two renames, left K missing and the old kit (with
    the user's notes) and the new one under hidden ``.K.PID.RAND.tmp`` names."""
    new = reference_kit(tmp_path)
    pid = dead_pid()
    aside, filled = tmp_path / f".K.{pid}.0badc0de.tmp", tmp_path / f".K.{pid}.0ddba11e.tmp"
    old_kit.rename(aside)
    (tmp_path / "reference" / "K").rename(filled)
    later = (aside / "kit.json").stat().st_mtime + 5
    os.utime(filled / "kit.json", (later, later))
    done = kit(*NEW_KIT, cwd=tmp_path)
    assert done.returncode == 1
    assert lines(done.stderr) == [
        f"K: an export was killed before it finished; put the newer kit back in place (from {filled.name}); "
        f"kept your file {NOTES} from the kit it replaced; removed 1 leftover kit folder ({aside.name})",
        "app.py kit: K: already exists (pass --force to replace it)",
    ]
    assert (old_kit / NOTES).read_bytes() == NOTES_BYTES
    assert without_notes(tree(old_kit)) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K", "reference"]


def test_a_kit_an_earlier_version_was_filling_when_killed_is_removed(old_kit, tmp_path):
    before = tree(old_kit)
    filling = tmp_path / f".K.{dead_pid()}.5eed5eed.tmp"
    filling.mkdir()
    (filling / "01_snare_ae_small_tanh_x+0.50_y+0.50.wav").write_bytes(b"RIFF" + bytes(1000))
    done = kit(*NEW_KIT, cwd=tmp_path)
    assert done.returncode == 1
    assert lines(done.stderr)[0] == (f"K: an export was killed before it finished; removed 1 leftover kit folder ({filling.name})")
    assert tree(old_kit) == before and sorted(p.name for p in tmp_path.iterdir()) == ["K"]


# ----------------------------------------------------------------------------- leftovers of a killed run


def leftover(folder, name, size, pid):
    path = Path(folder) / f".{name}.{pid}.{os.urandom(4).hex()}.tmp"
    path.write_bytes(os.urandom(size))
    return path


def test_a_killed_kit_export_leaves_an_archive_temporary_that_the_next_run_removes(tmp_path):
    dead = leftover(tmp_path, "Old Kit.h2drumkit", 3_000_000, dead_pid())
    busy = leftover(tmp_path, "Busy.h2drumkit", 1000, os.getpid())  # a run writing right now
    other = leftover(tmp_path, "notes.txt", 1000, dead_pid())  # not a kit export's
    done = kit("--at", "0,0", "-o", tmp_path / "New.h2drumkit", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stderr) == (f"{tmp_path}: removed 1 leftover file of a run that is no longer running ({dead.name})")
    assert not dead.exists() and busy.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["New.h2drumkit", busy.name, other.name])


def test_a_killed_generate_leaves_temporaries_that_the_next_run_removes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.wav").write_bytes(b"the user's own take")
    dead = [
        leftover(out, "ae_small_tanh_x+0.00_y+0.00.wav", 200_000, dead_pid()),
        leftover(out, "ae_small_tanh_x+0.00_y+0.00_v1.json", 300, dead_pid()),
    ]
    busy = leftover(out, "other.wav", 1000, os.getpid())
    other = leftover(out, "data.csv", 1000, dead_pid())
    done = run_app("generate", MODEL, "--at", "0,0", "--at", "1,1", "-o", out, "--models", ZOO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(lines(done.stdout)) == 2
    line = one_line(done.stderr)
    assert line.startswith(f"{out}: removed 2 leftover files of a run that is no longer running (")
    assert all(path.name in line and not path.exists() for path in dead)
    assert busy.exists() and other.exists() and (out / "mine.wav").read_bytes() == b"the user's own take"


@needs_strace
@pytest.mark.parametrize(
    "verb, args, output",
    [
        ("kit", ["--at", "0,0", "-o", "Kit.h2drumkit"], "Kit.h2drumkit"),
        ("generate", ["--at", "0,0", "-o", "hit.wav"], "hit.wav"),
    ],
)
def test_kill_9_before_the_rename_then_the_next_run_removes_the_full_size_temporary(tmp_path, verb, args, output):
    # A new output is linked to its name (never replacing one): the kill lands right before.
    killed = killed_at("link", 1, verb, MODEL, *args, "--models", ZOO, cwd=tmp_path, path=output)
    assert killed.returncode in (-9, 137), killed.stderr
    left = [p for p in tmp_path.iterdir() if p.name.startswith(f".{output}.")]
    assert len(left) == 1 and left[0].stat().st_size > 50_000 and not (tmp_path / output).exists()
    done = run_app(verb, MODEL, *args, "--models", ZOO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stderr) == f".: removed 1 leftover file of a run that is no longer running ({left[0].name})"
    assert sorted(p.name for p in tmp_path.iterdir()) == [output]


# ----------------------------------------------------------------------------- bounds

RATE = "--rate: must be between 8000 and 192000 Hz"
SEED = "--seed: must be between 0 and 4294967295"
POINT = "a point is two numbers X,Y"
FINITE = "the coordinates must be finite numbers"
LOOP = "--loop: must be more than 0 and at most 3600 seconds"
GAP = "--gap: must be between 0 and 60 seconds"


@pytest.mark.parametrize(
    "verb, args, reason",
    [
        ("generate", ["--at", "0,0", "--rate", "2000000000"], f"{RATE} (got 2000000000)"),
        ("generate", ["--at", "0,0", "--rate", "100000000"], f"{RATE} (got 100000000)"),
        ("generate", ["--at", "0,0", "--rate", "1"], f"{RATE} (got 1)"),
        ("generate", ["--at", "0,0", "--rate", "1e999"], "argument --rate: must be a whole number between 8000 and 192000"),
        ("generate", ["--at", "0,0", "--variations", "1001"], "--variations must be 1 to 1000, not 1001"),
        ("generate", ["--at", "0,0", "--variations", "nan"], "argument --variations: must be a whole number between 1 and"),
        ("generate", ["--at", "0,0", "--variations", "2", "--seed", "-1"], f"{SEED} (got -1)"),
        ("generate", ["--at=--"], f"--at '--': {POINT}"),
        ("generate", ["--at="], f"--at '': {POINT}"),
        ("generate", ["--at=nan,0"], f"--at 'nan,0': {FINITE}"),
        ("generate", ["--at=1e999,0"], f"--at '1e999,0': {FINITE}"),
        ("generate", ["--at", "1,2,3"], f"--at '1,2,3': {POINT}"),
        ("kit", ["--at", "0,0", "--layers", "17"], "--layers must be 1 to 16, not 17"),
        ("kit", ["--at", "0,0", "--layers", "inf"], "argument --layers: must be a whole number between 1 and 16"),
        ("kit", ["--at", "0,0", "--seed", "4294967296"], f"{SEED} (got 4294967296)"),
        ("kit", ["--at", "0,0"] * 93, "--at: a kit holds 1 to 92 instruments (one MIDI note each, 36 to 127), not 93"),
        ("kit", ["--at=--"], f"--at '--': {POINT}"),
        ("kit", ["--at="], f"--at '': {POINT}"),
        ("kit", ["--at=nan,0"], f"--at 'nan,0': {FINITE}"),
        ("kit", ["--at=1e999,0"], f"--at '1e999,0': {FINITE}"),
        ("kit", ["--at", "1,2,3"], f"--at '1,2,3': {POINT}"),
        ("play", ["--at", "0,0", "--loop", "inf"], f"{LOOP} (got inf)"),
        ("play", ["--at", "0,0", "--loop", "nan"], f"{LOOP} (got nan)"),
        ("play", ["--at", "0,0", "--loop", "1e9"], f"{LOOP} (got 1e+09)"),
        ("play", ["--at", "0,0", "--loop", "-1"], f"{LOOP} (got -1)"),
        ("play", ["--at", "0,0", "--gap", "1e12", "--loop", "1"], f"{GAP} (got 1e+12)"),
        ("play", ["--at", "0,0", "--gap", "nan"], f"{GAP} (got nan)"),
        ("play", ["--at", "0,0", "--volume", "inf"], "--volume: must be between 0 and 1 (got inf)"),
        ("play", ["--at", "0,0", "--volume", "x"], "argument --volume: must be a number between 0 and 1 (got 'x')"),
        (
            "play",
            ["--at", "0,0", "--device", "99999999999999999999999"],
            "--device: a device index must be between 0 and 2147483647 (got 99999999999999999999999)",
        ),
        ("play", ["--at=--"], f"--at '--': {POINT}"),
        ("play", ["--at="], f"--at '': {POINT}"),
        ("play", ["--at=nan,0"], f"--at 'nan,0': {FINITE}"),
        ("play", ["--at=1e999,0"], f"--at '1e999,0': {FINITE}"),
        ("play", ["--at", "1,2,3"], f"--at '1,2,3': {POINT}"),
    ],
)
def test_every_number_is_bounded_exit_2_with_one_line_naming_the_range(tmp_path, verb, args, reason):
    output = {"generate": ["-o", "out/"], "kit": ["-o", "K/"], "play": []}[verb]
    done = run_app(verb, MODEL, *args, *output, "--models", ZOO, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(f"app.py {verb}: ") and reason in line, line
    assert done.stdout == "" and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- kit -o and --name


@pytest.mark.parametrize(
    "output, reason",
    [
        (".", "-o .: give the kit a folder name of its own (e.g. -o MyKit/)"),
        ("./", "-o ./: give the kit a folder name of its own (e.g. -o MyKit/)"),
        ("..", "-o ..: give the kit a folder name of its own (e.g. -o MyKit/)"),
        ("", "-o: give a file or folder name, not an empty one"),
        (" ", "-o: give a file or folder name, not an empty one"),
        ("sub/ ", "-o sub/ : give the kit a folder name of its own (e.g. -o MyKit/)"),
    ],
)
def test_kit_output_that_names_no_folder_of_its_own_exits_2(tmp_path, output, reason):
    here = tmp_path / "here"
    here.mkdir()
    for force in ([], ["--force"]):
        done = kit("--at", "0,0", "-o", output, *force, cwd=here)
        assert done.returncode == 2 and one_line(done.stderr) == f"app.py kit: {reason}"
    assert list(here.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["here"]


UNICODE_NAME = "Drüms 漢字 ü"


def test_kit_names_keep_any_languages_letters_and_lose_separators_and_controls(tmp_path):
    done = kit("--at", "0,0", "--name", "Dru\u0308ms/漢字\\\x07ü\n", "-o", "F/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stdout).startswith(f"F: kit folder '{UNICODE_NAME}', 1 instruments")
    assert f"<name>{UNICODE_NAME}</name>" in (tmp_path / "F" / "drumkit.xml").read_text(encoding="utf-8")


@needs_h2cli
@pytest.mark.slow
def test_hydrogen_installs_and_plays_a_kit_with_a_unicode_name(tmp_path):
    archive = tmp_path / "Unicode.h2drumkit"
    done = kit("--at", "0,0", "--at", "1,1", "--name", UNICODE_NAME, "-o", archive, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stdout).startswith(f"{archive}: Hydrogen kit '{UNICODE_NAME}', 2 instruments")
    with tarfile.open(archive) as opened:
        assert all(name.split("/")[0] == UNICODE_NAME for name in opened.getnames())
    home = tmp_path / "home"
    checked = hydrogen.h2cli(home, "--check", archive)
    assert checked.returncode == 0 and "is valid" in checked.stdout + checked.stderr, checked.stderr[-2000:]
    installed = hydrogen.h2cli(home, "--install", archive)
    assert installed.returncode == 0, installed.stderr[-2000:]
    folder = home / ".hydrogen" / "data" / "drumkits" / UNICODE_NAME
    instruments = hydrogen.kit_instruments(folder / "drumkit.xml")
    assert len(instruments) == 2
    song = hydrogen.write_song(tmp_path / "song.h2song", UNICODE_NAME, instruments, [(0, 0, 0.9), (48, 1, 0.9)], bpm=60)
    rendered = tmp_path / "out.wav"
    result = hydrogen.h2cli(home, "-s", song, "-k", UNICODE_NAME, "-o", rendered)
    assert result.returncode == 0, result.stderr[-2000:]
    audio, rate = soundfile.read(rendered)
    # both notes heard (at 0 s and 1 s, 60 bpm), from the kit's own samples
    assert all(abs(audio[int(t * rate) : int((t + 0.05) * rate)]).max() > 0.03 for t in (0.0, 1.0))


# ----------------------------------------------------------------------------- issue 29: nothing stuck


@pytest.fixture
def mount_point(tmp_path):
    """``tmp_path/K``: an empty tmpfs, unmounted at the end."""
    with tmpfs(tmp_path / "K", "2m") as point:
        yield point


def test_a_kit_folder_that_is_a_mount_point_is_refused_before_rendering_on_every_run(mount_point, tmp_path):
    """Item 2: kit -o MOUNTPOINT/ failed only after rendering, left its staged kit, and every
    later run said "cannot finish an interrupted export" or a raw [Errno 16]."""
    line = (
        "app.py kit: K: is a mount point; a kit folder is replaced as a whole folder, so give a folder inside it (nothing was changed)"
    )
    for _ in range(2):
        done = kit("--at", "0,0", "-o", "K/", cwd=tmp_path)
        assert (done.returncode, done.stdout, one_line(done.stderr)) == (1, "", line)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["K"] and tree(mount_point) == {}


def test_generate_onto_a_full_disk_leaves_no_folders_it_made(mount_point, tmp_path):
    """generate -o DISK/a/b/x.wav on a full disk said so in one line but left a/b behind, empty."""
    fd = os.open(mount_point / "filler", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    done = run_app("generate", MODEL, "--at", "0,0", "-o", mount_point / "a" / "b" / "x.wav", "--models", ZOO, cwd=tmp_path)
    assert done.returncode == 1
    assert "No space left on device" in one_line(done.stderr)
    assert sorted(p.name for p in mount_point.iterdir()) == ["filler"]


@needs_strace
def test_kill_9_of_encode_before_its_rename_then_the_next_encode_removes_the_full_size_temporary(tmp_path):
    """A killed encode left its full-size hidden temporary, which no later encode removed."""
    soundfile.write(tmp_path / "hit.wav", [0.0] * 100 + [0.5, -0.4, 0.3] * 3000, 44100)
    args = ("encode", MODEL, "hit.wav", "-o", "recon.wav", "--models", ZOO)
    killed = killed_at("link", 1, *args, cwd=tmp_path, path="recon.wav")
    assert killed.returncode in (-9, 137), killed.stderr
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".recon.wav.")]
    assert len(left) == 1 and left[0].stat().st_size > 50_000
    done = run_app(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert one_line(done.stderr) == f".: removed 1 leftover file of a run that is no longer running ({left[0].name})"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hit.wav", "recon.wav"]
