"""Synthesise a province's inbox from the registry's logic, with faults injected on purpose.

``d06 synth`` writes one structured submission (CSV, XLSX or JSON, in turn) for every expected
reporting unit of a province, for each of N months, and a ground truth (``ground_truth.jsonl``)
listing every fault it injected with the check code that should find it.  Tests use that file as
their oracle, never a check implementation.

How the figures are made, from the registry alone:

* **One figure, one value.**  Within a unit, month and service, two figures whose registry
  definitions read the same are the same figure (``DVC_ONLINE_RESOLVED``'s denominator *is*
  ``DVC_ONLINE_RECEIVED``'s numerator).
* **Order.**  A total-kind numerator is drawn from its denominator, and each funnel step from the
  step before it, so ``numerator ≤ denominator`` and every funnel hold by construction.  A
  target-kind numerator is its quota times a share that may pass 1.
* **Variation like real units.**  Each unit has its own rate for each figure, drawn from a
  Beta(2, 2) bell around an indicator-wide mean (bounded: no long tails); flows then draw the
  month's numerator binomially, so rates are beta-binomial across units.  Stocks
  (``measure_type: stock``) follow a rising completion curve ``1 - (1 - s0)·exp(-r·t)`` per
  unit, so they never fall from one month to the next.
* **Sizes.**  Communes are small, departments larger; a department that is the only other reporter
  of what communes report sends the communes' sum (``Indicator.province_source_role``).  Units that
  report service rows of an indicator with a parts rule also send the all-services (``NA``) total.
* **On time.**  Every file's receipt time is listed in its month folder's receipt manifest
  (``received.csv``, what a mail gateway writes; :mod:`ingest.landing.receipt`), on a day
  before the deadline day (``D06_REPORT_DEADLINE_DAY``) of the following month,
  Asia/Ho_Chi_Minh; a late file's is after :func:`~ingest.submissions.periods.report_deadline`.

Faults (``--faults``) are injected once per kind per month (``stock_decrease`` and ``count_jump``
from the second month on), each on a unit of its own; the generator checks that the unit's data
then trip exactly the intended rule (this month and next) and tries another candidate otherwise.

With ``extracts=True`` (``--extracts``) each month folder also holds the source extracts
(formats.md §3, §4) made from the clean figures, consistent with what the units report
(:mod:`ingest.synth_extracts`); two more fault kinds then exist, never part of ``all`` (the gate
test feeds ``all`` to a gate that reconciles no extract yet): ``reconciliation_gap`` (a commune's
HT_* figure or the BHXH department's figure reported 5 % off its extract, in the last month only: a
stock raised in an earlier month would fall the month after) and ``extract_funnel_break`` (a row of
the civil-registry extract with more records synced than entered; its check is ``funnel_break``).

>>> result = synthesise(Path("/tmp/inbox"), province="AG", period="2026-03", months=2, faults=["all"])
>>> result.faults[0].check
'numerator_exceeds_denominator'
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import random
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ingest.demo import _provinces_of, _rng, _vn, _write
from ingest.landing.receipt import write_manifest
from ingest.registry import NO_SERVICE, Indicator, Registry, Unit, load_registry
from ingest.registry.catalog import Figure
from ingest.submissions.periods import TIMEZONE, deadline_day, report_deadline, shift_period
from ingest.synth_extracts import HOTICH_MEASURES, RECORD_TYPES, ExtractPlan, align_reported, correspondences

__all__ = [
    "EXTRACT_FAULT_KINDS",
    "FAULT_KINDS",
    "FORMATS",
    "GROUND_TRUTH",
    "Fault",
    "SynthResult",
    "parse_fault_kinds",
    "synthesise",
]

FAULT_KINDS = (
    "numerator_exceeds_denominator",
    "rate_mismatch",
    "false_full_rate",
    "stock_decrease",
    "funnel_break",
    "parts_exceed_total",
    "rate_outlier",
    "count_jump",
    "missing_row",
    "missing_submission",
    "late_submission",
)
"""The check codes of issue 9 that a fault can be injected for, in injection order."""
EXTRACT_FAULT_KINDS = ("reconciliation_gap", "extract_funnel_break")
"""Faults in how the reports and the source extracts agree; asked for by name, never by ``all``."""
LAST_MONTH_ONLY = frozenset({"reconciliation_gap"})
NEEDS_PREVIOUS_MONTH = frozenset({"stock_decrease", "count_jump"})
FORMATS = ("csv", "xlsx", "json")
GROUND_TRUTH = "ground_truth.jsonl"
ORIGIN = "2024-01"
"""Month 0 of the stocks' completion curves."""

_SCALE: Mapping[str, tuple[float, float]] = {
    # count unit -> (stock, flow) size of a typical commune's figure; departments are larger.
    "hồ sơ": (4000, 200),
    "dữ liệu": (25000, 800),
    "người": (6000, 600),
    "tài khoản": (12000, 400),
    "thẻ": (3000, 150),
    "lượt": (20000, 1500),
    "cơ sở": (8, 2),
    "nhiệm vụ": (2.5, 1),
    "mô hình": (0.5, 0.2),
    "thủ tục": (70, 10),
    "người nộp thuế": (12000, 300),
}
_DEFAULT_SCALE = (1000.0, 200.0)
_CENT = Decimal("0.01")
_OTHER_SERVICES = "_other"
"""Pseudo-service: the services outside the registry's list, part of an all-services total."""


# --- the model --------------------------------------------------------------------------------


