"""Charts of the quality report and the e-mails: PNG images drawn with matplotlib (Agg, no display).

- the reporting rate and the open findings over the last 12 months (``mart_reporting_timeliness``,
  the violation ledger);
- a funnel plot of the units' rates for one indicator, with the control limits of the quality
  gate's ``rate_outlier`` check (:func:`funnel_limits`);
- progress towards the targets (``mart_target_progress``).

Numbers and axes are in Vietnamese format (``1.234``, ``97,5%``).  A chart names units only where
the caller asks (the province's summary); a unit's own e-mail gets its own point highlighted and
nobody else's named.

>>> chart = funnel_chart(plot, highlight="AG.X01.27310", label_outliers=False)
>>> chart.png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ingest.quality.catalogue import CANDIDATE, MIN_COMPARABLE_UNITS
from ingest.registry import NO_SERVICE, Registry
from ingest.registry.catalog import RateOutlierTolerance
from ingest.reporting.wording import month_vi, number_vi, percent_vi
from ingest.submissions.periods import shift_period

MONTHS = 12
"""How many months the history charts show, ending with the report's period."""
CHART_INDICATOR_ENV = "D06_CHART_INDICATOR"
"""The indicator of the funnel plot; default the first indicator of the registry that has one."""
DPI = 100


@dataclass(frozen=True)
class Chart:
    """One PNG image, with the Content-ID an e-mail refers to it by."""

    name: str
    """Stable, ASCII: the CID's local part and a file name."""
    title_vi: str
    png: bytes

    @property
    def cid(self) -> str:
        return f"{self.name}@d06"

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# --- funnel-plot limits ----------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelLimits:
    """The control limits of a funnel plot around the pooled rate ``pooled``.

    Spiegelhalter (2005), "Handling over-dispersion of performance indicators", Qual Saf Health
    Care 14:347-351, as the gate's ``rate_outlier`` check applies it (``ingest/quality/catalogue.py``):
    s_i^2 = p0 (1 - p0) / n_i; phi = mean of the squared z-scores winsorised at ``winsorise`` and
    ``1 - winsorise`` (linear percentiles); additive: limits p0 ± z sqrt(s^2 + tau^2) with
    tau^2 = (N phi - (N - 1)) / (sum w - sum w^2 / sum w), w_i = 1 / s_i^2 (0 when N phi <= N - 1);
    multiplicative: p0 ± z sqrt(max(phi, 1)) s; none: p0 ± z s."""

    pooled: float
    phi: float
    tau2: float
    z: float
    overdispersion: str
    units: int

    def spread(self, denominator: float) -> float:
        """The standard error of a rate at ``denominator``, widened for overdispersion."""
        s2 = self.pooled * (1 - self.pooled) / denominator
        if self.overdispersion == "additive":
            return math.sqrt(s2 + self.tau2)
        if self.overdispersion == "multiplicative":
            return math.sqrt(s2 * max(self.phi, 1.0))
        return math.sqrt(s2)

    def bounds(self, denominator: float) -> tuple[float, float]:
        """The lower and upper limit (proportions, not clipped) at ``denominator``."""
        half = self.z * self.spread(denominator)
        return self.pooled - half, self.pooled + half

    def outside(self, numerator: int, denominator: int) -> bool:
        low, high = self.bounds(denominator)
        return not low <= numerator / denominator <= high


def _percentile(ordered: Sequence[float], q: float) -> float:
    """PostgreSQL's ``percentile_cont``: linear between the closest ranks, at position (N - 1) q."""
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def funnel_limits(points: Sequence[tuple[int, int]], tolerance: RateOutlierTolerance) -> FunnelLimits | None:
    """The limits for ``points`` (numerator, denominator) under the registry's ``tolerance``;
    None where the gate draws no plot (fewer than ``MIN_COMPARABLE_UNITS`` usable points, or a
    pooled rate of 0 or 1).  A point is usable when 0 < denominator and numerator <= denominator."""
    usable = [(n, d) for n, d in points if d > 0 and 0 <= n <= d]
    if len(usable) < MIN_COMPARABLE_UNITS:
        return None
    pooled = sum(n for n, _ in usable) / sum(d for _, d in usable)
    if not 0 < pooled < 1:
        return None
    variances = [pooled * (1 - pooled) / d for _, d in usable]
    z = [(n / d - pooled) / math.sqrt(s2) for (n, d), s2 in zip(usable, variances, strict=True)]
    ordered = sorted(z)
    share = float(tolerance.winsorise_pct) / 100
    low, high = _percentile(ordered, share), _percentile(ordered, 1 - share)
    count = len(usable)
    phi = sum(min(max(score, low), high) ** 2 for score in z) / count
    weights = [1 / s2 for s2 in variances]
    tau2 = 0.0
    if count * phi > count - 1:
        tau2 = (count * phi - (count - 1)) / (sum(weights) - sum(w * w for w in weights) / sum(weights))
    return FunnelLimits(pooled, phi, tau2, tolerance.z, tolerance.overdispersion, count)


