"""Settings, read from the environment (and Airflow connections where Airflow runs us).

Nothing here holds a secret: the warehouse DSN and the SMTP endpoint come from
``WAREHOUSE_DSN`` / ``AIRFLOW_CONN_WAREHOUSE`` and ``D06_SMTP_*`` / ``AIRFLOW_CONN_SMTP_DEFAULT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ConfigError(RuntimeError):
    """A required setting is missing."""


def project_dir() -> Path:
    """The repository (or image) directory that holds dbt_project/ and dags/."""
    env = os.environ.get("D06_PROJECT_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Where runtime state lives: inbox, archive, reports, outbox, GX results."""
    env = os.environ.get("D06_DATA_DIR")
    return Path(env) if env else project_dir() / ".warehouse"


def inbox_dir() -> Path:
    return Path(os.environ.get("D06_INBOX") or data_dir() / "inbox")


def archive_dir() -> Path:
    return data_dir() / "archive"


def archive_key() -> bytes | None:
    """The Fernet key (``D06_ARCHIVE_KEY``, urlsafe base64 of 32 bytes) that encrypts archived files
    holding personal data (BHXH extracts), or None when unset.  Generate one with
    ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``."""
    text = (os.environ.get("D06_ARCHIVE_KEY") or "").strip()
    return text.encode() if text else None


def reports_dir() -> Path:
    return data_dir() / "reports"


def outbox_dir() -> Path:
    return Path(os.environ.get("D06_OUTBOX") or data_dir() / "outbox")


def _airflow_conn_uri(conn_id: str) -> str | None:
    """The URI of an Airflow connection from the environment (AIRFLOW_CONN_<ID>), if set."""
    return os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")


def warehouse_dsn() -> str:
    """A libpq DSN for the warehouse."""
    dsn = os.environ.get("WAREHOUSE_DSN") or _airflow_conn_uri("warehouse")
    if not dsn:
        raise ConfigError(
            "No warehouse configured: set WAREHOUSE_DSN or the Airflow connection 'warehouse' "
            "(run `make warehouse` for a local one)."
        )
    # Airflow spells the scheme 'postgres'; libpq accepts both.
    return dsn.replace("postgres://", "postgresql://", 1)


@dataclass(frozen=True)
class PgParts:
    host: str
    port: int
    user: str
    password: str
    dbname: str


def warehouse_parts(dsn: str | None = None) -> PgParts:
    u = urlsplit(dsn or warehouse_dsn())
    return PgParts(
        host=u.hostname or "localhost",
        port=u.port or 5432,
        user=unquote(u.username or ""),
        password=unquote(u.password or ""),
        dbname=(u.path or "/").lstrip("/") or "postgres",
    )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str


def mail_sender() -> str:
    """The From address of every e-mail of the warehouse (reports, reminders, failure notices)."""
    return os.environ.get("D06_MAIL_FROM", "bao-cao-de-an-06@d06.example")


def smtp_settings() -> SmtpSettings:
    """SMTP endpoint: ``D06_SMTP_HOST``/``D06_SMTP_PORT`` or the ``smtp_default`` connection URI."""
    sender = mail_sender()
    host = os.environ.get("D06_SMTP_HOST")
    if host:
        return SmtpSettings(
            host=host,
            port=int(os.environ.get("D06_SMTP_PORT", "25")),
            user=os.environ.get("D06_SMTP_USER") or None,
            password=os.environ.get("D06_SMTP_PASSWORD") or None,
            starttls=os.environ.get("D06_SMTP_STARTTLS", "0") == "1",
            sender=sender,
        )
    uri = _airflow_conn_uri("smtp_default")
    if uri:
        u = urlsplit(uri)
        return SmtpSettings(
            host=u.hostname or "localhost",
            port=u.port or 25,
            user=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
            starttls="starttls=true" in (u.query or "").lower(),
            sender=sender,
        )
    raise ConfigError("No SMTP endpoint: set D06_SMTP_HOST/D06_SMTP_PORT or AIRFLOW_CONN_SMTP_DEFAULT.")


def report_deadline_day() -> int:
    """Day of the following month by which a period's submissions are due (``D06_REPORT_DEADLINE_DAY``,
    default the 10th, 1 to 28 so that every month has it).

    The one setting: :func:`ingest.submissions.periods.report_deadline` turns it into the deadline
    instant, and the registry sync writes it to ``registry.setting`` for dbt."""
    text = os.environ.get("D06_REPORT_DEADLINE_DAY") or "10"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 28:
        raise ConfigError(f"D06_REPORT_DEADLINE_DAY must be a day from 1 to 28, not {text!r}")
    return value


def report_rows_per_unit() -> int:
    """How many quarantined rows the quality report lists per unit (``D06_REPORT_ROWS_PER_UNIT``, default 20).

    The rest are counted, and all of them are in the CSV export written next to the report.
    """
    value = int(os.environ.get("D06_REPORT_ROWS_PER_UNIT", "20"))
    if value < 0:
        raise ConfigError(f"D06_REPORT_ROWS_PER_UNIT must be 0 or more, not {value}")
    return value


def mail_max_bytes() -> int:
    """The largest e-mail the report may be sent as, in bytes (``D06_MAIL_MAX_BYTES``, default 5 MB).

    A larger report is sent as its summary with the path of the full report on the server.
    """
    value = int(os.environ.get("D06_MAIL_MAX_BYTES", "5000000"))
    if value <= 0:
        raise ConfigError(f"D06_MAIL_MAX_BYTES must be positive, not {value}")
    return value


def smtp_sink_port() -> int:
    """Port of the local SMTP sink (demo and tests): D06_SMTP_PORT, else one derived from the project path."""
    env = os.environ.get("D06_SMTP_PORT")
    if env:
        return int(env)
    import zlib

    return 20000 + zlib.crc32(str(project_dir()).encode()) % 10000


def portal_port() -> int:
    """Port the submission portal listens on locally (``D06_PORTAL_PORT``), else one derived from the project path."""
    env = os.environ.get("D06_PORTAL_PORT")
    if env:
        return int(env)
    import zlib

    return 30000 + zlib.crc32(str(project_dir()).encode()) % 10000


def portal_url() -> str:
    """The portal's public address, used in sign-in links and reminders (``D06_PORTAL_URL``, no trailing slash)."""
    url = (os.environ.get("D06_PORTAL_URL") or "").strip().rstrip("/")
    return url or f"http://127.0.0.1:{portal_port()}"
