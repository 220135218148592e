"""The charts and dashboards of the bundle, with Vietnamese titles.

A chart is a table (raw rows, ordered) or an ECharts line or scatter chart over one dataset.  Its
saved ``query_context`` (what Superset's REST API runs for ``GET /api/v1/chart/<id>/data/``) is the
same query the chart shows, without post-processing, so that tests/bi can compare it with SQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bi.datasets import FUNNEL_UNITS, LABELS, Dataset

NUMBER = ",.2f"
DATE = "%d/%m/%Y"  # dates as officials write them; a table's default shows "2025-12-31 00:00:00"
COUNTS = {"numerator", "denominator", "open_errors", "open_warnings", "rank_in_province", "units_ranked"}


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    dataset: str
    kind: str  # table | line | scatter
    columns: tuple[str, ...] = ()  # table: the columns shown
    order: tuple[tuple[str, bool], ...] = ()  # table: (column, ascending)
    x: str = "thang"  # line, scatter: the x axis
    metrics: tuple[str, ...] = ()  # line, scatter: saved metrics of the dataset
    groupby: tuple[str, ...] = ()  # line: one series per value
    where: str = ""  # a fixed filter (SQL) of the chart


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    rows: tuple[tuple[str, ...], ...]  # chart keys, row by row
    filters: tuple[tuple[str, str, str], ...]  # (label, dataset, column)


def all_charts() -> list[Chart]:
    return [
        Chart("ty_le_bao_cao_theo_thang", "Tỷ lệ báo cáo theo tháng", "tien_do_bao_cao", "line",
              metrics=("ty_le_bao_cao",), groupby=("province_code",)),
        Chart("ty_le_dung_han_theo_thang", "Tỷ lệ báo cáo đúng hạn theo tháng", "tien_do_bao_cao", "line",
              metrics=("ty_le_dung_han",), groupby=("province_code",)),
        Chart("chi_tieu_so_voi_muc_tieu", "Tỷ lệ theo chỉ tiêu và dịch vụ so với mục tiêu, thay đổi so với tháng trước",
              "chi_tieu_tinh", "table",
              columns=("period", "province_code", "indicator_name_vi", "service_name_vi", "rate_pct", "target_pct",
                       "gap_to_target_pp", "previous_rate_pct", "change_pp"),
              order=(("period", False), ("province_code", True), ("indicator_code", True), ("service_code", True))),
        Chart("tien_do_muc_tieu", "Tiến độ đạt mục tiêu: đúng tiến độ hay có nguy cơ", "tien_do_muc_tieu", "table",
              columns=("period", "province_code", "indicator_name_vi", "rate_pct", "expected_rate_pct", "target_pct",
                       "target_date", "trang_thai_vi"),
              order=(("period", False), ("province_code", True), ("indicator_code", True))),
        Chart("chat_luong_theo_thang", "Chất lượng số liệu theo tháng: lỗi và cảnh báo chưa xử lý", "chat_luong_don_vi",
              "line", metrics=("loi_chua_xu_ly", "canh_bao_chua_xu_ly")),
        Chart("chi_tieu_don_vi_theo_thang", "Tỷ lệ các chỉ tiêu của đơn vị theo tháng", "chi_tieu_don_vi", "line",
              metrics=("ty_le",), groupby=("indicator_name_vi",)),
        Chart("thu_hang_don_vi", "Thứ hạng của đơn vị trong nhóm đơn vị cùng loại", "chi_tieu_don_vi", "table",
              columns=("period", "unit_name_vi", "indicator_name_vi", "service_name_vi", "rate_pct", "change_pp",
                       "rank_in_province", "units_ranked"),
              order=(("period", False), ("unit_code", True), ("indicator_code", True), ("service_code", True))),
        Chart("giu_lai_va_vi_pham", "Số liệu bị giữ lại và lỗi, cảnh báo chưa xử lý", "chat_luong_don_vi", "table",
              columns=("period", "unit_name_vi", "is_held_vi", "held_reason_vi", "open_errors", "open_warnings",
                       "quality_score"),
              order=(("period", False), ("unit_code", True)), where="open_errors + open_warnings > 0 or is_held"),
        Chart("nhiem_vu_don_vi", "Nhiệm vụ kế hoạch do đơn vị chủ trì", "nhiem_vu_ke_hoach", "table",
              columns=("period", "lead_unit_name_vi", "task_id", "title_vi", "deadline", "trang_thai_vi",
                       "is_overdue_vi"),
              order=(("period", False), ("lead_unit_code", True), ("task_id", True))),
        Chart("bieu_do_pheu", "Biểu đồ phễu: tỷ lệ của các đơn vị và giới hạn kiểm soát 99,8%", "bieu_do_pheu",
              "scatter", x="denominator", metrics=("ty_le_don_vi", "gioi_han_tren", "gioi_han_duoi", "ty_le_chung")),
        Chart("don_vi_bat_thuong", "Các đơn vị và lý do: ngoài hay trong giới hạn kiểm soát", "bieu_do_pheu", "table",
              columns=("period", "indicator_name_vi", "unit_name_vi", "numerator", "denominator", "rate_pct", "p0_pct",
                       "lower_pct", "upper_pct", "z_score", "danh_gia_vi"),
              order=(("period", False), ("indicator_code", True), ("service_code", True), ("unit_code", True))),
    ]  # fmt: skip


def all_dashboards() -> list[Dashboard]:
    month = ("Tháng", "chi_tieu_tinh", "period")
    return [
        Dashboard(
            "tong-quan-tinh",
            "Đề án 06 – Tổng quan tỉnh",
            (
                ("ty_le_bao_cao_theo_thang", "ty_le_dung_han_theo_thang"),
                ("chat_luong_theo_thang",),
                ("chi_tieu_so_voi_muc_tieu",),
                ("tien_do_muc_tieu",),
            ),
            (month, ("Chỉ tiêu", "chi_tieu_tinh", "indicator_name_vi")),
        ),
        Dashboard(
            "trang-don-vi",
            "Đề án 06 – Trang đơn vị",
            (("chi_tieu_don_vi_theo_thang",), ("thu_hang_don_vi",), ("giu_lai_va_vi_pham", "nhiem_vu_don_vi")),
            (("Đơn vị", "chi_tieu_don_vi", "unit_name_vi"), ("Tháng", "chi_tieu_don_vi", "period")),
        ),
        Dashboard(
            "bieu-do-pheu",
            "Đề án 06 – Biểu đồ phễu",
            (("bieu_do_pheu",), ("don_vi_bat_thuong",)),
            (("Tháng", "bieu_do_pheu", "period"), ("Chỉ tiêu", "bieu_do_pheu", "indicator_name_vi")),
        ),
    ]


def _metric_label(ds: Dataset, name: str) -> str:
    """The saved metric's name in Superset: its Vietnamese label (series are named after it)."""
    return next(label for metric, label, _, _ in ds.metrics if metric == name)


