"""Send the quality report by SMTP (endpoint from the environment or the Airflow connection).

TLS, when configured, verifies the server's certificate (``ssl.create_default_context``) against
the system's authorities or ``D06_SMTP_CA_FILE``: ``D06_SMTP_TLS=starttls`` (or the older
``D06_SMTP_STARTTLS=1``) upgrades a plain connection, ``D06_SMTP_TLS=ssl`` speaks TLS from the
first byte (SMTPS, usually port 465).

A message never exceeds ``D06_MAIL_MAX_BYTES``: a report too large to send goes as its summary,
which says where the full report lies on the server.  A mail server that cannot be reached, or
refuses the message, is tried again a couple of times and then reported as one
``ReportDeliveryError``; no socket, TLS or SMTP exception escapes, and the report stays on disk.

>>> send_report(subject="…", report_path=Path("reports/2026-03/bao_cao.html"), text="…", to=["cat@…"])
'<177…@d06.example>'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from ingest.config import ConfigError, SmtpSettings, mail_max_bytes, smtp_settings

__all__ = [
    "DEDUPE_HEADER",
    "RETRY_DELAYS",
    "InlineImage",
    "ReportDeliveryError",
    "TlsSettings",
    "build_message",
    "deliver",
    "message_size",
    "send_report",
    "tls_settings",
]

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0)
"""Seconds to wait before the second and the third attempt."""

SMTP_TIMEOUT_SECONDS = 30
DEDUPE_HEADER = "X-D06-Dedupe-Key"
"""The header that names a message's place in a run: the same key is never delivered twice."""


class ReportDeliveryError(RuntimeError):
    """The report could not be e-mailed (server unreachable or refusing, or no server configured).

    The message names the server and the reason; the report itself is kept on disk.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        port: int | None = None,
        reason: str = "",
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.reason = reason
        self.permanent = permanent
        """The server refused this message for good (5xx): other messages may still go.  A
        certificate that does not verify is not retried either, but stops every message."""


@dataclass(frozen=True)
class TlsSettings:
    """How to speak TLS to the mail server: ``mode`` none, starttls or ssl; ``ca_file`` the
    authorities to trust instead of the system's (a province's own CA)."""

    mode: str = "none"
    ca_file: str | None = None

    def context(self) -> ssl.SSLContext:
        """A context that verifies the certificate and the host name."""
        return ssl.create_default_context(cafile=self.ca_file)


TLS_MODES = ("none", "starttls", "ssl")


def tls_settings(settings: SmtpSettings | None = None) -> TlsSettings:
    """``D06_SMTP_TLS`` (none | starttls | ssl), else STARTTLS when the SMTP settings ask for it
    (``D06_SMTP_STARTTLS=1`` or the connection's ``starttls=true``); ``D06_SMTP_CA_FILE``."""
    mode = (os.environ.get("D06_SMTP_TLS") or "").strip().lower()
    if mode and mode not in TLS_MODES:
        raise ConfigError(f"D06_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {mode!r}")
    if not mode:
        mode = "starttls" if settings is not None and settings.starttls else "none"
    ca_file = (os.environ.get("D06_SMTP_CA_FILE") or "").strip() or None
    if ca_file and not Path(ca_file).is_file():
        raise ConfigError(f"D06_SMTP_CA_FILE is not a readable file: {ca_file}")
    return TlsSettings(mode, ca_file)


@dataclass(frozen=True)
class InlineImage:
    """A PNG the HTML shows by ``<img src="cid:{cid}">``."""

    cid: str
    png: bytes
    filename: str


def build_message(
    *,
    subject: str,
    html: str | None,
    text: str,
    sender: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    dedupe_key: str | None = None,
    images: Sequence[InlineImage] = (),
) -> EmailMessage:
    """A text message, with ``html`` as its alternative when given, and ``images`` related to the
    HTML (multipart/alternative > multipart/related, each image inline with its Content-ID).

    Every message has a ``Date`` and a ``Message-ID``; with ``dedupe_key``, the Message-ID is
    derived from it (a message sent again is recognisably the same) and ``X-D06-Dedupe-Key`` holds it."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = sender.rsplit("@", 1)[-1]
    if dedupe_key:
        msg["Message-ID"] = f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]}@{domain}>"
        msg[DEDUPE_HEADER] = dedupe_key
    else:
        msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if images:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            for image in images:
                html_part.add_related(
                    image.png, "image", "png", cid=f"<{image.cid}>", disposition="inline", filename=image.filename
                )
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
            deliver(msg, settings, RETRY_DELAYS if retry_delays is None else retry_delays)
            return str(msg["Message-ID"])
    raise ReportDeliveryError(
        f"the quality report's summary alone is {size} bytes, above D06_MAIL_MAX_BYTES={limit}; "
        f"nothing was sent to {settings.host}:{settings.port}; the report is at {report_path}",
        host=settings.host,
        port=settings.port,
        reason="message too large",
    )


def deliver(
    msg: EmailMessage,
    settings: SmtpSettings,
    retry_delays: Sequence[float] | None = None,
    tls: TlsSettings | None = None,
) -> None:
    """Send ``msg``, retrying after each of ``retry_delays``; map every failure to ReportDeliveryError."""
    where = f"{settings.host}:{settings.port}"
    retry_delays = RETRY_DELAYS if retry_delays is None else retry_delays
    try:
        tls = tls or tls_settings(settings)
    except ConfigError as exc:
        raise ReportDeliveryError(f"cannot send the quality report: {exc}", reason=str(exc)) from None
    attempts = len(retry_delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            _send_once(msg, settings, tls)
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
                    permanent=_is_permanent(exc) and not isinstance(exc, ssl.SSLError),
                ) from None
            log.warning("SMTP %s: %s; trying again in %.1f s", where, reason, retry_delays[attempt - 1])
            time.sleep(retry_delays[attempt - 1])


def _is_permanent(exc: BaseException) -> bool:
    """A refusal that the same message would meet again (5xx), or a certificate that does not
    verify, where retrying only delays the failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _send_once(msg: EmailMessage, settings: SmtpSettings, tls: TlsSettings) -> None:
    smtp: smtplib.SMTP
    if tls.mode == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS, context=tls.context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if tls.mode == "starttls":
            smtp.starttls(context=tls.context())
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
