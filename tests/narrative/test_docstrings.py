"""The examples in the docstrings of ingest.narrative hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("__init__", "readers", "paragraphs", "vocabulary", "header", "mapping", "extract", "findings", "cli")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module("ingest.narrative" if name == "__init__" else f"ingest.narrative.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
