"""Closing (locking) and reopening a period.

A file loaded for a closed period is recorded (ledger, raw rows, quarantine) and reported, but
does not change the official marts until the period is reopened: dbt holds files loaded after
the lock (``int_submission_files__effective``).
"""

from __future__ import annotations

from typing import Any

import psycopg


def close_period(conn: psycopg.Connection[Any], period: str, closed_by: str) -> bool:
    """Close ``period``; return False if it was already closed."""
    cur = conn.execute(
        "insert into audit.period_lock (period, closed_by) values (%s, %s) on conflict (period) do nothing",
        (period, closed_by),
    )
    return cur.rowcount == 1


def reopen_period(conn: psycopg.Connection[Any], period: str) -> bool:
    """Reopen ``period``; held files then count again.  Return False if it was not closed."""
    return conn.execute("delete from audit.period_lock where period = %s", (period,)).rowcount == 1


def closed_periods(conn: psycopg.Connection[Any]) -> list[tuple[str, Any, str]]:
    return conn.execute("select period, closed_at, closed_by from audit.period_lock order by period").fetchall()


def held_files(conn: psycopg.Connection[Any], period: str) -> list[tuple[int, str, str | None]]:
    """Files with rows for ``period`` loaded after it was closed: (file_id, file_name, unit_code).

    The lock applies to each row's own month, so a file mostly about another month is held for
    the rows it carries for this one."""
    return conn.execute(
        """select l.file_id, l.file_name, l.unit_code
           from audit.load_ledger l join audit.period_lock k on k.period = %s
           where l.loaded_at > k.closed_at
             and (l.period = k.period
                  or exists (select 1 from raw.submission_row r where r.file_id = l.file_id and r.period = k.period))
           order by l.file_id""",
        (period,),
    ).fetchall()
