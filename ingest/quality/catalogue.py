"""The check catalogue, run in the database on the audit stage, generated from the registry.

Every check of ``ingest/registry/checks.yml`` is one ``select`` over the candidate values that
dbt wrote to the audit stage (``int_indicator_values__resolved``, which ``bi_reader`` cannot
read).  Funnels, parts and tolerances come from the registry's ``rules:`` as small temporary
tables, so the SQL names no indicator.  The findings of the periods checked replace their earlier
state in the violation ledger (:mod:`ingest.quality.ledger`).

A few set-based statements over the period's rows, joined once to their previous month: the
checks within a row share one pass; funnels, parts, the funnel plot and the submission checks have
one statement each.  No row leaves the database; figures are compared in whole numbers where they
fit a ``bigint`` (exact, and much faster than ``numeric``).  A unique key on the findings' table
is the uniqueness check.
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

_WHOLE = 2**62
"""Products of figures below this fit a ``bigint``: the checks compare them in whole numbers,
exactly and fast, and fall back to ``numeric`` beyond it."""
_RATE_WHOLE = 10**14
"""Numerators up to this are rounded to a printed rate in whole numbers (2 x 10^4 x n fits)."""

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
    """``gate_indicator`` (each indicator's kinds and tolerances), ``gate_funnel_pair`` and
    ``gate_parts``, from the registry."""
    indicators = []
    for code, indicator in registry.indicators.items():
        t = registry.tolerances.for_indicator(code)
        o, jump = t.rate_outlier, t.count_jump
        factor_num, factor_den = jump.factor.as_integer_ratio()
        tolerance_num, tolerance_den = t.rate_mismatch_pp.as_integer_ratio()
        kinds = (code, indicator.denominator_kind, indicator.measure_type)
        mismatch = (t.rate_mismatch_pp, tolerance_num, tolerance_den)
        jumps = (jump.factor, factor_num, factor_den, _WHOLE // max(factor_num, factor_den), jump.min_base)
        indicators.append((*kinds, *mismatch, *jumps, o.z, o.overdispersion, o.winsorise_pct / 100))
    _values(
        conn,
        "gate_indicator",
        "indicator_code text, denominator_kind text, measure_type text, rate_mismatch_pp numeric,"
        " mismatch_num bigint, mismatch_den bigint, jump_factor numeric, jump_num bigint, jump_den bigint,"
        " jump_whole bigint, jump_min_base bigint, outlier_z float8, overdispersion text, winsorise float8",
        indicators,
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
        (p.code, code, p.total_service, "numerator" in p.figures, "denominator" in p.figures)
        for p in registry.parts
        for code in p.indicator_codes
    ]
    _values(
        conn,
        "gate_parts",
        "rule_code text, indicator_code text, total_service text, numerator_part bool, denominator_part bool",
        parts,
    )


def load_stage(conn: Any, scope: CheckScope) -> None:
    """``gate_rows``: the candidate values of the periods checked, with what the checks compare
    them to: the indicator's kinds and tolerances, the unit's kind, and the same row's previous
    month (:func:`_previous_month`).  ``gate_files``: the files each unit-period's values came
    from, and the unit's province."""
    published = conn.execute("select to_regclass(%s)", (PUBLISHED,)).fetchone()[0] is not None
    figures = "pub.numerator, pub.denominator" if published else "null::bigint, null::bigint"
    previous = "{} as previous_numerator, {} as previous_denominator".format(*figures.split(", "))
    conn.execute(
        f"""create temp table gate_rows on commit drop as
            select c.unit_code, c.indicator_code, c.service_code, c.period, c.numerator, c.denominator,
                   c.reported_rate_pct, c.file_id, c.source_kind, i.denominator_kind, i.measure_type,
                   (c.reported_rate_pct * 100)::bigint as reported_rate_bp, i.rate_mismatch_pp, i.mismatch_num,
                   i.mismatch_den, i.jump_factor, i.jump_num, i.jump_den, i.jump_whole, i.jump_min_base, u.unit_kind,
                   m.previous as baseline_period,
                   {previous}
            from {CANDIDATE} c
            join unnest(%(periods)s::text[], %(previous)s::text[]) m(period, previous) on m.period = c.period
            join gate_indicator i on i.indicator_code = c.indicator_code
            left join registry.unit u on u.unit_code = c.unit_code
            {_join_published() if published else ""}
            where c.period = any(%(periods)s)""",
        {"periods": list(scope.periods), "previous": [shift_period(p, -1) for p in scope.periods]},
    )
    _previous_month(conn)
    # Autovacuum never analyzes temporary tables; without statistics the planner takes a month of
    # rows for a few dozen and hashes the wrong side of a join.  Row counts and key spreads are
    # all it needs, so a small sample does.
    conn.execute("set local default_statistics_target = 10")
    conn.execute("analyze gate_rows")
    conn.execute("reset default_statistics_target")
    conn.execute(
        """create temp table gate_files on commit drop as
           select f.*, u.province_code
           from (select unit_code, period, file_id, source_kind from gate_rows
                 group by unit_code, period, file_id, source_kind) f
           left join registry.unit u using (unit_code)"""
    )


def _join_published() -> str:
    return f"""left join {PUBLISHED} pub on pub.unit_code = c.unit_code and pub.indicator_code = c.indicator_code
                and pub.service_code = c.service_code and pub.period = m.previous"""


def _previous_month(conn: Any) -> None:
    """Each row's previous month is what officials read for it (``gate_rows`` has it); for a row
    with nothing published, the candidate's previous month, unless an error holds it (a held
    figure is no baseline: one wrong month must not make the next one wrong too).

    Rows without a published month are few once a province has published its first month: the
    candidate is only joined for them, and not at all when there are none."""
    if not conn.execute("select exists (select from gate_rows where previous_numerator is null)").fetchone()[0]:
        return
    conn.execute(
        f"""update gate_rows r
            set previous_numerator = pc.numerator, previous_denominator = pc.denominator
            from {CANDIDATE} pc
            where r.previous_numerator is null and r.previous_denominator is null
              and pc.unit_code = r.unit_code and pc.indicator_code = r.indicator_code
              and pc.service_code = r.service_code and pc.period = r.baseline_period
              and not exists (select 1 from audit.violation v where v.unit_code = pc.unit_code
                              and v.period = pc.period and v.severity = 'error'
                              and v.status in ('open', 'explained'))"""
    )


# --- the checks: one select per statement, yielding check_code, keys, period, values, file_id --


_FIGURES = "'numerator', r.numerator, 'denominator', r.denominator, 'reported_rate', r.reported_rate_pct"
_RATE = "round(100.0 * r.numerator / r.denominator, 4)"
_PRINTED = (
    "case when r.reported_rate_pct = round(r.reported_rate_pct, 0) then 0"
    " when r.reported_rate_pct = round(r.reported_rate_pct, 1) then 1 else 2 end"
)
_SCALE = (
    "case when mod(r.reported_rate_bp, 100) = 0 then 100 when mod(r.reported_rate_bp, 10) = 0 then 1000 else 10000 end"
)
"""10^(2 + the decimals the unit printed its rate to)."""
_MISMATCH = f"""case when r.numerator between 0 and {_RATE_WHOLE}
    then abs(r.reported_rate_bp - (2 * {_SCALE} * r.numerator + r.denominator) / (2 * r.denominator)
             * (10000 / {_SCALE})) * r.mismatch_den > 100 * r.mismatch_num
    else abs(r.reported_rate_pct - round(100.0 * r.numerator / r.denominator, {_PRINTED})) > r.rate_mismatch_pp end"""
"""The stated rate differs from numerator / denominator, rounded half up to the decimals the unit
printed, by more than the tolerance: in hundredths of a point, as whole numbers (the rounding is
(2 s n + d) div 2d), or in ``numeric`` for figures too large for that."""
_PREVIOUS_PERIOD = (
    "case when r.previous_numerator is not null or r.previous_denominator is not null then r.baseline_period end"
)
_PREVIOUS = (
    f"'numerator', r.numerator, 'denominator', r.denominator, 'previous_period', {_PREVIOUS_PERIOD},"
    " 'previous_numerator', r.previous_numerator, 'previous_denominator', r.previous_denominator"
)
_JUMP = """{old} >= r.jump_min_base and case when greatest({new}, {old}) < r.jump_whole
    then {new} * r.jump_den > {old} * r.jump_num or {new} * r.jump_num < {old} * r.jump_den
    else {new} > {old} * r.jump_factor or {new} * r.jump_factor < {old} end"""
"""``new`` more than ``factor`` times ``old``, or less than ``old / factor``: in whole numbers with
the factor as the ratio jump_num / jump_den, or in ``numeric`` for figures too large for that."""

ROW_CHECKS: dict[str, tuple[str, str]] = {
    "numerator_exceeds_denominator": (
        "r.denominator_kind = 'total' and r.numerator > r.denominator",
        _FIGURES,
    ),
    "over_target": (
        "r.denominator_kind = 'target' and r.denominator > 0 and r.numerator > r.denominator",
        f"{_FIGURES}, 'rate', {_RATE}",
    ),
    "rate_mismatch": (
        f"r.reported_rate_bp is not null and r.denominator > 0 and {_MISMATCH}",
        f"{_FIGURES}, 'computed_rate', round({_RATE}, 2)",
    ),
    "false_full_rate": (
        "r.reported_rate_pct = 100 and r.denominator > 0 and r.numerator < r.denominator",
        f"{_FIGURES}, 'computed_rate', {_RATE}",
    ),
    "stock_decrease": (
        "r.measure_type = 'stock' and (r.numerator < r.previous_numerator or r.denominator < r.previous_denominator)",
        _PREVIOUS,
    ),
    "count_jump": (
        f"({_JUMP.format(new='r.numerator', old='r.previous_numerator')})"
        f" or ({_JUMP.format(new='r.denominator', old='r.previous_denominator')})",
        f"{_PREVIOUS}, 'factor', r.jump_factor",
    ),
}
"""Checks within one row and against the same row's previous month (joined into ``gate_rows``
by :func:`load_stage`): code -> (when it fires, the figures it records)."""


def _row_checks() -> str:
    """All of :data:`ROW_CHECKS` in one pass over the rows: a row that breaks none of them is read
    once and dropped; one that breaks some yields a finding for each."""
    findings = ",\n".join(
        f"('{code}', case when {when} then jsonb_build_object({values}) end)"
        for code, (when, values) in ROW_CHECKS.items()
    )
    return f"""
        select x.check_code, r.unit_code, r.indicator_code, r.service_code, r.period, x."values", r.file_id
        from gate_rows r cross join lateral (values {findings}) x(check_code, "values")
        where (({") or (".join(when for when, _ in ROW_CHECKS.values())})) and x."values" is not null"""


def _funnel_check() -> str:
    """``funnel_break``: a step of a declared chain above the step before it.  Each side is the
    rows of its steps' indicators only, before they are paired by unit, service and month."""
    step = """select f.funnel_code, f.pair_no, f.{side}_code as code, f.{side}_figure as figure, r.unit_code,
                     r.indicator_code, r.service_code, r.period, r.file_id,
                     case f.{side}_figure when 'numerator' then r.numerator else r.denominator end as value
              from gate_funnel_pair f join gate_rows r on r.indicator_code = f.{side}_code"""
    return f"""
        with low as materialized ({step.format(side="lower")}),
             up as materialized ({step.format(side="upper")})
        select 'funnel_break', low.unit_code, low.indicator_code, low.service_code, low.period,
               jsonb_build_object('funnel', low.funnel_code,
                   'upper_step', up.code || case up.figure when 'denominator' then '.denominator' else '' end,
                   'upper_value', up.value,
                   'lower_step', low.code || case low.figure when 'denominator' then '.denominator' else '' end,
                   'lower_value', low.value), low.file_id
        from low join up on up.funnel_code = low.funnel_code and up.pair_no = low.pair_no
             and up.unit_code = low.unit_code and up.service_code = low.service_code and up.period = low.period
        where low.value > up.value"""


def _parts_check() -> str:
    """``parts_exceed_total``: an indicator's service rows adding up to more than its total row."""
    return """
        with parts as (
            select p.unit_code, p.indicator_code, p.period, g.total_service, g.rule_code, g.numerator_part,
                   g.denominator_part, sum(p.numerator) as numerator, sum(p.denominator) as denominator
            from gate_parts g
            join gate_rows p on p.indicator_code = g.indicator_code and p.service_code <> g.total_service
            group by p.unit_code, p.indicator_code, p.period, g.total_service, g.rule_code, g.numerator_part,
                     g.denominator_part
        )
        select 'parts_exceed_total', t.unit_code, t.indicator_code, t.service_code, t.period,
               jsonb_strip_nulls(jsonb_build_object(
                   'numerator_total', case when s.numerator_part and s.numerator is not null then t.numerator end,
                   'numerator_parts', case when s.numerator_part then s.numerator end,
                   'denominator_total',
                       case when s.denominator_part and s.denominator is not null then t.denominator end,
                   'denominator_parts', case when s.denominator_part then s.denominator end,
                   'rule', s.rule_code)),
               t.file_id
        from parts s
        join gate_rows t on t.unit_code = s.unit_code and t.indicator_code = s.indicator_code
             and t.period = s.period and t.service_code = s.total_service
        where (s.numerator_part and s.numerator > t.numerator)
           or (s.denominator_part and s.denominator > t.denominator)"""


def _outlier_check() -> str:
    """``rate_outlier``: a funnel plot per indicator, service, month and kind of unit.

    Binomial limits around the pooled rate p0, with z_i = (p_i - p0) / sqrt(p0 (1 - p0) / n_i),
    widened for overdispersion as Spiegelhalter (2005) describes: phi is the mean of the squared
    z-scores after winsorising them; additive: tau^2 = (N phi - (N - 1)) / (sum w - sum w^2 / sum w)
    with w_i = 1 / s_i^2, and z_i = (p_i - p0) / sqrt(s_i^2 + tau^2); multiplicative: z_i / sqrt(phi).
    A commune at 3/4 has a wide s_i and is not flagged where one at 750/1000 would be.

    Each plot is numbered (``gid``, from 1) as its rows are scored; what is known of a plot after
    that (its winsorising limits, phi, tau^2) is an array indexed by the number, read by the
    passes over the rows without a join."""
    return f"""
        with plots as materialized (
            select g.*, row_number() over () as gid, i.outlier_z, i.overdispersion, i.winsorise
            from (select indicator_code, service_code, period, coalesce(unit_kind, '') as unit_kind, count(*) as n,
                         sum(numerator)::float8 / sum(denominator) as p0
                  from gate_rows where {_OUTLIER_ROWS}
                  group by indicator_code, service_code, period, coalesce(unit_kind, '')
                  having count(*) >= {MIN_COMPARABLE_UNITS}) g
            join gate_indicator i using (indicator_code)
            where g.p0 > 0 and g.p0 < 1
        ), scored as materialized (
            select r.unit_code, r.indicator_code, r.service_code, r.period, r.numerator, r.denominator, r.file_id,
                   g.gid, g.n, g.p0, g.outlier_z, g.overdispersion, g.winsorise,
                   r.numerator::float8 / r.denominator as p, g.p0 * (1 - g.p0) / r.denominator as s2,
                   (r.numerator::float8 / r.denominator - g.p0) / sqrt(g.p0 * (1 - g.p0) / r.denominator) as z
            from gate_rows r
            join plots g on g.indicator_code = r.indicator_code and g.service_code = r.service_code
                 and g.period = r.period and g.unit_kind = coalesce(r.unit_kind, '')
            where {_OUTLIER_ROWS.replace("denominator", "r.denominator").replace("numerator", "r.numerator")}
        ), limits as materialized (
            select array_agg(lo order by gid) as lo, array_agg(hi order by gid) as hi
            from (select gid, percentile_cont(winsorise) within group (order by z) as lo,
                         percentile_cont(1 - winsorise) within group (order by z) as hi
                  from scored group by gid, winsorise) w
        ), spread as materialized (
            select array_agg(phi order by gid) as phi,
                   array_agg(case when n * phi > n - 1 then (n * phi - (n - 1)) / (sw - sw2 / sw) else 0 end
                             order by gid) as tau2
            from (select s.gid, count(*) as n, avg(power(least(greatest(s.z, (select lo from limits)[s.gid]),
                                             (select hi from limits)[s.gid]), 2)) as phi,
                         sum(1 / s.s2) as sw, sum(power(1 / s.s2, 2)) as sw2
                  from scored s group by s.gid) d
        ), final as (
            select s.*, case s.overdispersion
                            when 'additive' then (s.p - s.p0) / sqrt(s.s2 + (select tau2 from spread)[s.gid])
                            when 'multiplicative' then s.z / sqrt(greatest((select phi from spread)[s.gid], 1))
                            else s.z end as z_adjusted
            from scored s
        )
        select 'rate_outlier', unit_code, indicator_code, service_code, period,
               jsonb_build_object('numerator', numerator, 'denominator', denominator,
                   'rate', round((100 * p)::numeric, 2), 'pooled_rate', round((100 * p0)::numeric, 2),
                   'z', round(z_adjusted::numeric, 2), 'limit', round(outlier_z::numeric, 2), 'units', n),
               file_id
        from final where abs(z_adjusted) > outlier_z"""


_OUTLIER_ROWS = "denominator_kind = 'total' and denominator > 0 and numerator <= denominator"
"""The rows a funnel plot places: a share of a total (a target may be exceeded)."""


def _submission_checks() -> dict[str, str]:
    """Checks of what arrived: rows missing from a template, units silent after the deadline,
    files received late (by the time the warehouse first received them)."""
    return {
        "missing_row": f"""
            select 'missing_row', e.unit_code, e.indicator_code, e.service_code, e.period,
                   jsonb_build_object('file_id', s.file_id), s.file_id
            from (select unit_code, period, max(file_id) as file_id from gate_files
                  where source_kind = 'template' group by unit_code, period) s
            join {EXPECTED} e on e.unit_code = s.unit_code and e.period = s.period
            where not exists (select 1 from gate_rows r where r.unit_code = e.unit_code and r.period = e.period
                              and r.indicator_code = e.indicator_code and r.service_code = e.service_code)""",
        "missing_submission": f"""
            select 'missing_submission', e.unit_code, null, null, e.period, jsonb_build_object('deadline', d.deadline),
                   null::bigint
            from (select distinct unit_code, period from {EXPECTED} where period = any(%(periods)s)) e
            join gate_deadline d on d.period = e.period and d.deadline <= %(now)s
            join registry.unit u on u.unit_code = e.unit_code
            where (u.province_code, e.period) in (select province_code, period from gate_files)
              and not exists (select 1 from gate_files f where f.unit_code = e.unit_code and f.period = e.period)
              and not exists (select 1 from audit.load_ledger l where l.unit_code = e.unit_code
                              and l.period = e.period and l.status = 'loaded')""",
        "late_submission": """
            select 'late_submission', s.unit_code, null, null, s.period,
                   jsonb_build_object('received_at', s.received_at, 'deadline', d.deadline), s.file_id
            from (select f.unit_code, f.period, min(l.received_at) as received_at,
                         (array_agg(l.file_id order by l.received_at, l.file_id))[1] as file_id
                  from (select unit_code, period, file_id from gate_files
                        union
                        select l.unit_code, l.period, l.file_id from audit.load_ledger l
                        where l.status = 'loaded' and l.period = any(%(periods)s) and l.unit_code is not null
                          and exists (select 1 from gate_files r where r.unit_code = l.unit_code
                                      and r.period = l.period)) f
                  join audit.load_ledger l on l.file_id = f.file_id
                  group by f.unit_code, f.period) s
            join gate_deadline d on d.period = s.period
            where s.received_at >= d.deadline""",
    }


def check_statements() -> dict[str, tuple[tuple[str, ...], str]]:
    """The gate's statements, by name: the check codes each can yield, and its select (of
    check_code, unit, indicator, service, period, values, file_id).  Together they yield the
    catalogue's codes, and only those."""
    return {
        "row_checks": (tuple(ROW_CHECKS), _row_checks()),
        "funnel_break": (("funnel_break",), _funnel_check()),
        "parts_exceed_total": (("parts_exceed_total",), _parts_check()),
        "rate_outlier": (("rate_outlier",), _outlier_check()),
        **{code: ((code,), sql) for code, sql in _submission_checks().items()},
    }


def find_violations(conn: Any, registry: Registry, scope: CheckScope) -> dict[str, int]:
    """Run every check of the catalogue over ``scope``; the findings are in ``gate_finding``.

    Returns the number of findings per check code.  Runs inside the caller's transaction."""
    statements = check_statements()
    unknown = {code for codes, _ in statements.values() for code in codes} ^ set(registry.checks)
    if unknown:
        raise RuntimeError(f"checks without SQL, or SQL without a check: {sorted(unknown)}")
    plan_for_a_month(conn)
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
    params = {"periods": list(scope.periods), "now": scope.now}
    for _, sql in statements.values():
        conn.execute(f"insert into gate_finding {sql} on conflict do nothing", params)
    found = dict(conn.execute("select check_code, count(*) from gate_finding group by check_code").fetchall())
    return {code: found.get(code, 0) for code in registry.checks}


def plan_for_a_month(conn: Any) -> None:
    """How the gate's statements are planned, for this transaction.

    The stage is new (dbt just wrote it) and the gate's own tables are temporary: none has
    statistics, and the planner would take a month of rows for a few dozen and nest loops over
    them.  Every join the gate makes is a month of rows against a month, or against a small
    table: hashing is right for all of them, in memory.  On two cores a parallel plan only
    copies the hash tables."""
    for setting, value in (
        ("temp_buffers", "256MB"),  # a month of rows in memory: only before the session's first temporary table
        ("work_mem", "64MB"),
        ("enable_nestloop", "off"),
        ("enable_mergejoin", "off"),
        ("max_parallel_workers_per_gather", "0"),
        ("jit", "off"),
    ):
        conn.execute(f"select set_config('{setting}', '{value}', true)")
