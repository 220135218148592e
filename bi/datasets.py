"""The datasets of the dashboards: SQL over the official marts only (schema ``marts``).

Each dataset is a Superset virtual dataset: one query of the marts with the names officials read
(indicator, service and unit names from the dimensions) and ``thang``, the month as a date for
time axes.  Column descriptions come from dbt's manifest (the mart columns' doc blocks); the
columns that exist only here are described below, in Vietnamese and English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

EXTRA_DESCRIPTIONS = {
    "thang": "Tháng báo cáo, dạng ngày (ngày đầu tháng), cho trục thời gian."
    " — EN: The month as a date (its first day).",
    "trang_thai_vi": "Trạng thái bằng tiếng Việt. — EN: The status in Vietnamese.",
    "lead_unit_name_vi": "Tên đơn vị chủ trì. — EN: Name of the lead unit.",
    "p0_pct": "Tỷ lệ chung của các đơn vị cùng loại (%), tâm của biểu đồ phễu."
    " — EN: Pooled rate of comparable units (%).",
    "lower_pct": "Giới hạn kiểm soát dưới 99,8% (%), có hiệu chỉnh phân tán thêm. — EN: Lower 99.8% control limit (%).",
    "upper_pct": "Giới hạn kiểm soát trên 99,8% (%), có hiệu chỉnh phân tán thêm. — EN: Upper 99.8% control limit (%).",
    "z_score": "Điểm z đã hiệu chỉnh phân tán thêm (Spiegelhalter 2005). — EN: Overdispersion-adjusted z-score.",
    "units_compared": "Số đơn vị cùng loại được so sánh. — EN: Comparable units in the plot.",
    "is_held_vi": "Có nếu số liệu của đơn vị trong tháng bị giữ lại. — EN: Yes when the unit's month is held.",
    "is_overdue_vi": "Có nếu nhiệm vụ quá hạn. — EN: Yes when the task is overdue.",
    "danh_gia_vi": "Đánh giá: cao bất thường, thấp bất thường hoặc trong giới hạn."
    " — EN: Above, below or within limits.",
}

LABELS = {
    "period": "Tháng",
    "thang": "Tháng",
    "province_code": "Mã tỉnh",
    "unit_code": "Mã đơn vị",
    "unit_name_vi": "Đơn vị",
    "unit_kind": "Loại đơn vị",
    "indicator_code": "Mã chỉ tiêu",
    "indicator_name_vi": "Chỉ tiêu",
    "service_code": "Mã dịch vụ",
    "service_name_vi": "Dịch vụ công",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "rate_pct": "Tỷ lệ (%)",
    "target_pct": "Mục tiêu (%)",
    "gap_to_target_pp": "Chênh lệch so với mục tiêu (điểm %)",
    "meets_target": "Đạt mục tiêu",
    "previous_rate_pct": "Tỷ lệ tháng trước (%)",
    "change_pp": "Thay đổi so với tháng trước (điểm %)",
    "rank_in_province": "Thứ hạng",
    "units_ranked": "Số đơn vị cùng nhóm",
    "rank_among_provinces": "Thứ hạng giữa các tỉnh",
    "reporting_units": "Số đơn vị báo cáo",
    "reporter_role": "Vai trò báo cáo",
    "units_expected": "Số đơn vị phải báo cáo",
    "units_reported": "Số đơn vị đã báo cáo",
    "units_on_time": "Số đơn vị đúng hạn",
    "units_late": "Số đơn vị trễ hạn",
    "units_missing": "Số đơn vị chưa báo cáo",
    "reporting_rate_pct": "Tỷ lệ báo cáo (%)",
    "on_time_rate_pct": "Tỷ lệ đúng hạn (%)",
    "completeness_pct": "Độ đầy đủ (%)",
    "target_date": "Hạn đạt mục tiêu",
    "baseline_period": "Tháng gốc",
    "baseline_rate_pct": "Tỷ lệ tháng gốc (%)",
    "expected_rate_pct": "Tỷ lệ cần đạt theo lộ trình (%)",
    "progress_status": "Mã tiến độ",
    "trang_thai_vi": "Trạng thái",
    "open_errors": "Lỗi chưa xử lý",
    "open_warnings": "Cảnh báo chưa xử lý",
    "open_infos": "Thông tin chưa xử lý",
    "accepted": "Đã chấp nhận",
    "corrected": "Đã khắc phục",
    "rows_checked": "Số dòng đã kiểm tra",
    "rows_with_findings": "Số dòng có lỗi",
    "is_held": "Bị giữ lại (mã)",
    "is_held_vi": "Bị giữ lại",
    "is_overdue_vi": "Quá hạn",
    "held_reason_vi": "Lý do giữ lại",
    "quality_score": "Điểm chất lượng",
    "task_id": "Mã nhiệm vụ",
    "task_no": "STT",
    "title_vi": "Nhiệm vụ",
    "lead_unit_code": "Mã đơn vị chủ trì",
    "lead_unit_name_vi": "Đơn vị chủ trì",
    "deadline": "Thời hạn",
    "status": "Mã trạng thái",
    "is_overdue": "Quá hạn (mã)",
    "days_past_deadline": "Số ngày quá hạn",
    "note_vi": "Ghi chú",
    "lead_text": "Đơn vị chủ trì (theo kế hoạch)",
    "plan_code": "Mã kế hoạch",
    "section": "Mục",
    "status_source": "Nguồn trạng thái",
    "p0_pct": "Tỷ lệ chung (%)",
    "lower_pct": "Giới hạn dưới (%)",
    "upper_pct": "Giới hạn trên (%)",
    "z_score": "Điểm z",
    "units_compared": "Số đơn vị so sánh",
    "danh_gia_vi": "Đánh giá",
}

# As the gate's rate_outlier check (ingest/quality/catalogue.py): fewer units are not compared.
MIN_COMPARABLE_UNITS = 10
MONTH = "to_date(base.period, 'YYYY-MM') as thang"
# The funnel's indicator filter lists the indicators with the most comparable units first (its first
# value is the default): a funnel of one or two units says nothing.
FUNNEL_UNITS = ("so_don_vi", "Số đơn vị được so sánh", "count(distinct unit_code)", ",d")


@dataclass(frozen=True)
class Dataset:
    key: str
    name: str
    description: str
    sql: str
    # (column, type, the mart model that describes it); a column of EXTRA_DESCRIPTIONS has None.
    columns: tuple[tuple[str, str, str | None], ...]
    metrics: tuple[tuple[str, str, str, str], ...] = field(default=())  # (name, label, expression, format)


Column = tuple[str, str, str | None]


def _cols(model: str, names: str, kind: str = "NUMERIC") -> list[Column]:
    return [(n, kind, model) for n in names.split()]


def _text(model: str, names: str) -> list[Column]:
    return _cols(model, names, "TEXT")


def funnel_sql(z: float, winsorise: float) -> str:
    """Rates of comparable units per indicator, service and month, with the gate's funnel limits.

    The same formula as the gate's ``rate_outlier`` check (ingest/quality/catalogue.py): binomial
    limits around the pooled rate p0, widened for additive overdispersion (Spiegelhalter 2005):
    phi is the mean squared z-score after winsorising, tau^2 = (N phi - (N - 1)) / (sum w - sum w^2
    / sum w), and the limits are p0 ± z sqrt(p0 (1 - p0) / n + tau^2)."""
    return f"""with shares as materialized (
    select f.unit_code, u.unit_name_vi, u.unit_kind, f.indicator_code, i.indicator_name_vi,
           f.service_code, f.period, f.numerator, f.denominator,
           f.numerator::float8 / f.denominator as p
    from marts.fct_indicator_monthly as f
    inner join marts.dim_indicator as i on f.indicator_code = i.indicator_code
    inner join marts.dim_unit as u on f.unit_code = u.unit_code
    where i.denominator_kind = 'total' and f.denominator > 0 and f.numerator <= f.denominator
), plots as materialized (
    select indicator_code, service_code, period, unit_kind, count(*) as n,
           sum(numerator)::float8 / sum(denominator) as p0
    from shares group by 1, 2, 3, 4
), scored as materialized (
    select s.*, g.n, g.p0,
           case when g.p0 > 0 and g.p0 < 1 then (s.p - g.p0) / sqrt(g.p0 * (1 - g.p0) / s.denominator) end as z
    from shares as s inner join plots as g using (indicator_code, service_code, period, unit_kind)
), bounds as materialized (
    select indicator_code, service_code, period, unit_kind,
           percentile_cont({winsorise}) within group (order by z) as lo,
           percentile_cont({1 - winsorise}) within group (order by z) as hi
    from scored group by 1, 2, 3, 4
), dispersion as materialized (
    select s.indicator_code, s.service_code, s.period, s.unit_kind, count(*) as n,
           avg(power(least(greatest(s.z, b.lo), b.hi), 2)) as phi,
           sum(s.denominator / (s.p0 * (1 - s.p0))) as sw,
           sum(power(s.denominator / (s.p0 * (1 - s.p0)), 2)) as sw2
    from scored as s inner join bounds as b using (indicator_code, service_code, period, unit_kind)
    where s.z is not null group by 1, 2, 3, 4
), limits as materialized (
    select s.*,
           case when d.n * d.phi > d.n - 1 then (d.n * d.phi - (d.n - 1)) / (d.sw - d.sw2 / d.sw) else 0 end as tau2
    from scored as s left join dispersion as d using (indicator_code, service_code, period, unit_kind)
), base as materialized (
    select *, sqrt(p0 * (1 - p0) / denominator + coalesce(tau2, 0)) as se from limits
)
select base.unit_code, base.unit_name_vi, base.unit_kind, base.indicator_code, base.indicator_name_vi,
       base.service_code, base.period, {MONTH}, base.numerator, base.denominator,
       round((100 * base.p)::numeric, 2) as rate_pct, round((100 * base.p0)::numeric, 2) as p0_pct,
       round((100 * greatest(base.p0 - {z} * base.se, 0))::numeric, 2) as lower_pct,
       round((100 * least(base.p0 + {z} * base.se, 1))::numeric, 2) as upper_pct,
       round(((base.p - base.p0) / nullif(base.se, 0))::numeric, 2) as z_score, base.n as units_compared,
       case when base.n < {MIN_COMPARABLE_UNITS} or base.se = 0 then 'Không đủ đơn vị để so sánh'
            when base.p > base.p0 + {z} * base.se then 'Cao bất thường'
            when base.p < base.p0 - {z} * base.se then 'Thấp bất thường'
            else 'Trong giới hạn' end as danh_gia_vi