def form_data(chart: Chart, ds: Dataset) -> dict[str, Any]:
    """The chart's parameters as Superset's explore view saves them."""
    filters = [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": chart.where}] if chart.where else []
    common = {"viz_type": _viz(chart), "adhoc_filters": filters, "row_limit": 10000, "extra_form_data": {}}
    if chart.kind == "table":
        dates = {name for name, kind, _ in ds.columns if kind == "DATE"}
        return {
            **common,
            "table_timestamp_format": DATE,
            "query_mode": "raw",
            "all_columns": list(chart.columns),
            "order_by_cols": [json.dumps([c, asc]) for c, asc in chart.order],
            "server_pagination": False,
            "page_length": 25,
            "include_search": True,
            "show_cell_bars": False,
            "column_config": {
                **{
                    c: {"d3NumberFormat": NUMBER if c.endswith(("_pct", "_pp", "score")) else ",d"}
                    for c in chart.columns
                    if c.endswith(("_pct", "_pp", "score")) or c in COUNTS
                },
                **{c: {"d3TimeFormat": DATE} for c in chart.columns if c in dates},
            },
        }
    return {
        **common,
        "x_axis": chart.x,
        "time_grain_sqla": "P1M" if chart.x == "thang" else None,
        "metrics": [_metric_label(ds, m) for m in chart.metrics],
        "groupby": list(chart.groupby),
        "y_axis_format": NUMBER,
        "x_axis_time_format": "%m/%Y",
        "show_legend": True,
        "legendOrientation": "top",
        "rich_tooltip": True,
        "markerEnabled": True,
        "markerSize": 8 if chart.kind == "scatter" else 6,
        "truncateXAxis": True,
        "x_axis_title": LABELS.get(chart.x, chart.x),
        "x_axis_title_margin": 30,
        "y_axis_title": "%" if chart.kind != "line" or "ty_le" in chart.metrics[0] else "",
        "y_axis_title_margin": 30,
        "zoomable": False,
        "sort_series_type": "name",
    }


def _viz(chart: Chart) -> str:
    return {"table": "table", "line": "echarts_timeseries_line", "scatter": "echarts_timeseries_scatter"}[chart.kind]


def query(chart: Chart, ds: Dataset) -> dict[str, Any]:
    """The saved query of the chart (no post-processing: rows as the REST API returns them)."""
    base = {
        "filters": [],
        "extras": {"having": "", "where": f"({chart.where})" if chart.where else ""},
        "applied_time_extras": {},
        "row_limit": 10000,
        "annotation_layers": [],
        "series_limit": 0,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }
    if chart.kind == "table":
        return {**base, "columns": list(chart.columns), "metrics": None, "orderby": [list(o) for o in chart.order]}
    axis = {"columnType": "BASE_AXIS", "sqlExpression": chart.x, "label": chart.x, "expressionType": "SQL"}
    if chart.x == "thang":
        axis["timeGrain"] = "P1M"
    return {
        **base,
        "columns": [axis, *chart.groupby],
        "metrics": [_metric_label(ds, m) for m in chart.metrics],
        "orderby": [[chart.x, True], *[[g, True] for g in chart.groupby]],
        "series_columns": list(chart.groupby),
    }


def chart_yaml(chart: Chart, ds: Dataset, uid: Callable[..., str]) -> dict[str, Any]:
    params = form_data(chart, ds)
    context = {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [query(chart, ds)],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": _viz(chart),
        "params": params,
        "query_context": json.dumps(context, ensure_ascii=False),
        "cache_timeout": None,
        "uuid": uid("chart", chart.key),
        "version": "1.0.0",
        "dataset_uuid": uid("dataset", chart.dataset),
    }


def _position(dashboard: Dashboard, charts: dict[str, Chart], uid: Callable[..., str]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard.title}},
    }
    for r, row in enumerate(dashboard.rows):
        row_id = f"ROW-{dashboard.slug}-{r}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for key in row:
            chart_id = f"CHART-{key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "width": 12 // len(row),
                    "height": 60,
                    "chartId": 0,
                    "uuid": uid("chart", key),
                    "sliceName": charts[key].title,
                },
            }
    return position


