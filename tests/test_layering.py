"""Imports flow one way (DESIGN.md): the packages below gui/ never import the GUI, audio/
never imports TensorFlow, models/ never touches sound devices, and app.py stays thin."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "models": {"PySimpleGUI", "sounddevice", "gui", "audio", "tkinter"},
    "audio": {"PySimpleGUI", "tensorflow", "keras", "models", "gui", "tkinter"},
    "preprocessing": {"PySimpleGUI", "tensorflow", "keras", "models", "sounddevice", "gui", "audio"},
    "evaluation": {"PySimpleGUI", "sounddevice", "gui", "audio", "tkinter"},
    "commands": {"PySimpleGUI", "tkinter"},
}


def imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], node.lineno


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_flow_one_way(package):
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, line in imported_roots(path)
        if name in FORBIDDEN[package]
    ]
    assert not offences, "\n".join(offences)


def test_app_py_imports_no_library_at_module_level():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    assert top_level <= {"argparse", "importlib", "sys"}


# ----------------------------------------------------------------------------- no TensorFlow
# TensorFlow is for train and evaluate only (DESIGN.md): the window, play, generate and
# encode decode with the NumPy engine. These run the real commands on the shipped zoo with a
# `tensorflow` package first on the path that refuses to import.

ZOO = ROOT / "trained"
needs_zoo = pytest.mark.skipif(
    not (ZOO / "vae_c" / "decoder.keras").is_file(), reason="the shipped zoo (trained/) is not in this checkout"
)


@pytest.fixture
def without_tensorflow(tmp_path):
    """Environment for a subprocess in which ``import tensorflow`` raises ImportError."""
    import os

    blocker = tmp_path / "no_tensorflow"
    (blocker / "tensorflow").mkdir(parents=True)
    (blocker / "tensorflow" / "__init__.py").write_text("raise ImportError('tensorflow is unimportable in this test')\n")
    path = os.pathsep.join([str(blocker), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_app(env, *argv, timeout=120):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *map(str, argv)],
        check=False,
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        env=env,
        timeout=timeout,
    )


def test_the_fake_tensorflow_really_is_unimportable(without_tensorflow):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import tensorflow"], check=False, capture_output=True, text=True, env=without_tensorflow
    )
    assert done.returncode == 1 and "unimportable in this test" in done.stderr


@needs_zoo
def test_generate_works_without_tensorflow(without_tensorflow, tmp_path):
    out = tmp_path / "x.wav"
    done = run_app(without_tensorflow, "generate", "vae_c", "--at", "0,0", "-o", out)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{out}  (vae_c at 0,0; peak ")
    import soundfile

    audio, rate = soundfile.read(out)
    assert rate == 22050 and audio.shape == (16384,) and abs(audio).max() > 0.01


@needs_zoo
def test_generate_many_points_works_without_tensorflow(without_tensorflow, tmp_path):
    at = [arg for i in range(70) for arg in ("--at", f"{i / 35 - 1:.3f},0.5")]
    done = run_app(without_tensorflow, "generate", "gan", *at, "-o", tmp_path / "many")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 70 == len(list((tmp_path / "many").glob("*.wav")))


@needs_zoo
def test_encode_works_without_tensorflow_and_leaves_the_source_alone(without_tensorflow, tmp_path):
    import soundfile

    from drums import snare

    source = tmp_path / "snare.wav"
    soundfile.write(source, snare(seed=3, sr=44100, seconds=0.4), 44100)
    before = source.read_bytes()
    recon = tmp_path / "recon.wav"
    done = run_app(without_tensorflow, "encode", "vae_a", source, "-o", recon)
    assert done.returncode == 0, done.stderr
    point, said = done.stdout.strip().splitlines()
    assert len([float(v) for v in point.split(",")]) == 2
    assert said == f"reconstruction: {recon}"
    assert source.read_bytes() == before and soundfile.info(recon).frames == 16384


@needs_zoo
def test_play_works_without_tensorflow(without_tensorflow):
    # conftest.py points ALSA at its null device, and the environment carries that along.
    done = run_app(without_tensorflow, "play", "conv_ae", "--at", "0.5,-0.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "conv_ae at (0.5, -0.5): played once (0.74 s at 22050 Hz)"


@needs_zoo
def test_the_window_loads_every_shipped_model_without_tensorflow(without_tensorflow):
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "import gui.window, gui.workers, gui.handlers, gui.figures\n"
        "from gui.backend import PackageBackend\n"
        "from models.registry import MODEL_NAMES\n"
        "backend = PackageBackend()\n"
        "for name in MODEL_NAMES:\n"
        f"    model = backend.load(name, {str(ZOO)!r})\n"
        "    info = backend.describe(model, name)\n"
        "    assert model.decode(np.asarray([info.center], np.float32)).shape == (1, info.sample_length)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "print('all', len(MODEL_NAMES))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=str(ROOT), env=without_tensorflow, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "all 16"


@needs_zoo
@pytest.mark.skipif(not __import__("os").environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run")
def test_the_window_opens_and_makes_its_first_sound_without_tensorflow(without_tensorflow, tmp_path):
    stamp = tmp_path / "stamp.txt"
    done = run_app(
        without_tensorflow,
        "gui",
        "--models",
        ZOO,
        "--settings",
        tmp_path / "settings.json",
        "--favourites",
        tmp_path / "favourites",
        "--startup-stamp",
        stamp,
        "--quit-when",
        "sound",
    )
    assert done.returncode == 0, done.stderr
    stamps = [line.split()[0] for line in stamp.read_text().splitlines()]
    assert stamps[:2] == ["window", "ready"] and "sound" in stamps


#: The project's own top-level modules and packages (every one is searched for circles).
PROJECT = ("app", "constants", "audio", "bench", "commands", "evaluation", "gui", "models", "preprocessing", "safeio", "web")


def project_modules():
    """Dotted module name -> its file, for every module of the project (not the tests)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] not in PROJECT:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported_modules(name, path, modules):
    """The project modules ``name`` imports, anywhere in the file (a function's import
    closes a circle as surely as one at the top), and by name through ``importlib``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    targets.add(f"{base}.{alias.name}")  # a submodule: ``from evaluation import cache``
                elif base in modules:
                    targets.add(base)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in modules
        ):
            targets.add(node.args[0].value)
    return targets - {name}


def project_import_graph():
    """Every project module -> the project modules it imports."""
    modules = project_modules()
    return {name: _imported_modules(name, path, modules) for name, path in modules.items()}


def test_no_module_of_the_project_is_in_an_import_circle():
    graph = project_import_graph()
    assert graph["constants"] == set(), "constants.py must stay a leaf"
    assert graph["evaluation.columns"] == set(), "evaluation/columns.py must stay a leaf"
    assert "models.registry" not in set().union(*(graph[f"models.{m}"] for m in ("architectures", "losses", "networks", "gan", "vae")))
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = path[path.index(module) :] + [module]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if module in done or module not in graph:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_graph_sees_imports_inside_functions_and_of_submodules():
    graph = project_import_graph()
    assert "evaluation.cache" in graph["evaluation.comparison"]  # from evaluation import cache
    assert "evaluation.pictures" in graph["evaluation.report_figures"]  # imported inside a function


def test_cycle_guard_sees_a_cycle(monkeypatch):
    graph = {
        "a": {"b"},
        "b": {"a"},
        "constants": set(),
        "evaluation.columns": set(),
        **{f"models.{m}": set() for m in ("architectures", "losses", "networks", "gan", "vae")},
    }
    monkeypatch.setattr(__import__(__name__), "project_import_graph", lambda: graph)
    with pytest.raises(AssertionError, match="a -> b -> a"):
        test_no_module_of_the_project_is_in_an_import_circle()


def _cross_package_imports(path, own):
    """(package, name, line) for each import of another package's module or name in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found = [(alias.name.split("."), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            found = [(parts, node.lineno)] if len(parts) > 1 else [(parts + [a.name], node.lineno) for a in node.names]
        else:
            continue
        for parts, line in found:
            if parts[0] in PUBLIC and parts[0] != own and len(parts) > 1:
                yield parts[0], parts[1], line


