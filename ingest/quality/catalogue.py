"""The check catalogue, run in the database on the audit stage, generated from the registry.

The checks of ``ingest/registry/checks.yml`` are ``select`` statements over the candidate values
that dbt wrote to the audit stage (``int_indicator_values__resolved``, which ``bi_reader`` cannot
read).  Funnels, parts and tolerances come from the registry's ``rules:`` as small temporary
tables, so the SQL names no indicator.  The findings of the periods checked replace their earlier
state in the violation ledger (:mod:`ingest.quality.ledger`).

Set-based, and as few passes over a month of rows as the checks allow: every check within a row
(and against its previous month as officials read it) in one pass, that also marks the rows that
call for a second look; one each for funnels, parts and the funnel plots; the submission checks
on the stage's unit-periods.  Half of them run on a second connection, meanwhile.  No row leaves
the database; figures are compared in whole numbers where they fit a ``bigint`` (exact, and much
faster than ``numeric``).  A unique key on the findings' table is the uniqueness check.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ingest.registry import Registry
from ingest.submissions.periods import shift_period

CANDIDATE = "intermediate.int_indicator_values__resolved"
"""The audit stage: one candidate value per unit x indicator x service x period."""
UNIT_PERIODS = "intermediate.int_unit_periods__candidate"
"""The audit stage by unit and period: the hash of its values and the files they came from."""
EXPECTED = "intermediate.int_submissions__expected"
"""The rows each unit must send each period (from the registry)."""
PUBLISHED = "marts.fct_indicator_monthly"
"""What officials read now: the previous publication."""
RECONCILIATION = "intermediate.int_reconciliation__candidate"
"""The audit stage's reported figures beside the source extracts' (a correspondence per indicator)."""
CIVIL_REGISTRY = "intermediate.int_civil_registry__monthly"
"""The civil-registry extract's counts, one row per commune x record type x month."""

_WHOLE = 2**62
"""Products of figures below this fit a ``bigint``: the checks compare them in whole numbers,
exactly and fast, and fall back to ``numeric`` beyond it."""
_RATE_WHOLE = 10**14
"""Numerators up to this are rounded to a printed rate in whole numbers (2 x 10^4 x n fits)."""

MIN_COMPARABLE_UNITS = 10
"""A funnel plot needs at least this many units of a kind reporting an indicator in a month."""

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


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


def _rows(published: bool, periods: Sequence[str]) -> str:
    """The candidate values of the periods checked, with what the checks within a row compare them
    to: the indicator's kinds and tolerances and the same row's previous month as officials read
    it; and, without figures (no ``file_id``), each row the registry expects of a unit that it did
    not send.  A select, read once by the row checks."""
    previous = "pub.numerator, pub.denominator" if published else "null::bigint, null::bigint"
    keys = ", ".join(
        f"coalesce(v.{k}, e.{k}) as {k}" for k in ("unit_code", "indicator_code", "service_code", "period")
    )
    return f"""
        select {keys}, v.numerator, v.denominator, v.reported_rate_pct, v.file_id, v.source_kind,
               v.denominator_kind, v.measure_type, v.reported_rate_bp, v.rate_mismatch_pp, v.mismatch_num,
               v.mismatch_den, v.jump_factor, v.jump_num, v.jump_den, v.jump_whole, v.jump_min_base,
               v.baseline_period, v.previous_numerator, v.previous_denominator
        from ({
        _values_of(
            f"(select *, {_previous_period(periods)} as baseline_period from {CANDIDATE}"
            " where period = any(%(periods)s))",
            previous,
        )
    }
              {_join_published() if published else ""}) v
        full join (select unit_code, period, indicator_code, service_code from {EXPECTED}
                   where period = any(%(periods)s)) e
             on e.unit_code = v.unit_code and e.period = v.period and e.indicator_code = v.indicator_code
             and e.service_code = v.service_code
        offset 0"""  # a fence: each row's derived figures are computed once, not once per check reading them


