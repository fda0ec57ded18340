"""Shared test set-up.

PortAudio is pointed at an ALSA null device before anything imports sounddevice, so the
audio tests run a real output stream on machines with no sound card (CI) and stay silent
on machines with one.

Run in parallel (``pytest -n 2``, as ``make test`` does), each worker gets an Xvfb of its own
before any test opens a window: the real-input tests click at screen positions and read the
window under the pointer, so two windows on one screen would take each other's clicks.
"""

import atexit
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

_ALSA_NULL = Path(tempfile.gettempdir()) / "mlsg-alsa-null.conf"
_ALSA_NULL.write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
os.environ.setdefault("ALSA_CONFIG_PATH", str(_ALSA_NULL))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")
# evaluate caches other data's metrics in the user cache: the tests keep out of the real one
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="mlsg-test-cache-"))
# the user's own zoo of imported models (models.imported.user_models_folder) is never read or
# written by a test: the window lists what is there
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="mlsg-test-data-")


#: The screen every window test expects (the Makefile's xvfb-run gives the same).
SCREEN = "1280x1024x24"
XVFB_START_S = 30


def pytest_configure(config):
    """A parallel worker's own display, where the run has one to replace (``xvfb-run``)."""
    if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("DISPLAY") and shutil.which("Xvfb"):
        os.environ["DISPLAY"] = _own_xvfb()


def _own_xvfb():
    """Start an Xvfb on a free display number (Xvfb picks it: ``-displayfd``) and return
    ``":N"``; it is stopped when the worker exits."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    atexit.register(_stop, server)
    with os.fdopen(read) as answer:  # Xvfb writes the number once it accepts clients
        ready, _, _ = select.select([answer], [], [], XVFB_START_S)
        number = answer.readline().strip() if ready else ""
    if not number.isdigit():
        raise RuntimeError(f"Xvfb did not start within {XVFB_START_S} s (exit status {server.poll()})")
    return f":{number}"


def _stop(server):
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
