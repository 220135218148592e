"""A period's deadline, and closing (locking) and reopening a period.

**Deadline.**  A month's submissions are due by the end of the deadline day of the following
month (``D06_REPORT_DEADLINE_DAY``, :func:`ingest.config.report_deadline_day`), in Asia/Ho_Chi_Minh
time: a file received at any time on that day is on time.  :func:`report_deadline` is the instant
a submission becomes late, the start of the next day (exclusive).  dbt reads the same setting
from ``registry.setting`` (``int_periods__calendar``).

>>> report_deadline("2026-03")
datetime.datetime(2026, 4, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Ho_Chi_Minh'))

**Locks.**  A file loaded for a closed period is recorded (ledger, raw rows, quarantine) and
reported, but does not change the official marts until the period is reopened: dbt holds files
loaded after the lock (``int_submission_files__effective``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from ingest.config import report_deadline_day

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""The time zone deadlines are evaluated in, and that a receipt time without one is read in."""


def deadline_day(period: str) -> dt.date:
    """The last day on which ``period``'s (``YYYY-MM``) submissions are on time."""
    year, month = (int(part) for part in period.split("-"))
    return dt.date(year + month // 12, month % 12 + 1, report_deadline_day())


def shift_period(period: str, months: int) -> str:
    """``period`` (YYYY-MM) moved by ``months``: ``shift_period("2026-01", -1) == "2025-12"``."""
    y, m = map(int, period.split("-"))
    index = y * 12 + (m - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def report_deadline(period: str) -> dt.datetime:
    """The instant ``period``'s submissions are late from (exclusive): the start of the day after
    the deadline day, Asia/Ho_Chi_Minh.  A file received before it is on time."""
    after = deadline_day(period) + dt.timedelta(days=1)
    return dt.datetime(after.year, after.month, after.day, tzinfo=TIMEZONE)


def is_on_time(received_at: dt.datetime, period: str) -> bool:
    """Whether a file received at ``received_at`` (timezone-aware) is on time for ``period``."""
    return received_at < report_deadline(period)


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
