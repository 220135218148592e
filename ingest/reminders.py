"""Reminders before the deadline: each unit that has not yet submitted for the month is e-mailed.

The DAG ``d06_reminders`` runs daily from the 5th to the 10th at 08:00 Asia/Ho_Chi_Minh and calls
:func:`send_reminders` with the day.  The month due is the one before the day's; a unit has
submitted when a file of it for that month was loaded (a refused file does not count).  Each
reminder is in Vietnamese, carries the unit's template for the month and a link to the portal,
and lists the plan tasks the unit leads that are overdue.

A unit gets at most one reminder a day, even when the DAG is re-run or two runs overlap: the
send is claimed in ``audit.reminder_sent`` (unit, day) in the same transaction that sends it, and
a failed send releases the claim so that a retry sends it.

>>> send_reminders(dt.date(2026, 4, 7))
{'period': '2026-03', 'due': 118, 'sent': 118, 'already_sent': 0, 'failed': 0}
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from ingest.config import portal_url, smtp_settings
from ingest.registry import Registry, Unit, load_registry
from ingest.reporting.mailer import ReportDeliveryError, build_message, deliver
from ingest.reporting.plan_tasks import STATUS_VI, OverdueTask, overdue_tasks
from ingest.reporting.wording import date_vi, month_vi
from ingest.submissions.periods import deadline_day, shift_period
from ingest.submissions.template import write_template
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Reminder:
    unit: Unit
    period: str
    day: dt.date
    overdue: tuple[OverdueTask, ...]


def due_period(day: dt.date) -> str:
    """The month whose reports are due in the month of ``day``: the month before it."""
    return shift_period(f"{day:%Y-%m}", -1)


def pending_units(conn: psycopg.Connection[Any], registry: Registry, period: str, day: dt.date) -> list[Unit]:
    """Units expected to report on ``day`` that have no loaded (or held) file for ``period``."""
    submitted = {
        r[0]
        for r in conn.execute(
            "select distinct unit_code from audit.load_ledger where period = %s and status in ('loaded', 'held')",
            (period,),
        ).fetchall()
    }
    return [u for u in registry.reporting_units(day) if u.code not in submitted and u.contact_email]


def _plan_month(conn: psycopg.Connection[Any], period: str) -> str:
    """The latest month up to ``period`` that the official plan-task history has."""
    if conn.execute("select to_regclass('marts.fct_plan_task')").fetchone() == (None,):
        return period
    found = conn.execute("select max(period) from marts.fct_plan_task where period <= %s", (period,)).fetchone()
    return found[0] if found and found[0] else period


def reminder_text(r: Reminder) -> str:
    """The reminder's body, in Vietnamese (unit and task names only: no personal data)."""
    deadline = deadline_day(r.period)
    left = (deadline - r.day).days
    month = month_vi(r.period)
    lines = [
        f"Kính gửi {r.unit.name_vi},",
        "",
        f"Hệ thống chưa nhận được báo cáo kết quả thực hiện Đề án 06 tháng {month} của đơn vị.",
        f"Hạn nộp: {date_vi(deadline)}" + (f" (còn {left} ngày)." if left > 0 else " (hôm nay là hạn cuối)."),
        "",
        f"Đơn vị có thể nộp báo cáo trên cổng nộp báo cáo: {portal_url()}",
        "(đăng nhập bằng liên kết gửi tới địa chỉ thư điện tử này), hoặc điền biểu mẫu đính kèm và gửi lại.",
    ]
    if r.overdue:
        lines += ["", "Nhiệm vụ quá hạn đơn vị chủ trì (cập nhật tình trạng tại trang tính “nhiem_vu” của biểu mẫu):"]
        for t in r.overdue:
            deadline_vi = date_vi(t.deadline) if t.deadline else "không ghi hạn"
            status = STATUS_VI.get(t.status, t.status)
            lines.append(f"- {t.task_id}: {t.title_vi} (hạn {deadline_vi}; tình trạng: {status})")
    lines += ["", "Đây là thư tự động của Văn phòng thường trực Đề án 06; mỗi ngày đơn vị nhận tối đa một thư nhắc."]
    return "\n".join(lines)


def _message(r: Reminder, sender: str, registry: Registry) -> Any:
    month = month_vi(r.period)
    msg = build_message(
        subject=f"[Đề án 06] Nhắc nộp báo cáo tháng {month} – hạn {date_vi(deadline_day(r.period))}",
        html=None,
        text=reminder_text(r),
        sender=sender,
        to=[r.unit.contact_email],
        dedupe_key=f"reminder/{r.period}/{r.unit.code}/{r.day.isoformat()}",
    )
    template = io.BytesIO()
    write_template(registry, r.unit.code, r.period, template)
    msg.add_attachment(template.getvalue(), *XLSX, filename=f"{r.unit.code}_{r.period}.xlsx")
    return msg


def _send_one(conn: psycopg.Connection[Any], r: Reminder, registry: Registry) -> bool:
    """Claim (unit, day), send, and keep the claim only if the send succeeded; False if already sent."""
    settings = smtp_settings()
    with conn.transaction():
        claimed = conn.execute(
            """insert into audit.reminder_sent (unit_code, sent_on, period) values (%s, %s, %s)
               on conflict do nothing returning unit_code""",
            (r.unit.code, r.day, r.period),
        ).fetchone()
        if claimed is None:
            return False
        msg = _message(r, settings.sender, registry)
        deliver(msg, settings)
        conn.execute(
            "update audit.reminder_sent set message_id = %s where unit_code = %s and sent_on = %s",
            (str(msg["Message-ID"]), r.unit.code, r.day),
        )
    return True


def send_reminders(day: dt.date, *, registry: Registry | None = None) -> dict[str, Any]:
    """E-mail every unit that has not submitted the month due on ``day``; counts only (safe for XCom).

    Raises ``ReportDeliveryError`` after trying every unit when any reminder could not be sent
    (those units are reminded by a retry; the ones sent are not sent again)."""
    registry = registry or load_registry()
    period = due_period(day)
    sent = already = failed = 0
    with connect() as conn:
        units = pending_units(conn, registry, period, day)
        plan_month = _plan_month(conn, period)
        for unit in units:
            overdue = tuple(overdue_tasks(conn, plan_month, unit.code))
            try:
                if _send_one(conn, Reminder(unit, period, day, overdue), registry):
                    sent += 1
                else:
                    already += 1
            except ReportDeliveryError as exc:
                failed += 1
                log.error("reminder to unit %s not sent: %s", unit.code, exc.reason or exc)
    summary = {"period": period, "due": len(units), "sent": sent, "already_sent": already, "failed": failed}
    log.info("reminders for %s on %s: %s", period, day, summary)
    if failed:
        raise ReportDeliveryError(f"{failed} of {len(units)} reminders could not be sent; a retry sends them")
    return summary
