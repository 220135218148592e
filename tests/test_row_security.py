"""Row-level security on the official marts (issue 12 §6): every role × mart table, 0 rows leaked.

Two provinces' units report (departments and communes of An Giang and Đồng Tháp) and both
provinces' civil-registry extracts are loaded; the marts are built and published.  Then, as real
logins over the network (``d06 grant reader``), each reader reads every table of the marts.  What
each may see is written here by hand from the rule — a unit reader: rows of its unit, and
province-level rows (no unit column) of its province; a province reader: rows of its province;
``bi_reader``: everything — and compared with what it actually gets: no row outside the rule
(leaked), and every row inside it (nothing withheld).
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.cli import main as d06
from ingest.landing.adapters import LandingContext
from ingest.landing.land import land_paths
from ingest.pipeline import build_models, prepare_warehouse
from ingest.registry import load_registry
from ingest.warehouse.db import connect

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]
PERIOD = "2026-03"
TODAY = dt.date(2026, 4, 5)
REGISTRY = load_registry()
UNITS = ("AG.STP", "AG.CAT", "DT.STP", "AG.X.MYTHOI", "DT.X.CAOLANH")
PASSWORD = secrets.token_urlsafe(18)  # the scratch logins' password, made at run time
LOGINS = {
    "rls_unit_ag_stp": ("unit", "AG.STP"),
    "rls_unit_ag_commune": ("unit", "AG.X.MYTHOI"),
    "rls_province_ag": ("province", "AG"),
    "rls_province_dt": ("province", "DT"),
}
HEADER = ["unit_code", "period", "indicator_code", "service_code", "numerator", "denominator"]
HOTICH = ["extract_date", "commune_code", "record_type", "records_total", "records_scanned", "records_entered",
          "records_synced"]  # fmt: skip


def _submission(folder: Path, unit: str) -> Path:
    path = folder / f"{unit}_{PERIOD}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for indicator, service in list(REGISTRY.expected_rows(unit))[:3]:
            w.writerow([unit, PERIOD, indicator.code, service, 40, 50])
    return path


def _extract(folder: Path) -> Path:
    path = folder / "hotich_2026-03-31.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HOTICH)
        for commune in ("AG.X.MYTHOI", "DT.X.CAOLANH"):
            w.writerow(["2026-03-31", commune, "khai_sinh", 100, 90, 80, 70])
    return path


@pytest.fixture(scope="module")
def published(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert {u for u in UNITS} <= set(REGISTRY.units)
    prepare_warehouse()
    folder = tmp_path_factory.mktemp("inbox")
    files = [_submission(folder, u) for u in UNITS] + [_extract(folder)]
    with connect() as conn:
        outcomes = land_paths(conn, files, batch_id="rls", ctx=LandingContext(REGISTRY, TODAY, PERIOD))
    assert {o.status for o in outcomes} == {"loaded"}, outcomes
    build_models(period=PERIOD)
    yield warehouse_dsn
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        for login in LOGINS:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(login)))
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


def _grant(login: str, scope: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("D06_READER_PASSWORD", PASSWORD)
    assert d06(["grant", "reader", f"--{scope}", code, "--login", login]) == 0


def _as(dsn: str, login: str) -> psycopg.Connection[Any]:
    parts = conninfo_to_dict(dsn)
    parts.update(user=login, password=PASSWORD)
    return psycopg.connect(make_conninfo(**parts))  # type: ignore[arg-type]


def _tables(conn: psycopg.Connection[Any]) -> dict[str, set[str]]:
    rows = conn.execute(
        """select table_name, column_name from information_schema.columns c
           join pg_tables t on t.schemaname = c.table_schema and t.tablename = c.table_name
           where table_schema = 'marts'"""
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def _unit_column(table: str, columns: set[str]) -> str | None:
    if table == "fct_plan_task":
        return "lead_unit_code"
    return next((c for c in ("unit_code", "commune_code") if c in columns), None)


def _allowed(scope: str, code: str, table: str, columns: set[str]) -> sql.Composable:
    """The rule, by hand: which rows of ``table`` the reader may see."""
    unit = _unit_column(table, columns)
    province = REGISTRY.units[code].province_code if scope == "unit" else code
    if unit is None and "province_code" not in columns:
        return sql.SQL("true")  # reference data (indicators, services, months)
    if scope == "unit":
        if unit is None:
            return sql.SQL("province_code = {}").format(sql.Literal(province))
        return sql.SQL("{} = {}").format(sql.Identifier(unit), sql.Literal(code))
    if "province_code" in columns:
        return sql.SQL("province_code = {}").format(sql.Literal(province))
    return sql.SQL("{} in (select unit_code from registry.unit where province_code = {})").format(
        sql.Identifier(unit or "unit_code"), sql.Literal(province)
    )


EVERY_ROW = sql.SQL("true")


def _key_rows(conn: psycopg.Connection[Any], table: str, where: sql.Composable = EVERY_ROW) -> list[str]:
    query = sql.SQL("select t::text from marts.{} t where {} order by 1").format(sql.Identifier(table), where)
    return [r[0] for r in conn.execute(query).fetchall()]


def test_every_reader_sees_exactly_its_rows_in_every_mart(published: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for login, (scope, code) in LOGINS.items():
        _grant(login, scope, code, monkeypatch)
    with connect() as owner:
        tables = _tables(owner)
        assert len(tables) >= 15
        expected = {
            (login, t): _key_rows(owner, t, _allowed(scope, code, t, cols))
            for login, (scope, code) in LOGINS.items()
            for t, cols in tables.items()
        }
        everything = {t: _key_rows(owner, t) for t in tables}
    leaks, withheld = [], []
    for login in LOGINS:
        with _as(published, login) as reader:
            for table in tables:
                seen = _key_rows(reader, table)
                leaks += [(login, table, r[:60]) for r in set(seen) - set(expected[(login, table)])]
                withheld += [(login, table) for r in set(expected[(login, table)]) - set(seen)][:1]
    assert leaks == [], f"{len(leaks)} rows leaked: {leaks[:5]}"
    assert withheld == [], f"rows withheld: {withheld[:5]}"
    # The test has teeth: the readers' scopes are non-trivial (other units' rows exist and were hidden).
    unit_scope = expected[("rls_unit_ag_stp", "fct_indicator_monthly")]
    assert 0 < len(unit_scope) < len(everything["fct_indicator_monthly"])
    dt_scope = expected[("rls_province_dt", "mart_civil_registry_funnel_monthly")]
    assert 0 < len(dt_scope) < len(everything["mart_civil_registry_funnel_monthly"])


def test_a_login_without_a_scope_sees_nothing_and_bi_reader_everything(published: str) -> None:
    with psycopg.connect(published, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role if exists rls_no_scope"))
        conn.execute(
            sql.SQL("create role rls_no_scope login password {} in role unit_reader").format(sql.Literal(PASSWORD))
        )
    try:
        with _as(published, "rls_no_scope") as reader:
            assert _key_rows(reader, "fct_indicator_monthly") == []
            assert _key_rows(reader, "mart_reporting_timeliness") == []
    finally:
        with psycopg.connect(published, autocommit=True) as conn:
            conn.execute("drop owned by rls_no_scope")
            conn.execute("drop role rls_no_scope")


def test_policies_are_forced_and_survive_the_next_publication(published: str) -> None:
    build_models(period=PERIOD)  # a second run republishes every mart
    with connect() as conn:
        rows = conn.execute(
            """select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'marts' and c.relkind = 'r'
                 and c.relname in ('fct_indicator_monthly', 'mart_unit_scorecard_monthly', 'fct_plan_task',
                                   'mart_bhxh_verification_monthly', 'mart_province_scorecard_monthly')"""
        ).fetchall()
    assert sorted(rows) == sorted(
        (t, True, True)
        for t in (
            "fct_indicator_monthly",
            "mart_unit_scorecard_monthly",
            "fct_plan_task",
            "mart_bhxh_verification_monthly",
            "mart_province_scorecard_monthly",
        )
    )


def test_grant_refuses_an_unknown_unit(published: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("D06_READER_PASSWORD", PASSWORD)
    assert d06(["grant", "reader", "--unit", "XX.NOPE", "--login", "rls_nope"]) == 2
    assert "XX.NOPE" in capsys.readouterr().err