def _values_of(candidate: str, previous: str) -> str:
    """A select of ``candidate`` rows (``c``, with a ``baseline_period``) with their indicator's
    kinds and tolerances and ``previous`` (two SQL figures) as the previous month's."""
    numerator, denominator = previous.split(", ")
    return f"""select c.unit_code, c.indicator_code, c.service_code, c.period, c.numerator, c.denominator,
                      c.reported_rate_pct, c.file_id, c.source_kind, i.denominator_kind, i.measure_type,
                      (c.reported_rate_pct * 100)::bigint as reported_rate_bp, i.rate_mismatch_pp,
                      i.mismatch_num, i.mismatch_den, i.jump_factor, i.jump_num, i.jump_den, i.jump_whole,
                      i.jump_min_base, c.baseline_period, {numerator} as previous_numerator,
                      {denominator} as previous_denominator
               from {candidate} c
               join gate_indicator i on i.indicator_code = c.indicator_code"""


def _rows_without_publication(periods: Sequence[str]) -> str:
    """The rows marked ``_no_baseline`` (nothing published for their previous month), with the
    candidate's previous month instead, unless an error holds it (a held figure is no baseline:
    one wrong month must not make the next one wrong too)."""
    marked = f"""(select c.*, {_previous_period(periods, "c.period")} as baseline_period from {CANDIDATE} c
                  join gate_finding m on m.check_code = '_no_baseline' and m.unit_code = c.unit_code
                       and m.indicator_code = c.indicator_code and m.service_code = c.service_code
                       and m.period = c.period)"""
    return f"""{_values_of(marked, "pc.numerator, pc.denominator")}
               join {CANDIDATE} pc on pc.unit_code = c.unit_code and pc.indicator_code = c.indicator_code
                    and pc.service_code = c.service_code and pc.period = c.baseline_period
               where not exists (select 1 from audit.violation v where v.unit_code = pc.unit_code
                                 and v.period = pc.period and v.severity = 'error'
                                 and v.status in ('open', 'explained'))"""


def _previous_period(periods: Sequence[str], column: str = "period") -> str:
    """The month before ``column``'s, as SQL: a literal per period checked (``YYYY-MM``)."""
    whens = " ".join(f"when '{p}' then '{shift_period(p, -1)}'" for p in periods if _PERIOD.fullmatch(p))
    return f"case {column} {whens} end" if whens else "null::text"


def _join_published() -> str:
    return f"""left join {PUBLISHED} pub on pub.unit_code = c.unit_code and pub.indicator_code = c.indicator_code
                and pub.service_code = c.service_code and pub.period = c.baseline_period"""


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
"""Checks within one row and against the same row's previous month (joined to it by
:func:`_rows`): code -> (when it fires, the figures it records)."""


MARKERS = {
    "_no_baseline": "r.file_id is not null and r.previous_numerator is null and r.previous_denominator is null",
    "_missing": "r.file_id is null",
}
"""Rows the row checks mark for a second look (in ``gate_finding``, removed afterwards): values
with nothing published for their previous month, and expected rows not sent."""


def _row_checks(rows: str, checks: dict[str, tuple[str, str]], markers: dict[str, str]) -> str:
    """``checks`` (of :data:`ROW_CHECKS`) in one pass over ``rows``: a row that breaks none of
    them is read once and dropped; one that breaks some yields a finding for each, and one that
    ``markers`` pick a marker."""
    findings = [
        f"('{code}', case when {when} then jsonb_build_object({values}) end)" for code, (when, values) in checks.items()
    ]
    findings += [f"('{code}', case when {when} then '{{}}'::jsonb end)" for code, when in markers.items()]
    conditions = [when for when, _ in checks.values()] + list(markers.values())
    return f"""
        select x.check_code, r.unit_code, r.indicator_code, r.service_code, r.period, x."values", r.file_id
        from ({rows}) r cross join lateral (values {", ".join(findings)}) x(check_code, "values")
        where (({") or (".join(conditions)})) and x."values" is not null"""


_MONTH_CHECKS = ("stock_decrease", "count_jump")


