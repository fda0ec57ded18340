"""Ctrl+C says "interrupted" in one line and leaves nothing behind, wherever it lands.

The signal is sent to the real ``python app.py`` at an exact moment by a small wrapper that
installs one hook and then runs the same ``app.py``: inside soundfile's in-memory write, where
cffi used to swallow the KeyboardInterrupt and soundfile then failed its own assertion.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "trained"
MODEL = "ae_small_tanh"
pytestmark = pytest.mark.skipif(not (ZOO / MODEL / "card.json").is_file(), reason="the shipped zoo is not here")

# SIGINT to the process itself from inside the first write soundfile makes to a buffer:
# the handler runs in the cffi callback, as a Ctrl+C landing there does.
WRAPPER = textwrap.dedent("""
    import io, os, runpy, signal, sys, types
    import audio.export, audio.kit.archive, audio.kit.contents

    class Interrupting(io.BytesIO):
        sent = False

        def write(self, data):
            if not Interrupting.sent:
                Interrupting.sent = True
                os.kill(os.getpid(), signal.SIGINT)
            return super().write(data)

    # Python's own Ctrl+C handler, as in a terminal, even where the test run was started with
    # SIGINT ignored (a background job of a shell without job control passes that on)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for module in (audio.export, audio.kit.archive, audio.kit.contents):
        module.io = types.SimpleNamespace(BytesIO=Interrupting)
    sys.argv = [os.path.join(os.environ["ROOT"], "app.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def run_interrupted(tmp_path, *args):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "ROOT": str(ROOT)}
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(wrapper), *map(str, args)], capture_output=True, text=True, cwd=work, env=env, timeout=300
    )
    return done, work


@pytest.mark.parametrize("output", ["K.h2drumkit", "K/"])
def test_ctrl_c_inside_a_kits_wav_write_says_interrupted_and_leaves_nothing(tmp_path, output):
    done, work = run_interrupted(tmp_path, "kit", MODEL, "--at", "0,0", "--at", "1,1", "--models", ZOO, "-o", output)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["app.py kit: interrupted"], done.stderr
    assert sorted(path.name for path in work.iterdir()) == []


def test_ctrl_c_inside_generates_wav_write_says_interrupted_and_leaves_nothing(tmp_path):
    done, work = run_interrupted(tmp_path, "generate", MODEL, "--at", "0,0", "--models", ZOO, "-o", "one.wav")
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["app.py generate: interrupted"], done.stderr
    assert sorted(path.name for path in work.iterdir()) == []
