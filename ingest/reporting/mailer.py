"""Send the quality report by SMTP (endpoint from the environment or the Airflow connection).

A message never exceeds ``D06_MAIL_MAX_BYTES``: a report too large to send goes as its summary,
which says where the full report lies on the server.  A mail server that cannot be reached, or
refuses the message, is tried again a couple of times and then reported as one
``ReportDeliveryError``; no socket, TLS or SMTP exception escapes, and the report stays on disk.

>>> send_report(subject="…", report_path=Path("reports/2026-03/bao_cao.html"), text="…", to=["cat@…"])
'<177…@d06.example>'
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ingest.config import ConfigError, SmtpSettings, mail_max_bytes, smtp_settings

__all__ = ["RETRY_DELAYS", "ReportDeliveryError", "build_message", "message_size", "send_report"]

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0)
"""Seconds to wait before the second and the third attempt."""

SMTP_TIMEOUT_SECONDS = 30


class ReportDeliveryError(RuntimeError):
    """The report could not be e-mailed (server unreachable or refusing, or no server configured).

    The message names the server and the reason; the report itself is kept on disk.
    """

    def __init__(self, message: str, *, host: str | None = None, port: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.reason = reason


def build_message(
    *, subject: str, html: str | None, text: str, sender: str, to: Sequence[str], cc: Sequence[str] = ()
) -> EmailMessage:
    """A text message, with ``html`` as its alternative when given."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def message_size(msg: EmailMessage) -> int:
    """The size of ``msg`` as the mail server receives it (CRLF line ends)."""
    return len(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))


def send_report(
    *,
    subject: str,
    report_path: Path,
    text: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    short_html: str | None = None,
    short_text: str | None = None,
    settings: SmtpSettings | None = None,
    max_bytes: int | None = None,
    retry_delays: Sequence[float] | None = None,
) -> str:
    """Send the HTML report at ``report_path``; return the Message-ID.

    When the message would exceed ``max_bytes`` (default ``D06_MAIL_MAX_BYTES``), send
    ``short_text`` with ``short_html`` instead, else ``short_text`` alone: the summary and where
    the full report is.  Raises ``ReportDeliveryError`` if even that is too large, or if the
    server cannot be reached or refuses the message after ``len(retry_delays) + 1`` attempts
    (default ``RETRY_DELAYS``; a permanent 5xx refusal is not tried again).
    """
    try:
        settings = settings or smtp_settings()
        limit = mail_max_bytes() if max_bytes is None else max_bytes
    except (ConfigError, ValueError) as exc:  # no server configured, or a setting that is not a number
        raise ReportDeliveryError(f"cannot send the quality report: {exc}", reason=str(exc)) from None
    try:
        full_html = report_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportDeliveryError(f"cannot read the quality report to send: {exc}", reason=str(exc)) from None
    forms = [(text, full_html), (short_text or text, short_html), (short_text or text, None)]
    for body, html in dict.fromkeys(forms):  # in order, without trying the same form twice
        msg = build_message(subject=subject, html=html, text=body, sender=settings.sender, to=to, cc=cc)
        size = message_size(msg)
        if size <= limit:
            if html is not full_html:
                log.warning("the report is too large to e-mail (limit %d bytes); sending its summary", limit)
            _deliver(msg, settings, RETRY_DELAYS if retry_delays is None else retry_delays)
            return str(msg["Message-ID"])
    raise ReportDeliveryError(
        f"the quality report's summary alone is {size} bytes, above D06_MAIL_MAX_BYTES={limit}; "
        f"nothing was sent to {settings.host}:{settings.port}; the report is at {report_path}",
        host=settings.host,
        port=settings.port,
        reason="message too large",
    )


def _deliver(msg: EmailMessage, settings: SmtpSettings, retry_delays: Sequence[float]) -> None:
    """Send ``msg``, retrying after each of ``retry_delays``; map every failure to ReportDeliveryError."""
    where = f"{settings.host}:{settings.port}"
    attempts = len(retry_delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            _send_once(msg, settings)
            return
        except (OSError, smtplib.SMTPException) as exc:  # socket, TLS, timeout and SMTP errors alike
            reason = f"{type(exc).__name__}: {exc}"
            if _is_permanent(exc) or attempt == attempts:
                raise ReportDeliveryError(
                    f"could not send the quality report to SMTP server {where} "
                    f"(attempt {attempt} of {attempts}): {reason}",
                    host=settings.host,
                    port=settings.port,
                    reason=reason,
                ) from None
            log.warning("SMTP %s: %s; trying again in %.1f s", where, reason, retry_delays[attempt - 1])
            time.sleep(retry_delays[attempt - 1])


def _is_permanent(exc: BaseException) -> bool:
    """A refusal that the same message would meet again (5xx), where retrying only delays the failure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _send_once(msg: EmailMessage, settings: SmtpSettings) -> None:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if settings.starttls:
            smtp.starttls()
        if settings.user and settings.password:
            smtp.login(settings.user, settings.password)
        refused = smtp.send_message(msg)
    except BaseException:
        smtp.close()
        raise
    # The message is accepted once send_message returns: a failed goodbye must not send it again.
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.quit()
    smtp.close()
    if refused:
        log.warning("SMTP %s:%s refused some recipients: %s", settings.host, settings.port, sorted(refused))
