"""TensorFlow's start-up lines never reach the user: a verb that imports it still says one line.

TensorFlow 2.21 writes absl lines to descriptor 2 while it loads, past ``TF_CPP_MIN_LOG_LEVEL``.
The verbs run here as a user runs them: a fresh process, with none of TensorFlow's variables set,
and a small wrapper that records (at exit) whether TensorFlow was really imported, so the test
cannot pass by never loading it.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from models.tensorflow_logs import kept_lines

ROOT = Path(__file__).resolve().parents[1]

# What TensorFlow 2.21 printed at import on a fresh machine (two libraries, each once)
NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796547900.208026    4730 port.cc:153] oneDNN custom operations are on. "
    "You may see slightly different numerical results.\n"
    "W0000 00:00:1796547900.241871    4730 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized\n"
)

WRAPPER = textwrap.dedent("""
    import atexit, os, runpy, sys
    def record():
        with open(os.environ["IMPORTED"], "w") as out:
            out.write(str("tensorflow" in sys.modules))
    atexit.register(record)
    sys.argv = [os.path.join(os.environ["ROOT"], "app.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def fresh_environment(home):
    """The user's environment: no TensorFlow variable set, a HOME of the test's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TF_", "KERAS_"))}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "Agg",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "MPLCONFIGDIR": str(home / "mpl"),
    }


def run_verb(tmp_path, *args):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    imported = tmp_path / "imported.txt"
    env = {**fresh_environment(tmp_path), "ROOT": str(ROOT), "IMPORTED": str(imported)}
    done = subprocess.run(
        [sys.executable, str(wrapper), *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    return done, imported.read_text() if imported.exists() else "not recorded"


@pytest.fixture
def damaged_dataset(tmp_path):
    folder = tmp_path / "kits"
    folder.mkdir()
    (folder / "manifest.csv").write_bytes(b"\x00\x01garbage\xff\n")
    before = (folder / "manifest.csv").read_bytes()
    yield folder
    assert (folder / "manifest.csv").read_bytes() == before


@pytest.mark.slow
def test_train_on_a_damaged_dataset_says_exactly_one_line_though_it_imported_tensorflow(damaged_dataset, tmp_path):
    zoo = tmp_path / "zoo"
    done, imported = run_verb(tmp_path, "train", "ae_small_tanh", "--epochs", "1", "--data", damaged_dataset, "--out", zoo)
    assert imported == "True", "train never imported TensorFlow: the test would prove nothing"
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("app.py train: ") and "damaged dataset" in lines[0], lines[0]
    assert not zoo.exists() or not any(zoo.iterdir())


def test_the_capture_drops_tensorflows_lines_below_the_level_and_keeps_everything_else(tmp_path):
    """Descriptor 2 itself is captured: what a C library writes there is filtered, in order."""
    script = textwrap.dedent(f"""
        import os, sys
        from models.tensorflow_logs import quiet_stderr
        with quiet_stderr():
            os.write(2, {NOISE!r}.encode())
            print("a Python warning of the user's", file=sys.stderr)
            os.write(2, b"E0000 00:00:1796547900.1 4730 op.cc:1] a real error\\n")
        print("after", file=sys.stderr)
    """)
    env = fresh_environment(tmp_path)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "a Python warning of the user's",
        "E0000 00:00:1796547900.1 4730 op.cc:1] a real error",
        "after",
    ]


def test_tf_cpp_min_log_level_decides_what_is_kept():
    assert kept_lines(NOISE, 0) == NOISE
    assert kept_lines(NOISE, 1).splitlines() == [NOISE.splitlines()[2]]
    assert kept_lines(NOISE, 2) == ""
    assert kept_lines("plain text\nI0000 not a log line\n", 3) == "plain text\nI0000 not a log line\n"


def test_an_import_that_fails_still_gives_back_descriptor_2_and_its_lines(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        from models.tensorflow_logs import quiet_stderr
        try:
            with quiet_stderr():
                os.write(2, b"kept\\n")
                raise ImportError("no tensorflow")
        except ImportError:
            pass
        os.write(2, b"descriptor 2 is the terminal again\\n")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=fresh_environment(tmp_path), timeout=60
    )
    assert done.stderr.splitlines() == ["kept", "descriptor 2 is the terminal again"]


def test_with_no_room_for_the_capture_the_import_still_works_and_the_lines_show(tmp_path):
    script = textwrap.dedent("""
        import os, tempfile
        tempfile.tempdir = "/nonexistent-folder"
        from models.tensorflow_logs import quiet_stderr
        with quiet_stderr():
            os.write(2, b"shown as it is\\n")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=fresh_environment(tmp_path), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["shown as it is"]
