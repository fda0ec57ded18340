"""web/ never imports TensorFlow, Keras or the GUI (DESIGN.md), neither in its own source
nor through anything it imports: a server process decodes with the NumPy engine."""

import subprocess
import sys
from pathlib import Path

from test_layering import imported_roots

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"tensorflow", "keras", "PySimpleGUI", "gui", "tkinter", "sounddevice"}


def test_web_source_imports_no_tensorflow_or_gui():
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / "web").rglob("*.py"))
        for name, line in imported_roots(path)
        if name in FORBIDDEN
    ]
    assert not offences, "\n".join(offences)


def test_serving_a_zoo_loads_no_tensorflow_or_gui():
    code = (
        "import sys\n"
        "from web.catalogue import load_catalogue\n"
        "from web.server import create_app\n"
        "import commands.serve\n"
        "create_app(load_catalogue(sys.argv[1], ['ae_small_tanh', 'gan']))\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "trained")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
