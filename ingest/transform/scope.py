"""Which months a build must rebuild: the monthly build is incremental by period.

The facts, the scorecards and the intermediate tables under them are dbt models materialized
``incremental``: a run deletes the months it names (``D06_BUILD_PERIODS``) and inserts them
again, and keeps the other months as they are.  This module names those months, for the two
builds of a run (the audit stage, and the publication), from what changed since each last
succeeded (``audit.build_mark``):

* the months of the rows of every file loaded since (file ids above the mark's watermark), and
  the months those files were sent for;
* the months whose period lock was set, moved or lifted since;
* for the publication, the months whose violations the gate or a person changed since, the
  months the gate checked this run, and the month after each (a scorecard compares a month
  with the one before).

Everything is rebuilt (``None``) when there is no mark yet, or when the registry or the dbt
project changed since (a new succession share, a new indicator or a new model moves every
month's figures).

>>> scope = build_scope(conn, "stage", project_fingerprint())
>>> scope.periods       # ('2026-06', '2026-07'), or None: every month
>>> mark_built(scope)   # once that build has succeeded
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ingest.transform.dbt_runner import dbt_dir, target_dir
from ingest.warehouse.db import connect

Build = Literal["stage", "publication"]
ENV = "D06_BUILD_PERIODS"
"""The environment variable that names the months to dbt (macros/build_periods.sql)."""

NO_MONTH = "none"
"""What names no month at all to dbt (nothing changed): the incremental models keep every month."""


@dataclass(frozen=True)
class BuildScope:
    """The months one build rebuilds (None: all), and the state to mark once it has succeeded."""

    build: Build
    periods: tuple[str, ...] | None
    file_watermark: int
    locks: dict[str, str]
    fingerprint: str
    taken_at: dt.datetime

    def env(self) -> dict[str, str]:
        """dbt's environment for this build: the months, or empty for every month."""
        if self.periods is None:
            return {ENV: ""}
        return {ENV: ",".join(self.periods) or NO_MONTH}

    def widened(self, periods: Iterable[str]) -> BuildScope:
        """This scope with ``periods`` (and the month after each) added; all stays all."""
        if self.periods is None:
            return self
        more = set(periods)
        return _replace(self, tuple(sorted(set(self.periods) | more | {next_month(p) for p in more})))

    def describe(self) -> str:
        return "every month" if self.periods is None else ", ".join(self.periods) or "no month"


def _replace(scope: BuildScope, periods: tuple[str, ...] | None) -> BuildScope:
    return BuildScope(scope.build, periods, scope.file_watermark, scope.locks, scope.fingerprint, scope.taken_at)


def next_month(period: str) -> str:
    y, m = map(int, period.split("-"))
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def project_fingerprint(conn: Any) -> str:
    """A digest of what moves every month's figures: the registry's tables as loaded, and the
    dbt project's models, macros and settings."""
    digest = hashlib.sha256()
    tables = conn.execute("select tablename from pg_tables where schemaname = 'registry' order by tablename").fetchall()
    for (table,) in tables:
        row = conn.execute(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from registry.{table} t"
        ).fetchone()
        digest.update(f"{table}:{row[0]}\n".encode())
    root = dbt_dir()
    for path in sorted([root / "dbt_project.yml", *root.glob("models/**/*"), *root.glob("macros/**/*")]):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _locks(conn: Any) -> dict[str, str]:
    return {p: str(at) for p, at in conn.execute("select period, closed_at from audit.period_lock").fetchall()}