def _funnel_check() -> str:
    """``funnel_break``: a step of a declared chain above the step before it.  One pass over the
    rows of the chains' indicators: each pair of steps is a group of the unit, service and month,
    with the upper and the lower step's figure side by side."""
    figure = "case s.figure when 'numerator' then r.numerator else r.denominator end"
    step = "f.{side}_code || case f.{side}_figure when 'denominator' then '.denominator' else '' end"
    return f"""
        with steps as (
            select funnel_code, pair_no, 'upper' as side, upper_code as indicator_code, upper_figure as figure
            from gate_funnel_pair
            union all
            select funnel_code, pair_no, 'lower', lower_code, lower_figure from gate_funnel_pair
        ), pairs as (
            select s.funnel_code, s.pair_no, r.unit_code, r.service_code, r.period,
                   max({figure}) filter (where s.side = 'upper') as upper_value,
                   max({figure}) filter (where s.side = 'lower') as lower_value,
                   max(r.file_id) filter (where s.side = 'lower') as file_id
            from steps s join {CANDIDATE} r on r.indicator_code = s.indicator_code and r.period = any(%(periods)s)
            group by s.funnel_code, s.pair_no, r.unit_code, r.service_code, r.period
        )
        select 'funnel_break', p.unit_code, f.lower_code, p.service_code, p.period,
               jsonb_build_object('funnel', f.funnel_code, 'upper_step', {step.format(side="upper")},
                   'upper_value', p.upper_value, 'lower_step', {step.format(side="lower")},
                   'lower_value', p.lower_value), p.file_id
        from pairs p join gate_funnel_pair f using (funnel_code, pair_no)
        where p.lower_value > p.upper_value"""


def _parts_check() -> str:
    """``parts_exceed_total``: an indicator's service rows adding up to more than its total row.
    One pass: each rule's rows of a unit, indicator and month are a group, with the parts' sums
    beside the total's figures."""
    total = "filter (where p.service_code = g.total_service)"
    parts = "filter (where p.service_code <> g.total_service)"
    return f"""
        with sums as (
            select p.unit_code, p.indicator_code, p.period, g.total_service, g.rule_code, g.numerator_part,
                   g.denominator_part, count(*) {total} as totals,
                   max(p.numerator) {total} as numerator_total, sum(p.numerator) {parts} as numerator_parts,
                   max(p.denominator) {total} as denominator_total, sum(p.denominator) {parts} as denominator_parts,
                   max(p.file_id) {total} as file_id
            from gate_parts g join {CANDIDATE} p on p.indicator_code = g.indicator_code and p.period = any(%(periods)s)
            group by p.unit_code, p.indicator_code, p.period, g.total_service, g.rule_code, g.numerator_part,
                     g.denominator_part
        )
        select 'parts_exceed_total', s.unit_code, s.indicator_code, s.total_service, s.period,
               jsonb_strip_nulls(jsonb_build_object(
                   'numerator_total', case when s.numerator_part and s.numerator_parts is not null
                                           then s.numerator_total end,
                   'numerator_parts', case when s.numerator_part then s.numerator_parts end,
                   'denominator_total', case when s.denominator_part and s.denominator_parts is not null
                                             then s.denominator_total end,
                   'denominator_parts', case when s.denominator_part then s.denominator_parts end,
                   'rule', s.rule_code)),
               s.file_id
        from sums s
        where s.totals > 0 and ((s.numerator_part and s.numerator_parts > s.numerator_total)
                                or (s.denominator_part and s.denominator_parts > s.denominator_total))"""


def _missing_row_check() -> str:
    """``missing_row``: a row the registry expects of a unit that sent its template without it
    (marked ``_missing`` by the row checks)."""
    return f"""
        select 'missing_row', m.unit_code, m.indicator_code, m.service_code, m.period,
               jsonb_build_object('file_id', p.template_file_id), p.template_file_id
        from gate_finding m
        join {UNIT_PERIODS} p on p.unit_code = m.unit_code and p.period = m.period and p.template_file_id is not null
        where m.check_code = '_missing'"""


