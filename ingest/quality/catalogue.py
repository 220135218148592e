"""The check catalogue, run in the database on the audit stage, generated from the registry.

Every check of ``ingest/registry/checks.yml`` is one ``select`` over the candidate values that
dbt wrote to the audit stage (``int_indicator_values__resolved``, which ``bi_reader`` cannot
read).  Funnels, parts and tolerances come from the registry's ``rules:`` as small temporary
tables, so the SQL names no indicator.  The findings of the periods checked replace their earlier
state in the violation ledger (:mod:`ingest.quality.ledger`).

One statement per check, set-based over the period's rows and its previous month; no row leaves
the database.  A primary key on the findings' table is the uniqueness check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.registry import Registry
from ingest.submissions.periods import shift_period

CANDIDATE = "intermediate.int_indicator_values__resolved"
"""The audit stage: one candidate value per unit x indicator x service x period."""
EXPECTED = "intermediate.int_submissions__expected"
"""The rows each unit must send each period (from the registry)."""
PUBLISHED = "marts.fct_indicator_monthly"
"""What officials read now: the previous publication."""

MIN_COMPARABLE_UNITS = 10
"""A funnel plot needs at least this many units of a kind reporting an indicator in a month."""

_ROW_KEYS = "unit_code, indicator_code, service_code, period"


@dataclass(frozen=True)
class CheckScope:
    """What one gate run checks: its periods, and when it looks at them (for deadlines)."""

    periods: tuple[str, ...]
    deadlines: dict[str, dt.datetime]
    """Each period's deadline (exclusive: a file received at it is late); before it has passed,
    no unit of the period is missing."""
    now: dt.datetime


# --- the registry, as temporary tables ---------------------------------------------------------


def _values(conn: Any, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    conn.execute(f"create temp table {table} ({columns}) on commit drop")
    names = [c.split()[0] for c in columns.split(",")]
    with conn.cursor() as cur, cur.copy(f"copy {table} ({', '.join(names)}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def load_rules(conn: Any, registry: Registry) -> None:
    """``gate_tolerance``, ``gate_funnel_pair`` and ``gate_parts`` from the registry's rules."""
    tolerances = []
    for code in registry.indicators:
        t = registry.tolerances.for_indicator(code)
        o = t.rate_outlier
        jump = t.count_jump
        tolerances.append(
            (code, t.rate_mismatch_pp, jump.factor, jump.min_base, o.z, o.overdispersion, o.winsorise_pct / 100)
        )
    _values(
        conn,
        "gate_tolerance",
        "indicator_code text, rate_mismatch_pp numeric, jump_factor numeric, jump_min_base numeric,"
        " outlier_z float8, overdispersion text, winsorise float8",
        tolerances,
    )
    pairs = [
        (f.code, n, up.indicator_code, up.figure, low.indicator_code, low.figure)
        for f in registry.funnels
        for n, (up, low) in enumerate(f.pairs(), 1)
    ]
    _values(
        conn,
        "gate_funnel_pair",
        "funnel_code text, pair_no int, upper_code text, upper_figure text, lower_code text, lower_figure text",
        pairs,
    )
    parts = [
        (p.code, code, p.total_service, fig) for p in registry.parts for code in p.indicator_codes for fig in p.figures
    ]
    _values(conn, "gate_parts", "rule_code text, indicator_code text, total_service text, figure text", parts)


def load_stage(conn: Any, scope: CheckScope) -> None:
    """``gate_rows``: the candidate values of the periods checked, with what the checks compare
    them to, joined once: the indicator's kinds, the unit's kind and province, and the same row's
    previous month: the published value, else the candidate's unless an error holds it (a held
    figure is no baseline: one wrong month must not make the next one wrong too)."""
    published = conn.execute("select to_regclass(%s)", (PUBLISHED,)).fetchone()[0]
    previous_published = (
        f"""left join {PUBLISHED} pub on pub.unit_code = c.unit_code and pub.indicator_code = c.indicator_code
                and pub.service_code = c.service_code and pub.period = m.previous"""
        if published
        else "left join (select null::text as unit_code, null::bigint as numerator, null::bigint as denominator) pub"
        " on false"
    )
    conn.execute(
        f"""create temp table gate_rows on commit drop as
            select c.unit_code, c.indicator_code, c.service_code, c.period, c.numerator, c.denominator,
                   c.reported_rate_pct, c.file_id, c.source_kind, i.denominator_kind, i.measure_type,
                   u.unit_kind, u.province_code,
                   case when pub.unit_code is not null or pc.unit_code is not null then m.previous end
                       as previous_period,
                   case when pub.unit_code is not null then pub.numerator else pc.numerator end
                       as previous_numerator,
                   case when pub.unit_code is not null then pub.denominator else pc.denominator end
                       as previous_denominator
            from {CANDIDATE} c
            join unnest(%(periods)s::text[], %(previous)s::text[]) m(period, previous) on m.period = c.period
            join registry.indicator i on i.indicator_code = c.indicator_code
            left join registry.unit u on u.unit_code = c.unit_code
            {previous_published}
            left join {CANDIDATE} pc on pc.unit_code = c.unit_code and pc.indicator_code = c.indicator_code
                 and pc.service_code = c.service_code and pc.period = m.previous
                 and not exists (select 1 from audit.violation v where v.unit_code = pc.unit_code
                                 and v.period = pc.period and v.severity = 'error'
                                 and v.status in ('open', 'explained'))""",
        {"periods": list(scope.periods), "previous": [shift_period(p, -1) for p in scope.periods]},
    )
    # Autovacuum never analyzes temporary tables: without statistics the planner takes a filtered
    # gate_rows for a few dozen rows and nests loops over 60k (rate_outlier, missing_row).  Row
    # counts and key spreads are all it needs, so a small sample does.  (The stage's key is unique:
    # dbt tests it on the candidate; an index here would cost more than the lookups it serves.)
    conn.execute("set local default_statistics_target = 10")
    conn.execute("analyze gate_rows")
    conn.execute("reset default_statistics_target")


