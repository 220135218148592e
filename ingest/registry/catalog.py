"""Load and validate the registry files that ship with the package."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
import statistics
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml

NO_SERVICE = "NA"
"""Service code of rows that are not about one essential public service."""

DenominatorKind = Literal["total", "target"]
MeasureType = Literal["flow", "stock"]
Figure = Literal["numerator", "denominator"]
Overdispersion = Literal["additive", "multiplicative", "none"]


class RegistryError(ValueError):
    """A registry file is inconsistent (unknown reference, duplicate code, bad value)."""


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    domain: str
    domain_name_vi: str
    numerator: str
    denominator: str
    denominator_kind: DenominatorKind
    measure_type: MeasureType
    count_unit: str
    has_service: bool
    target_pct: Decimal | None
    target_date: dt.date | None
    reporters: Mapping[str, tuple[str, ...]]
    """Role -> services (``(NO_SERVICE,)`` for indicators without a service dimension)."""
    keywords: tuple[str, ...] = ()
    source: str | None = None
    extract: ExtractCorrespondence | None = None
    """The source extract measures this indicator's figures correspond to, if any."""

    def province_source_role(self, service: str) -> str | None:
        """The role whose rows make the province total for ``service``.

        Communes when they report it (a department's figure for the same service is usually the
        sum of the communes' and would count twice), otherwise the first listed reporter.
        """
        roles = [role for role, services in self.reporters.items() if service in services]
        if not roles:
            return None
        return "commune" if "commune" in roles else roles[0]

    def services_for(self, role: str) -> tuple[str, ...]:
        """Services a unit of ``role`` reports for this indicator; empty if it does not report it."""
        return self.reporters.get(role, ())


ExtractSource = Literal["civil_registry", "bhxh"]
EXTRACT_MEASURES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "civil_registry": ("records_total", "records_scanned", "records_entered", "records_synced"),
        "bhxh": ("participants", "verified", "mismatch", "not_found", "pending"),
    }
)
"""Each source extract's measures (formats.md §3, §4): the civil-registry counts summed over
record types, and BHXH participants by verification status (``participants``: all of them)."""


@dataclass(frozen=True)
class ExtractCorrespondence:
    """How an indicator's reported figures correspond to a source extract's measures, for the
    same unit and month (a commune: its own; a department: its province's communes).

    >>> load_registry().indicators["HT_SCANNED"].extract.numerator
    'records_scanned'
    """

    source: ExtractSource
    numerator: str
    denominator: str | None
    tolerance_pct: Decimal
    """A reported figure may differ from the extract's by this share of the extract's figure."""
    system_of_record: Literal["extract", "report"]
    """Which figure is taken as true when they differ beyond the tolerance."""


@dataclass(frozen=True)
class Service:
    code: str
    number: int
    name_vi: str


@dataclass(frozen=True)
class Unit:
    code: str
    name_vi: str
    kind: Literal["province", "department", "district", "commune"]
    parent_code: str | None
    province_code: str
    gso_code: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    contact_email: str

    @property
    def role(self) -> str:
        """The reporting role: a department's code (``STP``), or ``commune``/``district``/``province``."""
        if self.kind == "department":
            return self.code.rsplit(".", 1)[-1]
        return self.kind

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Succession:
    predecessor_code: str
    successor_code: str
    effective_date: dt.date
    share: Decimal


@dataclass(frozen=True)
class FunnelStep:
    """One figure of a funnel: an indicator's numerator or its denominator."""

    indicator_code: str
    figure: Figure = "numerator"

    def __str__(self) -> str:
        return self.indicator_code if self.figure == "numerator" else f"{self.indicator_code}.{self.figure}"