@dataclass
class SynthRow:
    """One row of a submission, before it is written."""

    unit_code: str
    indicator_code: str
    service_code: str
    numerator: int
    denominator: int | None
    stated_rate: Decimal | None
    rate_text: str | None = None
    """How the rate is printed when not at two decimals (``100`` for a rounded-up full rate)."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.unit_code, self.indicator_code, self.service_code)

    def restate(self) -> None:
        """Make the stated rate the computed one again, at two decimals."""
        self.stated_rate = _rate(self.numerator, self.denominator)
        self.rate_text = None


@dataclass(frozen=True)
class Fault:
    """One injected fault: what a check should find (a line of ``ground_truth.jsonl``)."""

    check: str
    unit_code: str
    indicator_code: str | None
    """``None`` for faults about a whole submission (missing, late)."""
    service_code: str
    period: str
    description: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "unit_code": self.unit_code,
            "indicator_code": self.indicator_code,
            "service_code": self.service_code,
            "period": self.period,
            "description": self.description,
            "values": dict(self.values),
        }


@dataclass(frozen=True)
class SynthResult:
    periods: tuple[str, ...]
    files: tuple[Path, ...]
    faults: tuple[Fault, ...]
    ground_truth: Path
    extracts: tuple[Path, ...] = ()
    extract_rows: Mapping[str, int] = field(default_factory=dict)
    """Rows written per extract kind (``civil_registry``, ``bhxh``), over all months."""


@dataclass
class _Month:
    period: str
    units: list[Unit]
    rows: dict[str, list[SynthRow]]
    """Unit code -> its rows, in the order they are written."""
    silent: set[str] = field(default_factory=set)
    late: dict[str, dt.datetime] = field(default_factory=dict)


def _rate(num: int, den: int | None) -> Decimal | None:
    if not den:
        return None
    return (Decimal(100 * num) / Decimal(den)).quantize(_CENT, ROUND_HALF_UP)


def _months_between(period: str, origin: str = ORIGIN) -> int:
    y, m = map(int, period.split("-"))
    oy, om = map(int, origin.split("-"))
    return (y - oy) * 12 + (m - om)


def _last_day(period: str) -> dt.date:
    y, m = map(int, period.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


# --- figures: which are the same, which bound which --------------------------------------------


def _definition(ind: Indicator, figure: Figure) -> tuple[str, str]:
    text = ind.numerator if figure == "numerator" else ind.denominator
    return (ind.measure_type, " ".join(unicodedata.normalize("NFC", text).casefold().split()))


@dataclass(frozen=True)
class _Graph:
    """The figures of a set of indicators (one unit, one service) and what bounds each one."""

    nodes: Mapping[tuple[str, str], tuple[tuple[Indicator, Figure], ...]]
    parents: Mapping[tuple[str, str], tuple[tuple[str, str], ...]]
    """Figure -> the figures it must not exceed."""
    quota: Mapping[tuple[str, str], tuple[str, str]]
    """Target-kind numerator without a bound -> its quota (denominator)."""
    order: tuple[tuple[str, str], ...]


def _graph(registry: Registry, indicators: Sequence[Indicator]) -> _Graph:
    nodes: dict[tuple[str, str], list[tuple[Indicator, Figure]]] = defaultdict(list)
    for ind in indicators:
        for figure in ("numerator", "denominator"):
            nodes[_definition(ind, figure)].append((ind, figure))
    parents: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    present = {i.code: i for i in indicators}
    for ind in indicators:
        if ind.denominator_kind == "total":
            parents[_definition(ind, "numerator")].add(_definition(ind, "denominator"))
    for funnel in registry.funnels:
        for upper, lower in funnel.pairs():
            if upper.indicator_code in present and lower.indicator_code in present:
                up = _definition(present[upper.indicator_code], upper.figure)
                low = _definition(present[lower.indicator_code], lower.figure)
                parents[low].add(up)
    quota = {
        _definition(ind, "numerator"): _definition(ind, "denominator")
        for ind in indicators
        if ind.denominator_kind == "target" and not parents.get(_definition(ind, "numerator"))
    }
    order: list[tuple[str, str]] = []
    state: dict[tuple[str, str], int] = {}

    def visit(node: tuple[str, str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise ValueError(f"the registry's figures bound each other in a cycle at {node[1]!r}")
        state[node] = 1
        for before in sorted(parents.get(node, ())) + ([quota[node]] if node in quota else []):
            visit(before)
        state[node] = 2
        order.append(node)

    for node in sorted(nodes):
        visit(node)
    return _Graph(
        nodes={k: tuple(v) for k, v in nodes.items()},
        parents={k: tuple(sorted(v)) for k, v in parents.items()},
        quota=quota,
        order=tuple(order),
    )


# --- values ------------------------------------------------------------------------------------


class _Values:
    """Deterministic figures for one seed: per unit and service, per month."""

    def __init__(self, registry: Registry, seed: int) -> None:
        self.registry = registry
        self.seed = str(seed)

    def _r(self, *parts: str) -> random.Random:
        return _rng(self.seed, *parts)

    def size(self, unit: Unit) -> float:
        r = self._r("size", unit.code)
        if unit.kind == "commune":
            return math.exp(r.gauss(0, 0.35))
        if unit.kind == "department":
            return r.uniform(12, 30)
        return r.uniform(4, 8)

    def service_factor(self, service: str) -> float:
        if service == NO_SERVICE:
            return 1.0
        if service == _OTHER_SERVICES:
            return 0.6
        return self._r("service", service).uniform(0.5, 1.5)

    def figures(
        self, unit: Unit, service: str, indicators: Sequence[Indicator], period: str
    ) -> dict[tuple[str, str], int]:
        """Every figure of ``indicators`` for a unit, service and month."""
        graph = _graph(self.registry, indicators)
        t = _months_between(period)
        values: dict[tuple[str, str], int] = {}
        for node in graph.order:
            ind, _ = graph.nodes[node][0]
            stock = ind.measure_type == "stock"
            unit_r = self._r("unit", unit.code, service, node[1])
            month_r = self._r("month", unit.code, service, node[1], period)
            mean_r = self._r("mean", service, node[1])
            bounds = [values[p] for p in graph.parents.get(node, ())]
            if bounds:
                basis = min(bounds)
                if stock:
                    mean = mean_r.uniform(0.45, 0.75)
                    s0 = _unit_rate(unit_r, mean, 0.15)
                    speed = mean_r.uniform(0.04, 0.06)
                    share = min(1.0, max(0.0, 1 - (1 - s0) * math.exp(-speed * t)))
                    values[node] = math.floor(basis * share)
                else:
                    mean = mean_r.uniform(0.6, 0.92)
                    p = _unit_rate(unit_r, mean, 0.15)
                    values[node] = _binomial(basis, p, month_r)
            elif node in graph.quota:
                quota = values[graph.quota[node]]
                if stock:
                    share = max(0.0, unit_r.gauss(0.8, 0.08) + unit_r.uniform(0.003, 0.008) * t)
                    values[node] = math.floor(quota * share)
                else:
                    share = max(0.0, unit_r.gauss(1.0, 0.08) * month_r.uniform(0.94, 1.06))
                    values[node] = round(quota * share)
            else:
                stock_scale, flow_scale = _SCALE.get(ind.count_unit, _DEFAULT_SCALE)
                base = (stock_scale if stock else flow_scale) * self.size(unit) * self.service_factor(service)
                base *= unit_r.uniform(0.8, 1.25)
                if stock:
                    growth = 0.0 if ind.denominator_kind == "target" else unit_r.uniform(0.0, 0.004)
                    values[node] = max(1, math.floor(base * (1 + growth * max(t, 0))))
                else:
                    season = 1 + 0.1 * math.sin(2 * math.pi * int(period[5:]) / 12)
                    values[node] = max(5, round(base * season * month_r.uniform(0.85, 1.18)))
        return values


def _unit_rate(r: random.Random, mean: float, spread: float) -> float:
    """A unit's own rate: ``mean`` ± ``spread`` (narrower near 0 and 1), Beta(2, 2)-shaped.

    Real units differ, but within bounds: a bell without long tails, so that a clean month has
    almost no rate outside funnel-plot limits (which estimate the spread from the units)."""
    half = min(spread, 0.9 * mean, 0.9 * (1 - mean))
    return mean + half * (2 * r.betavariate(2, 2) - 1)


def _binomial(n: int, p: float, r: random.Random) -> int:
    """A Binomial(n, p) draw: exact for small n, normal approximation (clipped) for large."""
    if n <= 200:
        return sum(r.random() < p for _ in range(n))
    return min(n, max(0, round(r.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def _aggregated_by_communes(ind: Indicator, service: str, unit: Unit) -> bool:
    """Whether a department sends the communes' sum for (indicator, service): it is the only
    other role that reports it, and communes report it too."""
    roles = {role for role, services in ind.reporters.items() if service in services}
    return unit.kind == "department" and roles == {unit.role, "commune"}


def _clean_month(registry: Registry, values: _Values, units: list[Unit], period: str) -> dict[str, list[SynthRow]]:
    """Every unit's clean rows for a month."""
    parts_indicators = {code for rule in registry.parts for code in rule.indicator_codes}
    totals_service = {code: rule.total_service for rule in registry.parts for code in rule.indicator_codes}
    own: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    by_unit: dict[str, list[tuple[Indicator, str]]] = {}
    for unit in units:
        expected = list(registry.expected_rows(unit.code))
        by_unit[unit.code] = expected
        figures: dict[tuple[str, str], tuple[int, int]] = {}
        groups: dict[str, list[Indicator]] = defaultdict(list)
        for ind, service in expected:
            groups[service].append(ind)
        other_codes = dict.fromkeys(i.code for i, s in expected if s != NO_SERVICE and i.code in parts_indicators)
        others = [registry.indicators[c] for c in other_codes]
        if unit.kind == "department" and others:
            groups[_OTHER_SERVICES] = others
        for service, inds in groups.items():
            got = values.figures(unit, service, inds, period)
            for ind in inds:
                figures[(ind.code, service)] = (
                    got[_definition(ind, "numerator")],
                    got[_definition(ind, "denominator")],
                )
        own[unit.code] = figures
    communes = [u for u in units if u.kind == "commune"]
    rows: dict[str, list[SynthRow]] = {}
    for unit in units:
        figures = dict(own[unit.code])
        for ind, service in by_unit[unit.code]:
            if communes and _aggregated_by_communes(ind, service, unit):
                sums = [
                    own[c.code][(ind.code, service)]
                    for c in communes
                    if c.province_code == unit.province_code and (ind.code, service) in own[c.code]
                ]
                figures[(ind.code, service)] = (sum(n for n, _ in sums), sum(d for _, d in sums))
        unit_rows = [
            SynthRow(unit.code, ind.code, service, *figures[(ind.code, service)], None)
            for ind, service in by_unit[unit.code]
        ]
        if unit.kind == "department":
            for code in dict.fromkeys(r.indicator_code for r in unit_rows if r.service_code != NO_SERVICE):
                if code not in parts_indicators or (code, _OTHER_SERVICES) not in figures:
                    continue
                parts = [r for r in unit_rows if r.indicator_code == code] + [
                    SynthRow(unit.code, code, _OTHER_SERVICES, *figures[(code, _OTHER_SERVICES)], None)
                ]
                unit_rows.append(
                    SynthRow(
                        unit.code,
                        code,
                        totals_service[code],
                        sum(r.numerator for r in parts),
                        sum(r.denominator or 0 for r in parts),
                        None,
                    )
                )
        for row in unit_rows:
            row.restate()
        rows[unit.code] = unit_rows
    return rows


