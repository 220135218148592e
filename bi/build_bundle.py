"""Write the Superset bundle (bi/bundle/: database, datasets, charts, dashboards as YAML).

Run in the project's environment (.venv), never Superset's: ``python -m bi.build_bundle``.  It
reads the mart column descriptions from dbt's manifest (``dbt parse``) and the funnel plot's
tolerance from the indicator registry, so both stay defined once; tests/bi/test_bundle.py fails
when the bundle in the repository differs from what this writes.  Identifiers are UUID5 of the
names, so the bundle is the same on every machine and its import is idempotent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml

from bi import charts as chart_specs
from bi.datasets import EXTRA_DESCRIPTIONS, LABELS, Dataset, all_datasets, z_of

BI = Path(__file__).resolve().parent
BUNDLE = BI / "bundle"
REGISTRY_FILE = BI.parent / "ingest" / "registry" / "indicators.yml"
NAMESPACE = uuid.UUID("6f0c3a52-06de-4a06-9d06-0000000000b1")
DATABASE_NAME = "Kho Đề án 06"
DATABASE_FILE = "databases/Kho_De_an_06.yaml"
# The address is replaced at import time (bi/superset_admin.py) from the environment.
DATABASE_URI = "postgresql+psycopg2://bi_reader:XXXXXXXXXX@warehouse-db:5432/d06"
VERSION = "1.0.0"


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def mart_descriptions(manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{mart model: {column: description}} from dbt's manifest."""
    out: dict[str, dict[str, str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and "/marts/" in "/" + node["original_file_path"]:
            out[node["name"]] = {c: v.get("description", "") for c, v in node["columns"].items()}
    return out


def rate_outlier_tolerance(registry_file: Path) -> tuple[float, float]:
    """(z, winsorising share) of the registry's default ``rate_outlier`` tolerance."""
    registry = yaml.safe_load(registry_file.read_text(encoding="utf-8"))
    found = _find_key(registry, "rate_outlier")
    if not isinstance(found, dict):
        raise ValueError(f"{registry_file}: no rate_outlier tolerance")
    return z_of(float(found["confidence_pct"])), float(found["winsorise_pct"]) / 100


def _find_key(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        if key in node:
            return node[key]
        for value in node.values():
            if (found := _find_key(value, key)) is not None:
                return found
    return None


def dataset_yaml(ds: Dataset, docs: dict[str, dict[str, str]]) -> dict[str, Any]:
    columns = []
    for name, kind, model in ds.columns:
        description = EXTRA_DESCRIPTIONS[name] if model is None else docs[model][name]
        if not description:
            raise ValueError(f"{model}.{name} has no description in dbt's manifest")
        columns.append(
            {
                "column_name": name,
                "verbose_name": LABELS.get(name),
                "is_dttm": kind == "DATE",
                "is_active": True,
                "type": kind,
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": description,
                "python_date_format": None,
                "extra": None,
            }
        )
    metrics = [
        {
            "metric_name": label,
            "verbose_name": label,
            "metric_type": None,
            "expression": expression,
            "description": f"{label} ({name})",
            "d3format": fmt,
            "currency": None,
            "extra": None,
            "warning_text": None,
        }
        for name, label, expression, fmt in ds.metrics
    ]
    return {
        "table_name": ds.name,
        "main_dttm_col": "thang" if any(c[0] == "thang" for c in ds.columns) else None,
        "description": ds.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": "marts",
        "sql": ds.sql,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "folders": None,
        "uuid": uid("dataset", ds.key),
        "metrics": metrics,
        "columns": columns,
        "version": VERSION,
        "database_uuid": uid("database"),
    }


def database_yaml() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": DATABASE_URI,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {"allows_virtual_table_explore": True},
        "impersonate_user": False,
        "uuid": uid("database"),
        "version": VERSION,
    }


def bundle_files(manifest: dict[str, Any], registry_file: Path) -> dict[str, Any]:
    """Every file of the bundle, by path, as a YAML-able value."""
    docs = mart_descriptions(manifest)
    z, winsorise = rate_outlier_tolerance(registry_file)
    datasets = {ds.key: ds for ds in all_datasets(z, winsorise)}
    files: dict[str, Any] = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
        DATABASE_FILE: database_yaml(),
    }
    for ds in datasets.values():
        files[f"datasets/Kho_De_an_06/{ds.key}.yaml"] = dataset_yaml(ds, docs)
    charts = chart_specs.all_charts()
    for chart in charts:
        files[f"charts/{chart.key}.yaml"] = chart_specs.chart_yaml(chart, datasets[chart.dataset], uid)
    for dashboard in chart_specs.all_dashboards():
        files[f"dashboards/{dashboard.slug}.yaml"] = chart_specs.dashboard_yaml(dashboard, charts, uid)
    return files


def dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=100)


def write_bundle(files: dict[str, Any], target: Path = BUNDLE) -> None:
    if target.exists():
        shutil.rmtree(target)
    for name, value in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(value), encoding="utf-8")


def load_manifest(path: Path | None) -> dict[str, Any]:
    """dbt's manifest at ``path``, else from a fresh ``dbt parse`` (in the dbt target folder)."""
    if path is None:
        from ingest.transform.dbt_runner import run_dbt, target_dir

        run_dbt(["parse", "--no-partial-parse"])
        path = target_dir() / "manifest.json"
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, help="dbt's manifest.json (default: run dbt parse)")
    parser.add_argument("--out", type=Path, default=BUNDLE)
    args = parser.parse_args(argv)
    write_bundle(bundle_files(load_manifest(args.manifest), REGISTRY_FILE), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