@dataclass(frozen=True)
class Funnel:
    """A chain of figures of one unit, month and service, each at most the one before it.

    >>> [str(s) for s in load_registry().funnels[0].steps]
    ['HT_SCANNED.denominator', 'HT_SCANNED', 'HT_ENTERED', 'HT_SYNCED']
    """

    code: str
    name_vi: str
    steps: tuple[FunnelStep, ...]

    def pairs(self) -> Iterator[tuple[FunnelStep, FunnelStep]]:
        """Adjacent (upper, lower) steps: ``lower`` must not exceed ``upper``."""
        return zip(self.steps, self.steps[1:], strict=False)

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.indicator_code for s in self.steps))


@dataclass(frozen=True)
class PartsRule:
    """Rows that are parts of a total row of the same unit, month and indicator.

    The total is the row with service ``total_service``; the parts are the indicator's other
    service rows.  ``figures`` of the parts must not add up to more than the total's.
    """

    code: str
    name_vi: str
    indicator_codes: tuple[str, ...]
    """Resolved: every indicator the rule covers."""
    total_service: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class CountJumpTolerance:
    factor: Decimal
    """Largest ratio, up or down, between a count and the same unit's previous month."""
    min_base: int
    """The previous month's count must be at least this for a jump to matter."""


@dataclass(frozen=True)
class RateOutlierTolerance:
    confidence_pct: Decimal
    """Two-sided funnel-plot limits: 99.8 is ±3.09 standard errors."""
    overdispersion: Overdispersion
    winsorise_pct: Decimal
    """Share of z-scores pulled in at each end before overdispersion is estimated."""

    @property
    def z(self) -> float:
        """The standard-normal quantile of the limits (3.090 for 99.8 %)."""
        return statistics.NormalDist().inv_cdf(1 - (1 - float(self.confidence_pct) / 100) / 2)


@dataclass(frozen=True)
class Tolerance:
    """The thresholds that apply to one indicator."""

    rate_mismatch_pp: Decimal
    count_jump: CountJumpTolerance
    rate_outlier: RateOutlierTolerance


@dataclass(frozen=True)
class Tolerances:
    default: Tolerance
    overrides: Mapping[str, Tolerance] = field(default_factory=lambda: MappingProxyType({}))
    """Indicator code -> its thresholds, fully resolved (default where not overridden)."""

    def for_indicator(self, code: str) -> Tolerance:
        return self.overrides.get(code, self.default)


DEFAULT_TOLERANCES = Tolerances(
    Tolerance(
        rate_mismatch_pp=Decimal("0.05"),
        count_jump=CountJumpTolerance(Decimal(5), 100),
        rate_outlier=RateOutlierTolerance(Decimal("99.8"), "additive", Decimal(10)),
    )
)
"""What applies when the registry declares no tolerances."""


Severity = Literal["error", "warning", "info"]
CheckScope = Literal["row", "submission"]


@dataclass(frozen=True)
class Check:
    """One check of the quality gate (``checks.yml``): its stable code and what it means.

    >>> load_registry().checks["numerator_exceeds_denominator"].holds
    True
    """

    code: str
    severity: Severity
    scope: CheckScope
    title_vi: str
    title_en: str
    fix_vi: str

    @property
    def holds(self) -> bool:
        """An open finding of this check holds its unit x period out of the official marts."""
        return self.severity == "error"


def load_checks() -> Mapping[str, Check]:
    """The check catalogue, in its declared order (the product's; a province registry keeps it)."""
    doc = yaml.safe_load((Path(__file__).with_name("checks.yml")).read_text(encoding="utf-8"))
    checks: dict[str, Check] = {}
    for raw in doc["checks"]:
        raw = _mapping(raw, "checks", {"code", "severity", "scope", "title_vi", "title_en", "fix_vi"}, ["code"])
        if raw["code"] in checks:
            raise RegistryError(f"check {raw['code']} is defined twice")
        if raw.get("severity") not in ("error", "warning", "info") or raw.get("scope") not in ("row", "submission"):
            raise RegistryError(f"check {raw['code']}: severity must be error|warning|info, scope row|submission")
        checks[raw["code"]] = Check(**raw)
    return MappingProxyType(checks)


