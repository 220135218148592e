"""Great Expectations 1.x suites, built in code from the indicator registry, run by a checkpoint.

The gate checks what dbt's key tests and PostgreSQL's constraints do not: that a numerator never
exceeds its denominator for ``total`` indicators, that stated rates match the figures, that codes
belong to the registry, and that enough units reported on time.  Results are stored by GX
(validation results and Data Docs under ``<data dir>/gx``), rendered as our own offline Vietnamese
page per run (``ingest.quality.data_docs``, the page the report links) and summarised in
``audit.check_result`` for the report.  Result formats name units and indicators only: the marts
hold no personal data.

>>> outcome = run_quality_gate("2026-03", run_id="manual")
>>> outcome.failed
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.data_context.types.base import ProgressBarsConfig

from ingest.config import data_dir, warehouse_dsn
from ingest.quality.data_docs import checks_from_validation_results, write_run_page
from ingest.registry import NO_SERVICE, Registry, load_registry
from ingest.warehouse.db import connect

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
MARTS = "marts"
ROW_KEYS = ["unit_code", "indicator_code", "service_code"]
ON_TIME_SHARE = 0.9
FAILING_ROWS_LISTED = 500
"""Failing rows GX returns per expectation (its SQL default is 20); the counts are always complete."""
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    description_vi: str
    success: bool
    severity: str
    evaluated: int | None
    unexpected: int | None
    failing_rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class QualityOutcome:
    run_id: str
    period: str
    results: list[CheckResult]
    data_docs_path: str | None
    """Our offline page of this run's results (``ingest.quality.data_docs``), the one the report links."""

    @property
    def passed(self) -> int:
        return sum(r.success for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.success for r in self.results)

    @property
    def blocking(self) -> list[CheckResult]:
        """Failed error-level expectations: the marts about to be published must not go out."""
        return [r for r in self.results if not r.success and r.severity == "error"]


def _meta(name: str, description_vi: str, severity: str = "error") -> dict[str, str]:
    """``severity`` error: a failure stops publication (the marts about to be published break a
    rule the gate enforces); warning: reported only."""
    return {"check_name": name, "description_vi": description_vi, "severity": severity}


def _asset_queries(period: str, registry: Registry, schema: str = MARTS) -> dict[str, str]:
    """One query per batch the suites validate, on the marts in ``schema`` (those about to be
    published); indicator sets come from the registry.  Rows a person accepted as true are
    published despite an error, so the numerator check leaves them out."""
    total_kind = ", ".join(f"'{i.code}'" for i in registry.indicators.values() if i.denominator_kind == "total")
    fct = f"{schema}.fct_indicator_monthly"
    accepted = (
        "not exists (select 1 from audit.violation v where v.check_code = 'numerator_exceeds_denominator'"
        " and v.status = 'accepted' and v.unit_code = f.unit_code and v.indicator_code = f.indicator_code"
        " and v.service_code = f.service_code and v.period = f.period)"
    )
    return {
        "indicator_values": f"select * from {fct} where period = '{period}'",
        "total_kind_values": (
            f"select * from {fct} f where period = '{period}' and indicator_code in ({total_kind}) and {accepted}"
        ),
        "stated_rates": (
            f"select *, abs(reported_rate_pct - computed_rate_pct) as rate_gap_pp from {fct} "
            f"where period = '{period}' and reported_rate_pct is not null and computed_rate_pct is not null"
        ),
        # The row keys of the checkpoint's result format: a submission has no indicator or service.
        "submissions": (
            f"select unit_code, null::text as indicator_code, null::text as service_code, timeliness "
            f"from {schema}.fct_submission where period = '{period}'"
        ),
    }


SUITE_LABELS_VI = {
    "d06__indicator_values": "Số liệu chỉ tiêu của kỳ",
    "d06__total_kind_values": "Chỉ tiêu có mẫu số là tổng số",
    "d06__stated_rates": "Tỷ lệ do đơn vị ghi",
    "d06__submissions": "Báo cáo của các đơn vị",
}
"""The Vietnamese name of each suite (one per asset of ``_asset_queries``) on our Data Docs page."""


