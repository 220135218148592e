"""The `rules:` section of the indicator registry: funnels, parts of totals and tolerances."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import yaml

from ingest.registry import RegistryError, load_registry
from ingest.registry.catalog import (
    DEFAULT_TOLERANCES,
    CountJumpTolerance,
    FunnelStep,
    RateOutlierTolerance,
    Registry,
    Tolerance,
)


def test_the_three_funnels_are_declared_in_order() -> None:
    reg = load_registry()
    chains = {f.code: [str(s) for s in f.steps] for f in reg.funnels}
    assert chains == {
        "civil_registry_digitisation": ["HT_SCANNED.denominator", "HT_SCANNED", "HT_ENTERED", "HT_SYNCED"],
        "eid_accounts": ["VNEID_REGISTERED", "VNEID_ACTIVATED"],
        "citizen_id_cards": ["CCCD_CARDS_RECEIVED", "CCCD_CARDS_DELIVERED"],
    }
    civil = reg.funnels[0]
    assert civil.steps[0] == FunnelStep("HT_SCANNED", "denominator")
    assert civil.indicator_codes == ("HT_SCANNED", "HT_ENTERED", "HT_SYNCED")
    assert [(str(a), str(b)) for a, b in civil.pairs()] == [
        ("HT_SCANNED.denominator", "HT_SCANNED"),
        ("HT_SCANNED", "HT_ENTERED"),
        ("HT_ENTERED", "HT_SYNCED"),
    ]
    assert all(f.name_vi for f in reg.funnels)


def test_service_rows_are_parts_of_the_all_services_row() -> None:
    (rule,) = load_registry().parts
    assert rule.code == "services_within_all_services"
    # `indicators: has_service` resolves to every service indicator, here the two DVC ones.
    assert rule.indicator_codes == ("DVC_ONLINE_RECEIVED", "DVC_ONLINE_RESOLVED")
    assert rule.total_service == "NA"
    assert rule.figures == ("numerator", "denominator")


def test_tolerances_and_an_override() -> None:
    tol = load_registry().tolerances
    default = Tolerance(
        rate_mismatch_pp=Decimal("0.05"),
        count_jump=CountJumpTolerance(Decimal(5), 100),
        rate_outlier=RateOutlierTolerance(Decimal("99.8"), "additive", Decimal(10)),
    )
    assert tol.default == default
    assert tol.for_indicator("HT_SCANNED") == default
    applications = tol.for_indicator("CCCD_APPLICATIONS")
    assert applications.count_jump == CountJumpTolerance(Decimal(10), 100)  # factor overridden, base kept
    assert applications.rate_mismatch_pp == Decimal("0.05")
    assert round(tol.default.rate_outlier.z, 3) == 3.090  # 99.8 % two-sided


def test_rules_are_frozen() -> None:
    reg = load_registry()
    with pytest.raises(AttributeError):
        reg.funnels[0].code = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        reg.tolerances.overrides["X"] = reg.tolerances.default  # type: ignore[index]


# --- loading a registry with other rules ---------------------------------------------------------


@pytest.fixture
def registry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the packaged registry in D06_REGISTRY_DIR, to edit."""
    packaged = resources.files("ingest.registry")
    for name in ("indicators.yml", "services.csv", "units.csv", "unit_succession.csv", "plan_tasks.csv"):
        with resources.as_file(packaged.joinpath(name)) as src:
            shutil.copy(src, tmp_path / name)
    monkeypatch.setenv("D06_REGISTRY_DIR", str(tmp_path))
    load_registry.cache_clear()
    yield tmp_path
    load_registry.cache_clear()


def _load_with_rules(folder: Path, rules: object) -> Registry:
    path = folder / "indicators.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if rules is None:
        doc.pop("rules")
    else:
        doc["rules"] = rules
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    load_registry.cache_clear()
    return load_registry()


def test_a_registry_without_rules_gets_no_funnels_and_the_default_tolerances(registry_dir: Path) -> None:
    reg = _load_with_rules(registry_dir, None)
    assert reg.funnels == () and reg.parts == ()
    assert reg.tolerances == DEFAULT_TOLERANCES


def test_parts_may_list_indicators(registry_dir: Path) -> None:
    parts = [
        {
            "code": "received_only",
            "name_vi": "x",
            "indicators": ["DVC_ONLINE_RECEIVED"],
            "total_service": "NA",
            "figures": ["numerator"],
        }
    ]
    reg = _load_with_rules(registry_dir, {"parts": parts})
    assert reg.parts[0].indicator_codes == ("DVC_ONLINE_RECEIVED",)
    assert reg.parts[0].figures == ("numerator",)


def _funnel(*steps: str) -> dict[str, object]:
    return {"funnels": [{"code": "f", "name_vi": "x", "steps": list(steps)}]}


def _parts(**changes: object) -> dict[str, object]:
    rule = {"code": "p", "name_vi": "x", "indicators": "has_service", "total_service": "NA", "figures": ["numerator"]}
    return {"parts": [{**rule, **changes}]}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (_funnel("HT_SCANNED", "HT_TYPO"), "unknown indicator 'HT_TYPO'"),
        (_funnel("HT_SCANNED.total", "HT_ENTERED"), "a step is CODE or CODE.denominator"),
        (_funnel("HT_SCANNED"), "at least two steps"),
        (_funnel("HT_SCANNED", "HT_SCANNED"), "a step appears twice"),
        (_funnel("HT_SCANNED", "CCCD_CARDS_RECEIVED"), "mixes stock and flow"),
        (_funnel("CCCD_CARDS_RECEIVED", "DVC_ONLINE_RECEIVED"), "mixes indicators with and without services"),
        (_funnel("HN_CLEANED", "BHXH_VERIFIED"), "no reporter role reports every step"),
        ({"funnels": [{"code": "f", "name_vi": "x"}]}, "missing ['steps']"),
        ({"funnels": [{"code": "Bad-Code", "name_vi": "x", "steps": ["HT_SCANNED", "HT_ENTERED"]}]}, "lower_snake"),
        ({"funnel": []}, "unknown keys ['funnel']"),
        (_parts(indicators=["DVC_ONLINE_RECEIVED", "NOPE"]), "unknown indicators ['NOPE']"),
        (_parts(indicators=["HT_SCANNED"]), "have no services"),
        (_parts(indicators="all"), "`has_service` or a list"),
        (_parts(total_service="DV99"), "unknown total_service 'DV99'"),
        (_parts(figures=["rate"]), "figures is a list of numerator, denominator"),
        ({**_funnel("HT_SCANNED", "HT_ENTERED"), **_parts(code="f")}, "rule f is defined twice"),
        ({"tolerances": {"overrides": {"NOPE": {"count_jump": {"factor": 3}}}}}, "unknown indicator 'NOPE'"),
        ({"tolerances": {"count_jump": {"factor": 1}}}, "count_jump.factor"),
        ({"tolerances": {"count_jump": {"min_base": -1}}}, "min_base"),
        ({"tolerances": {"count_jump": {"ratio": 3}}}, "unknown keys ['ratio']"),
        ({"tolerances": {"rate_mismatch_pp": "abc"}}, "not a number"),
        ({"tolerances": {"rate_outlier": {"confidence_pct": 100}}}, "confidence_pct"),
        ({"tolerances": {"rate_outlier": {"overdispersion": "magic"}}}, "additive, multiplicative or none"),
    ],
)
def test_inconsistent_rules_are_registry_errors(registry_dir: Path, rules: object, message: str) -> None:
    with pytest.raises(RegistryError, match=re.escape(message)):
        _load_with_rules(registry_dir, rules)