def _outlier_check() -> str:
    """``rate_outlier``: a funnel plot per indicator, service, month and kind of unit.

    Binomial limits around the pooled rate p0, with z_i = (p_i - p0) / sqrt(p0 (1 - p0) / n_i),
    widened for overdispersion as Spiegelhalter (2005) describes: phi is the mean of the squared
    z-scores after winsorising them; additive: tau^2 = (N phi - (N - 1)) / (sum w - sum w^2 / sum w)
    with w_i = 1 / s_i^2, and z_i = (p_i - p0) / sqrt(s_i^2 + tau^2); multiplicative: z_i / sqrt(phi).
    A commune at 3/4 has a wide s_i and is not flagged where one at 750/1000 would be.  The rows a
    plot places are shares of a total (a target may be exceeded).

    A plot is keyed by the 64-bit hash of its indicator, service, month and kind of unit (two of a
    month's hundred-odd plots share one with odds of about 10^-15), and numbered (``gid``, from 1)
    as its rows are scored; its winsorising limits are an array indexed by the number, read by the
    pass over the scores without a join."""
    return f"""
        with shares as materialized (
            select c.unit_code, c.indicator_code, c.service_code, c.period, c.numerator, c.denominator, c.file_id,
                   hashtextextended(concat_ws('|', c.indicator_code, c.service_code, c.period, u.unit_kind), 0)
                       as plot
            from {CANDIDATE} c
            join gate_indicator i on i.indicator_code = c.indicator_code and i.denominator_kind = 'total'
            left join registry.unit u on u.unit_code = c.unit_code
            where c.period = any(%(periods)s) and c.denominator > 0 and c.numerator <= c.denominator
        ), plots as materialized (
            select g.*, row_number() over () as gid, i.outlier_z, i.overdispersion, i.winsorise
            from (select plot, min(indicator_code) as indicator_code, count(*) as n,
                         sum(numerator)::float8 / sum(denominator) as p0
                  from shares group by plot having count(*) >= {MIN_COMPARABLE_UNITS}) g
            join gate_indicator i using (indicator_code)
            where g.p0 > 0 and g.p0 < 1
        ), scored as materialized (
            select g.gid, g.winsorise, r.denominator, (r.numerator::float8 / r.denominator - g.p0)
                   / sqrt(g.p0 * (1 - g.p0) / r.denominator) as z
            from shares r join plots g using (plot)
        ), limits as materialized (
            select array_agg(q[1] order by gid) as lo, array_agg(q[2] order by gid) as hi
            from (select gid, percentile_cont(array[winsorise, 1 - winsorise]) within group (order by z) as q
                  from scored group by gid, winsorise) w
        ), dispersion as materialized (
            select g.*, d.phi,
                   case when d.n * d.phi > d.n - 1 then (d.n * d.phi - (d.n - 1)) / (d.sw - d.sw2 / d.sw) else 0 end
                       as tau2
            from (select s.gid, count(*) as n,
                         avg(power(least(greatest(s.z, (select lo from limits)[s.gid]),
                                         (select hi from limits)[s.gid]), 2)) as phi,
                         sum(s.denominator / (p.p0 * (1 - p.p0))) as sw,
                         sum(power(s.denominator / (p.p0 * (1 - p.p0)), 2)) as sw2
                  from scored s join plots p using (gid) group by s.gid) d
            join plots g using (gid)
        ), final as (
            select r.*, d.n, d.p0, d.outlier_z, r.numerator::float8 / r.denominator as p,
                   case d.overdispersion
                       when 'additive' then (r.numerator::float8 / r.denominator - d.p0)
                                            / sqrt(d.p0 * (1 - d.p0) / r.denominator + d.tau2)
                       when 'multiplicative' then (r.numerator::float8 / r.denominator - d.p0)
                                                  / sqrt(d.p0 * (1 - d.p0) / r.denominator) / sqrt(greatest(d.phi, 1))
                       else (r.numerator::float8 / r.denominator - d.p0) / sqrt(d.p0 * (1 - d.p0) / r.denominator)
                   end as z_adjusted
            from shares r join dispersion d using (plot)
        )
        select 'rate_outlier', unit_code, indicator_code, service_code, period,
               jsonb_build_object('numerator', numerator, 'denominator', denominator,
                   'rate', round((100 * p)::numeric, 2), 'pooled_rate', round((100 * p0)::numeric, 2),
                   'z', round(z_adjusted::numeric, 2), 'limit', round(outlier_z::numeric, 2), 'units', n),
               file_id
        from final where abs(z_adjusted) > outlier_z"""


