"""The portal's settings, read from the environment once, when the application is made.

>>> PortalSettings.from_env().max_upload_bytes
20971520
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ingest.config import ConfigError

ENVIRONMENT = (
    # the portal's own settings
    "D06_PORTAL_HOST",
    "D06_PORTAL_PORT",
    "D06_PORTAL_URL",
    "D06_PORTAL_MAX_UPLOAD_MB",
    "D06_PORTAL_LINK_MINUTES",
    "D06_PORTAL_SESSION_HOURS",
    "D06_PORTAL_SECURE_COOKIES",
    "D06_PORTAL_TRUSTED_PROXIES",
    "D06_PORTAL_MAX_FAILURES_PER_ADDRESS",
    "D06_PORTAL_MAX_FAILURES_PER_CLIENT",
    "D06_PORTAL_RATE_WINDOW_MINUTES",
    # what the layers below read for it
    "WAREHOUSE_DSN",
    "D06_PROJECT_DIR",
    "D06_DATA_DIR",
    "D06_INBOX",
    "D06_REGISTRY_DIR",
    "D06_REPORT_DEADLINE_DAY",
    "D06_SMTP_HOST",
    "D06_SMTP_PORT",
    "D06_SMTP_STARTTLS",
    "D06_SMTP_TLS",
    "D06_SMTP_CA_FILE",
    "D06_MAIL_FROM",
    "D06_MAIL_MAX_BYTES",
)
"""Every environment variable the portal reads, directly or through ``ingest.config`` and the
mailer: the portal service of docker-compose.yml passes each of them.  Besides these, a mail
server that needs a login reads ``D06_SMTP_USER`` and ``D06_SMTP_PASSWORD`` (secrets: set them
in the deployment's own environment, never in the compose file)."""


def _number(name: str, default: float, *, low: float, high: float) -> float:
    text = (os.environ.get(name) or "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return value


@dataclass(frozen=True)
class PortalSettings:
    """What the portal enforces.  Defaults: 20 MB uploads, 15-minute single-use links, 8-hour
    sessions, at most 5 failed sign-ins per address and 20 per client in 15 minutes."""

    max_upload_bytes: int = 20 * 1024 * 1024
    link_minutes: int = 15
    session_hours: float = 8
    secure_cookies: str = "auto"
    """``auto``: Secure when the request came over https (directly, or by X-Forwarded-Proto from a
    trusted proxy); ``1``: always; ``0``: never (local development over plain http only)."""
    trusted_proxies: str = "127.0.0.1"
    """Addresses whose X-Forwarded-For and X-Forwarded-Proto are believed (``*``: any)."""
    max_failures_per_address: int = 5
    max_failures_per_client: int = 20
    rate_window_minutes: int = 15

    @classmethod
    def from_env(cls) -> PortalSettings:
        """The settings from ``D06_PORTAL_*``; a value out of range is a :class:`ConfigError`."""
        secure = (os.environ.get("D06_PORTAL_SECURE_COOKIES") or "auto").strip().lower()
        if secure not in ("auto", "1", "0"):
            raise ConfigError(f"D06_PORTAL_SECURE_COOKIES must be auto, 1 or 0, not {secure!r}")
        return cls(
            max_upload_bytes=int(_number("D06_PORTAL_MAX_UPLOAD_MB", 20, low=0.001, high=50) * 1024 * 1024),
            link_minutes=int(_number("D06_PORTAL_LINK_MINUTES", 15, low=1, high=24 * 60)),
            session_hours=_number("D06_PORTAL_SESSION_HOURS", 8, low=0.1, high=24 * 7),
            secure_cookies=secure,
            trusted_proxies=(os.environ.get("D06_PORTAL_TRUSTED_PROXIES") or "127.0.0.1").strip(),
            max_failures_per_address=int(_number("D06_PORTAL_MAX_FAILURES_PER_ADDRESS", 5, low=1, high=1000)),
            max_failures_per_client=int(_number("D06_PORTAL_MAX_FAILURES_PER_CLIENT", 20, low=1, high=10000)),
            rate_window_minutes=int(_number("D06_PORTAL_RATE_WINDOW_MINUTES", 15, low=1, high=24 * 60)),
        )
