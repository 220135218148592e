"""Send the quality report by SMTP (endpoint from the environment or the Airflow connection)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ingest.config import SmtpSettings, smtp_settings


def build_message(
    *, subject: str, html: str, text: str, sender: str, to: Sequence[str], cc: Sequence[str] = ()
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send_report(
    *,
    subject: str,
    report_path: Path,
    text: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    settings: SmtpSettings | None = None,
) -> str:
    """Send the HTML report at ``report_path``; return the Message-ID."""
    settings = settings or smtp_settings()
    msg = build_message(
        subject=subject,
        html=report_path.read_text(encoding="utf-8"),
        text=text,
        sender=settings.sender,
        to=to,
        cc=cc,
    )
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user and settings.password:
            smtp.login(settings.user, settings.password)
        smtp.send_message(msg)
    return str(msg["Message-ID"])