def _changed_periods(conn: Any, build: Build, mark: tuple[Any, ...], locks: dict[str, str]) -> set[str]:
    watermark, marked_locks, marked_at = mark[0], mark[1], mark[2]
    rows = conn.execute(
        """select distinct period from raw.submission_row where file_id > %(w)s
           union select period from audit.load_ledger where file_id > %(w)s and period is not null
           union select distinct to_char(extract_date, 'YYYY-MM') from raw.civil_registry_count where file_id > %(w)s
           union select distinct to_char(extract_date, 'YYYY-MM') from raw.bhxh_verification where file_id > %(w)s""",
        {"w": watermark},
    ).fetchall()
    periods = {r[0] for r in rows}
    periods |= {p for p in set(locks) | set(marked_locks) if locks.get(p) != marked_locks.get(p)}
    if build == "publication":
        rows = conn.execute(
            """select distinct period from audit.violation
               where greatest(first_seen_at, last_seen_at, coalesce(status_at, last_seen_at)) > %(at)s
               union select distinct period from audit.unit_period_check where checked_at > %(at)s""",
            {"at": marked_at},
        ).fetchall()
        periods |= {r[0] for r in rows}
    return periods


def build_scope(build: Build, *, full: bool = False, periods: Iterable[str] = ()) -> BuildScope:
    """What ``build`` must rebuild now: the months changed since its mark, with ``periods``; or
    every month (``full``, no mark yet, or the registry or project changed)."""
    with connect() as conn:
        taken_at = dt.datetime.now(dt.UTC)
        row = conn.execute("select coalesce(max(file_id), 0) from audit.load_ledger").fetchone()
        watermark = int(row[0]) if row else 0
        locks, fingerprint = _locks(conn), project_fingerprint(conn)
        mark = conn.execute(
            "select file_watermark, locks, marked_at, fingerprint from audit.build_mark where build = %s", (build,)
        ).fetchone()
        scope = BuildScope(build, None, watermark, locks, fingerprint, taken_at)
        if full or mark is None or mark[3] != fingerprint:
            return scope
        changed = _changed_periods(conn, build, mark, locks) | set(periods)
    if build == "publication":
        return _replace(scope, ()).widened(changed)
    return _replace(scope, tuple(sorted(changed)))


_UPSERT = """insert into audit.build_mark (build, file_watermark, locks, fingerprint, marked_at)
               values (%s, %s, %s, %s, %s)
               on conflict (build) do update set file_watermark = excluded.file_watermark,
                   locks = excluded.locks, fingerprint = excluded.fingerprint, marked_at = excluded.marked_at"""


def mark_built(scope: BuildScope, *, staged: bool = False) -> None:
    """Record that ``scope``'s build succeeded: later builds start from the state it saw.  A
    publication is marked ``staged`` when built, and marked for good when it is published
    (:func:`promote_staged_mark`, in the swap's transaction): a build that is never published is built again."""
    name = f"{scope.build}:staged" if staged else scope.build
    with connect() as conn:
        conn.execute(_UPSERT, (name, scope.file_watermark, json.dumps(scope.locks), scope.fingerprint, scope.taken_at))


def promote_staged_mark(conn: Any) -> None:
    """The staged publication is being published (in ``conn``'s transaction, the swap's): its
    mark becomes the publication's."""
    conn.execute(
        _UPSERT.replace(
            "values (%s, %s, %s, %s, %s)",
            "select 'publication', file_watermark, locks, fingerprint,"
            " marked_at from audit.build_mark where build = 'publication:staged'",
        )
    )
    conn.execute("delete from audit.build_mark where build = 'publication:staged'")


def publication_pending() -> bool:
    """Whether a publication was built and not yet published (its staged mark is still there)."""
    with connect() as conn:
        found = conn.execute("select 1 from audit.build_mark where build = 'publication:staged'").fetchone()
    return found is not None


def incremental_marts() -> dict[str, list[str]]:
    """The marts dbt builds incrementally, each with its contract's columns (from the manifest of
    the stage's build, the same project): the publication starts them from the official tables."""
    try:
        manifest = json.loads((target_dir("stage") / "manifest.json").read_text(encoding="utf-8"))
        nodes = manifest["nodes"].values()
    except (OSError, ValueError, KeyError):
        return {}
    return {
        n["alias"]: list(n.get("columns", {}))
        for n in nodes
        if n.get("resource_type") == "model"
        and n.get("config", {}).get("materialized") == "incremental"
        and n.get("original_file_path", "").startswith("models/marts/")
    }