# --- the rules, as the generator checks its own output ------------------------------------------


def _findings(
    registry: Registry, rows: Iterable[SynthRow], previous: Mapping[tuple[str, str, str], SynthRow]
) -> set[tuple[str, str, str, str]]:
    """(check, unit, indicator, service) that the registry's deterministic rules find in ``rows``.

    The generator's guard that a fault trips only what it should; tests check independently."""
    found: set[tuple[str, str, str, str]] = set()
    rows = list(rows)
    by_key = {r.key: r for r in rows}
    for r in rows:
        ind = registry.indicators[r.indicator_code]
        tol = registry.tolerances.for_indicator(ind.code)
        key = (r.unit_code, r.indicator_code, r.service_code)
        if r.denominator is not None and ind.denominator_kind == "total" and r.numerator > r.denominator:
            found.add(("numerator_exceeds_denominator", *key))
        if r.stated_rate is not None and r.denominator:
            computed = Decimal(100 * r.numerator) / Decimal(r.denominator)
            printed = Decimal(1) / 2 if r.rate_text and "," not in r.rate_text else Decimal("0.005")
            if abs(r.stated_rate - computed) > tol.rate_mismatch_pp + printed:
                found.add(("rate_mismatch", *key))
            if r.stated_rate == 100 and r.numerator < r.denominator:
                found.add(("false_full_rate", *key))
        before = previous.get(r.key)
        if before is not None:
            pairs = [(before.numerator, r.numerator), (before.denominator, r.denominator)]
            for old, new in pairs:
                if old is None or new is None:
                    continue
                if ind.measure_type == "stock" and new < old:
                    found.add(("stock_decrease", *key))
                if old >= tol.count_jump.min_base and (
                    new > old * tol.count_jump.factor or new * tol.count_jump.factor < old
                ):
                    found.add(("count_jump", *key))
    for funnel in registry.funnels:
        for upper, lower in funnel.pairs():
            for r in rows:
                if r.indicator_code != lower.indicator_code:
                    continue
                up = by_key.get((r.unit_code, upper.indicator_code, r.service_code))
                if up is None:
                    continue
                high = up.numerator if upper.figure == "numerator" else up.denominator
                low = r.numerator if lower.figure == "numerator" else r.denominator
                if high is not None and low is not None and low > high:
                    found.add(("funnel_break", r.unit_code, r.indicator_code, r.service_code))
    for rule in registry.parts:
        for r in rows:
            if r.indicator_code not in rule.indicator_codes or r.service_code != rule.total_service:
                continue
            parts = [
                p
                for p in rows
                if p.unit_code == r.unit_code
                and p.indicator_code == r.indicator_code
                and p.service_code != r.service_code
            ]
            for figure in rule.figures:
                total = r.numerator if figure == "numerator" else r.denominator
                summed = sum((p.numerator if figure == "numerator" else p.denominator) or 0 for p in parts)
                if parts and total is not None and summed > total:
                    found.add(("parts_exceed_total", *r.key))
    return found


