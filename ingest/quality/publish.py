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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg import sql

from ingest.warehouse.access import apply_row_security
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

OFFICIAL = "marts"
"""The schema officials and BI tools read (``marts_schema`` in dbt_project.yml)."""
STAGED = "marts_next"
"""Where a run builds the marts before publishing them (``D06_MARTS_BUILD_SCHEMA``)."""
RETIRED = "marts_retired"
LOCK_TIMEOUT = "120s"


class PublishError(RuntimeError):
    """Nothing to publish (no staged marts); the official marts are unchanged."""


def _schema_exists(conn: Any, name: str) -> bool:
    return conn.execute("select 1 from pg_namespace where nspname = %s", (name,)).fetchone() is not None


def staged_exists() -> bool:
    """Whether a build left marts to publish (the staging schema exists)."""
    with connect() as conn:
        return _schema_exists(conn, STAGED)


def discard_staged() -> None:
    """Drop what an earlier, unfinished run left in the staging schema."""
    with connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(STAGED)))


def carry_over(tables: Mapping[str, Sequence[str]]) -> int:
    """Start the staged marts that dbt builds by period (incremental) from the official ones:
    each table copied with its columns, checks, comments, key and indexes, so that the build only
    replaces the months that changed.  Indexes are built after the copy (one sort each, not
    row by row).  A table not yet official, or whose columns are not its contract's (``tables``:
    name -> columns), is left to dbt to build whole; return how many were copied."""
    copied = 0
    with connect() as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(STAGED)))
        for table, columns in tables.items():
            source, target = sql.Identifier(OFFICIAL, table), sql.Identifier(STAGED, table)
            if _columns(conn, table) != list(columns):
                continue
            conn.execute(sql.SQL("create table {} (like {} including all excluding indexes)").format(target, source))
            conn.execute(sql.SQL("insert into {} select * from {}").format(target, source))
            for (definition,) in _index_definitions(conn, table):
                conn.execute(definition)
            copied += 1
    return copied


def _columns(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        """select column_name from information_schema.columns where table_schema = %s and table_name = %s
           order by ordinal_position""",
        (OFFICIAL, table),
    ).fetchall()
    return [r[0] for r in rows]


def _index_definitions(conn: Any, table: str) -> list[tuple[Any]]:
    """The official table's key and indexes, as statements that create them on the staged table."""
    return conn.execute(
        """select case when c.conname is not null
                       then format('alter table %%I.%%I add constraint %%I %%s', %(staged)s::text,
                                   %(table)s::text, c.conname, pg_get_constraintdef(c.oid))
                       else replace(pg_get_indexdef(i.indexrelid), format(' ON %%I.', %(official)s::text),
                                    format(' ON %%I.', %(staged)s::text)) end
           from pg_index i
           join pg_class t on t.oid = i.indrelid
           join pg_namespace n on n.oid = t.relnamespace
           left join pg_constraint c on c.conindid = i.indexrelid and c.contype in ('p', 'u')
           where n.nspname = %(official)s::text and t.relname = %(table)s::text""",
        {"official": OFFICIAL, "staged": STAGED, "table": table},
    ).fetchall()


def publish(before_commit: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Swap the staged marts in as the official ones; return the tables published.

    ``before_commit(conn)`` runs last in the swap's transaction (the build mark's promotion), so
    that a crash leaves either both or neither."""
    with connect() as conn:
        if not _schema_exists(conn, STAGED):
            raise PublishError(f"no staged marts to publish (schema {STAGED} does not exist)")
        tables = [
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = %s order by tablename", (STAGED,)
            ).fetchall()
        ]
        secured = apply_row_security(conn, STAGED)  # policies and grants travel with the tables
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
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(RETIRED)))
        if before_commit is not None:
            before_commit(conn)
    log.info("published %d marts (%d with row-level security)", len(tables), secured)
    return {"published": len(tables), "schema": OFFICIAL}