@dataclass(frozen=True)
class Registry:
    indicators: Mapping[str, Indicator]
    services: Mapping[str, Service]
    units: Mapping[str, Unit]
    successions: tuple[Succession, ...] = field(default=())
    funnels: tuple[Funnel, ...] = ()
    parts: tuple[PartsRule, ...] = ()
    tolerances: Tolerances = DEFAULT_TOLERANCES
    checks: Mapping[str, Check] = field(default_factory=load_checks)

    def expected_rows(self, unit_code: str) -> Iterator[tuple[Indicator, str]]:
        """The (indicator, service) rows a unit is expected to report each month."""
        role = self.units[unit_code].role
        for indicator in self.indicators.values():
            for service in indicator.services_for(role):
                yield indicator, service

    def reporting_units(self, day: dt.date, province_code: str | None = None) -> list[Unit]:
        """Units valid on ``day`` that are expected to report at least one indicator."""
        return [
            u
            for u in self.units.values()
            if u.valid_on(day)
            and (province_code is None or u.province_code == province_code)
            and any(True for _ in self.expected_rows(u.code))
        ]


def _text(name: str) -> str:
    """A registry file: from ``$D06_REGISTRY_DIR`` when set (a province's own registry, or the
    benchmark's national one), else the packaged one."""
    folder = os.environ.get("D06_REGISTRY_DIR")
    if folder:
        return (Path(folder) / name).read_text(encoding="utf-8")
    return resources.files("ingest.registry").joinpath(name).read_text(encoding="utf-8")


def _csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_text(name).splitlines()))


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _indicator(raw: dict[str, Any], domains: Mapping[str, str], services: Mapping[str, Service]) -> Indicator:
    code = raw["code"]
    if raw["denominator_kind"] not in ("total", "target"):
        raise RegistryError(f"indicator {code}: denominator_kind must be total or target")
    if raw["measure_type"] not in ("flow", "stock"):
        raise RegistryError(f"indicator {code}: measure_type must be flow or stock")
    if raw["domain"] not in domains:
        raise RegistryError(f"indicator {code}: unknown domain {raw['domain']!r}")
    has_service = bool(raw["has_service"])
    reporters_raw = raw["reporters"]
    reporters: dict[str, tuple[str, ...]]
    if has_service:
        if not isinstance(reporters_raw, dict):
            raise RegistryError(f"indicator {code}: a service indicator maps each reporter to services")
        reporters = {role: tuple(svcs) for role, svcs in reporters_raw.items()}
        unknown = {s for svcs in reporters.values() for s in svcs} - set(services)
        if unknown:
            raise RegistryError(f"indicator {code}: unknown services {sorted(unknown)}")
    else:
        if not isinstance(reporters_raw, list):
            raise RegistryError(f"indicator {code}: reporters must be a list of roles")
        reporters = {role: (NO_SERVICE,) for role in reporters_raw}
    target = raw.get("target_pct")
    return Indicator(
        code=code,
        name_vi=raw["name_vi"],
        name_en=raw["name_en"],
        domain=raw["domain"],
        domain_name_vi=domains[raw["domain"]],
        numerator=raw["numerator"],
        denominator=raw["denominator"],
        denominator_kind=raw["denominator_kind"],
        measure_type=raw["measure_type"],
        count_unit=raw["count_unit"],
        has_service=has_service,
        target_pct=None if target is None else Decimal(str(target)),
        target_date=_date(raw.get("target_date")),
        reporters=reporters,
        keywords=tuple(raw.get("keywords") or ()),
        source=raw.get("source"),
        extract=_extract(raw.get("extract"), f"indicator {code}: extract"),
    )