def _reconciliation_check() -> str:
    """``reconciliation_gap``: a unit's reported numerator (or denominator) that differs from the
    source extract's figure for the same scope and month by more than ``tolerance_pct`` % of the
    extract's figure (the registry's ``extract:`` correspondence, synced to
    ``registry.indicator_extract`` and joined by the stage model).  One pass over the stage's
    reconciliation rows of the periods checked; a scope no extract covers is not compared."""
    beyond = (
        "{figure}_difference is not null and abs({figure}_difference)::numeric * 100 > tolerance_pct * extract_{figure}"
    )
    return f"""
        select 'reconciliation_gap', unit_code, indicator_code, service_code, period,
               jsonb_strip_nulls(jsonb_build_object(
                   'reported_numerator', reported_numerator, 'extract_numerator', extract_numerator,
                   'reported_denominator', reported_denominator, 'extract_denominator', extract_denominator,
                   'tolerance_pct', trim_scale(tolerance_pct), 'extract', extract_source, 'scope', extract_scope,
                   'system_of_record', system_of_record)),
               file_id
        from {RECONCILIATION}
        where period = any(%(periods)s)
          and (({beyond.format(figure="numerator")}) or ({beyond.format(figure="denominator")}))"""


def _extract_funnel_check() -> str:
    """``funnel_break`` in the civil-registry extract: a commune x record type x month whose counts
    break a declared funnel whose steps all correspond to the extract's measures (each step's
    indicator figure mapped to its measure by ``registry.indicator_extract``), such as total >=
    scanned >= entered >= synced.  The finding is the commune's, for the lower step's indicator,
    service ``NA``; several record types breaking one step are one finding, the first (by pair,
    then record type) named with its figures, all of them listed.  One pass over the month's
    extract rows, each read once per pair of steps (a handful)."""
    measure = (
        "case f.{side}_figure when 'numerator' then {alias}.numerator_measure else {alias}.denominator_measure end"
    )
    step = "f.{side}_code || case f.{side}_figure when 'denominator' then '.denominator' else '' end"
    return f"""
        with pairs as (
            select f.funnel_code, f.pair_no, f.lower_code,
                   {step.format(side="upper")} as upper_step, {step.format(side="lower")} as lower_step,
                   {measure.format(side="upper", alias="u")} as upper_measure,
                   {measure.format(side="lower", alias="l")} as lower_measure
            from gate_funnel_pair f
            join registry.indicator_extract u on u.indicator_code = f.upper_code and u.extract_source = 'civil_registry'
            join registry.indicator_extract l on l.indicator_code = f.lower_code and l.extract_source = 'civil_registry'
        ), breaks as (
            select r.commune_code, r.period, r.record_type, r.file_id, p.*,
                   (r.counts ->> p.upper_measure)::bigint as upper_value,
                   (r.counts ->> p.lower_measure)::bigint as lower_value
            from (select c.commune_code, c.period, c.record_type, c.file_id, to_jsonb(c) as counts
                  from {CIVIL_REGISTRY} c where c.period = any(%(periods)s)) r
            cross join pairs p
        )
        select 'funnel_break', commune_code, lower_code, 'NA', period,
               (array_agg(jsonb_build_object('extract', 'civil_registry', 'funnel', funnel_code,
                    'record_type', record_type, 'upper_step', upper_step, 'upper_measure', upper_measure,
                    'upper_value', upper_value, 'lower_step', lower_step, 'lower_measure', lower_measure,
                    'lower_value', lower_value) order by pair_no, record_type))[1]
                   || jsonb_build_object('record_types', jsonb_agg(distinct record_type)),
               (array_agg(file_id order by pair_no, record_type))[1]
        from breaks
        where lower_value > upper_value
        group by commune_code, lower_code, period"""


