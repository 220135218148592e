"""No personal data leaves the landing path: a BHXH extract with known ID numbers, BHXH codes,
names and birth dates goes through the whole monthly run (real Airflow, PostgreSQL, dbt, GX and
an SMTP server), and then the database (every schema), Airflow's XCom and task logs, the run's
output, the Data Docs, the report, the outbox and the archive are searched for those values and
for any free-standing 12-digit number.  None is found.

The values are written here by hand; the scan knows nothing of how the loader pseudonymises.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingest.config import data_dir, inbox_dir
from ingest.demo import write_demo_inbox
from ingest.registry import load_registry
from ingest.reporting.smtp_sink import SmtpSink

PERIOD = "2026-03"
pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

PEOPLE = [
    # bhxh_code, personal_id, full_name, birth_date, status
    ("7912345601", "079186001234", "Nguyễn Thị Mười Hai", "1986-04-12", "verified"),
    ("7912345602", "079190004321", "Trần Văn Bảy Tám", "1990-11-03", "mismatch"),
    ("7912345603", "", "Lê Hoàng Khánh Vy", "2001", "pending"),
    ("7912345604", "089075009876", "Phạm Quốc Thịnh Vượng", "1975-01-30", "not_found"),
    ("7912345605", "079203005555", "Huỳnh Ngọc Bảo Trâm", "2003-07-07", "verified"),
]
"""Fake participants; every value is distinctive enough to be found if it leaked anywhere."""
TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z.])(?<![0-9a-fA-F]{4}-)\d{12}(?![0-9A-Za-z.])")
"""A free-standing 12-digit number (a citizen ID's shape), not part of a hex digest, a code, a
dotted identifier such as an e-mail's Message-ID, or the last group of a UUID (Great Expectations
names its runs by UUID, whose last 12 hex digits are sometimes all decimal); the known ID numbers
are searched exactly too."""


def secrets_in_clear() -> list[str]:
    """The BHXH codes, ID numbers, full names and full birth dates (a bare year may be kept)."""
    return [v for person in PEOPLE for v in person[:4] if len(v) > 4]


def leaks(text: str) -> list[str]:
    """The personal values in ``text``, and any free-standing 12-digit number."""
    found = [v for v in secrets_in_clear() if v in text]
    return found + TWELVE_DIGITS.findall(text)


def write_bhxh_extract(folder: Path) -> Path:
    registry = load_registry()
    communes = sorted(
        u.code for u in registry.units.values() if u.kind == "commune" and u.valid_to is None and u.province_code
    )
    path = folder / "bhxh_xac_thuc_2026-03-28.csv"
    lines = ["extract_date,bhxh_code,personal_id,full_name,birth_date,commune_code,status,status_at"]
    for i, (code, pid, name, born, status) in enumerate(PEOPLE):
        lines.append(f"2026-03-28,{code},{pid},{name},{born},{communes[i % len(communes)]},{status},2026-03-20")
    lines.append(f"2026-03-28,79123,079186001234,Nguyễn Thị Mười Hai,1986-04-12,{communes[0]},verified,2026-03-20")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the last row is quarantined: a short code
    return path


@pytest.fixture(scope="module")
def monthly_run(warehouse_dsn: str, smtp_sink: SmtpSink) -> dict[str, Any]:
    write_demo_inbox(inbox_dir(), PERIOD)
    write_bhxh_extract(inbox_dir() / PERIOD)
    started = time.time()
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run(
        [str(airflow), "dags", "test", "d06_monthly_load", "--conf", json.dumps({"period": PERIOD})],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return {"returncode": proc.returncode, "output": proc.stdout + proc.stderr, "started": started}


def test_the_extract_was_loaded_pseudonymised(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        ledger = conn.execute(
            "select status, rows_read, rows_loaded, rows_quarantined from audit.load_ledger where source_kind = 'bhxh'"
        ).fetchall()
        keys = conn.execute("select count(distinct participant_key) from raw.bhxh_verification").fetchone()
    assert ledger == [("loaded", 6, 5, 1)], monthly_run["output"][-3000:]
    assert keys == (5,)


def _database_text(dsn: str) -> Iterator[tuple[str, str]]:
    """Every row of every table and view outside PostgreSQL's own schemas, as text."""
    with psycopg.connect(dsn) as conn:
        relations = conn.execute(
            """select format('%I.%I', table_schema, table_name) from information_schema.tables
               where table_schema not in ('pg_catalog', 'information_schema')"""
        ).fetchall()
        for (name,) in relations:
            for (row,) in conn.execute(f"select t::text from {name} t"):  # names from the catalog
                yield name, row


def test_no_personal_data_in_the_database(monthly_run: dict[str, Any], warehouse_dsn: str) -> None:
    found = {name: leaks(row) for name, row in _database_text(warehouse_dsn) if leaks(row)}
    assert found == {}


def _files(folder: Path, since: float = 0) -> Iterator[Path]:
    if folder.is_dir():
        yield from (p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime >= since)


def test_no_personal_data_in_logs_xcom_or_the_run_output(monthly_run: dict[str, Any]) -> None:
    assert leaks(monthly_run["output"]) == []
    home = Path(os.environ["AIRFLOW_HOME"])
    for log in _files(Path(os.environ.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER", home / "logs")), monthly_run["started"]):
        assert leaks(log.read_text(encoding="utf-8", errors="replace")) == [], log
    database = home / "airflow.db"
    if database.exists():
        with sqlite3.connect(database) as db:
            for (value,) in db.execute("select value from xcom where dag_id = 'd06_monthly_load'"):
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                assert leaks(text) == []


def test_no_personal_data_in_reports_data_docs_outbox_or_archive(monthly_run: dict[str, Any]) -> None:
    """Everything the run wrote under the data directory but the inbox (where the province put
    the extract), and the e-mails it sent; the archive keeps the extract encrypted."""
    inbox = inbox_dir().resolve()
    written = [p for p in _files(data_dir()) if inbox not in p.resolve().parents]
    written += list(_files(Path(os.environ["D06_OUTBOX"])))
    assert any(p.suffix == ".eml" for p in written), "the report was e-mailed"
    for path in written:
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        assert leaks(text) == [], path
        assert not any(v.encode() in data for v in secrets_in_clear()), path
