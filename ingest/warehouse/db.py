"""Connections and COPY loading for the warehouse."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from ingest.config import warehouse_dsn


@contextlib.contextmanager
def connect(dsn: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg 3 connection to the warehouse; commits on success, rolls back on error."""
    with psycopg.connect(dsn or warehouse_dsn(), autocommit=autocommit) as conn:
        yield conn


def init_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the landing, registry and audit tables if they do not exist, and the services'
    least-privilege roles (:mod:`ingest.warehouse.roles`)."""
    from ingest.warehouse.roles import ensure_service_roles

    ddl = resources.files("ingest.warehouse").joinpath("schema.sql").read_text(encoding="utf-8")
    conn.execute(ddl.encode())  # trusted, packaged DDL
    ensure_service_roles(conn)


QUARANTINE_COLUMNS = (
    "file_id",
    "batch_id",
    "row_no",
    "column_name",
    "raw_value",
    "reason_code",
    "reason_vi",
    "reason_en",
    "raw_row",
)
"""The columns of ``raw.quarantine`` that a loader writes, in the order its COPY text has them."""
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"})
"""COPY text escapes; NUL, which no PostgreSQL text can hold, becomes U+FFFD."""


def copy_field(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, tuple | list):  # text[] of plain codes
        return "{" + ",".join(json.dumps(str(v)) for v in value) + "}" if value else "{}"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).translate(_ESCAPES)


def copy_into(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    writer: Callable[[psycopg.Cursor[Any]], Any] | None = None,
) -> Any:
    """A COPY FROM STDIN into ``schema.table`` (``columns`` in order), to use as a context
    manager; ``writer`` makes psycopg's writer for the cursor (default: its own)."""
    schema, name = table.split(".", 1)
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cursor = conn.cursor()
    return cursor.copy(stmt, writer=writer(cursor) if writer else None)


def copy_rows(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """COPY ``rows`` into ``schema.table`` (``columns`` in order); return the number of rows."""
    n = 0
    with copy_into(conn, table, columns) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


BI_ROLE = "bi_reader"


def ensure_bi_login(conn: psycopg.Connection[Any], password: str) -> None:
    """Let BI tools log in as the read-only role; dbt grants it the marts and nothing else."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone()
    verb = sql.SQL("alter role") if exists else sql.SQL("create role")
    conn.execute(sql.SQL("{} {} login password {}").format(verb, sql.Identifier(BI_ROLE), sql.Literal(password)))


@contextlib.contextmanager
def scratch_database(server_dsn: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_dsn``, dropped afterwards; yields its DSN."""
    import secrets

    from ingest.config import warehouse_parts

    name = f"{prefix}_{secrets.token_hex(4)}"
    p = warehouse_parts(server_dsn)
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql://{p.user}:{p.password}@{p.host}:{p.port}/{name}"
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
