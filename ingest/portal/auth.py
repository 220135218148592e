"""Who is signed in: one-time sign-in links, sessions, CSRF tokens and the sign-in rate limit.

A unit signs in with a link sent to its registered address (``contact_email`` in the unit
registry); no password exists.  The warehouse keeps only SHA-256 hashes of link tokens, session
ids, addresses and client addresses (schema ``portal``).  A link works once and expires; a
session ends when it expires or its unit signs out.  The province row of the registry
(``unit_kind = 'province'``) signs in with the *province* role and sees every unit of its
province; any other unit sees only itself.

>>> token = create_link(conn, registry.units["AG.STP"], minutes=15)
>>> redeem_link(conn, token)      # ("AG.STP", address hash) once; (None, …) when used or expired
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from ingest.registry import Registry, Unit
from ingest.submissions.periods import TIMEZONE

Role = Literal["unit", "province"]


def digest(kind: str, value: str) -> str:
    """A SHA-256 hex digest of ``value``, separated by ``kind`` (``token``, ``session``, ``address``, ``client``)."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def new_token() -> str:
    """A fresh 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def csrf_token(key: str) -> str:
    """The CSRF token of a session (or of a visitor's pre-session cookie): an HMAC of its cookie."""
    return hmac.new(key.encode(), b"d06-portal-csrf", hashlib.sha256).hexdigest()


def csrf_valid(key: str | None, sent: str | None) -> bool:
    return bool(key and sent) and hmac.compare_digest(csrf_token(key or ""), sent or "")


def normalise_address(address: str) -> str:
    return unicodedata.normalize("NFC", address).strip().lower()


@dataclass(frozen=True)
class Principal:
    """A signed-in unit and the units it may see (itself; for a province, all of its province's)."""

    unit_code: str
    role: Role
    scope: frozenset[str]

    def can_see(self, unit_code: str) -> bool:
        return unit_code in self.scope


def principal_for(registry: Registry, unit_code: str) -> Principal:
    """The role and scope of ``unit_code``: a province sees its province's units, a unit itself."""
    unit = registry.units[unit_code]
    if unit.kind == "province":
        scope = frozenset(u.code for u in registry.units.values() if u.province_code == unit.province_code)
        return Principal(unit.code, "province", scope | {unit.code})
    return Principal(unit.code, "unit", frozenset({unit.code}))


def today() -> dt.date:
    return dt.datetime.now(TIMEZONE).date()


def unit_for_address(registry: Registry, address: str) -> Unit | None:
    """The unit valid today whose registered address this is (none, or more than one: None)."""
    wanted = normalise_address(address)
    found = [u for u in registry.units.values() if u.valid_on(today()) and normalise_address(u.contact_email) == wanted]
    return found[0] if len(found) == 1 else None


def create_link(conn: psycopg.Connection[Any], unit: Unit, *, minutes: int) -> str:
    """A new single-use sign-in token for ``unit``, valid ``minutes``; only its hash is stored."""
    token = new_token()
    conn.execute(
        """insert into portal.signin_link (token_hash, unit_code, address_hash, expires_at)
           values (%s, %s, %s, now() + make_interval(mins => %s))""",
        (digest("token", token), unit.code, digest("address", normalise_address(unit.contact_email)), minutes),
    )
    return token


def redeem_link(conn: psycopg.Connection[Any], token: str) -> tuple[str | None, str | None]:
    """Use a sign-in token once: (unit code, address hash) when it is valid, else (None, its
    address hash if the token exists).  Atomic: two uses at once cannot both succeed."""
    token_hash = digest("token", token)
    row = conn.execute(
        """update portal.signin_link set used_at = now()
           where token_hash = %s and used_at is null and expires_at > now()
           returning unit_code, address_hash""",
        (token_hash,),
    ).fetchone()
    if row is not None:
        return str(row[0]), str(row[1])
    stale = conn.execute("select address_hash from portal.signin_link where token_hash = %s", (token_hash,)).fetchone()
    return None, (str(stale[0]) if stale else None)


def create_session(conn: psycopg.Connection[Any], principal: Principal, *, hours: float) -> str:
    """A new session for ``principal``; returns the cookie value (only its hash is stored)."""
    session = new_token()
    conn.execute(
        """insert into portal.session (session_hash, unit_code, role, expires_at)
           values (%s, %s, %s, now() + make_interval(secs => %s))""",
        (digest("session", session), principal.unit_code, principal.role, hours * 3600),
    )
    return session


def session_unit(conn: psycopg.Connection[Any], session: str) -> str | None:
    """The unit of a live session cookie, or None (unknown, expired or signed out)."""
    row = conn.execute(
        """select unit_code from portal.session
           where session_hash = %s and revoked_at is null and expires_at > now()""",
        (digest("session", session),),
    ).fetchone()
    return str(row[0]) if row else None


def end_session(conn: psycopg.Connection[Any], session: str) -> None:
    conn.execute(
        "update portal.session set revoked_at = now() where session_hash = %s and revoked_at is null",
        (digest("session", session),),
    )


# --- the rate limit of failed sign-ins --------------------------------------------------------


def record_attempt(
    conn: psycopg.Connection[Any],
    action: Literal["request", "redeem"],
    succeeded: bool,
    *,
    address_hash: str | None,
    client_hash: str,
) -> None:
    conn.execute(
        """insert into portal.signin_attempt (action, succeeded, address_hash, client_hash)
           values (%s, %s, %s, %s)""",
        (action, succeeded, address_hash, client_hash),
    )


def is_limited(
    conn: psycopg.Connection[Any],
    *,
    address_hash: str | None,
    client_hash: str,
    per_address: int,
    per_client: int,
    window_minutes: int,
    links_count: bool = True,
) -> bool:
    """Whether sign-in is refused for now: too many failures from this client, or for this
    address, within the window.  With ``links_count`` (asking for a link), the links sent to the
    address count too, so that nobody can flood a unit's mailbox; using a link counts failures only."""
    row = conn.execute(
        """select count(*) filter (where client_hash = %(client)s and not succeeded),
                  count(*) filter (where address_hash = %(address)s
                                     and (not succeeded or (%(links)s and action = 'request')))
           from portal.signin_attempt
           where attempted_at > now() - make_interval(mins => %(window)s)
             and (client_hash = %(client)s or address_hash = %(address)s)""",
        {"client": client_hash, "address": address_hash, "window": window_minutes, "links": links_count},
    ).fetchone()
    by_client, by_address = (int(n) for n in row) if row else (0, 0)
    return by_client >= per_client or by_address >= per_address


def forget_old(conn: psycopg.Connection[Any]) -> None:
    """Delete links, sessions and attempts that ended more than a day ago."""
    conn.execute("delete from portal.signin_link where expires_at < now() - interval '1 day'")
    conn.execute("delete from portal.session where expires_at < now() - interval '1 day'")
    conn.execute("delete from portal.signin_attempt where attempted_at < now() - interval '1 day'")
