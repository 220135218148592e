"""Every column an official sees is described, in Vietnamese and English (issue 14).

dbt's manifest (``dbt parse``, no database) holds the descriptions of the mart columns; the
contracts make the YAML columns the tables' columns.  The same descriptions are persisted to
PostgreSQL comments (``+persist_docs``; checked after a build in tests/bi/test_superset.py) and
carried into the Superset datasets by bi/build_bundle.py, whose output must be the bundle kept
in the repository.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.transform.dbt_runner import run_dbt

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # bi/ is tooling beside the package, not installed
from bi import build_bundle  # noqa: E402

VIETNAMESE = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.IGNORECASE)
REGISTRY_SOURCES = {"indicator", "indicator_reporter", "service", "unit", "unit_succession"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    target = tmp_path_factory.mktemp("dbt-target")
    env = {"DBT_LOG_PATH": os.environ.get("DBT_LOG_PATH") or str(target / "logs")}
    dsn = os.environ.get("WAREHOUSE_DSN") or "postgresql://parse@127.0.0.1:1/none"  # parse needs no server
    run_dbt(["parse", "--no-partial-parse", "--target-path", str(target)], dsn=dsn, env=env)
    data: dict[str, Any] = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    return data


def undescribed(manifest: dict[str, Any]) -> list[str]:
    """``model.column`` of every mart column whose description is missing or not in both languages."""
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node["original_file_path"].startswith("models/marts/"):
            continue
        for column, spec in node["columns"].items():
            text = (spec.get("description") or "").strip()
            vietnamese, _, english = text.partition(" — EN: ")
            if not (VIETNAMESE.search(vietnamese) and len(english) > 3):
                missing.append(f"{node['name']}.{column}")
    return sorted(missing)


def _marts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")
    ]


def test_every_mart_column_is_described_in_vietnamese_and_english(manifest: dict[str, Any]) -> None:
    marts = _marts(manifest)
    assert len(marts) >= 17 and sum(len(m["columns"]) for m in marts) >= 200
    assert undescribed(manifest) == []


def test_the_check_fails_on_a_column_without_description(manifest: dict[str, Any]) -> None:
    doctored = copy.deepcopy(manifest)
    scorecard = doctored["nodes"]["model.d06.mart_province_scorecard_monthly"]
    scorecard["columns"]["rate_pct"]["description"] = ""
    scorecard["columns"]["change_pp"]["description"] = "Change from the previous month (English only)."
    assert undescribed(doctored) == [
        "mart_province_scorecard_monthly.change_pp",
        "mart_province_scorecard_monthly.rate_pct",
    ]


def test_descriptions_are_persisted_to_the_database(manifest: dict[str, Any]) -> None:
    config = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    assert config["models"]["d06"]["+persist_docs"] == {"relation": True, "columns": True}
    for node in _marts(manifest):
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, node["name"]


def test_registry_sources_are_described(manifest: dict[str, Any]) -> None:
    registry = {s["name"]: s["description"] for s in manifest["sources"].values() if s["source_name"] == "registry"}
    assert set(registry) >= REGISTRY_SOURCES
    assert [name for name, text in sorted(registry.items()) if not text.strip()] == []


def test_the_bundle_in_the_repository_is_what_build_bundle_writes(manifest: dict[str, Any]) -> None:
    files = build_bundle.bundle_files(manifest, build_bundle.REGISTRY_FILE)
    kept = {p.relative_to(build_bundle.BUNDLE).as_posix() for p in build_bundle.BUNDLE.rglob("*.yaml")}
    assert kept == set(files), "run: .venv/bin/python -m bi.build_bundle"
    stale = [
        n for n, v in files.items() if (build_bundle.BUNDLE / n).read_text(encoding="utf-8") != build_bundle.dump(v)
    ]
    assert stale == [], "the bundle is stale; run: .venv/bin/python -m bi.build_bundle"


def test_every_dataset_column_is_described_and_reads_only_the_marts() -> None:
    datasets = sorted((build_bundle.BUNDLE / "datasets").rglob("*.yaml"))
    assert len(datasets) == 7
    for path in datasets:
        ds = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert ds["schema"] == "marts"
        tables = re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_.]*)", ds["sql"], re.IGNORECASE)
        ctes = set(re.findall(r"\b([a-z_]+) as materialized \(", ds["sql"]))
        outside = [t for t in tables if t not in ctes and not t.startswith("marts.")]
        assert tables and outside == [], f"{path.name} reads {outside}"
        blank = [c["column_name"] for c in ds["columns"] if " — EN: " not in (c["description"] or "")]
        assert blank == [], f"{path.name}: columns without a description: {blank}"
        assert all(c["verbose_name"] for c in ds["columns"]), path.name


def _bundle_yaml(kind: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((build_bundle.BUNDLE / kind).rglob("*.yaml"))]


def test_a_line_split_by_a_group_has_one_metric_so_series_are_named_by_the_group() -> None:
    """With one metric Superset names a series "AG", with two "Tỷ lệ báo cáo (%), AG"."""
    lines = [c for c in _bundle_yaml("charts") if c["viz_type"] == "echarts_timeseries_line"]
    split = [c for c in lines if c["params"]["groupby"]]
    assert len(split) >= 2
    assert [c["slice_name"] for c in split if len(c["params"]["metrics"]) != 1] == []


def test_table_dates_show_as_dates() -> None:
    """A raw table shows a DATE as "2025-12-31 00:00:00" unless told a time format."""
    datasets = {d["uuid"]: d for d in _bundle_yaml("datasets")}
    shown = 0
    for chart in _bundle_yaml("charts"):
        if chart["viz_type"] != "table":
            continue
        dates = {c["column_name"] for c in datasets[chart["dataset_uuid"]]["columns"] if c["is_dttm"]}
        for column in set(chart["params"]["all_columns"]) & dates:
            assert chart["params"]["column_config"][column] == {"d3TimeFormat": "%d/%m/%Y"}, column
            shown += 1
    assert shown >= 2  # target_date, deadline


def test_the_funnel_plot_applies_its_first_month_and_indicator_on_load() -> None:
    """``defaultToFirstItem`` alone only selects: the charts mix every indicator until "Apply"."""
    (funnel,) = [d for d in _bundle_yaml("dashboards") if d["slug"] == "bieu-do-pheu"]
    filters = funnel["metadata"]["native_filter_configuration"]
    assert {f["targets"][0]["column"]["name"] for f in filters} == {"period", "indicator_name_vi"}
    for f in filters:
        assert f["requiredFirst"] is True, f["name"]
        assert f["controlValues"]["defaultToFirstItem"] and f["controlValues"]["enableEmptyFilter"], f["name"]
        assert not f["controlValues"]["multiSelect"], f["name"]
    by_column = {f["targets"][0]["column"]["name"]: f for f in filters}
    assert by_column["period"]["controlValues"]["sortAscending"] is False  # the first month is the latest
    assert by_column["period"]["sortMetric"] is None
    # The first indicator is the one with the most units (a funnel of one unit says nothing).
    indicator = by_column["indicator_name_vi"]
    (dataset,) = [d for d in _bundle_yaml("datasets") if d["uuid"] == indicator["targets"][0]["datasetUuid"]]
    metrics = {m["metric_name"]: m["expression"] for m in dataset["metrics"]}
    assert metrics[indicator["sortMetric"]] == "count(distinct unit_code)"
    assert indicator["controlValues"]["sortAscending"] is False
