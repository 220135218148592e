"""Send a run's e-mails: one per address, each once, however often the send step is retried.

Each unit with something to fix gets its own message at its registry address (``contact_email``);
the standing office gets the province's summary (``D06_REPORT_TO``, comma-separated; default
each reporting province's Công an tỉnh).  Every message carries ``Date``, ``Message-ID`` and
``X-D06-Dedupe-Key`` (period, kind, and digests of the recipient and of what the message says);
``audit.mail_delivery`` records it by that key, so a retried task, a re-run of the period, or two
runs of it at once send each message once; a re-run that finds something new sends the new one.
A mail server that is down stops the step with ``ReportDeliveryError`` (the report stays on
disk; the next attempt goes on where this one stopped); a message the server refuses for good
is recorded, the others still go, and the step fails naming it (a retry tries it again).

>>> deliver_all("2026-03", run_id="manual__2026-04-11", report_path=Path("reports/…/bao_cao.html"))
{'sent': 14, 'skipped': 0, 'refused': 0, 'recipients': 14}
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ingest.config import ConfigError, SmtpSettings, mail_max_bytes, portal_url, smtp_settings
from ingest.registry import Registry, load_registry
from ingest.reporting import mailer
from ingest.reporting.charts import Chart, FunnelData, province_charts, unit_charts
from ingest.reporting.mailer import InlineImage, ReportDeliveryError, TlsSettings, build_message, message_size
from ingest.reporting.overdue import overdue_tasks
from ingest.reporting.quality_report import (
    ReportData,
    collect,
    quarantine_csv_path,
    safe_name,
    template_env,
    violations_csv_path,
)
from ingest.reporting.unit_mail import (
    Outgoing,
    UnitNotice,
    collect_notices,
    summary_rows,
    summary_subject,
    summary_text,
    unit_subject,
    unit_text,
)
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)


def summary_recipients(registry: Registry, provinces: Sequence[str] = ()) -> list[tuple[str, str | None]]:
    """Who gets the summary, and of which province (None: all of them): ``D06_REPORT_TO``
    (comma-separated; every province), else the standing office of each province in
    ``provinces`` (every current province when empty): its Công an tỉnh (``<province>.CAT``), or
    the province's own address when it has none."""
    configured = [a.strip() for a in (os.environ.get("D06_REPORT_TO") or "").split(",") if a.strip()]
    if configured:
        return [(a, None) for a in sorted(dict.fromkeys(configured))]
    offices: dict[str, str | None] = {}
    for u in registry.units.values():
        if u.kind == "province" and u.valid_to is None and (not provinces or u.code in provinces):
            office = registry.units.get(f"{u.code}.CAT")
            address = office.contact_email if office else u.contact_email
            offices[address] = u.code if address not in offices else None
    return sorted(offices.items())


def dedupe_key(period: str, kind: str, recipient: str, content: str) -> str:
    """The message's key: the same period, kind, recipient and content is one delivery, whichever
    run sends it.  A re-run of the period that finds the same things sends nothing again; one that
    finds something else (a unit fixed a row, a new file came) sends the new message."""
    who = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    what = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"d06/{period}/{kind}/{who}/{what}"


def content_of(mail: Outgoing, run_id: str) -> str:
    """What the message tells its reader, without what differs from run to run of the period
    (the run's id, in the paths of the report and its CSV files)."""
    text = mail.text
    for token in sorted({run_id, safe_name(run_id)}, key=len, reverse=True):
        text = text.replace(token, "<run>")
    return f"{mail.subject}\n{text}"


def _reporting_provinces(data: ReportData, registry: Registry) -> list[str]:
    codes = {f["unit_code"] for f in data.files if f.get("unit_code") in registry.units}
    return sorted({registry.units[c].province_code for c in codes})


def build_outgoing(period: str, *, run_id: str, report_path: Path) -> tuple[ReportData, list[Outgoing]]:
    """Every message of the run: one per unit address, then one per summary recipient (whose
    own unit sections, when the office has findings itself, are in its summary)."""
    registry = load_registry()
    data = collect(period, run_id, registry)
    found = quarantine_csv_path(report_path.parent, period, run_id)
    data.quarantine_csv = found if found.exists() else None
    found = violations_csv_path(report_path.parent, period, run_id)
    data.violations_csv = found if found.exists() else None
    with connect() as conn:
        overdue = overdue_tasks(conn, period, registry)
        notices = collect_notices(conn, registry, data, overdue)
        cache: dict[str, list[FunnelData]] = {}
        for n in notices.values():
            n.charts = unit_charts(conn, registry, period, n.unit_code, cache)
        charts = province_charts(conn, registry, period)
    by_address: dict[str, list[UnitNotice]] = {}
    for n in notices.values():
        by_address.setdefault(n.email.strip().lower(), []).append(n)
    offices = summary_recipients(registry, _reporting_provinces(data, registry))
    portal = portal_url()
    mails = [
        _unit_mail(period, run_id, units[0].email.strip(), units, portal)
        for address, units in sorted(by_address.items())
        if address not in {o.lower() for o, _ in offices}
    ]
    context = {"d": data, "portal": portal, "report_path": report_path, "orphans": _orphans(data), "charts": charts}
    for office, province in offices:

        def mine(code: str | None, province: str | None = province) -> bool:
            unit = registry.units.get(code or "")
            return province is None or (unit is not None and unit.province_code == province)

        scoped = {
            "rows": summary_rows(n for n in notices.values() if mine(n.unit_code)),
            "overdue": [t for t in overdue if province is None or mine(t["lead_unit_code"])],
        }
        own = by_address.get(office.lower(), [])
        mails.append(_summary_mail(data, office, own, context | scoped))
    return data, mails


