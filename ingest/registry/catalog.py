"""Load and validate the registry files that ship with the package."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

NO_SERVICE = "NA"
"""Service code of rows that are not about one essential public service."""

DenominatorKind = Literal["total", "target"]
MeasureType = Literal["flow", "stock"]


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
class Registry:
    indicators: Mapping[str, Indicator]
    services: Mapping[str, Service]
    units: Mapping[str, Unit]
    successions: tuple[Succession, ...] = field(default=())

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
    )


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
    return Registry(indicators=indicators, services=services, units=units, successions=successions)


def load_plan_tasks() -> list[dict[str, str]]:
    """The province plan's tasks (ingest/registry/plan_tasks.csv), as text fields."""
    try:
        return _csv("plan_tasks.csv")
    except FileNotFoundError:
        return []
