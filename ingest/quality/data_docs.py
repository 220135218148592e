"""Our own Data Docs: the quality gate's results as a self-contained Vietnamese HTML page per run.

GX's Data Docs load Bootstrap, jQuery and bootstrap-table from public CDNs; on a closed provincial
network they open as an unstyled page with empty tables.  These pages need nothing but the file:
inline CSS, no script, no font, no image, and a Content-Security-Policy that forbids the browser
to fetch anything.  They are rendered from GX validation results (the checkpoint's results as
JSON, the shape GX keeps in its validations store) and name units, indicators and services only,
never a value a unit wrote, so they can carry no personal data.

Layout, next to GX's own site under ``<data dir>/gx``::

    ket_qua_kiem_tra/index.html                every run, newest period first
    ket_qua_kiem_tra/<period>/<run>.html       one run's checks and failing rows
    ket_qua_kiem_tra/<period>/<run>.json       that run's summary, read to rebuild the index

>>> checks = checks_from_validation_results(results, registry=load_registry())
>>> write_run_page("2026-03", "manual", checks)  # .../gx/ket_qua_kiem_tra/2026-03/manual.html
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ingest.config import data_dir
from ingest.registry import NO_SERVICE, Registry

DOCS_DIR = "ket_qua_kiem_tra"
ROW_KEYS = ("unit_code", "indicator_code", "service_code")
"""The only columns of a failing row a page shows: where the problem is, never what was written."""
VN_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class FailingRow:
    unit_code: str | None
    unit_name: str
    indicator_code: str | None
    indicator_name: str
    service_code: str | None
    service_name: str


@dataclass(frozen=True)
class DocCheck:
    """One expectation of one run, as a page shows it."""

    suite_name: str
    suite_label_vi: str
    check_name: str
    description_vi: str
    expectation_type: str
    success: bool
    evaluated: int | None
    unexpected: int | None
    unexpected_percent: float | None
    failing_rows: list[FailingRow] = field(default_factory=list)

    @property
    def names_indicators(self) -> bool:
        """Whether its failing rows are unit × indicator rows (else whole submissions: units only)."""
        return any(r.indicator_code or r.service_code for r in self.failing_rows)

    @property
    def rows_not_listed(self) -> int:
        """Failing rows GX counted but did not return (it returns at most ``partial_unexpected_count``)."""
        if not self.failing_rows or self.unexpected is None:
            return 0
        return max(self.unexpected - len(self.failing_rows), 0)


def docs_root() -> Path:
    return data_dir() / "gx" / DOCS_DIR


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def run_page_path(period: str, run_id: str) -> Path:
    """Where a run's page is (or will be): ``<data dir>/gx/ket_qua_kiem_tra/<period>/<run>.html``."""
    return docs_root() / _safe(period) / f"{_safe(run_id)}.html"


def index_path() -> Path:
    return docs_root() / "index.html"


def _name_vi(entries: Mapping[str, Any], code: str | None) -> str:
    """The registry's Vietnamese name for ``code``, else the code itself."""
    if code is None:
        return ""
    entry = entries.get(code)
    return str(entry.name_vi) if entry is not None else code


def _failing_row(row: Mapping[str, Any], registry: Registry) -> FailingRow:
    unit, indicator, service = (None if row.get(k) is None else str(row[k]) for k in ROW_KEYS)
    return FailingRow(
        unit_code=unit,
        unit_name=_name_vi(registry.units, unit),
        indicator_code=indicator,
        indicator_name=_name_vi(registry.indicators, indicator),
        service_code=service,
        service_name="" if service == NO_SERVICE else _name_vi(registry.services, service),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def checks_from_validation_results(
    results: Iterable[Mapping[str, Any]],
    *,
    registry: Registry,
    suite_labels: Mapping[str, str] | None = None,
) -> list[DocCheck]:
    """The checks of one run, from GX suite validation results as JSON dicts.

    ``results`` are ``ExpectationSuiteValidationResult.to_json_dict()`` of a checkpoint's run
    results, or the JSON files of GX's validations store: both have the same shape.
    ``suite_labels`` gives each suite a Vietnamese name (else the suite's own name is shown).
    """
    suite_labels = suite_labels or {}
    checks = []
    for suite_result in results:
        suite = str(suite_result.get("suite_name") or "")
        for r in suite_result.get("results") or []:
            config = r.get("expectation_config") or {}
            meta = config.get("meta") or {}
            res = r.get("result") or {}
            rows = res.get("unexpected_index_list") or []
            percent = res.get("unexpected_percent")
            checks.append(
                DocCheck(
                    suite_name=suite,
                    suite_label_vi=suite_labels.get(suite, suite),
                    check_name=str(meta.get("check_name") or config.get("type") or ""),
                    description_vi=str(meta.get("description_vi") or config.get("type") or ""),
                    expectation_type=str(config.get("type") or ""),
                    success=bool(r.get("success")),
                    evaluated=_int(res.get("element_count", res.get("observed_value"))),
                    unexpected=_int(res.get("unexpected_count")),
                    unexpected_percent=float(percent) if isinstance(percent, int | float) else None,
                    failing_rows=sorted(
                        (_failing_row(row, registry) for row in rows if isinstance(row, Mapping)),
                        key=lambda f: (f.unit_code or "", f.indicator_code or "", f.service_code or ""),
                    ),
                )
            )
    return checks


def _vn(n: int | None) -> str:
    return "" if n is None else f"{n:,}".replace(",", ".")


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}".replace(".", ",") + "%"


