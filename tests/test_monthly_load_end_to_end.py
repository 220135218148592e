"""The monthly DAG, run by real Airflow against the real PostgreSQL, dbt, GX and an SMTP server.

Expected numbers are computed here from the inbox files themselves, independently of the
pipeline, and compared with what the marts, the ledger, the summary and the e-mail say.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import json
import os
import subprocess
import sys
from email import policy
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.config import inbox_dir, reports_dir
from ingest.demo import write_demo_inbox
from ingest.landing.adapters import LandingContext, choose_adapter
from ingest.registry import load_registry
from ingest.reporting.smtp_sink import SmtpSink
from ingest.submissions.model import RowProblem, SubmissionRow
from ingest.summary import period_summary

PERIOD = "2026-03"
DEADLINE = dt.date(2026, 4, 10)
pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


def _receipt_times() -> dict[str, dt.datetime]:
    """When each demo file was received, from the inbox's receipt manifest (never a file's mtime)."""
    with (inbox_dir() / PERIOD / "received.csv").open(encoding="utf-8") as f:
        return {r["file_name"]: dt.datetime.fromisoformat(r["received_at"]) for r in csv.DictReader(f)}


def _submissions() -> list[Path]:
    return sorted(p for p in (inbox_dir() / PERIOD).iterdir() if p.name != "received.csv")


def _expected_from_inbox() -> dict[str, Any]:
    registry = load_registry()
    rows: list[SubmissionRow] = []
    problems = 0
    on_time = late = 0
    receipts = _receipt_times()
    for path in _submissions():
        with path.open("rb") as fp:
            adapter = choose_adapter(path.name, fp, LandingContext(registry, dt.date(2026, 11, 1), PERIOD))
            for item in adapter.read(fp, path.name):
                if isinstance(item, SubmissionRow):
                    rows.append(item)
                elif isinstance(item, RowProblem):
                    problems += 1
        received = receipts[path.name]
        local_day = received.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
        if local_day <= DEADLINE:
            on_time += 1
        else:
            late += 1
    above = {
        (r.unit_code, r.indicator_code, r.service_code)
        for r in rows
        if registry.indicators[r.indicator_code].denominator_kind == "total"
        and r.denominator is not None
        and r.numerator > r.denominator
    }
    held = {r.unit_code for r in rows if (r.unit_code, r.indicator_code, r.service_code) in above}
    held |= _funnel_breaks(registry, rows)
    published = [r for r in rows if r.unit_code not in held]
    narrative = [p for p in (inbox_dir() / PERIOD).iterdir() if p.suffix == ".docx"]
    assert narrative, "the demo inbox holds a Word report"
    return {
        "files": len(_submissions()),
        "rows": len(rows),
        "problems": problems,
        "published_rows": len(published),
        "published_numerator_sum": sum(r.numerator for r in published),
        "held_units": held,
        "above": above,
        "on_time": on_time,
        "late": late,
    }


def _funnel_breaks(registry: Any, rows: list[SubmissionRow]) -> set[str]:
    """Units with a later funnel step above the step before it (the registry's funnels)."""
    figure = {(r.unit_code, r.indicator_code, r.service_code): (r.numerator, r.denominator) for r in rows}
    broken = set()
    for funnel in registry.funnels:
        for upper, lower in funnel.pairs():
            for (unit, code, service), (num, den) in figure.items():
                above = figure.get((unit, upper.indicator_code, service))
                if code != lower.indicator_code or above is None:
                    continue
                high = above[0] if upper.figure == "numerator" else above[1]
                low = num if lower.figure == "numerator" else den
                if high is not None and low is not None and low > high:
                    broken.add(unit)
    return broken


@pytest.fixture(scope="module")
def monthly_run(warehouse_dsn: str, smtp_sink: SmtpSink) -> dict[str, Any]:
    n = write_demo_inbox(inbox_dir(), PERIOD)
    assert n > 100
    env = dict(os.environ)
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run(
        [str(airflow), "dags", "test", "d06_monthly_load", "--conf", json.dumps({"period": PERIOD})],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"expected": _expected_from_inbox(), "log": proc.stdout + proc.stderr}


def _one(conn: psycopg.Connection[Any], query: str, *args: Any) -> Any:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_every_file_balances_and_nothing_is_lost(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    exp = monthly_run["expected"]
    with psycopg.connect(warehouse_dsn) as conn:
        files, read, loaded, quarantined = _one(
            conn,
            "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "from audit.load_ledger where period = %s",
            PERIOD,
        )
        assert files == exp["files"]
        assert loaded == exp["rows"] and quarantined == exp["problems"]
        assert read == loaded + quarantined
        assert _one(conn, "select count(*) from raw.quarantine") == exp["problems"]
        assert exp["problems"] > 0, "the demo plants bad rows; they must be quarantined, not dropped"


def test_marts_hold_the_submitted_values(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    exp = monthly_run["expected"]
    with psycopg.connect(warehouse_dsn) as conn:
        n, total = _one(
            conn,
            "select count(*), sum(numerator) from marts.fct_indicator_monthly where period = %s",
            PERIOD,
        )
        # What an error holds (a numerator above its denominator, a broken funnel) is not published.
        assert exp["held_units"], "the demo plants a numerator above its denominator"
        assert n == exp["published_rows"] < exp["rows"]
        assert total == exp["published_numerator_sum"]
        on_time, late = _one(
            conn,
            "select count(*) filter (where timeliness = 'on_time'), count(*) filter (where timeliness = 'late') "
            "from marts.fct_submission where period = %s",
            PERIOD,
        )
        assert (on_time, late) == (exp["on_time"], exp["late"])
        assert _one(conn, "select count(*) from marts.dim_unit") == len(load_registry().units)


def test_quality_gate_holds_numerator_above_denominator(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    exp = monthly_run["expected"]
    assert exp["above"], "the demo plants a numerator above its denominator"
    with psycopg.connect(warehouse_dsn) as conn:
        flagged = set(
            conn.execute(
                """select unit_code, indicator_code, service_code from audit.violation
                   where period = %s and check_code = 'numerator_exceeds_denominator'
                     and status = 'open' and severity = 'error'""",
                (PERIOD,),
            ).fetchall()
        )
        published = conn.execute(
            "select count(*) from marts.fct_indicator_monthly where period = %s and unit_code = any(%s)",
            (PERIOD, sorted(exp["held_units"])),
        ).fetchone()
        held = conn.execute(
            "select count(*) from marts.mart_unit_quality_monthly where period = %s and is_held",
            (PERIOD,),
        ).fetchone()
    assert flagged == exp["above"]
    assert published == (0,)
    assert held == (len(exp["held_units"]),)


def test_report_e_mails_in_vietnamese_one_per_address(monthly_run: dict[str, Any], smtp_sink: SmtpSink) -> None:
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(smtp_sink.outbox.glob("*.eml"))
    ]
    to = [str(m["To"]) for m in messages]
    assert len(to) == len(set(to)), "each address gets one message"
    assert all("," not in t and "Cc" not in m for t, m in zip(to, messages, strict=True)), "no other address"
    (msg,) = [m for m in messages if str(m["To"]) == "cat@angiang.d06.example"]  # the standing office
    assert PERIOD in str(msg["Subject"]) and "Đề án 06" in str(msg["Subject"])
    html = msg.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "Báo cáo chất lượng dữ liệu Đề án 06" in content
    assert "Tử số không vượt quá mẫu số" in content
    # The demo has both provinces: each Công an tỉnh gets the summary; every other message is a unit's.
    offices = {"cat@angiang.d06.example", "cat@dongthap.d06.example"}
    units = [m for m in messages if str(m["To"]) not in offices]
    assert offices <= set(to)
    (dong_thap,) = [m for m in messages if str(m["To"]) == "cat@dongthap.d06.example"]
    dt_html = dong_thap.get_body(preferencelist=("html",))
    assert dt_html is not None and "(AG." not in dt_html.get_content(), "each office's summary lists its province"
    assert "(AG." in content
    assert units and all("số liệu cần sửa hoặc giải trình" in str(m["Subject"]) for m in units)
    assert list(reports_dir().glob(f"{PERIOD}/*.html")), "the report is also kept on disk"


def test_summary_matches_sql(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    exp = monthly_run["expected"]
    s = period_summary(PERIOD)
    assert (s["files"], s["rows_loaded"], s["rows_quarantined"]) == (exp["files"], exp["rows"], exp["problems"])
    assert s["checks_failed"] >= 1 and s["checks_passed"] >= 1
    assert s["fct_indicator_monthly_rows_for_period"] == exp["published_rows"]
    assert s["email_path"] and Path(s["email_path"]).exists()
    assert s["report_path"] and Path(s["report_path"]).exists()


def test_loading_the_same_files_again_changes_nothing(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    from ingest.pipeline import ingest_period

    totals = ingest_period(PERIOD, run_id="rerun")
    assert totals["loaded"] == 0 and totals["duplicate"] == monthly_run["expected"]["files"]
    with psycopg.connect(warehouse_dsn) as conn:
        assert _one(conn, "select count(*) from audit.load_ledger") == monthly_run["expected"]["files"]


def test_the_word_report_in_the_inbox_became_facts_and_findings(
    monthly_run: dict[str, Any], warehouse_dsn: str
) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        facts = _one(
            conn,
            "select count(*) from marts.fct_indicator_monthly "
            "where unit_code = 'AG.STP' and period = %s and source_kind = 'narrative' and snippet is not null",
            PERIOD,
        )
        findings = _one(conn, "select count(*) from raw.narrative_finding where code = 'rate_mismatch'")
    assert facts >= 8
    assert findings == 1, "the demo report states 100% for a service that is not at 100%"