def _submission_checks() -> dict[str, str]:
    """Checks of what arrived: units silent after the deadline, files received late (by the time
    the warehouse first received them)."""
    arrived = f"(select * from {UNIT_PERIODS} where period = any(%(periods)s))"
    return {
        "missing_submission": f"""
            select 'missing_submission', e.unit_code, null, null, e.period, jsonb_build_object('deadline', d.deadline),
                   null::bigint
            from (select distinct x.unit_code, x.period from {EXPECTED} x
                  where x.period = any(%(periods)s)
                    and not exists (select 1 from {arrived} a
                                    where a.unit_code = x.unit_code and a.period = x.period)) e
            join gate_deadline d on d.period = e.period and d.deadline <= %(now)s
            join registry.unit u on u.unit_code = e.unit_code
            where concat_ws('|', u.province_code, e.period) = any(array(  -- provinces that sent something
                      select distinct concat_ws('|', pu.province_code, a.period) from {arrived} a
                      join registry.unit pu on pu.unit_code = a.unit_code))
              and not exists (select 1 from audit.load_ledger l where l.unit_code = e.unit_code
                              and l.period = e.period and l.status = 'loaded')""",
        "late_submission": f"""
            select 'late_submission', s.unit_code, null, null, s.period,
                   jsonb_build_object('received_at', s.received_at, 'deadline', d.deadline), s.file_id
            from (select f.unit_code, f.period, min(l.received_at) as received_at,
                         (array_agg(l.file_id order by l.received_at, l.file_id))[1] as file_id
                  from (select a.unit_code, a.period, unnest(a.file_ids) as file_id from {arrived} a
                        union
                        select l.unit_code, l.period, l.file_id from audit.load_ledger l
                        where l.status = 'loaded' and l.period = any(%(periods)s) and l.unit_code is not null
                          and exists (select 1 from {arrived} a where a.unit_code = l.unit_code
                                      and a.period = l.period)) f
                  join audit.load_ledger l on l.file_id = f.file_id
                  group by f.unit_code, f.period) s
            join gate_deadline d on d.period = s.period
            where s.received_at >= d.deadline""",
    }


Connect = Callable[[], AbstractContextManager[Any]]
"""Opens another connection to the warehouse (``ingest.warehouse.db.connect``)."""

_FINDING = 'check_code, unit_code, indicator_code, service_code, period, "values", file_id'


def statements_here(published: bool, periods: Sequence[str]) -> list[tuple[str, str | None, str]]:
    """The statements on the gate's own connection, in order: the checks within a row (with the
    second looks the rows they mark call for), funnels and parts.  Each: its name, the marker a
    row must have left for it to run (``None``: it always runs), and its select (of check_code,
    unit, indicator, service, period, values, file_id)."""
    month = {code: ROW_CHECKS[code] for code in _MONTH_CHECKS}
    return [
        ("row_checks", None, _row_checks(_rows(published, periods), ROW_CHECKS, MARKERS)),
        ("month_checks_unpublished", "_no_baseline", _row_checks(_rows_without_publication(periods), month, {})),
        ("missing_row", "_missing", _missing_row_check()),
        ("funnel_break", None, _funnel_check()),
        ("parts_exceed_total", None, _parts_check()),
    ]


def statements_elsewhere() -> dict[str, tuple[tuple[str, ...], str]]:
    """The statements that may run on another connection, meanwhile: the funnel plots, the
    checks of the submissions the unit-periods came in, and those against the source extracts
    (reported figures against the extract's; the extract's own funnels)."""
    return {
        "rate_outlier": (("rate_outlier",), _outlier_check()),
        **{code: ((code,), sql) for code, sql in _submission_checks().items()},
        "reconciliation_gap": (("reconciliation_gap",), _reconciliation_check()),
        "extract_funnel_break": (("funnel_break",), _extract_funnel_check()),
    }


def check_codes() -> set[str]:
    """The check codes the gate's statements yield: the catalogue's, and only those."""
    here = {*ROW_CHECKS, "missing_row", "funnel_break", "parts_exceed_total"}
    return here | {code for codes, _ in statements_elsewhere().values() for code in codes}