# --- faults ------------------------------------------------------------------------------------


def parse_fault_kinds(text: str | Sequence[str] | None, months: int = 1) -> list[str]:
    """``--faults`` as a list of check codes; ``all`` is every kind (those that need a previous
    month only when there is one).  Raise :class:`ValueError` for an unknown or impossible kind."""
    if not text:
        return []
    items = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    known = FAULT_KINDS + EXTRACT_FAULT_KINDS
    unknown = [k for k in items if k not in known and k != "all"]
    if unknown:
        raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}; known: all, {', '.join(known)}")
    if "all" in items:
        # the extract kinds only by name: the gate does not reconcile extracts yet
        return [k for k in FAULT_KINDS if months >= 2 or k not in NEEDS_PREVIOUS_MONTH] + [
            k for k in EXTRACT_FAULT_KINDS if k in items
        ]
    impossible = [k for k in items if k in NEEDS_PREVIOUS_MONTH and months < 2]
    if impossible:
        raise ValueError(f"{', '.join(impossible)} needs a previous month: use --months 2 or more")
    return [k for k in known if k in items]


class _Injector:
    """Injects each fault on a unit of its own, and checks that it trips only the intended rule."""

    def __init__(self, registry: Registry, months: list[_Month], seed: int) -> None:
        self.registry = registry
        self.months = months
        self.seed = str(seed)
        self.used: set[str] = set()
        self.used_in: dict[str, set[str]] = {}
        self.gaps: dict[str, set[str]] = {}
        self.faults: list[Fault] = []
        self.extracts: ExtractPlan | None = None

    def _index(self, rows: Mapping[str, list[SynthRow]]) -> dict[tuple[str, str, str], SynthRow]:
        return {r.key: r for unit_rows in rows.values() for r in unit_rows}

    def _previous(self, i: int) -> dict[tuple[str, str, str], SynthRow]:
        return self._index(self.months[i - 1].rows) if i > 0 else {}

    def _clean_after(self, i: int, unit: str, expected: set[tuple[str, str, str, str]]) -> bool:
        """Whether the unit's rows find exactly ``expected`` this month and nothing next month."""
        month = self.months[i]
        here = _findings(self.registry, month.rows.get(unit, []), self._previous(i))
        if here != expected:
            return False
        if i + 1 < len(self.months):
            nxt = self.months[i + 1]
            prev = {k: v for k, v in self._index(month.rows).items() if k[0] == unit}
            if _findings(self.registry, nxt.rows.get(unit, []), prev):
                return False
        return True

    def _units(self, i: int, kind: str, communes_first: bool = True) -> list[Unit]:
        """Units that may take a fault this month, in a seeded order: units with no fault yet
        first (then, if need be, units faulted in another month), communes first when asked.
        A unit faulted this month, silent, or with a row missing the month before is left out,
        so that each fault stands alone."""
        month = self.months[i]
        r = _rng(self.seed, "victims", kind, month.period)
        gaps = self.gaps.get(self.months[i - 1].period, set()) if i else set()
        taken = self.used_in.get(month.period, set())
        units = [u for u in month.units if u.code not in taken | month.silent | gaps]
        r.shuffle(units)
        units.sort(key=lambda u: self._rank(u, communes_first))
        return units

    def _record(self, fault: Fault) -> None:
        self.used.add(fault.unit_code)
        self.used_in.setdefault(fault.period, set()).add(fault.unit_code)
        if fault.check in ("missing_row", "missing_submission"):
            self.gaps.setdefault(fault.period, set()).add(fault.unit_code)
        self.faults.append(fault)

    def _try_rows(
        self,
        i: int,
        kind: str,
        candidates: Iterable[tuple[SynthRow, Any]],
        change: Any,
    ) -> bool:
        """Try ``change(row, extra) -> Fault | None`` on each candidate until one is clean."""
        month = self.months[i]
        for row, extra in candidates:
            saved = [(r, replace(r)) for r in month.rows[row.unit_code]]
            fault = change(row, extra)
            if fault is not None:
                target = (kind, fault.unit_code, fault.indicator_code, fault.service_code)
                # a rate outlier is statistical, a reconciliation gap needs the extract: the
                # deterministic rules on the submissions must find nothing
                quiet = kind in ("rate_outlier", "reconciliation_gap")
                if self._clean_after(i, row.unit_code, set() if quiet else {target}):
                    self._record(fault)
                    return True
            for obj, copy in saved:
                obj.numerator, obj.denominator = copy.numerator, copy.denominator
                obj.stated_rate, obj.rate_text = copy.stated_rate, copy.rate_text
        return False

    def inject(self, i: int, kind: str) -> None:
        month = self.months[i]
        if kind in NEEDS_PREVIOUS_MONTH and i == 0:
            return
        if kind in LAST_MONTH_ONLY and i != len(self.months) - 1:
            return
        done = getattr(self, f"_{kind}")(i, month)
        if not done:
            raise RuntimeError(f"no unit of {month.period} can take a clean {kind} fault")

    def _candidates(self, i: int, kind: str, key: Any = None) -> list[tuple[SynthRow, Any]]:
        """The rows of :meth:`_units`, in their order, then by ``key`` within a rank."""
        month = self.months[i]
        units = self._units(i, kind)
        rank = {u.code: self._rank(u) for u in units}
        rows = [r for u in units for r in month.rows[u.code]]
        if key is not None:
            rows.sort(key=lambda r: (rank[r.unit_code], key(r)))
        return [(r, None) for r in rows]

    def _rank(self, unit: Unit, communes_first: bool = True) -> tuple[bool, bool]:
        return (unit.code in self.used, communes_first and unit.kind != "commune")

    def _ind(self, row: SynthRow) -> Indicator:
        return self.registry.indicators[row.indicator_code]

    # one method per fault kind ---------------------------------------------------------------

    def _numerator_exceeds_denominator(self, i: int, month: _Month) -> bool:
        def change(row: SynthRow, _: Any) -> Fault | None:
            if self._ind(row).denominator_kind != "total" or not row.denominator or row.denominator < 50:
                return None
            over = max(1, round(row.denominator * _rng(self.seed, "over", row.unit_code).uniform(0.003, 0.012)))
            row.numerator = row.denominator + over
            row.restate()
            return self._fault(
                "numerator_exceeds_denominator",
                row,
                month,
                f"numerator {row.numerator} above its denominator {row.denominator}, rate stated {row.stated_rate}%",
                numerator=row.numerator,
                denominator=row.denominator,
                reported_rate=str(row.stated_rate),
            )

        # a unit whose rate is already high, so that the row is not also a rate outlier
        rank = self._candidates(i, "numerator_exceeds_denominator", key=lambda r: -(r.stated_rate or 0))
        return self._try_rows(i, "numerator_exceeds_denominator", rank, change)

    def _rate_mismatch(self, i: int, month: _Month) -> bool:
        def change(row: SynthRow, _: Any) -> Fault | None:
            rate = row.stated_rate
            if rate is None or not (10 <= rate <= 90) or (row.denominator or 0) < 20:
                return None
            computed = rate
            row.stated_rate = rate + Decimal("3.00")
            return self._fault(
                "rate_mismatch",
                row,
                month,
                f"stated rate {row.stated_rate}% where {row.numerator}/{row.denominator} is {computed}%",
                numerator=row.numerator,
                denominator=row.denominator,
                reported_rate=str(row.stated_rate),
                computed_rate=str(computed),
            )

        return self._try_rows(i, "rate_mismatch", self._candidates(i, "rate_mismatch"), change)

    def _false_full_rate(self, i: int, month: _Month) -> bool:
        def change(row: SynthRow, _: Any) -> Fault | None:
            if self._ind(row).denominator_kind != "total" or (row.denominator or 0) < 2000:
                return None
            assert row.denominator is not None
            row.numerator = row.denominator - 1
            row.stated_rate, row.rate_text = Decimal(100), "100"
            return self._fault(
                "false_full_rate",
                row,
                month,
                f"stated 100% where {row.numerator}/{row.denominator} is short of the whole (rounds to 100)",
                numerator=row.numerator,
                denominator=row.denominator,
                reported_rate="100",
            )

        rank = self._candidates(i, "false_full_rate", key=lambda r: -(r.stated_rate or 0))
        return self._try_rows(i, "false_full_rate", rank, change)

    def _stock_decrease(self, i: int, month: _Month) -> bool:
        previous = self._previous(i)

        def change(row: SynthRow, _: Any) -> Fault | None:
            before = previous.get(row.key)
            if self._ind(row).measure_type != "stock" or before is None or before.numerator < 50:
                return None
            row.numerator = before.numerator - max(1, round(before.numerator * 0.03))
            row.restate()
            return self._fault(
                "stock_decrease",
                row,
                month,
                f"cumulative figure fell from {before.numerator} to {row.numerator}",
                numerator=row.numerator,
                previous_numerator=before.numerator,
                previous_period=self.months[i - 1].period,
            )

        return self._try_rows(i, "stock_decrease", self._candidates(i, "stock_decrease"), change)

    def _funnel_break(self, i: int, month: _Month) -> bool:
        candidates: list[tuple[SynthRow, Any]] = []
        for unit in self._units(i, "funnel_break", communes_first=False):
            index = {(r.indicator_code, r.service_code): r for r in month.rows[unit.code]}
            for funnel in self.registry.funnels:
                for upper, lower in funnel.pairs():
                    for (code, service), row in index.items():
                        if code == lower.indicator_code and (upper.indicator_code, service) in index:
                            for how in ("raise_lower", "lower_upper"):
                                candidates.append(
                                    (row, (funnel, upper, lower, index[(upper.indicator_code, service)], how))
                                )
        # flows first: a stock changed in a month before the last would fall the month after
        candidates.sort(key=lambda c: (c[0].unit_code in self.used, self._ind(c[0]).measure_type != "flow"))

        def get(row: SynthRow, figure: Figure) -> int:
            return row.numerator if figure == "numerator" else row.denominator or 0

        def put(row: SynthRow, figure: Figure, value: int) -> None:
            if figure == "numerator":
                row.numerator = value
            else:
                row.denominator = value
            row.restate()

        def change(row: SynthRow, extra: Any) -> Fault | None:
            funnel, upper, lower, up_row, how = extra
            high, low = get(up_row, upper.figure), get(row, lower.figure)
            step = max(1, round(high * 0.02))
            if how == "raise_lower":
                put(row, lower.figure, high + step)
            elif low >= step:
                put(up_row, upper.figure, low - step)
            else:
                return None
            return self._fault(
                "funnel_break",
                row,
                month,
                f"{lower} ({get(row, lower.figure)}) above {upper} ({get(up_row, upper.figure)}) in {funnel.code}",
                funnel=funnel.code,
                upper_step=str(upper),
                upper_value=get(up_row, upper.figure),
                lower_step=str(lower),
                lower_value=get(row, lower.figure),
            )

        return self._try_rows(i, "funnel_break", candidates, change)

    def _parts_exceed_total(self, i: int, month: _Month) -> bool:
        for unit in self._units(i, "parts_exceed_total"):
            rows = month.rows[unit.code]
            for rule in self.registry.parts:
                for code in rule.indicator_codes:
                    parts = [r for r in rows if r.indicator_code == code and r.service_code != rule.total_service]
                    if len(parts) < 2 or any(
                        r.indicator_code == code and r.service_code == rule.total_service for r in rows
                    ):
                        continue
                    num = sum(r.numerator for r in parts)
                    den = sum(r.denominator or 0 for r in parts)
                    short = max(1, round(num * 0.05))
                    total = SynthRow(unit.code, code, rule.total_service, num - short, den, None)
                    if "denominator" in rule.figures and "numerator" not in rule.figures:
                        total.denominator = den - max(1, round(den * 0.05))
                    total.restate()
                    position = max(j for j, r in enumerate(rows) if r.indicator_code == code) + 1
                    rows.insert(position, total)
                    fault = self._fault(
                        "parts_exceed_total",
                        total,
                        month,
                        f"the services add up to {num}/{den}, more than the all-services row "
                        f"{total.numerator}/{total.denominator}",
                        total_numerator=total.numerator,
                        total_denominator=total.denominator,
                        parts_numerator=num,
                        parts_denominator=den,
                        rule=rule.code,
                    )
                    if self._clean_after(i, unit.code, {("parts_exceed_total", *total.key)}):
                        self._record(fault)
                        return True
                    rows.pop(position)
        return False

    def _rate_outlier(self, i: int, month: _Month) -> bool:
        reporters: dict[tuple[str, str], list[SynthRow]] = defaultdict(list)
        for unit_rows in month.rows.values():
            for r in unit_rows:
                reporters[(r.indicator_code, r.service_code)].append(r)
        in_funnels = {s.indicator_code for f in self.registry.funnels for s in f.steps}

        def eligible(r: SynthRow) -> bool:
            ind = self._ind(r)
            return (
                ind.denominator_kind == "total"
                and ind.code not in in_funnels
                and len(reporters[(r.indicator_code, r.service_code)]) >= 20
                and (r.denominator or 0) >= 150
            )

        def pooled(r: SynthRow) -> float:
            group = reporters[(r.indicator_code, r.service_code)]
            return sum(g.numerator for g in group) / max(1, sum(g.denominator or 0 for g in group))

        def change(row: SynthRow, _: Any) -> Fault | None:
            if not eligible(row):
                return None
            assert row.denominator is not None
            p0 = pooled(row)
            row.numerator = round(row.denominator * max(0.03, p0 - 0.45))
            row.restate()
            return self._fault(
                "rate_outlier",
                row,
                month,
                f"rate {row.stated_rate}% on {row.denominator}, far below the other units' {100 * p0:.1f}%",
                numerator=row.numerator,
                denominator=row.denominator,
                rate=str(row.stated_rate),
                pooled_rate=round(100 * p0, 2),
            )

        rank = self._candidates(
            i,
            "rate_outlier",
            key=lambda r: (
                self._ind(r).measure_type != "flow",
                self.registry.units[r.unit_code].kind != "commune",
                -(r.denominator or 0),
            ),
        )
        return self._try_rows(i, "rate_outlier", rank, change)

    def _count_jump(self, i: int, month: _Month) -> bool:
        previous = self._previous(i)

        def scale(row: SynthRow, factor: int) -> None:
            row.numerator *= factor
            row.denominator = None if row.denominator is None else row.denominator * factor
            row.restate()

        def later_rows(key: tuple[str, str, str]) -> list[SynthRow]:
            # the unit's new level persists, so that the month after does not jump back
            return [r for m in self.months[i + 1 :] for r in m.rows.get(key[0], []) if r.key == key]

        rank = self._candidates(i, "count_jump", key=lambda r: -(previous[r.key].numerator if r.key in previous else 0))
        for row, _ in rank:
            before = previous.get(row.key)
            tol = self.registry.tolerances.for_indicator(row.indicator_code)
            if (
                self._ind(row).measure_type != "flow"
                or before is None
                or before.numerator < 2 * tol.count_jump.min_base
            ):
                continue
            rows = [row, *later_rows(row.key)]
            for r in rows:
                scale(r, 10)
            if self._clean_after(i, row.unit_code, {("count_jump", *row.key)}):
                self._record(
                    self._fault(
                        "count_jump",
                        row,
                        month,
                        f"count ×10 from the previous month: {before.numerator} → {row.numerator}",
                        numerator=row.numerator,
                        denominator=row.denominator,
                        previous_numerator=before.numerator,
                        previous_denominator=before.denominator,
                        previous_period=self.months[i - 1].period,
                    )
                )
                return True
            for r in rows:
                r.numerator //= 10
                r.denominator = None if r.denominator is None else r.denominator // 10
                r.restate()
        return False

    def _missing_row(self, i: int, month: _Month) -> bool:
        unit = self._units(i, "missing_row")[0]
        rows = month.rows[unit.code]
        dropped = rows.pop(_rng(self.seed, "missing_row", month.period).randrange(len(rows)))
        self._record(
            self._fault(
                "missing_row",
                dropped,
                month,
                f"the submission lacks the expected row {dropped.indicator_code} / {dropped.service_code}",
            )
        )
        return True

    def _missing_submission(self, i: int, month: _Month) -> bool:
        unit = self._units(i, "missing_submission")[0]
        month.silent.add(unit.code)
        self._record(
            Fault(
                "missing_submission",
                unit.code,
                None,
                NO_SERVICE,
                month.period,
                "the unit sent nothing for the month",
                {"deadline": report_deadline(month.period).isoformat()},
            )
        )
        return True

    def _late_submission(self, i: int, month: _Month) -> bool:
        unit = self._units(i, "late_submission")[0]
        r = _rng(self.seed, "late", month.period)
        due = report_deadline(month.period)  # the start of the day after the deadline day: late from then on
        received = due + dt.timedelta(days=r.randint(1, 8), hours=r.randint(-8, 0))
        month.late[unit.code] = received
        self._record(
            Fault(
                "late_submission",
                unit.code,
                None,
                NO_SERVICE,
                month.period,
                f"received {received:%d/%m/%Y %H:%M}, "
                f"after the deadline (the end of {deadline_day(month.period):%d/%m/%Y})",
                {"received_at": received.isoformat(), "deadline": due.isoformat()},
            )
        )
        return True

    def _reconciliation_gap(self, i: int, month: _Month) -> bool:
        """A commune's HT_* figure, or the BHXH department's, reported 5 % above (or below) its
        extract; the extract stays true.  Only figures that are the only report of their measure
        (records_scanned, records_synced, verified, participants), so one row disagrees."""
        plan = self.extracts
        if plan is None:
            raise ValueError("reconciliation_gap needs the source extracts (--extracts)")
        truth: dict[str, dict[str, int]] = {}
        for commune, rows in plan.hotich[month.period].items():
            truth[commune] = {measure: sum(r[j] for r in rows) for j, measure in enumerate(HOTICH_MEASURES)}
        for department, (participants, verified) in plan.bhxh[month.period].items():
            truth[department] = {"participants": participants, "verified": verified}
        single: dict[tuple[str, str], tuple[str, str]] = {}
        for source in ("civil_registry", "bhxh"):
            for measure, figures in correspondences(self.registry, source).items():
                if len(figures) == 1:
                    single[figures[0]] = (source, measure)
        candidates: list[tuple[SynthRow, Any]] = []
        for row, _ in self._candidates(i, "reconciliation_gap"):
            if row.unit_code not in truth or row.service_code != NO_SERVICE:
                continue
            for figure in ("numerator", "denominator"):
                found = single.get((row.indicator_code, figure))
                if found is None or found[1] not in truth[row.unit_code]:
                    continue
                value = row.numerator if figure == "numerator" else row.denominator
                if value == truth[row.unit_code][found[1]] and value is not None and value >= 200:
                    for sign in (1, -1):
                        candidates.append((row, (figure, *found, value, sign)))

        def change(row: SynthRow, extra: Any) -> Fault | None:
            figure, source, measure, value, sign = extra
            reported = value + sign * max(1, round(value * 0.05))
            if figure == "numerator":
                row.numerator = reported
            else:
                row.denominator = reported
            row.restate()
            tol = self._ind(row).extract
            assert tol is not None
            return self._fault(
                "reconciliation_gap",
                row,
                month,
                f"reported {figure} {reported} where the {source} extract's {measure} is {value} "
                f"({100 * (reported - value) / value:+.1f} %, tolerance {tol.tolerance_pct} %)",
                figure=figure,
                reported=reported,
                extract=value,
                source=source,
                measure=measure,
                tolerance_pct=str(tol.tolerance_pct),
            )

        return self._try_rows(i, "reconciliation_gap", candidates, change)

    def _extract_funnel_break(self, i: int, month: _Month) -> bool:
        """A row of the month-end civil-registry extract with more records synced than entered;
        the commune's sums stay what it reports (the other record types' synced give way)."""
        plan = self.extracts
        if plan is None:
            raise ValueError("extract_funnel_break needs the source extracts (--extracts)")
        rows = plan.hotich[month.period]
        for unit in self._units(i, "extract_funnel_break"):
            if unit.code not in rows:
                continue
            table = rows[unit.code]
            for k in sorted(range(len(table)), key=lambda k: -table[k][2]):
                entered, synced = table[k][2], table[k][3]
                over = entered + max(1, round(entered * 0.02))
                need = over - synced
                others = [j for j in range(len(table)) if j != k]
                if entered < 50 or sum(table[j][3] for j in others) < need:
                    continue
                for j in sorted(others, key=lambda j: -table[j][3]):
                    give = min(need, table[j][3])
                    table[j][3] -= give
                    need -= give
                table[k][3] = over
                self._record(
                    Fault(
                        "funnel_break",
                        unit.code,
                        "HT_SYNCED",
                        NO_SERVICE,
                        month.period,
                        f"the civil-registry extract of {plan.extract_date(month.period).isoformat()} has "
                        f"{over} {RECORD_TYPES[k]} records synced, more than the {entered} entered",
                        {
                            "source": "civil_registry",
                            "extract_date": plan.extract_date(month.period).isoformat(),
                            "record_type": RECORD_TYPES[k],
                            "records_entered": entered,
                            "records_synced": over,
                        },
                    )
                )
                return True
        return False

    @staticmethod
    def _fault(check: str, row: SynthRow, month: _Month, description: str, **values: Any) -> Fault:
        return Fault(check, row.unit_code, row.indicator_code, row.service_code, month.period, description, values)