# --- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelData:
    """The points of one funnel plot: units of one kind, one indicator, service and month."""

    indicator_code: str
    indicator_name: str
    service_code: str
    unit_kind: str
    period: str
    points: tuple[tuple[str, int, int], ...]
    """(unit code, numerator, denominator)."""


def history_periods(period: str, months: int = MONTHS) -> list[str]:
    return [shift_period(period, -k) for k in range(months - 1, -1, -1)]


def reporting_history(conn: Any, period: str, province_code: str | None) -> dict[str, tuple[float, float]]:
    """Per month of the last 12: the province's reporting and on-time rates (percent)."""
    rows = conn.execute(
        """select period, avg(reporting_rate_pct)::float8, avg(on_time_rate_pct)::float8
           from marts.mart_reporting_timeliness
           where period = any(%s) and (%s::text is null or province_code = %s)
           group by period""",
        (history_periods(period), province_code, province_code),
    ).fetchall()
    return {p: (r or 0.0, o or 0.0) for p, r, o in rows}


def findings_history(conn: Any, period: str, unit_code: str | None = None) -> dict[str, dict[str, int]]:
    """Per month of the last 12: open and explained findings by severity (of one unit, or all)."""
    rows = conn.execute(
        """select period, severity, count(*) from audit.violation
           where period = any(%s) and status in ('open', 'explained')
             and (%s::text is null or unit_code = %s)
           group by period, severity""",
        (history_periods(period), unit_code, unit_code),
    ).fetchall()
    found: dict[str, dict[str, int]] = {}
    for p, severity, n in rows:
        found.setdefault(p, {})[severity] = int(n)
    return found


def target_progress(conn: Any, period: str, province_code: str | None) -> list[dict[str, Any]]:
    """The month's progress towards each indicator's target (one province)."""
    rows = conn.execute(
        """select indicator_code, rate_pct::float8, expected_rate_pct::float8, target_pct::float8, progress_status
           from marts.mart_target_progress
           where period = %s and (%s::text is null or province_code = %s) and target_pct is not null
           order by indicator_code""",
        (period, province_code, province_code),
    ).fetchall()
    keys = ("indicator_code", "rate_pct", "expected_rate_pct", "target_pct", "progress_status")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def funnel_candidates(conn: Any, registry: Registry, period: str, indicator_code: str) -> list[FunnelData]:
    """Every funnel plot the gate could draw for an indicator in a month, from the values it
    checked (``CANDIDATE``), one per service and kind of unit, the largest first."""
    rows = conn.execute(
        f"""select unit_code, service_code, numerator, denominator from {CANDIDATE}
            where period = %s and indicator_code = %s and denominator > 0 and numerator <= denominator
            order by unit_code, service_code""",
        (period, indicator_code),
    ).fetchall()
    groups: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    for unit_code, service, n, d in rows:
        unit = registry.units.get(unit_code)
        groups.setdefault((service, unit.kind if unit else "?"), []).append((unit_code, int(n), int(d)))
    name = registry.indicators[indicator_code].name_vi
    plots = [
        FunnelData(indicator_code, name, service, kind, period, tuple(points))
        for (service, kind), points in groups.items()
        if len(points) >= MIN_COMPARABLE_UNITS
    ]
    return sorted(plots, key=lambda f: (-len(f.points), f.service_code != NO_SERVICE, f.service_code, f.unit_kind))


def choose_funnel(
    conn: Any,
    registry: Registry,
    period: str,
    unit_code: str | None = None,
    cache: dict[str, list[FunnelData]] | None = None,
) -> FunnelData | None:
    """The funnel plot to draw: for ``D06_CHART_INDICATOR`` or else the first indicator of the
    registry (of those on a total) that has a plot this month; with ``unit_code``, the first plot
    that unit is a point of.  ``cache`` keeps the plots of each indicator between calls."""
    cache = {} if cache is None else cache
    wanted = (os.environ.get(CHART_INDICATOR_ENV) or "").strip()
    codes = [wanted] if wanted in registry.indicators else list(registry.indicators)
    for code in codes:
        if registry.indicators[code].denominator_kind != "total":
            continue
        if code not in cache:
            cache[code] = funnel_candidates(conn, registry, period, code)
        for plot in cache[code]:
            if unit_code is None or any(u == unit_code for u, _, _ in plot.points):
                return plot
    return None


# --- drawing -----------------------------------------------------------------------------------