def _orphans(data: ReportData) -> dict[str, int] | None:
    groups = [g for g in data.quarantine if not g.get("unit_code")]
    return {"files": len(groups), "rows": sum(g["total"] for g in groups)} if groups else None


def _unit_mail(period: str, run_id: str, address: str, units: list[UnitNotice], portal: str) -> Outgoing:
    subject = unit_subject(period, units)
    html = [
        template_env.get_template("mail_unit.html.j2").render(
            period=period, run_id=run_id, units=units, portal=portal, subject=subject, with_charts=with_charts
        )
        for with_charts in (True, False)
    ]
    charts = [c for n in units for c in n.charts]
    return Outgoing("unit", address, units, subject, unit_text(period, units, portal), html[0], html[1], charts)


def _summary_mail(data: ReportData, office: str, own: list[UnitNotice], context: dict[str, Any]) -> Outgoing:
    subject = summary_subject(data)
    html = [
        template_env.get_template("mail_summary.html.j2").render(
            subject=subject, own=own, with_charts=with_charts, **context
        )
        for with_charts in (True, False)
    ]
    text = summary_text(
        data, context["rows"], context["overdue"], report_path=context["report_path"], portal=context["portal"]
    )
    short = summary_text(
        data, context["rows"], [], report_path=context["report_path"], portal=context["portal"], per_unit=False
    )
    if own:  # the office's own rows, as any unit gets them
        text += "\n" + unit_text(data.period, own, context["portal"])
    charts = list(context["charts"]) + [c for n in own for c in n.charts]
    return Outgoing("summary", office, own, subject, text, html[0], html[1], charts, short)


def _images(charts: Sequence[Chart]) -> list[InlineImage]:
    return [InlineImage(c.cid, c.png, f"{c.name}.png") for c in charts]


def fit_message(mail: Outgoing, sender: str, key: str, limit: int) -> EmailMessage:
    """The fullest form of ``mail`` within ``limit`` bytes: HTML with charts, HTML alone, text alone."""
    forms = [
        (mail.html, _images(mail.charts), mail.text),
        (mail.html_without_charts, [], mail.text),
        (None, [], mail.text),
        (None, [], mail.text_short or mail.text),
    ]
    size = 0
    for html, images, text in forms:
        msg = build_message(
            subject=mail.subject,
            html=html,
            text=text,
            sender=sender,
            to=[mail.recipient],
            dedupe_key=key,
            images=images,
        )
        size = message_size(msg)
        if size <= limit:
            if html is not mail.html:
                log.warning("a %s e-mail is too large with its charts (limit %d bytes); sending less", mail.kind, limit)
            return msg
    raise ReportDeliveryError(
        f"a {mail.kind} e-mail's text alone is {size} bytes, above D06_MAIL_MAX_BYTES={limit}; it was not sent",
        reason="message too large",
    )


# --- the delivery ledger -----------------------------------------------------------------------


# A message another run claimed and did not finish within this long is taken over (that run died).
CLAIM_TIMEOUT_MINUTES = 10


def claim(conn: Any, key: str, mail: Outgoing, *, run_id: str, period: str, message_id: str) -> bool:
    """Claim the message of ``key`` for this run; False when it was sent already, or another run
    is sending it now (two runs of the period at once send it once).  A message this run (an
    earlier try of its task) left ``sending``, one the server refused, and one another run left
    ``sending`` for over ``CLAIM_TIMEOUT_MINUTES`` are claimed again."""
    row = conn.execute(
        """insert into audit.mail_delivery (dedupe_key, run_id, period, kind, recipient, unit_codes, message_id,
                                            status)
           values (%s, %s, %s, %s, %s, %s, %s, 'sending')
           on conflict (dedupe_key) do update set status = 'sending', run_id = excluded.run_id, error = null,
               message_id = excluded.message_id, attempted_at = now()
           where mail_delivery.status = 'refused'
              or (mail_delivery.status = 'sending'
                  and (mail_delivery.run_id = excluded.run_id
                       or mail_delivery.attempted_at < now() - make_interval(mins => %s)))
           returning 1""",
        (key, run_id, period, mail.kind, mail.recipient, mail.unit_codes, message_id, CLAIM_TIMEOUT_MINUTES),
    ).fetchone()
    return row is not None