PUBLIC = ("models", "audio", "web", "evaluation", "gui", "preprocessing", "safeio", "commands")


@pytest.mark.parametrize("package", PUBLIC)
def test_other_packages_use_only_what_a_package_lists_in_its_all(package):
    """A package's ``__all__`` is its surface: the modules (or names) other packages may use."""
    import importlib

    public = set(importlib.import_module(package).__all__)
    tops = [
        top
        for top in sorted(ROOT.iterdir())
        if not top.name.startswith(".") and top.name not in {"tests", "site", "data", "trained", package}
    ]
    users = [path for top in tops for path in (sorted(top.rglob("*.py")) if top.is_dir() else [top]) if path.suffix == ".py"]
    offences = [
        f"{path.relative_to(ROOT)}:{line} uses {package}.{name}, which {package}/__init__.py does not list"
        for path in users
        for pkg, name, line in _cross_package_imports(path, path.relative_to(ROOT).parts[0])
        if pkg == package and name not in public
    ]
    assert not offences, "\n".join(offences)


def test_no_module_outside_the_tests_is_over_500_lines():
    """Issue 31: a module that grows past 500 lines is split by what it does."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    long = {
        name: count
        for name in tracked
        if not name.startswith("tests/") and (ROOT / name).is_file()
        for count in [len((ROOT / name).read_text(encoding="utf-8").splitlines())]
        if count > 500
    }
    assert not long, long