_BLUE, _RED, _GREY, _ORANGE, _GREEN = "#2b6cb0", "#c53030", "#9aa5b1", "#dd6b20", "#2f855a"
_STATUS_COLOUR = {"achieved": _GREEN, "on_track": _GREEN, "at_risk": _ORANGE, "missed": _RED}
"""``mart_target_progress.progress_status``: reached or on its way, at risk, missed (grey: no data)."""


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _vn_axis(ax: Any, *, percent: bool = False, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda x, _: percent_vi(x, 1) if percent else number_vi(x, 1))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def history_chart(
    period: str, rates: dict[str, tuple[float, float]] | None, findings: dict[str, dict[str, int]], *, name: str
) -> Chart:
    """Bars of open errors and warnings per month; with ``rates``, the reporting and on-time rates as lines."""
    months = history_periods(period)
    x = list(range(len(months)))
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    errors = [findings.get(p, {}).get("error", 0) for p in months]
    warnings = [findings.get(p, {}).get("warning", 0) for p in months]
    ax.bar(x, errors, color=_RED, label="Lỗi")
    ax.bar(x, warnings, bottom=errors, color=_ORANGE, label="Cảnh báo")
    ax.set_ylabel("Số phát hiện còn mở")
    ax.set_xticks(x, [month_vi(p) for p in months], rotation=45, fontsize=8)
    _vn_axis(ax)
    handles, labels = ax.get_legend_handles_labels()
    if rates is not None:
        right = ax.twinx()
        right.plot(x, [rates.get(p, (math.nan, math.nan))[0] for p in months], color=_BLUE, marker="o")
        right.plot(x, [rates.get(p, (math.nan, math.nan))[1] for p in months], color=_GREEN, marker="s")
        right.set_ylim(0, 105)
        right.set_ylabel("Tỷ lệ (%)")
        _vn_axis(right, percent=True)
        handles += right.get_lines()
        labels += ["Tỷ lệ đơn vị đã báo cáo", "Tỷ lệ báo cáo đúng hạn"]
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    title = "Tỷ lệ báo cáo và phát hiện chất lượng, 12 tháng" if rates is not None else "Phát hiện chất lượng, 12 tháng"
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return Chart(name, title, _png(fig))


def funnel_chart(
    plot: FunnelData,
    limits: FunnelLimits,
    *,
    highlight: str | None = None,
    label_outliers: bool = False,
    name: str = "bieu-do-pheu",
) -> Chart:
    """The funnel plot as a PNG (see :func:`funnel_figure`)."""
    fig = funnel_figure(plot, limits, highlight=highlight, label_outliers=label_outliers)
    return Chart(name, fig.axes[0].get_title(), _png(fig))


