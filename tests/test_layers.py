"""The project's shape: core never imports the front end."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core

BLOCKED = ("streamlit", "folium", "streamlit_folium", "branca")


def test_core_imports_no_front_end():
    modules = [f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__)]
    assert "core.store" in modules and "core.joins" in modules
    script = (
        "import sys, importlib\n"
        f"class Block:\n"
        f"    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {BLOCKED!r}:\n"
        f"            raise ImportError('core must not import ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
