"""Layers only look down: a module never imports one above it (house style).

From the bottom: shared helpers and the registry; the parsers (submissions, narrative); the
landing path; then what runs the month (pipeline, quality, reporting, transform) and the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[1] / "ingest"
ABOVE_PARSERS = {"landing", "pipeline", "cli", "quality", "reporting", "transform", "demo", "summary"}
FORBIDDEN = {
    "registry": ABOVE_PARSERS | {"submissions", "narrative", "warehouse"},
    "submissions": ABOVE_PARSERS | {"narrative"},
    "narrative": ABOVE_PARSERS,
    "landing": {"pipeline", "cli", "quality", "reporting", "transform", "demo", "summary"},
    "warehouse": ABOVE_PARSERS | {"submissions", "narrative"},
}


def _imported_packages(path: Path) -> set[str]:
    """The ``ingest.<package>`` names a module imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ingest."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ingest.")}
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_above_it(layer: str) -> None:
    offences = {
        str(path.relative_to(INGEST)): sorted(_imported_packages(path) & FORBIDDEN[layer])
        for path in (INGEST / layer).rglob("*.py")
    }
    assert {k: v for k, v in offences.items() if v} == {}


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ingest.landing.land import land_paths\n", encoding="utf-8")
    assert _imported_packages(module) == {"landing"}