def build_suites(context: Any, registry: Registry) -> dict[str, gx.ExpectationSuite]:
    """The expectation suites, one per asset, derived from ``registry``."""
    indicator_codes = sorted(registry.indicators)
    service_codes = sorted([*registry.services, NO_SERVICE])
    rate_tolerance = registry.tolerances.default.rate_mismatch_pp  # the registry's one rule
    rate_tolerance_vi = f"{rate_tolerance:f}".rstrip("0").rstrip(".").replace(".", ",")
    specs: dict[str, list[Any]] = {
        "indicator_values": [
            gxe.ExpectTableRowCountToBeBetween(
                min_value=1, meta=_meta("period_has_data", "Kỳ báo cáo có số liệu được công bố", "warning")
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="indicator_code",
                value_set=indicator_codes,
                meta=_meta("indicator_in_registry", "Mã chỉ tiêu thuộc danh mục chỉ tiêu"),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="service_code",
                value_set=service_codes,
                meta=_meta("service_in_registry", "Mã dịch vụ thuộc danh mục 25 dịch vụ công thiết yếu"),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="numerator",
                min_value=0,
                meta=_meta("numerator_non_negative", "Tử số là số không âm"),
            ),
        ],
        "total_kind_values": [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="denominator",
                column_B="numerator",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta(
                    "numerator_not_above_denominator",
                    "Tử số không vượt quá mẫu số (chỉ tiêu có mẫu số là tổng số)",
                ),
            ),
        ],
        "stated_rates": [
            gxe.ExpectColumnValuesToBeBetween(
                column="rate_gap_pp",
                max_value=float(rate_tolerance),
                meta=_meta(
                    "stated_rate_matches_figures",
                    f"Tỷ lệ đơn vị ghi khớp với tử số ÷ mẫu số (sai lệch tối đa {rate_tolerance_vi} điểm %)",
                    "warning",
                ),
            ),
        ],
        "submissions": [
            gxe.ExpectColumnValuesToBeInSet(
                column="timeliness",
                value_set=["on_time"],
                mostly=ON_TIME_SHARE,
                meta=_meta(
                    "units_report_on_time",
                    f"Ít nhất {int(ON_TIME_SHARE * 100)}% đơn vị nộp báo cáo đúng hạn",
                    "warning",
                ),
            ),
        ],
    }
    suites = {}
    for asset, expectations in specs.items():
        suite = gx.ExpectationSuite(name=f"d06__{asset}")
        for expectation in expectations:
            suite.add_expectation(expectation)
        suites[asset] = context.suites.add_or_update(suite)
    return suites


def _context() -> Any:
    root = data_dir() / "gx"
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    if context.variables.progress_bars is None:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    return context


def _failing_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = result.get("unexpected_index_list") or []
    return [{k: r.get(k) for k in ROW_KEYS if k in r} for r in rows if isinstance(r, dict)]


def _iter_results(checkpoint_result: Any) -> Iterator[CheckResult]:
    for run in checkpoint_result.run_results.values():
        for r in run.results:
            meta = r.expectation_config.meta or {}
            res = r.result or {}
            yield CheckResult(
                check_name=meta.get("check_name", r.expectation_config.type),
                description_vi=meta.get("description_vi", r.expectation_config.type),
                success=bool(r.success),
                severity=meta.get("severity", "error"),
                evaluated=res.get("element_count", res.get("observed_value")),
                unexpected=res.get("unexpected_count"),
                failing_rows=_failing_rows(res),
            )


def run_quality_gate(
    period: str, *, run_id: str, registry: Registry | None = None, schema: str = MARTS
) -> QualityOutcome:
    """Validate the period's marts in ``schema`` with a GX checkpoint; store and return the results."""
    if not _PERIOD.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    registry = registry or load_registry()
    # The datasource config keeps a ${...} reference; the secret stays in the environment.
    os.environ.setdefault("WAREHOUSE_DSN", warehouse_dsn())
    context = _context()
    datasource = context.data_sources.add_or_update_postgres(name=DATASOURCE, connection_string="${WAREHOUSE_DSN}")
    suites = build_suites(context, registry)
    validations = []
    for asset_name, query in _asset_queries(period, registry, schema).items():
        if asset_name in [a.name for a in datasource.assets]:
            datasource.delete_asset(asset_name)
        asset = datasource.add_query_asset(name=asset_name, query=query)
        batch = asset.add_batch_definition_whole_table(f"{asset_name}__batch")
        validations.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"d06__{asset_name}", data=batch, suite=suites[asset_name])
            )
        )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="d06_monthly_quality_gate",
            validation_definitions=validations,
            actions=[UpdateDataDocsAction(name="update_data_docs")],
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ROW_KEYS,
                "partial_unexpected_count": FAILING_ROWS_LISTED,
                "include_unexpected_rows": False,
                "return_unexpected_index_query": False,
            },
        )
    )
    checkpoint_result = checkpoint.run(run_id=None)
    results = list(_iter_results(checkpoint_result))
    page = write_run_page(
        period,
        run_id,
        checks_from_validation_results(
            [r.to_json_dict() for r in checkpoint_result.run_results.values()],
            registry=registry,
            suite_labels=SUITE_LABELS_VI,
        ),
        validated_at=dt.datetime.now(dt.UTC),
        gx_docs_index=_gx_docs_index(context),
    )
    outcome = QualityOutcome(run_id, period, results, str(page))
    store_results(outcome)
    log.info("quality gate for %s: %d passed, %d failed", period, outcome.passed, outcome.failed)
    return outcome


def _gx_docs_index(context: Any) -> Path | None:
    """GX's own Data Docs index on disk (it needs the Internet to render), if a local site was built."""
    for site in context.get_docs_sites_urls():
        url = urllib.parse.urlparse(site.get("site_url") or "")
        if url.scheme == "file":
            return Path(urllib.request.url2pathname(url.path))
    return None


def store_results(outcome: QualityOutcome) -> None:
    with connect() as conn:
        conn.execute("delete from audit.check_result where run_id = %s", (outcome.run_id,))
        for r in outcome.results:
            conn.execute(
                """insert into audit.check_result
                   (run_id, period, check_name, description_vi, success, evaluated, unexpected, details)
                   values (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    outcome.run_id,
                    outcome.period,
                    r.check_name,
                    r.description_vi,
                    r.success,
                    r.evaluated if isinstance(r.evaluated, int) else None,
                    r.unexpected,
                    json.dumps({"failing_rows": r.failing_rows[:200]}, ensure_ascii=False),
                ),
            )
