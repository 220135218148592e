"""Fixtures: the real registry and a parser bound to it and to a fixed ``today``."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from ingest.registry import Registry, load_registry
from ingest.submissions.parse import parse_submission

from .files import TODAY, Item


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def parse(registry: Registry) -> Callable[..., list[Item]]:
    """Parse ``data`` as file ``name``; with ``rows=N`` also assert that N items came out."""

    def run(data: bytes, name: str, *, rows: int | None = None, **kwargs: Any) -> list[Item]:
        kwargs.setdefault("today", TODAY)
        items = list(parse_submission(io.BytesIO(data), name=name, registry=registry, **kwargs))
        if rows is not None:
            assert len(items) == rows, "every non-blank data row yields exactly one item"
        return items

    return run
