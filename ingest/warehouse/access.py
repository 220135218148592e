"""Who may read which rows of the official marts: row-level security for unit and province readers.

Three kinds of reader:

* ``bi_reader`` reads every row of the marts (the standing office's BI connection);
* a *unit reader* login (member of :data:`SCOPED_ROLE`) reads only its unit's rows, and the
  province-level rows (scorecards, timeliness, targets) of its unit's province;
* a *province reader* login (also a member of :data:`SCOPED_ROLE`) reads every row of its province.

A login's scope is a row of ``access.reader_scope`` (``d06 grant reader``).  Each mart table that
has rows of units or provinces gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and three
policies when it is published (:func:`apply_row_security`, in the publish transaction): one for
its owner (the transformer), one for ``bi_reader`` (every row) and one for the scoped readers,
which asks :sql:`access.reader_can_see(unit, province)` (``SECURITY DEFINER``; it reads the scope
of ``session_user``, so a login without a scope row sees nothing).  Views in the marts are set to
``security_invoker`` so that they filter as the reader, not as their owner.  Tables with no unit
or province (dim_indicator, dim_service, dim_period) are reference data, readable by every reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

BI_ROLE = "bi_reader"
SCOPED_ROLE = "unit_reader"
"""The group role of every unit and province reader login; the policies name it."""

SCOPE_COLUMNS: Mapping[str, tuple[str | None, str | None]] = {
    "fct_plan_task": ("lead_unit_code", None),
}
"""Tables whose unit (or province) is not in a column named unit_code / commune_code / province_code."""

FUNCTIONS_SQL = """
create schema if not exists access;
create table if not exists access.reader_scope (
    login      text primary key,
    scope      text not null check (scope in ('unit', 'province')),
    code       text not null,
    granted_at timestamptz not null default now()
);
create or replace function access.reader_can_see(row_unit text, row_province text) returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select exists (
        select 1
        from access.reader_scope s
        left join registry.unit su on s.scope = 'unit' and su.unit_code = s.code
        left join registry.unit ru on ru.unit_code = row_unit
        where s.login = session_user
          and (
              (s.scope = 'unit' and row_unit = s.code)
              or (s.scope = 'unit' and row_unit is null and row_province = su.province_code)
              or (s.scope = 'province' and coalesce(row_province, ru.province_code) = s.code)
          )
    )
$$;
revoke all on function access.reader_can_see(text, text) from public;
"""


def _ensure_group_role(conn: psycopg.Connection[Any], role: str) -> None:
    """Roles belong to the whole cluster: two databases may create one at once; either wins."""
    if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is None:
        conn.execute(
            sql.SQL("do $$ begin create role {} nologin; exception when duplicate_object then null; end $$").format(
                sql.Identifier(role)
            )
        )


def ensure_reader_roles(conn: psycopg.Connection[Any]) -> None:
    """The scoped readers' group role, the scope table and the function the policies ask."""
    _ensure_group_role(conn, SCOPED_ROLE)
    conn.execute(FUNCTIONS_SQL)
    conn.execute(sql.SQL("grant usage on schema access to {}").format(sql.Identifier(SCOPED_ROLE)))
    conn.execute(
        sql.SQL("grant execute on function access.reader_can_see(text, text) to {}").format(sql.Identifier(SCOPED_ROLE))
    )


def _scope_of(conn: psycopg.Connection[Any], schema: str, table: str) -> tuple[str | None, str | None]:
    if table in SCOPE_COLUMNS:
        return SCOPE_COLUMNS[table]
    columns = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table),
        ).fetchall()
    }
    unit = next((c for c in ("unit_code", "commune_code") if c in columns), None)
    return unit, "province_code" if "province_code" in columns else None


def _policies(table: sql.Composable, unit: str | None, province: str | None) -> list[sql.Composed]:
    can_see = sql.SQL("access.reader_can_see({}, {})").format(
        sql.Identifier(unit) if unit else sql.SQL("null::text"),
        sql.Identifier(province) if province else sql.SQL("null::text"),
    )
    return [
        sql.SQL("alter table {} enable row level security").format(table),
        sql.SQL("alter table {} force row level security").format(table),
        sql.SQL("drop policy if exists d06_owner on {}").format(table),
        sql.SQL("drop policy if exists d06_bi_reader on {}").format(table),
        sql.SQL("drop policy if exists d06_scoped_reader on {}").format(table),
        sql.SQL("create policy d06_owner on {} to current_user using (true) with check (true)").format(table),
        sql.SQL("create policy d06_bi_reader on {} for select to {} using (true)").format(
            table, sql.Identifier(BI_ROLE)
        ),
        sql.SQL("create policy d06_scoped_reader on {} for select to {} using ({})").format(
            table, sql.Identifier(SCOPED_ROLE), can_see
        ),
    ]


def apply_row_security(conn: psycopg.Connection[Any], schema: str) -> int:
    """Policies on every table of ``schema`` that has unit or province rows, ``security_invoker``
    on its views, and the readers' grants; returns how many tables were given policies."""
    ensure_reader_roles(conn)
    _ensure_group_role(conn, BI_ROLE)
    tables = [r[0] for r in conn.execute("select tablename from pg_tables where schemaname = %s", (schema,)).fetchall()]
    secured = 0
    for table in tables:
        unit, province = _scope_of(conn, schema, table)
        if unit is None and province is None:
            continue
        for statement in _policies(sql.Identifier(schema, table), unit, province):
            conn.execute(statement)
        secured += 1
    for (view,) in conn.execute("select viewname from pg_views where schemaname = %s", (schema,)).fetchall():
        conn.execute(sql.SQL("alter view {} set (security_invoker = true)").format(sql.Identifier(schema, view)))
    for role in (BI_ROLE, SCOPED_ROLE):
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(role)))
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
    return secured


class GrantError(ValueError):
    """A reader cannot be granted as asked (unknown unit or province, bad login name)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")


def grant_reader(conn: psycopg.Connection[Any], login: str, scope: str, code: str, password: str) -> None:
    """Create (or update) the login ``login`` reading the marts of one unit or one province."""
    if not login.replace("_", "").isalnum() or not login[:1].isalpha() or login.lower() in (BI_ROLE, SCOPED_ROLE):
        raise GrantError(
            f"Tên đăng nhập “{login}” không hợp lệ (chữ, số, dấu gạch dưới; bắt đầu bằng chữ)",
            f"login {login!r} is not valid (letters, digits, underscores; starting with a letter)",
        )
    column = "unit_code" if scope == "unit" else "province_code"
    if conn.execute(f"select 1 from registry.unit where {column} = %s limit 1", (code,)).fetchone() is None:
        raise GrantError(f"Không có mã {code} trong danh mục đơn vị", f"no {scope} {code!r} in the unit registry")
    ensure_reader_roles(conn)
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (login,)).fetchone()
    verb = sql.SQL("alter role") if exists else sql.SQL("create role")
    conn.execute(sql.SQL("{} {} login password {}").format(verb, sql.Identifier(login), sql.Literal(password)))
    conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(SCOPED_ROLE), sql.Identifier(login)))
    conn.execute(
        """insert into access.reader_scope (login, scope, code) values (%s, %s, %s)
           on conflict (login) do update set scope = excluded.scope, code = excluded.code, granted_at = now()""",
        (login, scope, code),
    )
