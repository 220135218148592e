"""The violation ledger as people use it: list a period's findings, explain or accept one.

The quality gate writes ``audit.violation`` (one row per check x unit x indicator x service x
period); this module reads it in the catalogue's order and records the two decisions a person
makes about a finding, with who made it, when, and why:

    explain   a comment on a finding; an explained error still holds its unit x period
    accept    the figure is confirmed true; an accepted error is published

A corrected finding (the gate no longer finds it) can be neither.  Errors are named and carry
their message in Vietnamese and in English.

>>> with connect() as conn:
...     explain(conn, 42, by="phong.ktdl", comment="Số liệu đúng, đã xác minh với đơn vị").status
'explained'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.registry import Registry

SEVERITIES = ("error", "warning", "info")
"""Every severity, most serious first: the order findings are listed in."""
STATUSES = ("open", "explained", "corrected", "accepted")
ACTIVE = ("open", "explained")
"""Statuses a unit still has to act on (an open or explained error holds its unit x period)."""
SEVERITY_VI = {"error": "lỗi — giữ lại, không công bố", "warning": "cảnh báo", "info": "thông tin"}
STATUS_VI = {"open": "mở", "explained": "đã giải trình", "corrected": "đã sửa", "accepted": "đã chấp nhận"}

_COLUMNS = """violation_id, check_code, severity, status, unit_code, indicator_code, service_code, period,
              "values", file_id, first_run_id, last_run_id, first_seen_at, last_seen_at,
              status_by, status_comment, status_at"""


class ViolationError(Exception):
    """A request about the violation ledger that cannot be met; the message is in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en


class ViolationNotFound(ViolationError):
    """No violation has this id."""


class ViolationStateError(ViolationError):
    """The finding's status does not allow this change."""


class ViolationCorrected(ViolationStateError):
    """The finding was corrected: there is nothing left to explain or accept."""


class ViolationInputError(ViolationError):
    """A filter value or an argument is not valid (unknown check, empty comment, ...)."""


@dataclass(frozen=True)
class Violation:
    """One row of ``audit.violation``."""

    violation_id: int
    check_code: str
    severity: str
    status: str
    unit_code: str
    indicator_code: str | None
    service_code: str | None
    period: str
    values: dict[str, Any]
    file_id: int | None
    first_run_id: str
    last_run_id: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    status_by: str | None
    status_comment: str | None
    status_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready values (times in ISO 8601), as ``d06 violations --json`` prints it."""
        return {
            "id": self.violation_id,
            "check": self.check_code,
            "severity": self.severity,
            "status": self.status,
            "unit_code": self.unit_code,
            "indicator_code": self.indicator_code,
            "service_code": self.service_code,
            "period": self.period,
            "values": self.values,
            "file_id": self.file_id,
            "first_run_id": self.first_run_id,
            "last_run_id": self.last_run_id,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "status_by": self.status_by,
            "status_comment": self.status_comment,
            "status_at": self.status_at.isoformat() if self.status_at else None,
        }


def _violation(row: dict[str, Any]) -> Violation:
    return Violation(**{k: v for k, v in row.items() if k in Violation.__dataclass_fields__})


def _one_of(kind_vi: str, kind_en: str, value: str, valid: Iterable[str]) -> None:
    valid = list(valid)
    if value not in valid:
        raise ViolationInputError(
            f"{kind_vi} không hợp lệ: {value!r}; các giá trị hợp lệ: {', '.join(valid)}",
            f"unknown {kind_en} {value!r}; valid: {', '.join(valid)}",
        )


def _statuses(status: str | Iterable[str] | None) -> list[str]:
    chosen = list(STATUSES) if status is None else [status] if isinstance(status, str) else list(status)
    for s in chosen:
        _one_of("trạng thái", "status", s, STATUSES)
    return chosen


def _filters(
    registry: Registry, unit: str | None, status: str | Iterable[str] | None, check: str | None, severity: str | None
) -> tuple[str, dict[str, Any]]:
    """The where clause (after ``period``) and its parameters; an unknown value is a ``ViolationInputError``."""
    where = ["period = %(period)s", "status = any(%(statuses)s)"]
    params: dict[str, Any] = {"statuses": _statuses(status)}
    if check is not None:
        _one_of("mã kiểm tra", "check", check, registry.checks)
        where.append("check_code = %(check)s")
        params["check"] = check
    if severity is not None:
        _one_of("mức độ", "severity", severity, SEVERITIES)
        where.append("severity = %(severity)s")
        params["severity"] = severity
    if unit is not None:
        where.append("unit_code = %(unit)s")
        params["unit"] = unit
    return " and ".join(where), params


_ORDER = """array_position(%(severities)s::text[], severity), array_position(%(checks)s::text[], check_code),
            check_code, unit_code, indicator_code nulls first, service_code nulls first, violation_id"""
"""Errors, warnings, info; then the catalogue's order (a code it lacks comes last); then unit, indicator, service."""


def _select(
    registry: Registry,
    *,
    period: str,
    unit: str | None,
    status: str | Iterable[str] | None,
    check: str | None,
    severity: str | None,
    limit_per_check: int | None,
) -> tuple[str, dict[str, Any]]:
    """The query of ``list_violations`` and its parameters."""
    where, params = _filters(registry, unit, status, check, severity)
    params |= {"period": period, "severities": list(SEVERITIES), "checks": list(registry.checks)}
    if limit_per_check is None:
        return f"select {_COLUMNS} from audit.violation where {where} order by {_ORDER}", params
    params["limit"] = limit_per_check
    ranked = f"""select {_COLUMNS}, row_number() over (partition by check_code order by {_ORDER}) as rank_in_check
                 from audit.violation where {where}"""
    return f"select * from ({ranked}) ranked where rank_in_check <= %(limit)s order by {_ORDER}", params


