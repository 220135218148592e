"""Publish: make the validated marts the official ones, in one transaction.

The run builds every mart into :data:`STAGED` (``bi_reader`` has no usage on it), the checkpoint
validates them there, and :func:`publish` swaps the schemas.  It first takes every official
table's ACCESS EXCLUSIVE lock, so a reader already running finishes on the old month and a
reader arriving waits and then sees the new one: nobody sees a half-published month.  A failed
build or checkpoint never reaches this step, and the official marts stay as they were.

BI objects created by hand inside the official schema go with it on the next swap; keep them
in a schema of their own (they then depend on the tables by name, not by identity).
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import sql

from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

OFFICIAL = "marts"
"""The schema officials and BI tools read (``marts_schema`` in dbt_project.yml)."""
STAGED = "marts_next"
"""Where a run builds the marts before publishing them (``D06_MARTS_BUILD_SCHEMA``)."""
RETIRED = "marts_retired"
BI_ROLE = "bi_reader"
LOCK_TIMEOUT = "120s"


class PublishError(RuntimeError):
    """Nothing to publish (no staged marts); the official marts are unchanged."""


def _schema_exists(conn: Any, name: str) -> bool:
    return conn.execute("select 1 from pg_namespace where nspname = %s", (name,)).fetchone() is not None


def discard_staged() -> None:
    """Drop what an earlier, unfinished run left in the staging schema."""
    with connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(STAGED)))


def publish() -> dict[str, Any]:
    """Swap the staged marts in as the official ones; return the tables published."""
    with connect() as conn:
        if not _schema_exists(conn, STAGED):
            raise PublishError(f"no staged marts to publish (schema {STAGED} does not exist)")
        tables = [
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = %s order by tablename", (STAGED,)
            ).fetchall()
        ]
        conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        if _schema_exists(conn, OFFICIAL):
            for (table,) in conn.execute(
                "select tablename from pg_tables where schemaname = %s order by tablename", (OFFICIAL,)
            ).fetchall():
                conn.execute(
                    sql.SQL("lock table {}.{} in access exclusive mode").format(
                        sql.Identifier(OFFICIAL), sql.Identifier(table)
                    )
                )
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(RETIRED)))
            conn.execute(
                sql.SQL("alter schema {} rename to {}").format(sql.Identifier(OFFICIAL), sql.Identifier(RETIRED))
            )
        conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(STAGED), sql.Identifier(OFFICIAL)))
        if conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone():
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(OFFICIAL), sql.Identifier(BI_ROLE))
            )
            conn.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(
                    sql.Identifier(OFFICIAL), sql.Identifier(BI_ROLE)
                )
            )
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(RETIRED)))
    log.info("published %d marts", len(tables))
    return {"published": len(tables), "schema": OFFICIAL}
