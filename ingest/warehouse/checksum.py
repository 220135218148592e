"""A content checksum of the marts: the same data give the same checksum, whatever the row order."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def marts_checksum(conn: psycopg.Connection[Any], schema: str = "marts") -> dict[str, str]:
    """md5 of every table in ``schema`` over its rows as text, sorted; keyed by table name."""
    tables = [
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s order by 1", (schema,)
        ).fetchall()
    ]
    out = {}
    for table in tables:
        query = sql.SQL("select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from {} as t").format(
            sql.Identifier(schema, table)
        )
        out[table] = conn.execute(query).fetchone()[0]  # type: ignore[index]
    return out