# --- the checks: one select each, yielding check_code, keys, period, values, file_id -----------


def _row_checks() -> dict[str, str]:
    """Checks within one row."""
    rate = "round(100.0 * r.numerator / r.denominator, 4)"
    printed = (
        "case when r.reported_rate_pct = round(r.reported_rate_pct, 0) then 0"
        " when r.reported_rate_pct = round(r.reported_rate_pct, 1) then 1 else 2 end"
    )
    figures = "'numerator', r.numerator, 'denominator', r.denominator, 'reported_rate', r.reported_rate_pct"
    return {
        "numerator_exceeds_denominator": f"""
            select {_keys("r")}, jsonb_build_object({figures}), r.file_id from gate_rows r
            where r.denominator_kind = 'total' and r.numerator > r.denominator""",
        "over_target": f"""
            select {_keys("r")}, jsonb_build_object({figures}, 'rate', {rate}), r.file_id from gate_rows r
            where r.denominator_kind = 'target' and r.denominator > 0 and r.numerator > r.denominator""",
        "rate_mismatch": f"""
            select {_keys("r")}, jsonb_build_object({figures}, 'computed_rate', round({rate}, 2)), r.file_id
            from gate_rows r join gate_tolerance t using (indicator_code)
            where r.reported_rate_pct is not null and r.denominator > 0
              and abs(r.reported_rate_pct - round(100.0 * r.numerator / r.denominator, {printed}))
                  > t.rate_mismatch_pp""",
        "false_full_rate": f"""
            select {_keys("r")}, jsonb_build_object({figures}, 'computed_rate', {rate}), r.file_id
            from gate_rows r
            where r.reported_rate_pct = 100 and r.denominator > 0 and r.numerator < r.denominator""",
    }


def _keys(alias: str) -> str:
    return f"{alias}.unit_code, {alias}.indicator_code, {alias}.service_code, {alias}.period"


def _month_checks() -> dict[str, str]:
    """Checks against the same row's previous month (joined into ``gate_rows`` by :func:`load_stage`)."""
    joined = "from gate_rows r join gate_tolerance t on t.indicator_code = r.indicator_code"
    values = (
        "jsonb_build_object('numerator', r.numerator, 'denominator', r.denominator,"
        " 'previous_period', r.previous_period, 'previous_numerator', r.previous_numerator,"
        " 'previous_denominator', r.previous_denominator"
    )
    jump = "({new} > {old} * t.jump_factor or {new} * t.jump_factor < {old}) and {old} >= t.jump_min_base"
    return {
        "stock_decrease": f"""
            select {_keys("r")}, {values}), r.file_id from gate_rows r
            where r.measure_type = 'stock'
              and (r.numerator < r.previous_numerator or r.denominator < r.previous_denominator)""",
        "count_jump": f"""
            select {_keys("r")}, {values}, 'factor', t.jump_factor), r.file_id {joined}
            where r.previous_period is not null
              and ({jump.format(new="r.numerator", old="r.previous_numerator")}
               or {jump.format(new="r.denominator", old="r.previous_denominator")})""",
    }


