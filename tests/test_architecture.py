"""The three layers hold: what may import what, no matplotlib below the figures, no huge module.

Rules (ARCHITECTURE.md): the core and science modules import neither matplotlib
nor the cache, the key-number report, the studies or the figures; the studies do
not import the figures or matplotlib; only ``lrtools.figures`` and
``lrtools.plotting`` draw. No module holds more than 800 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "lrtools"
FIGURE_LAYER = ("figures", "plotting", "__main__")
STUDY_LAYER = ("studies", "experiments", "cache", "report")  # may cache and report


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__")


MODULES = sorted(PKG.rglob("*.py"))


def _layer(name: str) -> str:
    if name == "lrtools":
        return "package"  # the top level gathers the public names of every layer
    part = name.split(".")[1]
    if part in FIGURE_LAYER:
        return "figures"
    if part in STUDY_LAYER:
        return "studies"
    return "science"  # the core and the science modules


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth of the code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", MODULES, ids=[_module(p) for p in MODULES])
def test_layering(path):
    name, layer = _module(path), _layer(_module(path))
    imports = _imports(path)
    draws = {i for i in imports if i.split(".")[0] in ("matplotlib", "seaborn")}
    if layer != "figures":
        assert not draws, f"{name} ({layer}) imports {sorted(draws)}"
        upward = {i for i in imports if i.startswith(("lrtools.figures", "lrtools.plotting"))}
        assert not upward, f"{name} ({layer}) imports the figure layer: {sorted(upward)}"
    if layer == "science":
        upward = {i for i in imports if i.startswith(tuple(f"lrtools.{p}" for p in STUDY_LAYER))}
        assert not upward, f"{name} (core/science) imports the study layer: {sorted(upward)}"


@pytest.mark.parametrize("path", MODULES, ids=[_module(p) for p in MODULES])
def test_no_module_over_800_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 800, f"{_module(path)} has {n} lines"


def test_importing_lrtools_and_every_study_leaves_matplotlib_out():
    names = [_module(p) for p in MODULES if _layer(_module(p)) != "figures"
             and not _module(p).endswith("_torch")]
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names)
            + "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
