"""Idempotency (issue 12 §4): running any step of the monthly run three times, or two runs of the
same period at once, leaves the warehouse identical: the marts checksum does not change.

The reference is one clean run of the demo month in the same database; the checksum of every
official mart (ingest.warehouse.checksum) after the repeated or concurrent runs must equal it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ingest import pipeline
from ingest.config import inbox_dir
from ingest.demo import write_demo_inbox
from ingest.warehouse.checksum import marts_checksum
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"


def _checksum() -> dict[str, str]:
    with connect() as conn:
        return marts_checksum(conn)


def _steps(run_id: str) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("ingest", lambda: pipeline.ingest_period(PERIOD, run_id=run_id)),
        ("stage", lambda: pipeline.stage_models(run_id)),
        ("audit", lambda: pipeline.audit(PERIOD, run_id=run_id)),
        ("build", lambda: pipeline.build_publication(run_id)),
        ("quality_gate", lambda: pipeline.quality_gate(PERIOD, run_id=run_id)),
        ("publish", lambda: pipeline.publish(run_id)),
    ]


@pytest.fixture(scope="module")
def reference(warehouse_dsn: str) -> dict[str, str]:
    pipeline.prepare_warehouse()
    assert write_demo_inbox(inbox_dir(), PERIOD) > 50
    for _, run in _steps("reference"):
        run()
    first = _checksum()
    assert first["fct_indicator_monthly"] and len(first) >= 15
    return first


def test_every_step_run_three_times_changes_nothing(reference: dict[str, str]) -> None:
    for name, run in _steps("thrice"):
        outcomes = [run() for _ in range(3)]
        assert _checksum() == reference, f"{name} run three times changed the marts"
        if name == "publish":
            assert [o.get("already_published", False) for o in outcomes] == [False, True, True]


def test_two_runs_of_the_same_period_at_once_converge(reference: dict[str, str]) -> None:
    errors: list[BaseException] = []

    def run(run_id: str) -> None:
        try:
            for _, step in _steps(run_id):
                step()
        except BaseException as exc:  # reported below, with the run that raised it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"twin-{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1200)
    assert not errors, errors
    assert _checksum() == reference
    with connect() as conn:
        statuses = conn.execute(
            "select run_id, steps_done from audit.pipeline_run where run_id like 'twin-%' order by 1"
        ).fetchall()
    assert [len(done) for _, done in statuses] == [6, 6]
