"""The landing path inside a daemonic process, as Airflow runs a task in a Celery prefork worker.

A daemonic process may not start children, so the parallel reading of a large batch must fall
back to reading in the process itself (found by `make test-deploy`: every monthly ingest failed on
the production worker with "daemonic processes are not allowed to have children")."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path
from typing import Any

from ingest.landing.adapters import LandingContext
from ingest.landing.land import PARALLEL_MIN_FILES, parse_all
from ingest.registry import load_registry


def _double(item: int, ctx: Any) -> int:
    return item * 2


def _read_in_a_daemon(folder: str, queue: Any) -> None:
    ctx = LandingContext(load_registry(), dt.date(2026, 4, 1), None)
    items = list(range(PARALLEL_MIN_FILES * 3))
    try:
        queue.put(list(parse_all(items, ctx, _double, spool_folder=Path(folder))))
    except BaseException as exc:  # reported to the parent, which asserts on it
        queue.put(f"{type(exc).__name__}: {exc}")


def test_a_large_batch_is_read_in_a_daemonic_process(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_a_daemon, args=(str(tmp_path), queue), daemon=True)
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=30)
    assert got == [2 * i for i in range(PARALLEL_MIN_FILES * 3)]
