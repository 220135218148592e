"""Fixtures: the real registry and a parser bound to it and to a fixed ``today``."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from ingest.registry import Registry, load_registry
from ingest.submissions.model import FileNotice
from ingest.submissions.parse import parse_submission

from .files import TODAY, Item


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def parse_all(registry: Registry) -> Callable[..., list[Item | FileNotice]]:
    """Parse ``data`` as file ``name``: every item, file notices included."""

    def run(data: bytes, name: str, **kwargs: Any) -> list[Item | FileNotice]:
        kwargs.setdefault("today", TODAY)
        return list(parse_submission(io.BytesIO(data), name=name, registry=registry, **kwargs))

    return run


@pytest.fixture
def parse(parse_all: Callable[..., list[Item | FileNotice]]) -> Callable[..., list[Item]]:
    """Parse ``data`` as file ``name``, rows and problems only (file notices are not rows);
    with ``rows=N`` also assert that N items came out."""

    def run(data: bytes, name: str, *, rows: int | None = None, **kwargs: Any) -> list[Item]:
        items = [i for i in parse_all(data, name, **kwargs) if not isinstance(i, FileNotice)]
        if rows is not None:
            assert len(items) == rows, "every non-blank data row yields exactly one item"
        return items

    return run