# --- writing -----------------------------------------------------------------------------------


def _texts(row: SynthRow, period: str, dots: bool, percent: bool) -> list[str]:
    """A row as the unit writes it: with or without thousands dots, with or without ``%``."""

    def count(n: int | None) -> str:
        return "" if n is None else (_vn(n) if dots else str(n))

    if row.rate_text is not None:
        rate = row.rate_text
    elif row.stated_rate is None:
        rate = ""
    else:
        rate = f"{row.stated_rate:.2f}".replace(".", ",")
    if rate and percent:
        rate += "%"
    return [
        row.unit_code,
        period,
        row.indicator_code,
        row.service_code,
        count(row.numerator),
        count(row.denominator),
        rate,
        "",
    ]


def _receipt(seed: str, unit: str, period: str) -> dt.datetime:
    """An on-time receipt: a working hour on one of the days before the deadline day."""
    r = _rng(seed, "received", unit, period)
    last = deadline_day(period)
    day = r.randint(1, max(1, last.day - 1))
    return dt.datetime(last.year, last.month, day, r.randint(7, 15), r.randint(0, 59), tzinfo=TIMEZONE)


def _write_month(folder: Path, month: _Month, k: int, seed: int) -> list[Path]:
    """Write a month's submissions (format in turn, ``k`` the month's index) and the folder's
    receipt manifest with each file's receipt time; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    for unit in month.units:
        for fmt in FORMATS:
            (folder / f"{unit.code}_{month.period}.{fmt}").unlink(missing_ok=True)
    files: list[Path] = []
    received: dict[str, dt.datetime] = {}
    for j, unit in enumerate(month.units):
        if unit.code in month.silent:
            continue
        fmt = FORMATS[(j + k) % len(FORMATS)]
        path = folder / f"{unit.code}_{month.period}.{fmt}"
        style = _rng(str(seed), "style", unit.code)
        dots, percent = style.random() < 0.7, style.random() < 0.6
        texts = [_texts(r, month.period, dots, percent) for r in month.rows[unit.code]]
        _write(path, texts, fmt)
        received[path.name] = month.late.get(unit.code) or _receipt(str(seed), unit.code, month.period)
        files.append(path)
    write_manifest(folder, received)
    return files


def synthesise(
    out: Path,
    *,
    province: str,
    period: str,
    months: int = 1,
    seed: int = 0,
    faults: Sequence[str] | str | None = None,
    registry: Registry | None = None,
    extracts: bool = False,
    bhxh_participants: int | None = None,
) -> SynthResult:
    """Write ``out/<YYYY-MM>/`` for each of ``months`` months ending at ``period``, and
    ``out/ground_truth.jsonl``; the same arguments write the same rows.

    ``extracts`` (implied by ``bhxh_participants`` or an extract fault kind) also writes each
    month's civil-registry and BHXH extracts; then the figures that report one extract measure
    are made equal within a unit, and ``bhxh_participants`` scales the BHXH department's figures
    so that the last month's extract has that many participants."""
    registry = registry or load_registry()
    if months < 1:
        raise ValueError("months must be at least 1")
    if province not in registry.units or registry.units[province].kind != "province":
        raise ValueError(f"unknown province {province!r}")
    if bhxh_participants is not None and bhxh_participants < 1:
        raise ValueError("bhxh_participants must be at least 1")
    kinds = parse_fault_kinds(faults, months)
    extracts = extracts or bhxh_participants is not None or any(k in EXTRACT_FAULT_KINDS for k in kinds)
    values = _Values(registry, seed)
    periods = [shift_period(period, k - months + 1) for k in range(months)]
    timeline: list[_Month] = []
    for p in periods:
        day = _last_day(p)
        scope = _provinces_of(registry, province, day)
        units = sorted((u for u in registry.reporting_units(day) if u.province_code in scope), key=lambda u: u.code)
        if not units:
            raise ValueError(f"{province} has no reporting units in {p}")
        timeline.append(_Month(p, units, _clean_month(registry, values, units, p)))
    plan = _plan_extracts(registry, province, timeline, values, seed, bhxh_participants) if extracts else None
    for i, month in enumerate(timeline):
        previous = {r.key: r for rows in timeline[i - 1].rows.values() for r in rows} if i else {}
        found = _findings(registry, (r for rows in month.rows.values() for r in rows), previous)
        if found:
            raise RuntimeError(f"synth bug: the clean month {month.period} breaks rules: {sorted(found)[:5]}")
    injector = _Injector(registry, timeline, seed)
    injector.extracts = plan
    for i in range(len(timeline)):
        for kind in kinds:
            injector.inject(i, kind)
    files: list[Path] = []
    extract_files: list[Path] = []
    extract_rows = {"civil_registry": 0, "bhxh": 0}
    for k, month in enumerate(timeline):
        files += _write_month(out / month.period, month, k, seed)
        if plan is not None:
            written, counts = plan.write(out / month.period, month.period)
            extract_files += written
            for kind, n in counts.items():
                extract_rows[kind] += n
    truth = out / GROUND_TRUTH
    with truth.open("w", encoding="utf-8") as f:
        for fault in injector.faults:
            f.write(json.dumps(fault.as_json(), ensure_ascii=False) + "\n")
    return SynthResult(
        tuple(periods),
        tuple(files),
        tuple(injector.faults),
        truth,
        tuple(extract_files),
        extract_rows if plan is not None else {},
    )