from base"""


def z_of(confidence_pct: float) -> float:
    """The two-sided normal quantile of a confidence level: 99.8 % -> 3.09."""
    return round(NormalDist().inv_cdf(0.5 + confidence_pct / 200), 4)


def yes_no(column: str) -> str:
    """A boolean column as officials read it: Có / Không."""
    return f"case when base.{column} then 'Có' else 'Không' end as {column}_vi"


PROGRESS_VI = """case base.progress_status when 'achieved' then 'Đã đạt' when 'on_track' then 'Đúng tiến độ'
         when 'at_risk' then 'Có nguy cơ không đạt' when 'missed' then 'Quá hạn, chưa đạt'
         when 'no_target' then 'Không có mục tiêu' else 'Chưa có số liệu' end as trang_thai_vi"""
TASK_VI = """case base.status when 'done' then 'Hoàn thành' when 'in_progress' then 'Đang thực hiện'
         when 'behind' then 'Chậm tiến độ' when 'overdue' then 'Quá hạn' when 'not_started' then 'Chưa bắt đầu'
         else 'Thường xuyên' end as trang_thai_vi"""


NAMES: list[Column] = [("indicator_name_vi", "TEXT", "dim_indicator"), ("service_name_vi", "TEXT", "dim_service")]
UNIT_NAME: list[Column] = [("unit_name_vi", "TEXT", "dim_unit")]
MONTH_COLUMN: list[Column] = [("thang", "DATE", None)]
RATE = "round(100.0 * sum(numerator) / nullif(sum(denominator), 0), 2)"


def all_datasets(z: float, winsorise: float) -> list[Dataset]:
    """Every dataset of the bundle (``z`` and ``winsorise``: the gate's rate_outlier tolerance)."""
    return [*_province_datasets(), *_unit_datasets(), _funnel_dataset(z, winsorise)]


def _province_datasets() -> list[Dataset]:
    """The province overview's datasets: reporting progress, rates against targets, target progress."""
    names, month, rate = NAMES, MONTH_COLUMN, RATE
    return [
        Dataset(
            "tien_do_bao_cao",
            "Tiến độ báo cáo theo tỉnh và tháng",
            "Reporting and on-time rates per province and month (mart_reporting_timeliness).",
            f"select base.*, {MONTH}\nfrom marts.mart_reporting_timeliness as base",
            tuple(
                _text("mart_reporting_timeliness", "province_code period")
                + _cols("mart_reporting_timeliness", "units_expected units_reported units_on_time units_late")
                + _cols(
                    "mart_reporting_timeliness", "units_missing reporting_rate_pct on_time_rate_pct completeness_pct"
                )
                + month
            ),
            (
                (
                    "ty_le_bao_cao",
                    "Tỷ lệ báo cáo (%)",
                    "round(100.0 * sum(units_reported) / nullif(sum(units_expected), 0), 2)",
                    ",.2f",
                ),
                (
                    "ty_le_dung_han",
                    "Tỷ lệ đúng hạn (%)",
                    "round(100.0 * sum(units_on_time) / nullif(sum(units_expected), 0), 2)",
                    ",.2f",
                ),
            ),
        ),
        Dataset(
            "chi_tieu_tinh",
            "Chỉ tiêu của tỉnh theo tháng",
            "Rates per province, indicator, service and month against targets (mart_province_scorecard_monthly).",
            f"select base.*, i.indicator_name_vi, v.service_name_vi, {MONTH}\n"
            "from marts.mart_province_scorecard_monthly as base\n"
            "inner join marts.dim_indicator as i on base.indicator_code = i.indicator_code\n"
            "inner join marts.dim_service as v on base.service_code = v.service_code",
            tuple(
                _text("mart_province_scorecard_monthly", "province_code indicator_code service_code period")
                + _cols("mart_province_scorecard_monthly", "numerator denominator rate_pct target_pct gap_to_target_pp")
                + [("meets_target", "BOOLEAN", "mart_province_scorecard_monthly")]
                + _cols(
                    "mart_province_scorecard_monthly",
                    "previous_rate_pct change_pp rank_among_provinces reporting_units",
                )
                + names
                + month
            ),
            (("ty_le", "Tỷ lệ (%)", rate, ",.2f"),),
        ),
        Dataset(
            "tien_do_muc_tieu",
            "Tiến độ đạt mục tiêu của tỉnh",
            "Progress towards targets per province, indicator and month (mart_target_progress).",
            f"select base.*, i.indicator_name_vi, {PROGRESS_VI}, {MONTH}\n"
            "from marts.mart_target_progress as base\n"
            "inner join marts.dim_indicator as i on base.indicator_code = i.indicator_code",
            tuple(
                _text("mart_target_progress", "province_code indicator_code period")
                + _cols("mart_target_progress", "numerator denominator rate_pct target_pct")
                + [("target_date", "DATE", "mart_target_progress")]
                + _text("mart_target_progress", "baseline_period")
                + _cols("mart_target_progress", "baseline_rate_pct expected_rate_pct")
                + _text("mart_target_progress", "progress_status")
                + [("indicator_name_vi", "TEXT", "dim_indicator"), ("trang_thai_vi", "TEXT", None)]
                + month
            ),
        ),
    ]


def _unit_datasets() -> list[Dataset]:
    """The unit page's datasets: quality (held rows, violations), indicators and rank, plan tasks."""
    names, unit_name, month, rate = NAMES, UNIT_NAME, MONTH_COLUMN, RATE
    return [
        Dataset(
            "chat_luong_don_vi",
            "Chất lượng số liệu của đơn vị theo tháng",
            "Open findings, held figures and quality score per unit and month (mart_unit_quality_monthly).",
            f"select base.*, u.unit_name_vi, u.province_code, {yes_no('is_held')}, {MONTH}\n"
            "from marts.mart_unit_quality_monthly as base\n"
            "inner join marts.dim_unit as u on base.unit_code = u.unit_code",
            tuple(
                _text("mart_unit_quality_monthly", "unit_code period")
                + _cols("mart_unit_quality_monthly", "open_errors open_warnings open_infos accepted corrected")
                + _cols("mart_unit_quality_monthly", "rows_checked rows_with_findings")
                + [("is_held", "BOOLEAN", "mart_unit_quality_monthly")]
                + _text("mart_unit_quality_monthly", "held_reason_vi")
                + _cols("mart_unit_quality_monthly", "quality_score")
                + unit_name
                + [("province_code", "TEXT", "dim_unit"), ("is_held_vi", "TEXT", None)]
                + month
            ),
            (
                ("loi_chua_xu_ly", "Lỗi chưa xử lý", "sum(open_errors)", ",d"),
                ("canh_bao_chua_xu_ly", "Cảnh báo chưa xử lý", "sum(open_warnings)", ",d"),
            ),
        ),
        Dataset(
            "chi_tieu_don_vi",
            "Chỉ tiêu của đơn vị theo tháng",
            "Rates per current unit, indicator, service and month, with rank (mart_unit_scorecard_monthly).",
            f"select base.*, u.unit_name_vi, i.indicator_name_vi, v.service_name_vi, {MONTH}\n"
            "from marts.mart_unit_scorecard_monthly as base\n"
            "inner join marts.dim_unit as u on base.unit_code = u.unit_code\n"
            "inner join marts.dim_indicator as i on base.indicator_code = i.indicator_code\n"
            "inner join marts.dim_service as v on base.service_code = v.service_code",
            tuple(
                _text(
                    "mart_unit_scorecard_monthly",
                    "unit_code indicator_code service_code period province_code reporter_role",
                )
                + _cols("mart_unit_scorecard_monthly", "numerator denominator rate_pct target_pct gap_to_target_pp")
                + [("meets_target", "BOOLEAN", "mart_unit_scorecard_monthly")]
                + _cols("mart_unit_scorecard_monthly", "previous_rate_pct change_pp rank_in_province units_ranked")
                + _cols("mart_unit_scorecard_monthly", "reporting_units")
                + unit_name
                + names
                + month
            ),
            (("ty_le", "Tỷ lệ (%)", rate, ",.2f"),),
        ),
        Dataset(
            "nhiem_vu_ke_hoach",
            "Nhiệm vụ kế hoạch theo đơn vị chủ trì",
            "Plan tasks per month with their lead unit and status (fct_plan_task).",
            f"select base.*, u.unit_name_vi as lead_unit_name_vi, {TASK_VI}, {yes_no('is_overdue')}, {MONTH}\n"
            "from marts.fct_plan_task as base\n"
            "left join marts.dim_unit as u on base.lead_unit_code = u.unit_code",
            tuple(
                _text("fct_plan_task", "task_id period plan_code section")
                + _cols("fct_plan_task", "task_no")
                + _text("fct_plan_task", "title_vi lead_unit_code lead_text status status_source note_vi")
                + [("deadline", "DATE", "fct_plan_task"), ("is_overdue", "BOOLEAN", "fct_plan_task")]
                + _cols("fct_plan_task", "days_past_deadline")
                + [
                    ("lead_unit_name_vi", "TEXT", None),
                    ("trang_thai_vi", "TEXT", None),
                    ("is_overdue_vi", "TEXT", None),
                ]
                + month
            ),
        ),
    ]


def _funnel_dataset(z: float, winsorise: float) -> Dataset:
    """The funnel plot's dataset: every unit's rate with the gate's control limits."""
    month = MONTH_COLUMN
    return Dataset(
        "bieu_do_pheu",
        "Biểu đồ phễu: tỷ lệ của các đơn vị cùng loại",
        "Funnel plot: every unit's rate with the quality gate's control limits (fct_indicator_monthly).",
        funnel_sql(z, winsorise),
        tuple(
            _text("fct_indicator_monthly", "unit_code")
            + [("unit_name_vi", "TEXT", "dim_unit"), ("unit_kind", "TEXT", "dim_unit")]
            + _text("fct_indicator_monthly", "indicator_code")
            + [("indicator_name_vi", "TEXT", "dim_indicator")]
            + _text("fct_indicator_monthly", "service_code period")
            + month
            + _cols("fct_indicator_monthly", "numerator denominator")
            + [("rate_pct", "NUMERIC", "mart_unit_scorecard_monthly")]
            + [(c, "NUMERIC", None) for c in ("p0_pct", "lower_pct", "upper_pct", "z_score", "units_compared")]
            + [("danh_gia_vi", "TEXT", None)]
        ),
        (
            ("ty_le_don_vi", "Tỷ lệ của đơn vị (%)", "max(rate_pct)", ",.2f"),
            ("gioi_han_tren", "Giới hạn trên 99,8% (%)", "max(upper_pct)", ",.2f"),
            ("gioi_han_duoi", "Giới hạn dưới 99,8% (%)", "min(lower_pct)", ",.2f"),
            ("ty_le_chung", "Tỷ lệ chung (%)", "max(p0_pct)", ",.2f"),
            FUNNEL_UNITS,
        ),
    )