def _extract(raw: Any, where: str) -> ExtractCorrespondence | None:
    """An indicator's ``extract:`` declaration (see :class:`ExtractCorrespondence`)."""
    if raw is None:
        return None
    raw = _mapping(raw, where, {"source", "numerator", "denominator", "tolerance_pct", "system_of_record"})
    source = raw.get("source")
    if source not in EXTRACT_MEASURES:
        raise RegistryError(f"{where}: source is one of {', '.join(EXTRACT_MEASURES)}")
    measures = EXTRACT_MEASURES[source]
    for figure in ("numerator", "denominator"):
        if raw.get(figure) is not None and raw[figure] not in measures:
            raise RegistryError(f"{where}: {figure} is one of {', '.join(measures)}")
    if raw.get("numerator") is None:
        raise RegistryError(f"{where}: numerator is required")
    if raw.get("system_of_record", "extract") not in ("extract", "report"):
        raise RegistryError(f"{where}: system_of_record is extract or report")
    tolerance = _decimal(raw.get("tolerance_pct", 0), f"{where}: tolerance_pct", Decimal(0), Decimal(100))
    return ExtractCorrespondence(
        source, raw["numerator"], raw.get("denominator"), tolerance, raw.get("system_of_record", "extract")
    )


_FIGURES: tuple[Figure, ...] = ("numerator", "denominator")


def _mapping(value: Any, where: str, allowed: set[str], required: Collection[str] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RegistryError(f"{where}: expected a mapping")
    unknown = set(value) - allowed
    if unknown:
        raise RegistryError(f"{where}: unknown keys {sorted(unknown)}")
    missing = set(required) - set(value)
    if missing:
        raise RegistryError(f"{where}: missing {sorted(missing)}")
    return value


def _decimal(value: Any, where: str, low: Decimal, high: Decimal | None = None, *, low_open: bool = False) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise RegistryError(f"{where}: not a number: {value!r}") from exc
    if isinstance(value, bool) or not number.is_finite():
        raise RegistryError(f"{where}: not a number: {value!r}")
    if number < low or (low_open and number == low) or (high is not None and number >= high):
        bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else '∞'})"
        raise RegistryError(f"{where}: {value} is outside {bounds}")
    return number


def _rule_code(raw: dict[str, Any], where: str, seen: set[str]) -> str:
    code = raw["code"]
    if not isinstance(code, str) or not code or code != code.lower() or not code.replace("_", "").isalnum():
        raise RegistryError(f"{where}: code must be lower_snake, got {code!r}")
    if code in seen:
        raise RegistryError(f"{where}: rule {code} is defined twice")
    seen.add(code)
    return code


def _funnel(raw: Any, indicators: Mapping[str, Indicator], seen: set[str]) -> Funnel:
    raw = _mapping(raw, "funnel", {"code", "name_vi", "steps"}, {"code", "name_vi", "steps"})
    code = _rule_code(raw, "funnel", seen)
    where = f"funnel {code}"
    if not isinstance(raw["steps"], list) or len(raw["steps"]) < 2:
        raise RegistryError(f"{where}: needs a list of at least two steps")
    steps: list[FunnelStep] = []
    for text in raw["steps"]:
        ind_code, _, figure = str(text).partition(".")
        if ind_code not in indicators:
            raise RegistryError(f"{where}: unknown indicator {ind_code!r}")
        if figure not in ("", *_FIGURES):
            raise RegistryError(f"{where}: step {text!r}: a step is CODE or CODE.denominator")
        steps.append(FunnelStep(ind_code, cast(Figure, figure or "numerator")))
    if len(set(steps)) != len(steps):
        raise RegistryError(f"{where}: a step appears twice")
    members = [indicators[c] for c in dict.fromkeys(s.indicator_code for s in steps)]
    if len({i.measure_type for i in members}) > 1:
        raise RegistryError(f"{where}: mixes stock and flow indicators")
    if len({i.has_service for i in members}) > 1:
        raise RegistryError(f"{where}: mixes indicators with and without services")
    if not set.intersection(*(set(i.reporters) for i in members)):
        raise RegistryError(f"{where}: no reporter role reports every step")
    return Funnel(code=code, name_vi=str(raw["name_vi"]), steps=tuple(steps))


