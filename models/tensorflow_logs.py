"""TensorFlow's start-up lines, silenced where TensorFlow is imported.

TensorFlow 2.21 writes absl log lines to file descriptor 2 while its shared libraries load
("WARNING: All log messages before absl::InitializeLog() ...", then "I0000 ... port.cc:153]
oneDNN custom operations are on ..." once per library), and ``TF_CPP_MIN_LOG_LEVEL`` no longer
reaches them. Every verb that imports TensorFlow would print them before its one line.

``install()`` puts a finder on ``sys.meta_path`` that wraps the first ``import tensorflow``,
whichever module asks (Keras imports it too), in a capture of descriptor 2. When the import
ends, what was captured is written back except the lines below ``TF_CPP_MIN_LOG_LEVEL``
(default 2: information and warnings): anything else, a Python warning or another thread's
message, still reaches the terminal, only later. ``TF_CPP_MIN_LOG_LEVEL=0`` keeps every line.
"""

import importlib.abc
import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager

# absl's preamble, and its log lines: severity letter, MMDD, time, thread, file:line]
_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^ \]]+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_lock = threading.Lock()


def min_log_level():
    """The lowest severity kept: ``TF_CPP_MIN_LOG_LEVEL`` (0 info ... 3 fatal only), default 2."""
    try:
        return min(max(int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")), 0), 3)
    except ValueError:
        return 2


def kept_lines(text, level):
    """The captured text less TensorFlow's log lines below ``level``.

    Parameters
    ----------
    text : str
        What was written to descriptor 2 during the import.
    level : int
        ``TF_CPP_MIN_LOG_LEVEL``: 0 keeps everything.

    Returns
    -------
    str
        The lines to write back, in their order.
    """
    if level <= 0:
        return text
    kept = []
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == _PREAMBLE:
            continue
        match = _LOG_LINE.match(line)
        if match and _SEVERITY[match.group(1)] < level:
            continue
        kept.append(line)
    return "".join(kept)


@contextmanager
def quiet_stderr(level=None):
    """Capture descriptor 2 for the block, then write back what ``kept_lines`` keeps."""
    level = min_log_level() if level is None else level
    if level <= 0:
        yield
        return
    try:
        capture = tempfile.TemporaryFile()
    except OSError:  # no room for the capture (a full or read-only temporary folder): the lines show
        yield
        return
    with _lock, capture:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = kept_lines(capture.read().decode("utf-8", "replace"), level)
            if rest:
                os.write(2, rest.encode("utf-8", "replace"))


class _QuietLoader(importlib.abc.Loader):
    """The real loader of ``tensorflow``, run inside ``quiet_stderr``."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # the package's own loader is what later machinery (reloads, resources) expects to find
        module.__spec__.loader = self.loader
        module.__loader__ = self.loader
        with quiet_stderr():
            self.loader.exec_module(module)


class _QuietTensorflowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and hands back its spec with a quiet loader."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install():
    """Quiet the first ``import tensorflow`` from here on (once per process; idempotent)."""
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorflowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorflowFinder())
