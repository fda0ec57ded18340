"""``app.py bench decode`` as a user runs it: a shipped model's row, and the row of an ONNX
model the bench makes and imports itself, with the tool's decode beside the bare onnxruntime
run of the same file and their ratio. No timing is asserted (a shared machine's numbers say
nothing here): the rows are there, their numbers finite and positive, and the bench leaves no
folder behind."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("load ms", "engine", "eng cpu", "tf fast", "bare", "predict", "tf/eng", "eng/bare", "pred/eng", "48x48 s")


def bench_decode(*args, tmp):
    env = {**os.environ, "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(tmp.parent / "cache"), "XDG_DATA_HOME": str(tmp.parent / "home")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "bench", "decode", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def rows(out):
    """{model: {column: float or None}} of the bench's table."""
    table = {}
    for line in out.splitlines():
        if " ok (" not in line and " MISSED (" not in line:
            continue
        head, _, _ = line.partition(" ok (") if " ok (" in line else line.partition(" MISSED (")
        cells = head.split()
        name, values = " ".join(cells[: len(cells) - len(COLUMNS)]), cells[len(cells) - len(COLUMNS) :]
        table[name] = {column: None if cell == "-" else float(cell) for column, cell in zip(COLUMNS, values)}
    return table


def positive(value):
    return value is not None and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_bench_decode_shows_an_imported_onnx_model_beside_the_bare_runtime(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = bench_decode("gan", "--no-tensorflow", "--calls", "5", tmp=tmp)
    table = rows(out)
    assert list(table) == ["gan", "imported onnx 8-D"], out
    imported = table["imported onnx 8-D"]
    for column in ("load ms", "engine", "eng cpu", "bare", "eng/bare", "48x48 s"):
        assert positive(imported[column]), (column, out)
    assert imported["tf fast"] is None and imported["predict"] is None
    assert positive(table["gan"]["engine"])
    assert "x bare onnxruntime)" in out
    assert " of 2 models meet the decode targets" in out.splitlines()[-1]
    # the imported model's temporary folder is gone (onnxruntime leaves its own telemetry
    # file, .ses, in the temporary folder: not the bench's)
    assert [path.name for path in tmp.iterdir() if path.is_dir()] == []


def test_bench_decode_leaves_the_imported_row_out_when_asked(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = bench_decode("gan", "--no-tensorflow", "--no-heatmap", "--no-imported", "--calls", "3", tmp=tmp)
    assert list(rows(out)) == ["gan"], out
    assert " of 1 models meet" in out.splitlines()[-1]