def _rule_checks() -> dict[str, str]:
    """Checks across rows: funnels and parts of totals, as the registry declares them."""
    figure = "case {pair}_figure when 'numerator' then {row}.numerator else {row}.denominator end"
    upper = figure.format(pair="f.upper", row="up")
    lower = figure.format(pair="f.lower", row="low")
    return {
        "funnel_break": f"""
            select {_keys("low")}, jsonb_build_object('funnel', f.funnel_code,
                   'upper_step', f.upper_code || case f.upper_figure when 'denominator' then '.denominator' else '' end,
                   'upper_value', {upper},
                   'lower_step', f.lower_code || case f.lower_figure when 'denominator' then '.denominator' else '' end,
                   'lower_value', {lower}), low.file_id
            from gate_funnel_pair f
            join gate_rows low on low.indicator_code = f.lower_code
            join gate_rows up on up.indicator_code = f.upper_code and up.unit_code = low.unit_code
                 and up.service_code = low.service_code and up.period = low.period
            where {lower} > {upper}""",
        "parts_exceed_total": """
            with parts as (
                select p.unit_code, p.indicator_code, p.period, g.total_service, g.figure, g.rule_code,
                       sum(case g.figure when 'numerator' then p.numerator else p.denominator end) as parts
                from gate_parts g
                join gate_rows p on p.indicator_code = g.indicator_code and p.service_code <> g.total_service
                group by p.unit_code, p.indicator_code, p.period, g.total_service, g.figure, g.rule_code
            )
            select t.unit_code, t.indicator_code, t.service_code, t.period,
                   jsonb_object_agg(s.figure || '_total',
                       case s.figure when 'numerator' then t.numerator else t.denominator end)
                   || jsonb_object_agg(s.figure || '_parts', s.parts) || jsonb_build_object('rule', min(s.rule_code)),
                   t.file_id
            from parts s
            join gate_rows t on t.unit_code = s.unit_code and t.indicator_code = s.indicator_code
                 and t.period = s.period and t.service_code = s.total_service
            where s.parts is not null
            group by t.unit_code, t.indicator_code, t.service_code, t.period, t.file_id
            having bool_or(s.parts > case s.figure when 'numerator' then t.numerator else t.denominator end)""",
    }


def _outlier_check() -> str:
    """``rate_outlier``: a funnel plot per indicator, service, month and kind of unit.

    Binomial limits around the pooled rate p0, with z_i = (p_i - p0) / sqrt(p0 (1 - p0) / n_i),
    widened for overdispersion as Spiegelhalter (2005) describes: phi is the mean of the squared
    z-scores after winsorising them; additive: tau^2 = (N phi - (N - 1)) / (sum w - sum w^2 / sum w)
    with w_i = 1 / s_i^2, and z_i = (p_i - p0) / sqrt(s_i^2 + tau^2); multiplicative: z_i / sqrt(phi).
    A commune at 3/4 has a wide s_i and is not flagged where one at 750/1000 would be."""
    group = "grp"  # indicator, service, month and kind of unit, as one key sorted bytewise
    return f"""
        with base as (
            select r.unit_code, r.indicator_code, r.service_code, r.period, r.numerator, r.denominator, r.file_id,
                   (r.indicator_code || '|' || r.service_code || '|' || r.period || '|'
                    || coalesce(r.unit_kind, '')) collate "C" as grp,
                   t.outlier_z, t.overdispersion, t.winsorise,
                   r.numerator::float8 / r.denominator as p
            from gate_rows r join gate_tolerance t using (indicator_code)
            where r.denominator_kind = 'total' and r.denominator > 0 and r.numerator <= r.denominator
        ), pooled as (
            select {group}, sum(numerator)::float8 / sum(denominator) as p0, count(*) as n
            from base group by {group} having count(*) >= {MIN_COMPARABLE_UNITS}
        ), scored as (
            select base.*, pooled.p0, pooled.n, p0 * (1 - p0) / denominator as s2,
                   (p - p0) / sqrt(p0 * (1 - p0) / denominator) as z
            from base join pooled using ({group}) where p0 > 0 and p0 < 1
        ), limits as (
            select {group}, percentile_cont(winsorise) within group (order by z) as lo,
                   percentile_cont(1 - winsorise) within group (order by z) as hi
            from scored group by {group}, winsorise
        ), dispersion as (
            select {group}, count(*) as n, avg(power(least(greatest(z, lo), hi), 2)) as phi,
                   sum(1 / s2) as sw, sum(power(1 / s2, 2)) as sw2
            from scored join limits using ({group}) group by {group}
        ), judged as (
            select s.*, d.phi,
                   case when d.n * d.phi > d.n - 1 then (d.n * d.phi - (d.n - 1)) / (d.sw - d.sw2 / d.sw) else 0 end
                       as tau2
            from scored s join dispersion d using ({group})
        ), final as (
            select *, case overdispersion
                          when 'additive' then (p - p0) / sqrt(s2 + tau2)
                          when 'multiplicative' then z / sqrt(greatest(phi, 1))
                          else z end as z_adjusted
            from judged
        )
        select unit_code, indicator_code, service_code, period,
               jsonb_build_object('numerator', numerator, 'denominator', denominator,
                   'rate', round((100 * p)::numeric, 2), 'pooled_rate', round((100 * p0)::numeric, 2),
                   'z', round(z_adjusted::numeric, 2), 'limit', round(outlier_z::numeric, 2), 'units', n),
               file_id
        from final where abs(z_adjusted) > outlier_z"""


