"""Least privilege (issue 12 §6): what each service's role may and may not do in the warehouse.

The matrix below is written by hand from the roles' purpose (ingest/warehouse/roles.py): each
statement is tried as the role (``SET ROLE`` inside a transaction that is rolled back) and must
succeed or be refused with PostgreSQL's "permission denied", exactly as the matrix says.  The
row-level security of the readers is tested row by row in tests/test_row_security.py.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from ingest.pipeline import prepare_warehouse

pytestmark = [pytest.mark.warehouse]

LOADER, TRANSFORMER, BI, UNIT = "d06_loader", "d06_transformer", "bi_reader", "unit_reader"

# Inserts that write no row: PostgreSQL checks the INSERT (and SELECT) privilege all the same.
RAW_ROW = "insert into raw.submission_row select * from raw.submission_row where false"
LEDGER_ROW = "insert into audit.load_ledger select * from audit.load_ledger where false"
# statement -> the roles that may run it (every other role must be refused)
MATRIX: dict[str, set[str]] = {
    "select count(*) from raw.submission_row": {LOADER, TRANSFORMER},
    RAW_ROW: {LOADER},
    "delete from raw.submission_row": {LOADER},
    "select count(*) from audit.load_ledger": {LOADER, TRANSFORMER},
    LEDGER_ROW: {LOADER},
    "select count(*) from registry.unit": {LOADER, TRANSFORMER},
    "update registry.unit set unit_name = unit_name": set(),
    "create table raw.intruder (x int)": set(),
    "create table audit.intruder (x int)": set(),
    "create table public.intruder (x int)": set(),
    "create schema dbt_scratch_for_test": {TRANSFORMER},
    "select count(*) from portal.upload": {LOADER},
}


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str) -> str:
    prepare_warehouse()
    with psycopg.connect(warehouse_dsn) as conn:  # the readers' roles, as `d06 db init` makes them
        conn.execute("do $$ begin create role bi_reader login; exception when duplicate_object then null; end $$")
        from ingest.warehouse.access import ensure_reader_roles

        ensure_reader_roles(conn)
    return warehouse_dsn


def _allowed(dsn: str, role: str, statement: str) -> bool:
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(f'set local role "{role}"')
            conn.execute(statement)
            return True
        except errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()


@pytest.mark.parametrize("role", [LOADER, TRANSFORMER, BI, UNIT])
@pytest.mark.parametrize("statement", sorted(MATRIX))
def test_each_role_may_do_only_what_the_matrix_says(warehouse: str, role: str, statement: str) -> None:
    expected = role in MATRIX[statement]
    assert _allowed(warehouse, role, statement) is expected, f"{role}: {statement}"


def test_the_readers_cannot_read_a_landing_table_or_a_ledger_at_all(warehouse: str) -> None:
    with psycopg.connect(warehouse) as conn:
        for role in (BI, UNIT):
            for table in ("raw.submission_row", "raw.quarantine", "audit.load_ledger", "audit.violation"):
                rights = conn.execute(
                    "select has_table_privilege(%s, %s, 'select, insert, update, delete')", (role, table)
                ).fetchone()
                assert rights == (False,), f"{role} has a right on {table}"


def test_the_landing_writes_with_the_loaders_rights_only(warehouse: str) -> None:
    """Take the loader's right to insert landing rows away: the landing of a file fails (it runs
    as d06_loader, not as the warehouse owner); given back, the same file lands.  (The landing is
    called directly: ``d06 db init``, which every run starts with, would grant the right again.)"""
    import datetime as dt

    from ingest.config import inbox_dir
    from ingest.demo import write_demo_inbox
    from ingest.landing.land import land_paths
    from ingest.pipeline import LandingContext, inbox_files
    from ingest.registry import load_registry

    period = "2026-03"
    write_demo_inbox(inbox_dir(), period, provinces=["AG"])
    files = inbox_files(period)[:3]
    ctx = LandingContext(load_registry(), dt.date(2026, 4, 5), period)
    with psycopg.connect(warehouse) as conn:
        conn.execute("revoke insert on raw.submission_row from d06_loader")
    with psycopg.connect(warehouse) as conn:
        refused = land_paths(conn, files, batch_id="roles-refused", ctx=ctx)
    with psycopg.connect(warehouse) as conn:
        conn.execute("grant insert on raw.submission_row to d06_loader")
    assert [o.status for o in refused] == ["failed"] * len(files), refused
    with psycopg.connect(warehouse) as conn:
        landed = land_paths(conn, files, batch_id="roles-granted", ctx=ctx)
    assert [o.status for o in landed] == ["loaded"] * len(files), landed
