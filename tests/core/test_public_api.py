"""Every core module names its public API in ``__all__``, and the names it lists are the ones it defines."""

import ast
import importlib
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
MODULES = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")


def defined_public(module: str) -> set[str]:
    tree = ast.parse((CORE / f"{module}.py").read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) and not node.name.startswith("_")
    }


@pytest.mark.parametrize("module", MODULES)
def test_module_declares_its_public_api(module):
    mod = importlib.import_module(f"core.{module}")
    assert isinstance(getattr(mod, "__all__", None), list), f"core/{module}.py has no __all__"
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"core/{module}.py lists names it does not define: {missing}"
    unlisted = defined_public(module) - set(mod.__all__)
    assert not unlisted, f"core/{module}.py defines public names missing from __all__: {sorted(unlisted)}"


@pytest.mark.parametrize("module", MODULES)
def test_module_says_what_room_it_is(module):
    doc = importlib.import_module(f"core.{module}").__doc__
    assert doc and len(doc.strip()) > 40, f"core/{module}.py needs a docstring saying what it holds"


def test_a_star_import_gives_only_the_public_api():
    for module in MODULES:
        namespace: dict = {}
        exec(f"from core.{module} import *", namespace)
        assert not [name for name in namespace if name.startswith("_") and name != "__builtins__"], module
