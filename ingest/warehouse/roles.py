"""Least-privilege group roles of the warehouse's services (``d06 db init`` makes and grants them).

=====================  ==========================================================================
role                   may
=====================  ==========================================================================
``d06_loader``         read the registries; read and write the landing tables (``raw``), the
                       ledgers (``audit``) and the portal's tables; nothing else: no dbt schema,
                       no mart, no DDL anywhere
``d06_transformer``    read ``raw``, ``registry`` and ``audit``; create and own the schemas dbt
                       builds (staging, intermediate, the staged and the published marts); never
                       write a landing table, a ledger or a registry
``bi_reader``          read the published marts (dbt's ``grants``), every row; nothing else
``unit_reader``        read the published marts through row-level security
                       (:mod:`ingest.warehouse.access`); nothing else
=====================  ==========================================================================

The roles are ``NOLOGIN`` groups: a deployment gives each service a login that is a member of
one of them (README, "Database roles"), so a leaked loader password cannot rewrite a mart and
a leaked BI password cannot read a raw row.  Grants cover the tables that exist and, through
default privileges, those the warehouse owner creates later.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

LOADER_ROLE = "d06_loader"
TRANSFORMER_ROLE = "d06_transformer"

LOADER_WRITES = ("raw", "audit", "portal")
READ_ONLY_FOR_LOADER = ("registry",)
TRANSFORMER_READS = ("raw", "registry", "audit")


def act_as(conn: psycopg.Connection[Any], role: str) -> bool:
    """``SET LOCAL ROLE role`` for the rest of the transaction when this login may take it (it is
    a member, or the owner's superuser); otherwise nothing (a login that is already the role's
    member only, or a warehouse without the roles yet).  True when the role was taken."""
    row = conn.execute(
        """select case when exists (select 1 from pg_roles where rolname = %(r)s)
                       then pg_has_role(current_user, %(r)s, 'MEMBER') else false end""",
        {"r": role},
    ).fetchone()
    if not (row and row[0]):
        return False
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    return True


def _ensure_role(conn: psycopg.Connection[Any], role: str) -> None:
    """Roles belong to the cluster: two databases may create one at once; either wins."""
    if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is None:
        conn.execute(
            sql.SQL("do $$ begin create role {} nologin; exception when duplicate_object then null; end $$").format(
                sql.Identifier(role)
            )
        )


def _grant_schema(conn: psycopg.Connection[Any], schema: str, role: str, *, write: bool) -> None:
    """Usage of ``schema`` and its tables (read, or read and write) to ``role``, now and later."""
    s, r = sql.Identifier(schema), sql.Identifier(role)
    rights = sql.SQL("select, insert, update, delete") if write else sql.SQL("select")
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(s, r))
    conn.execute(sql.SQL("grant {} on all tables in schema {} to {}").format(rights, s, r))
    conn.execute(sql.SQL("alter default privileges in schema {} grant {} on tables to {}").format(s, rights, r))
    if write:
        conn.execute(sql.SQL("grant usage, select on all sequences in schema {} to {}").format(s, r))
        later = sql.SQL("alter default privileges in schema {} grant usage, select on sequences to {}")
        conn.execute(later.format(s, r))


def _existing(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> list[str]:
    rows = conn.execute("select nspname from pg_namespace where nspname = any(%s)", (list(schemas),)).fetchall()
    return sorted(r[0] for r in rows)


def ensure_service_roles(conn: psycopg.Connection[Any]) -> None:
    """Create the loader's and the transformer's group roles and grant them what they need."""
    for role in (LOADER_ROLE, TRANSFORMER_ROLE):
        _ensure_role(conn, role)
    for schema in _existing(conn, LOADER_WRITES):
        _grant_schema(conn, schema, LOADER_ROLE, write=True)
    for schema in _existing(conn, READ_ONLY_FOR_LOADER):
        _grant_schema(conn, schema, LOADER_ROLE, write=False)
    for schema in _existing(conn, TRANSFORMER_READS):
        _grant_schema(conn, schema, TRANSFORMER_ROLE, write=False)
    database = conn.execute("select current_database()").fetchone()
    assert database is not None
    # dbt creates its schemas (and owns them): the one right the transformer has on the database.
    conn.execute(
        sql.SQL("grant connect, create on database {} to {}").format(
            sql.Identifier(database[0]), sql.Identifier(TRANSFORMER_ROLE)
        )
    )
    conn.execute(
        sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database[0]), sql.Identifier(LOADER_ROLE))
    )
    # Nobody creates objects in the public schema (PostgreSQL 15 already revokes it from PUBLIC).
    conn.execute("revoke create on schema public from public")
