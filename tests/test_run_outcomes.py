"""A monthly run always ends success or failed, with a summary, and never with a traceback.

The inbox is built by hand: three valid files, one poisoned file, one file with a value no
column can hold.  Expected outcomes are stated from how the files were written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import environment

from ingest.config import inbox_dir
from ingest.pipeline import STEPS

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-02"
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator", "reported_rate"]
VALID_UNITS = ["AG.STP", "AG.CAT", "AG.BHXH"]


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode()


def _d06(*args: str) -> subprocess.CompletedProcess[str]:
    d06 = Path(sys.executable).parent / "d06"
    return subprocess.run([str(d06), *args], capture_output=True, text=True, timeout=600, env=dict(os.environ))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def inbox(warehouse_dsn: str) -> Path:
    folder = inbox_dir() / PERIOD
    folder.mkdir(parents=True, exist_ok=True)
    for unit in VALID_UNITS:
        (folder / f"{unit}.csv").write_bytes(_csv([[unit, PERIOD, "HT_SYNCED", "NA", 700, 1000, "70%"]]))
    # Poison: JSON nested 100,000 levels deep (a RecursionError on the old main).
    (folder / "AG.SYT.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    # A count no bigint holds, beside a valid row: the row is quarantined, the file loads.
    big = _csv(
        [
            ["AG.SGDDT", PERIOD, "HT_SYNCED", "NA", "9" * 30, 1000, ""],
            ["AG.SGDDT", PERIOD, "HT_SCANNED", "NA", 5, 10, ""],
        ]
    )
    (folder / "AG.SGDDT.csv").write_bytes(big)
    # A typo in an optional header ("Mẫu  sồ" for "Mẫu số"): the file loads, with a warning.
    typo = "Mã đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Mã dịch vụ,Tử số,Mẫu  sồ\nAG.SNV,02/2026,HT_SYNCED,NA,40,50\n"
    (folder / "AG.SNV.csv").write_bytes(typo.encode())
    return folder


def test_a_poisoned_file_fails_the_run_after_the_rest_loaded_and_the_report_went_out(
    inbox: Path, warehouse_dsn: str, smtp_sink: object
) -> None:
    result = _d06("run", "--period", PERIOD, "--run-id", "poisoned")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "run poisoned failed" in result.stderr and "1 rejected" in result.stderr
    with psycopg.connect(warehouse_dsn) as conn:
        ledger = dict(
            conn.execute("select file_name, status from audit.load_ledger where batch_id = 'poisoned'").fetchall()
        )
        quarantined = conn.execute(
            "select q.reason_code, q.column_name from raw.quarantine q join audit.load_ledger l using (file_id) "
            "where l.file_name = 'AG.SGDDT.csv'"
        ).fetchall()
        run = conn.execute(
            "select status, steps_done, summary->>'rows_read' from audit.pipeline_run where run_id = 'poisoned'"
        ).fetchone()
        facts = conn.execute(
            "select count(*) from marts.fct_indicator_monthly where period = %s and indicator_code = 'HT_SYNCED' "
            "and unit_code = any(%s)",
            (PERIOD, VALID_UNITS),
        ).fetchone()
    assert ledger == {
        "AG.STP.csv": "loaded",
        "AG.CAT.csv": "loaded",
        "AG.BHXH.csv": "loaded",
        "AG.SYT.json": "rejected",
        "AG.SGDDT.csv": "loaded",
        "AG.SNV.csv": "loaded",
    }
    assert quarantined == [("number_too_large", "numerator")]
    assert run is not None and run[0] == "failed"
    assert set(run[1]) == set(STEPS)
    assert run[2] == "6"  # 3 valid rows + 2 rows of AG.SGDDT.csv + 1 of AG.SNV.csv; the rejected file has none
    assert facts == (3,)
    with psycopg.connect(warehouse_dsn) as conn:
        (notices,) = conn.execute("select notices from audit.load_ledger where file_name = 'AG.SNV.csv'").fetchone()  # type: ignore[misc]
        (denominator,) = conn.execute(
            "select denominator from raw.submission_row r join audit.load_ledger l using (file_id) "
            "where l.file_name = 'AG.SNV.csv'"
        ).fetchone()  # type: ignore[misc]
    assert denominator is None  # the column was not recognised, so nothing was guessed ...
    unknown = [n for n in notices if n["code"] == "unknown_column"]
    assert len(unknown) == 1 and unknown[0]["severity"] == "warning"  # ... but the unit is told
    assert "Mẫu  sồ" in unknown[0]["message_vi"] and "Mẫu số" in unknown[0]["message_vi"]
    outbox = Path(os.environ["D06_OUTBOX"])
    assert any(
        PERIOD.replace("-", "") in p.read_text(errors="replace") or PERIOD in p.read_text(errors="replace")
        for p in outbox.glob("*.eml")
    )


def test_a_mail_server_that_is_down_fails_the_run_cleanly(inbox: Path, warehouse_dsn: str) -> None:
    # The module's earlier runs e-mailed this month already, and a re-run does not send the same
    # e-mails again (audit.mail_delivery): as if none had gone, so that this run has mail to send.
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("delete from audit.mail_delivery where period = %s", (PERIOD,))
    with environment(D06_SMTP_HOST="127.0.0.1", D06_SMTP_PORT=str(_closed_port())):
        result = _d06("run", "--period", PERIOD, "--run-id", "smtp-down")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "run smtp-down failed" in result.stderr and "send_report" in result.stderr
    with psycopg.connect(warehouse_dsn) as conn:
        status, error, steps = conn.execute(
            "select status, error, steps_done from audit.pipeline_run where run_id = 'smtp-down'"
        ).fetchone()  # type: ignore[misc]
    assert status == "failed" and error.startswith("send_report")
    assert "send_report" not in steps and "render_report" in steps


def test_the_dag_run_fails_after_the_report_when_a_file_is_poisoned(warehouse_dsn: str, smtp_sink: object) -> None:
    period = "2026-01"
    folder = inbox_dir() / period
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "AG.STP.csv").write_bytes(_csv([["AG.STP", period, "HT_SYNCED", "NA", 600, 1000, "60%"]]))
    # Poison unlike the module's (same bytes would be a duplicate of that file, not a new one).
    (folder / "AG.CAT.json").write_bytes(b"[" * 100_001 + b"]" * 100_001)
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow), "dags", "test", "d06_monthly_load", "--conf", json.dumps({"period": period})],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ),
    )
    assert result.returncode != 0
    with psycopg.connect(warehouse_dsn) as conn:
        status, steps, summary = conn.execute(
            "select status, steps_done, summary from audit.pipeline_run where period = %s", (period,)
        ).fetchone()  # type: ignore[misc]
        ledger = dict(
            conn.execute("select file_name, status from audit.load_ledger where period = %s", (period,)).fetchall()
        )
    assert status == "failed"
    assert set(steps) == set(STEPS)  # the report went out
    assert ledger == {"AG.STP.csv": "loaded", "AG.CAT.json": "rejected"}
    assert (summary["loaded"], summary["rejected"], summary["rows_loaded"]) == (1, 1, 1)


def test_a_run_killed_midway_is_closed_as_failed_by_the_next_run(warehouse_dsn: str) -> None:
    from ingest.pipeline import prepare_warehouse, start_run

    prepare_warehouse()
    start_run("killed", "2025-11")  # its process dies here: nothing ever finishes it
    start_run("next", "2025-11")
    with psycopg.connect(warehouse_dsn) as conn:
        runs = dict(
            conn.execute("select run_id, (status, error) from audit.pipeline_run where period = '2025-11'").fetchall()
        )
    assert runs["killed"] == ("failed", "interrupted: superseded by run next")
    assert runs["next"] == ("running", None)
