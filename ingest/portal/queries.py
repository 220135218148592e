"""What the portal's pages read, always for one unit: its uploads, files, quarantined rows,
history and violations.  Every query takes the unit's code and returns nothing of another unit.

>>> history(conn, "AG.STP")[0].period
'2026-11'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.quality.violations import ACTIVE, Violation, list_violations
from ingest.registry import Registry
from ingest.submissions.periods import deadline_day, is_on_time, report_deadline, shift_period

QUARANTINE_SHOWN = 500
"""Quarantined rows a result page lists (the rest are counted)."""


def current_period(today: dt.date) -> str:
    """The month units report now: the one before ``today``'s (due by the deadline day of this month)."""
    return shift_period(f"{today:%Y-%m}", -1)


def recent_periods(today: dt.date, months: int = 12) -> list[str]:
    """The reporting month and the ``months - 1`` before it, newest first."""
    return [shift_period(current_period(today), -i) for i in range(months)]


def _rows(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query.encode(), params).fetchall()


def upload(conn: psycopg.Connection[Any], upload_id: int, unit_code: str) -> dict[str, Any] | None:
    """One upload of ``unit_code`` with its ledger row's figures (None when it is another unit's)."""
    found = _rows(
        conn,
        """select u.upload_id, u.unit_code, u.period, u.file_name, u.size_bytes, u.received_at, u.status,
                  u.file_id, u.reason_vi, u.reason_en, l.unit_code as ledger_unit, l.status as ledger_status,
                  l.rows_read, l.rows_loaded, l.rows_quarantined, l.error_vi, l.error_en, l.notices,
                  l.received_at as ledger_received_at, l.received_at_source
           from portal.upload u left join audit.load_ledger l on l.file_id = u.file_id
           where u.upload_id = %(id)s and u.unit_code = %(unit)s""",
        {"id": upload_id, "unit": unit_code},
    )
    return found[0] if found else None


def owns_file(conn: psycopg.Connection[Any], file_id: int, unit_code: str) -> bool:
    """Whether a ledger file is ``unit_code``'s: its rows are the unit's, or the unit uploaded it."""
    row = conn.execute(
        """select exists (select 1 from audit.load_ledger where file_id = %(f)s and unit_code = %(u)s)
               or exists (select 1 from portal.upload where file_id = %(f)s and unit_code = %(u)s
                          and status <> 'duplicate')""",
        {"f": file_id, "u": unit_code},
    ).fetchone()
    return bool(row and row[0])


def quarantined(conn: psycopg.Connection[Any], file_id: int) -> list[dict[str, Any]]:
    """A file's quarantined rows in file order (the first ``QUARANTINE_SHOWN``)."""
    return _rows(
        conn,
        """select row_no, column_name, raw_value, reason_vi, reason_en from raw.quarantine
           where file_id = %(f)s order by row_no limit %(n)s""",
        {"f": file_id, "n": QUARANTINE_SHOWN},
    )


@dataclass
class Month:
    """A month of a unit's submissions: its files, newest first, and whether it was on time."""

    period: str
    deadline: dt.datetime
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_day(self) -> dt.date:
        """The last day on which the month's files are on time."""
        return deadline_day(self.period)

    @property
    def first_received(self) -> dt.datetime | None:
        times = [f["received_at"] for f in self.files if f["status"] in ("loaded", "held")]
        return min(times) if times else None

    @property
    def on_time(self) -> bool | None:
        first = self.first_received
        return None if first is None else is_on_time(first, self.period)


_HISTORY = """
    select l.period, l.file_name, l.received_at, l.received_at_source, l.status, l.rows_loaded,
           l.rows_quarantined, l.error_vi, l.file_id, p.upload_id, (p.upload_id is not null) as via_portal
    from audit.load_ledger l
    left join lateral (select min(upload_id) as upload_id from portal.upload
                       where file_id = l.file_id and unit_code = %(unit)s and status <> 'duplicate') p on true
    where l.period is not null
      and (l.unit_code = %(unit)s or p.upload_id is not null)
    union all
    select u.period, u.file_name, u.received_at, 'supplied', u.status, 0, 0, u.reason_vi, u.file_id,
           u.upload_id, true
    from portal.upload u
    where u.unit_code = %(unit)s and u.status in ('refused', 'duplicate')
    order by 1 desc, 3 desc
"""


def history(conn: psycopg.Connection[Any], unit_code: str) -> list[Month]:
    """Every file of ``unit_code`` by month (newest first): from the inbox or the portal, with its
    receipt time and status, and the portal's refusals and duplicates."""
    months: dict[str, Month] = {}
    for row in _rows(conn, _HISTORY, {"unit": unit_code}):
        period = row["period"]
        if period not in months:
            months[period] = Month(period, report_deadline(period))
        row["on_time"] = is_on_time(row["received_at"], period)
        months[period].files.append(row)
    return list(months.values())


def active_violations(conn: psycopg.Connection[Any], registry: Registry, unit_code: str) -> list[Violation]:
    """The unit's open and explained violations, newest month first, most serious first."""
    periods = [
        r[0]
        for r in conn.execute(
            """select distinct period from audit.violation where unit_code = %s and status = any(%s)
               order by period desc""",
            (unit_code, list(ACTIVE)),
        ).fetchall()
    ]
    return [v for p in periods for v in list_violations(conn, registry, period=p, unit=unit_code, status=ACTIVE)]


def iter_scope(registry: Registry, scope: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(code, name) of the units in ``scope``, in code order."""
    for code in sorted(scope):
        yield code, registry.units[code].name_vi