def _parts(raw: Any, indicators: Mapping[str, Indicator], services: Mapping[str, Service], seen: set[str]) -> PartsRule:
    keys = {"code", "name_vi", "indicators", "total_service", "figures"}
    raw = _mapping(raw, "parts rule", keys, keys)
    code = _rule_code(raw, "parts rule", seen)
    where = f"parts rule {code}"
    selector = raw["indicators"]
    if selector == "has_service":
        codes = tuple(c for c, i in indicators.items() if i.has_service)
    elif isinstance(selector, list) and selector:
        codes = tuple(str(c) for c in selector)
        unknown = [c for c in codes if c not in indicators]
        if unknown:
            raise RegistryError(f"{where}: unknown indicators {unknown}")
        if len(set(codes)) != len(codes):
            raise RegistryError(f"{where}: an indicator is listed twice")
    else:
        raise RegistryError(f"{where}: indicators is `has_service` or a list of indicator codes")
    if not codes:
        raise RegistryError(f"{where}: covers no indicator")
    without = [c for c in codes if not indicators[c].has_service]
    if without:
        raise RegistryError(f"{where}: the parts are service rows, but {without} have no services")
    total = str(raw["total_service"])
    if total != NO_SERVICE and total not in services:
        raise RegistryError(f"{where}: unknown total_service {total!r}")
    figures = raw["figures"]
    if not isinstance(figures, list) or not figures or any(f not in _FIGURES for f in figures):
        raise RegistryError(f"{where}: figures is a list of numerator, denominator")
    return PartsRule(
        code=code,
        name_vi=str(raw["name_vi"]),
        indicator_codes=codes,
        total_service=total,
        figures=tuple(cast(Figure, f) for f in dict.fromkeys(figures)),
    )


def _tolerance(raw: Any, base: Tolerance, where: str) -> Tolerance:
    raw = _mapping(raw, where, {"rate_mismatch_pp", "count_jump", "rate_outlier"})
    rate_mismatch = base.rate_mismatch_pp
    if "rate_mismatch_pp" in raw:
        rate_mismatch = _decimal(raw["rate_mismatch_pp"], f"{where}: rate_mismatch_pp", Decimal(0), Decimal(100))
    jump = base.count_jump
    if "count_jump" in raw:
        cj = _mapping(raw["count_jump"], f"{where}: count_jump", {"factor", "min_base"})
        factor = jump.factor
        if "factor" in cj:
            factor = _decimal(cj["factor"], f"{where}: count_jump.factor", Decimal(1), low_open=True)
        min_base = jump.min_base
        if "min_base" in cj:
            if not isinstance(cj["min_base"], int) or isinstance(cj["min_base"], bool) or cj["min_base"] < 0:
                raise RegistryError(f"{where}: count_jump.min_base must be a whole number >= 0")
            min_base = cj["min_base"]
        jump = CountJumpTolerance(factor, min_base)
    outlier = base.rate_outlier
    if "rate_outlier" in raw:
        ro_keys = {"confidence_pct", "overdispersion", "winsorise_pct"}
        ro = _mapping(raw["rate_outlier"], f"{where}: rate_outlier", ro_keys)
        confidence = outlier.confidence_pct
        if "confidence_pct" in ro:
            confidence = _decimal(
                ro["confidence_pct"], f"{where}: rate_outlier.confidence_pct", Decimal(50), Decimal(100), low_open=True
            )
        method = ro.get("overdispersion", outlier.overdispersion)
        if method not in ("additive", "multiplicative", "none"):
            raise RegistryError(f"{where}: rate_outlier.overdispersion is additive, multiplicative or none")
        winsorise = outlier.winsorise_pct
        if "winsorise_pct" in ro:
            winsorise = _decimal(ro["winsorise_pct"], f"{where}: rate_outlier.winsorise_pct", Decimal(0), Decimal(50))
        outlier = RateOutlierTolerance(confidence, method, winsorise)
    return Tolerance(rate_mismatch, jump, outlier)


