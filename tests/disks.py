"""Small file systems for the tests of full and read-only disks: a tmpfs mounted for a while.

Mounting needs root; elsewhere the test that asks is skipped, saying why.
"""

import contextlib
import subprocess

import pytest


@contextlib.contextmanager
def tmpfs(point, size, *, read_only=False):
    """A tmpfs of ``size`` (``"16m"``) at ``point`` (made if missing) for the ``with`` block,
    remounted read-only when asked; unmounted at the end."""
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        if read_only:
            remount_read_only(point)
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)


def remount_read_only(point):
    """Make the tmpfs at ``point`` read-only (root can still write through chmod elsewhere)."""
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