def _plan_extracts(
    registry: Registry,
    province: str,
    timeline: Sequence[_Month],
    values: _Values,
    seed: int,
    bhxh_participants: int | None,
) -> ExtractPlan:
    """The extracts' figures from the clean months, and the clean months made to agree with them:
    one value per extract measure within a unit, the BHXH figures scaled when asked."""
    for month in timeline:
        align_reported(registry, month.rows)
    plan = ExtractPlan.build(
        registry,
        province,
        [(m.period, m.units, m.rows) for m in timeline],
        seed=seed,
        weights=values.size,
        bhxh_participants=bhxh_participants,
    )
    if bhxh_participants is not None:
        measures = correspondences(registry, "bhxh")
        for month in timeline:
            for department, (participants, verified) in plan.bhxh[month.period].items():
                wanted = {"participants": participants, "verified": verified}
                for row in month.rows[department]:
                    for measure, figures in measures.items():
                        for code, figure in figures:
                            if row.indicator_code == code and row.service_code == NO_SERVICE:
                                if figure == "numerator":
                                    row.numerator = wanted[measure]
                                else:
                                    row.denominator = wanted[measure]
                    row.restate()
    return plan


def read_ground_truth(path: Path) -> Iterator[Fault]:
    """The faults a synthesised inbox holds, from its ``ground_truth.jsonl``."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                raw = json.loads(line)
                yield Fault(**raw)
