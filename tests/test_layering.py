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
