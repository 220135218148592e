"""Shared fixtures: a throw-away database on the real PostgreSQL, and a real SMTP server.

`make test` starts the project's PostgreSQL and exports WAREHOUSE_DSN; each test module gets
its own database on that server, dropped at the end, so tests never see the demo's data or
each other's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.reporting.smtp_sink import SmtpSink
from ingest.warehouse.db import scratch_database

REPO = Path(__file__).resolve().parents[1]
# Throwaway keys for the tests only (a BHXH extract is refused without them); never used elsewhere.
os.environ.setdefault("D06_PSEUDONYM_KEY", "894285ccdfacd547591a332c530c8d76b58c89cbf84be72880d38233af9e83d1")
os.environ.setdefault("D06_ARCHIVE_KEY", "y6uEEG8SSFtf60rcUtsmU7UfP1XFvrbOUvz8GKESwa0=")


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def server_dsn() -> str:
    dsn = os.environ.get("WAREHOUSE_DSN")
    if not dsn:
        pytest.fail("WAREHOUSE_DSN is not set: run the tests with `make test`, which starts PostgreSQL")
    return dsn


@pytest.fixture(scope="module")
def warehouse_dsn(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for each test module; WAREHOUSE_DSN and D06_DATA_DIR point at it."""
    with (
        scratch_database(server_dsn, "d06_test") as dsn,
        environment(WAREHOUSE_DSN=dsn, D06_DATA_DIR=str(tmp_path_factory.mktemp("data"))),
    ):
        yield dsn


@pytest.fixture(scope="module")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """A real aiosmtpd server on 127.0.0.1 writing .eml files to a temporary outbox."""
    outbox = tmp_path_factory.mktemp("outbox")
    with (
        SmtpSink(outbox) as sink,
        environment(D06_SMTP_HOST="127.0.0.1", D06_SMTP_PORT=str(sink.port), D06_OUTBOX=str(outbox)),
    ):
        yield sink