def _native_filter(dashboard: Dashboard, n: int, label: str, dataset: str, column: str, uid: Callable[..., str]) -> Any:
    """A select filter.  The funnel plot needs one month (the latest: months sort descending) and one
    indicator: their first value is chosen, required, and applied on load (``requiredFirst``, what
    Superset's filter editor stores with "Select first filter value by default"; without it the first
    value is only selected and the charts show every month and indicator until "Apply" is pressed).
    The funnel's indicators are listed by the number of units compared, most first."""
    first = dashboard.slug == "bieu-do-pheu"
    by_units = first and column == "indicator_name_vi"
    return {
        "id": f"NATIVE_FILTER-{dashboard.slug}-{n}",
        "name": label,
        "filterType": "filter_select",
        "targets": [{"datasetUuid": uid("dataset", dataset), "column": {"name": column}}],
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
        "requiredFirst": first,
        "sortMetric": FUNNEL_UNITS[1] if by_units else None,
        "controlValues": {
            "enableEmptyFilter": first,
            "defaultToFirstItem": first,
            "multiSelect": not first,
            "searchAllOptions": False,
            "inverseSelection": False,
            "sortAscending": column != "period" and not by_units,
        },
        "type": "NATIVE_FILTER",
        "description": "",
        "chartsInScope": [],
        "tabsInScope": [],
    }


def dashboard_yaml(dashboard: Dashboard, charts: list[Chart], uid: Callable[..., str]) -> dict[str, Any]:
    by_key = {c.key: c for c in charts}
    filters = [_native_filter(dashboard, n, *f, uid=uid) for n, f in enumerate(dashboard.filters)]
    return {
        "dashboard_title": dashboard.title,
        "description": None,
        "css": "",
        "slug": dashboard.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": uid("dashboard", dashboard.slug),
        "position": _position(dashboard, by_key, uid),
        "metadata": {
            "native_filter_configuration": filters,
            "chart_configuration": {},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": []},
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
        },
        "version": "1.0.0",
    }
