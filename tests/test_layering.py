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
    top_level = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert top_level <= {"argparse", "importlib", "sys"}


def models_import_graph():
    """models/ module -> the models/ modules it imports (anywhere in the file, and by name
    through ``importlib.import_module``)."""
    graph = {}
    for path in sorted((ROOT / "models").glob("*.py")):
        name = path.stem
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets |= {a.name.split(".")[1] for a in node.names
                            if a.name.startswith("models.")}
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)
                  and str(node.args[0].value).startswith("models.")):
                targets.add(str(node.args[0].value).split(".")[1])  # importlib, by name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "models":
                    targets |= {a.name for a in node.names}
                elif node.module.startswith("models."):
                    targets.add(node.module.split(".")[1])
        graph[name] = targets - {name}
    return graph


def test_models_package_has_no_import_cycle():
    graph = models_import_graph()
    assert graph["constants"] == set(), "models/constants.py must stay a leaf"
    assert "registry" not in set().union(*(graph[m] for m in
                                           ("architectures", "losses", "networks", "gan", "vae")))
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = path[path.index(module):] + [module]
            raise AssertionError("import cycle in models/: " + " -> ".join(cycle))
        if module in done or module not in graph:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_cycle_guard_sees_a_cycle(monkeypatch):
    graph = {"a": {"b"}, "b": {"a"}, "constants": set(), "architectures": set(), "losses": set(),
             "networks": set(), "gan": set(), "vae": set()}
    monkeypatch.setattr(__import__(__name__), "models_import_graph", lambda: graph)
    with pytest.raises(AssertionError, match="a -> b -> a"):
        test_models_package_has_no_import_cycle()
