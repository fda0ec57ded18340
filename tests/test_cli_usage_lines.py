"""Every verb's argparse errors are one line and exit status 2 (not argparse's usage, then an error)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["play", "ae_small_relu", "--at", "0,0", "-o", "x"], "app.py: unrecognized arguments: -o x"),
        (["train", "--epochs", "abc", "ae_small_relu"], "app.py train: argument --epochs: invalid int value: 'abc'"),
        (["evaluate", "--grid"], "app.py evaluate: argument --grid: expected one argument"),
        (["encode"], "app.py encode: the following arguments are required"),
        (["bogus"], "app.py: argument VERB: invalid choice: 'bogus'"),
    ],
)
def test_argparse_errors_are_one_line_with_exit_status_2(tmp_path, argv, expected):
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(expected)
    assert list(tmp_path.iterdir()) == []