def find_violations(
    conn: Any,
    registry: Registry,
    scope: CheckScope,
    *,
    connect: Connect | None = None,
    meanwhile: Callable[[Any], object] | None = None,
) -> dict[str, int]:
    """Run every check of the catalogue over ``scope``; the findings are in ``gate_finding``.

    Returns the number of findings per check code.  Runs inside the caller's transaction.  With
    ``connect``, the statements that read the candidate itself run meanwhile on a connection of
    their own (about half the work, on another core of the database server), and their findings
    are copied in; without it, everything runs here (as the tests do, on values they never commit).
    ``meanwhile`` is more work for ``conn``, done while the other connection still works."""
    if check_codes() ^ set(registry.checks):
        raise RuntimeError(
            f"checks without SQL, or SQL without a check: {sorted(check_codes() ^ set(registry.checks))}"
        )
    _prepare(conn, registry, scope)
    conn.execute(
        """create temp table gate_finding (
               check_code text not null, unit_code text not null, indicator_code text, service_code text,
               period text not null, "values" jsonb not null, file_id bigint,
               unique nulls not distinct (check_code, unit_code, indicator_code, service_code, period)
           ) on commit drop;
           create temp table gate_finding_elsewhere (like gate_finding) on commit drop;
           alter table gate_finding_elsewhere alter column "values" type text"""
    )
    if connect is None:
        _find_here(conn, scope)
        for _, sql in statements_elsewhere().values():
            conn.execute(f"insert into gate_finding {sql} on conflict do nothing", _params(scope))
        if meanwhile:
            meanwhile(conn)
    else:
        with ThreadPoolExecutor(1) as pool:
            elsewhere = pool.submit(_find_elsewhere, connect, registry, scope)
            _find_here(conn, scope)
            if meanwhile:
                meanwhile(conn)
            found = elsewhere.result()
        with conn.cursor() as cur, cur.copy(f"copy gate_finding_elsewhere ({_FINDING}) from stdin") as copy:
            for row in found:
                copy.write_row(row)
        conn.execute(
            f"""insert into gate_finding ({_FINDING})
                select check_code, unit_code, indicator_code, service_code, period, "values"::jsonb, file_id
                from gate_finding_elsewhere on conflict do nothing"""
        )
    counts = dict(conn.execute("select check_code, count(*) from gate_finding group by check_code").fetchall())
    return {code: counts.get(code, 0) for code in registry.checks}


def _prepare(conn: Any, registry: Registry, scope: CheckScope) -> None:
    plan_for_a_month(conn)
    load_rules(conn, registry)
    _values(conn, "gate_deadline", "period text, deadline timestamptz", scope.deadlines.items())


def _params(scope: CheckScope) -> dict[str, Any]:
    return {"periods": list(scope.periods), "now": scope.now}


def _find_here(conn: Any, scope: CheckScope) -> None:
    """:func:`statements_here`, on this connection; the rows' marks are removed afterwards."""
    published = conn.execute("select to_regclass(%s)", (PUBLISHED,)).fetchone()[0] is not None
    marked: set[str] = set()
    for name, needs, sql in statements_here(published, scope.periods):
        if needs is None or needs in marked:
            conn.execute(f"insert into gate_finding {sql} on conflict do nothing", _params(scope))
        if name == "row_checks":
            marks = "select distinct check_code from gate_finding where check_code = any(%s)"
            marked = {row[0] for row in conn.execute(marks, (list(MARKERS),))}
    conn.execute("delete from gate_finding where check_code = any(%s)", (list(MARKERS),))


def _find_elsewhere(connect: Connect, registry: Registry, scope: CheckScope) -> list[tuple[Any, ...]]:
    """The statements that read the candidate itself, on a connection of their own; their
    findings, with the values as JSON text."""
    found: list[tuple[Any, ...]] = []
    with connect() as conn:
        _prepare(conn, registry, scope)
        for _, sql in statements_elsewhere().values():
            found += conn.execute(
                f"""select check_code, unit_code, indicator_code, service_code, period, "values"::text, file_id
                    from ({sql}) f({_FINDING})""",
                _params(scope),
            ).fetchall()
        conn.rollback()
    return found


def plan_for_a_month(conn: Any) -> None:
    """How the gate's statements are planned, for this transaction.

    The stage is new (dbt just wrote it) and has no statistics: the planner would take a month of
    rows for a few dozen and nest loops over them.  Every join the gate makes is a month of rows
    against a month, or against a small table: hashing is right for all of them, in memory.  On
    two cores a parallel plan only copies the hash tables (the gate uses the second core itself)."""
    for setting, value in (
        ("work_mem", "64MB"),
        ("enable_nestloop", "off"),
        ("enable_mergejoin", "off"),
        ("max_parallel_workers_per_gather", "0"),
        ("jit", "off"),
    ):
        conn.execute(f"select set_config('{setting}', '{value}', true)")