def _tolerances(raw: Any, indicators: Mapping[str, Indicator]) -> Tolerances:
    if raw is None:
        return DEFAULT_TOLERANCES
    raw = dict(_mapping(raw, "tolerances", {"rate_mismatch_pp", "count_jump", "rate_outlier", "overrides"}))
    overrides_raw = raw.pop("overrides", None) or {}
    default = _tolerance(raw, DEFAULT_TOLERANCES.default, "tolerances")
    if not isinstance(overrides_raw, dict):
        raise RegistryError("tolerances: overrides maps indicator codes to tolerances")
    overrides: dict[str, Tolerance] = {}
    for code, override in overrides_raw.items():
        if code not in indicators:
            raise RegistryError(f"tolerances: override for unknown indicator {code!r}")
        overrides[code] = _tolerance(override, default, f"tolerances for {code}")
    return Tolerances(default, MappingProxyType(overrides))


def _rules(
    raw: Any, indicators: Mapping[str, Indicator], services: Mapping[str, Service]
) -> tuple[tuple[Funnel, ...], tuple[PartsRule, ...], Tolerances]:
    """The ``rules:`` section: funnels, parts of totals and tolerances, cross-checked."""
    if raw is None:
        return (), (), DEFAULT_TOLERANCES
    raw = _mapping(raw, "rules", {"funnels", "parts", "tolerances"})
    seen: set[str] = set()
    funnels = tuple(_funnel(f, indicators, seen) for f in raw.get("funnels") or ())
    parts = tuple(_parts(p, indicators, services, seen) for p in raw.get("parts") or ())
    return funnels, parts, _tolerances(raw.get("tolerances"), indicators)


@functools.cache
def load_registry() -> Registry:
    """Read and cross-check every registry file; raise :class:`RegistryError` on any defect."""
    services = {
        r["service_code"]: Service(r["service_code"], int(r["service_no"]), r["service_name"])
        for r in _csv("services.csv")
    }
    doc = yaml.safe_load(_text("indicators.yml"))
    indicators: dict[str, Indicator] = {}
    for raw in doc["indicators"]:
        ind = _indicator(raw, doc["domains"], services)
        if ind.code in indicators:
            raise RegistryError(f"indicator {ind.code} is defined twice")
        indicators[ind.code] = ind
    funnels, parts, tolerances = _rules(doc.get("rules"), indicators, services)
    units: dict[str, Unit] = {}
    for r in _csv("units.csv"):
        if r["unit_code"] in units:
            raise RegistryError(f"unit {r['unit_code']} is defined twice")
        valid_from = _date(r["valid_from"])
        if valid_from is None:
            raise RegistryError(f"unit {r['unit_code']}: valid_from is required")
        units[r["unit_code"]] = Unit(
            code=r["unit_code"],
            name_vi=r["unit_name"],
            kind=r["unit_kind"],  # type: ignore[arg-type]
            parent_code=r["parent_code"] or None,
            province_code=r["province_code"],
            gso_code=r["gso_code"] or None,
            valid_from=valid_from,
            valid_to=_date(r["valid_to"]),
            contact_email=r["contact_email"],
        )
    for u in units.values():
        if u.parent_code and u.parent_code not in units:
            raise RegistryError(f"unit {u.code}: unknown parent {u.parent_code}")
    successions = tuple(
        Succession(
            r["predecessor_code"],
            r["successor_code"],
            dt.date.fromisoformat(r["effective_date"]),
            Decimal(r["share"]),
        )
        for r in _csv("unit_succession.csv")
    )
    for s in successions:
        if s.predecessor_code not in units or s.successor_code not in units:
            raise RegistryError(f"succession {s.predecessor_code}->{s.successor_code}: unknown unit")
    return Registry(
        indicators=indicators,
        services=services,
        units=units,
        successions=successions,
        funnels=funnels,
        parts=parts,
        tolerances=tolerances,
    )


def load_plan_tasks() -> list[dict[str, str]]:
    """The province plan's tasks (ingest/registry/plan_tasks.csv), as text fields."""
    try:
        return _csv("plan_tasks.csv")
    except FileNotFoundError:
        return []
