"""`d06 db backup` / `d06 db restore` round trip (issue 12 §8): a published warehouse is dumped,
restored into an empty database, and the restored marts and raw tables are the same (checksum of
every official mart, and the row counts of the landing tables, compared with the original)."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import psycopg
import pytest
from conftest import environment

from ingest.cli import main as d06
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.warehouse.checksum import marts_checksum
from ingest.warehouse.db import connect, scratch_database

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"
COUNTS = "select (select count(*) from raw.submission_row), (select count(*) from audit.load_ledger)"


def _state(dsn: str) -> tuple[dict[str, str], tuple[int, int]]:
    with psycopg.connect(dsn) as conn:
        return marts_checksum(conn), conn.execute(COUNTS).fetchone()  # type: ignore[return-value]


def test_a_backup_restores_the_same_warehouse(warehouse_dsn: str, server_dsn: str, tmp_path: Path) -> None:
    prepare_warehouse()
    path = tmp_path / "AG.STP.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator"])
        w.writerow(["AG.STP", PERIOD, "TTHC_DIGITISED_DOSSIER", "NA", 7, 9])
    with connect() as conn:
        land_paths(conn, [path], batch_id="b1", ctx=LandingContext(load_registry(), dt.date(2026, 4, 2), PERIOD))
    build_models(period=PERIOD)
    before = _state(warehouse_dsn)
    assert before[1] == (1, 1) and before[0]

    backup = tmp_path / "kho.dump"
    assert d06(["db", "backup", "--file", str(backup)]) == 0
    assert backup.stat().st_size > 0 and oct(backup.stat().st_mode & 0o777) == "0o600"
    # Restoring over the live warehouse is refused without --force.
    assert d06(["db", "restore", "--file", str(backup)]) == 1

    with scratch_database(server_dsn, "d06_restore") as fresh, environment(WAREHOUSE_DSN=fresh):
        assert d06(["db", "restore", "--file", str(backup)]) == 0
        assert _state(fresh) == before
        assert os.environ["WAREHOUSE_DSN"] == fresh
