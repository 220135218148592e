"""Fault tests of whole monthly runs (issue 12 §5), each through ``airflow dags test`` of the real
DAG with its real retries, the project's own PostgreSQL cluster and a real SMTP sink:

* a malformed file in the middle of a batch: the files before and after it load, and it is held
  out with a bilingual reason that names it (its ledger row says so);
* PostgreSQL restarted mid-run: tests/test_fault_restart.py (a database of its own);
* the mail server is down: the month is published and the report kept on disk, the run fails
  loudly (``send_report`` failed, a failure notice to the operators); after the server is back,
  a re-run sends each message once, and one more re-run sends nothing.

Expected counts are the files and recipients the test makes or reads with its own SQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ingest.config import inbox_dir, reports_dir
from ingest.demo import write_demo_inbox
from ingest.pipeline import ingest_period, prepare_warehouse
from ingest.registry import load_registry
from ingest.reporting.smtp_sink import SmtpSink

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
ALERT_TO = "van-hanh@tinh.d06.example"


def _dags_test(period: str, log: Path, **extra: str) -> tuple[int, str]:
    """``airflow dags test d06_monthly_load`` for ``period`` with short retry delays; its exit
    status and output."""
    env = os.environ | {
        "D06_RETRY_DELAY_SECONDS": "2",
        "D06_ALERT_TO": ALERT_TO,
        "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{os.environ['D06_SMTP_PORT']}?disable_ssl=true&disable_tls=true",
    }
    env |= extra
    cmd = [AIRFLOW, "dags", "test", "d06_monthly_load", "--conf", json.dumps({"period": period})]
    with log.open("w") as out:
        status = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1500).returncode
    return status, log.read_text(errors="replace")


def _run_of(dsn: str, period: str) -> tuple[str, str, list[str]]:
    """The newest run of ``period``: its id, status and steps done (the pipeline's own record)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """select run_id, status, steps_done from audit.pipeline_run
                where period = %s order by started_at desc limit 1""",
            (period,),
        ).fetchone()
    assert row is not None, f"no run of {period}"
    return row[0], row[1], list(row[2])


@pytest.fixture(scope="module")
def sink(warehouse_dsn: str, smtp_sink: SmtpSink) -> SmtpSink:
    prepare_warehouse()
    return smtp_sink


# --- a malformed file in the middle of a batch --------------------------------------------------


def test_a_malformed_file_in_the_middle_of_a_batch_is_held_and_the_others_load(sink: SmtpSink) -> None:
    period = "2026-01"
    assert write_demo_inbox(inbox_dir(), period, provinces=["AG"]) > 10
    files = sorted(  # the unit files (received.csv is the inbox's manifest of receipt times)
        p
        for p in (inbox_dir() / period).iterdir()
        if p.suffix in {".csv", ".xlsx", ".json"} and p.name != "received.csv"
    )
    broken = files[len(files) // 2]
    broken.write_bytes(b"PK\x03\x04 not really a workbook \x00\xff" * 40)  # a truncated/corrupt file
    ingest_period(period, run_id="fault-malformed")
    with psycopg.connect(os.environ["WAREHOUSE_DSN"]) as conn:
        rows = conn.execute(
            "select file_name, status, error_vi, error_en from audit.load_ledger where batch_id = 'fault-malformed'"
        ).fetchall()
    by_name = {r[0]: r for r in rows}
    assert set(by_name) >= {p.name for p in files}, "every file of the batch has its ledger row"
    assert by_name[broken.name][1] == "rejected"
    _, _, reason_vi, reason_en = by_name[broken.name]  # its row names the file; the reason in both languages
    assert reason_vi and reason_en and reason_vi != reason_en
    others = [by_name[p.name][1] for p in files if p != broken]
    assert others and set(others) == {"loaded"}, "the files before and after it load"


# --- the mail server is down --------------------------------------------------------------------


def _messages(sink: SmtpSink, since: set[Path]) -> list[tuple[str, str]]:
    """(To, Subject) of the messages the sink received since ``since``."""
    import email
    from email import policy

    new = sorted(set(sink.outbox.glob("*.eml")) - since)
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in new]
    return [(str(m["To"]), str(m["Subject"])) for m in messages]


def _recipients(sink: SmtpSink, since: set[Path]) -> list[str]:
    return [to for to, _ in _messages(sink, since)]


def _published(dsn: str, period: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from marts.fct_indicator_monthly where period = %s", (period,)).fetchone()
    return int(row[0]) if row else 0


def _units_to_tell(dsn: str, period: str) -> set[str]:
    """Units that must hear (among others, such as leads of overdue plan tasks): a file not
    loaded, quarantined rows or an open error or warning of the period (an "info" finding is
    no reason to write), by the test's own SQL."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """select distinct unit_code from audit.load_ledger
                where period = %(p)s and (status <> 'loaded' or rows_quarantined > 0) and unit_code is not null
               union
               select distinct unit_code from audit.violation
                where period = %(p)s and status = 'open' and severity in ('error', 'warning')""",
            {"p": period},
        ).fetchall()
    return {r[0] for r in rows}


def test_the_mail_server_down_publishes_keeps_the_report_fails_loudly_and_a_rerun_sends_once(
    sink: SmtpSink, tmp_path: Path
) -> None:
    period = "2026-03"
    dsn = os.environ["WAREHOUSE_DSN"]
    assert write_demo_inbox(inbox_dir(), period, provinces=["AG"]) > 10
    before = set(sink.outbox.glob("*.eml"))
    closed = _closed_port()
    status, output = _dags_test(period, tmp_path / "down.log", D06_SMTP_PORT=str(closed))
    _, state, steps = _run_of(dsn, period)
    assert status != 0 and state == "failed", output[-3000:]
    assert "publish" in steps and "send_report" not in steps
    assert _published(dsn, period) > 0, "the month is published although the mail server is down"
    assert list((reports_dir() / period).glob("*.html")), "the report is kept on disk"
    notices = _messages(sink, before)
    assert {to for to, _ in notices} == {ALERT_TO}, "failure notices go to the operators, nobody else"
    failed = sorted(subject.split("d06_monthly_load.")[1].split(" ")[0] for _, subject in notices)
    assert failed == ["finish", "send_report"], "one notice for the send step, one for the run's end"

    before = set(sink.outbox.glob("*.eml"))
    status, output = _dags_test(period, tmp_path / "up.log")
    assert status == 0 and _run_of(dsn, period)[1] == "success", output[-3000:]
    sent = _recipients(sink, before)
    assert sent and len(sent) == len(set(sent)), "each recipient once"
    registry = load_registry()
    assert {registry.units[u].contact_email for u in _units_to_tell(dsn, period)} <= set(sent)

    before = set(sink.outbox.glob("*.eml"))
    status, output = _dags_test(period, tmp_path / "again.log")
    assert status == 0, output[-3000:]
    assert _recipients(sink, before) == [], "a third run of the month sends nothing again"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
