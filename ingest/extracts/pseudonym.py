"""Pseudonyms for the BHXH extract's identifiers: keyed HMAC-SHA256, hex.

A participant's social-insurance code and personal ID number are replaced by
``HMAC-SHA256(key, value)`` in hex (64 characters) on the way in, so the same person gets the
same key in every file and month while nobody without the key can tell who it is.  The key
comes from ``D06_PSEUDONYM_KEY`` (``python -c "import secrets; print(secrets.token_hex(32))"``),
or, where the loader runs inside Airflow and the variable is unset, from the password of the
connection ``d06_pseudonym``.  Rotating the key changes every pseudonym (see the README).

>>> pseudonymise("7912345601", b"a-test-key-of-at-least-32-characters")[:12]
'8f3db40ece11'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from ingest.config import ConfigError

KEY_ENV = "D06_PSEUDONYM_KEY"
AIRFLOW_CONN_ID = "d06_pseudonym"
MIN_KEY_CHARS = 32


class PseudonymKeyMissing(ConfigError):
    """No pseudonymisation key is configured (or it is too short to be a key)."""


def pseudonymise(value: str, key: bytes) -> str:
    """The pseudonym of one identifier: HMAC-SHA256 of its UTF-8 bytes under ``key``, in hex."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))
_BLOCK = hashlib.sha256().block_size


def keyed_pads(key: bytes) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """HMAC-SHA256 under ``key`` (RFC 2104) as two SHA-256 states, keyed once and copied per
    value, for a million rows: the inner hash of the value, then the outer hash of that digest.
    ``i = inner(); i.update(value.encode()); o = outer(); o.update(i.digest()); o.hexdigest()``
    is :func:`pseudonymise` (copying two plain hash states costs less than one HMAC object)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER_PAD)).copy, hashlib.sha256(key.translate(_OUTER_PAD)).copy


def keyed_digest(key: bytes) -> Callable[[str], str]:
    """:func:`pseudonymise` with the key bound (see :func:`keyed_pads`)."""
    inner, outer = keyed_pads(key)

    def digest(value: str) -> str:
        i = inner()
        i.update(value.encode())
        o = outer()
        o.update(i.digest())
        return o.hexdigest()

    return digest


def _from_airflow_uri() -> str | None:
    """The password of ``AIRFLOW_CONN_D06_PSEUDONYM`` (a connection URI), without importing Airflow."""
    uri = os.environ.get(f"AIRFLOW_CONN_{AIRFLOW_CONN_ID.upper()}")
    if not uri or uri.lstrip().startswith("{"):
        return None
    password = urlsplit(uri).password
    return unquote(password) if password else None


def _from_airflow() -> str | None:
    """The connection's password through Airflow, only when this process already runs Airflow
    (a task): the CLI never pays for importing it, and any failure means no key."""
    if "airflow" not in sys.modules:
        return None
    try:
        from airflow.sdk import Connection

        return Connection.get(AIRFLOW_CONN_ID).password or None
    except Exception:  # no such connection, no supervisor to ask: no key
        return None


def pseudonym_key() -> bytes:
    """The pseudonymisation key; raises :class:`PseudonymKeyMissing` when none is configured."""
    text = (os.environ.get(KEY_ENV) or "").strip() or _from_airflow_uri() or _from_airflow()
    if not text:
        raise PseudonymKeyMissing(
            f"Chưa đặt khóa bí danh hóa {KEY_ENV} / no pseudonymisation key: set {KEY_ENV} "
            f"(or the Airflow connection {AIRFLOW_CONN_ID}'s password)"
        )
    if len(text) < MIN_KEY_CHARS:
        raise PseudonymKeyMissing(
            f"Khóa {KEY_ENV} quá ngắn / {KEY_ENV} is too short: at least {MIN_KEY_CHARS} characters "
            '(python -c "import secrets; print(secrets.token_hex(32))")'
        )
    return text.encode()