def record(
    conn: Any,
    key: str,
    mail: Outgoing,
    *,
    run_id: str,
    period: str,
    message_id: str,
    status: str,
    error: str | None = None,
) -> None:
    """Upsert the message's row: ``sending`` before the server has it, then ``sent`` or ``refused``."""
    conn.execute(
        """insert into audit.mail_delivery (dedupe_key, run_id, period, kind, recipient, unit_codes, message_id,
                                            status, error, sent_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, case when %s = 'sent' then now() end)
           on conflict (dedupe_key) do update set status = excluded.status, error = excluded.error,
               message_id = excluded.message_id, attempted_at = now(), sent_at = excluded.sent_at""",
        (key, run_id, period, mail.kind, mail.recipient, mail.unit_codes, message_id, status, error, status),
    )


def _settings() -> tuple[SmtpSettings, TlsSettings, int]:
    try:
        settings = smtp_settings()
        return settings, mailer.tls_settings(settings), mail_max_bytes()
    except (ConfigError, ValueError) as exc:  # no server configured, or a setting that is not a number
        raise ReportDeliveryError(f"cannot send the quality report: {exc}", reason=str(exc)) from None


def send_all(mails: Sequence[Outgoing], *, period: str, run_id: str, report_path: Path) -> dict[str, int]:
    """Send each message not yet delivered; return how many were sent, skipped and refused.

    Stops at the first message the server cannot take (down, timing out, TLS refused) with
    ``ReportDeliveryError``: a retry goes on from there.  A message refused for good (5xx) is
    recorded and the others go; the step then fails naming it."""
    settings, tls, limit = _settings()
    counts = {"sent": 0, "skipped": 0, "refused": 0, "recipients": len(mails)}
    refused: list[str] = []
    for mail in mails:
        key = dedupe_key(period, mail.kind, mail.recipient, content_of(mail, run_id))
        msg = fit_message(mail, settings.sender, key, limit)
        message_id = str(msg["Message-ID"])
        with connect() as conn:
            if not claim(conn, key, mail, run_id=run_id, period=period, message_id=message_id):
                counts["skipped"] += 1
                continue
        try:
            mailer.deliver(msg, settings, tls=tls)
        except ReportDeliveryError as exc:
            if not exc.permanent:
                _release(key, run_id)  # the server was not reached: any run may send it next
                raise
            with connect() as conn:
                record(
                    conn,
                    key,
                    mail,
                    run_id=run_id,
                    period=period,
                    message_id=message_id,
                    status="refused",
                    error=exc.reason[:500],
                )
            counts["refused"] += 1
            refused.append(f"{mail.kind} {', '.join(mail.unit_codes) or 'summary'}: {exc.reason}")
            continue
        _mark_sent(key, mail, run_id=run_id, period=period, message_id=message_id, report_path=report_path)
        counts["sent"] += 1
    if refused:
        raise ReportDeliveryError(
            f"{len(refused)} e-mails were refused by the server: " + "; ".join(refused),
            host=settings.host,
            port=settings.port,
            reason="refused",
            permanent=True,
        )
    return counts


def _release(key: str, run_id: str) -> None:
    """Drop this run's claim of a message the server never took."""
    with connect() as conn:
        conn.execute(
            "delete from audit.mail_delivery where dedupe_key = %s and run_id = %s and status = 'sending'",
            (key, run_id),
        )


def _mark_sent(key: str, mail: Outgoing, *, run_id: str, period: str, message_id: str, report_path: Path) -> None:
    with connect() as conn:
        record(conn, key, mail, run_id=run_id, period=period, message_id=message_id, status="sent")
        if mail.kind == "summary":  # what `d06 summary` shows: the report and the e-mail that carried it
            conn.execute(
                """insert into audit.report_delivery (run_id, period, report_path, recipients, message_id)
                   values (%s, %s, %s, %s, %s) on conflict do nothing""",
                (run_id, period, str(report_path), [mail.recipient], message_id),
            )


def deliver_all(period: str, *, run_id: str, report_path: Path) -> dict[str, int]:
    """Build the run's messages and send those not yet delivered (see :func:`send_all`)."""
    _, mails = build_outgoing(period, run_id=run_id, report_path=report_path)
    return send_all(mails, period=period, run_id=run_id, report_path=report_path)