def _when(t: dt.datetime | str | None) -> str:
    if t is None:
        return ""
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    return t.astimezone(VN_TIME).strftime("%H:%M ngày %d/%m/%Y")


def _relative_href(target: Path, page: Path) -> str:
    """A link that still works when the whole ``<data dir>`` is copied or served elsewhere."""
    return Path(os.path.relpath(target, page.parent)).as_posix()


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("ingest", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_env.filters.update(vn=_vn, pct=_pct, when=_when)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def render_run_page(
    period: str,
    run_id: str,
    checks: list[DocCheck],
    *,
    validated_at: dt.datetime,
    gx_docs_href: str | None = None,
    index_href: str | None = None,
) -> str:
    """One run's page as HTML (a pure function of its arguments)."""
    return _env.get_template("data_docs_run.html.j2").render(
        period=period,
        run_id=run_id,
        checks=checks,
        failed=[c for c in checks if not c.success],
        passed_count=sum(c.success for c in checks),
        validated_at=validated_at,
        gx_docs_href=gx_docs_href,
        index_href=index_href,
    )


def write_run_page(
    period: str,
    run_id: str,
    checks: list[DocCheck],
    *,
    validated_at: dt.datetime | None = None,
    gx_docs_index: Path | None = None,
) -> Path:
    """Write the run's page and its summary, rebuild the index; return the page's path."""
    validated_at = validated_at or dt.datetime.now(dt.UTC)
    page = run_page_path(period, run_id)
    gx_href = _relative_href(gx_docs_index, page) if gx_docs_index and gx_docs_index.exists() else None
    html = render_run_page(
        period,
        run_id,
        checks,
        validated_at=validated_at,
        gx_docs_href=gx_href,
        index_href=_relative_href(index_path(), page),
    )
    _write_atomically(page, html)
    summary = {
        "period": period,
        "run_id": run_id,
        "validated_at": validated_at.isoformat(),
        "passed": sum(c.success for c in checks),
        "failed": sum(not c.success for c in checks),
        "failed_checks": [c.check_name for c in checks if not c.success],
        "page": page.name,
        "checks": [asdict(c) | {"failing_rows": len(c.failing_rows)} for c in checks],
    }
    _write_atomically(page.with_suffix(".json"), json.dumps(summary, ensure_ascii=False, indent=1))
    write_index(gx_docs_index=gx_docs_index)
    return page


def _runs() -> list[dict[str, Any]]:
    runs = []
    for summary_path in docs_root().glob("*/*.json"):
        try:
            s = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a page being written, or a stray file: the next run's index will show it
        if not (summary_path.with_suffix(".html")).exists():
            continue
        s["href"] = f"{summary_path.parent.name}/{summary_path.with_suffix('.html').name}"
        runs.append(s)
    runs.sort(key=lambda s: (s.get("period", ""), s.get("validated_at", "")), reverse=True)
    return runs


def write_index(*, gx_docs_index: Path | None = None) -> Path:
    """Rebuild ``index.html`` from the run summaries on disk; return its path."""
    path = index_path()
    gx_href = _relative_href(gx_docs_index, path) if gx_docs_index and gx_docs_index.exists() else None
    html = _env.get_template("data_docs_index.html.j2").render(
        runs=_runs(), generated_at=dt.datetime.now(dt.UTC), gx_docs_href=gx_href
    )
    _write_atomically(path, html)
    return path
