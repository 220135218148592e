"""The registries that everything derives from are consistent."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from ingest.registry import NO_SERVICE, load_registry
from ingest.registry.catalog import load_plan_tasks

MERGER = dt.date(2025, 7, 1)


def test_every_indicator_is_complete_and_has_reporters() -> None:
    reg = load_registry()
    assert len(reg.indicators) >= 20
    for ind in reg.indicators.values():
        assert ind.name_vi and ind.numerator and ind.denominator and ind.count_unit and ind.keywords, ind.code
        assert ind.reporters, f"{ind.code} has no reporters"
        for services in ind.reporters.values():
            assert bool(ind.has_service) == (services != (NO_SERVICE,)), ind.code
    kinds = {i.denominator_kind for i in reg.indicators.values()}
    assert kinds == {"total", "target"}
    assert {s.code for s in reg.services.values()} == {f"DV{i:02d}" for i in range(1, 26)}


def test_units_have_unique_codes_emails_and_valid_parents() -> None:
    reg = load_registry()
    assert all(re.fullmatch(r"[A-Z0-9_.]+", code) for code in reg.units)
    emails = [u.contact_email for u in reg.units.values()]
    assert len(emails) == len(set(emails))
    for u in reg.units.values():
        assert u.valid_to is None or u.valid_from <= u.valid_to, u.code
        if u.parent_code:
            parent = reg.units[u.parent_code]
            assert parent.valid_from <= u.valid_from and (parent.valid_to or dt.date.max) >= (u.valid_to or dt.date.max)


def test_every_former_unit_passes_all_of_its_counts_to_current_units() -> None:
    reg = load_registry()
    shares: dict[str, Decimal] = defaultdict(Decimal)
    for s in reg.successions:
        assert reg.units[s.successor_code].valid_on(MERGER), f"{s.successor_code} is not a current unit"
        shares[s.predecessor_code] += s.share
    former = {u.code for u in reg.units.values() if u.valid_to == MERGER - dt.timedelta(days=1)}
    assert former == set(shares), "every former unit has successors, and only former units"
    assert all(total == 1 for total in shares.values()), {k: v for k, v in shares.items() if v != 1}
    assert {reg.units[s.successor_code].code for s in reg.successions if s.predecessor_code == "KG91"} == {"AG"}


def test_about_130_units_report_in_the_demo_province() -> None:
    reg = load_registry()
    reporting = reg.reporting_units(dt.date(2026, 3, 31), "AG")
    assert 100 <= len(reporting) <= 140


def test_plan_tasks_name_current_units() -> None:
    reg = load_registry()
    tasks = load_plan_tasks()
    assert len(tasks) >= 18 and len({t["task_id"] for t in tasks}) == len(tasks)
    for t in tasks:
        codes = [c for c in (t["lead_unit_code"] + ";" + t["coordinating_unit_codes"]).split(";") if c]
        assert all(reg.units[c].valid_to is None for c in codes), t["task_id"]
        assert t["status"] in {"done", "in_progress", "overdue", "not_started", "recurring"}
