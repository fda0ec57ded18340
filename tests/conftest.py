"""Shared test set-up.

PortAudio is pointed at an ALSA null device before anything imports sounddevice, so the
audio tests run a real output stream on machines with no sound card (CI) and stay silent
on machines with one.
"""
import os
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


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