def funnel_figure(
    plot: FunnelData, limits: FunnelLimits, *, highlight: str | None = None, label_outliers: bool = False
) -> Figure:
    """The units' rates against their denominators, with the pooled rate and the control limits
    (lower limit first, then upper: ``ax.lines[0]``, ``ax.lines[1]``, in percent).  ``highlight``
    marks one unit and names only it; ``label_outliers`` names the points outside the limits."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    biggest = max(d for _, _, d in plot.points)
    xs = [1 + (biggest * 1.05 - 1) * k / 200 for k in range(201)]
    for lo_hi, style in ((0, "--"), (1, "--")):
        ax.plot(xs, [100 * limits.bounds(x)[lo_hi] for x in xs], color=_RED, linestyle=style, linewidth=1)
    ax.axhline(100 * limits.pooled, color=_GREY, linewidth=1)
    for unit, n, d in plot.points:
        own = unit == highlight
        out = limits.outside(n, d)
        ax.scatter(
            [d],
            [100 * n / d],
            s=60 if own else 18,
            zorder=3,
            color=_ORANGE if own else _RED if out else _BLUE,
            edgecolors="black" if own else "none",
        )
        if own or (label_outliers and out):
            ax.annotate(unit, (d, 100 * n / d), fontsize=7, xytext=(4, 4), textcoords="offset points")
    rates = [100 * n / d for _, n, d in plot.points]
    ax.set_ylim(max(0, min([*rates, 100 * limits.bounds(biggest)[0]]) - 5), min(105, max(rates) + 5))
    ax.set_xlim(0, biggest * 1.05)
    ax.set_xlabel("Mẫu số (quy mô đơn vị)")
    ax.set_ylabel("Tỷ lệ (%)")
    _vn_axis(ax, percent=True)
    _vn_axis(ax, axis="x")
    title = f"{plot.indicator_name}: tỷ lệ các đơn vị cùng loại, tháng {month_vi(plot.period)}"
    ax.set_title(title, fontsize=10)
    ax.text(
        0.99,
        0.02,
        f"Đường nét đứt: giới hạn kiểm soát {percent_vi(_confidence(limits.z), 1)}; "
        f"tỷ lệ chung {percent_vi(100 * limits.pooled, 2)}",
        transform=ax.transAxes,
        ha="right",
        fontsize=7,
    )
    fig.tight_layout()
    return fig


def _confidence(z: float) -> float:
    """The two-sided confidence (percent) of limits at ±z: 3.09 -> 99.8."""
    return 100 * math.erf(z / math.sqrt(2))


def target_chart(rows: Sequence[dict[str, Any]], registry: Registry, period: str, *, name: str = "tien-do") -> Chart:
    """Horizontal bars: each indicator's rate this month, the rate expected by now and the target."""
    fig = Figure(figsize=(7.5, 0.45 * max(len(rows), 3) + 1.2))
    ax = fig.add_subplot()
    y = list(range(len(rows)))
    names = [
        registry.indicators[r["indicator_code"]].name_vi
        if r["indicator_code"] in registry.indicators
        else r["indicator_code"]
        for r in rows
    ]
    colours = [_STATUS_COLOUR.get(r["progress_status"], _GREY) for r in rows]
    ax.barh(y, [r["rate_pct"] or 0 for r in rows], color=colours)
    ax.scatter(
        [r["expected_rate_pct"] if r["expected_rate_pct"] is not None else math.nan for r in rows],
        y,
        marker="|",
        s=200,
        color="black",
        zorder=3,
        label="Mức cần đạt đến tháng này",
    )
    ax.scatter([r["target_pct"] for r in rows], y, marker="D", s=20, color=_GREY, zorder=3, label="Chỉ tiêu")
    ax.set_yticks(y, [n if len(n) <= 45 else n[:44] + "…" for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max(105, *(min(r["rate_pct"] or 0, 200) + 5 for r in rows)))
    _vn_axis(ax, percent=True, axis="x")
    fig.legend(fontsize=7, loc="lower center", ncol=2, frameon=False)
    title = f"Tiến độ thực hiện chỉ tiêu, tháng {month_vi(period)}"
    ax.set_title(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return Chart(name, title, _png(fig))


# --- the sets of charts ------------------------------------------------------------------------


def _exists(conn: Any, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def main_province(conn: Any, period: str) -> str | None:
    """The province the report is about: the one with most units reporting in the period."""
    if not _exists(conn, "marts.mart_reporting_timeliness"):
        return None
    row = conn.execute(
        """select province_code from marts.mart_reporting_timeliness where period = %s
           order by units_reported desc nulls last, province_code limit 1""",
        (period,),
    ).fetchone()
    return row[0] if row else None


def province_charts(conn: Any, registry: Registry, period: str) -> list[Chart]:
    """The province's charts: history, funnel plot (points outside the limits named), targets."""
    province = main_province(conn, period)
    charts = [
        history_chart(
            period,
            reporting_history(conn, period, province) if province else {},
            findings_history(conn, period),
            name="lich-su-12-thang",
        )
    ]
    plot = choose_funnel(conn, registry, period) if _exists(conn, CANDIDATE) else None
    limits = funnel_limits(_figures(plot), _tolerance(registry, plot)) if plot else None
    if plot and limits:
        charts.append(funnel_chart(plot, limits, label_outliers=True))
    progress = target_progress(conn, period, province) if _exists(conn, "marts.mart_target_progress") else []
    if progress:
        charts.append(target_chart(progress, registry, period))
    return charts


def unit_charts(
    conn: Any, registry: Registry, period: str, unit_code: str, cache: dict[str, list[FunnelData]] | None = None
) -> list[Chart]:
    """A unit's own charts: its findings over 12 months, and the funnel plot of its kind with
    only its own point named (``cache``: see :func:`choose_funnel`)."""
    slug = "".join(c if c.isalnum() else "-" for c in unit_code)
    charts = [history_chart(period, None, findings_history(conn, period, unit_code), name=f"lich-su-{slug}")]
    plot = choose_funnel(conn, registry, period, unit_code, cache) if _exists(conn, CANDIDATE) else None
    limits = funnel_limits(_figures(plot), _tolerance(registry, plot)) if plot else None
    if plot and limits:
        charts.append(funnel_chart(plot, limits, highlight=unit_code, name=f"bieu-do-pheu-{slug}"))
    return charts


def _figures(plot: FunnelData | None) -> list[tuple[int, int]]:
    return [(n, d) for _, n, d in plot.points] if plot else []


def _tolerance(registry: Registry, plot: FunnelData | None) -> RateOutlierTolerance:
    code = plot.indicator_code if plot else ""
    return registry.tolerances.for_indicator(code).rate_outlier
