"""The gate against synthesised months (issue 9, "done when"): the oracle is `d06 synth`'s ground
truth (the faults it injected, with their check codes), never the checks' own output.

* A month with every fault kind injected: `d06 violations --json` lists each injected fault with
  its check code, unit and indicator.
* A clean month: no error at all, and warnings on fewer than 0.5 % of its rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import environment

from ingest import pipeline
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PROVINCE = "AG"


def _d06(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest.cli", *args], capture_output=True, text=True, env=dict(os.environ), check=False
    )


def _synth(out: Path, period: str, months: int, faults: str, seed: int) -> list[dict[str, Any]]:
    proc = _d06(
        "synth", "--province", PROVINCE, "--period", period, "--out", str(out),
        "--months", str(months), "--seed", str(seed), "--faults", faults,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    truth = out / "ground_truth.jsonl"
    return [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines() if line.strip()]


def _run_months(inbox: Path, periods: list[str]) -> None:
    """Each month in turn, as the monthly run does (without the e-mail)."""
    with environment(D06_INBOX=str(inbox)):
        for period in periods:
            run_id = f"synth-{period}"
            pipeline.ingest_period(period, run_id=run_id)
            pipeline.stage_models(run_id)
            pipeline.audit(period, run_id=run_id)
            pipeline.build_publication(run_id)
            pipeline.quality_gate(period, run_id=run_id)
            pipeline.publish(run_id)


def _violations(period: str) -> list[dict[str, Any]]:
    proc = _d06("violations", "--period", period, "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def _periods(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    pipeline.prepare_warehouse()
    return warehouse_dsn


def test_every_injected_fault_is_found_with_its_code_unit_and_indicator(warehouse: str, tmp_path: Path) -> None:
    out = tmp_path / "inbox"
    truth = _synth(out, "2026-03", months=2, faults="all", seed=11)
    periods = _periods(out)
    assert len(periods) == 2
    kinds = {f["check"] for f in truth}
    assert len(kinds) == 11, "every fault kind is injected (over_target is not a fault)"
    _run_months(out, periods)
    found: set[tuple[str, str, str | None, str]] = set()
    for period in periods:
        for v in _violations(period):
            assert {
                "id",
                "check",
                "severity",
                "status",
                "unit_code",
                "indicator_code",
                "service_code",
                "period",
            } <= set(v)
            assert isinstance(v["values"], dict)
            found.add((v["check"], v["unit_code"], v["indicator_code"], v["period"]))
    missed = [f for f in truth if (f["check"], f["unit_code"], f["indicator_code"], f["period"]) not in found]
    assert not missed, missed
    # An injected error holds its unit-month: its figure is not in the official fact.
    errors = [f for f in truth if f["check"] == "numerator_exceeds_denominator"]
    with connect() as conn:
        for f in errors:
            published = conn.execute(
                """select numerator from marts.fct_indicator_monthly where unit_code = %s and indicator_code = %s
                   and service_code = %s and period = %s and publication_status = 'published'""",
                (f["unit_code"], f["indicator_code"], f["service_code"], f["period"]),
            ).fetchone()
            assert published is None or published[0] != f["values"]["numerator"]


def test_a_clean_month_has_no_error_and_warnings_on_fewer_than_half_a_percent_of_rows(
    warehouse: str, tmp_path: Path
) -> None:
    out = tmp_path / "clean"
    truth = _synth(out, "2025-10", months=2, faults="", seed=5)
    assert truth == []
    periods = _periods(out)
    _run_months(out, periods)
    with connect() as conn:
        for period in periods:
            rows = conn.execute("select count(*) from raw.submission_row where period = %s", (period,)).fetchone()[0]
            assert rows > 1000
            by_severity = dict(
                conn.execute(
                    """select severity, count(distinct (unit_code, indicator_code, service_code)) from audit.violation
                       where period = %s and status = 'open' group by severity""",
                    (period,),
                ).fetchall()
            )
            assert by_severity.get("error", 0) == 0, period
            assert by_severity.get("warning", 0) < 0.005 * rows, (period, by_severity, rows)
            held = conn.execute(
                "select count(*) from marts.fct_indicator_monthly where period = %s and publication_status = 'held'",
                (period,),
            ).fetchone()[0]
            assert held == 0