def iter_violations(
    conn: psycopg.Connection[Any],
    registry: Registry,
    *,
    period: str,
    unit: str | None = None,
    status: str | Iterable[str] | None = None,
    check: str | None = None,
    severity: str | None = None,
    limit_per_check: int | None = None,
) -> Iterator[Violation]:
    """A period's findings, filtered, most serious first (see ``_ORDER``), read through a
    server-side cursor (never all in memory).

    ``status`` is one status or several (default: all); ``limit_per_check`` keeps the first
    findings of each check (``count_by_check`` says how many there are).  An unknown status,
    check or severity is a ``ViolationInputError`` naming the valid ones.  ``conn`` must not be
    in autocommit mode (a server-side cursor lives in a transaction)."""
    query, params = _select(
        registry,
        period=period,
        unit=unit,
        status=status,
        check=check,
        severity=severity,
        limit_per_check=limit_per_check,
    )
    with conn.cursor(name="violations", row_factory=dict_row) as cur:
        cur.itersize = 5000
        cur.execute(query.encode(), params)
        for row in cur:
            yield _violation(row)


def list_violations(conn: psycopg.Connection[Any], registry: Registry, **filters: Any) -> list[Violation]:
    """``iter_violations`` as a list: ``list_violations(conn, registry, period="2026-03", status="open")``."""
    return list(iter_violations(conn, registry, **filters))


@dataclass(frozen=True)
class CheckCount:
    check_code: str
    severity: str
    """The most serious severity among its findings (the catalogue's, when the gate wrote them)."""
    count: int


def count_by_check(
    conn: psycopg.Connection[Any],
    registry: Registry,
    period: str,
    *,
    status: str | Iterable[str] | None = ACTIVE,
) -> list[CheckCount]:
    """How many findings of a period each check has (by default the open and explained ones),
    most serious first, then in the catalogue's order."""
    rows = conn.execute(
        """select check_code, min(array_position(%(severities)s::text[], severity)) as rank, count(*)
           from audit.violation where period = %(period)s and status = any(%(statuses)s)
           group by check_code
           order by rank, array_position(%(checks)s::text[], check_code), check_code""",
        {
            "period": period,
            "statuses": _statuses(status),
            "severities": list(SEVERITIES),
            "checks": list(registry.checks),
        },
    ).fetchall()
    return [CheckCount(code, SEVERITIES[rank - 1], int(n)) for code, rank, n in rows]


def held_units(conn: psycopg.Connection[Any], period: str) -> dict[str, int]:
    """Units held out of the period's official figures: unit code -> its open or explained errors."""
    rows = conn.execute(
        """select unit_code, count(*) from audit.violation
           where period = %s and severity = 'error' and status = any(%s)
           group by unit_code order by unit_code""",
        (period, list(ACTIVE)),
    ).fetchall()
    return {code: int(n) for code, n in rows}


def get_violation(conn: psycopg.Connection[Any], violation_id: int, *, lock: bool = False) -> Violation:
    """One finding by id (locked for update with ``lock``); ``ViolationNotFound`` when there is none."""
    query = f"select {_COLUMNS} from audit.violation where violation_id = %s" + (" for update" if lock else "")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query.encode(), (violation_id,)).fetchone()
    if row is None:
        raise ViolationNotFound(f"không có vi phạm số {violation_id}", f"no violation with id {violation_id}")
    return _violation(row)


_ALLOWED = {"explained": ("open", "explained"), "accepted": ("open", "explained")}
_ACTION_VI = {"explained": "giải trình", "accepted": "chấp nhận"}
_ACTION_EN = {"explained": "explain", "accepted": "accept"}


def _change_status(conn: psycopg.Connection[Any], violation_id: int, new: str, by: str, comment: str) -> Violation:
    """Set a finding's status, recording who, when and why, if its current status allows it."""
    by, comment = (by or "").strip(), (comment or "").strip()
    if not by or not comment:
        raise ViolationInputError(
            "cần ghi rõ người thực hiện (--by) và nội dung (--comment)", "--by and --comment are required, non-empty"
        )
    with conn.transaction():
        current = get_violation(conn, violation_id, lock=True)
        if current.status == "corrected":
            raise ViolationCorrected(
                f"vi phạm số {violation_id} đã được sửa, không thể {_ACTION_VI[new]}",
                f"violation {violation_id} was corrected: it cannot be {new}",
            )
        if current.status not in _ALLOWED[new]:
            raise ViolationStateError(
                f"vi phạm số {violation_id} đang ở trạng thái '{STATUS_VI[current.status]}', "
                f"không thể {_ACTION_VI[new]}",
                f"cannot {_ACTION_EN[new]} violation {violation_id}: it is {current.status}",
            )
        conn.execute(
            """update audit.violation set status = %s, status_by = %s, status_comment = %s, status_at = now()
               where violation_id = %s""",
            (new, by, comment, violation_id),
        )
        return get_violation(conn, violation_id)


def explain(conn: psycopg.Connection[Any], violation_id: int, by: str, comment: str) -> Violation:
    """Record an explanation of an open or explained finding; an explained error still holds its unit."""
    return _change_status(conn, violation_id, "explained", by, comment)


def accept(conn: psycopg.Connection[Any], violation_id: int, by: str, comment: str) -> Violation:
    """Accept an open or explained finding as a true figure: an accepted error no longer holds its unit."""
    return _change_status(conn, violation_id, "accepted", by, comment)


def values_text(values: dict[str, Any]) -> str:
    """The values of a finding in a short readable form: ``numerator=900, denominator=856``."""
    return ", ".join(f"{k}={_value_text(v)}" for k, v in values.items())


def _value_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)