def _submission_checks() -> dict[str, str]:
    """Checks of what arrived: rows missing from a template, units silent after the deadline,
    files received late (by the time the warehouse first received them)."""
    return {
        "missing_row": f"""
            select e.unit_code, e.indicator_code, e.service_code, e.period,
                   jsonb_build_object('file_id', s.file_id), s.file_id
            from (select unit_code, period, max(file_id) as file_id from gate_rows
                  where source_kind = 'template' group by unit_code, period) s
            join {EXPECTED} e on e.unit_code = s.unit_code and e.period = s.period
            where not exists (select 1 from gate_rows r where r.unit_code = e.unit_code and r.period = e.period
                              and r.indicator_code = e.indicator_code and r.service_code = e.service_code)""",
        "missing_submission": f"""
            select e.unit_code, null, null, e.period, jsonb_build_object('deadline', d.deadline), null::bigint
            from (select distinct unit_code, period from {EXPECTED} where period = any(%(periods)s)) e
            join registry.unit u on u.unit_code = e.unit_code
            join gate_deadline d on d.period = e.period and d.deadline <= %(now)s
            where (u.province_code, e.period) in (select province_code, period from gate_rows)
              and not exists (select 1 from gate_rows r where r.unit_code = e.unit_code and r.period = e.period)
              and not exists (select 1 from audit.load_ledger l where l.unit_code = e.unit_code
                              and l.period = e.period and l.status = 'loaded')""",
        "late_submission": """
            select s.unit_code, null, null, s.period,
                   jsonb_build_object('received_at', s.received_at, 'deadline', d.deadline), s.file_id
            from (select f.unit_code, f.period, min(l.received_at) as received_at,
                         (array_agg(l.file_id order by l.received_at, l.file_id))[1] as file_id
                  from (select distinct unit_code, period, file_id from gate_rows
                        union
                        select l.unit_code, l.period, l.file_id from audit.load_ledger l
                        where l.status = 'loaded' and l.period = any(%(periods)s) and l.unit_code is not null
                          and exists (select 1 from gate_rows r where r.unit_code = l.unit_code
                                      and r.period = l.period)) f
                  join audit.load_ledger l on l.file_id = f.file_id
                  group by f.unit_code, f.period) s
            join gate_deadline d on d.period = s.period
            where s.received_at >= d.deadline""",
    }


def check_sql() -> dict[str, str]:
    """Every check's select, by check code (the catalogue's codes, and only those)."""
    return {
        **_row_checks(),
        **_month_checks(),
        **_rule_checks(),
        "rate_outlier": _outlier_check(),
        **_submission_checks(),
    }


def find_violations(conn: Any, registry: Registry, scope: CheckScope) -> dict[str, int]:
    """Run every check of the catalogue over ``scope``; the findings are in ``gate_finding``.

    Returns the number of findings per check code.  Runs inside the caller's transaction."""
    # The checks sort and hash a month of rows a few times; in memory, not in temporary files.
    conn.execute("set local work_mem = '64MB'")
    # Joins on four text keys: hashing beats sorting them (a new dbt table has no statistics, and
    # the planner would sort a month of rows twice to merge them).
    conn.execute("set local enable_mergejoin = off")
    load_rules(conn, registry)
    load_stage(conn, scope)
    _values(conn, "gate_deadline", "period text, deadline timestamptz", scope.deadlines.items())
    conn.execute(
        """create temp table gate_finding (
               check_code text not null, unit_code text not null, indicator_code text, service_code text,
               period text not null, "values" jsonb not null, file_id bigint,
               unique nulls not distinct (check_code, unit_code, indicator_code, service_code, period)
           ) on commit drop"""
    )
    sql = check_sql()
    unknown = set(sql) ^ set(registry.checks)
    if unknown:
        raise RuntimeError(f"checks without SQL, or SQL without a check: {sorted(unknown)}")
    counts = {}
    params = {"periods": list(scope.periods), "now": scope.now}
    for code in registry.checks:
        cur = conn.execute(
            f"""insert into gate_finding
                select %(code)s, found.* from ({sql[code]}) found on conflict do nothing""",
            {**params, "code": code},
        )
        counts[code] = cur.rowcount
    return counts
