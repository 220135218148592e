"""Fault tests of whole monthly runs (issue 12 §5), each through ``airflow dags test`` of the real
DAG with its real retries, the project's own PostgreSQL cluster and a real SMTP sink:

* a malformed file in the middle of a batch: the files before and after it load, and it is held
  out with a bilingual reason that names it (its ledger row says so);
* PostgreSQL is restarted (stopped, down for a few seconds, started) while ``dbt build`` runs:
  the task fails, is retried, and the run ends ``success`` with marts equal to an in-process
  load of the same files into another database (the differential oracle of make test-deploy);
* the mail server is down: the month is published and the report kept on disk, the run fails
  loudly (``send_report`` failed, a failure notice to the operators); after the server is back,
  a re-run sends each message once, and one more re-run sends nothing.

Expected counts are the files and recipients the test makes or reads with its own SQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from conftest import REPO, scratch_database

from ingest.config import inbox_dir, reports_dir
from ingest.demo import write_demo_inbox
from ingest.pipeline import ingest_period, prepare_warehouse
from ingest.registry import load_registry
from ingest.reporting.smtp_sink import SmtpSink
from ingest.warehouse.checksum import marts_checksum

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


# --- PostgreSQL restarted during a run ----------------------------------------------------------


def _restart_when_dbt_runs(dsn: str, done: threading.Event, hits: list[str]) -> None:
    """Wait for a ``dbt`` connection to the test's database, then stop the cluster, keep it down
    for 3 s and start it again (scripts/warehouse.sh, without WAREHOUSE_DSN: the local cluster)."""
    database = dsn.rsplit("/", 1)[1].split("?")[0]
    query = "select count(*) from pg_stat_activity where datname = %s and application_name like 'dbt%%'"
    while not done.is_set():
        try:
            with psycopg.connect(dsn) as conn:
                if conn.execute(query, (database,)).fetchone() != (0,):
                    break
        except psycopg.OperationalError:
            pass
        time.sleep(0.2)
    else:
        return
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_DSN"}
    subprocess.run([str(REPO / "scripts/warehouse.sh"), "stop"], env=env, check=True, capture_output=True)
    hits.append("stopped")
    time.sleep(3)
    subprocess.run([str(REPO / "scripts/warehouse.sh"), "start"], env=env, check=True, capture_output=True)
    hits.append("started")


def _reference_checksum(server_dsn: str, data: Path, run_id: str, period: str, tmp: Path) -> dict[str, str]:
    """The same inbox loaded in-process into another database, with the same run id."""
    (tmp / "inbox").mkdir(parents=True)
    shutil.copytree(data / "inbox" / period, tmp / "inbox" / period)
    with scratch_database(server_dsn, "d06_ref") as ref:
        env = os.environ | {"WAREHOUSE_DSN": ref, "D06_DATA_DIR": str(tmp), "DBT_TARGET_PATH": str(tmp / "dbt")}
        for cmd in (
            [str(Path(sys.executable).with_name("d06")), "db", "init"],
            [sys.executable, str(REPO / "scripts/test_deploy.py"), "--reference", f"{run_id}={period}"],
        ):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        with psycopg.connect(ref) as conn:
            return marts_checksum(conn)


def test_postgresql_restarted_mid_run_the_tasks_retry_and_the_run_completes(
    sink: SmtpSink, server_dsn: str, tmp_path: Path
) -> None:
    period = "2026-02"
    dsn = os.environ["WAREHOUSE_DSN"]
    assert write_demo_inbox(inbox_dir(), period, provinces=["AG"]) > 10
    done, hits = threading.Event(), []
    restarter = threading.Thread(target=_restart_when_dbt_runs, args=(dsn, done, hits))
    restarter.start()
    try:
        status, output = _dags_test(period, tmp_path / "dags-test.log")
    finally:
        done.set()
        restarter.join(timeout=120)
    assert hits == ["stopped", "started"], "the cluster was not restarted during dbt build"
    assert "UP_FOR_RETRY" in output, "no task failed and was retried: the restart missed the run"
    run_id, state, steps = _run_of(dsn, period)
    assert (status, state) == (0, "success"), output[-3000:]
    assert {"ingest", "stage", "audit", "build", "quality_gate", "publish"} <= set(steps)
    with psycopg.connect(dsn) as conn:
        ours = marts_checksum(conn)
    data = Path(os.environ["D06_DATA_DIR"])
    assert ours == _reference_checksum(server_dsn, data, run_id, period, tmp_path / "reference")


# --- the mail server is down --------------------------------------------------------------------


def _recipients(sink: SmtpSink, since: set[Path]) -> list[str]:
    import email
    from email import policy

    new = sorted(set(sink.outbox.glob("*.eml")) - since)
    return [str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["To"]) for p in new]


def _published(dsn: str, period: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from marts.fct_indicator_monthly where period = %s", (period,)).fetchone()
    return int(row[0]) if row else 0


def _units_to_tell(dsn: str, period: str) -> set[str]:
    """Units that must hear (among others, such as leads of overdue plan tasks): a file not
    loaded, quarantined rows or an open finding of the period, by the test's own SQL."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """select distinct unit_code from audit.load_ledger
                where period = %(p)s and (status <> 'loaded' or rows_quarantined > 0) and unit_code is not null
               union
               select distinct unit_code from audit.violation where period = %(p)s and status = 'open'""",
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
    notices = _recipients(sink, before)
    assert notices == [ALERT_TO], "exactly one failure notice, to the operators"

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
