"""Reminders before the deadline (issue 11 §5), through the real SMTP sink.

Expected recipients are worked out by hand: every unit the registry expects to report on the day,
minus the units the test loaded a file for; each reminder is read back from the .eml files the
real SMTP server wrote.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import email
import io
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import openpyxl
import pytest
from conftest import environment

from ingest.config import portal_url
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import prepare_warehouse
from ingest.registry import load_registry
from ingest.reminders import send_reminders
from ingest.reporting import mailer
from ingest.reporting.mailer import ReportDeliveryError
from ingest.reporting.smtp_sink import SmtpSink
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse]
REGISTRY = load_registry()
DAY = dt.date(2026, 4, 7)
PERIOD = "2026-03"
SUBMITTED = ("AG.STP", "AG.CAT")


def _messages(outbox: Path) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(outbox.glob("*.eml"))]


def _unit_of(msg: EmailMessage) -> str:
    return str(msg["X-D06-Dedupe-Key"]).split("/")[2]


def _land_submission(folder: Path, unit: str) -> None:
    path = folder / f"{unit}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator"])
        w.writerow([unit, PERIOD, "TTHC_DIGITISED_DOSSIER", "NA", 5, 10])
    with connect() as conn:
        land_paths(conn, [path], batch_id=unit, ctx=LandingContext(REGISTRY, DAY, PERIOD))


@pytest.fixture(scope="module")
def warehouse(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    prepare_warehouse()
    folder = tmp_path_factory.mktemp("inbox")
    for unit in SUBMITTED:
        _land_submission(folder, unit)
    return warehouse_dsn


def test_each_unit_not_submitted_gets_one_reminder_a_day(warehouse: str, smtp_sink: SmtpSink) -> None:
    due = {u.code for u in REGISTRY.reporting_units(DAY)} - set(SUBMITTED)
    assert set(SUBMITTED) <= {u.code for u in REGISTRY.reporting_units(DAY)}

    summary = send_reminders(DAY)
    assert summary == {"period": PERIOD, "due": len(due), "sent": len(due), "already_sent": 0, "failed": 0}
    sent = _messages(smtp_sink.outbox)
    assert sorted(_unit_of(m) for m in sent) == sorted(due)

    # A re-run the same day sends nothing; the next day each unit still missing is reminded again.
    assert send_reminders(DAY)["already_sent"] == len(due)
    assert len(_messages(smtp_sink.outbox)) == len(due)
    send_reminders(DAY + dt.timedelta(days=1))
    assert len(_messages(smtp_sink.outbox)) == 2 * len(due)


def test_a_reminder_carries_the_template_the_deadline_and_the_portal(warehouse: str, smtp_sink: SmtpSink) -> None:
    day = DAY + dt.timedelta(days=2)  # 9 April: one day left before the 10th
    send_reminders(day)
    found = [m for m in _messages(smtp_sink.outbox) if str(m["X-D06-Dedupe-Key"]).endswith(day.isoformat())]
    msg = next(m for m in found if _unit_of(m) == "AG.SYT")
    unit = REGISTRY.units["AG.SYT"]
    assert msg["To"] == unit.contact_email
    assert msg["Date"] and msg["Message-ID"]
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert unit.name_vi in body and "10/04/2026" in body and "còn 1 ngày" in body
    assert portal_url() in body
    # No other unit is named: only this unit's name and code appear.
    others = [u for u in REGISTRY.units.values() if u.code != unit.code and len(u.name_vi) > 12]
    assert not [u.code for u in others if u.name_vi in body or u.contact_email in body]
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == f"AG.SYT_{PERIOD}.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    rows = list(workbook["du_lieu"].iter_rows(min_row=2, values_only=True))
    assert rows and {r[0] for r in rows if r[0]} == {"AG.SYT"} and {r[1] for r in rows if r[1]} == {PERIOD}


def test_a_failed_send_is_retried_without_doubling(
    warehouse: str, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    few = dataclasses.replace(REGISTRY, units={c: REGISTRY.units[c] for c in ("AG", "AG.SYT", "AG.STC", "AG.STP")})
    day = dt.date(2026, 5, 6)
    monkeypatch.setattr(mailer, "RETRY_DELAYS", (0.0,))
    with environment(D06_SMTP_PORT="9"), pytest.raises(ReportDeliveryError):  # nothing listens on port 9
        send_reminders(day, registry=few)
    with connect() as conn:
        assert conn.execute("select count(*) from audit.reminder_sent where sent_on = %s", (day,)).fetchone() == (0,)
    summary = send_reminders(day, registry=few)
    expected = {u.code for u in few.reporting_units(day)}  # nobody has submitted April
    assert summary["sent"] == len(expected) > 0
    keys = [str(m["X-D06-Dedupe-Key"]) for m in _messages(smtp_sink.outbox)]
    assert sorted(k.split("/")[2] for k in keys if k.endswith(day.isoformat())) == sorted(expected)
